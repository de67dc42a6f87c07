/*
 * api_kv: the entry points of the key/value semantics of issue 14 -
 * dkv_read, dkv_stat, dkv_put_if, dkv_delete_if. Each checks its
 * arguments and the context's state, then delegates to client_kv.c.
 */
#include "api_detail.h"
#include "ctx.h"

static dkv_status_t read_call(dkv_ctx_t *ctx, const char *key, size_t offset,
                      void *buf, size_t len, size_t *copied_p,
                      size_t *value_size_p, uint64_t *generation_p)
{
    size_t       key_len;
    dkv_status_t status = dkv__api_check_read(ctx, "dkv_read", key, buf, len, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_read(&ctx->client, key, key_len, offset, buf, len,
                            copied_p, value_size_p, generation_p);
}

dkv_status_t dkv_stat(dkv_ctx_t *ctx, const char *key, size_t *size_p,
                      uint64_t *generation_p)
{
    return dkv__detail_result(
        ctx, "dkv_stat", key,
        read_call(ctx, key, 0, NULL, 0, NULL, size_p, generation_p));
}

static dkv_status_t put_if_call(dkv_ctx_t *ctx, const char *key, const void *value,
                        size_t size, uint64_t if_generation,
                        uint64_t *generation_p)
{
    size_t       key_len;
    dkv_status_t status = dkv__api_check_write(ctx, "dkv_put_if", key, value, size,
                                               &key_len);

    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_write_if(&ctx->client, DKV__MSG_PUT, key, key_len,
                                value, size, if_generation, generation_p);
}

static dkv_status_t delete_if_call(dkv_ctx_t *ctx, const char *key,
                           uint64_t if_generation, uint64_t *generation_p)
{
    size_t       key_len;
    dkv_status_t status = dkv__api_check_key(ctx, "dkv_delete_if", key, &key_len);

    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_write_if(&ctx->client, DKV__MSG_DELETE, key, key_len,
                                NULL, 0, if_generation, generation_p);
}

dkv_status_t dkv_read(dkv_ctx_t *ctx, const char *key, size_t offset,
                      void *buf, size_t len, size_t *copied_p,
                      size_t *value_size_p, uint64_t *generation_p)
{
    return dkv__detail_result(ctx, "dkv_read", key,
                              read_call(ctx, key, offset, buf, len, copied_p,
                                        value_size_p, generation_p));
}

dkv_status_t dkv_put_if(dkv_ctx_t *ctx, const char *key, const void *value,
                        size_t size, uint64_t if_generation,
                        uint64_t *generation_p)
{
    return dkv__detail_result(ctx, "dkv_put_if", key,
                              put_if_call(ctx, key, value, size,
                                          if_generation, generation_p));
}

dkv_status_t dkv_delete_if(dkv_ctx_t *ctx, const char *key,
                           uint64_t if_generation, uint64_t *generation_p)
{
    return dkv__detail_result(ctx, "dkv_delete_if", key,
                              delete_if_call(ctx, key, if_generation,
                                             generation_p));
}
