/*
 * test_mpi_interplay: dramkv beside MPI, initialised in either order.
 *
 *   test_mpi_interplay before   MPI_Init, dkv_init ... dkv_finalize,
 *                               MPI_Finalize
 *   test_mpi_interplay after    dkv_init, MPI_Init ... MPI_Finalize,
 *                               dkv_finalize
 *   test_mpi_interplay mixed    dkv_init, MPI_Init ... dkv_finalize,
 *                               MPI_Finalize
 *
 * In each: dramkv and MPI agree on rank and size; every rank puts, quiets
 * and meets the others in MPI_Barrier, after which (quiet + a
 * synchronisation) its left neighbour's values are visible; then a
 * put/fence/get round; an MPI_Allreduce checks the holder count.
 * (test_sizes and the others show the library without MPI.)
 */
#include "mpi_test_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MID (100u << 10)

static void put_pair(dkv_ctx_t *ctx, const char *kind, uint8_t *buf)
{
    char key[64];

    snprintf(key, sizeof(key), "mpi/%s/%d/s", kind, t_rank);
    t_fill(buf, 24, t_seed(key, 0));
    T_OK(dkv_put(ctx, key, buf, 24));
    snprintf(key, sizeof(key), "mpi/%s/%d/m", kind, t_rank);
    t_fill(buf, MID, t_seed(key, 0));
    T_OK(dkv_put(ctx, key, buf, MID));
}

static void check_pair(dkv_ctx_t *ctx, const char *kind, int rank)
{
    char key[64];

    snprintf(key, sizeof(key), "mpi/%s/%d/s", kind, rank);
    T_VALUE(ctx, key, 24, t_seed(key, 0));
    snprintf(key, sizeof(key), "mpi/%s/%d/m", kind, rank);
    T_VALUE(ctx, key, MID, t_seed(key, 0));
}

static void work(dkv_ctx_t *ctx)
{
    uint8_t *buf = malloc(MID);
    int      mrank;
    int      msize;
    int      holds;
    int      nholds;
    int      r;

    T_CHECK(buf != NULL);
    MPI_Comm_rank(MPI_COMM_WORLD, &mrank);
    MPI_Comm_size(MPI_COMM_WORLD, &msize);
    T_CHECK(mrank == dkv_rank(ctx));
    T_CHECK(msize == dkv_size(ctx));

    /* Visibility through quiet + MPI_Barrier. */
    put_pair(ctx, "quiet", buf);
    T_OK(dkv_quiet(ctx));
    MPI_Barrier(MPI_COMM_WORLD);
    check_pair(ctx, "quiet", (t_rank + msize - 1) % msize);

    /* Visibility through dkv_fence. */
    put_pair(ctx, "fence", buf);
    T_OK(dkv_fence(ctx));
    for (r = 0; r < msize; r++) {
        check_pair(ctx, "fence", r);
    }
    /* The ranks that say they hold add up to the holder count. */
    holds = dkv_is_holder(ctx);
    MPI_Allreduce(&holds, &nholds, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    T_CHECK(nholds == dkv_num_holders(ctx));
    T_OK(dkv_fence(ctx));
    MPI_Barrier(MPI_COMM_WORLD);
    free(buf);
}

int main(int argc, char **argv)
{
    dkv_ctx_t  *ctx;
    const char *mode = (argc > 1) ? argv[1] : "";

    if (strcmp(mode, "before") == 0) {
        MPI_Init(&argc, &argv);
        ctx = t_init();
        work(ctx);
        t_finalize(ctx);
        MPI_Finalize();
    } else if (strcmp(mode, "after") == 0) {
        ctx = t_init();
        MPI_Init(&argc, &argv);
        work(ctx);
        MPI_Finalize();
        t_finalize(ctx);
    } else if (strcmp(mode, "mixed") == 0) {
        ctx = t_init();
        MPI_Init(&argc, &argv);
        work(ctx);
        t_finalize(ctx);
        MPI_Finalize();
    } else {
        T_CHECK(!"mode is before, after or mixed");
        return 1;
    }
    if (t_rank == 0) {
        printf("test_mpi_interplay %s: ok\n", mode);
    }
    return 0;
}
