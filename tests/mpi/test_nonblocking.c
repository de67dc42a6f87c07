/*
 * test_nonblocking: dkv_put_nb / dkv_get_nb with dkv_test and dkv_wait.
 *
 * - 64 puts in flight at once (8 B to 1 MiB, each from its own buffer, held
 *   until completion), then dkv_wait on each (in reverse order): all DKV_OK.
 * - Several nb puts of different sizes to one key in flight at once, and an
 *   nb put followed by a blocking put: the last issued value wins.
 * - dkv_quiet also completes outstanding nb puts: afterwards dkv_test says
 *   done and dkv_wait returns DKV_OK.
 * - After a fence, 64 gets of the neighbour's keys in flight, completed by a
 *   dkv_test polling loop then dkv_wait, values checked; an nb get of a
 *   missing key waits to DKV_ERR_NOT_FOUND, one into a short buffer to
 *   DKV_ERR_TRUNCATED with the full size.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREQ 64

static size_t size_of(int i)
{
    static const size_t sizes[] = {8, 1000, 40000, 1u << 20};

    return sizes[i % 4];
}

static void key_of(char *key, size_t len, int rank, int i)
{
    snprintf(key, len, "nb/%d/%d", rank, i);
}

static void many_puts(dkv_ctx_t *ctx)
{
    dkv_request_t *req[NREQ];
    uint8_t       *buf[NREQ];
    char           key[64];
    int            i;

    for (i = 0; i < NREQ; i++) {
        key_of(key, sizeof(key), t_rank, i);
        buf[i] = malloc(size_of(i));
        T_CHECK(buf[i] != NULL);
        t_fill(buf[i], size_of(i), t_seed(key, 0));
        req[i] = NULL;
        T_OK(dkv_put_nb(ctx, key, buf[i], size_of(i), &req[i]));
        T_CHECK(req[i] != NULL);
    }
    for (i = NREQ - 1; i >= 0; i--) {
        T_OK(dkv_wait(req[i]));
        free(buf[i]);
    }
}

static void ordered_puts(dkv_ctx_t *ctx)
{
    static const size_t sizes[] = {4u << 20, 8, 100u << 10, 3};
    dkv_request_t      *req[4];
    uint8_t            *buf[4];
    uint8_t             small[8];
    char                key[64];
    int                 i;

    snprintf(key, sizeof(key), "nb/order/%d", t_rank);
    for (i = 0; i < 4; i++) {
        buf[i] = malloc(sizes[i]);
        T_CHECK(buf[i] != NULL);
        t_fill(buf[i], sizes[i], t_seed(key, (uint64_t)i));
        T_OK(dkv_put_nb(ctx, key, buf[i], sizes[i], &req[i]));
    }
    for (i = 0; i < 4; i++) {
        T_OK(dkv_wait(req[i]));
        free(buf[i]);
    }
    T_VALUE(ctx, key, 3, t_seed(key, 3));

    /* nb put of 4 MiB, then a blocking put of 8 B, then the wait. */
    snprintf(key, sizeof(key), "nb/mixed/%d", t_rank);
    buf[0] = malloc(4u << 20);
    T_CHECK(buf[0] != NULL);
    t_fill(buf[0], 4u << 20, t_seed(key, 0));
    T_OK(dkv_put_nb(ctx, key, buf[0], 4u << 20, &req[0]));
    t_fill(small, sizeof(small), t_seed(key, 1));
    T_OK(dkv_put(ctx, key, small, sizeof(small)));
    T_OK(dkv_wait(req[0]));
    T_OK(dkv_quiet(ctx));
    free(buf[0]);
    T_VALUE(ctx, key, sizeof(small), t_seed(key, 1));
}

static void quiet_completes(dkv_ctx_t *ctx)
{
    dkv_request_t *req;
    uint8_t        buf[100];
    char           key[64];
    int            done = 0;

    snprintf(key, sizeof(key), "nb/quiet/%d", t_rank);
    t_fill(buf, sizeof(buf), t_seed(key, 0));
    T_OK(dkv_put_nb(ctx, key, buf, sizeof(buf), &req));
    T_OK(dkv_quiet(ctx));
    T_OK(dkv_test(req, &done));
    T_CHECK(done == 1);
    T_OK(dkv_wait(req));
    T_VALUE(ctx, key, sizeof(buf), t_seed(key, 0));
}

static void many_gets(dkv_ctx_t *ctx, int rank)
{
    dkv_request_t *req[NREQ];
    uint8_t       *buf[NREQ];
    size_t         got[NREQ];
    int            done[NREQ];
    int            left  = NREQ;
    long           polls = 0;
    double         end   = t_now() + 15.0;
    char           key[64];
    int            i;

    for (i = 0; i < NREQ; i++) {
        key_of(key, sizeof(key), rank, i);
        buf[i]  = malloc(size_of(i));
        got[i]  = 0;
        done[i] = 0;
        T_CHECK(buf[i] != NULL);
        T_OK(dkv_get_nb(ctx, key, buf[i], size_of(i), &got[i], &req[i]));
    }
    while (left > 0) {
        T_CHECK(t_now() < end);
        for (i = 0; i < NREQ; i++) {
            if (!done[i]) {
                T_OK(dkv_test(req[i], &done[i]));
                left -= done[i];
            }
        }
        polls++;
    }
    for (i = 0; i < NREQ; i++) {
        key_of(key, sizeof(key), rank, i);
        T_OK(dkv_wait(req[i]));
        T_CHECK(got[i] == size_of(i));
        T_CHECK(t_verify(buf[i], size_of(i), t_seed(key, 0)));
        free(buf[i]);
    }
    printf("rank %d: %d nb gets done after %ld polling rounds\n", t_rank,
           NREQ, polls);
}

static void failing_gets(dkv_ctx_t *ctx, int rank)
{
    dkv_request_t *req;
    uint8_t        buf[64];
    size_t         got = 0;
    char           key[64];

    T_OK(dkv_get_nb(ctx, "nb/no-such-key", buf, sizeof(buf), &got, &req));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_wait(req));

    key_of(key, sizeof(key), rank, 1); /* 1000 B */
    T_OK(dkv_get_nb(ctx, key, buf, sizeof(buf), &got, &req));
    T_STATUS(DKV_ERR_TRUNCATED, dkv_wait(req));
    T_CHECK(got == 1000);

    /* size_p may be NULL; dkv_wait without dkv_test. */
    key_of(key, sizeof(key), rank, 0); /* 8 B */
    memset(buf, 0, sizeof(buf));
    T_OK(dkv_get_nb(ctx, key, buf, sizeof(buf), NULL, &req));
    T_OK(dkv_wait(req));
    T_CHECK(t_verify(buf, 8, t_seed(key, 0)));
}

int main(void)
{
    dkv_ctx_t *ctx = t_init();
    int        right;

    right = (t_rank + 1) % dkv_size(ctx);
    many_puts(ctx);
    ordered_puts(ctx);
    quiet_completes(ctx);
    T_OK(dkv_fence(ctx));
    many_gets(ctx, right);
    failing_gets(ctx, right);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    return 0;
}
