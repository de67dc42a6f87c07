/*
 * api_detail: why this rank's last failed public call failed, in one line,
 * for dkv_error_detail(). Every entry point passes its result through
 * dkv__detail_result(); a call that knows more (a bad key, a missing
 * directory) says so first with dkv__detail_set(). The text lives in
 * ctx->stage.detail (the staging calls wrote it there first).
 *
 * Owner: the thread that owns the context, like every call that fails.
 */
#ifndef DKV_API_DETAIL_H
#define DKV_API_DETAIL_H

#include <stddef.h>

#include "dramkv.h"

struct dkv_ctx;

/* Record a specific reason (printf-style) for the call now failing. No-op
 * when @p ctx is not the process's context. */
void dkv__detail_set(const struct dkv_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The result of public call @p call for @p key (NULL: none): on failure,
 * keep the reason set during the call or write a general one (naming the
 * key and, for DKV_ERR_STATE, what state the rank is in). Returns
 * @p status. */
dkv_status_t dkv__detail_result(const struct dkv_ctx *ctx, const char *call,
                                const char *key, dkv_status_t status);

/* Why @p key is not a valid key (NULL, empty, longer than DKV_KEY_MAX),
 * recorded for @p call; DKV_ERR_INVALID. */
dkv_status_t dkv__detail_bad_key(const struct dkv_ctx *ctx, const char *call,
                                 const char *key);

#endif
