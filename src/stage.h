/*
 * stage: checkpoint staging on the caller's side - listing keys across
 * holders (stage_list.c), draining the holders to files in the background
 * and committing the drain's manifest (stage_drain.c), and loading a drain
 * back (stage_load.c). Owner: the thread that called dkv_init.
 */
#ifndef DKV_STAGE_H
#define DKV_STAGE_H

#include <stdint.h>

#include "dramkv.h"

/* This rank's view of the drain it last started. */
typedef struct dkv__stage {
    uint64_t             drains;  /* drains started by the job so far */
    uint64_t             id;      /* current drain, 0: none */
    char                *dir;
    int                  ended;   /* final status known */
    dkv_status_t         final;
    dkv_drain_progress_t last;
    struct dkv__drain_info *info; /* [nholders] last answers; done ones are
                                     not asked again */
    uint8_t             *lost;    /* [nholders] found lost during the drain */
    uint64_t             flushed; /* file bytes the holders wrote so far */
    uint64_t             phases;  /* sum of the holders' phases: moves as
                                     they pass fsync, rename, dir fsync */
    int                  syncing; /* a holder (or the committer) sits in a
                                     blocking file-system call */
    int                  loss_unreported; /* a drain's fence saw a loss
                                     that left every key a live copy; the
                                     next dkv_fence reports it */
    char                 detail[1024]; /* why the last call failed */
} dkv__stage_t;

struct dkv_ctx;

dkv_status_t dkv__stage_list(struct dkv_ctx *ctx, const char *prefix,
                             size_t prefix_len, dkv_list_cb_t cb, void *arg);
dkv_status_t dkv__stage_drain_start(struct dkv_ctx *ctx, const char *dir);
dkv_status_t dkv__stage_drain_test(struct dkv_ctx *ctx,
                                   dkv_drain_progress_t *progress_p);
dkv_status_t dkv__stage_drain_wait(struct dkv_ctx *ctx,
                                   dkv_drain_progress_t *progress_p);
dkv_status_t dkv__stage_load(struct dkv_ctx *ctx, const char *dir);
/* Wait for a drain this rank started and has not seen end (on a member);
 * its status, DKV_OK if there was none. */
dkv_status_t dkv__stage_settle(struct dkv_ctx *ctx);
/* At finalize: dkv__stage_settle, then forget the drain. */
dkv_status_t dkv__stage_finalize(struct dkv_ctx *ctx);
/* Record why a call failed (printf-style) in ctx->stage.detail. */
void dkv__stage_detail(struct dkv_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
