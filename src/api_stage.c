/*
 * api_stage: checkpoint staging entry points (stubs until implemented).
 */
#define DKV_LOG_MODULE "stage"

#include "ctx.h"

dkv_status_t dkv_list(dkv_ctx_t *ctx, const char *prefix, dkv_list_cb_t cb,
                      void *arg)
{
    return DKV_ERR_STATE;
}

dkv_status_t dkv_drain_start(dkv_ctx_t *ctx, const char *dir)
{
    return DKV_ERR_STATE;
}

dkv_status_t dkv_drain_test(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    return DKV_ERR_STATE;
}

dkv_status_t dkv_drain_wait(dkv_ctx_t *ctx, dkv_drain_progress_t *progress_p)
{
    return DKV_ERR_STATE;
}

dkv_status_t dkv_load(dkv_ctx_t *ctx, const char *dir)
{
    return DKV_ERR_STATE;
}

const char *dkv_error_detail(const dkv_ctx_t *ctx)
{
    return "";
}
