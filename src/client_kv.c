/*
 * client_kv: the client side of the key/value semantics of issue 14 -
 * ranged reads and stat with the generation read, and conditional writes
 * (put_if, delete_if).
 *
 * A read asks the key's first live copy, like a get, and the next one when
 * that holder is lost; only the bytes asked for travel back.
 *
 * A conditional write is decided by one copy: the key's first live holder
 * checks the condition and stamps the generation at one instant
 * (holder_cond.c). Only when it has said yes are the other copies sent,
 * as followers carrying that generation (DKV__WIRE_GEN_FOLLOW), and the
 * call waits for them too, so when it returns every live copy has the
 * value - or something newer - and readers of any copy agree on it. A
 * conditional write's failure is returned by its call, never listed again
 * by dkv_quiet().
 *
 * Owner: the thread that called dkv_init. Blocking, bounded by the timeout.
 */
#define DKV_LOG_MODULE "client"

#include <string.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "place.h"

/* One read at @p holder; DKV_ERR_PEER_LOST lets the caller try the next. */
static dkv_status_t read_at(dkv__client_t *c, int holder, int orphan,
                            const char *key, size_t key_len,
                            const dkv__client_ext_t *ext, void *buf,
                            size_t len, size_t *copied_p, uint64_t *gen_p,
                            size_t *full_p)
{
    struct dkv_request *req;
    dkv_status_t        status;

    status = dkv__client_get_at(c, holder, key, key_len, buf, len, copied_p,
                                ext, &req);
    if (status != DKV_OK) {
        return status;
    }
    req->flags |= orphan ? DKV__REQ_ORPHAN : 0;
    req->generation_p = gen_p;
    req->full_size_p  = full_p;
    return dkv__client_finish(c, req);
}

dkv_status_t dkv__client_read(dkv__client_t *c, const char *key,
                              size_t key_len, size_t offset, void *buf,
                              size_t len, size_t *copied_p,
                              size_t *value_size_p, uint64_t *generation_p)
{
    dkv__client_ext_t ext = {.wire = {.offset = offset, .length = len}};
    int               tried[DKV__PLACE_MAX_REPLICAS + 1];
    int               ntried = 0, holder, orphan;
    size_t            copied = 0, full = 0;
    uint64_t          gen    = 0;
    dkv_status_t      status = DKV_ERR_PEER_LOST;

    while ((ntried <= DKV__PLACE_MAX_REPLICAS) &&
           ((holder = dkv__client_next_target(c, key, key_len, tried, ntried,
                                              &orphan)) >= 0)) {
        tried[ntried++] = holder;
        status = read_at(c, holder, orphan, key, key_len, &ext, buf, len,
                         &copied, &gen, &full);
        if (status != DKV_ERR_PEER_LOST) {
            break;
        }
        DKV_LOG_INFO("read of key %s: holder %d lost, trying the next copy",
                     key, holder);
    }
    if (status != DKV_OK) {
        return status;
    }
    if (copied_p != NULL) {
        *copied_p = copied;
    }
    if (value_size_p != NULL) {
        *value_size_p = full;
    }
    if (generation_p != NULL) {
        *generation_p = gen;
    }
    return DKV_OK;
}

/* Start one copy of a conditional write (or of its followers). */
static dkv_status_t start_one(dkv__client_t *c, uint8_t kind, int holder,
                              const char *key, size_t key_len,
                              const void *value, size_t size,
                              const dkv__client_ext_t *ext, uint64_t *gen_p,
                              struct dkv_request **req_p)
{
    dkv_status_t status;

    status = dkv__client_write_one(c, kind, holder, key, key_len, value, size,
                                   ext, req_p);
    if (status == DKV_OK) {
        (*req_p)->flags |= DKV__REQ_DECIDED;
        (*req_p)->generation_p = gen_p;
    }
    return status;
}

/*
 * The other copies follow the first one's decision (generation @p gen):
 * all sent at once, then each waited for with one deadline. The first
 * error, or DKV_OK.
 */
static dkv_status_t follow(dkv__client_t *c, uint8_t kind, const int *rank,
                           int n, const char *key, size_t key_len,
                           const void *value, size_t size, uint64_t gen)
{
    dkv__client_ext_t   ext = {.wire = {.generation = gen,
                                        .mode       = DKV__WIRE_GEN_FOLLOW,
                                        .length     = DKV__WIRE_LEN_ALL}};
    struct dkv_request *req[DKV__PLACE_MAX_REPLICAS];
    dkv_status_t        status = DKV_OK, one;
    uint64_t            deadline;
    int                 i;

    for (i = 1; i < n; i++) {
        one = start_one(c, kind, rank[i], key, key_len, value, size, &ext,
                        NULL, &req[i]);
        if (one != DKV_OK) {
            req[i] = NULL;
            status = (status == DKV_OK) ? one : status;
        }
    }
    deadline = dkv__now_ns() + c->timeout_ns;
    for (i = 1; i < n; i++) {
        if (req[i] != NULL) {
            one    = dkv__client_finish_until(c, req[i], deadline);
            status = (status == DKV_OK) ? one : status;
        }
    }
    if (status != DKV_OK) {
        DKV_LOG_WARN("conditional write of key %s: decided, but a copy "
                     "failed: %s", key, dkv_strerror(status));
    }
    return status;
}

dkv_status_t dkv__client_write_if(dkv__client_t *c, uint8_t kind,
                                  const char *key, size_t key_len,
                                  const void *value, size_t size,
                                  uint64_t if_generation,
                                  uint64_t *generation_p)
{
    dkv__client_ext_t   ext = {.wire = {.if_generation = if_generation,
                                        .length        = DKV__WIRE_LEN_ALL},
                               .cond = 1};
    int                 rank[DKV__PLACE_MAX_REPLICAS];
    int                 n   = dkv__client_targets(c, key, key_len, rank);
    uint64_t            gen = 0;
    struct dkv_request *req;
    dkv_status_t        status;

    if ((kind == DKV__MSG_PUT) && (n < c->replicas)) {
        return DKV_ERR_REPLICAS;
    }
    if (n == 0) {
        return DKV_ERR_PEER_LOST;
    }
    status = start_one(c, kind, rank[0], key, key_len, value, size, &ext,
                       &gen, &req);
    if (status == DKV_OK) {
        status = dkv__client_finish(c, req);
    }
    if ((status == DKV_OK) && (n > 1) &&
        ((kind == DKV__MSG_PUT) || (if_generation != 0))) {
        /* A delete follows the generation it removed. */
        status = follow(c, kind, rank, n, key, key_len, value, size,
                        (kind == DKV__MSG_PUT) ? gen : if_generation);
    }
    if (((status == DKV_OK) || (status == DKV_ERR_CONFLICT)) &&
        (generation_p != NULL)) {
        *generation_p = gen;
    }
    return status;
}
