/*
 * holder_clients: the clients a holder answers, one endpoint each.
 *
 * A client's first message on a new endpoint is a HELLO with its client
 * worker's address; the holder connects to that address with UCX peer
 * error handling and keeps the endpoint (UCX pairs it with the client's).
 * Replies go out on it, so the holder never asks anyone where a client is,
 * and never uses a UCX reply endpoint, which UCX destroys on its own when
 * the peer fails.
 *
 * A client that dies: UCX fails its endpoint's requests (their callbacks
 * drop the pins of gets in flight and the entries of puts arriving) and
 * calls the error callback, which only marks the client and queues it; the
 * holder thread then closes the endpoint. A client on this node is also
 * checked by pid while a reply to it waits, so a reader that died mid-get
 * releases its pin even when UCX would notice only later.
 *
 * Owner: the holder thread (callbacks run inside its progress calls).
 */
#define DKV_LOG_MODULE "holder"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "holder_int.h"
#include "log.h"
#include "proc_alive.h"

/* A reply waiting this long makes the holder look at its client's pid. */
#define DKV__STUCK_REPLY_NS (100ull * 1000000ull)

static void client_error_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    dkv__holder_client_t *cl = arg;

    (void)ep;
    (void)status;
    if (!cl->failed) {
        cl->failed = 1;
        dkv__list_push_tail(&cl->holder->failed, &cl->flink);
    }
}

ucp_ep_h dkv__holder_client_ep(dkv__holder_t *h, uint32_t rank)
{
    dkv__holder_client_t *cl;

    if ((rank >= (uint32_t)h->cfg.size) || (h->clients == NULL)) {
        return NULL;
    }
    cl = h->clients[rank];
    return ((cl == NULL) || cl->failed) ? NULL : cl->ep;
}

static void close_client(dkv__holder_t *h, dkv__holder_client_t *cl)
{
    if (cl->ep != NULL) {
        dkv__ucx_ep_close_force(&h->worker, cl->ep);
        cl->ep = NULL;
    }
}

void dkv__holder_do_hello(dkv__holder_t *h, dkv__op_t *op)
{
    uint32_t              r  = op->hdr.sender;
    dkv__holder_client_t *cl;

    if ((r >= (uint32_t)h->cfg.size) || (op->data == NULL)) {
        h->stats.rejected++;
        goto out;
    }
    cl = h->clients[r];
    if (cl == NULL) {
        cl = calloc(1, sizeof(*cl));
        if (cl == NULL) {
            goto out; /* replies to it are dropped; its requests time out */
        }
        cl->rank      = (int)r;
        cl->holder    = h;
        dkv__list_init(&cl->flink);
        h->clients[r] = cl;
    }
    /* A second HELLO: the client closed its endpoint (a timeout) and made
     * a new one; ours belonged to the old connection. */
    close_client(h, cl);
    dkv__holder_unpark(h, cl->rank); /* the old connection's requests */
    dkv__list_del(&cl->flink);
    cl->failed = 0;
    cl->pid    = (int32_t)op->hdr.aux;
    if (dkv__ucx_ep_connect(&h->worker, op->data, client_error_cb, cl,
                            &cl->ep) != DKV_OK) {
        cl->ep = NULL;
    }
out:
    ucp_am_data_release(h->worker.ucp, op->data);
    op->data = NULL;
    dkv__holder_finish_op(h, op);
}

/* Replies (or parked node-local ops) that waited long for a client on
 * this node whose process is gone: fail the client, so that closing its
 * endpoint ends them. */
static void check_stuck(dkv__holder_t *h, dkv__list_t *list, uint64_t now)
{
    dkv__list_t *l;

    for (l = list->next; l != list; l = l->next) {
        dkv__op_t            *op = DKV__CONTAINER_OF(l, dkv__op_t, flight);
        dkv__holder_client_t *cl;

        if ((now - op->reply_ns < DKV__STUCK_REPLY_NS) ||
            (op->hdr.sender >= (uint32_t)h->cfg.size)) {
            continue;
        }
        cl = h->clients[op->hdr.sender];
        if ((cl == NULL) || cl->failed || (cl->pid == 0) ||
            (now < cl->next_check)) {
            continue;
        }
        cl->next_check = now + DKV__STUCK_REPLY_NS;
        if (dkv__proc_gone(cl->pid)) {
            DKV_LOG_INFO("client rank %d (pid %d) is gone", cl->rank,
                         (int)cl->pid);
            client_error_cb(cl, cl->ep, UCS_ERR_CONNECTION_RESET);
        }
    }
}

unsigned dkv__holder_reap_clients(dkv__holder_t *h)
{
    unsigned     n = 0;
    dkv__list_t *l;

    if (!dkv__list_empty(&h->replying) || !dkv__list_empty(&h->parked)) {
        uint64_t now = dkv__now_ns();

        check_stuck(h, &h->replying, now);
        check_stuck(h, &h->parked, now);
    }
    while ((l = dkv__list_pop_head(&h->failed)) != NULL) {
        dkv__holder_client_t *cl = DKV__CONTAINER_OF(l, dkv__holder_client_t,
                                                     flink);

        DKV_LOG_DEBUG("client rank %d failed: closing its endpoint",
                      cl->rank);
        close_client(h, cl);
        dkv__holder_unpark(h, cl->rank);
        n++;
    }
    return n;
}

void dkv__holder_clients_free(dkv__holder_t *h)
{
    int r;

    for (r = 0; (h->clients != NULL) && (r < h->cfg.size); r++) {
        free(h->clients[r]);
    }
    free(h->clients);
    h->clients = NULL;
}
