/*
 * test_many_keys: 100,000 small keys spread over the holders.
 * Key i is written by rank i % size (values of 1..48 bytes, content from the
 * key), all without waiting, then one dkv_fence. Every rank reads back every
 * key of its right neighbour and every 7th key of the others, and checks
 * size and content; then the even keys are deleted (by the ranks that wrote
 * them, so with an even rank count half the ranks delete all their keys and
 * half none), quiet, fence, and a sample is checked: even keys gone, odd
 * keys still there.
 *
 *   test_many_keys [NKEYS]      (default 100000)
 *
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

static size_t value_size(long i)
{
    return 1 + (size_t)(i % 48);
}

static void key_of(char *key, size_t len, long i)
{
    snprintf(key, len, "many/%07ld", i);
}

static void put_mine(dkv_ctx_t *ctx, long nkeys, int size)
{
    char    key[32];
    uint8_t val[48];
    long    i;

    for (i = t_rank; i < nkeys; i += size) {
        key_of(key, sizeof(key), i);
        t_fill(val, value_size(i), t_seed(key, 0));
        T_OK(dkv_put(ctx, key, val, value_size(i)));
    }
}

static void check_key(dkv_ctx_t *ctx, long i, int present)
{
    char    key[32];
    uint8_t buf[64];
    size_t  got = 0;

    key_of(key, sizeof(key), i);
    if (!present) {
        T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, buf, sizeof(buf), &got));
        return;
    }
    T_OK(dkv_get(ctx, key, buf, sizeof(buf), &got));
    if ((got != value_size(i)) || !t_verify(buf, got, t_seed(key, 0))) {
        fprintf(stderr, "rank %d: key %s: %zu B, expected %zu B\n", t_rank,
                key, got, value_size(i));
        T_CHECK(!"value matches");
    }
}

int main(int argc, char **argv)
{
    long       nkeys = (argc > 1) ? atol(argv[1]) : 100000;
    dkv_ctx_t *ctx   = t_init();
    int        size  = dkv_size(ctx);
    int        right = (t_rank + 1) % size;
    long       nread = 0;
    long       ndel  = 0;
    double     t0    = t_now();
    double     t_put;
    long       i;

    T_CHECK(nkeys > 0);
    put_mine(ctx, nkeys, size);
    T_OK(dkv_fence(ctx));
    t_put = t_now() - t0;

    t0 = t_now();
    for (i = 0; i < nkeys; i++) {
        if ((i % size == right) || (i % 7 == 0)) {
            check_key(ctx, i, 1);
            nread++;
        }
    }
    T_OK(dkv_fence(ctx));
    printf("rank %d: put %ld keys + fence %.2f s, verified %ld in %.2f s "
           "(%d holders)\n", t_rank, nkeys / size, t_put, nread,
           t_now() - t0, dkv_num_holders(ctx));

    /* Delete the even keys; odd ones stay. */
    t0 = t_now();
    for (i = t_rank; i < nkeys; i += size) {
        if (i % 2 == 0) {
            char key[32];

            key_of(key, sizeof(key), i);
            T_OK(dkv_delete(ctx, key));
            ndel++;
        }
    }
    T_OK(dkv_quiet(ctx));
    printf("rank %d: deleted %ld keys (issue + quiet) in %.2f s\n", t_rank,
           ndel, t_now() - t0);
    T_OK(dkv_fence(ctx));
    for (i = t_rank; i < nkeys; i += 13) {
        check_key(ctx, i, i % 2 != 0);
    }
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    return 0;
}
