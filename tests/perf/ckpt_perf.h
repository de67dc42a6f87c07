/*
 * ckpt_perf: the checkpoint-staging benchmark (ckpt_perf.c: options, the
 * repetitions, the table and the CSV; ckpt_perf_steps.c: each timed step).
 * Every function is called on every rank; a step's time is this rank's,
 * ckpt_perf.c takes the slowest rank's per repetition.
 */
#ifndef DKV_CKPT_PERF_H
#define DKV_CKPT_PERF_H

#include <limits.h>
#include <stddef.h>

#include <dramkv.h>

#include "perf_util.h"

#define MAX_REPS 100
#define MIB ((size_t)1 << 20)

enum {
    M_STAGE,
    M_DRAIN_START,
    M_DRAIN,
    M_POSIX,
    M_MPIIO,
    M_KERNEL,
    M_KERNEL_BG,
    M_SLOWDOWN,
    M_SLOWDOWN_BEST,
    M_DRAIN_BG,
    M_DRAIN_BG_WAIT,
    M_TEST,
    M_LOAD,
    M_COUNT
};

/* Name (CSV), unit and label (table) of each figure. */
typedef struct {
    const char *name;
    const char *unit;
    const char *label;
} ckpt_meas_t;

extern const ckpt_meas_t ckpt_meas[M_COUNT];

typedef struct {
    int quick;
    size_t mib;        /* checkpoint per rank */
    size_t shard_mib;  /* one key */
    size_t kernel_mib; /* each of the kernel's two arrays */
    int reps;
    double kernel_s;     /* the kernel's target duration alone */
    double poll_ms;      /* dkv_drain_test at most this often */
    const char *parent;  /* --dir */
    const char *holders; /* dkv_init_params_t.holders */
    unsigned replicas;
    int load;
    const char *csv;
} ckpt_opts_t;

typedef struct {
    ckpt_opts_t o;
    dkv_ctx_t *ctx;
    int rank;
    int size;
    char top[PATH_MAX / 2]; /* this run's directory (same on every rank) */
    char *ckpt;             /* the checkpoint: o.mib MiB */
    size_t bytes;           /* o.mib in bytes */
    int nshards;
    double *ka, *kb; /* the kernel's arrays, n doubles each */
    size_t n;
    int sweeps;
    double test_s;  /* time in dkv_drain_test, this run */
    int tests;      /* calls of it */
    double sink;    /* kernel results, so nothing is optimised out */
    const char *io; /* which MPI-IO component ran */
    double t[M_COUNT][MAX_REPS];
    double moved[M_COUNT]; /* bytes a step moves, job-wide (for GB/s) */
} ckpt_bench_t;

/* Abort the job with a message when a dramkv call fails. */
#define CKPT_CHECK(b, what, call)                                              \
    do {                                                                       \
        dkv_status_t s_ = (call);                                              \
        if (s_ != DKV_OK) {                                                    \
            ckpt_dkv_die(b, what, s_);                                         \
        }                                                                      \
    } while (0)

/* ckpt_perf.c: failing (each removes the run's directory, best effort, and
 * aborts the job), and the run's directory. */
void ckpt_dkv_die(const ckpt_bench_t *b, const char *what, dkv_status_t s);
void ckpt_sys_die(const char *what, const char *path);
void ckpt_mpi_die(const char *what, int err);
void ckpt_die_now(void);

/* Collective: rank 0 removes @p sub of the run's directory (and, with
 * @p create, makes it again, empty) and flushes the file system; the
 * others wait. The path goes to @p out. */
void ckpt_reset_path(const ckpt_bench_t *b, const char *sub, int create,
                     char *out, size_t out_len);

/* ckpt_perf_steps.c: the steps, in the order one repetition runs them.
 * Each writes its figures to b->t[...][rep] (this rank's). */
void ckpt_stage(ckpt_bench_t *b, int rep);          /* (a) */
void ckpt_unstage(ckpt_bench_t *b);                 /* delete + fence */
void ckpt_drain_alone(ckpt_bench_t *b, int rep);    /* (d) */
void ckpt_posix_write(ckpt_bench_t *b, int rep);    /* (b) */
void ckpt_mpiio_write(ckpt_bench_t *b, int rep);    /* (c) */
void ckpt_kernel_setup(ckpt_bench_t *b);            /* sizes (e) */
void ckpt_kernel_runs(ckpt_bench_t *b, int rep);    /* (e) */
void ckpt_load_and_check(ckpt_bench_t *b, int rep); /* (f) */

#endif
