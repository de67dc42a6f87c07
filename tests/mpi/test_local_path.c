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

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;

    ctx = t_init();
    if ((argc > 1) && (strcmp(argv[1], "stop_slow") == 0)) {
        stop_slow(ctx);
    } else if ((argc > 1) && (strcmp(argv[1], "grant_kill") == 0)) {
        grant_kill(ctx);
    }
    fprintf(stderr, "usage: %s stop_slow|grant_kill\n", argv[0]);
    return 2;
}
