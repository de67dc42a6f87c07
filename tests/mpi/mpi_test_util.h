/*
 * mpi_test_util: tiny helpers shared by the MPI-launched tests. A failed
 * check prints the rank, file, line and what failed, and the test exits 1.
 */
#ifndef DKV_MPI_TEST_UTIL_H
#define DKV_MPI_TEST_UTIL_H

#include <dramkv.h>
#include <stddef.h>
#include <stdint.h>

extern int t_rank;

void t_fail(const char *file, int line, const char *what, const char *extra);

#define T_CHECK(cond)                                                         \
    do {                                                                      \
        if (!(cond)) {                                                        \
            t_fail(__FILE__, __LINE__, #cond, NULL);                          \
        }                                                                     \
    } while (0)

/* Expect a status; prints both texts on mismatch. */
#define T_STATUS(expected, call)                                              \
    do {                                                                      \
        dkv_status_t t_s_ = (call);                                           \
        if (t_s_ != (expected)) {                                             \
            t_fail(__FILE__, __LINE__, #call, dkv_strerror(t_s_));            \
        }                                                                     \
    } while (0)

#define T_OK(call) T_STATUS(DKV_OK, call)

/* Deterministic content: byte i of value (seed) - checkable anywhere. */
void t_fill(void *buf, size_t len, uint64_t seed);
/* 1 if buf holds exactly t_fill(len, seed). */
int t_verify(const void *buf, size_t len, uint64_t seed);

double t_now(void);

/* dkv_init(NULL): fails the test on any error, sets t_rank. */
dkv_ctx_t *t_init(void);

/* dkv_finalize that must return DKV_OK. */
void t_finalize(dkv_ctx_t *ctx);

/*
 * Read key with dkv_get (into a buffer of exactly size bytes) and with
 * dkv_get_alloc; both must report size and hold t_fill(size, seed).
 */
#define T_VALUE(ctx, key, size, seed)                                         \
    t_value(__FILE__, __LINE__, (ctx), (key), (size), (seed))
void t_value(const char *file, int line, dkv_ctx_t *ctx, const char *key,
             size_t size, uint64_t seed);

/* Seed for the value of a key: a hash of its text and a version. */
uint64_t t_seed(const char *key, uint64_t version);

/* Sleep for ms milliseconds. */
void t_sleep_ms(unsigned ms);

#endif
