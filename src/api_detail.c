/*
 * api_detail: the one-line reason behind dkv_error_detail() (api_detail.h).
 */
#include "api_detail.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

/* The process's context, writable, or NULL when @p ctx is not it. */
static dkv_ctx_t *own(const dkv_ctx_t *ctx)
{
    return (ctx == &dkv__the_ctx) ? &dkv__the_ctx : NULL;
}

void dkv__detail_set(const dkv_ctx_t *ctx, const char *fmt, ...)
{
    dkv_ctx_t *c = own(ctx);
    va_list    ap;

    if (c == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(c->stage.detail, sizeof(c->stage.detail), fmt, ap);
    va_end(ap);
    c->detail_fresh = 1;
}

/* What DKV_ERR_STATE means for this rank now. */
static const char *state_reason(const dkv_ctx_t *c, const char *call)
{
    if (c->state == DKV__STATE_NONE) {
        return "dkv_init() has not succeeded in this process";
    }
    if (c->state == DKV__STATE_FINALIZED) {
        return "the context was finalized (dkv_finalize)";
    }
    if (strcmp(call, "dkv_serve") == 0) {
        return "only a dedicated holder serves (dkvrun --dedicated, "
               "DKV_HOLDERS=...:dedicated); this rank is not one";
    }
    if (c->dedicated && c->is_holder) {
        return "this rank is a dedicated holder (dkvrun --dedicated): it "
               "takes no part in fences, drains or loads; call dkv_serve() "
               "on it instead (dkv_is_dedicated() tells)";
    }
    return "not valid now (for example a drain still running on a holder)";
}

dkv_status_t dkv__detail_result(const dkv_ctx_t *ctx, const char *call,
                                const char *key, dkv_status_t status)
{
    dkv_ctx_t *c = own(ctx);

    if (c == NULL) {
        return status;
    }
    if ((status != DKV_OK) && !c->detail_fresh) {
        char what[96] = "";

        if (key != NULL) {
            snprintf(what, sizeof(what), "\"%.64s%s\"", key,
                     (strnlen(key, 65) > 64) ? "..." : "");
        }
        if (status == DKV_ERR_STATE) {
            snprintf(c->stage.detail, sizeof(c->stage.detail), "%s(%s): %s",
                     call, what, state_reason(c, call));
        } else {
            snprintf(c->stage.detail, sizeof(c->stage.detail), "%s(%s): %s",
                     call, what, dkv_strerror(status));
        }
    }
    c->detail_fresh = 0;
    return status;
}

dkv_status_t dkv__detail_bad_key(const dkv_ctx_t *ctx, const char *call,
                                 const char *key)
{
    size_t len;

    if (key == NULL) {
        dkv__detail_set(ctx, "%s: the key is NULL", call);
    } else if ((len = strnlen(key, DKV_KEY_MAX + 1)) == 0) {
        dkv__detail_set(ctx, "%s: the key is empty (keys are 1..%d bytes)",
                        call, DKV_KEY_MAX);
    } else {
        dkv__detail_set(ctx,
                        "%s: key \"%.32s...\" is longer than DKV_KEY_MAX "
                        "(%d bytes; this one has %zu or more)",
                        call, key, DKV_KEY_MAX, len);
    }
    return DKV_ERR_INVALID;
}
