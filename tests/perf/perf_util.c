/*
 * perf_util: clock, medians, size sweep, arguments and output lines shared
 * by the benchmark programs (see perf_util.h). Single-threaded.
 */
#include "perf_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double perf_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

double perf_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return (n % 2 == 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

size_t perf_next_size(size_t size, const perf_opts_t *o)
{
    size_t next = size * ((size < 65536) ? 8 : 4);

    return (next > o->max_size) ? 0 : next;
}

int perf_reps(size_t size, const perf_opts_t *o)
{
    int r = (size <= 4096) ? 2000 : (size <= (1u << 20)) ? 200 : 10;

    if (size >= (64u << 20)) {
        r = 6;
    }
    return o->quick ? (r / 20 + 3) : r;
}

int perf_count_timed(int max, double t_one, const perf_opts_t *o, MPI_Comm comm)
{
    double budget = o->quick ? 0.05 : 0.25;
    int n         = max;

    if ((t_one > 0) && (budget / t_one < n)) {
        n = (budget / t_one < 5) ? 5 : (int)(budget / t_one);
        n = (n > max) ? max : n;
    }
    if (comm != MPI_COMM_NULL) {
        MPI_Bcast(&n, 1, MPI_INT, 0, comm);
    }
    return n;
}

int perf_reps_timed(size_t size, const perf_opts_t *o, double t_one,
                    MPI_Comm comm)
{
    return perf_count_timed(perf_reps(size, o), t_one, o, comm);
}

int perf_window(size_t size)
{
    size_t w = ((size_t)512 << 20) / size;

    return (w >= 16) ? 16 : (w < 2) ? 2 : (int)w;
}

void perf_parse_args(int argc, char **argv, perf_opts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->idle_s   = -1;
    o->max_size = PERF_MAX_SIZE;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(argv[i], "--sync-only") == 0) {
            o->sync_only = 1;
        } else if ((strcmp(argv[i], "--idle-s") == 0) && (i + 1 < argc)) {
            o->idle_s = atof(argv[++i]);
        } else if ((strcmp(argv[i], "--max-size") == 0) && (i + 1 < argc)) {
            o->max_size = (size_t)strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr,
                    "usage: %s [--quick] [--sync-only] "
                    "[--idle-s S] [--max-size B]\n",
                    argv[0]);
            exit(2);
        }
    }
    if ((o->max_size == 0) || (o->max_size > PERF_MAX_SIZE)) {
        o->max_size = PERF_MAX_SIZE;
    }
    if (o->idle_s < 0) {
        o->idle_s = o->quick ? 1.0 : 10.0;
    }
}

void perf_emit(const char *name, size_t size, double value)
{
    printf("%s %zu %.6g\n", name, size, value);
    fflush(stdout);
}

void perf_max_over_ranks(double *t, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, t, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}
