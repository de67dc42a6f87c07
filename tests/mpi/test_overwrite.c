/*
 * test_overwrite: rewriting, deleting and short buffers.
 *
 * - One rank rewrites a key five times with different sizes (small, large,
 *   empty) without waiting in between; after its quiet it and, after a
 *   fence, every rank read the last value. A 4 MiB put followed by an 8-byte
 *   put to the same key reads the 8-byte value.
 * - put then delete reads NOT_FOUND; delete then put reads the value;
 *   deleting a key that never existed is not an error.
 * - Ranks overwrite each other's keys between fences: the last fenced
 *   value wins everywhere.
 * - dkv_get into a short buffer is DKV_ERR_TRUNCATED with the full size and
 *   nothing copied; a right-sized get then succeeds. A missing key is
 *   DKV_ERR_NOT_FOUND for dkv_get and dkv_get_alloc.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdlib.h>
#include <string.h>

static const size_t rewrite_sizes[] = {100, 1u << 20, 0, 64u << 10, 5};
#define NREWRITE (sizeof(rewrite_sizes) / sizeof(rewrite_sizes[0]))

static void put_value(dkv_ctx_t *ctx, const char *key, size_t size,
                      uint64_t version)
{
    uint8_t *buf = malloc(size > 0 ? size : 1);

    T_CHECK(buf != NULL);
    t_fill(buf, size, t_seed(key, version));
    T_OK(dkv_put(ctx, key, buf, size));
    free(buf);
}

static void expect_missing(dkv_ctx_t *ctx, const char *key)
{
    char   buf[16];
    void  *sentinel = (void *)&buf;
    void  *value    = sentinel;
    size_t got      = 0;

    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, buf, sizeof(buf), &got));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get_alloc(ctx, key, &value, &got));
    T_CHECK(value == sentinel); /* written only on DKV_OK */
}

/* Phase A: one rank's rewrites and deletes, checked after its own quiet. */
static void writer_phase(dkv_ctx_t *ctx)
{
    size_t i;

    for (i = 0; i < NREWRITE; i++) {
        put_value(ctx, "ow/rewrite", rewrite_sizes[i], i);
    }
    put_value(ctx, "ow/order", 4u << 20, 1);
    put_value(ctx, "ow/order", 8, 2);

    put_value(ctx, "ow/del", 1024, 1);
    T_OK(dkv_delete(ctx, "ow/del"));
    put_value(ctx, "ow/bigdel", 1u << 20, 1);
    T_OK(dkv_delete(ctx, "ow/bigdel"));
    T_OK(dkv_delete(ctx, "ow/delput"));
    put_value(ctx, "ow/delput", 10, 1);
    T_OK(dkv_delete(ctx, "ow/never-written"));

    put_value(ctx, "ow/trunc", 1000, 1);
    put_value(ctx, "ow/trunc-big", 1u << 20, 1);
    T_OK(dkv_quiet(ctx));
    T_CHECK(dkv_failed_count(ctx) == 0);
}

static void check_phase_a(dkv_ctx_t *ctx)
{
    T_VALUE(ctx, "ow/rewrite", 5, t_seed("ow/rewrite", NREWRITE - 1));
    T_VALUE(ctx, "ow/order", 8, t_seed("ow/order", 2));
    expect_missing(ctx, "ow/del");
    expect_missing(ctx, "ow/bigdel");
    expect_missing(ctx, "ow/never-written");
    T_VALUE(ctx, "ow/delput", 10, t_seed("ow/delput", 1));
}

/* Phase B: ranks take turns overwriting one key, a fence after each turn. */
static void cross_rank_phase(dkv_ctx_t *ctx)
{
    static const size_t turn_sizes[] = {200, 300000, 7, 0, 40000};
    int    size = dkv_size(ctx);
    size_t t;

    for (t = 0; t < sizeof(turn_sizes) / sizeof(turn_sizes[0]); t++) {
        if ((size_t)t_rank == t % (size_t)size) {
            put_value(ctx, "ow/turns", turn_sizes[t], 100 + t);
        }
        T_OK(dkv_fence(ctx));
        T_VALUE(ctx, "ow/turns", turn_sizes[t], t_seed("ow/turns", 100 + t));
        T_OK(dkv_fence(ctx));
    }
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != v) {
            return 0;
        }
    }
    return 1;
}

static void check_truncated(dkv_ctx_t *ctx, const char *key, size_t full)
{
    uint8_t *buf = malloc(full + 64);
    size_t   got;

    T_CHECK(buf != NULL);
    memset(buf, 0xaa, full + 64);
    got = 0;
    T_STATUS(DKV_ERR_TRUNCATED, dkv_get(ctx, key, buf, full - 1, &got));
    T_CHECK(got == full);
    T_CHECK(all_bytes(buf, full + 64, 0xaa)); /* nothing copied */
    got = 0;
    T_STATUS(DKV_ERR_TRUNCATED, dkv_get(ctx, key, buf, full / 2, &got));
    T_CHECK(got == full);
    got = 0;
    T_STATUS(DKV_ERR_TRUNCATED, dkv_get(ctx, key, NULL, 0, &got));
    T_CHECK(got == full);
    T_STATUS(DKV_ERR_TRUNCATED, dkv_get(ctx, key, buf, 1, NULL));
    T_CHECK(all_bytes(buf, full + 64, 0xaa));

    /* Right-sized, then larger than needed. */
    got = 0;
    T_OK(dkv_get(ctx, key, buf, full, &got));
    T_CHECK(got == full);
    T_CHECK(t_verify(buf, full, t_seed(key, 1)));
    memset(buf, 0xaa, full + 64);
    got = 0;
    T_OK(dkv_get(ctx, key, buf, full + 64, &got));
    T_CHECK(got == full);
    T_CHECK(t_verify(buf, full, t_seed(key, 1)));
    free(buf);
}

int main(void)
{
    dkv_ctx_t *ctx    = t_init();
    int        writer = dkv_size(ctx) - 1;

    T_CHECK(dkv_size(ctx) >= 2);
    if (t_rank == writer) {
        writer_phase(ctx);
        check_phase_a(ctx); /* own writes, after own quiet */
    }
    T_OK(dkv_fence(ctx));
    check_phase_a(ctx);
    check_truncated(ctx, "ow/trunc", 1000);
    check_truncated(ctx, "ow/trunc-big", 1u << 20);
    expect_missing(ctx, "ow/no-such-key");
    T_OK(dkv_fence(ctx));
    cross_rank_phase(ctx);
    t_finalize(ctx);
    return 0;
}
