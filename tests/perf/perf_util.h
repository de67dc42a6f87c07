/*
 * perf_util: what every benchmark program in tests/perf shares - the clock,
 * medians, the value sizes, the "--quick" switch and the output format.
 *
 * Output: one line per figure, "name size value", where the unit is the end
 * of the name (_us, _ms, _GBps, _Mops, _pct, _B) and "size" is the value size
 * in bytes or, for collectives, the number of ranks. tests/perf/report.py
 * reads these lines; anything else a program prints is ignored by it.
 */
#ifndef DKV_PERF_UTIL_H
#define DKV_PERF_UTIL_H

#include <mpi.h>
#include <stddef.h>

/* Value sizes of the latency/bandwidth sweeps: 8 B, x8 to 64 KiB, then x4
 * to 64 MiB. */
#define PERF_MIN_SIZE ((size_t)8)
#define PERF_MAX_SIZE ((size_t)64 << 20)

typedef struct {
    int quick;       /* --quick: few repetitions (CI smoke, run --quick) */
    int sync_only;   /* --sync-only: only init/fence/barrier figures */
    double idle_s;   /* --idle-s S: idle-holder period (default 10, quick 1;
                        0 skips it) */
    size_t max_size; /* --max-size B: end of the size sweeps (default and
                        at most PERF_MAX_SIZE) */
} perf_opts_t;

/* Seconds on the monotonic clock. */
double perf_now(void);

/* Median of v[0..n-1]; sorts v in place. n > 0. */
double perf_median(double *v, int n);

/* Next size of the sweep after @p size, or 0 past o->max_size. */
size_t perf_next_size(size_t size, const perf_opts_t *o);

/* Repetitions of a blocking latency loop for a value of @p size bytes. */
int perf_reps(size_t size, const perf_opts_t *o);

/* How often to repeat a loop whose warm-up iteration took @p t_one
 * seconds: @p max, fewer when that would take longer than the budget
 * (0.25 s, 0.05 s with --quick) - slow configurations stay fast - but at
 * least 5 (or @p max if smaller). With @p comm not MPI_COMM_NULL, every rank of
 * it calls this and gets rank 0's choice. */
int perf_count_timed(int max, double t_one, const perf_opts_t *o,
                     MPI_Comm comm);

/* perf_count_timed(perf_reps(size, o), ...). */
int perf_reps_timed(size_t size, const perf_opts_t *o, double t_one,
                    MPI_Comm comm);

/* Window (requests in flight) for bandwidth at @p size: 16, fewer for the
 * biggest values so a window stays within 512 MiB. */
int perf_window(size_t size);

/* Parse --quick / --sync-only / --idle-s S / --max-size B; unknown
 * arguments are an error (exit 2). */
void perf_parse_args(int argc, char **argv, perf_opts_t *o);

/* Print one figure ("name size value") and flush. */
void perf_emit(const char *name, size_t size, double value);

/* Per-iteration times t[0..n-1] of this rank -> the maximum over the ranks
 * of MPI_COMM_WORLD, element by element, in place. */
void perf_max_over_ranks(double *t, int n);

#endif
