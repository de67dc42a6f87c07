/*
 * mpi_perf: what users do without dramkv - MPI one-sided communication from
 * rank 0 into the last rank's window, and MPI_Barrier. The osc/pml
 * components are chosen outside (tests/perf/run sets OMPI_MCA_osc and
 * OMPI_MCA_pml, so the names of the files say which ran).
 *
 *   mpi_perf [--quick] [--sync-only]
 *
 * For a window from MPI_Win_create over the user's own malloc'ed buffer
 * ("create") and from MPI_Win_allocate ("alloc"), S = 8 B .. 64 MiB:
 *   mpi_<w>_put_flush_us, mpi_<w>_get_flush_us   MPI_Put/MPI_Get +
 *                      MPI_Win_flush inside one MPI_Win_lock_all epoch
 *   mpi_<w>_put_flush_bw1_GBps, ..._get_...      S / that latency
 *   mpi_<w>_put_flush_bw_window_GBps             perf_window(S) puts, flush
 *   mpi_<w>_put_fence_us, mpi_<w>_get_fence_us   the op + MPI_Win_fence on
 *                                                both ranks
 *   mpi_<w>_put_rate_Mops                        10,000 puts (8, 64 B) +
 *                                                one flush
 * Collectives (size = ranks; every rank; slowest rank per iteration):
 *   mpi_barrier_us, mpi_win_fence_64puts_us (64 puts of 64 B from every rank
 *   into the last rank, then MPI_Win_fence)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf_util.h"

typedef struct {
    const char *kind; /* "create" or "alloc" */
    MPI_Win win;
    char *base;
    int target;
} win_t;

static void emit(const win_t *w, const char *what, size_t size, double v)
{
    char name[96];

    snprintf(name, sizeof(name), "mpi_%s_%s", w->kind, what);
    perf_emit(name, size, v);
}

/* Rank 0, inside lock_all: put or get + flush, one at a time. */
static void flush_latency(win_t *w, char *buf, size_t size, int get,
                          const perf_opts_t *o)
{
    static double t[2000];
    int reps = 1; /* the warm-up, then as perf_reps_timed() says */
    int i;
    double m;

    for (i = -1; i < reps; i++) {
        double t0 = perf_now();

        if (get) {
            MPI_Get(buf, (int)size, MPI_BYTE, w->target, 0, (int)size, MPI_BYTE,
                    w->win);
        } else {
            MPI_Put(buf, (int)size, MPI_BYTE, w->target, 0, (int)size, MPI_BYTE,
                    w->win);
        }
        MPI_Win_flush(w->target, w->win);
        if (i < 0) { /* the warm-up sizes the loop */
            reps = perf_reps_timed(size, o, perf_now() - t0, MPI_COMM_NULL);
            continue;
        }
        t[i] = perf_now() - t0;
    }
    m = perf_median(t, reps);
    emit(w, get ? "get_flush_us" : "put_flush_us", size, m * 1e6);
    emit(w, get ? "get_flush_bw1_GBps" : "put_flush_bw1_GBps", size,
         (double)size / m / 1e9);
}

static void flush_window(win_t *w, char *buf, size_t size, const perf_opts_t *o)
{
    int n    = perf_window(size);
    int reps = o->quick ? 3 : (size >= (16u << 20)) ? 5 : 9;
    double t[9];
    int i, j;

    for (i = 0; i < reps; i++) {
        double t0 = perf_now();

        for (j = 0; j < n; j++) {
            MPI_Put(buf, (int)size, MPI_BYTE, w->target, 0, (int)size, MPI_BYTE,
                    w->win);
        }
        MPI_Win_flush(w->target, w->win);
        t[i] = perf_now() - t0;
        if (i == 0) { /* the first one also sizes the loop */
            reps = perf_count_timed(reps, t[0], o, MPI_COMM_NULL);
        }
    }
    emit(w, "put_flush_bw_window_GBps", size,
         (double)size * n / perf_median(t, reps) / 1e9);
}

static void flush_rate(win_t *w, char *buf, size_t size, const perf_opts_t *o)
{
    int reps = o->quick ? 3 : 11;
    double t[11];
    int i, j;

    for (i = 0; i < reps; i++) {
        double t0 = perf_now();

        for (j = 0; j < 10000; j++) {
            MPI_Put(buf, (int)size, MPI_BYTE, w->target,
                    (MPI_Aint)(j % 1024) * 64, (int)size, MPI_BYTE, w->win);
        }
        MPI_Win_flush(w->target, w->win);
        t[i] = perf_now() - t0;
        if (i == 0) { /* the first one also sizes the loop */
            reps = perf_count_timed(reps, t[0], o, MPI_COMM_NULL);
        }
    }
    emit(w, "put_rate_Mops", size, 10000 / perf_median(t, reps) / 1e6);
}

/* Active target: both ranks call MPI_Win_fence; rank 0's time. */
static void fence_latency(win_t *w, char *buf, size_t size, int get, int rank,
                          const perf_opts_t *o)
{
    static double t[2000];
    int reps = 1;
    int i;

    MPI_Win_fence(0, w->win);
    for (i = -1; i < reps; i++) {
        double t0 = perf_now();

        if ((rank == 0) && get) {
            MPI_Get(buf, (int)size, MPI_BYTE, w->target, 0, (int)size, MPI_BYTE,
                    w->win);
        } else if (rank == 0) {
            MPI_Put(buf, (int)size, MPI_BYTE, w->target, 0, (int)size, MPI_BYTE,
                    w->win);
        }
        MPI_Win_fence(0, w->win);
        if (i < 0) { /* the warm-up sizes the loop, as rank 0 saw it */
            reps = perf_reps_timed(size, o, perf_now() - t0, MPI_COMM_WORLD);
            continue;
        }
        t[i] = perf_now() - t0;
    }
    if (rank == 0) {
        emit(w, get ? "get_fence_us" : "put_fence_us", size,
             perf_median(t, reps) * 1e6);
    }
}

static void one_window(win_t *w, char *buf, int rank, const perf_opts_t *o)
{
    size_t size;

    if (rank == 0) {
        MPI_Win_lock_all(0, w->win);
        for (size = PERF_MIN_SIZE; size != 0; size = perf_next_size(size, o)) {
            flush_latency(w, buf, size, 0, o);
            flush_latency(w, buf, size, 1, o);
        }
        for (size = 4096; size != 0; size = perf_next_size(size, o)) {
            flush_window(w, buf, size, o);
        }
        flush_rate(w, buf, 8, o);
        flush_rate(w, buf, 64, o);
        MPI_Win_unlock_all(w->win);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (size = PERF_MIN_SIZE; size != 0; size = perf_next_size(size, o)) {
        fence_latency(w, buf, size, 0, rank, o);
        fence_latency(w, buf, size, 1, rank, o);
    }
}

static void collectives(win_t *w, int rank, int nranks, const perf_opts_t *o)
{
    int nb    = o->quick ? 50 : 1000;
    double *t = malloc(sizeof(double) * (size_t)nb);
    char val[64];
    int i, j;

    memset(val, 5, sizeof(val));
    MPI_Barrier(MPI_COMM_WORLD);
    t[0] = perf_now();
    MPI_Barrier(MPI_COMM_WORLD); /* warm-up, sizes the loop */
    nb = perf_count_timed(nb, perf_now() - t[0], o, MPI_COMM_WORLD);
    for (i = 0; i < nb; i++) {
        double t0 = perf_now();

        MPI_Barrier(MPI_COMM_WORLD);
        t[i] = perf_now() - t0;
    }
    perf_max_over_ranks(t, nb);
    if (rank == 0) {
        perf_emit("mpi_barrier_us", (size_t)nranks, perf_median(t, nb) * 1e6);
    }
    nb = o->quick ? 20 : 200;
    MPI_Win_fence(0, w->win);
    for (i = -1; i < nb; i++) {
        double t0;

        for (j = 0; j < 64; j++) {
            MPI_Put(val, 64, MPI_BYTE, w->target,
                    (MPI_Aint)(rank * 64 + j) * 64, 64, MPI_BYTE, w->win);
        }
        t0 = perf_now();
        MPI_Win_fence(0, w->win);
        if (i < 0) { /* warm-up, sizes the loop */
            nb = perf_count_timed(nb, perf_now() - t0, o, MPI_COMM_WORLD);
            continue;
        }
        t[i] = perf_now() - t0;
    }
    perf_max_over_ranks(t, nb);
    if (rank == 0) {
        perf_emit("mpi_win_fence_64puts_us", (size_t)nranks,
                  perf_median(t, nb) * 1e6);
    }
    free(t);
}

int main(int argc, char **argv)
{
    perf_opts_t o;
    win_t w;
    char *buf, *mine;
    int rank, nranks;
    size_t wsize;

    MPI_Init(&argc, &argv);
    perf_parse_args(argc, argv, &o);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    wsize = o.sync_only ? ((size_t)nranks * 64 * 64) : PERF_MAX_SIZE;
    buf   = malloc(wsize);
    mine  = malloc(wsize);
    memset(buf, 1, wsize);
    memset(mine, 0, wsize);
    w.target = nranks - 1;
    w.kind   = "create";
    MPI_Win_create(mine, (MPI_Aint)wsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD,
                   &w.win);
    if (!o.sync_only) {
        one_window(&w, buf, rank, &o);
    }
    collectives(&w, rank, nranks, &o);
    MPI_Win_free(&w.win);
    if (!o.sync_only) {
        w.kind = "alloc";
        MPI_Win_allocate((MPI_Aint)wsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD,
                         &w.base, &w.win);
        memset(w.base, 0, wsize);
        MPI_Barrier(MPI_COMM_WORLD);
        one_window(&w, buf, rank, &o);
        MPI_Win_free(&w.win);
    }
    free(buf);
    free(mine);
    MPI_Finalize();
    return 0;
}
