/*
 * test_bad_env: a bad DKV_* value makes dkv_init fail with DKV_ERR_INVALID
 * on every rank, leaves the output context unwritten, and (for a holder
 * spec) prints a message naming the bad part.
 *
 *   test_bad_env [WORD [retry]]
 *
 * WORD (optional, "-" for none): text the captured stderr of some rank must
 * contain. retry: afterwards dkv_init with params that override the bad
 * variable (holders "all", timeout 20000 ms, hold_bytes 64 MiB, dedicated
 * 0) must succeed, and a put/fence/get must work.
 * MPI is used to compare the statuses of all ranks.
 */
#include "mpi_test_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char captured[8192];

/* Run dkv_init with stderr captured into `captured`. */
static dkv_status_t init_captured(dkv_ctx_t **ctx_p)
{
    FILE        *tmp   = tmpfile();
    int          saved = dup(STDERR_FILENO);
    dkv_status_t status;
    size_t       n;

    T_CHECK((tmp != NULL) && (saved >= 0));
    fflush(stderr);
    T_CHECK(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    status = dkv_init(NULL, ctx_p);
    fflush(stderr);
    T_CHECK(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n           = fread(captured, 1, sizeof(captured) - 1, tmp);
    captured[n] = '\0';
    fclose(tmp);
    fputs(captured, stderr); /* keep it in the test log */
    return status;
}

static void retry(void)
{
    dkv_init_params_t params;
    dkv_ctx_t        *ctx = NULL;
    int               one = 1;
    size_t            got = 0;
    int               val = 0;

    memset(&params, 0, sizeof(params));
    params.field_mask = DKV_INIT_PARAM_FIELD_HOLDERS |
                        DKV_INIT_PARAM_FIELD_TIMEOUT_MS |
                        DKV_INIT_PARAM_FIELD_HOLD_BYTES |
                        DKV_INIT_PARAM_FIELD_DEDICATED;
    params.holders    = "all";
    params.timeout_ms = 20000;
    params.hold_bytes = 64u << 20;
    params.dedicated  = 0;
    T_OK(dkv_init(&params, &ctx));
    T_CHECK(dkv_num_holders(ctx) == dkv_size(ctx));
    if (t_rank == 0) {
        T_OK(dkv_put(ctx, "badenv/retry", &one, sizeof(one)));
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_get(ctx, "badenv/retry", &val, sizeof(val), &got));
    T_CHECK((got == sizeof(val)) && (val == 1));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
}

int main(int argc, char **argv)
{
    dkv_ctx_t   *sentinel = (dkv_ctx_t *)&captured;
    dkv_ctx_t   *ctx      = sentinel;
    const char  *word     = (argc > 1) ? argv[1] : "-";
    dkv_status_t status;
    int          st;
    int          st_min;
    int          st_max;
    int          named;
    int          any_named;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &t_rank);
    status = init_captured(&ctx);
    T_CHECK(ctx == sentinel);
    st = (int)status;
    MPI_Allreduce(&st, &st_min, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&st, &st_max, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if ((st_min != DKV_ERR_INVALID) || (st_max != DKV_ERR_INVALID)) {
        fprintf(stderr, "rank %d: dkv_init -> %s; over all ranks %d..%d, "
                "expected %d everywhere\n", t_rank, dkv_strerror(status),
                st_min, st_max, DKV_ERR_INVALID);
    }
    T_CHECK(st_min == DKV_ERR_INVALID);
    T_CHECK(st_max == DKV_ERR_INVALID);

    named = (strcmp(word, "-") == 0) || (strstr(captured, word) != NULL);
    MPI_Allreduce(&named, &any_named, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if ((t_rank == 0) && !any_named) {
        fprintf(stderr, "no rank printed a message naming \"%s\"\n", word);
    }
    T_CHECK(any_named);

    if ((argc > 2) && (strcmp(argv[2], "retry") == 0)) {
        retry();
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (t_rank == 0) {
        printf("test_bad_env: DKV_ERR_INVALID on every rank\n");
    }
    MPI_Finalize();
    return 0;
}
