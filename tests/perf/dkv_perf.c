/*
 * dkv_perf: dramkv's own figures, under launch/dkvrun. Rank 0 is the client;
 * the holder is another rank (tests/perf/run uses DKV_HOLDERS=last:1).
 *
 *   dkv_perf [--quick] [--sync-only] [--idle-s S]
 *
 * In order (the "size" column of a collective figure is the rank count):
 *   dkv_perf_init.c    dkv_init against the UCX setup and the minimal
 *                      UCX + PMIx init
 *   (not --sync-only)  the holder's memory per key, then dkv_perf_p2p.c on
 *                      rank 0, then the idle holder's CPU (dkv_perf_holder.c)
 *   fence_us, fence_64puts_us  dkv_fence with nothing outstanding and after
 *                      64 puts of 64 B on every rank
 * Figures are medians; an iteration's time is the slowest rank's.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkv_perf.h"

void perf_dkv_die(const char *what, dkv_status_t status)
{
    fprintf(stderr, "dkv_perf: %s: %s\n", what, dkv_strerror(status));
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void fences(dkv_ctx_t *ctx, const perf_opts_t *o)
{
    int nf     = o->quick ? 50 : 1000;
    int nranks = dkv_size(ctx);
    double *t  = malloc(sizeof(double) * (size_t)nf);
    char keys[64][24];
    char val[64];
    int i, j;

    memset(val, 5, sizeof(val));
    for (j = 0; j < 64; j++) {
        snprintf(keys[j], sizeof(keys[j]), "f%d.%d", dkv_rank(ctx), j);
    }
    PERF_CHECK("fence", dkv_fence(ctx));
    t[0] = perf_now();
    PERF_CHECK("fence", dkv_fence(ctx)); /* warm-up, sizes the loop */
    nf = perf_count_timed(nf, perf_now() - t[0], o, MPI_COMM_WORLD);
    for (i = 0; i < nf; i++) {
        double t0 = perf_now();

        PERF_CHECK("fence", dkv_fence(ctx));
        t[i] = perf_now() - t0;
    }
    perf_max_over_ranks(t, nf);
    if (dkv_rank(ctx) == 0) {
        perf_emit("fence_us", (size_t)nranks, perf_median(t, nf) * 1e6);
    }
    nf = o->quick ? 20 : 200;
    for (i = -1; i < nf; i++) {
        double t0;

        for (j = 0; j < 64; j++) {
            PERF_CHECK("put", dkv_put(ctx, keys[j], val, sizeof(val)));
        }
        t0 = perf_now();
        PERF_CHECK("fence", dkv_fence(ctx));
        if (i < 0) { /* warm-up, sizes the loop */
            nf = perf_count_timed(nf, perf_now() - t0, o, MPI_COMM_WORLD);
            continue;
        }
        t[i] = perf_now() - t0;
    }
    perf_max_over_ranks(t, nf);
    if (dkv_rank(ctx) == 0) {
        perf_emit("fence_64puts_us", (size_t)nranks, perf_median(t, nf) * 1e6);
    }
    free(t);
}

int main(int argc, char **argv)
{
    perf_opts_t o;
    dkv_ctx_t *ctx;

    MPI_Init(&argc, &argv);
    perf_parse_args(argc, argv, &o);
    ctx = perf_dkv_init_times(&o);
    if (!o.sync_only) {
        if ((dkv_rank(ctx) == 0) && dkv_is_holder(ctx)) {
            fprintf(stderr, "dkv_perf: rank 0 is a holder; the figures are "
                            "local (use DKV_HOLDERS=last:1)\n");
        }
        /* First, while the holder's heap is fresh: later frees would be
         * reused and hide the growth. */
        perf_dkv_memory(ctx, &o);
        perf_dkv_p2p(ctx, &o);
        perf_dkv_idle_cpu(ctx, &o);
    }
    fences(ctx, &o);
    PERF_CHECK("finalize", dkv_finalize(ctx));
    MPI_Finalize();
    return 0;
}
