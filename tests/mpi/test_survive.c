/*
 * test_survive: a holder is killed from outside mid-run; the others go on
 * working for as long as the driver wants, then finish cleanly (issue 10).
 *
 *   test_survive DIR        (driver: tests/slurm/check_survive.sh)
 *
 * Every rank holds (DKV_HOLDERS=all), one copy of every key. Each rank
 * writes its pid to DIR/pid.R, its base keys s/R/I (some rendezvous-sized),
 * fences, says DIR/ready.R and loops: put one of its 16 loop keys, get 8
 * keys (base keys of every rank, its own loop keys), fence. The driver
 * SIGKILLs the last rank (a holder) and writes the time to DIR/death,
 * later it creates DIR/stop. Rank 0 then names the last iteration in
 * DIR/end (a few ahead: the survivors stay within one fence of each
 * other), and every survivor stops there. Checked all along:
 *  - no get ever returns wrong bytes: a base key its one version, a loop
 *    value its own version's bytes (the version travels in the value);
 *  - before the death every call succeeds; after it only PEER_LOST may
 *    fail a call, and a base key that failed once fails every time (its
 *    only holder is dead);
 *  - survivors run at least 10 s after the death and print how long,
 *    then finalize (DKV_OK or DKV_ERR_PEER_LOST) and print PASS.
 * With DKV_SURVIVE_MPI defined (test_survive_mpi.c) the program calls
 * MPI_Init first and MPI_Finalize last: what an MPI code does when a rank
 * dies under its launcher.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef DKV_SURVIVE_MPI
#include <mpi.h>
#endif

#include "mpi_test_util.h"

#define NBASE  24
#define NLOOP  16
#define NGETS  8
#define LOOPSZ 2000
#define MAXR   64

typedef struct survive {
    dkv_ctx_t   *ctx;
    const char  *dir;
    int          size;
    int          victim;
    double       death;        /* wall clock of the kill, 0 before */
    uint8_t      lost[MAXR][NBASE]; /* a get of it failed */
    uint64_t     iter;
    uint64_t     gets_ok, gets_lost, puts_lost, fences_lost;
} survive_t;

static double wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t base_size(int i)
{
    return (i % 6 == 5) ? (256u << 10) : 4096;
}

static int file_exists(const survive_t *s, const char *name)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    return access(path, F_OK) == 0;
}

static void write_file(const survive_t *s, const char *name, const char *fmt,
                       unsigned long long v)
{
    char  path[1024], tmp[1100];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    T_CHECK(f != NULL);
    fprintf(f, fmt, v);
    T_CHECK((fclose(f) == 0) && (rename(tmp, path) == 0));
}

static int read_file(const survive_t *s, const char *name, double *v)
{
    char  path[1024];
    FILE *f;
    int   ok;

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    ok = fscanf(f, "%lf", v) == 1;
    fclose(f);
    return ok;
}

/* A status after the death: only PEER_LOST may fail a call. */
static int allowed(survive_t *s, dkv_status_t st)
{
    if (st == DKV_OK) {
        return 1;
    }
    /* The driver writes DIR/death before it kills. */
    if ((s->death == 0) && !read_file(s, "death", &s->death)) {
        t_fail(__FILE__, __LINE__, "a call failed before the death",
               dkv_strerror(st));
    }
    if (st != DKV_ERR_PEER_LOST) {
        t_fail(__FILE__, __LINE__, "a call failed after the death",
               dkv_strerror(st));
    }
    return 0;
}

static void get_base(survive_t *s, int r, int i, void *buf)
{
    char         key[64];
    size_t       n = 0;
    dkv_status_t st;
    int          ok;

    snprintf(key, sizeof(key), "s/%d/%d", r, i);
    st = dkv_get(s->ctx, key, buf, base_size(i), &n);
    ok = allowed(s, st);
    if (ok) {
        T_CHECK((n == base_size(i)) && t_verify(buf, n, t_seed(key, 1)));
        s->gets_ok++;
    } else {
        s->gets_lost++;
    }
    /* Lost once, lost for good: its only holder is dead. (Served just as
     * the holder was killed is fine.) */
    T_CHECK(!ok || !s->lost[r][i]);
    s->lost[r][i] |= !ok;
}

/* A loop value: its version in the first 8 bytes, then that version's
 * bytes. */
static void fill_loop(void *buf, const char *key, uint64_t version)
{
    memcpy(buf, &version, sizeof(version));
    t_fill((char *)buf + 8, LOOPSZ - 8, t_seed(key, version));
}

static void get_loop(survive_t *s, int k, void *buf)
{
    char         key[64];
    size_t       n = 0;
    uint64_t     v;
    dkv_status_t st;

    snprintf(key, sizeof(key), "l/%d/%d", t_rank, k);
    st = dkv_get(s->ctx, key, buf, LOOPSZ, &n);
    if (st == DKV_ERR_NOT_FOUND) {
        return; /* never stored: its puts all went to the dead holder */
    }
    if (!allowed(s, st)) {
        s->gets_lost++;
        return;
    }
    memcpy(&v, buf, sizeof(v));
    T_CHECK((n == LOOPSZ) && (v <= s->iter) && (v % NLOOP == (uint64_t)k));
    T_CHECK(t_verify((char *)buf + 8, LOOPSZ - 8, t_seed(key, v)));
    s->gets_ok++;
}

static void iteration(survive_t *s, void *buf)
{
    char         key[64];
    int          k = (int)(s->iter % NLOOP), j;
    dkv_status_t st;

    snprintf(key, sizeof(key), "l/%d/%d", t_rank, k);
    fill_loop(buf, key, s->iter);
    st = dkv_put(s->ctx, key, buf, LOOPSZ);
    s->puts_lost += !allowed(s, st);
    for (j = 0; j < NGETS; j++) {
        uint64_t x = s->iter * 7919u + (uint64_t)j * 104729u +
                     (uint64_t)t_rank;

        if (j % 4 == 3) {
            get_loop(s, (int)(x % NLOOP), buf);
        } else {
            get_base(s, (int)(x % (uint64_t)s->size), (int)(x / 7 % NBASE),
                     buf);
        }
    }
    st = dkv_fence(s->ctx);
    s->fences_lost += !allowed(s, st);
}

static void setup(survive_t *s)
{
    char  key[64];
    void *buf = malloc(base_size(5));
    int   i;

    T_CHECK(buf != NULL);
    snprintf(key, sizeof(key), "pid.%d", t_rank);
    write_file(s, key, "%llu\n", (unsigned long long)getpid());
    for (i = 0; i < NBASE; i++) {
        snprintf(key, sizeof(key), "s/%d/%d", t_rank, i);
        t_fill(buf, base_size(i), t_seed(key, 1));
        T_OK(dkv_put(s->ctx, key, buf, base_size(i)));
    }
    T_OK(dkv_fence(s->ctx));
    free(buf);
    snprintf(key, sizeof(key), "ready.%d", t_rank);
    write_file(s, key, "%llu\n", 1);
}

int main(int argc, char **argv)
{
    survive_t    s;
    double       end = 0, t0, stop;
    void        *buf = malloc(base_size(5));
    dkv_status_t st;

#ifdef DKV_SURVIVE_MPI
    MPI_Init(&argc, &argv);
#endif
    memset(&s, 0, sizeof(s));
    setvbuf(stdout, NULL, _IOLBF, 0);
    T_CHECK((argc > 1) && (buf != NULL));
    s.dir    = argv[1];
    s.ctx    = t_init();
    s.size   = dkv_size(s.ctx);
    s.victim = s.size - 1;
    T_CHECK((s.size >= 2) && (s.size <= MAXR));
    setup(&s);
    t0 = wall();
    for (s.iter = 1; (end == 0) || (s.iter <= (uint64_t)end); s.iter++) {
        iteration(&s, buf);
        if ((s.death == 0) && read_file(&s, "death", &s.death)) {
            printf("rank %d: death seen at iteration %llu\n", t_rank,
                   (unsigned long long)s.iter);
        }
        if ((t_rank == 0) && (end == 0) && file_exists(&s, "stop")) {
            write_file(&s, "end", "%llu\n", s.iter + 3);
        }
        if (end == 0) {
            (void)read_file(&s, "end", &end);
        }
        if ((t_rank == s.victim) && (wall() - t0 > 120)) {
            t_fail(__FILE__, __LINE__, "victim", "never killed");
        }
    }
    stop = wall();
    T_CHECK(t_rank != s.victim);
    T_CHECK(s.death > 0);
    printf("rank %d: ran %.1f s after the death: %llu iterations, gets %llu "
           "ok / %llu lost, puts lost %llu, fences lost %llu\n",
           t_rank, stop - s.death, (unsigned long long)s.iter - 1,
           (unsigned long long)s.gets_ok, (unsigned long long)s.gets_lost,
           (unsigned long long)s.puts_lost,
           (unsigned long long)s.fences_lost);
    T_CHECK(stop - s.death >= 10.0);
    T_CHECK(s.gets_lost > 0); /* the dead holder's keys did fail */
    st = dkv_finalize(s.ctx);
    T_CHECK((st == DKV_OK) || (st == DKV_ERR_PEER_LOST));
    free(buf);
#ifdef DKV_SURVIVE_MPI
    MPI_Finalize();
#endif
    printf("PASS rank %d\n", t_rank);
    return 0;
}
