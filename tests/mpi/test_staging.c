/*
 * test_staging: dkv_list, dkv_drain_* and dkv_load between processes.
 *
 *   list        every key with a prefix visited once, across all holders
 *               and copies, sorted, with its size; early stop; dramkv calls
 *               from the callback; bad arguments.
 *   drain DIR   stage a data set (version 1), drain it while overwriting,
 *               deleting and adding keys right after dkv_drain_start: the
 *               drain holds version 1 exactly; dkv_load in the same job
 *               brings version 1 back.
 *   load DIR    a new job (any number of ranks and holders) loads DIR and
 *               reads back version 1 of every key, byte for byte.
 *   bad DIR S   dkv_load(DIR) must fail with status S (by name) on every
 *               rank, name a file in dkv_error_detail(), and store nothing.
 *   nospace DIR a load that does not fit fails with DKV_ERR_NO_SPACE and
 *               leaves the keys stored before it, and none of its own.
 *   lostdir DIR the drain directory vanishes after dkv_drain_start:
 *               dkv_finalize returns the drain's error.
 *   deadholder DIR  5 ranks, dedicated holders 2-4, two copies: holder 4
 *               dies, the drain still holds every key (run_deadholder);
 *   load2 DIR   a new job loads it and finds every key.
 *   nopoll DIR V   stage version V, start a drain and never poll: sleep
 *               until the holders have committed it (the manifest names a
 *               new drain), then SIGKILL itself ("COMMITTED rank N").
 *   loadv DIR V a new job loads DIR and finds version V, byte for byte.
 *   slowsync DIR V  stage version V and drain it; with fsync slowed past
 *               DKV_TIMEOUT_MS (shim_fsync_slow) dkv_drain_wait completes.
 * Every rank prints "PASS rank N".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NKEYS 40 /* per writer rank */
#define NWRITERS 3 /* the drain job's ranks */

typedef struct seen {
    int    count;
    int    bad;
    char   last[DKV_KEY_MAX + 1];
    int    stop_after;
    dkv_ctx_t *ctx;
} seen_t;

static size_t size_of(int w, int i)
{
    static const size_t sizes[] = {0, 7, 1000, 33000, 200000, 64};

    return sizes[(w + i) % 6];
}

static void name(char *key, size_t len, int w, int i)
{
    snprintf(key, len, "ck/%d/%03d", w, i);
}

static int on_key(const char *key, size_t size, void *arg)
{
    seen_t *s = arg;
    int     w, i;

    if ((s->count > 0) && (strcmp(s->last, key) >= 0)) {
        s->bad++; /* not ascending, or listed twice */
    }
    snprintf(s->last, sizeof(s->last), "%s", key);
    if ((sscanf(key, "ck/%d/%d", &w, &i) == 2) && (size != size_of(w, i))) {
        s->bad++;
    }
    if (s->ctx != NULL) { /* the callback may call dramkv */
        void  *v;
        size_t n;

        if ((dkv_get_alloc(s->ctx, key, &v, &n) != DKV_OK) || (n != size)) {
            s->bad++;
        } else {
            free(v);
        }
    }
    s->count++;
    return (s->stop_after > 0) && (s->count >= s->stop_after);
}

static int count(dkv_ctx_t *ctx, const char *prefix, dkv_ctx_t *getter)
{
    seen_t s = {.ctx = getter};

    T_OK(dkv_list(ctx, prefix, on_key, &s));
    T_CHECK(s.bad == 0);
    return s.count;
}

static void put_set(dkv_ctx_t *ctx, int writer, uint64_t version, char *buf)
{
    char key[64];
    int  i;

    for (i = 0; i < NKEYS; i++) {
        name(key, sizeof(key), writer, i);
        t_fill(buf, size_of(writer, i), t_seed(key, version));
        T_OK(dkv_put(ctx, key, buf, size_of(writer, i)));
    }
}

static void check_set(dkv_ctx_t *ctx, int writer, uint64_t version)
{
    char key[64];
    int  i;

    for (i = 0; i < NKEYS; i++) {
        name(key, sizeof(key), writer, i);
        T_VALUE(ctx, key, size_of(writer, i), t_seed(key, version));
    }
}

static void run_list(dkv_ctx_t *ctx, char *buf)
{
    char   longp[DKV_KEY_MAX + 2];
    seen_t s = {.stop_after = 5};
    int    n = dkv_size(ctx), i;

    put_set(ctx, t_rank, 1, buf);
    T_OK(dkv_put(ctx, "other", "x", 1));
    T_OK(dkv_fence(ctx));
    T_CHECK(count(ctx, "ck/", NULL) == n * NKEYS);
    /* Regression: requests to several holders at once were released twice
     * when one completed while another was waited for; listings then lost
     * keys now and then. */
    for (i = 0; i < 300; i++) {
        T_CHECK(count(ctx, "ck/", NULL) == n * NKEYS);
    }
    T_CHECK(count(ctx, "ck/1/", ctx) == NKEYS);
    T_CHECK(count(ctx, "", NULL) == n * NKEYS + 1);
    T_CHECK(count(ctx, NULL, NULL) == n * NKEYS + 1);
    T_CHECK(count(ctx, "nothing/", NULL) == 0);
    T_OK(dkv_list(ctx, "ck/", on_key, &s));
    T_CHECK(s.count == 5);
    memset(longp, 'p', sizeof(longp));
    longp[DKV_KEY_MAX] = '\0';
    T_CHECK(count(ctx, longp, NULL) == 0);
    longp[DKV_KEY_MAX] = 'p';
    longp[DKV_KEY_MAX + 1] = '\0';
    T_STATUS(DKV_ERR_INVALID, dkv_list(ctx, longp, on_key, &s));
    T_STATUS(DKV_ERR_INVALID, dkv_list(ctx, "ck/", NULL, NULL));
    T_OK(dkv_fence(ctx));
    /* Deleted keys leave the listing. */
    if (t_rank == 0) {
        T_OK(dkv_delete(ctx, "other"));
    }
    T_OK(dkv_fence(ctx));
    T_CHECK(count(ctx, "", NULL) == n * NKEYS);
}

static void run_drain(dkv_ctx_t *ctx, const char *dir, char *buf)
{
    dkv_drain_progress_t p;
    char                 key[64], again[4096];
    dkv_status_t         s;
    int                  i, w;

    T_CHECK(dkv_size(ctx) == NWRITERS);
    put_set(ctx, t_rank, 1, buf);
    T_OK(dkv_drain_start(ctx, dir));
    /* Right after the start, on every rank: none of this may leak in. */
    put_set(ctx, t_rank, 2, buf);
    name(key, sizeof(key), t_rank, 3);
    T_OK(dkv_delete(ctx, key));
    snprintf(key, sizeof(key), "late/%d", t_rank);
    T_OK(dkv_put(ctx, key, "late", 4));
    for (;;) {
        s = dkv_drain_test(ctx, &p);
        T_OK(s);
        T_CHECK(p.bytes_written <= p.bytes_total);
        if (p.done) {
            break;
        }
        t_sleep_ms(1);
    }
    T_OK(dkv_drain_wait(ctx, &p));
    T_CHECK(p.done == 1);
    printf("rank %d drained %llu of %llu keys, %llu of %llu bytes\n", t_rank,
           (unsigned long long)p.keys_written, (unsigned long long)p.keys_total,
           (unsigned long long)p.bytes_written,
           (unsigned long long)p.bytes_total);
    T_CHECK(p.keys_total == NWRITERS * NKEYS);
    T_CHECK(p.keys_written == p.keys_total);
    T_CHECK(p.bytes_written == p.bytes_total);
    T_OK(dkv_fence(ctx));
    /* Regression (double release, see run_list): drains polled hard, into
     * another directory (this one keeps version 1 for the loads). */
    snprintf(again, sizeof(again), "%s.again", dir);
    (void)mkdir(again, 0755);
    for (i = 0; i < 10; i++) {
        T_OK(dkv_drain_start(ctx, again));
        do {
            T_OK(dkv_drain_test(ctx, &p));
        } while (!p.done);
        T_CHECK(p.keys_total == NWRITERS * NKEYS);
    }
    /* Loading in the same job brings version 1 back. */
    T_OK(dkv_load(ctx, dir));
    for (w = 0; w < NWRITERS; w++) {
        check_set(ctx, w, 1);
    }
    for (i = 0; i < NWRITERS; i++) { /* keys made after the drain stay */
        snprintf(key, sizeof(key), "late/%d", i);
        T_CHECK(count(ctx, key, NULL) == 1);
    }
    T_STATUS(DKV_ERR_INVALID, dkv_drain_start(ctx, NULL));
    T_STATUS(DKV_ERR_INVALID, dkv_load(ctx, ""));
}

static void run_load(dkv_ctx_t *ctx, const char *dir)
{
    int w;

    T_CHECK(count(ctx, "", NULL) == 0);
    T_OK(dkv_load(ctx, dir));
    T_CHECK(count(ctx, "ck/", NULL) == NWRITERS * NKEYS);
    for (w = 0; w < NWRITERS; w++) {
        if (w % dkv_size(ctx) == t_rank) {
            check_set(ctx, w, 1);
        }
    }
    T_OK(dkv_fence(ctx));
}

static void run_bad(dkv_ctx_t *ctx, const char *dir, const char *expect)
{
    dkv_status_t s = dkv_load(ctx, dir);

    printf("rank %d load: %s: %s\n", t_rank, dkv_strerror(s),
           dkv_error_detail(ctx));
    T_CHECK(strcmp(expect, "NOT_FOUND") != 0 || s == DKV_ERR_NOT_FOUND);
    T_CHECK(strcmp(expect, "CORRUPT") != 0 || s == DKV_ERR_CORRUPT);
    T_CHECK(strstr(dkv_error_detail(ctx), dir) != NULL);
    T_CHECK(count(ctx, "", NULL) == 0); /* nothing partial */
    T_OK(dkv_fence(ctx));
}

/* Regression: a load that fails while storing (holder full) removes what
 * it stored, and nothing else - keys that were there before stay. */
static void run_nospace(dkv_ctx_t *ctx, const char *dir)
{
    char   key[64], v[64];
    size_t n;
    int    i;

    for (i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "keep/%d/%d", t_rank, i);
        T_OK(dkv_put(ctx, key, key, strlen(key) + 1));
    }
    T_OK(dkv_fence(ctx));
    T_STATUS(DKV_ERR_NO_SPACE, dkv_load(ctx, dir));
    printf("rank %d load: %s\n", t_rank, dkv_error_detail(ctx));
    T_OK(dkv_fence(ctx));
    T_CHECK(count(ctx, "ck/", NULL) == 0);
    for (i = 0; i < 8; i++) {
        snprintf(key, sizeof(key), "keep/%d/%d", t_rank, i);
        T_OK(dkv_get(ctx, key, v, sizeof(v), &n));
        T_CHECK(strcmp(v, key) == 0);
    }
}

/* Regression: dkv_finalize reports a drain that failed in the background
 * (its directory removed after the start). Every rank waits for the drain
 * in finalize and gets its error. */
static int run_lostdir(dkv_ctx_t *ctx, const char *dir, char *buf)
{
    char         cmd[4200];
    dkv_status_t s;

    put_set(ctx, t_rank, 1, buf);
    T_OK(dkv_drain_start(ctx, dir));
    if (t_rank == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        T_CHECK(system(cmd) == 0);
    }
    s = dkv_finalize(ctx);
    printf("rank %d finalize: %s\n", t_rank, dkv_strerror(s));
    T_CHECK(s != DKV_OK);
    return 0;
}

/*
 * A dedicated holder lost, then a drain: 5 ranks, ranks 2-4 dedicated
 * holders, two copies. Rank 4 dies after the data is staged; the compute
 * ranks read everything back (which finds the loss), then drain what the
 * survivors hold: every key once, in one file per live holder.
 */
static int run_deadholder(dkv_ctx_t *ctx, const char *dir, char *buf)
{
    char                 flag[4200];
    dkv_drain_progress_t p;
    int                  i;

    snprintf(flag, sizeof(flag), "%s.kill", dir);
    if (dkv_is_dedicated(ctx)) {
        if (t_rank == 4) {
            for (i = 0; (i < 3000) && (access(flag, F_OK) != 0); i++) {
                t_sleep_ms(10);
            }
            raise(SIGKILL);
        }
        dkv_status_t served = dkv_serve(ctx);

        (void)served; /* PEER_LOST: the other holder died */
        (void)dkv_finalize(ctx);
        return 0;
    }
    put_set(ctx, t_rank, 1, buf);
    T_OK(dkv_fence(ctx));
    if (t_rank == 0) {
        FILE *f = fopen(flag, "w");

        T_CHECK(f != NULL);
        fclose(f);
    }
    t_sleep_ms(300);
    for (i = 0; i < 2; i++) {
        check_set(ctx, i, 1); /* from the surviving copies */
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, &p));
    printf("rank %d drained %llu keys with a holder lost\n", t_rank,
           (unsigned long long)p.keys_total);
    T_CHECK(p.keys_total == 2 * NKEYS);
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    (void)dkv_finalize(ctx);
    return 0;
}

/* The id of the drain a load of @p dir takes ("" if none) into @p id. */
static void manifest_id(const char *dir, char *id, size_t len)
{
    dkv_drain_desc_t d;
    size_t n = 0;

    id[0] = '\0';
    if ((dkv_drain_info(dir, &d, 1, &n) == DKV_OK) && (n > 0) && d.newest) {
        snprintf(id, len, "%016llx", (unsigned long long)d.id);
    }
}

/* Never polls: the holders must commit on their own. */
static void run_nopoll(dkv_ctx_t *ctx, const char *dir, uint64_t v,
                       char *buf)
{
    char before[64], now[64];
    int  ms;

    put_set(ctx, t_rank, v, buf);
    manifest_id(dir, before, sizeof(before));
    T_OK(dkv_drain_start(ctx, dir));
    for (ms = 0; ms < 60000; ms += 10) { /* "compute" */
        manifest_id(dir, now, sizeof(now));
        if ((now[0] != '\0') && (strcmp(now, before) != 0)) {
            printf("COMMITTED rank %d after %d ms\n", t_rank, ms);
            fflush(stdout);
            raise(SIGKILL);
        }
        t_sleep_ms(10);
    }
    printf("FAIL rank %d: no commit without polling\n", t_rank);
    fflush(stdout);
    raise(SIGKILL);
}

static void run_slowsync(dkv_ctx_t *ctx, const char *dir, uint64_t v,
                         char *buf)
{
    dkv_drain_progress_t p;
    double               t0 = t_now();

    put_set(ctx, t_rank, v, buf);
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, &p));
    T_CHECK(p.done == 1);
    T_CHECK(p.keys_written == p.keys_total);
    printf("rank %d drain committed after %.1f s\n", t_rank, t_now() - t0);
}

static void run_loadv(dkv_ctx_t *ctx, const char *dir, uint64_t v)
{
    int w;

    T_OK(dkv_load(ctx, dir));
    T_CHECK(count(ctx, "ck/", NULL) == NWRITERS * NKEYS);
    for (w = 0; w < NWRITERS; w++) {
        if (w % dkv_size(ctx) == t_rank) {
            check_set(ctx, w, v);
        }
    }
    T_OK(dkv_fence(ctx));
}

int main(int argc, char **argv)
{
    const char *mode = (argc > 1) ? argv[1] : "list";
    const char *dir  = (argc > 2) ? argv[2] : "";
    char       *buf  = malloc(1 << 20);
    dkv_ctx_t  *ctx  = t_init();

    T_CHECK(buf != NULL);
    if (strcmp(mode, "list") == 0) {
        run_list(ctx, buf);
    } else if (strcmp(mode, "drain") == 0) {
        run_drain(ctx, dir, buf);
    } else if (strcmp(mode, "load") == 0) {
        run_load(ctx, dir);
    } else if (strcmp(mode, "nospace") == 0) {
        run_nospace(ctx, dir);
    } else if (strcmp(mode, "deadholder") == 0) {
        run_deadholder(ctx, dir, buf);
        free(buf);
        return 0;
    } else if (strcmp(mode, "nopoll") == 0) {
        run_nopoll(ctx, dir, strtoull(argv[3], NULL, 10), buf);
    } else if (strcmp(mode, "slowsync") == 0) {
        run_slowsync(ctx, dir, strtoull(argv[3], NULL, 10), buf);
    } else if (strcmp(mode, "loadv") == 0) {
        run_loadv(ctx, dir, strtoull(argv[3], NULL, 10));
    } else if (strcmp(mode, "load2") == 0) {
        T_OK(dkv_load(ctx, dir));
        T_CHECK(count(ctx, "ck/", NULL) == 2 * NKEYS);
        check_set(ctx, 0, 1);
        check_set(ctx, 1, 1);
    } else if (strcmp(mode, "lostdir") == 0) {
        run_lostdir(ctx, dir, buf);
        printf("PASS rank %d\n", t_rank);
        free(buf);
        return 0;
    } else {
        run_bad(ctx, dir, (argc > 3) ? argv[3] : "");
    }
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    free(buf);
    return 0;
}
