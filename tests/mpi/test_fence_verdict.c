/*
 * test_fence_verdict: dkv_fence returns the same status on every rank.
 * Run with one holder (rank 0) limited to 64 KiB (DKV_HOLD_BYTES=64k).
 * Rounds: all puts fit (DKV_OK everywhere); the last rank puts 128 KiB
 * (DKV_ERR_NO_SPACE everywhere, only that rank lists the failed key); an
 * empty round (DKV_OK again, no failed keys); two ranks fail at once; the
 * holder itself fails. MPI_Allreduce MIN and MAX of the statuses compare
 * the ranks' verdicts.
 */
#include "mpi_test_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOO_BIG (128u << 10)

static uint8_t *big;

/* Fence; every rank must return `expected`. */
static void fence_expect(dkv_ctx_t *ctx, dkv_status_t expected, int round)
{
    dkv_status_t s = dkv_fence(ctx);
    int          st = (int)s;
    int          lo;
    int          hi;

    MPI_Allreduce(&st, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&st, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if ((lo != hi) || (s != expected)) {
        fprintf(stderr, "rank %d round %d: dkv_fence -> %s (%d); all ranks "
                "%d..%d; expected %s\n", t_rank, round, dkv_strerror(s), st,
                lo, hi, dkv_strerror(expected));
    }
    T_CHECK(lo == hi);
    T_STATUS(expected, s);
}

static void expect_failed(dkv_ctx_t *ctx, const char *key)
{
    const char  *k   = NULL;
    dkv_status_t why = DKV_OK;

    if (key == NULL) {
        T_CHECK(dkv_failed_count(ctx) == 0);
        return;
    }
    T_CHECK(dkv_failed_count(ctx) == 1);
    T_OK(dkv_failed_key(ctx, 0, &k, &why));
    T_CHECK((k != NULL) && (strcmp(k, key) == 0));
    T_STATUS(DKV_ERR_NO_SPACE, why);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
}

/* One round: ranks in `failing` put a too big value. */
static void round_fail(dkv_ctx_t *ctx, int round, int fail_a, int fail_b)
{
    char key[64];
    int  me = (t_rank == fail_a) || (t_rank == fail_b);

    snprintf(key, sizeof(key), "fv/%d/%d", round, t_rank);
    if (me) {
        T_OK(dkv_put(ctx, key, big, TOO_BIG));
    }
    fence_expect(ctx, DKV_ERR_NO_SPACE, round);
    expect_failed(ctx, me ? key : NULL);
    fence_expect(ctx, DKV_OK, round);
    expect_failed(ctx, NULL);
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;
    int        size;
    char       key[64];
    int        r;

    MPI_Init(&argc, &argv);
    ctx  = t_init();
    size = dkv_size(ctx);
    big  = malloc(TOO_BIG);
    T_CHECK((big != NULL) && (size >= 3));
    T_CHECK(dkv_is_holder(ctx) == (t_rank == 0));
    t_fill(big, TOO_BIG, 7);

    /* Round 0: small values from everyone fit. */
    snprintf(key, sizeof(key), "fv/ok/%d", t_rank);
    T_OK(dkv_put(ctx, key, big, 100));
    fence_expect(ctx, DKV_OK, 0);
    expect_failed(ctx, NULL);
    for (r = 0; r < size; r++) {
        snprintf(key, sizeof(key), "fv/ok/%d", r);
        T_VALUE(ctx, key, 100, 7);
    }

    round_fail(ctx, 1, size - 1, -1); /* one rank */
    fence_expect(ctx, DKV_OK, 2);     /* nothing new: OK */
    round_fail(ctx, 3, 1, size - 1);  /* two ranks */
    round_fail(ctx, 4, 0, -1);        /* the holder itself */

    free(big);
    t_finalize(ctx);
    MPI_Finalize();
    return 0;
}
