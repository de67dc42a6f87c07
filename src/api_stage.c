/*
 * api_stage: the checkpoint-staging entry points - dkv_list, the drain
 * calls and dkv_load. Each checks its arguments and the context's state,
 * then delegates to stage_list.c, stage_drain.c or stage_load.c.
 */
#define DKV_LOG_MODULE "stage"

#include <string.h>

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

static int bad_dir(const char *dir)
{
    return (dir == NULL) || (dir[0] == '\0') ||
           (strnlen(dir, DKV__DRAIN_PATH_MAX + 1) > DKV__DRAIN_PATH_MAX);
}

dkv_status_t dkv_list(dkv_ctx_t *ctx, const char *prefix, dkv_list_cb_t cb,
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
    if ((cb == NULL) || (len > DKV_KEY_MAX)) {
        return DKV_ERR_INVALID;
    }
    return dkv__stage_list(ctx, prefix, len, cb, arg);
}

dkv_status_t dkv_drain_start(dkv_ctx_t *ctx, const char *dir)
{
    dkv_status_t status = check_member(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return bad_dir(dir) ? DKV_ERR_INVALID : dkv__stage_drain_start(ctx, dir);
}

dkv_status_t dkv_drain_test(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    return (status != DKV_OK) ? status
                              : dkv__stage_drain_test(ctx, progress_p);
}

dkv_status_t dkv_drain_wait(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    return (status != DKV_OK) ? status
                              : dkv__stage_drain_wait(ctx, progress_p);
}

dkv_status_t dkv_load(dkv_ctx_t *ctx, const char *dir)
{
    dkv_status_t status = check_member(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return bad_dir(dir) ? DKV_ERR_INVALID : dkv__stage_load(ctx, dir);
}

const char *dkv_error_detail(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->stage.detail : "";
}
