/*
 * dkv_perf: dramkv's own figures, two ranks or more under dkvrun.
 * Rank 0 is the client; the holder is the last rank (DKV_HOLDERS=last:1 is
 * set by tests/perf/run; any spec works). Every figure is the median of
 * repeated runs. Output: one "name size value unit" line per figure.
 *
 *   dkv_perf [--quick]
 *
 * Figures: init time, put+quiet latency and get latency (8 B .. 64 MiB),
 * put and get bandwidth (one in flight; window of 16), message rate (10,000
 * puts of 64 B then one quiet), fence latency.
 */
#include <dramkv.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return v[n / 2];
}

static void die(const char *what, dkv_status_t s)
{
    fprintf(stderr, "dkv_perf: %s: %s\n", what, dkv_strerror(s));
    MPI_Abort(MPI_COMM_WORLD, 1);
}

#define CHECK(what, call)                                                     \
    do {                                                                      \
        dkv_status_t s_ = (call);                                             \
        if (s_ != DKV_OK) {                                                   \
            die(what, s_);                                                    \
        }                                                                     \
    } while (0)

static int reps_for(size_t size, int quick)
{
    int r = (size <= 4096) ? 2000 : (size <= (1 << 20)) ? 200 : 10;

    return quick ? (r / 10 + 3) : r;
}

static void latency(dkv_ctx_t *ctx, char *buf, size_t size, int quick)
{
    int     reps = reps_for(size, quick);
    double *put  = malloc(sizeof(double) * (size_t)reps);
    double *get  = malloc(sizeof(double) * (size_t)reps);
    size_t  got;
    int     i;

    for (i = 0; i < reps; i++) {
        double t0 = now();

        CHECK("put", dkv_put(ctx, "lat", buf, size));
        CHECK("quiet", dkv_quiet(ctx));
        put[i] = now() - t0;
        t0     = now();
        CHECK("get", dkv_get(ctx, "lat", buf, size, &got));
        get[i] = now() - t0;
    }
    printf("put_quiet_latency_us %zu %.2f\n", size, median(put, reps) * 1e6);
    printf("get_latency_us %zu %.2f\n", size, median(get, reps) * 1e6);
    if (size >= 65536) {
        printf("put_bw_GBps %zu %.2f\n", size,
               (double)size / median(put, reps) / 1e9);
        printf("get_bw_GBps %zu %.2f\n", size,
               (double)size / median(get, reps) / 1e9);
    }
    free(put);
    free(get);
}

static void window_bw(dkv_ctx_t *ctx, char *buf, size_t size, int quick)
{
    enum { W = 16 };
    dkv_request_t *reqs[W];
    char           key[32];
    int            reps = quick ? 2 : 5;
    double         t[8];
    int            r, i;

    for (r = 0; r < reps; r++) {
        double t0 = now();

        for (i = 0; i < W; i++) {
            snprintf(key, sizeof(key), "win%d", i);
            CHECK("put_nb", dkv_put_nb(ctx, key, buf, size, &reqs[i]));
        }
        for (i = 0; i < W; i++) {
            CHECK("wait", dkv_wait(reqs[i]));
        }
        t[r] = now() - t0;
    }
    printf("put_bw_window16_GBps %zu %.2f\n", size,
           (double)size * W / median(t, reps) / 1e9);
    for (r = 0; r < reps; r++) {
        char  *dst[W];
        size_t got[W];
        double t0;

        for (i = 0; i < W; i++) {
            dst[i] = malloc(size);
            memset(dst[i], 0, size);
        }
        t0 = now();
        for (i = 0; i < W; i++) {
            snprintf(key, sizeof(key), "win%d", i);
            CHECK("get_nb", dkv_get_nb(ctx, key, dst[i], size, &got[i],
                                       &reqs[i]));
        }
        for (i = 0; i < W; i++) {
            CHECK("wait", dkv_wait(reqs[i]));
        }
        t[r] = now() - t0;
        for (i = 0; i < W; i++) {
            free(dst[i]);
        }
    }
    printf("get_bw_window16_GBps %zu %.2f\n", size,
           (double)size * W / median(t, reps) / 1e9);
}

static void msg_rate(dkv_ctx_t *ctx, int quick)
{
    int    n    = quick ? 1000 : 10000;
    int    reps = quick ? 2 : 5;
    char   val[64], key[32];
    double t[8];
    int    r, i;

    memset(val, 7, sizeof(val));
    for (r = 0; r < reps; r++) {
        double t0 = now();

        for (i = 0; i < n; i++) {
            snprintf(key, sizeof(key), "rate%d", i);
            CHECK("put", dkv_put(ctx, key, val, sizeof(val)));
        }
        CHECK("quiet", dkv_quiet(ctx));
        t[r] = now() - t0;
    }
    printf("put_rate_Mops 64 %.3f\n", n / median(t, reps) / 1e6);
}

int main(int argc, char **argv)
{
    int        quick = (argc > 1) && (strcmp(argv[1], "--quick") == 0);
    dkv_ctx_t *ctx;
    double     t0, tinit, *ft;
    size_t     size;
    char      *buf;
    int        rank, nranks, i, nf;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = now();
    CHECK("init", dkv_init(NULL, &ctx));
    tinit = now() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &tinit, 1, MPI_DOUBLE, MPI_MAX,
                  MPI_COMM_WORLD);
    buf = malloc(64u << 20);
    memset(buf, 1, 64u << 20);
    if (rank == 0) {
        printf("ranks %d holders %d\n", nranks, dkv_num_holders(ctx));
        printf("init_ms %d %.3f\n", nranks, tinit * 1e3);
        for (size = 8; size <= (64u << 20); size *= (size < 65536 ? 8 : 4)) {
            latency(ctx, buf, size, quick);
        }
        window_bw(ctx, buf, 1u << 20, quick);
        msg_rate(ctx, quick);
        fflush(stdout);
    }
    /* The other ranks wait in dkv_fence, which sleeps when idle: an MPI
     * barrier would spin and steal the holder thread's core. */
    CHECK("fence", dkv_fence(ctx));
    nf = quick ? 50 : 1000;
    ft = malloc(sizeof(double) * (size_t)nf);
    for (i = 0; i < nf; i++) {
        t0 = now();
        CHECK("fence", dkv_fence(ctx));
        ft[i] = now() - t0;
    }
    if (rank == 0) {
        printf("fence_us %d %.2f\n", nranks, median(ft, nf) * 1e6);
    }
    for (i = 0; i < nf; i++) {
        t0 = now();
        MPI_Barrier(MPI_COMM_WORLD);
        ft[i] = now() - t0;
    }
    if (rank == 0) {
        printf("mpi_barrier_us %d %.2f\n", nranks, median(ft, nf) * 1e6);
    }
    free(ft);
    free(buf);
    CHECK("finalize", dkv_finalize(ctx));
    MPI_Finalize();
    return 0;
}
