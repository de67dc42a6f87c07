/*
 * mpi_test_util: check helpers and deterministic payloads for MPI tests.
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int t_rank = -1;

void t_fail(const char *file, int line, const char *what, const char *extra)
{
    fprintf(stderr, "FAIL rank %d %s:%d: %s%s%s\n", t_rank, file, line, what,
            extra ? " -> " : "", extra ? extra : "");
    fflush(stderr);
    exit(1);
}

static uint8_t byte_at(size_t i, uint64_t seed)
{
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + seed;

    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return (uint8_t)x;
}

void t_fill(void *buf, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    size_t   i;

    for (i = 0; i < len; i++) {
        p[i] = byte_at(i, seed);
    }
}

int t_verify(const void *buf, size_t len, uint64_t seed)
{
    const uint8_t *p = buf;
    size_t         i;

    for (i = 0; i < len; i++) {
        if (p[i] != byte_at(i, seed)) {
            return 0;
        }
    }
    return 1;
}

double t_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

dkv_ctx_t *t_init(void)
{
    dkv_ctx_t *ctx = NULL;

    T_OK(dkv_init(NULL, &ctx));
    T_CHECK(ctx != NULL);
    t_rank = dkv_rank(ctx);
    return ctx;
}

void t_finalize(dkv_ctx_t *ctx)
{
    T_OK(dkv_finalize(ctx));
}

void t_value(const char *file, int line, dkv_ctx_t *ctx, const char *key,
             size_t size, uint64_t seed)
{
    char         what[128];
    uint8_t     *buf   = malloc(size > 0 ? size : 1);
    void        *abuf  = NULL;
    size_t       got   = (size_t)-1;
    dkv_status_t status;

    snprintf(what, sizeof(what), "value of key %.40s (%zu B)", key, size);
    if (buf == NULL) {
        t_fail(file, line, what, "malloc");
    }
    status = dkv_get(ctx, key, size > 0 ? buf : NULL, size, &got);
    if (status != DKV_OK) {
        t_fail(file, line, what, dkv_strerror(status));
    }
    if (got != size) {
        fprintf(stderr, "rank %d: dkv_get size %zu, expected %zu\n", t_rank,
                got, size);
        t_fail(file, line, what, "dkv_get size");
    }
    if (!t_verify(buf, size, seed)) {
        t_fail(file, line, what, "dkv_get content");
    }
    free(buf);

    got    = (size_t)-1;
    status = dkv_get_alloc(ctx, key, &abuf, &got);
    if (status != DKV_OK) {
        t_fail(file, line, what, dkv_strerror(status));
    }
    if (abuf == NULL) {
        t_fail(file, line, what, "dkv_get_alloc gave NULL");
    }
    if (got != size) {
        fprintf(stderr, "rank %d: dkv_get_alloc size %zu, expected %zu\n",
                t_rank, got, size);
        t_fail(file, line, what, "dkv_get_alloc size");
    }
    if (!t_verify(abuf, size, seed)) {
        t_fail(file, line, what, "dkv_get_alloc content");
    }
    free(abuf);
}

uint64_t t_seed(const char *key, uint64_t version)
{
    uint64_t h = 1469598103934665603ull;

    while (*key != '\0') {
        h = (h ^ (uint8_t)*key++) * 1099511628211ull;
    }
    return h ^ (version * 0x9e3779b97f4a7c15ull);
}

void t_sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec  = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}
