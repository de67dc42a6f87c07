/*
 * test_local_path: the node-local bulk path (client_local.c,
 * holder_local.c) under a slow or dying client. All ranks on one node,
 * holder rank 0.
 *
 * argv[1]:
 *   stop_slow   2 ranks, DKV_FINALIZE_TIMEOUT_MS small. Rank 1 starts a
 *               64 KiB dkv_put_nb (the holder grants room at once) and
 *               then does not call dramkv for a while; rank 0 finalizes
 *               meanwhile (its wait for rank 1 times out, its holder
 *               stops) and fills its heap from a new thread, which gets
 *               the exited holder thread's malloc arena. Rank 1's late
 *               dkv_wait copies the value to the address it was granted.
 *               Rank 0's heap must not change under it: a stopped holder
 *               must not free memory a client may still write into.
 *   grant_kill  3 ranks, DKV_HOLD_BYTES a little above one value. Rank 1
 *               starts a large put and is SIGKILLed after the grant came
 *               but before its copy. Rank 2 must then be able to write a
 *               value of the same size (the reservation given back).
 *   churn       2 ranks (both clients, holder rank 0 also its own), a
 *               memory limit a little above twice the data: rounds of
 *               concurrent overwrites, a window of 64 gets (whole,
 *               truncated, allocated), then a large put overtaken by a
 *               small put and by a delete. A leaked pin or reservation
 *               makes a later overwrite fail with NO_SPACE.
 *   idle        2 ranks: the holder uses under 10% of a core while a
 *               client on its node sits on a grant for 5 s, and when
 *               idle afterwards.
 * Each surviving rank prints "PASS rank N".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define SLOW_SIZE (64u << 10)

/* Heap blocks filled by a new thread: glibc hands it the arena of the
 * holder thread that exited, so they take the memory the holder freed. */
#define NBLOCKS 8192
#define BLOCK   1024
static unsigned char *blocks[NBLOCKS];

static void *fill_heap(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < NBLOCKS; i++) {
        blocks[i] = malloc(BLOCK);
        T_CHECK(blocks[i] != NULL);
        memset(blocks[i], 0x5a, BLOCK);
    }
    return NULL;
}

/* 1 if a block lost its pattern: someone wrote into memory we own. */
static int heap_overwritten(void)
{
    int    i, bad = 0;
    size_t j;

    for (i = 0; i < NBLOCKS; i++) {
        for (j = 0; j < BLOCK; j++) {
            if (blocks[i][j] != 0x5a) {
                fprintf(stderr, "rank 0: block %p overwritten at byte %zu "
                        "after the holder stopped\n", (void *)blocks[i], j);
                bad = 1;
                break;
            }
        }
        free(blocks[i]);
    }
    return bad;
}

static void stop_slow(dkv_ctx_t *ctx)
{
    dkv_request_t *req;
    void          *buf = malloc(SLOW_SIZE);
    dkv_status_t   s;
    int            bad = 0;

    T_CHECK(buf != NULL);
    if (t_rank == 1) { /* connected: the next put goes out at once */
        T_OK(dkv_put(ctx, "warm", "x", 1));
        T_OK(dkv_quiet(ctx));
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == 1) {
        t_fill(buf, SLOW_SIZE, 11);
        T_OK(dkv_put_nb(ctx, "k", buf, SLOW_SIZE, &req));
        t_sleep_ms(4000); /* the grant waits; the holder stops */
        s = dkv_wait(req);
        printf("rank 1: late put: %s\n", dkv_strerror(s));
        (void)dkv_finalize(ctx); /* its partner is gone: may time out */
    } else {
        pthread_t th;

        s = dkv_finalize(ctx); /* rank 1 is busy: times out */
        printf("rank 0: finalize: %s\n", dkv_strerror(s));
        T_CHECK(pthread_create(&th, NULL, fill_heap, NULL) == 0);
        T_CHECK(pthread_join(th, NULL) == 0);
        t_sleep_ms(6000); /* rank 1 copies meanwhile */
        bad = heap_overwritten();
        T_CHECK(!bad);
    }
    free(buf);
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    exit(0);
}

#define KILL_SIZE (1u << 20)

static void grant_kill(dkv_ctx_t *ctx)
{
    dkv_request_t *req;
    void          *buf = malloc(KILL_SIZE);
    size_t         n;
    int            i;
    dkv_status_t   s = DKV_ERR_NO_SPACE;

    T_CHECK(buf != NULL);
    T_OK(dkv_fence(ctx));
    if (t_rank == 1) {
        t_fill(buf, KILL_SIZE, 3);
        T_OK(dkv_put_nb(ctx, "victim", buf, KILL_SIZE, &req));
        t_sleep_ms(300); /* the grant arrives, never processed */
        fflush(stdout);
        raise(SIGKILL);
    }
    t_sleep_ms(1500);
    if (t_rank == 2) {
        t_fill(buf, KILL_SIZE, 4);
        /* the holder notices the death within a few 100 ms */
        for (i = 0; (i < 50) && (s == DKV_ERR_NO_SPACE); i++) {
            s = dkv_put(ctx, "after", buf, KILL_SIZE);
            if (s == DKV_OK) {
                s = dkv_quiet(ctx);
            }
            if (s == DKV_ERR_NO_SPACE) {
                t_sleep_ms(200);
            }
        }
        printf("rank 2: put after %d NO_SPACE answers\n", i - 1);
        T_OK(s);
        memset(buf, 0, KILL_SIZE);
        T_OK(dkv_get(ctx, "after", buf, KILL_SIZE, &n));
        T_CHECK((n == KILL_SIZE) && t_verify(buf, KILL_SIZE, 4));
    }
    (void)dkv_finalize(ctx); /* rank 1 is dead: may report it */
    free(buf);
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    exit(0);
}

#define CH_KEYS 8
#define CH_SIZE (48u << 10)
#define CH_WIN  64

static void churn(dkv_ctx_t *ctx)
{
    dkv_request_t *req[CH_WIN];
    unsigned char *buf[CH_WIN];
    unsigned char *val = malloc(CH_SIZE);
    unsigned char  small[100];
    char           key[32];
    size_t         n[CH_WIN], got;
    void          *abuf;
    int            i, k, round;

    T_CHECK(val != NULL);
    for (i = 0; i < CH_WIN; i++) {
        buf[i] = malloc(CH_SIZE);
        T_CHECK(buf[i] != NULL);
    }
    for (round = 0; round < 6; round++) {
        /* every key rewritten at once (one reservation each) */
        for (k = 0; k < CH_KEYS; k++) {
            snprintf(key, sizeof(key), "r%d.k%d", t_rank, k);
            t_fill(buf[k], CH_SIZE, (uint64_t)(round * 100 + k));
            T_OK(dkv_put_nb(ctx, key, buf[k], CH_SIZE, &req[k]));
        }
        for (k = 0; k < CH_KEYS; k++) {
            T_OK(dkv_wait(req[k]));
        }
        T_OK(dkv_quiet(ctx));
        /* a window of gets: whole, truncated, allocated */
        for (i = 0; i < CH_WIN; i++) {
            k = i % CH_KEYS;
            snprintf(key, sizeof(key), "r%d.k%d", t_rank, k);
            T_OK(dkv_get_nb(ctx, key, buf[i], (i % 3 == 1) ? 100 : CH_SIZE,
                            &n[i], &req[i]));
        }
        for (i = 0; i < CH_WIN; i++) {
            k = i % CH_KEYS;
            if (i % 3 == 1) {
                T_STATUS(DKV_ERR_TRUNCATED, dkv_wait(req[i]));
            } else {
                T_OK(dkv_wait(req[i]));
                T_CHECK((n[i] == CH_SIZE) &&
                        t_verify(buf[i], CH_SIZE,
                                 (uint64_t)(round * 100 + k)));
            }
        }
        for (k = 0; k < CH_KEYS; k++) {
            snprintf(key, sizeof(key), "r%d.k%d", t_rank, k);
            T_STATUS(DKV_ERR_TRUNCATED, dkv_get(ctx, key, small,
                                                sizeof(small), &got));
            T_CHECK(got == CH_SIZE);
            abuf = NULL;
            T_OK(dkv_get_alloc(ctx, key, &abuf, &got));
            T_CHECK((got == CH_SIZE) &&
                    t_verify(abuf, CH_SIZE, (uint64_t)(round * 100 + k)));
            free(abuf);
        }
    }
    /* a large put overtaken by a small one, and by a delete */
    t_fill(val, CH_SIZE, 7);
    snprintf(key, sizeof(key), "r%d.mix", t_rank);
    T_OK(dkv_put_nb(ctx, key, val, CH_SIZE, &req[0]));
    T_OK(dkv_put_nb(ctx, key, "small", 6, &req[1]));
    T_OK(dkv_wait(req[0]));
    T_OK(dkv_wait(req[1]));
    T_OK(dkv_quiet(ctx));
    T_OK(dkv_get(ctx, key, small, sizeof(small), &got));
    T_CHECK((got == 6) && (strcmp((char *)small, "small") == 0));
    snprintf(key, sizeof(key), "r%d.del", t_rank);
    T_OK(dkv_put_nb(ctx, key, val, CH_SIZE, &req[0]));
    T_OK(dkv_delete(ctx, key));
    T_OK(dkv_wait(req[0]));
    T_OK(dkv_quiet(ctx));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, small, sizeof(small),
                                        &got));
    T_OK(dkv_fence(ctx));
    for (i = 0; i < CH_WIN; i++) {
        free(buf[i]);
    }
    free(val);
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    exit(0);
}

/* CPU seconds (user + system) this process has used so far. */
static double cpu_s(void)
{
    unsigned long ut = 0, st = 0;
    FILE         *f = fopen("/proc/self/stat", "r");

    T_CHECK(f != NULL);
    T_CHECK(fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
                   "%*u %lu %lu", &ut, &st) == 2);
    fclose(f);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void idle(dkv_ctx_t *ctx)
{
    dkv_request_t *req;
    void          *buf = malloc(SLOW_SIZE);
    double         c0;

    T_CHECK(buf != NULL);
    if (t_rank == 1) {
        T_OK(dkv_put(ctx, "warm", "x", 1));
        T_OK(dkv_quiet(ctx));
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == 1) { /* a grant this rank holds on to for 6 s */
        t_fill(buf, SLOW_SIZE, 5);
        T_OK(dkv_put_nb(ctx, "k", buf, SLOW_SIZE, &req));
        t_sleep_ms(6000);
        T_OK(dkv_wait(req));
    } else { /* only the holder thread runs here */
        t_sleep_ms(300);
        c0 = cpu_s();
        t_sleep_ms(5000);
        printf("rank 0: holder used %.2f s CPU in 5 s with a parked op\n",
               cpu_s() - c0);
        T_CHECK(cpu_s() - c0 < 0.5);
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == 0) {
        c0 = cpu_s();
        t_sleep_ms(5000);
        printf("rank 0: holder used %.2f s CPU in 5 s idle\n", cpu_s() - c0);
        T_CHECK(cpu_s() - c0 < 0.5);
    }
    T_OK(dkv_fence(ctx));
    free(buf);
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;

    ctx = t_init();
    if ((argc > 1) && (strcmp(argv[1], "stop_slow") == 0)) {
        stop_slow(ctx);
    } else if ((argc > 1) && (strcmp(argv[1], "grant_kill") == 0)) {
        grant_kill(ctx);
    } else if ((argc > 1) && (strcmp(argv[1], "churn") == 0)) {
        churn(ctx);
    } else if ((argc > 1) && (strcmp(argv[1], "idle") == 0)) {
        idle(ctx);
    }
    fprintf(stderr, "usage: %s stop_slow|grant_kill|churn|idle\n", argv[0]);
    return 2;
}
