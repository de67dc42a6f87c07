/*
 * holder_ops: how a holder serves one request.
 *
 * The AM handler runs inside the holder thread's progress call and only
 * records: it takes an op from the pool, validates and copies the header and
 * key, keeps the value data (returning UCS_INPROGRESS) and queues the op.
 * dkv__holder_process() then, on the same thread:
 *   PUT    reserves the entry (the memory limit is checked here, so nothing
 *          partial is ever visible), copies an eager value or receives a
 *          rendezvous value straight into the entry, publishes it, acks;
 *   GET    pins the entry and sends the value from the store's memory
 *          (zero-copy above rndv_thresh); the pin is dropped when the send
 *          completes, so an overwrite meanwhile never frees bytes in flight;
 *   DELETE unpublishes the entry and acks.
 * Generations, conditions (put_if, delete_if, replica copies) and byte
 * ranges are decided in holder_cond.c, at the same points.
 * Ordering: ops are handled in arrival order. A rendezvous put still
 * receiving when a later put or delete of the same key is applied is marked
 * superseded and is dropped (but acked) when its data lands, so puts from
 * one rank to one key take effect in issue order.
 * Malformed requests are counted, logged once, answered with
 * DKV_ERR_PROTOCOL where a reply is possible, and dropped.
 */
#define DKV_LOG_MODULE "holder"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "crc32c.h"
#include "holder_int.h"
#include "log.h"
#include "place.h"

static dkv__op_t *take_op(dkv__holder_t *h)
{
    dkv__list_t *l = dkv__list_pop_head(&h->free_ops);
    dkv__op_t   *op;

    if (l != NULL) {
        h->nfree--;
        op = DKV__CONTAINER_OF(l, dkv__op_t, link);
    } else {
        /* Slow path: the pool ran dry within one progress call. */
        op = malloc(sizeof(*op));
        if (op == NULL) {
            return NULL;
        }
        op->heap   = 1;
        op->holder = h;
        dkv__list_init(&op->flight);
    }
    h->busy++;
    op->state      = DKV__OP_NEW;
    op->superseded = 0;
    op->status     = DKV_OK;
    op->data       = NULL;
    op->data_len   = 0;
    op->rndv       = 0;
    op->ucx_req    = NULL;
    op->entry      = NULL;
    op->reply_buf  = NULL;
    op->stranger_ep = NULL;
    op->park       = 0;
    op->early      = NULL;
    op->reserved   = 0;
    op->lend       = 0;
    op->generation = 0;
    op->range_off  = 0;
    op->range_len  = 0;
    op->seq        = ++h->seq;
    return op;
}

static void release_op(dkv__holder_t *h, dkv__op_t *op)
{
    h->busy--;
    if (op->heap) {
        free(op);
        return;
    }
    dkv__list_push_tail(&h->free_ops, &op->link);
    h->nfree++;
}

/* Kinds a holder serves; staging payloads must come eagerly (they are
 * small: a prefix or a path). */
static int is_request(unsigned kind, const ucp_am_recv_param_t *param)
{
    int rndv = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0;

    switch (kind) {
    case DKV__MSG_PUT:
    case DKV__MSG_GET:
    case DKV__MSG_DELETE:
    case DKV__MSG_DRAIN_QUERY:
    case DKV__MSG_PUT_COMMIT:
    case DKV__MSG_RELEASE:
        return 1;
    case DKV__MSG_LIST:
    case DKV__MSG_DRAIN:
    case DKV__MSG_HELLO:
    case DKV__MSG_DRAIN_DONE:
        return !rndv;
    default:
        return 0;
    }
}

static void reject(dkv__holder_t *h, dkv__op_t *op);

static ucs_status_t on_request(void *arg, const void *header,
                               size_t header_length, void *data,
                               size_t length, const ucp_am_recv_param_t *param)
{
    dkv__holder_t *h = arg;
    dkv__op_t     *op;
    const char    *key;
    const char    *why = NULL;

    op = take_op(h);
    if (op == NULL) {
        h->stats.rejected++;
        return UCS_OK;
    }
    dkv__list_push_tail(&h->ready, &op->link);
    if ((dkv__wire_unpack(header, header_length, length, h->cfg.secret,
                          &op->hdr, &key, &why) != DKV_OK) ||
        !is_request(op->hdr.kind, param)) {
        op->valid = 0;
        op->why   = (why != NULL) ? why : "not a request";
        memset(&op->hdr, 0, sizeof(op->hdr));
        if (header_length >= sizeof(op->hdr)) {
            memcpy(&op->hdr, header, sizeof(op->hdr));
        }
        if (param->recv_attr & UCP_AM_RECV_ATTR_FIELD_REPLY_EP) {
            /* Its sender field cannot be trusted: answer on the reply
             * endpoint UCX lends us for this callback only. */
            dkv__list_del(&op->link);
            op->stranger_ep = param->reply_ep;
            reject(h, op);
        }
        return UCS_OK; /* drops the data */
    }
    op->valid = 1;
    dkv__wire_ext(header, &op->hdr, &op->ext);
    if (key != NULL) {
        memcpy(op->key, key, op->hdr.key_len + 1);
    } else {
        op->key[0] = '\0';
    }
    if (length > 0) { /* PUT values, LIST, DRAIN, DRAIN_DONE and HELLO
                         payloads */
        op->data     = data;
        op->data_len = length;
        op->rndv     = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0;
        return UCS_INPROGRESS;
    }
    return UCS_OK;
}

dkv_status_t dkv__holder_set_handlers(dkv__holder_t *h)
{
    static const unsigned ids[] = {DKV__MSG_PUT,   DKV__MSG_GET,
                                   DKV__MSG_DELETE, DKV__MSG_LIST,
                                   DKV__MSG_DRAIN, DKV__MSG_DRAIN_QUERY,
                                   DKV__MSG_HELLO, DKV__MSG_PUT_COMMIT,
                                   DKV__MSG_RELEASE, DKV__MSG_DRAIN_DONE};
    dkv_status_t          status;
    size_t                i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        status = dkv__worker_set_handler(&h->worker, ids[i], on_request, h);
        if (status != DKV_OK) {
            return status;
        }
    }
    return DKV_OK;
}

static void reply_cb(void *request, ucs_status_t status, void *user_data)
{
    dkv__op_t     *op = user_data;
    dkv__holder_t *h  = op->holder;

    ucp_request_free(request);
    op->ucx_req = NULL;
    op->state   = DKV__OP_DONE;
    dkv__list_push_tail(&h->ready, &op->link);
}

static void recv_cb(void *request, ucs_status_t status, size_t length,
                    void *user_data)
{
    dkv__op_t     *op = user_data;
    dkv__holder_t *h  = op->holder;

    ucp_request_free(request);
    op->ucx_req = NULL;
    if (status != UCS_OK) {
        op->status = dkv__status_from_ucs(status);
    }
    op->state = DKV__OP_RECVED;
    dkv__list_push_tail(&h->ready, &op->link);
}

void dkv__holder_finish_op(dkv__holder_t *h, dkv__op_t *op)
{
    if (op->early != NULL) { /* a COMMIT/RELEASE waiting for this op */
        dkv__op_t *early = op->early;

        op->early = NULL;
        dkv__holder_finish_op(h, early);
    }
    dkv__list_del(&op->flight);
    if (op->ucx_req != NULL) {
        ucp_request_free(op->ucx_req);
        op->ucx_req = NULL;
    }
    if ((op->entry != NULL) && op->reserved) {
        dkv__store_abort(&h->store, op->entry);
    } else if (op->entry != NULL) {
        dkv__store_unpin(&h->store, op->entry);
    }
    op->entry    = NULL;
    op->reserved = 0;
    if (op->data != NULL) {
        ucp_am_data_release(h->worker.ucp, op->data);
        op->data = NULL;
    }
    free(op->reply_buf);
    op->reply_buf = NULL;
    release_op(h, op);
}

void dkv__holder_send_reply(dkv__holder_t *h, dkv__op_t *op, uint8_t kind,
                            dkv_status_t status, const void *value,
                            size_t len)
{
    const dkv__fault_t *fault = &h->cfg.fault;
    ucp_ep_h            ep    = op->stranger_ep;
    dkv__wire_hdr_t     fields;
    ucp_request_param_t param;
    void               *sreq;

    op->stranger_ep = NULL;
    if (ep == NULL) {
        ep = dkv__holder_client_ep(h, op->hdr.sender);
    }

    /* drop_acks drops answers, not a grant: that is part of moving the
     * value, like UCX's rendezvous handshake. */
    if ((ep == NULL) ||
        ((fault->drop_acks != 0) && (h->served > fault->drop_acks) &&
         (kind != DKV__MSG_PUT_GRANT))) {
        dkv__holder_finish_op(h, op);
        return;
    }
    if ((fault->delay_ms != 0) && op->valid) {
        usleep(fault->delay_ms * 1000u); /* injected: the holder stalls */
    }
    memset(&fields, 0, sizeof(fields));
    fields.value_len = len;
    if ((kind == DKV__MSG_PUT_ACK) || (kind == DKV__MSG_DELETE_ACK)) {
        fields.aux = op->generation;
    }
    if (op->lend) {
        fields.flags     = DKV__WIRE_FLAG_LOCAL; /* descriptor, not value */
        fields.value_len = op->range_len;
    } else if ((op->entry != NULL) && op->entry->has_crc && (len > 0) &&
               !op->reserved && (len == op->entry->value_len)) {
        fields.flags = DKV__WIRE_FLAG_VCRC;
        fields.aux   = op->entry->crc;
    }
    fields.kind      = kind;
    fields.status    = status;
    fields.req_id    = op->hdr.req_id;
    fields.secret    = h->cfg.secret;
    fields.sender    = (uint32_t)h->cfg.rank;
    if ((kind == DKV__MSG_GET_REPLY) && op->valid &&
        (op->hdr.flags & DKV__WIRE_FLAG_EXT)) {
        dkv__wire_ext_t ext = {.generation = op->generation,
                               .offset     = op->range_off,
                               .length     = (op->entry != NULL)
                                                 ? op->entry->value_len
                                                 : 0};

        op->reply_len = dkv__wire_pack_ext(&op->reply, &fields, NULL, 0,
                                           &ext);
    } else {
        op->reply_len = dkv__wire_pack(&op->reply, &fields, NULL, 0);
    }

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA |
                         UCP_OP_ATTR_FIELD_FLAGS;
    param.cb.send      = reply_cb;
    param.user_data    = op;
    param.flags        = (len >= h->cfg.rndv_thresh) ? UCP_AM_SEND_FLAG_RNDV
                                                     : 0;
    op->reply_ns = dkv__now_ns();
    sreq = ucp_am_send_nbx(ep, kind, &op->reply, op->reply_len, value, len,
                           &param);
    if (UCS_PTR_IS_PTR(sreq)) {
        op->ucx_req = sreq;
        op->state   = DKV__OP_REPLYING;
        dkv__list_push_tail(&h->replying, &op->flight);
        return;
    }
    if (UCS_PTR_IS_ERR(sreq)) {
        DKV_LOG_DEBUG("reply to rank %u failed: %s", op->hdr.sender,
                      ucs_status_string(UCS_PTR_STATUS(sreq)));
    } else if (op->park) {
        /* Sent at once: the client now copies into or out of the entry,
         * which stays reserved or pinned until it says it is done. */
        dkv__holder_park(h, op);
        return;
    }
    dkv__holder_finish_op(h, op);
}

static uint8_t ack_kind(uint8_t kind)
{
    switch (kind) {
    case DKV__MSG_PUT:
        return DKV__MSG_PUT_ACK;
    case DKV__MSG_GET:
        return DKV__MSG_GET_REPLY;
    case DKV__MSG_DELETE:
        return DKV__MSG_DELETE_ACK;
    case DKV__MSG_LIST:
        return DKV__MSG_LIST_REPLY;
    case DKV__MSG_DRAIN:
    case DKV__MSG_DRAIN_QUERY:
        return DKV__MSG_DRAIN_REPLY;
    default:
        return 0;
    }
}

static void reject(dkv__holder_t *h, dkv__op_t *op)
{
    uint8_t kind = ack_kind(op->hdr.kind);

    h->stats.rejected++;
    if (!h->warned) {
        h->warned = 1;
        DKV_LOG_WARN("rejected malformed request (%s); further ones are "
                     "only counted", op->why);
    }
    if (kind == 0) {
        dkv__holder_finish_op(h, op);
        return;
    }
    dkv__holder_send_reply(h, op, kind, DKV_ERR_PROTOCOL, NULL, 0);
}

/* Mark as superseded the puts of @p op's key on @p list older than @p op. */
static void supersede_on(dkv__list_t *list, const dkv__op_t *op)
{
    dkv__list_t *l;

    for (l = list->next; l != list; l = l->next) {
        dkv__op_t *old = DKV__CONTAINER_OF(l, dkv__op_t, flight);

        if ((old->seq < op->seq) && (old->hdr.kind == DKV__MSG_PUT) &&
            dkv__holder_cond_supersedable(old) &&
            (old->hash == op->hash) &&
            (old->hdr.key_len == op->hdr.key_len) &&
            (memcmp(old->key, op->key, op->hdr.key_len) == 0)) {
            old->superseded = 1;
        }
    }
}

/* Later writes of a key win over puts of it still arriving: rendezvous
 * receives and node-local reservations not yet committed. */
static void supersede(dkv__holder_t *h, const dkv__op_t *op)
{
    supersede_on(&h->inflight, op);
    supersede_on(&h->parked, op);
}

/*
 * Check a put's value against the CRC its writer sent (DKV_CHECKSUM=1) and
 * keep the CRC for gets. DKV_ERR_CORRUPT if the bytes changed on the way.
 */
static dkv_status_t check_value(dkv__holder_t *h, dkv__op_t *op,
                                dkv__store_entry_t *e)
{
    uint32_t crc;

    if (!(op->hdr.flags & DKV__WIRE_FLAG_VCRC)) {
        return DKV_OK;
    }
    crc = dkv__crc32c(0, dkv__store_value(e), e->value_len);
    if (crc != (uint32_t)op->hdr.aux) {
        DKV_LOG_WARN("value of key %s from rank %u failed its CRC check",
                     op->key, op->hdr.sender);
        return DKV_ERR_CORRUPT;
    }
    e->crc     = crc;
    e->has_crc = 1;
    return DKV_OK;
}

/* Make a put's entry visible (or drop it if corrupt); the ack status. */
dkv_status_t dkv__holder_publish(dkv__holder_t *h, dkv__op_t *op,
                                 dkv__store_entry_t *e)
{
    dkv_status_t status = check_value(h, op, e);

    if (status != DKV_OK) {
        dkv__store_abort(&h->store, e);
        return status;
    }
    switch (dkv__holder_cond_stamp(h, op, e)) {
    case DKV__COND_CONFLICT:
        dkv__store_abort(&h->store, e);
        return DKV_ERR_CONFLICT;
    case DKV__COND_STALE:
        dkv__store_abort(&h->store, e);
        return DKV_OK;
    default:
        break;
    }
    supersede(h, op);
    dkv__store_publish(&h->store, e);
    if (++h->stored == h->cfg.fault.corrupt) {
        /* Injected: the stored bytes rot after the check. */
        ((unsigned char *)dkv__store_value(e))[e->value_len / 2] ^= 0x40;
    }
    dkv__fault_hit(DKV__FAULT_PUT_HOLDER_BEFORE_ACK, op->key);
    return DKV_OK;
}

static void do_put(dkv__holder_t *h, dkv__op_t *op)
{
    ucp_request_param_t param;
    dkv__store_entry_t *e;
    dkv_status_t        status;
    void               *rreq;

    h->stats.puts++;
    dkv__fault_hit(DKV__FAULT_PUT_HOLDER_BEFORE_STORE, op->key);
    if (dkv__holder_cond_refuse(h, op, DKV__MSG_PUT_ACK)) {
        return;
    }
    status = dkv__store_reserve(&h->store, op->key, op->hdr.key_len, op->hash,
                                op->hdr.value_len, &e);
    if (status != DKV_OK) {
        if (op->data != NULL) {
            ucp_am_data_release(h->worker.ucp, op->data);
            op->data = NULL;
        }
        h->stats.no_space += (status == DKV_ERR_NO_SPACE);
        dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK, status, NULL, 0);
        return;
    }
    if (op->hdr.flags & DKV__WIRE_FLAG_LOCAL) {
        dkv__holder_local_grant(h, op, e); /* the client writes it */
        return;
    }
    if ((op->data == NULL) || !op->rndv) {
        if (op->data != NULL) {
            memcpy(dkv__store_value(e), op->data, op->data_len);
            ucp_am_data_release(h->worker.ucp, op->data);
            op->data = NULL;
        }
        dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK, dkv__holder_publish(h, op, e), NULL, 0);
        return;
    }
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA;
    param.cb.recv_am   = recv_cb;
    param.user_data    = op;
    rreq = ucp_am_recv_data_nbx(h->worker.ucp, op->data, dkv__store_value(e),
                                op->data_len, &param);
    op->data = NULL;
    if (UCS_PTR_IS_PTR(rreq)) {
        op->ucx_req = rreq;
        op->entry   = e;
        op->state   = DKV__OP_RECVING;
        dkv__list_push_tail(&h->inflight, &op->flight);
        dkv__fault_hit(DKV__FAULT_PUT_HOLDER_MID_RECV, op->key);
        return;
    }
    if (UCS_PTR_IS_ERR(rreq)) {
        dkv__store_abort(&h->store, e);
        dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK,
                   dkv__status_from_ucs(UCS_PTR_STATUS(rreq)), NULL, 0);
        return;
    }
    dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK, dkv__holder_publish(h, op, e), NULL, 0);
}

static void finish_rndv_put(dkv__holder_t *h, dkv__op_t *op)
{
    dkv__store_entry_t *e = op->entry;

    if (op->ucx_req != NULL) {
        ucp_request_free(op->ucx_req);
        op->ucx_req = NULL;
    }
    op->entry = NULL;
    dkv__list_del(&op->flight);
    if ((op->status != DKV_OK) || op->superseded) {
        dkv__store_abort(&h->store, e);
    } else {
        op->status = dkv__holder_publish(h, op, e);
    }
    dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK, op->status, NULL, 0);
}

static void do_get(dkv__holder_t *h, dkv__op_t *op)
{
    dkv__store_entry_t *e;

    h->stats.gets++;
    e = dkv__store_lookup(&h->store, op->key, op->hdr.key_len, op->hash);
    if (e == NULL) {
        dkv__holder_send_reply(h, op, DKV__MSG_GET_REPLY, DKV_ERR_NOT_FOUND, NULL, 0);
        return;
    }
    dkv__holder_cond_range(op, e);
    if (dkv__holder_local_lend(h, op, e)) {
        return; /* the client reads it */
    }
    dkv__store_pin(e);
    op->entry = e;
    dkv__fault_hit(DKV__FAULT_GET_HOLDER_BEFORE_REPLY, op->key);
    dkv__holder_send_reply(h, op, DKV__MSG_GET_REPLY, DKV_OK,
                           (char *)dkv__store_value(e) + op->range_off,
                           op->range_len);
    /* The op may be back in the pool; the entry is still published. */
    dkv__fault_hit(DKV__FAULT_GET_HOLDER_AFTER_REPLY, e->key);
}

static void do_delete(dkv__holder_t *h, dkv__op_t *op)
{
    dkv_status_t status;

    h->stats.deletes++;
    dkv__fault_hit(DKV__FAULT_DELETE_HOLDER_BEFORE_REMOVE, op->key);
    status = dkv__holder_cond_delete(h, op);
    if (status == DKV_OK) {
        supersede(h, op);
    }
    dkv__fault_hit(DKV__FAULT_DELETE_HOLDER_BEFORE_ACK, op->key);
    dkv__holder_send_reply(h, op, DKV__MSG_DELETE_ACK, status, NULL, 0);
}

static void serve_new(dkv__holder_t *h, dkv__op_t *op)
{
    switch (op->hdr.kind) {
    case DKV__MSG_PUT:
        do_put(h, op);
        return;
    case DKV__MSG_GET:
        do_get(h, op);
        return;
    case DKV__MSG_DELETE:
        do_delete(h, op);
        return;
    case DKV__MSG_LIST:
        dkv__holder_do_list(h, op);
        return;
    case DKV__MSG_DRAIN:
        dkv__holder_do_drain(h, op);
        return;
    default:
        dkv__holder_do_drain_query(h, op);
        return;
    }
}

static void handle(dkv__holder_t *h, dkv__op_t *op)
{
    switch (op->state) {
    case DKV__OP_NEW:
        if (!op->valid) {
            reject(h, op);
            return;
        }
        switch (op->hdr.kind) {
        case DKV__MSG_HELLO:
            dkv__holder_do_hello(h, op);
            return;
        case DKV__MSG_PUT_COMMIT:
            dkv__holder_do_commit(h, op);
            return;
        case DKV__MSG_RELEASE:
            dkv__holder_do_release(h, op);
            return;
        case DKV__MSG_DRAIN_DONE:
            dkv__holder_do_drain_done(h, op);
            return;
        default:
            break;
        }
        if (++h->served == h->cfg.fault.kill_after) {
            DKV_LOG_WARN("fault injection: dying after %llu requests",
                         (unsigned long long)h->served);
            raise(SIGKILL);
        }
        op->hash = dkv__place_hash(op->key, op->hdr.key_len);
        serve_new(h, op);
        return;
    case DKV__OP_RECVED:
        finish_rndv_put(h, op);
        return;
    case DKV__OP_DONE:
        if (op->park) {
            dkv__holder_park(h, op); /* until COMMIT, RELEASE or death */
            return;
        }
        dkv__holder_finish_op(h, op);
        return;
    default:
        return;
    }
}

unsigned dkv__holder_process(dkv__holder_t *h)
{
    unsigned     n = 0;
    dkv__list_t *l;

    while ((l = dkv__list_pop_head(&h->ready)) != NULL) {
        handle(h, DKV__CONTAINER_OF(l, dkv__op_t, link));
        n++;
    }
    return n;
}
