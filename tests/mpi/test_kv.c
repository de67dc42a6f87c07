/*
 * test_kv: the key/value semantics of issue 14 between real processes -
 * generations, byte-range reads, stat, put_if and delete_if.
 *
 * - gen:     a key's generation grows with every put, a delete and a new
 *            put give a larger one, conditions fail with the current one.
 * - range:   values from 0 B to 16 MiB (eager, rendezvous and, on one
 *            node, the process_vm_readv path): random byte ranges, offset
 *            at and beyond the end, len 0 all match the written bytes.
 * - race:    every rank put_if(..., 0) on one key per round: exactly one
 *            wins each round.
 * - counter: every rank adds 1 to one counter K times with a read /
 *            put_if retry loop while also overwriting unrelated keys with
 *            plain puts; the final value is size * K (no lost update).
 * Run with and without DKV_REPLICAS=2 (tests/mpi/kv.cmake).
 */
#include "mpi_test_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNTER_K 40
#define RACE_ROUNDS 20

static int nranks;

static uint64_t stat_gen(dkv_ctx_t *ctx, const char *key, size_t size)
{
    uint64_t gen  = 0;
    size_t   got  = 0;

    T_OK(dkv_stat(ctx, key, &got, &gen));
    T_CHECK(got == size);
    T_CHECK(gen != 0);
    return gen;
}

static void check_generations(dkv_ctx_t *ctx)
{
    char     key[64];
    char     v[16] = "0123456789abcdef";
    uint64_t g1, g2, g3, g4, cur = 0;
    size_t   sz;

    snprintf(key, sizeof(key), "kv/gen/%d", t_rank);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_stat(ctx, key, &sz, &g1));
    T_OK(dkv_put(ctx, key, v, 4));
    T_OK(dkv_quiet(ctx));
    g1 = stat_gen(ctx, key, 4);
    T_OK(dkv_put(ctx, key, v, 8));
    T_OK(dkv_quiet(ctx));
    g2 = stat_gen(ctx, key, 8);
    T_CHECK(g2 > g1);
    T_OK(dkv_delete(ctx, key));
    T_OK(dkv_quiet(ctx));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_stat(ctx, key, NULL, NULL));
    /* Absent: a condition on any generation fails with 0. */
    T_STATUS(DKV_ERR_CONFLICT, dkv_put_if(ctx, key, v, 3, g2, &cur));
    T_CHECK(cur == 0);
    T_OK(dkv_delete_if(ctx, key, 0, NULL)); /* absent: fine */
    T_OK(dkv_put_if(ctx, key, v, 3, 0, &g3));
    T_CHECK(g3 > g2);
    T_CHECK(stat_gen(ctx, key, 3) == g3);
    T_STATUS(DKV_ERR_CONFLICT, dkv_put_if(ctx, key, v, 5, 0, &cur));
    T_CHECK(cur == g3);
    T_STATUS(DKV_ERR_CONFLICT, dkv_put_if(ctx, key, v, 5, g2, &cur));
    T_CHECK(cur == g3);
    T_OK(dkv_put_if(ctx, key, v, 5, g3, &g4));
    T_CHECK(g4 > g3);
    T_STATUS(DKV_ERR_CONFLICT, dkv_delete_if(ctx, key, g3, &cur));
    T_CHECK(cur == g4);
    T_OK(dkv_delete_if(ctx, key, g4, NULL));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_stat(ctx, key, NULL, NULL));
    T_CHECK(dkv_quiet(ctx) == DKV_OK); /* conflicts are not quiet's */
    T_CHECK(dkv_failed_count(ctx) == 0);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One read of [off, off + len) against the value's bytes @p want. */
static void check_range(dkv_ctx_t *ctx, const char *key, const uint8_t *want,
                        size_t size, size_t off, size_t len, uint8_t *buf,
                        uint64_t gen)
{
    size_t   copied = 12345, full = 0;
    uint64_t g      = 0;
    size_t   expect = (off >= size) ? 0 : ((size - off < len) ? size - off
                                                               : len);

    T_OK(dkv_read(ctx, key, off, (len > 0) ? buf : NULL, len, &copied, &full,
                  &g));
    T_CHECK(copied == expect);
    T_CHECK(full == size);
    T_CHECK(g == gen);
    T_CHECK((expect == 0) || (memcmp(buf, want + off, expect) == 0));
}

static void check_ranges(dkv_ctx_t *ctx)
{
    static const size_t sizes[] = {0, 1, 100, 8191, (64u << 10) + 3,
                                   (1u << 20) + 5, 16u << 20};
    uint64_t            s       = 0x1234567ull + (uint64_t)t_rank;
    size_t              i, j, size, off, len;
    char                key[64];
    uint8_t            *want, *buf;
    uint64_t            gen;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size = sizes[i];
        want = malloc(size + 1);
        buf  = malloc(size + 64);
        T_CHECK((want != NULL) && (buf != NULL));
        snprintf(key, sizeof(key), "kv/range/%d/%zu", t_rank, size);
        t_fill(want, size, t_seed(key, 1));
        T_OK(dkv_put(ctx, key, want, size));
        T_OK(dkv_quiet(ctx));
        gen = stat_gen(ctx, key, size);
        check_range(ctx, key, want, size, 0, size + 64, buf, gen);
        check_range(ctx, key, want, size, size, 10, buf, gen);
        check_range(ctx, key, want, size, size + 1000, 10, buf, gen);
        check_range(ctx, key, want, size, size / 2, 0, buf, gen);
        for (j = 0; j < 20; j++) {
            off = (size > 0) ? (size_t)(rnd(&s) % (size + 2)) : 0;
            len = (size_t)(rnd(&s) % (size + 2));
            check_range(ctx, key, want, size, off, len, buf, gen);
        }
        free(want);
        free(buf);
    }
}

static void check_race(dkv_ctx_t *ctx)
{
    char     key[64];
    int      round, won, total;
    uint64_t gen;

    for (round = 0; round < RACE_ROUNDS; round++) {
        snprintf(key, sizeof(key), "kv/race/%d", round);
        MPI_Barrier(MPI_COMM_WORLD);
        gen = 0;
        switch (dkv_put_if(ctx, key, &t_rank, sizeof(t_rank), 0, &gen)) {
        case DKV_OK:
            won = 1;
            break;
        case DKV_ERR_CONFLICT:
            won = 0;
            T_CHECK(gen != 0);
            break;
        default:
            won = 0;
            T_CHECK(!"put_if failed");
        }
        MPI_Allreduce(&won, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        T_CHECK(total == 1);
    }
}

static void add_one(dkv_ctx_t *ctx, const char *key, unsigned *retries)
{
    uint64_t     value, gen, next;
    size_t       copied;
    dkv_status_t status;

    for (;;) {
        status = dkv_read(ctx, key, 0, &value, sizeof(value), &copied, NULL,
                          &gen);
        if (status == DKV_ERR_NOT_FOUND) {
            value = 0;
            gen   = 0;
        } else {
            T_OK(status);
            T_CHECK(copied == sizeof(value));
        }
        next   = value + 1;
        status = dkv_put_if(ctx, key, &next, sizeof(next), gen, NULL);
        if (status == DKV_OK) {
            return;
        }
        T_STATUS(DKV_ERR_CONFLICT, status);
        (*retries)++;
    }
}

static void check_counter(dkv_ctx_t *ctx)
{
    char     noise[64];
    char     junk[256];
    unsigned retries = 0, k;
    uint64_t value   = 0;

    memset(junk, t_rank, sizeof(junk));
    MPI_Barrier(MPI_COMM_WORLD);
    for (k = 0; k < COUNTER_K; k++) {
        add_one(ctx, "kv/counter", &retries);
        snprintf(noise, sizeof(noise), "kv/noise/%d/%u", t_rank, k % 8);
        T_OK(dkv_put(ctx, noise, junk, sizeof(junk)));
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_read(ctx, "kv/counter", 0, &value, sizeof(value), NULL, NULL,
                  NULL));
    T_CHECK(value == (uint64_t)nranks * COUNTER_K);
    printf("rank %d: counter %llu, %u retries\n", t_rank,
           (unsigned long long)value, retries);
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;

    MPI_Init(&argc, &argv);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    ctx = t_init();
    check_generations(ctx);
    check_ranges(ctx);
    check_race(ctx);
    check_counter(ctx);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    MPI_Finalize();
    printf("PASS rank %d\n", t_rank);
    return 0;
}
