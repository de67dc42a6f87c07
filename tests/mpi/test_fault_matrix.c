/*
 * test_fault_matrix: one rank dies at one fault point (DKV_FAULT=die_at,
 * src/fault.h) and the others must not notice more than a lost peer.
 *
 *   test_fault_matrix POINT eager|rndv|- DIR
 *
 * 4 ranks, holders 0, 1, 2 (DKV_HOLDERS=ranks:0,1,2); rank 3 only a client.
 * The victim is rank 1 for a holder point, rank 3 for a client point; the
 * test's DKV_FAULT must say the same (die_at:POINT@VICTIM,die_key:x/).
 *
 * Phase 0, everyone: write the base keys b/R/I (fence: must be DKV_OK) and,
 * unless POINT is a put's, the keys x/R/I (version 1) the next phase works
 * on. Phase 1: the step of POINT's protocol on the x/ keys, by the victim
 * (client point) or by every other rank (holder point); a drain is started
 * by every rank. The victim dies in it; if it does not, it fails the test.
 * Phase 2, the survivors:
 *  - a fence; its verdict, and the next fence's, must be the same on every
 *    survivor (compared through files in DIR);
 *  - every base key reads back right (with DKV_REPLICAS=2 the dead holder's
 *    keys from their other copy; with DKV_REPLICAS=1 they fail with
 *    PEER_LOST, and so may the survivors' new writes to it);
 *  - no x/ key ever reads wrong bytes: a version that was written, or
 *    NOT_FOUND where none may be stored; an acknowledged write or delete
 *    reads back exactly;
 *  - each survivor writes new keys (acknowledged: the holders keep serving)
 *    and reads every survivor's back;
 *  - finalize returns DKV_OK or DKV_ERR_PEER_LOST; then "PASS rank R".
 * Values are eager (3000 B) or rendezvous (512 KiB) as the second argument
 * says. A drain must fail and leave no manifest. Not checked here, because
 * src/barrier.c does not give it yet (test_fence_after_death): that the
 * fence is a barrier among survivors (files in DIR are used instead), that
 * survivors whose own verdicts differ agree, and that dkv_drain_start
 * returns the same on every survivor when a holder dies inside it.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NB      6  /* base keys per rank */
#define NX      4  /* keys per rank phase 1 works on */
#define NA      4  /* keys per survivor written after the death */
#define SMALL   300
#define LARGE   (80u << 10)
#define NRANKS  4

typedef struct matrix {
    dkv_ctx_t  *ctx;
    const char *point;
    char        proto[16]; /* put, get, delete, list, drain */
    int         holder_point;
    int         lossy;    /* one copy and a holder dies: keys are lost */
    int         victim;
    size_t      xsize;    /* size of the x/ values */
    const char *dir;
    int         xset;     /* the x/ keys were written in phase 0 */
    /* phase 1, this rank's own x/ keys: written or deleted, acknowledged */
    int         wrote[NX];
    int         acked[NX];
    dkv_status_t list_status;
    size_t      listed;
    dkv_status_t drain_start, drain_wait;
} matrix_t;

static size_t base_size(int i)
{
    return (i % 2 == 0) ? SMALL : LARGE;
}

static void put_value(matrix_t *m, const char *key, size_t size,
                      uint64_t version, dkv_status_t *status_p)
{
    void        *buf = malloc(size);
    dkv_status_t s;

    T_CHECK(buf != NULL);
    t_fill(buf, size, t_seed(key, version));
    s = dkv_put(m->ctx, key, buf, size);
    free(buf);
    if (status_p != NULL) {
        *status_p = s;
    } else {
        T_OK(s);
    }
}

/* Empty the test's directory (left from an earlier run) and make d1/. */
static void clean_dir(const char *dir)
{
    char           path[1024];
    DIR           *d;
    struct dirent *e;
    int            pass;

    for (pass = 0; pass < 2; pass++) {
        snprintf(path, sizeof(path), pass ? "%s/d1" : "%s", dir);
        if ((mkdir(path, 0777) != 0) && (errno != EEXIST)) {
            t_fail(__FILE__, __LINE__, "mkdir", path);
        }
        d = opendir(path);
        T_CHECK(d != NULL);
        while ((e = readdir(d)) != NULL) {
            char f[2048];

            if ((e->d_name[0] == '.') || (strcmp(e->d_name, "d1") == 0)) {
                continue;
            }
            snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
            (void)unlink(f);
        }
        closedir(d);
    }
}

/*
 * A barrier of the test's own, through files in DIR: every rank but
 * @p except (-1: none) has written @p name. Used where the survivors must
 * wait for each other, because dkv_fence is no barrier once a member died
 * (see test_fence_after_death).
 */
static void sync_files(const matrix_t *m, const char *name, int except)
{
    char   path[1024];
    double t0 = t_now();
    FILE  *f;
    int    r;

    snprintf(path, sizeof(path), "%s/%s.%d", m->dir, name, t_rank);
    f = fopen(path, "w");
    T_CHECK((f != NULL) && (fclose(f) == 0));
    for (r = 0; r < NRANKS; r++) {
        snprintf(path, sizeof(path), "%s/%s.%d", m->dir, name, r);
        while ((r != except) && (access(path, F_OK) != 0)) {
            if (t_now() - t0 > 30) {
                t_fail(__FILE__, __LINE__, "waiting for", path);
            }
            t_sleep_ms(5);
        }
    }
}

static void phase0(matrix_t *m)
{
    char key[64];
    int  i;

    if (t_rank == 0) {
        clean_dir(m->dir);
    }
    for (i = 0; i < NB; i++) {
        snprintf(key, sizeof(key), "b/%d/%d", t_rank, i);
        put_value(m, key, base_size(i), 1, NULL);
    }
    m->xset = strcmp(m->proto, "put") != 0;
    for (i = 0; m->xset && (i < NX); i++) {
        snprintf(key, sizeof(key), "x/%d/%d", t_rank, i);
        put_value(m, key, m->xsize, 1, NULL);
    }
    T_OK(dkv_fence(m->ctx));
    /* A rank leaves a fence when the others have entered it, not left it:
     * one that went on and killed the victim would fail the fence of a rank
     * still in its last round. */
    sync_files(m, "phase0", -1);
}

static int count_key(const char *key, size_t size, void *arg)
{
    size_t *n = arg;

    (void)key;
    (void)size;
    (*n)++;
    return 0;
}

/* A get of an x/ key in phase 1: the right bytes or an error. */
static void get_x(matrix_t *m, int r, int i, void *buf)
{
    char         key[64];
    size_t       n = 0;
    dkv_status_t s;

    snprintf(key, sizeof(key), "x/%d/%d", r, i);
    s = dkv_get(m->ctx, key, buf, m->xsize, &n);
    if (s == DKV_OK) {
        T_CHECK((n == m->xsize) && t_verify(buf, n, t_seed(key, 1)));
    }
}

static void phase1(matrix_t *m)
{
    char  key[64];
    void *buf = malloc(m->xsize);
    int   r, i;

    T_CHECK(buf != NULL);
    if (strcmp(m->proto, "drain") == 0) { /* collective: everyone */
        char d1[1024];

        snprintf(d1, sizeof(d1), "%s/d1", m->dir);
        m->drain_start = dkv_drain_start(m->ctx, d1);
        m->drain_wait  = (m->drain_start == DKV_OK)
                             ? dkv_drain_wait(m->ctx, NULL)
                             : m->drain_start;
    } else if ((t_rank == m->victim) == !m->holder_point) {
        for (i = 0; i < NX; i++) {
            snprintf(key, sizeof(key), "x/%d/%d", t_rank, i);
            if (strcmp(m->proto, "put") == 0) {
                dkv_status_t s;

                put_value(m, key, m->xsize, 2, &s);
                m->wrote[i] = (s == DKV_OK);
            } else if (strcmp(m->proto, "delete") == 0) {
                m->wrote[i] = (dkv_delete(m->ctx, key) == DKV_OK);
            }
        }
        if (strcmp(m->proto, "get") == 0) {
            for (r = 0; r < NRANKS; r++) {
                for (i = 0; i < NX; i++) {
                    get_x(m, r, i, buf);
                }
            }
        } else if (strcmp(m->proto, "list") == 0) {
            m->list_status = dkv_list(m->ctx, "x/", count_key, &m->listed);
        }
    }
    free(buf);
}

/* A victim still alive after its part: the point was never reached. */
static void victim_wait(matrix_t *m)
{
    int i;

    for (i = 0; i < 300; i++) {
        t_sleep_ms(100);
    }
    fprintf(stderr, "FAIL rank %d: fault point %s not reached\n", t_rank,
            m->point);
    exit(1);
}

/* Which of my phase-1 writes did the fence's quiet list as failed. */
static void note_acks(matrix_t *m)
{
    const char  *fk;
    dkv_status_t fs;
    char         key[64];
    size_t       j;
    int          i;

    for (i = 0; i < NX; i++) {
        m->acked[i] = m->wrote[i];
    }
    for (j = 0; j < dkv_failed_count(m->ctx); j++) {
        T_OK(dkv_failed_key(m->ctx, j, &fk, &fs));
        for (i = 0; i < NX; i++) {
            snprintf(key, sizeof(key), "x/%d/%d", t_rank, i);
            m->acked[i] &= (strcmp(key, fk) != 0);
        }
    }
}

static void write_verdict(const matrix_t *m, const char *what, int value)
{
    char  path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.%d", m->dir, what, t_rank);
    f = fopen(path, "w");
    T_CHECK(f != NULL);
    fprintf(f, "%d\n", value);
    T_CHECK(fclose(f) == 0);
}

/* Every survivor's file for @p what says @p mine; returns how many. */
static int check_verdicts(const matrix_t *m, const char *what, int mine)
{
    char path[1024];
    int  r, v, n = 0;

    for (r = 0; r < NRANKS; r++) {
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.%d", m->dir, what, r);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        T_CHECK(fscanf(f, "%d", &v) == 1);
        fclose(f);
        if (v != mine) {
            fprintf(stderr, "FAIL rank %d: %s disagrees: rank %d got %s, "
                    "rank %d got %s\n", t_rank, what, t_rank,
                    dkv_strerror((dkv_status_t)mine), r,
                    dkv_strerror((dkv_status_t)v));
            exit(1);
        }
        n++;
    }
    return n;
}

/* An x/ key after the death: never wrong bytes. */
static void check_x(matrix_t *m, int r, int i, void *buf, int *found)
{
    char         key[64];
    size_t       n = 0;
    dkv_status_t s;
    int          mine = (r == t_rank) && m->acked[i];

    snprintf(key, sizeof(key), "x/%d/%d", r, i);
    s = dkv_get(m->ctx, key, buf, m->xsize, &n);
    if (s == DKV_OK) {
        int v1 = m->xset && t_verify(buf, n, t_seed(key, 1));
        int v2 = !strcmp(m->proto, "put") && t_verify(buf, n, t_seed(key, 2));

        T_CHECK(n == m->xsize);
        T_CHECK(v1 || v2);
        /* Acknowledged: the new version, or the key is gone. */
        T_CHECK(!mine || (strcmp(m->proto, "put") == 0 ? v2 : 0));
        (*found)++;
        return;
    }
    if ((s == DKV_ERR_PEER_LOST) && m->lossy) {
        return;
    }
    if (s == DKV_ERR_NOT_FOUND) {
        /* Only where no version may be stored: never written, or deleted
         * (a delete that may not have reached the victim holder too). */
        T_CHECK(!m->xset || (strcmp(m->proto, "delete") == 0));
        T_CHECK(!mine || (strcmp(m->proto, "delete") == 0));
        return;
    }
    t_fail(__FILE__, __LINE__, key, dkv_strerror(s));
}

/* A key that must read back exactly, unless it was lost with its only
 * holder (PEER_LOST, when lossy). 1 if read. */
static int read_back(const matrix_t *m, const char *key, size_t size)
{
    void        *buf = malloc(size);
    size_t       n   = 0;
    dkv_status_t s;

    T_CHECK(buf != NULL);
    s = dkv_get(m->ctx, key, buf, size, &n);
    if ((s == DKV_ERR_PEER_LOST) && m->lossy) {
        free(buf);
        return 0;
    }
    if (s != DKV_OK) {
        t_fail(__FILE__, __LINE__, key, dkv_strerror(s));
    }
    T_CHECK((n == size) && t_verify(buf, n, t_seed(key, 1)));
    free(buf);
    return 1;
}

static void check_keys(matrix_t *m)
{
    char  key[64];
    void *buf = malloc(m->xsize);
    int   r, i, found = 0, lost = 0;

    T_CHECK(buf != NULL);
    for (r = 0; r < NRANKS; r++) {
        for (i = 0; i < NB; i++) {
            snprintf(key, sizeof(key), "b/%d/%d", r, i);
            if (m->lossy) {
                lost += !read_back(m, key, base_size(i));
            } else {
                T_VALUE(m->ctx, key, base_size(i), t_seed(key, 1));
            }
        }
        for (i = 0; i < NX; i++) {
            check_x(m, r, i, buf, &found);
        }
    }
    printf("rank %d: base keys intact but %d lost, %d of %d x/ keys found\n",
           t_rank, lost, found, NRANKS * NX);
    free(buf);
}

/* The holders keep serving: new keys, acknowledged, read by everyone.
 * Returns the verdict of the fence that makes them visible. */
static int keep_working(matrix_t *m)
{
    char         key[64];
    dkv_status_t s;
    int          r, i, v, ok = 0;

    for (i = 0; i < NA; i++) {
        snprintf(key, sizeof(key), "a/%d/%d", t_rank, i);
        put_value(m, key, base_size(i + 1), 1, &s);
        if (!m->lossy || (s != DKV_ERR_PEER_LOST)) {
            T_OK(s);
        }
        ok += (s == DKV_OK);
    }
    T_OK(dkv_quiet(m->ctx));
    T_CHECK(ok > 0);
    v = dkv_fence(m->ctx);
    sync_files(m, "written", m->victim);
    for (r = 0; r < NRANKS; r++) {
        if (r == m->victim) {
            continue;
        }
        for (i = 0; i < NA; i++) {
            snprintf(key, sizeof(key), "a/%d/%d", r, i);
            if (m->lossy) {
                (void)read_back(m, key, base_size(i + 1));
            } else {
                T_VALUE(m->ctx, key, base_size(i + 1), t_seed(key, 1));
            }
        }
    }
    return v;
}

/* 1 if a load of @p dir would find a complete drain. */
static int drain_complete(const char *dir)
{
    dkv_drain_desc_t d;
    size_t n = 0;

    return (dkv_drain_info(dir, &d, 1, &n) == DKV_OK) && (n > 0) && d.complete;
}

/* Phase 1's own outcome, the same on every survivor where it must be. */
static void check_phase1(matrix_t *m)
{
    char path[1024];

    if ((strcmp(m->proto, "list") == 0) && m->holder_point && m->lossy) {
        /* The only copy of some keys is lost: the rest are listed. */
        T_STATUS(DKV_ERR_PEER_LOST, m->list_status);
        T_CHECK((m->listed > 0) && (m->listed < NRANKS * NX));
    } else if ((strcmp(m->proto, "list") == 0) && m->holder_point) {
        /* One holder lost, two copies: every key is still listed. */
        T_OK(m->list_status);
        T_CHECK(m->listed == NRANKS * NX);
    }
    if (strcmp(m->proto, "drain") == 0) {
        printf("rank %d: drain start %s, wait %s\n", t_rank,
               dkv_strerror(m->drain_start), dkv_strerror(m->drain_wait));
        T_CHECK(m->drain_wait != DKV_OK); /* a holder died in it */
        snprintf(path, sizeof(path), "%s/d1", m->dir);
        T_CHECK(!drain_complete(path)); /* never taken for complete */
    }
}

static void phase2(matrix_t *m)
{
    int v1, v2, n;

    v1 = dkv_fence(m->ctx);
    note_acks(m);
    write_verdict(m, "verdict1", v1);
    check_phase1(m);
    v2 = dkv_fence(m->ctx);
    sync_files(m, "checked1", m->victim); /* every verdict1 file exists */
    n  = check_verdicts(m, "verdict1", v1);
    write_verdict(m, "verdict2", v2);
    check_keys(m);
    (void)keep_working(m); /* every verdict2 file exists after it */
    (void)check_verdicts(m, "verdict2", v2);
    printf("rank %d: %d survivors agree: fence %s, then %s\n", t_rank, n,
           dkv_strerror((dkv_status_t)v1), dkv_strerror((dkv_status_t)v2));
}

int main(int argc, char **argv)
{
    matrix_t     m;
    const char  *dot;
    dkv_status_t s;
    double       t0 = t_now();

    memset(&m, 0, sizeof(m));
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: %s POINT eager|rndv|- DIR\n",
                argv[0]);
        return 2;
    }
    m.point        = argv[1];
    m.xsize        = ((strcmp(argv[2], "rndv") == 0) ||
                      (strcmp(argv[2], "local") == 0)) ? (512u << 10) : 3000;
    m.dir          = argv[3];
    dot            = strchr(m.point, '.');
    m.holder_point = (dot != NULL) && (strncmp(dot, ".holder.", 8) == 0);
    m.lossy        = m.holder_point && (getenv("DKV_REPLICAS") != NULL) &&
              (strcmp(getenv("DKV_REPLICAS"), "1") == 0);
    m.victim       = m.holder_point ? 1 : 3;
    snprintf(m.proto, sizeof(m.proto), "%.*s",
             (int)((dot != NULL) ? (size_t)(dot - m.point) : 0), m.point);
    m.ctx = t_init();
    T_CHECK(dkv_size(m.ctx) == NRANKS);
    phase0(&m);
    phase1(&m);
    if (t_rank == m.victim) {
        victim_wait(&m);
    }
    phase2(&m);
    s = dkv_finalize(m.ctx);
    T_CHECK((s == DKV_OK) || (s == DKV_ERR_PEER_LOST));
    printf("PASS rank %d (%.1f s)\n", t_rank, t_now() - t0);
    return 0;
}
