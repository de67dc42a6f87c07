/*
 * api_stage: the checkpoint-staging entry points - dkv_list, the drain
 * calls and dkv_load. Each checks its arguments and the context's state,
 * then delegates to stage_list.c, stage_drain.c or stage_load.c.
 */
#define DKV_LOG_MODULE "stage"

#include <string.h>

#include "api_detail.h"
#include "ctx.h"
#include "stage_wire.h"

/* A collective staging call: a ready context on a rank that takes part. */
static dkv_status_t check_member(const dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return (ctx->client.barrier.me < 0) ? DKV_ERR_STATE : DKV_OK;
}

static int bad_dir(const dkv_ctx_t *ctx, const char *call, const char *dir)
{
    if ((dir == NULL) || (dir[0] == '\0')) {
        dkv__detail_set(ctx, "%s: the directory is %s", call,
                        (dir == NULL) ? "NULL" : "empty");
        return 1;
    }
    if (strnlen(dir, DKV__DRAIN_PATH_MAX + 1) > DKV__DRAIN_PATH_MAX) {
        dkv__detail_set(ctx, "%s: the directory path is longer than %d bytes",
                        call, DKV__DRAIN_PATH_MAX);
        return 1;
    }
    return 0;
}

static dkv_status_t list_call(dkv_ctx_t *ctx, const char *prefix, dkv_list_cb_t cb,
                      void *arg)
{
    dkv_status_t status = dkv__ctx_check(ctx);
    size_t       len    = 0;

    if (status != DKV_OK) {
        return status;
    }
    if (prefix != NULL) {
        len = strnlen(prefix, DKV_KEY_MAX + 1);
    }
    if (cb == NULL) {
        dkv__detail_set(ctx, "dkv_list: the callback is NULL");
        return DKV_ERR_INVALID;
    }
    if (len > DKV_KEY_MAX) {
        dkv__detail_set(ctx, "dkv_list: the prefix is longer than "
                        "DKV_KEY_MAX (%d bytes)", DKV_KEY_MAX);
        return DKV_ERR_INVALID;
    }
    return dkv__stage_list(ctx, prefix, len, cb, arg);
}

static dkv_status_t drain_start_call(dkv_ctx_t *ctx, const char *dir)
{
    dkv_status_t status = check_member(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return bad_dir(ctx, "dkv_drain_start", dir) ? DKV_ERR_INVALID
                                              : dkv__stage_drain_start(ctx, dir);
}

static dkv_status_t drain_test_call(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    return (status != DKV_OK) ? status
                              : dkv__stage_drain_test(ctx, progress_p);
}

static dkv_status_t drain_wait_call(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    return (status != DKV_OK) ? status
                              : dkv__stage_drain_wait(ctx, progress_p);
}

static dkv_status_t load_call(dkv_ctx_t *ctx, const char *dir)
{
    dkv_status_t status = check_member(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return bad_dir(ctx, "dkv_load", dir) ? DKV_ERR_INVALID
                                       : dkv__stage_load(ctx, dir);
}

dkv_status_t dkv_list(dkv_ctx_t *ctx, const char *prefix, dkv_list_cb_t cb,
                      void *arg)
{
    return dkv__detail_result(ctx, "dkv_list", prefix,
                              list_call(ctx, prefix, cb, arg));
}

dkv_status_t dkv_drain_start(dkv_ctx_t *ctx, const char *dir)
{
    return dkv__detail_result(ctx, "dkv_drain_start", dir,
                              drain_start_call(ctx, dir));
}

dkv_status_t dkv_drain_test(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    return dkv__detail_result(ctx, "dkv_drain_test", NULL,
                              drain_test_call(ctx, progress_p));
}

dkv_status_t dkv_drain_wait(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    return dkv__detail_result(ctx, "dkv_drain_wait", NULL,
                              drain_wait_call(ctx, progress_p));
}

dkv_status_t dkv_load(dkv_ctx_t *ctx, const char *dir)
{
    return dkv__detail_result(ctx, "dkv_load", dir, load_call(ctx, dir));
}

/* Any state: a call on a finalized context says why it failed too. */
const char *dkv_error_detail(const dkv_ctx_t *ctx)
{
    return (ctx == &dkv__the_ctx) ? ctx->stage.detail : "";
}
