/*
 * test_fence_agree: every rank fences N times and prints its verdict for
 * each fence ("VERDICT rank R fence F STATUS"); fence_agree.sh compares the
 * survivors' lines. A rank dies inside a fence through DKV_FAULT=die_at:...
 * (set by the test), or arrives late to one.
 *
 *   test_fence_agree N [late RANK FENCE MS] [slow FENCE MS EXCEPT]
 *   test_fence_agree drain DIR VICTIM
 *
 * late: RANK sleeps MS before fence FENCE (later than DKV_TIMEOUT_MS).
 * slow: every rank but EXCEPT sleeps MS before fence FENCE (so EXCEPT
 *       votes first).
 * drain: with DKV_HOLDERS=all and DKV_REPLICAS=2, every rank puts keys,
 *       VICTIM dies, the survivors fence (PEER_LOST, then OK), drain to DIR
 *       (its files from an earlier run removed first), delete every key,
 *       load the drain back and read every key, the victim's too; each
 *       prints "PASS rank R". The lowest live rank starts the drain and
 *       the files are loaded by the live ranks, so VICTIM 0 tests both.
 * Uses only dramkv (no MPI): survivors must not depend on the dead rank.
 */
#include "mpi_test_util.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NKEYS 40

/* The verdict as one word for fence_agree.sh. */
static const char *name_of(dkv_status_t s)
{
    return (s == DKV_OK)              ? "OK"
           : (s == DKV_ERR_PEER_LOST) ? "LOST"
           : (s == DKV_ERR_TIMEOUT)   ? "TIMEOUT"
                                      : dkv_strerror(s);
}

/* Remove the files in @p dir (an earlier run's drain). */
static void empty_dir(const char *dir)
{
    char           path[4096];
    struct dirent *e;
    DIR           *d = opendir(dir);

    T_CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            (void)unlink(path);
        }
    }
    closedir(d);
}

static void key_of(char *key, size_t len, int rank, int i)
{
    snprintf(key, len, "fa/%d/%02d", rank, i);
}

/* A drain after a member (and holder) died, started by the lowest live
 * rank, then loaded back: nothing fenced before the loss is missing. */
static int mode_drain(const char *dir, int victim)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p;
    char                 key[64];
    int                  r, i, np = dkv_size(ctx);

    if (t_rank == 0) {
        empty_dir(dir);
    }
    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), t_rank, i);
        T_OK(dkv_put(ctx, key, key, strlen(key) + 1));
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == victim) {
        fflush(stdout);
        raise(SIGKILL);
    }
    T_STATUS(DKV_ERR_PEER_LOST, dkv_fence(ctx));
    T_OK(dkv_fence(ctx));
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, &p));
    for (r = t_rank; r < np; r += np) { /* each survivor its own keys */
        for (i = 0; i < NKEYS; i++) {
            key_of(key, sizeof(key), r, i);
            T_OK(dkv_delete(ctx, key));
        }
    }
    if (t_rank == (victim + 1) % np) { /* and the victim's */
        for (i = 0; i < NKEYS; i++) {
            key_of(key, sizeof(key), victim, i);
            T_OK(dkv_delete(ctx, key));
        }
    }
    T_OK(dkv_fence(ctx));
    key_of(key, sizeof(key), victim, 0);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
    T_OK(dkv_load(ctx, dir));
    for (r = 0; r < np; r++) {
        for (i = 0; i < NKEYS; i++) {
            char   buf[64];
            size_t n = 0;

            key_of(key, sizeof(key), r, i);
            T_OK(dkv_get(ctx, key, buf, sizeof(buf), &n));
            T_CHECK((n == strlen(key) + 1) && (strcmp(buf, key) == 0));
        }
    }
    T_OK(dkv_fence(ctx));
    printf("PASS rank %d (drain after rank %d died, %d keys)\n", t_rank,
           victim, np * NKEYS);
    fflush(stdout);
    (void)dkv_finalize(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    int          n          = (argc > 1) ? atoi(argv[1]) : 8;
    int          late_rank  = -1, late_fence = 0, late_ms = 0;
    int          slow_fence = 0, slow_ms = 0, slow_except = -1;
    dkv_ctx_t   *ctx;
    dkv_status_t s;
    double       t0;
    int          i;

    if ((argc == 4) && (strcmp(argv[1], "drain") == 0)) {
        return mode_drain(argv[2], atoi(argv[3]));
    }
    for (i = 2; i < argc; i++) {
        if ((strcmp(argv[i], "late") == 0) && (i + 3 < argc)) {
            late_rank  = atoi(argv[i + 1]);
            late_fence = atoi(argv[i + 2]);
            late_ms    = atoi(argv[i + 3]);
            i += 3;
        } else if ((strcmp(argv[i], "slow") == 0) && (i + 3 < argc)) {
            slow_fence  = atoi(argv[i + 1]);
            slow_ms     = atoi(argv[i + 2]);
            slow_except = atoi(argv[i + 3]);
            i += 3;
        } else {
            fprintf(stderr, "usage: %s N [late R F MS] [slow F MS EXCEPT]\n",
                    argv[0]);
            return 2;
        }
    }
    ctx = t_init();
    for (i = 1; i <= n; i++) {
        if ((t_rank == late_rank) && (i == late_fence)) {
            t_sleep_ms((unsigned)late_ms);
        }
        if ((t_rank != slow_except) && (i == slow_fence)) {
            t_sleep_ms((unsigned)slow_ms);
        }
        t0 = t_now();
        s  = dkv_fence(ctx);
        printf("VERDICT rank %d fence %d %s (%.3f s)\n", t_rank, i,
               name_of(s), t_now() - t0);
        fflush(stdout);
    }
    printf("DONE rank %d\n", t_rank);
    fflush(stdout);
    /* With a dead rank the launcher's own fence in finalize fails; only
     * that it returns matters here. */
    s = dkv_finalize(ctx);
    printf("FINALIZED rank %d %s\n", t_rank, dkv_strerror(s));
    return 0;
}
