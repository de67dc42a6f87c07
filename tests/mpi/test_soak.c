/*
 * test_soak: random put/get/delete/fence traffic checked against a model of
 * what must be stored. Every rank draws its own operations from a PRNG
 * seeded by (seed, rank, epoch), so after each fence every rank can replay
 * every other rank's epoch and know exactly what each key must hold. Values
 * are 0 B to 4 MiB (mostly small), their bytes a function of (key, version).
 *
 * Per epoch and rank: OPS own operations (put 55%, delete 15%, get-own after
 * a quiet 30%), a fence, then READS reads of random keys of any rank, each
 * checked byte for byte (or NOT_FOUND). argv: epochs (default 50).
 * Prints the total operation count of the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_test_util.h"

#define KEYS_PER_RANK 256
#define OPS           300
#define READS         200
#define MAX_VALUE     (4u << 20)

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t next(rng_t *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return mix(r->s);
}

static size_t size_of(int owner, int key, uint32_t version)
{
    uint64_t h = mix(((uint64_t)owner << 40) ^ ((uint64_t)key << 20) ^ version);
    unsigned p = (unsigned)(h % 100);

    if (p < 90) {
        return (size_t)((h >> 8) % 4097);            /* 0 .. 4 KiB */
    }
    if (p < 99) {
        return (size_t)((h >> 8) % (256u << 10));    /* .. 256 KiB */
    }
    return (size_t)((h >> 8) % (MAX_VALUE + 1));     /* .. 4 MiB */
}

static void fill(uint8_t *buf, size_t len, int owner, int key, uint32_t ver)
{
    uint64_t seed = mix(((uint64_t)owner << 40) ^ ((uint64_t)key << 20) ^ ver);
    size_t   i;

    for (i = 0; i + 8 <= len; i += 8) {
        uint64_t w = mix(seed + i);

        memcpy(buf + i, &w, 8);
    }
    for (; i < len; i++) {
        buf[i] = (uint8_t)mix(seed + i);
    }
}

/* model[owner][key]: version stored, 0 = absent. */
static uint32_t *model;
static uint8_t  *wbuf, *rbuf, *ebuf;
static long      nops;

static void key_name(char *out, size_t len, int owner, int key)
{
    snprintf(out, len, "soak/%d/%d", owner, key);
}

static void check(dkv_ctx_t *ctx, int nranks, int owner, int key)
{
    uint32_t ver = model[owner * KEYS_PER_RANK + key];
    char     name[48];
    size_t   n = 0, want;

    key_name(name, sizeof(name), owner, key);
    nops++;
    if (ver == 0) {
        T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, name, rbuf, MAX_VALUE, &n));
        return;
    }
    T_OK(dkv_get(ctx, name, rbuf, MAX_VALUE, &n));
    want = size_of(owner, key, ver);
    if (n != want) {
        fprintf(stderr, "rank %d: %s size %zu, want %zu (version %u)\n",
                t_rank, name, n, want, ver);
        T_CHECK(n == want);
    }
    fill(ebuf, want, owner, key, ver);
    T_CHECK(memcmp(rbuf, ebuf, want) == 0);
    (void)nranks;
}

/* Run (me) or replay (others) one rank's own operations of an epoch. */
static void own_ops(dkv_ctx_t *ctx, int owner, int epoch, int act)
{
    rng_t r = {mix(0x50a4ull ^ ((uint64_t)owner << 32) ^ (uint64_t)epoch)};
    char  name[48];
    int   i;

    for (i = 0; i < OPS; i++) {
        uint64_t  x   = next(&r);
        int       key = (int)(x % KEYS_PER_RANK);
        unsigned  p   = (unsigned)((x >> 32) % 100);
        uint32_t *slot = &model[owner * KEYS_PER_RANK + key];

        key_name(name, sizeof(name), owner, key);
        if (p < 55) {
            uint32_t ver = (uint32_t)(epoch * OPS + i + 1);
            size_t   n   = size_of(owner, key, ver);

            if (act) {
                fill(wbuf, n, owner, key, ver);
                T_OK(dkv_put(ctx, name, wbuf, n));
                nops++;
            }
            *slot = ver;
        } else if (p < 70) {
            if (act) {
                T_OK(dkv_delete(ctx, name));
                nops++;
            }
            *slot = 0;
        } else if (act) {
            T_OK(dkv_quiet(ctx));
            check(ctx, 0, owner, key);
        }
    }
}

int main(int argc, char **argv)
{
    int        epochs = (argc > 1) ? atoi(argv[1]) : 50;
    dkv_ctx_t *ctx    = t_init();
    int        nranks = dkv_size(ctx);
    double     t0     = t_now();
    long       total;
    int        e, r, i;

    model = calloc((size_t)nranks * KEYS_PER_RANK, sizeof(*model));
    wbuf  = malloc(MAX_VALUE);
    rbuf  = malloc(MAX_VALUE);
    ebuf  = malloc(MAX_VALUE);
    T_CHECK(model && wbuf && rbuf && ebuf);
    for (e = 0; e < epochs; e++) {
        for (r = 0; r < nranks; r++) {
            own_ops(ctx, r, e, r == t_rank);
        }
        T_OK(dkv_fence(ctx));
        nops++;
        {
            rng_t rr = {mix(0x7eadull ^ ((uint64_t)t_rank << 32) ^ (uint64_t)e)};

            for (i = 0; i < READS; i++) {
                uint64_t x = next(&rr);

                check(ctx, nranks, (int)(x % (uint64_t)nranks),
                      (int)((x >> 32) % KEYS_PER_RANK));
            }
        }
        T_OK(dkv_fence(ctx)); /* nobody writes while others still read */
        nops++;
    }
    total = nops;
    printf("rank %d: %ld operations in %d epochs, %.1f s\n", t_rank, total,
           epochs, t_now() - t0);
    t_finalize(ctx);
    free(model);
    free(wbuf);
    free(rbuf);
    free(ebuf);
    return 0;
}
