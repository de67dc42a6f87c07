/*
 * holder_local: the holder's side of the node-local bulk path.
 *
 * UCX moves large values inside a node zero-copy only through CMA, which
 * it does not use on endpoints with peer error handling. dramkv therefore
 * lets a client on the holder's node copy a large value itself, with one
 * process_vm_writev/readv into or out of the holder's store; the holder
 * only hands out addresses and keeps them valid:
 *
 *   PUT (LOCAL)  reserve the entry (the memory limit is checked here, as
 *                for any put), reply PUT_GRANT with its address and park
 *                the op. PUT_COMMIT then publishes it (its CRC checked
 *                when DKV_CHECKSUM=1) and acks, or drops it.
 *   GET (LOCAL)  a value of rndv_thresh bytes or more is pinned and the
 *                reply lends its address instead of sending it; the op is
 *                parked until the client's RELEASE.
 *
 * Nothing here depends on the client staying alive: a reservation is
 * never visible until committed, and a pinned value is only read. A
 * parked op ends with its COMMIT/RELEASE, or when its client is found
 * dead (its endpoint fails, or its process on this node is gone): the
 * reservation is dropped, the pin released. A client that is merely slow
 * keeps its reservation or pin, so memory it may still copy into or out
 * of is never reused under it - even when the holder stops first (a
 * finalize that gave up waiting for it): the entries of parked ops whose
 * client is still alive are then left allocated until the process exits.
 *
 * Owner: the holder thread.
 */
#define DKV_LOG_MODULE "holder"

#include <string.h>

#include "clock.h"
#include "fault.h"
#include "holder_int.h"
#include "log.h"
#include "proc_alive.h"

void dkv__holder_local_grant(dkv__holder_t *h, dkv__op_t *op,
                             dkv__store_entry_t *e)
{
    if (op->data != NULL) {
        ucp_am_data_release(h->worker.ucp, op->data);
        op->data = NULL;
    }
    op->entry         = e;
    op->reserved      = 1;
    op->park          = 1;
    op->local.addr    = (uint64_t)(uintptr_t)dkv__store_value(e);
    op->local.crc     = 0;
    op->local.has_crc = 0;
    dkv__holder_send_reply(h, op, DKV__MSG_PUT_GRANT, DKV_OK, &op->local,
                           sizeof(op->local));
    dkv__fault_hit(DKV__FAULT_PUT_HOLDER_AFTER_GRANT, e->key);
}

int dkv__holder_local_lend(dkv__holder_t *h, dkv__op_t *op,
                           dkv__store_entry_t *e)
{
    /* Only the range asked for (dkv__holder_cond_range) is read. */
    if (!(op->hdr.flags & DKV__WIRE_FLAG_LOCAL) ||
        (op->range_len < h->cfg.rndv_thresh)) {
        return 0;
    }
    dkv__store_pin(e);
    op->entry         = e;
    op->lend          = 1;
    op->park          = 1;
    op->local.addr    = (uint64_t)(uintptr_t)dkv__store_value(e) +
                        op->range_off;
    op->local.crc     = e->crc;
    op->local.has_crc = e->has_crc && (op->range_len == e->value_len);
    dkv__holder_send_reply(h, op, DKV__MSG_GET_REPLY, DKV_OK, &op->local,
                           sizeof(op->local));
    dkv__fault_hit(DKV__FAULT_GET_HOLDER_AFTER_LEND, e->key);
    return 1;
}

static void commit(dkv__holder_t *h, dkv__op_t *op, dkv__op_t *msg);
static void release(dkv__holder_t *h, dkv__op_t *op, dkv__op_t *msg);

void dkv__holder_park(dkv__holder_t *h, dkv__op_t *op)
{
    dkv__op_t *early = op->early;

    dkv__list_del(&op->flight);
    op->state     = DKV__OP_DONE;
    op->parked_ns = dkv__now_ns();
    dkv__list_push_tail(&h->parked, &op->flight);
    op->early = NULL;
    if (early != NULL) { /* the client was faster than our send's end */
        if (op->hdr.kind == DKV__MSG_PUT) {
            commit(h, op, early);
        } else {
            release(h, op, early);
        }
    }
}

/*
 * The op of @p msg's sender with @p msg's request id waiting for it: parked,
 * or still on the replying list (its reply's send not yet completed), or
 * NULL. *@p sending_p tells which.
 */
static dkv__op_t *find_parked(dkv__holder_t *h, const dkv__op_t *msg,
                              uint8_t kind, int *sending_p)
{
    dkv__list_t *lists[2] = {&h->parked, &h->replying};
    dkv__list_t *l;
    int          i;

    for (i = 0; i < 2; i++) {
        for (l = lists[i]->next; l != lists[i]; l = l->next) {
            dkv__op_t *op = DKV__CONTAINER_OF(l, dkv__op_t, flight);

            if (op->park && (op->early == NULL) &&
                (op->hdr.sender == msg->hdr.sender) &&
                (op->hdr.req_id == msg->hdr.req_id) &&
                (op->hdr.kind == kind)) {
                *sending_p = (i == 1);
                return op;
            }
        }
    }
    return NULL;
}

/* @p op (parked) gets its COMMIT @p msg: publish and ack, or drop. */
static void commit(dkv__holder_t *h, dkv__op_t *op, dkv__op_t *msg)
{
    dkv__store_entry_t *e;
    dkv_status_t        status;

    dkv__list_del(&op->flight);
    op->park = 0;
    if (msg->hdr.status != DKV_OK) {
        dkv__holder_finish_op(h, op); /* the client gave up: drop it */
        dkv__holder_finish_op(h, msg);
        return;
    }
    /* The client wrote the value; its CRC, if sent, is checked now. */
    op->hdr.flags |= msg->hdr.flags & DKV__WIRE_FLAG_VCRC;
    op->hdr.aux    = msg->hdr.aux;
    e              = op->entry;
    op->entry      = NULL;
    op->reserved   = 0;
    dkv__holder_finish_op(h, msg);
    if (op->superseded) {
        /* A later write of the key was applied meanwhile: it wins. */
        dkv__store_abort(&h->store, e);
        status = DKV_OK;
    } else {
        status = dkv__holder_publish(h, op, e);
    }
    dkv__holder_send_reply(h, op, DKV__MSG_PUT_ACK, status, NULL, 0);
}

/* @p op (parked) gets its RELEASE @p msg: unpin. */
static void release(dkv__holder_t *h, dkv__op_t *op, dkv__op_t *msg)
{
    op->park = 0;
    dkv__holder_finish_op(h, op);
    dkv__holder_finish_op(h, msg);
}

/* A COMMIT or RELEASE @p msg for the parked op of @p kind it names. */
static void answer(dkv__holder_t *h, dkv__op_t *msg, uint8_t kind)
{
    int        sending = 0;
    dkv__op_t *op      = find_parked(h, msg, kind, &sending);

    if (op == NULL) {
        h->stats.rejected++; /* stale or forged: nothing waits for it */
        dkv__holder_finish_op(h, msg);
    } else if (sending) {
        op->early = msg; /* handled when the op is parked */
    } else if (kind == DKV__MSG_PUT) {
        commit(h, op, msg);
    } else {
        release(h, op, msg);
    }
}

void dkv__holder_do_commit(dkv__holder_t *h, dkv__op_t *msg)
{
    answer(h, msg, DKV__MSG_PUT);
}

void dkv__holder_do_release(dkv__holder_t *h, dkv__op_t *msg)
{
    answer(h, msg, DKV__MSG_GET);
}

unsigned dkv__holder_unpark(dkv__holder_t *h, int rank)
{
    dkv__list_t *l, *next;
    unsigned     n = 0;

    for (l = h->parked.next; l != &h->parked; l = next) {
        dkv__op_t *op = DKV__CONTAINER_OF(l, dkv__op_t, flight);

        next = l->next;
        if (op->hdr.sender == (uint32_t)rank) {
            op->park = 0;
            dkv__holder_finish_op(h, op);
            n++;
        }
    }
    if (n > 0) {
        DKV_LOG_INFO("released %u reservations and pins of lost client %d",
                     n, rank);
    }
    return n;
}

void dkv__holder_local_stop(dkv__holder_t *h)
{
    dkv__list_t *l, *next;
    size_t       kept = 0, bytes = 0;

    for (l = h->parked.next; l != &h->parked; l = next) {
        dkv__op_t            *op = DKV__CONTAINER_OF(l, dkv__op_t, flight);
        dkv__holder_client_t *cl = NULL;

        next = l->next;
        if (op->hdr.sender < (uint32_t)h->cfg.size) {
            cl = h->clients[op->hdr.sender];
        }
        if ((op->entry != NULL) && (cl != NULL) && !cl->failed &&
            ((cl->pid == 0) || !dkv__proc_gone(cl->pid))) {
            /* Its client may still copy: the memory must stay. */
            kept++;
            bytes += op->entry->value_len;
            dkv__store_forget(&h->store, op->entry);
            op->entry    = NULL;
            op->reserved = 0;
        }
        op->park = 0;
        dkv__holder_finish_op(h, op);
    }
    if (kept > 0) {
        DKV_LOG_WARN("stopping while %zu node-local copies (%zu bytes) are "
                     "unfinished: their memory is kept until exit", kept,
                     bytes);
    }
}
