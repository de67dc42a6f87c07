/*
 * dkv_perf: the parts of the dramkv benchmark program (dkv_perf.c runs them
 * in order). Every function is called on every rank unless it says "rank 0"
 * or "holder"; ranks that have nothing to measure wait in dkv_fence(), which
 * sleeps, never in an MPI call, which would spin and take the holder
 * thread's core.
 */
#ifndef DKV_PERF_H
#define DKV_PERF_H

#include <dramkv.h>

#include "perf_util.h"

/* Abort the job with a message when a dramkv call fails. */
#define PERF_CHECK(what, call)                                                 \
    do {                                                                       \
        dkv_status_t s_ = (call);                                              \
        if (s_ != DKV_OK) {                                                    \
            perf_dkv_die(what, s_);                                            \
        }                                                                      \
    } while (0)

void perf_dkv_die(const char *what, dkv_status_t status);

/* dkv_perf_init.c: init costs (see there); returns an open context. */
dkv_ctx_t *perf_dkv_init_times(const perf_opts_t *o);

/* dkv_perf_p2p.c, measured on rank 0 (the client; the holder is another
 * rank), every rank calls it: put+quiet and get latency over the size
 * sweep, bandwidth with one value in flight and with a window, message
 * rate, and memcpy as a reference. */
void perf_dkv_p2p(dkv_ctx_t *ctx, const perf_opts_t *o);

/* dkv_perf_holder.c: the holder's memory overhead per key (rank 0 writes
 * the keys) and its CPU use while idle, both read from /proc. */
void perf_dkv_memory(dkv_ctx_t *ctx, const perf_opts_t *o);
void perf_dkv_idle_cpu(dkv_ctx_t *ctx, const perf_opts_t *o);

#endif
