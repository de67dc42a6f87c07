/*
 * client_ops: starting operations on the caller's thread - choosing the
 * holders of a key (its copies, known-dead holders left out), building and
 * sending the request, and the blocking put and get built on them. A put
 * or delete goes to every copy; a get asks the first live copy and, when
 * its holder is lost, the next. Completion and waiting are in client.c.
 *
 * Owner: the thread that called dkv_init. Nothing here is thread-safe.
 */
#define DKV_LOG_MODULE "client"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "crc32c.h"
#include "fault.h"
#include "log.h"
#include "place.h"

/*
 * The holders of a key, in the order they are asked, known-dead ones left
 * out; at most DKV__PLACE_MAX_REPLICAS. With one copy: the key's holder,
 * dead or not (its requests then fail with PEER_LOST).
 */
int dkv__client_targets(const dkv__client_t *c, const char *key,
                        size_t key_len, int *rank)
{
    uint64_t hash = dkv__place_hash(key, key_len);
    int      idx[DKV__PLACE_MAX_REPLICAS];
    int      n, i;

    if (c->replicas <= 1) {
        rank[0] = c->holders[dkv__place_holder(hash, c->nholders)];
        return 1;
    }
    n = dkv__place_replicas(hash, c->nholders, c->holder_node, c->holders,
                            c->peers.dead, c->replicas, idx);
    for (i = 0; i < n; i++) {
        rank[i] = c->holders[idx[i]];
    }
    return n;
}

/* The fault points (fault.h) of sending a request: before the send, or
 * after it (@p sreq: UCX's request, NULL if the send finished at once). */
static void fault_at_send(const struct dkv_request *req, int sent,
                          const void *sreq)
{
    const char *key = dkv__req_key(req);

    switch (req->kind) {
    case DKV__MSG_PUT:
        dkv__fault_hit(!sent ? DKV__FAULT_PUT_CLIENT_BEFORE_SEND
                       : (sreq != NULL) ? DKV__FAULT_PUT_CLIENT_MID_SEND
                                        : DKV__FAULT_PUT_CLIENT_BEFORE_ACK,
                       key);
        return;
    case DKV__MSG_DELETE:
        dkv__fault_hit(sent ? DKV__FAULT_DELETE_CLIENT_BEFORE_ACK
                            : DKV__FAULT_DELETE_CLIENT_BEFORE_SEND,
                       key);
        return;
    case DKV__MSG_LIST:
        if (sent) {
            dkv__fault_hit(DKV__FAULT_LIST_CLIENT_AFTER_SEND, NULL);
        }
        return;
    default:
        return;
    }
}

/* Build a request's header and send it with its value (may be NULL/0). */
static dkv_status_t send_request(dkv__client_t *c, struct dkv_request *req,
                                 int holder, const char *key, size_t key_len,
                                 const void *value, size_t size,
                                 const dkv__client_ext_t *ext)
{
    dkv__wire_hdr_t     fields;
    ucp_request_param_t param;
    ucp_ep_h            ep;
    dkv_status_t        status;
    void               *sreq;

    req->holder = holder;
    status      = dkv__peers_ep(&c->peers, DKV__PEER_SERVER, holder, &ep);
    if (status != DKV_OK) {
        return status;
    }
    memset(&fields, 0, sizeof(fields));
    fields.kind      = req->kind;
    fields.req_id    = dkv__req_id(req);
    fields.value_len = size;
    fields.secret    = c->secret;
    fields.sender    = (uint32_t)c->rank;
    fields.aux       = req->aux;
    if (dkv__client_local_ok(c, req->kind, holder, size)) {
        /* Node-local: the value does not travel with the request. */
        fields.flags = DKV__WIRE_FLAG_LOCAL;
        req->flags |= DKV__REQ_LOCAL;
        req->src       = value;
        req->value_len = size;
        value          = NULL;
        size           = 0;
    } else if (c->checksum && (req->kind == DKV__MSG_PUT)) {
        fields.flags = DKV__WIRE_FLAG_VCRC;
        fields.aux   = dkv__crc32c(0, value, size);
    }
    if (ext == NULL) {
        req->hdr_len = dkv__wire_pack(req->am.bytes, &fields, key, key_len);
    } else {
        fields.flags |= ext->cond ? DKV__WIRE_FLAG_COND : 0;
        req->hdr_len = dkv__wire_pack_ext(req->am.bytes, &fields, key,
                                          key_len, &ext->wire);
    }
    req->start_ns    = dkv__now_ns();
    fault_at_send(req, 0, NULL);

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA |
                         UCP_OP_ATTR_FIELD_FLAGS;
    param.cb.send      = dkv__client_send_cb;
    param.user_data    = req;
    /* REPLY: a holder answers a malformed request at once on the
     * connection it came from (valid ones on the client's own). */
    param.flags        = UCP_AM_SEND_FLAG_REPLY;
    if (size >= c->rndv_thresh) {
        param.flags |= UCP_AM_SEND_FLAG_RNDV;
    }
    sreq = ucp_am_send_nbx(ep, req->kind, req->am.bytes, req->hdr_len, value,
                           size, &param);
    if (UCS_PTR_IS_ERR(sreq)) {
        DKV_LOG_DEBUG("send to holder %d failed: %s", req->holder,
                      ucs_status_string(UCS_PTR_STATUS(sreq)));
        req->flags &= ~DKV__REQ_LOCAL;
        return dkv__status_from_ucs(UCS_PTR_STATUS(sreq));
    }
    if (sreq == NULL) {
        /* A LOCAL put's value is still to be copied (after the grant). */
        req->flags |= dkv__client_value_sent(req) ? DKV__REQ_SEND_DONE : 0;
    } else {
        req->send_req = sreq;
        c->sends_queued++;
    }
    fault_at_send(req, 1, sreq);
    return DKV_OK;
}

static dkv_status_t write_one(dkv__client_t *c, uint8_t kind, int holder,
                              const char *key, size_t key_len,
                              const void *value, size_t size, int user,
                              const dkv__client_ext_t *ext,
                              struct dkv_request **req_p)
{
    struct dkv_request *req = dkv__req_alloc(c);
    dkv_status_t        status;

    if (req == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    req->kind = kind;
    status    = send_request(c, req, holder, key, key_len, value, size, ext);
    if (status != DKV_OK) {
        dkv__req_release(c, req);
        return status;
    }
    req->flags |= DKV__REQ_WRITE | (user ? DKV__REQ_USER : 0);
    dkv__list_push_tail(&c->writes, &req->wlink);
    c->outstanding++;
    *req_p = req;
    return DKV_OK;
}

/* Hand the copies of a write that failed to start back to the pool. */
static void drop_chain(dkv__client_t *c, struct dkv_request *req)
{
    struct dkv_request *next;

    for (; req != NULL; req = next) {
        next         = req->sibling;
        req->sibling = NULL;
        req->flags &= ~DKV__REQ_USER;
        if (req->flags & DKV__REQ_COMPLETE) {
            dkv__req_release(c, req);
        }
    }
}

static int in_chain(const struct dkv_request *req, int holder)
{
    for (; req != NULL; req = req->sibling) {
        if (req->holder == holder) {
            return 1;
        }
    }
    return 0;
}

/* Start the copies of a write that are not started yet (a copy per target
 * holder not in the chain); appends to *@p tail. */
static dkv_status_t start_copies(dkv__client_t *c, uint8_t kind,
                                 const char *key, size_t key_len,
                                 const void *value, size_t size,
                                 struct dkv_request *head,
                                 struct dkv_request ***tail)
{
    int          rank[DKV__PLACE_MAX_REPLICAS];
    int          n = dkv__client_targets(c, key, key_len, rank);
    dkv_status_t status = DKV_OK;
    int          i;

    if ((kind == DKV__MSG_PUT) && (n < c->replicas)) {
        DKV_LOG_WARN("put of key %s: %d live holders for %d copies", key, n,
                     c->replicas);
        return DKV_ERR_REPLICAS;
    }
    if (n == 0) {
        return DKV_ERR_PEER_LOST; /* a delete with every holder lost */
    }
    for (i = 0; (i < n) && (status == DKV_OK); i++) {
        if (in_chain(head, rank[i])) {
            continue;
        }
        status = write_one(c, kind, rank[i], key, key_len, value, size, 1,
                           NULL, *tail);
        if (status == DKV_OK) {
            (**tail)->sibling = NULL;
            *tail = &(**tail)->sibling;
        }
    }
    return status;
}

dkv_status_t dkv__client_write_one(dkv__client_t *c, uint8_t kind,
                                   int holder, const char *key,
                                   size_t key_len, const void *value,
                                   size_t size, const dkv__client_ext_t *ext,
                                   struct dkv_request **req_p)
{
    return write_one(c, kind, holder, key, key_len, value, size, 1, ext,
                     req_p);
}

/*
 * Send a put or delete to every holder of the key. With @p keep the copies
 * are chained from the first by ->sibling and stay their waiter's (the
 * user's, or a blocking put's) until it lets them go; without, they are
 * released when acknowledged. A put needs every copy's holder alive: a
 * holder found lost while starting is replaced once by the next live one.
 * If the write cannot be started in full, the copies already started are
 * waited for until sent (they read @p value) and the error is returned.
 */
static dkv_status_t write_start(dkv__client_t *c, uint8_t kind,
                                const char *key, size_t key_len,
                                const void *value, size_t size, int keep,
                                struct dkv_request **req_p)
{
    struct dkv_request *head = NULL, **tail = &head;
    dkv_status_t        status;

    status = start_copies(c, kind, key, key_len, value, size, head, &tail);
    if ((status == DKV_ERR_PEER_LOST) && (head != NULL)) {
        status = start_copies(c, kind, key, key_len, value, size, head,
                              &tail);
    }
    if (status != DKV_OK) {
        if (head != NULL) {
            (void)dkv__client_release_sent(c, head,
                                           dkv__now_ns() + c->timeout_ns);
        }
        return status;
    }
    if (!keep) {
        drop_chain(c, head);
        return DKV_OK;
    }
    *req_p = head;
    return DKV_OK;
}

dkv_status_t dkv__client_put_start(dkv__client_t *c, const char *key,
                                   size_t key_len, const void *value,
                                   size_t size, int user,
                                   struct dkv_request **req_p)
{
    return write_start(c, DKV__MSG_PUT, key, key_len, value, size, 1, req_p);
}

dkv_status_t dkv__client_delete_start(dkv__client_t *c, const char *key,
                                      size_t key_len)
{
    return write_start(c, DKV__MSG_DELETE, key, key_len, NULL, 0, 0, NULL);
}

/*
 * The holders a get asks, in order. The live ones among the key's first k
 * holders with every holder counted: they got every write of the key, made
 * before any loss or after (writes go to the first k live holders, which
 * include them). If all of those are lost, the holders later writes went
 * to; a key missing there may have been lost with the others, so
 * *@p orphan_p is set (NOT_FOUND then becomes PEER_LOST).
 */
static int read_targets(const dkv__client_t *c, const char *key,
                        size_t key_len, int *rank, int *orphan_p)
{
    uint64_t hash = dkv__place_hash(key, key_len);
    int      idx[DKV__PLACE_MAX_REPLICAS];
    int      n, i, live = 0;

    *orphan_p = 0;
    if (c->replicas <= 1) {
        return dkv__client_targets(c, key, key_len, rank);
    }
    n = dkv__place_replicas(hash, c->nholders, c->holder_node, NULL, NULL,
                            c->replicas, idx);
    for (i = 0; i < n; i++) {
        if (!c->peers.dead[c->holders[idx[i]]]) {
            rank[live++] = c->holders[idx[i]];
        }
    }
    if (live > 0) {
        return live;
    }
    *orphan_p = 1;
    return dkv__client_targets(c, key, key_len, rank);
}

/* The first holder of the key not yet tried, or -1. */
int dkv__client_next_target(const dkv__client_t *c, const char *key,
                            size_t key_len, const int *tried, int ntried,
                            int *orphan_p)
{
    int rank[DKV__PLACE_MAX_REPLICAS];
    int n = read_targets(c, key, key_len, rank, orphan_p);
    int i, j;

    for (i = 0; i < n; i++) {
        for (j = 0; (j < ntried) && (tried[j] != rank[i]); j++) {
        }
        if (j == ntried) {
            return rank[i];
        }
    }
    return -1;
}

/* Start a request whose reply carries a value: a get (@p key) or a
 * staging request (@p payload, @p aux). */
static dkv_status_t data_request_start(dkv__client_t *c, uint8_t kind,
                                       int holder, const char *key,
                                       size_t key_len, const void *payload,
                                       size_t plen, uint64_t aux, void *buf,
                                       size_t buf_size, size_t *size_p,
                                       void **alloc_p, int user,
                                       const dkv__client_ext_t *ext,
                                       struct dkv_request **req_p)
{
    struct dkv_request *req = dkv__req_alloc(c);
    dkv_status_t        status;

    if (req == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    req->kind     = kind;
    req->aux      = aux;
    req->buf      = buf;
    req->buf_size = buf_size;
    req->size_p   = size_p;
    req->alloc_p  = alloc_p;
    status = send_request(c, req, holder, key, key_len, payload, plen, ext);
    if (status != DKV_OK) {
        dkv__req_release(c, req);
        return status;
    }
    req->flags |= user ? DKV__REQ_USER : 0;
    dkv__list_push_tail(&c->gets, &req->wlink);
    *req_p = req;
    return DKV_OK;
}

static dkv_status_t get_start_at(dkv__client_t *c, int holder,
                                 const char *key, size_t key_len, void *buf,
                                 size_t buf_size, size_t *size_p,
                                 void **alloc_p, int user,
                                 struct dkv_request **req_p)
{
    return data_request_start(c, DKV__MSG_GET, holder, key, key_len, NULL, 0,
                              0, buf, buf_size, size_p, alloc_p, user, NULL,
                              req_p);
}

dkv_status_t dkv__client_get_at(dkv__client_t *c, int holder,
                                const char *key, size_t key_len, void *buf,
                                size_t buf_size, size_t *size_p,
                                const dkv__client_ext_t *ext,
                                struct dkv_request **req_p)
{
    return data_request_start(c, DKV__MSG_GET, holder, key, key_len, NULL, 0,
                              0, buf, buf_size, size_p, NULL, 0, ext, req_p);
}

dkv_status_t dkv__client_call_start(dkv__client_t *c, int holder,
                                    uint8_t kind, uint64_t aux,
                                    const void *payload, size_t len,
                                    void **reply_p, size_t *reply_len_p,
                                    struct dkv_request **req_p)
{
    return data_request_start(c, kind, holder, NULL, 0, payload, len, aux,
                              NULL, 0, reply_len_p, reply_p, 1, NULL, req_p);
}

int dkv__client_call_all(dkv__client_t *c, int n, const int *rank,
                         uint8_t kind, uint64_t aux, const char *payload,
                         size_t stride, size_t len, void **reply,
                         size_t *reply_len, dkv_status_t *status)
{
    struct dkv_request **req = calloc((n > 0) ? (size_t)n : 1, sizeof(*req));
    uint64_t             deadline;
    int                  i, timed_out = 0;

    for (i = 0; i < n; i++) {
        reply[i] = NULL;
        if ((rank[i] >= 0) && (req == NULL)) {
            status[i] = DKV_ERR_NO_MEMORY;
        } else if (rank[i] >= 0) {
            status[i] = dkv__client_call_start(
                c, rank[i], kind, aux,
                (payload != NULL) ? payload + (size_t)i * stride : NULL, len,
                &reply[i], &reply_len[i], &req[i]);
        }
    }
    deadline = dkv__now_ns() + c->timeout_ns; /* one for all of them */
    for (i = 0; (req != NULL) && (i < n); i++) {
        if ((rank[i] < 0) || (status[i] != DKV_OK)) {
            continue;
        }
        status[i] = dkv__client_finish_until(c, req[i], deadline);
        timed_out |= (status[i] == DKV_ERR_TIMEOUT);
    }
    free(req);
    return timed_out;
}

dkv_status_t dkv__client_get_start(dkv__client_t *c, const char *key,
                                   size_t key_len, void *buf, size_t buf_size,
                                   size_t *size_p, void **alloc_p, int user,
                                   struct dkv_request **req_p)
{
    int          orphan;
    int          holder = dkv__client_next_target(c, key, key_len, NULL, 0, &orphan);
    dkv_status_t status;

    if (holder < 0) {
        return DKV_ERR_PEER_LOST; /* every copy's holder is lost */
    }
    status = get_start_at(c, holder, key, key_len, buf, buf_size, size_p,
                          alloc_p, user, req_p);
    if ((status == DKV_OK) && orphan) {
        (*req_p)->flags |= DKV__REQ_ORPHAN;
    }
    return status;
}

dkv_status_t dkv__client_get(dkv__client_t *c, const char *key,
                             size_t key_len, void *buf, size_t buf_size,
                             size_t *size_p, void **alloc_p, int lost)
{
    int                 tried[DKV__PLACE_MAX_REPLICAS + 1];
    int                 ntried = 0, holder, orphan;
    struct dkv_request *req;
    dkv_status_t        status = DKV_ERR_PEER_LOST;

    if (lost >= 0) {
        tried[ntried++] = lost;
    }
    while ((ntried <= DKV__PLACE_MAX_REPLICAS) &&
           ((holder = dkv__client_next_target(c, key, key_len, tried, ntried, &orphan)) >=
            0)) {
        tried[ntried++] = holder;
        status = get_start_at(c, holder, key, key_len, buf, buf_size, size_p,
                              alloc_p, 0, &req);
        if (status == DKV_OK) {
            req->flags |= orphan ? DKV__REQ_ORPHAN : 0;
            status = dkv__client_finish(c, req);
        }
        if (status != DKV_ERR_PEER_LOST) {
            break;
        }
        DKV_LOG_INFO("get of key %s: holder %d lost, trying the next copy",
                     key, holder);
    }
    return status;
}

static int req_sent(void *arg)
{
    const struct dkv_request *req = arg;

    return (req->flags & (DKV__REQ_SEND_DONE | DKV__REQ_COMPLETE |
                          DKV__REQ_ABANDONED)) != 0;
}

dkv_status_t dkv__client_release_sent(dkv__client_t *c,
                                      struct dkv_request *head,
                                      uint64_t deadline)
{
    struct dkv_request *req;
    dkv_status_t        status = DKV_OK;

    for (req = head; req != NULL; req = req->sibling) {
        if (!req_sent(req) &&
            (dkv__client_wait(c, req_sent, req, -1, deadline) != DKV_OK)) {
            DKV_LOG_WARN("write to holder %d not sent after %llu ms",
                         req->holder,
                         (unsigned long long)(c->timeout_ns / 1000000));
            dkv__client_cut(c, req); /* it reads the caller's buffer */
            dkv__client_abandon(c, req);
        }
        if ((req->flags & DKV__REQ_ABANDONED) && (status == DKV_OK)) {
            status = req->status;
        }
    }
    drop_chain(c, head);
    return status;
}

dkv_status_t dkv__client_put(dkv__client_t *c, const char *key,
                             size_t key_len, const void *value, size_t size)
{
    struct dkv_request *head;
    dkv_status_t        status;

    status = write_start(c, DKV__MSG_PUT, key, key_len, value, size, 1,
                         &head);
    if (status != DKV_OK) {
        return status;
    }
    return dkv__client_release_sent(c, head, dkv__now_ns() + c->timeout_ns);
}

