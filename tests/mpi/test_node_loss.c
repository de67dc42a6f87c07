/*
 * test_node_loss: with DKV_REPLICAS=2 and holders on every rank, losing a
 * whole node mid-run loses no acknowledged key.
 *
 * Phase 1: every rank writes NKEYS keys; fence. Phase 2: every rank writes
 * batches of BATCH keys, each followed by dkv_quiet; a batch counts as
 * acknowledged for the keys dkv_quiet did not list as failed. The victims -
 * every rank on the node of the last rank ("node"), or only the last rank
 * ("rank") - SIGKILL themselves right after their VICTIM_BATCHES-th
 * acknowledged batch, while the others are still writing; each first
 * leaves the time in DIR/death.<rank>. The survivors write on (writes keep
 * working: two live holders suffice for two copies) and read a phase-1 key
 * after every batch - for BATCHES batches, and at least AFTER seconds
 * after the death - then read back every key of phase 1 (the victims'
 * included) and every key of their own that was acknowledged, byte for
 * byte, and create DIR/pass.<rank>.
 *
 * "silent": the victims are those of "node", but they do not kill
 * themselves: after VICTIM_BATCHES they leave DIR/death.<rank> and sleep,
 * and the caller takes their node away from outside (slurm/local-cluster
 * lose: link down, then SIGKILL), so the survivors see silence, as after a
 * power failure, instead of closed connections.
 *
 * argv: node|rank|silent DIR [AFTER]. Run with the job surviving dead ranks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NKEYS          64
#define BATCH          16
#define BATCHES        60
#define MAX_BATCHES    3000 /* with AFTER: about 40 s of writing */
#define VICTIM_BATCHES 5
#define VALUE          3000

static unsigned char acked[MAX_BATCHES][BATCH]; /* my phase-2 keys */
static int           nbatches;                  /* batches written */

static void key1(char *k, size_t n, int r, int i)
{
    snprintf(k, n, "p1/%d/%d", r, i);
}

static void key2(char *k, size_t n, int r, int b, int i)
{
    snprintf(k, n, "p2/%d/%d/%d", r, b, i);
}

/* Am I a victim? The victims' node is the last rank's, by host name. */
static int is_victim(dkv_ctx_t *ctx, const char *mode)
{
    char   mine[256] = "", last[256] = "";
    size_t n;

    if (strcmp(mode, "rank") == 0) {
        return t_rank == dkv_size(ctx) - 1;
    }
    gethostname(mine, sizeof(mine) - 1);
    if (t_rank == dkv_size(ctx) - 1) {
        T_OK(dkv_put(ctx, "victim-host", mine, strlen(mine) + 1));
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_get(ctx, "victim-host", last, sizeof(last), &n));
    return strcmp(mine, last) == 0;
}

static void batch(dkv_ctx_t *ctx, int b, char *buf)
{
    const char  *fk;
    dkv_status_t fs, s;
    char         key[64];
    size_t       i, j;

    for (i = 0; i < BATCH; i++) {
        key2(key, sizeof(key), t_rank, b, (int)i);
        t_fill(buf, VALUE, t_seed(key, 1));
        s = dkv_put(ctx, key, buf, VALUE);
        acked[b][i] = (s == DKV_OK);
    }
    s = dkv_quiet(ctx);
    for (j = 0; j < dkv_failed_count(ctx); j++) {
        T_OK(dkv_failed_key(ctx, j, &fk, &fs));
        for (i = 0; i < BATCH; i++) {
            key2(key, sizeof(key), t_rank, b, (int)i);
            acked[b][i] &= (strcmp(key, fk) != 0);
        }
    }
    (void)s; /* the failed keys are listed; a victim may see its node
                mate die first */
}

static double wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A victim says when it dies (the nodes share the clock and /tmp). */
static void say_death(const char *dir)
{
    char  path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/death.%d", dir, t_rank);
    f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%.6f\n", wall());
        fclose(f);
    }
}

/* The first victim's death time, 0 if none died yet. */
static double death_time(const char *dir, int size)
{
    char   path[512];
    double t, first = 0;
    FILE  *f;
    int    r;

    for (r = 0; r < size; r++) {
        snprintf(path, sizeof(path), "%s/death.%d", dir, r);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        if ((fscanf(f, "%lf", &t) == 1) && ((first == 0) || (t < first))) {
            first = t;
        }
        fclose(f);
    }
    return first;
}

/* A survivor after batch @p b: 1 when it has written long enough. */
static int enough(dkv_ctx_t *ctx, const char *dir, double after, int b,
                  double t0, double *death)
{
    if (b + 1 < BATCHES) {
        return 0;
    }
    if (after <= 0) {
        return 1;
    }
    if (*death == 0) {
        *death = death_time(dir, dkv_size(ctx));
        T_CHECK((*death > 0) || (wall() - t0 < 60)); /* no victim died */
    }
    T_CHECK(b + 1 < MAX_BATCHES);
    return (*death > 0) && (wall() - *death >= after);
}

static int check_all(dkv_ctx_t *ctx)
{
    char key[64];
    int  r, b, i, n = 0;

    for (r = 0; r < dkv_size(ctx); r++) {
        for (i = 0; i < NKEYS; i++) {
            key1(key, sizeof(key), r, i);
            T_VALUE(ctx, key, VALUE, t_seed(key, 1));
            n++;
        }
    }
    for (b = 0; b < nbatches; b++) {
        for (i = 0; i < BATCH; i++) {
            if (acked[b][i]) {
                key2(key, sizeof(key), t_rank, b, i);
                T_VALUE(ctx, key, VALUE, t_seed(key, 1));
                n++;
            }
        }
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *mode = (argc > 1) ? argv[1] : "rank";
    const char *dir  = (argc > 2) ? argv[2] : "/tmp";
    double      after = (argc > 3) ? atof(argv[3]) : 0;
    char        key[64], path[512];
    char       *buf = malloc(VALUE);
    dkv_ctx_t  *ctx = t_init();
    double      t0, death = 0;
    int         victim, i, b, n, lost = 0;
    FILE       *f;

    T_CHECK(buf != NULL);
    T_CHECK(dkv_num_holders(ctx) == dkv_size(ctx));
    for (i = 0; i < NKEYS; i++) {
        key1(key, sizeof(key), t_rank, i);
        t_fill(buf, VALUE, t_seed(key, 1));
        T_OK(dkv_put(ctx, key, buf, VALUE));
    }
    victim = is_victim(ctx, mode);
    T_OK(dkv_fence(ctx));
    t0 = wall();
    for (b = 0; b < MAX_BATCHES; b++) {
        batch(ctx, b, buf);
        if (victim && (b + 1 == VICTIM_BATCHES)) {
            printf("rank %d: victim dies after %d batches\n", t_rank, b + 1);
            fflush(stdout);
            say_death(dir);
            while (strcmp(mode, "silent") == 0) {
                pause(); /* until the node is taken away */
            }
            raise(SIGKILL);
        }
        if (!victim && (b >= VICTIM_BATCHES)) {
            for (i = 0; i < BATCH; i++) {
                lost += !acked[b][i];
            }
            /* The victims' phase-1 keys, from their other copy. */
            key1(key, sizeof(key), dkv_size(ctx) - 1, b % NKEYS);
            T_VALUE(ctx, key, VALUE, t_seed(key, 1));
            usleep(10000);
            if (enough(ctx, dir, after, b, t0, &death)) {
                break;
            }
        }
    }
    nbatches = b + 1;
    n        = check_all(ctx);
    printf("rank %d: %d acknowledged keys intact (%d writes refused)\n",
           t_rank, n, lost);
    if (after > 0) {
        printf("rank %d: wrote %d batches, %.1f s after the death\n",
               t_rank, nbatches, wall() - death);
    }
    snprintf(path, sizeof(path), "%s/pass.%d", dir, t_rank);
    f = fopen(path, "w");
    if (f != NULL) {
        fclose(f);
    }
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
    (void)dkv_finalize(ctx);
    free(buf);
    return 0;
}
