/*
 * client_replies: what arrives at the client worker - write acks, get
 * replies, fence messages and byes (handled by barrier.c) - and how a
 * request is finished.
 *
 * The AM handlers and UCX completion callbacks run inside the owner's
 * progress call and only record: they validate the header, store status and
 * lengths into the request matched by id (or into the fence state), keep
 * reply data for later by returning UCS_INPROGRESS, and push the request on
 * the ready list. dkv__client_process(), called by the owner after progress,
 * does the rest: copies or receives the value, releases UCX data, updates
 * the outstanding count and frees the request.
 */
#define DKV_LOG_MODULE "client"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "crc32c.h"
#include "fault.h"
#include "log.h"

static void queue(dkv__client_t *c, struct dkv_request *req)
{
    if (!(req->flags & DKV__REQ_QUEUED)) {
        req->flags |= DKV__REQ_QUEUED;
        dkv__list_push_tail(&c->ready, &req->link);
    }
}

void dkv__client_send_cb(void *request, ucs_status_t status, void *user_data)
{
    struct dkv_request *req = user_data;

    /* The handle goes back at once; the request slot records the rest. */
    ucp_request_free(request);
    req->send_req = NULL;
    req->client->sends_queued--;
    if (status != UCS_OK) {
        if (req->status == DKV_OK) {
            req->status = dkv__status_from_ucs(status);
        }
        req->flags |= DKV__REQ_REPLY_DONE | DKV__REQ_SEND_DONE; /* no reply
                                                                  will come */
    } else if (dkv__client_value_sent(req)) {
        req->flags |= DKV__REQ_SEND_DONE;
    }
    if (req->flags & DKV__REQ_REPLY_DONE) {
        queue(req->client, req);
    } else if (req->kind == DKV__MSG_PUT) {
        /* Injected death (tests): no bookkeeping is left half done. */
        dkv__fault_hit(DKV__FAULT_PUT_CLIENT_BEFORE_ACK, dkv__req_key(req));
    }
}

static void recv_cb(void *request, ucs_status_t status, size_t length,
                    void *user_data)
{
    struct dkv_request *req = user_data;

    ucp_request_free(request);
    req->recv_req = NULL;
    if ((status != UCS_OK) && (req->status == DKV_OK)) {
        req->status = dkv__status_from_ucs(status);
    }
    req->flags &= ~DKV__REQ_RECVING;
    req->flags |= DKV__REQ_RECVED;
    queue(req->client, req);
}

/* Validate a reply header and find its request; NULL if it must be dropped. */
/* The reply kind a request kind is answered with. */
static uint8_t reply_kind(uint8_t req_kind)
{
    switch (req_kind) {
    case DKV__MSG_PUT:
        return DKV__MSG_PUT_ACK;
    case DKV__MSG_DELETE:
        return DKV__MSG_DELETE_ACK;
    case DKV__MSG_GET:
        return DKV__MSG_GET_REPLY;
    case DKV__MSG_LIST:
        return DKV__MSG_LIST_REPLY;
    default:
        return DKV__MSG_DRAIN_REPLY;
    }
}

int dkv__client_takes_data(uint8_t req_kind)
{
    return (req_kind == DKV__MSG_GET) || (req_kind == DKV__MSG_LIST) ||
           (req_kind == DKV__MSG_DRAIN) || (req_kind == DKV__MSG_DRAIN_QUERY);
}

static struct dkv_request *match_reply(dkv__client_t *c, const void *header,
                                       size_t header_length, size_t length,
                                       uint8_t want_kind, dkv__wire_hdr_t *hdr)
{
    struct dkv_request *req;
    const char         *why;
    const char         *key;

    if ((dkv__wire_unpack(header, header_length, length, c->secret, hdr,
                          &key, &why) != DKV_OK) ||
        (hdr->kind != want_kind)) {
        if (c->rejected++ == 0) {
            DKV_LOG_WARN("dropped malformed reply: %s", why);
        }
        return NULL;
    }
    req = dkv__req_lookup(c, hdr->req_id);
    if ((req == NULL) || (reply_kind(req->kind) != want_kind) ||
        (req->flags & DKV__REQ_REPLY_DONE)) {
        c->rejected++;
        return NULL;
    }
    return req;
}

static ucs_status_t on_ack(void *arg, const void *header, size_t header_length,
                           void *data, size_t length,
                           const ucp_am_recv_param_t *param, uint8_t ack_kind)
{
    dkv__client_t      *c = arg;
    dkv__wire_hdr_t     hdr;
    struct dkv_request *req;

    req = match_reply(c, header, header_length, length, ack_kind, &hdr);
    if (req == NULL) {
        return UCS_OK;
    }
    if (req->status == DKV_OK) {
        req->status = hdr.status;
    }
    req->generation = hdr.aux; /* stored, or current (a failed condition) */
    req->flags |= DKV__REQ_REPLY_DONE;
    if ((req->flags & DKV__REQ_LOCAL) && !(req->flags & DKV__REQ_GRANTED) &&
        (req->send_req == NULL)) {
        /* Refused before any room was granted: the value was never read. */
        req->flags |= DKV__REQ_SEND_DONE;
    }
    if (req->flags & DKV__REQ_SEND_DONE) {
        queue(c, req);
    }
    return UCS_OK;
}

/* The holder reserved room for a LOCAL put: the owner copies the value. */
static ucs_status_t on_put_grant(void *arg, const void *header,
                                 size_t header_length, void *data,
                                 size_t length,
                                 const ucp_am_recv_param_t *param)
{
    dkv__client_t      *c = arg;
    dkv__wire_hdr_t     hdr;
    struct dkv_request *req;
    const char         *key, *why;
    dkv__wire_local_t   desc;

    (void)param;
    if ((dkv__wire_unpack(header, header_length, length, c->secret, &hdr,
                          &key, &why) != DKV_OK) ||
        (hdr.kind != DKV__MSG_PUT_GRANT) || (hdr.status != DKV_OK) ||
        (length != sizeof(desc))) {
        c->rejected++;
        return UCS_OK;
    }
    req = dkv__req_lookup(c, hdr.req_id);
    if ((req == NULL) || (req->kind != DKV__MSG_PUT) ||
        !(req->flags & DKV__REQ_LOCAL) ||
        (req->flags & (DKV__REQ_GRANTED | DKV__REQ_REPLY_DONE))) {
        c->rejected++;
        return UCS_OK;
    }
    memcpy(&desc, data, sizeof(desc));
    req->local_addr = desc.addr;
    req->flags |= DKV__REQ_GRANTED;
    queue(c, req);
    return UCS_OK;
}

static ucs_status_t on_put_ack(void *arg, const void *header,
                               size_t header_length, void *data,
                               size_t length, const ucp_am_recv_param_t *param)
{
    return on_ack(arg, header, header_length, data, length, param,
                  DKV__MSG_PUT_ACK);
}

static ucs_status_t on_delete_ack(void *arg, const void *header,
                                  size_t header_length, void *data,
                                  size_t length,
                                  const ucp_am_recv_param_t *param)
{
    return on_ack(arg, header, header_length, data, length, param,
                  DKV__MSG_DELETE_ACK);
}

/* A reply with a value: a get's, a listing, a drain's progress. */
static ucs_status_t on_data_reply(void *arg, const void *header,
                                  size_t header_length, void *data,
                                  size_t length,
                                  const ucp_am_recv_param_t *param,
                                  uint8_t kind)
{
    dkv__client_t      *c = arg;
    dkv__wire_hdr_t     hdr;
    struct dkv_request *req;
    ucs_status_t        keep = UCS_OK;

    req = match_reply(c, header, header_length, length, kind, &hdr);
    if (req == NULL) {
        return UCS_OK;
    }
    req->status    = hdr.status;
    req->value_len = hdr.value_len;
    if (hdr.flags & DKV__WIRE_FLAG_EXT) {
        dkv__wire_ext_t ext;

        dkv__wire_ext(header, &hdr, &ext);
        req->generation = ext.generation;
        req->full_size  = ext.length;
    }
    if (hdr.flags & DKV__WIRE_FLAG_VCRC) {
        req->flags |= DKV__REQ_VCRC;
        req->vcrc = (uint32_t)hdr.aux;
    }
    if ((hdr.status == DKV_OK) && (hdr.flags & DKV__WIRE_FLAG_LOCAL)) {
        dkv__wire_local_t desc; /* the value stays at the holder, pinned */

        memcpy(&desc, data, sizeof(desc));
        req->local_addr = desc.addr;
        req->flags |= DKV__REQ_LENT | (desc.has_crc ? DKV__REQ_VCRC : 0);
        req->vcrc = desc.crc;
    } else if ((hdr.status == DKV_OK) && (length > 0)) {
        req->data = data;
        keep      = UCS_INPROGRESS;
        if (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) {
            req->flags |= DKV__REQ_DATA_RNDV;
        }
    }
    req->flags |= DKV__REQ_REPLY_DONE;
    if (req->flags & DKV__REQ_SEND_DONE) {
        queue(c, req);
    }
    return keep;
}

static ucs_status_t on_get_reply(void *arg, const void *header,
                                 size_t header_length, void *data,
                                 size_t length,
                                 const ucp_am_recv_param_t *param)
{
    return on_data_reply(arg, header, header_length, data, length, param,
                         DKV__MSG_GET_REPLY);
}

static ucs_status_t on_list_reply(void *arg, const void *header,
                                  size_t header_length, void *data,
                                  size_t length,
                                  const ucp_am_recv_param_t *param)
{
    return on_data_reply(arg, header, header_length, data, length, param,
                         DKV__MSG_LIST_REPLY);
}

static ucs_status_t on_drain_reply(void *arg, const void *header,
                                   size_t header_length, void *data,
                                   size_t length,
                                   const ucp_am_recv_param_t *param)
{
    return on_data_reply(arg, header, header_length, data, length, param,
                         DKV__MSG_DRAIN_REPLY);
}

dkv_status_t dkv__client_set_handlers(dkv__client_t *c)
{
    static const struct {
        unsigned               id;
        ucp_am_recv_callback_t cb;
    } table[] = {
        {DKV__MSG_PUT_ACK, on_put_ack},   {DKV__MSG_DELETE_ACK, on_delete_ack},
        {DKV__MSG_GET_REPLY, on_get_reply},
        {DKV__MSG_VOTE, dkv__barrier_recv},
        {DKV__MSG_DECIDE, dkv__barrier_recv},
        {DKV__MSG_DECIDE_ACK, dkv__barrier_recv},
        {DKV__MSG_BYE, dkv__barrier_recv_bye},
        {DKV__MSG_LIST_REPLY, on_list_reply},
        {DKV__MSG_DRAIN_REPLY, on_drain_reply},
        {DKV__MSG_PUT_GRANT, on_put_grant},
    };
    dkv_status_t status;
    size_t       i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        status = dkv__worker_set_handler(&c->worker, table[i].id, table[i].cb,
                                         c);
        if (status != DKV_OK) {
            return status;
        }
    }
    return dkv__worker_set_handler(&c->worker, DKV__MSG_HELLO,
                                   dkv__peers_on_hello, &c->peers);
}

/* Let go of a reply's value: UCX's data, or a value lent by the holder. */
static void drop_data(dkv__client_t *c, struct dkv_request *req)
{
    if (req->data != NULL) {
        ucp_am_data_release(c->worker.ucp, req->data);
        req->data = NULL;
    }
    if (req->flags & DKV__REQ_LENT) {
        dkv__client_local_get(c, req, NULL);
    }
}

/* Start receiving a rendezvous value; 1 if done now, 0 if in progress. */
static int recv_rndv(dkv__client_t *c, struct dkv_request *req, void *dest)
{
    ucp_request_param_t param;
    void               *rreq;

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA;
    param.cb.recv_am   = recv_cb;
    param.user_data    = req;
    rreq = ucp_am_recv_data_nbx(c->worker.ucp, req->data, dest,
                                req->value_len, &param);
    req->data = NULL; /* the descriptor now belongs to the receive */
    if (UCS_PTR_IS_ERR(rreq)) {
        req->status = dkv__status_from_ucs(UCS_PTR_STATUS(rreq));
        return 1;
    }
    if (rreq == NULL) {
        return 1;
    }
    req->recv_req = rreq;
    req->flags |= DKV__REQ_RECVING;
    return 0;
}

/* Move a get's value to its destination; 1 when the get is finished. */
static int deliver_get(dkv__client_t *c, struct dkv_request *req)
{
    void *dest = req->buf;

    if (req->flags & DKV__REQ_RECVED) { /* the rendezvous receive ended */
        return 1;
    }
    if ((req->status != DKV_OK) || (req->flags & DKV__REQ_ABANDONED)) {
        drop_data(c, req);
        return 1;
    }
    if ((req->alloc_p == NULL) && (req->value_len > req->buf_size)) {
        req->status = DKV_ERR_TRUNCATED;
        drop_data(c, req);
        return 1;
    }
    if (req->alloc_p != NULL) {
        dest = malloc((req->value_len > 0) ? req->value_len : 1);
        if (dest == NULL) {
            req->status = DKV_ERR_NO_MEMORY;
            drop_data(c, req);
            return 1;
        }
        req->buf = dest;
    }
    if ((req->kind == DKV__MSG_GET) &&
        ((req->data != NULL) || (req->flags & DKV__REQ_LENT))) {
        dkv__fault_hit(DKV__FAULT_GET_CLIENT_BEFORE_COPY, dkv__req_key(req));
    }
    if (req->flags & DKV__REQ_LENT) {
        dkv__client_local_get(c, req, dest);
        return 1;
    }
    if (req->data == NULL) {
        return 1; /* empty value */
    }
    if (req->flags & DKV__REQ_DATA_RNDV) {
        if (recv_rndv(c, req, dest)) {
            return 1;
        }
        dkv__fault_hit(DKV__FAULT_GET_CLIENT_MID_RECV, dkv__req_key(req));
        return 0;
    }
    memcpy(dest, req->data, req->value_len);
    drop_data(c, req);
    return 1;
}

static void finish_get(struct dkv_request *req)
{
    if ((req->status == DKV_ERR_NOT_FOUND) && (req->flags & DKV__REQ_ORPHAN)) {
        req->status = DKV_ERR_PEER_LOST; /* it may have been lost with them */
    }
    if ((req->status == DKV_OK) && (req->flags & DKV__REQ_VCRC) &&
        (dkv__crc32c(0, req->buf, req->value_len) != req->vcrc)) {
        DKV_LOG_WARN("value from holder %d failed its CRC check", req->holder);
        req->status = DKV_ERR_CORRUPT;
    }
    if ((req->status == DKV_OK) || (req->status == DKV_ERR_TRUNCATED)) {
        if (req->size_p != NULL) {
            *req->size_p = req->value_len;
        }
    }
    if (req->alloc_p != NULL) {
        if (req->status == DKV_OK) {
            *req->alloc_p = req->buf;
        } else {
            free(req->buf);
        }
        req->buf = NULL;
    }
}

void dkv__client_process(dkv__client_t *c, struct dkv_request *req)
{
    uint32_t both = DKV__REQ_SEND_DONE | DKV__REQ_REPLY_DONE;

    DKV__ASSERT(req->magic == DKV__REQ_MAGIC);
    DKV__ASSERT(req->client == c);
    /* A request receiving into its buffer has its reply. */
    DKV__ASSERT(!(req->flags & DKV__REQ_RECVING) ||
                (req->flags & DKV__REQ_REPLY_DONE));
    /* Only a LOCAL put is granted, and only once before its copy. */
    DKV__ASSERT(!(req->flags & DKV__REQ_GRANTED) ||
                ((req->flags & DKV__REQ_LOCAL) &&
                 (req->kind == DKV__MSG_PUT)));
    if ((req->flags & DKV__REQ_GRANTED) && !(req->flags & DKV__REQ_SEND_DONE)) {
        dkv__client_local_put(c, req); /* copy the value, commit */
    }
    if (((req->flags & both) != both) || (req->flags & DKV__REQ_COMPLETE) ||
        (req->flags & DKV__REQ_RECVING)) {
        return;
    }
    if (dkv__client_takes_data(req->kind)) {
        if (!deliver_get(c, req)) {
            return;
        }
        if (!(req->flags & DKV__REQ_ABANDONED)) {
            finish_get(req);
        }
    }
    dkv__client_untrack(c, req);
    req->flags |= DKV__REQ_COMPLETE;
    if (!(req->flags & DKV__REQ_ABANDONED)) {
        if (req->generation_p != NULL) {
            *req->generation_p = req->generation;
        }
        if (req->full_size_p != NULL) {
            *req->full_size_p = (size_t)req->full_size;
        }
    }
    if ((req->flags & DKV__REQ_ABANDONED) && (req->alloc_p != NULL) &&
        (req->buf != NULL)) {
        free(req->buf); /* the waiter already returned without it */
        req->buf = NULL;
    }
    if (!(req->flags & (DKV__REQ_USER | DKV__REQ_WAITED))) {
        dkv__req_release(c, req);
    }
}
