/*
 * dkv_perf_p2p: dramkv from one client (rank 0) to one holder; the other
 * ranks only meet it in dkv_fence() between the steps.
 *
 *   put_quiet_latency_us / get_latency_us   one blocking op, 8 B .. 64 MiB
 *   put_bw1_GBps / get_bw1_GBps             size / that latency
 *   put_bw_window_GBps / get_bw_window_GBps perf_window(size) non-blocking
 *                                           ops on distinct keys, then wait
 *   put_rate_Mops                           10,000 puts (8 B, 64 B) + quiet
 *   memcpy_GBps                             single-thread memcpy, reference
 *
 * Keys are formatted before the clock starts. Every figure is a median.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkv_perf.h"

#define RATE_N 10000

static void latency(dkv_ctx_t *ctx, char *buf, size_t size,
                    const perf_opts_t *o)
{
    double t0 = perf_now();
    double *put, *get;
    double mp, mg;
    size_t got;
    int reps, i;

    /* Warm-up, which also sizes the loop. */
    PERF_CHECK("put", dkv_put(ctx, "lat", buf, size));
    PERF_CHECK("quiet", dkv_quiet(ctx));
    PERF_CHECK("get", dkv_get(ctx, "lat", buf, size, &got));
    reps = perf_reps_timed(size, o, perf_now() - t0, MPI_COMM_NULL);
    put  = malloc(sizeof(double) * (size_t)reps);
    get  = malloc(sizeof(double) * (size_t)reps);
    for (i = 0; i < reps; i++) {
        t0 = perf_now();
        PERF_CHECK("put", dkv_put(ctx, "lat", buf, size));
        PERF_CHECK("quiet", dkv_quiet(ctx));
        put[i] = perf_now() - t0;
        t0     = perf_now();
        PERF_CHECK("get", dkv_get(ctx, "lat", buf, size, &got));
        get[i] = perf_now() - t0;
    }
    mp = perf_median(put, reps);
    mg = perf_median(get, reps);
    perf_emit("put_quiet_latency_us", size, mp * 1e6);
    perf_emit("get_latency_us", size, mg * 1e6);
    perf_emit("put_bw1_GBps", size, (double)size / mp / 1e9);
    perf_emit("get_bw1_GBps", size, (double)size / mg / 1e9);
    free(put);
    free(get);
}

static double put_window(dkv_ctx_t *ctx, char *keys, const char *buf,
                         size_t size, int w)
{
    dkv_request_t *reqs[16];
    double t0 = perf_now();
    int i;

    for (i = 0; i < w; i++) {
        PERF_CHECK("put_nb",
                   dkv_put_nb(ctx, keys + 16 * i, buf, size, &reqs[i]));
    }
    for (i = 0; i < w; i++) {
        PERF_CHECK("wait put", dkv_wait(reqs[i]));
    }
    return perf_now() - t0;
}

static double get_window(dkv_ctx_t *ctx, char *keys, char *dst, size_t size,
                         int w)
{
    dkv_request_t *reqs[16];
    size_t got[16];
    double t0 = perf_now();
    int i;

    for (i = 0; i < w; i++) {
        PERF_CHECK("get_nb", dkv_get_nb(ctx, keys + 16 * i, dst + size * i,
                                        size, &got[i], &reqs[i]));
    }
    for (i = 0; i < w; i++) {
        PERF_CHECK("wait get", dkv_wait(reqs[i]));
    }
    return perf_now() - t0;
}

static void window_bw(dkv_ctx_t *ctx, const char *buf, char *dst, size_t size,
                      const perf_opts_t *o)
{
    int w    = perf_window(size);
    int reps = o->quick ? 3 : (size >= (16u << 20)) ? 5 : 9;
    char keys[16 * 16];
    double tp[16], tg[16];
    int i;

    for (i = 0; i < w; i++) {
        snprintf(keys + 16 * i, 16, "win%d", i);
    }
    for (i = 0; i < reps; i++) {
        tp[i] = put_window(ctx, keys, buf, size, w);
        tg[i] = get_window(ctx, keys, dst, size, w);
        if (i == 0) { /* the first one also sizes the loop */
            reps = perf_count_timed(reps, tp[0] + tg[0], o, MPI_COMM_NULL);
        }
    }
    perf_emit("put_bw_window_GBps", size,
              (double)size * w / perf_median(tp, reps) / 1e9);
    perf_emit("get_bw_window_GBps", size,
              (double)size * w / perf_median(tg, reps) / 1e9);
}

static void msg_rate(dkv_ctx_t *ctx, size_t size, const perf_opts_t *o)
{
    int reps   = o->quick ? 3 : 11;
    char *keys = malloc((size_t)RATE_N * 16);
    char val[64];
    double t[11];
    int r, i;

    memset(val, 7, sizeof(val));
    for (i = 0; i < RATE_N; i++) {
        snprintf(keys + 16 * i, 16, "rate%d", i);
    }
    for (r = 0; r < reps; r++) {
        double t0 = perf_now();

        for (i = 0; i < RATE_N; i++) {
            PERF_CHECK("put", dkv_put(ctx, keys + 16 * i, val, size));
        }
        PERF_CHECK("quiet", dkv_quiet(ctx));
        t[r] = perf_now() - t0;
        if (r == 0) { /* the first one also sizes the loop */
            reps = perf_count_timed(reps, t[0], o, MPI_COMM_NULL);
        }
    }
    perf_emit("put_rate_Mops", size, RATE_N / perf_median(t, reps) / 1e6);
    free(keys);
}

static void memcpy_bw(char *dst, const char *src, size_t size,
                      const perf_opts_t *o)
{
    int reps = perf_reps(size, o);
    double t[2000];
    int i;

    for (i = 0; i < reps; i++) {
        double t0 = perf_now();

        memcpy(dst, src, size);
        t[i] = perf_now() - t0;
    }
    perf_emit("memcpy_GBps", size, (double)size / perf_median(t, reps) / 1e9);
}

/* Rank 0 measures; every rank meets in dkv_fence() after each step, so no
 * rank waits long in one call (DKV_TIMEOUT_MS bounds every wait) and a rank
 * that waits sleeps instead of taking the holder thread's core. */
static void step_done(dkv_ctx_t *ctx)
{
    PERF_CHECK("fence", dkv_fence(ctx));
}

void perf_dkv_p2p(dkv_ctx_t *ctx, const perf_opts_t *o)
{
    int client  = (dkv_rank(ctx) == 0);
    size_t wmax = (size_t)perf_window(o->max_size) * o->max_size;
    char *buf   = client ? malloc(o->max_size) : NULL;
    char *dst   = client ? malloc(wmax) : NULL;
    size_t size;

    if (client && ((buf == NULL) || (dst == NULL))) {
        fprintf(stderr, "dkv_perf: out of memory\n");
        exit(1);
    }
    if (client) {
        memset(buf, 1, o->max_size);
        memset(dst, 0, wmax); /* fault the pages in before any clock runs */
    }
    for (size = PERF_MIN_SIZE; size != 0; size = perf_next_size(size, o)) {
        if (client) {
            latency(ctx, buf, size, o);
        }
        step_done(ctx);
    }
    for (size = 4096; size != 0; size = perf_next_size(size, o)) {
        if (client) {
            window_bw(ctx, buf, dst, size, o);
        }
        step_done(ctx);
    }
    if (client) {
        msg_rate(ctx, 8, o);
        msg_rate(ctx, 64, o);
        for (size = 4096; size != 0; size = perf_next_size(size, o)) {
            memcpy_bw(dst, buf, size, o);
        }
    }
    step_done(ctx);
    free(buf);
    free(dst);
}
