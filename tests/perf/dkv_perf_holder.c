/*
 * dkv_perf_holder: what a holder costs besides the data, read from /proc on
 * the holder rank.
 *
 *   holder_overhead_per_key_B  growth of the holder's resident set while
 *                              rank 0 stores N new keys (11-byte keys,
 *                              16-byte values), minus N x (key + value),
 *                              divided by N: store entry, hash table,
 *                              allocator slack. An upper bound (anything
 *                              else the process grows counts too).
 *   idle_holder_cpu_pct        CPU time of every thread of the holder
 *                              process (/proc/self/task/x/schedstat, ns)
 *                              over an idle period (--idle-s: 10 s, 1 s
 *                              with --quick), in
 *                              % of one core; "size" is the period in s.
 *
 * The ranks meet in dkv_fence() between the steps; a rank that waits sleeps
 * in nanosleep or in the fence.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dkv_perf.h"

#define KEY_LEN 11 /* "m%010d" */
#define VALUE_LEN 16

static double resident_bytes(void)
{
    FILE *f   = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;

    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Sum of the on-CPU time of every thread of this process, in ns. */
static double process_cpu_ns(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    double sum = 0;

    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char path[300];
        unsigned long long run = 0;
        FILE *f;

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
        f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        if (fscanf(f, "%llu", &run) == 1) {
            sum += (double)run;
        }
        fclose(f);
    }
    closedir(d);
    return sum;
}

static void sleep_s(double s)
{
    struct timespec ts;

    ts.tv_sec  = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

void perf_dkv_memory(dkv_ctx_t *ctx, const perf_opts_t *o)
{
    int n         = o->quick ? 20000 : 200000;
    double before = 0;
    char key[32];
    char val[VALUE_LEN];
    int i;

    memset(val, 3, sizeof(val));
    PERF_CHECK("fence", dkv_fence(ctx));
    if (dkv_is_holder(ctx)) {
        before = resident_bytes();
    }
    PERF_CHECK("fence", dkv_fence(ctx));
    if (dkv_rank(ctx) == 0) {
        for (i = 0; i < n; i++) {
            snprintf(key, sizeof(key), "m%010d", i);
            PERF_CHECK("put", dkv_put(ctx, key, val, sizeof(val)));
        }
    }
    PERF_CHECK("fence", dkv_fence(ctx));
    if (dkv_is_holder(ctx) && (dkv_rank(ctx) != 0)) {
        double grown = resident_bytes() - before;

        perf_emit("holder_overhead_per_key_B", (size_t)n,
                  grown / n - (KEY_LEN + VALUE_LEN));
    }
    for (i = 0; (i < n) && (dkv_rank(ctx) == 0); i++) {
        snprintf(key, sizeof(key), "m%010d", i);
        PERF_CHECK("delete", dkv_delete(ctx, key));
    }
    PERF_CHECK("fence", dkv_fence(ctx));
}

void perf_dkv_idle_cpu(dkv_ctx_t *ctx, const perf_opts_t *o)
{
    double period = o->idle_s;
    double c0, t0, c1, t1;

    if (period <= 0) {
        return;
    }
    PERF_CHECK("fence", dkv_fence(ctx));
    sleep_s(0.2); /* past the holder's spin after the last message */
    c0 = process_cpu_ns();
    t0 = perf_now();
    sleep_s(period);
    c1 = process_cpu_ns();
    t1 = perf_now();
    if (dkv_is_holder(ctx) && (dkv_rank(ctx) != 0)) {
        perf_emit("idle_holder_cpu_pct", (size_t)period,
                  100.0 * (c1 - c0) / 1e9 / (t1 - t0));
    }
    PERF_CHECK("fence", dkv_fence(ctx));
}
