/*
 * api: the data entry points. Each checks its arguments and the context's
 * state, then delegates to the client (client.c) or the barrier (barrier.c).
 * Nothing here waits by itself.
 */
#define DKV_LOG_MODULE "api"

#include <string.h>

#include "clock.h"
#include "ctx.h"
#include "api_detail.h"
#include "log.h"

/* Length of a valid key (1..DKV_KEY_MAX), or 0 for an invalid one. */
static size_t key_length(const char *key)
{
    size_t len;

    if (key == NULL) {
        return 0;
    }
    len = strnlen(key, DKV_KEY_MAX + 1);
    return (len > DKV_KEY_MAX) ? 0 : len;
}

static dkv_status_t check_call(const dkv_ctx_t *ctx, const char *call,
                               const char *key, size_t *key_len_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    if (status != DKV_OK) {
        return status;
    }
    *key_len_p = key_length(key);
    return (*key_len_p == 0) ? dkv__detail_bad_key(ctx, call, key) : DKV_OK;
}

/* A value no put may send: missing bytes, or larger than the wire allows
 * (rejected before anything is read from the buffer). */
static int bad_value(const dkv_ctx_t *ctx, const char *call,
                     const void *value, size_t size)
{
    if ((value == NULL) && (size > 0)) {
        dkv__detail_set(ctx, "%s: value is NULL but size is %zu", call, size);
        return 1;
    }
    if (size > DKV__WIRE_VALUE_MAX) {
        dkv__detail_set(ctx, "%s: size %zu is larger than the largest value "
                        "(2^48 bytes)", call, size);
        return 1;
    }
    return 0;
}

/* The checks shared with api_kv.c (ctx.h). */
dkv_status_t dkv__api_check_key(const dkv_ctx_t *ctx, const char *call,
                                const char *key, size_t *key_len_p)
{
    return check_call(ctx, call, key, key_len_p);
}

dkv_status_t dkv__api_check_read(const dkv_ctx_t *ctx, const char *call,
                                 const char *key, const void *buf, size_t len,
                                 size_t *key_len_p)
{
    dkv_status_t status = check_call(ctx, call, key, key_len_p);

    if ((status == DKV_OK) && (buf == NULL) && (len > 0)) {
        dkv__detail_set(ctx, "%s: buffer is NULL but length is %zu", call,
                        len);
        return DKV_ERR_INVALID;
    }
    return status;
}

dkv_status_t dkv__api_check_write(const dkv_ctx_t *ctx, const char *call,
                                  const char *key, const void *value,
                                  size_t size, size_t *key_len_p)
{
    dkv_status_t status = check_call(ctx, call, key, key_len_p);

    if ((status == DKV_OK) && bad_value(ctx, call, value, size)) {
        return DKV_ERR_INVALID;
    }
    return status;
}

static dkv_status_t put_call(dkv_ctx_t *ctx, const char *key,
                             const void *value, size_t size)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_put", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    if (bad_value(ctx, "dkv_put", value, size)) {
        return DKV_ERR_INVALID;
    }
    return dkv__client_put(&ctx->client, key, key_len, value, size);
}

static dkv_status_t put_nb_call(dkv_ctx_t *ctx, const char *key, const void *value,
                        size_t size, dkv_request_t **req_p)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_put_nb", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    if (bad_value(ctx, "dkv_put_nb", value, size) || (req_p == NULL)) {
        return DKV_ERR_INVALID;
    }
    return dkv__client_put_start(&ctx->client, key, key_len, value, size, 1,
                                 req_p);
}

static dkv_status_t delete_call(dkv_ctx_t *ctx, const char *key)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_delete", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_delete_start(&ctx->client, key, key_len);
}

static dkv_status_t get_nb_call(dkv_ctx_t *ctx, const char *key, void *buf,
                        size_t buf_size, size_t *size_p,
                        dkv_request_t **req_p)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_get_nb", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    if (((buf == NULL) && (buf_size > 0)) || (req_p == NULL)) {
        return DKV_ERR_INVALID;
    }
    return dkv__client_get_start(&ctx->client, key, key_len, buf, buf_size,
                                 size_p, NULL, 1, req_p);
}

static dkv_status_t get_call(dkv_ctx_t *ctx, const char *key, void *buf,
                     size_t buf_size, size_t *size_p)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_get", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    if ((buf == NULL) && (buf_size > 0)) {
        return DKV_ERR_INVALID;
    }
    return dkv__client_get(&ctx->client, key, key_len, buf, buf_size, size_p,
                           NULL, -1);
}

static dkv_status_t get_alloc_call(dkv_ctx_t *ctx, const char *key, void **value_p,
                           size_t *size_p)
{
    size_t       key_len;
    dkv_status_t status = check_call(ctx, "dkv_get_alloc", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    if (value_p == NULL) {
        return DKV_ERR_INVALID;
    }
    return dkv__client_get(&ctx->client, key, key_len, NULL, 0, size_p,
                           value_p, -1);
}

static dkv_status_t quiet_call(dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_quiet(&ctx->client);
}

static dkv_status_t fence_call(dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv__ctx_check(ctx);
    int32_t      verdict;

    if (status != DKV_OK) {
        return status;
    }
    if (ctx->client.barrier.me < 0) {
        return DKV_ERR_STATE; /* dedicated holders take no part */
    }
    status = dkv__client_quiet(&ctx->client);
    status = dkv__barrier_run(&ctx->client, status, &verdict,
                              dkv__deadline_ms(ctx->cfg.TIMEOUT_MS));
    if (status == DKV_OK) {
        status = (dkv_status_t)verdict;
    }
    if ((status == DKV_OK) && ctx->stage.loss_unreported) {
        status = DKV_ERR_PEER_LOST; /* seen by a drain's fence (stage.h) */
    }
    if (status != DKV_ERR_TIMEOUT) {
        ctx->stage.loss_unreported = 0;
    }
    return status;
}

size_t dkv_failed_count(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->client.nfailures : 0;
}

dkv_status_t dkv_failed_key(const dkv_ctx_t *ctx, size_t index,
                            const char **key_p, dkv_status_t *status_p)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    if (status != DKV_OK) {
        return status;
    }
    if ((index >= ctx->client.nfailures) || (key_p == NULL)) {
        return DKV_ERR_INVALID;
    }
    *key_p = ctx->client.failures[index].key;
    if (status_p != NULL) {
        *status_p = ctx->client.failures[index].status;
    }
    return DKV_OK;
}

/* A request handed to the user and still theirs, in a live context. */
static dkv_status_t check_request(const dkv_request_t *req)
{
    dkv_status_t status = dkv__ctx_check(&dkv__the_ctx);

    /* The context first: after finalize the request pool is gone. */
    if (status != DKV_OK) {
        return status;
    }
    if ((req == NULL) || (req->magic != DKV__REQ_MAGIC) ||
        !(req->flags & DKV__REQ_USER)) {
        return DKV_ERR_INVALID;
    }
    return DKV_OK;
}

/* Every copy of the request has completed or been given up on (timeout,
 * dead holder): dkv_wait then reports why without waiting. */
static int req_done(const dkv_request_t *req)
{
    for (; req != NULL; req = req->sibling) {
        if (!(req->flags & (DKV__REQ_COMPLETE | DKV__REQ_ABANDONED))) {
            return 0;
        }
    }
    return 1;
}

dkv_status_t dkv_test(dkv_request_t *req, int *done_p)
{
    dkv_status_t status = check_request(req);

    if ((status != DKV_OK) || (done_p == NULL)) {
        return (status != DKV_OK) ? status : DKV_ERR_INVALID;
    }
    if (!req_done(req)) {
        dkv__client_progress(req->client);
    }
    *done_p = req_done(req);
    return DKV_OK;
}

/* A get whose holder was lost is asked again of the key's next copy. */
static dkv_status_t wait_get(dkv_request_t *req)
{
    dkv__client_t *c = req->client;
    char           key[DKV_KEY_MAX + 1];
    void          *buf      = req->buf;
    size_t         buf_size = req->buf_size;
    size_t        *size_p   = req->size_p;
    int            holder   = req->holder;
    dkv_status_t   status;

    strcpy(key, dkv__req_key(req));
    status = dkv__client_finish(c, req);
    if (status != DKV_ERR_PEER_LOST) {
        return status;
    }
    return dkv__client_get(c, key, strlen(key), buf, buf_size, size_p, NULL,
                           holder);
}

static dkv_status_t wait_call(dkv_request_t *req)
{
    dkv_status_t status = check_request(req);

    if (status != DKV_OK) {
        return status;
    }
    if ((req->kind == DKV__MSG_GET) && (req->client->replicas > 1)) {
        return wait_get(req);
    }
    return dkv__client_finish(req->client, req);
}

/* The public entry points: each call's result, its reason kept for
 * dkv_error_detail() when it failed. */
dkv_status_t dkv_put(dkv_ctx_t *ctx, const char *key, const void *value,
                     size_t size)
{
    return dkv__detail_result(ctx, "dkv_put", key,
                              put_call(ctx, key, value, size));
}

dkv_status_t dkv_put_nb(dkv_ctx_t *ctx, const char *key, const void *value,
                        size_t size, dkv_request_t **req_p)
{
    return dkv__detail_result(ctx, "dkv_put_nb", key,
                              put_nb_call(ctx, key, value, size, req_p));
}

dkv_status_t dkv_delete(dkv_ctx_t *ctx, const char *key)
{
    return dkv__detail_result(ctx, "dkv_delete", key, delete_call(ctx, key));
}

dkv_status_t dkv_get_nb(dkv_ctx_t *ctx, const char *key, void *buf,
                        size_t buf_size, size_t *size_p,
                        dkv_request_t **req_p)
{
    return dkv__detail_result(
        ctx, "dkv_get_nb", key,
        get_nb_call(ctx, key, buf, buf_size, size_p, req_p));
}

dkv_status_t dkv_get(dkv_ctx_t *ctx, const char *key, void *buf,
                     size_t buf_size, size_t *size_p)
{
    return dkv__detail_result(ctx, "dkv_get", key,
                              get_call(ctx, key, buf, buf_size, size_p));
}

dkv_status_t dkv_get_alloc(dkv_ctx_t *ctx, const char *key, void **value_p,
                           size_t *size_p)
{
    return dkv__detail_result(ctx, "dkv_get_alloc", key,
                              get_alloc_call(ctx, key, value_p, size_p));
}

dkv_status_t dkv_quiet(dkv_ctx_t *ctx)
{
    return dkv__detail_result(ctx, "dkv_quiet", NULL, quiet_call(ctx));
}

dkv_status_t dkv_fence(dkv_ctx_t *ctx)
{
    return dkv__detail_result(ctx, "dkv_fence", NULL, fence_call(ctx));
}

dkv_status_t dkv_wait(dkv_request_t *req)
{
    return dkv__detail_result(&dkv__the_ctx, "dkv_wait", NULL,
                              wait_call(req));
}
