/*
 * test_self: a rank reads its own writes, including those it holds itself.
 * Run with DKV_HOLDERS=all (so some keys of each rank live on that rank) or
 * with one rank. Every rank puts 200 keys (empty to 100 KiB), dkv_quiet
 * (no fence), and reads every one back; then rewrites half and deletes a
 * quarter, quiet, and reads the new state. No other rank's data is read
 * before the fence; after it each rank checks its right neighbour's keys.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#define NKEYS 200
#define MAXV  (100u << 10)

static size_t size_of(int i, int version)
{
    static const size_t sizes[] = {0, 1, 17, 512, 4096, 33000, MAXV};

    return sizes[(size_t)(i + version) % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void key_of(char *key, size_t len, int rank, int i)
{
    snprintf(key, len, "self/%d/%d", rank, i);
}

/* Version of key i after step (0: first write, 1: rewrite/delete). */
static int version_of(int i, int step)
{
    if ((step == 1) && (i % 4 == 1)) {
        return -1; /* deleted */
    }
    return ((step == 1) && (i % 2 == 0)) ? 1 : 0;
}

static void write_step(dkv_ctx_t *ctx, uint8_t *buf, int step)
{
    char key[64];
    int  i;
    int  v;

    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), t_rank, i);
        v = version_of(i, step);
        if (v < 0) {
            T_OK(dkv_delete(ctx, key));
        } else if ((step == 0) || (v == 1)) {
            t_fill(buf, size_of(i, v), t_seed(key, (uint64_t)v));
            T_OK(dkv_put(ctx, key, buf, size_of(i, v)));
        }
    }
}

static void read_step(dkv_ctx_t *ctx, int rank, int step)
{
    char key[64];
    int  i;
    int  v;

    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), rank, i);
        v = version_of(i, step);
        if (v < 0) {
            T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
        } else {
            T_VALUE(ctx, key, size_of(i, v), t_seed(key, (uint64_t)v));
        }
    }
}

int main(void)
{
    dkv_ctx_t *ctx = t_init();
    uint8_t   *buf = malloc(MAXV);
    int        step;

    T_CHECK(buf != NULL);
    for (step = 0; step < 2; step++) {
        write_step(ctx, buf, step);
        T_OK(dkv_quiet(ctx));
        T_CHECK(dkv_failed_count(ctx) == 0);
        read_step(ctx, t_rank, step);
    }
    T_OK(dkv_fence(ctx));
    read_step(ctx, (t_rank + 1) % dkv_size(ctx), 1);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    free(buf);
    return 0;
}
