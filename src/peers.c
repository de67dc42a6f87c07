/*
 * peers: lazy endpoint cache of the client worker. The first request to a
 * rank creates the endpoint from the address read at init (or learned from
 * that rank's HELLO) and sends our own HELLO on it, so the other side can
 * connect back without asking anyone. UCX wires the endpoint up in the
 * background; requests sent meanwhile are queued by UCX in order.
 */
#define DKV_LOG_MODULE "peers"

#include "peers.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "proc_alive.h"

/* A local peer's pid is looked at most this often per peer. */
#define DKV__PID_CHECK_NS (50ull * 1000000ull)

dkv_status_t dkv__peers_init(dkv__peers_t *p, dkv__worker_t *worker,
                             int rank, int size, const int *local_ranks,
                             int nlocal)
{
    ucp_address_t *addr;
    size_t         len;
    int            i;

    memset(p, 0, sizeof(*p));
    p->worker      = worker;
    p->rank        = rank;
    p->size        = size;
    p->eps[0]      = calloc((size_t)size, sizeof(ucp_ep_h));
    p->eps[1]      = calloc((size_t)size, sizeof(ucp_ep_h));
    p->addr[0]     = calloc((size_t)size, sizeof(dkv__peer_addr_t));
    p->addr[1]     = calloc((size_t)size, sizeof(dkv__peer_addr_t));
    p->local       = calloc((size_t)size, 1);
    p->dead        = calloc((size_t)size, 1);
    p->pid         = calloc((size_t)size, sizeof(int32_t));
    p->next_check  = calloc((size_t)size, sizeof(uint64_t));
    p->hellos      = calloc((size_t)size, sizeof(*p->hellos));
    p->hello_pending = calloc((size_t)size, 1);
    if ((p->eps[0] == NULL) || (p->eps[1] == NULL) || (p->addr[0] == NULL) ||
        (p->addr[1] == NULL) || (p->local == NULL) || (p->dead == NULL) ||
        (p->pid == NULL) || (p->next_check == NULL) ||
        (p->hellos == NULL) || (p->hello_pending == NULL) ||
        (dkv__worker_address(worker, &addr, &len) != DKV_OK)) {
        dkv__peers_close(p, 0);
        return DKV_ERR_NO_MEMORY;
    }
    p->my_addr = malloc(len);
    if (p->my_addr != NULL) {
        memcpy(p->my_addr, addr, len);
        p->my_addr_len = len;
    }
    ucp_worker_release_address(worker->ucp, addr);
    if (p->my_addr == NULL) {
        dkv__peers_close(p, 0);
        return DKV_ERR_NO_MEMORY;
    }
    for (i = 0; i < nlocal; i++) {
        if ((local_ranks[i] >= 0) && (local_ranks[i] < size)) {
            p->local[local_ranks[i]] = 1;
        }
    }
    return DKV_OK;
}

void dkv__peers_set_addr(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                         void *bytes, size_t len)
{
    dkv__peer_addr_t *a = &p->addr[kind][rank];

    free(a->bytes);
    a->bytes = bytes;
    a->len   = len;
}

void dkv__peers_set_secret(dkv__peers_t *p, uint64_t secret)
{
    dkv__wire_hdr_t fields;

    p->secret = secret;
    memset(&fields, 0, sizeof(fields));
    fields.kind      = DKV__MSG_HELLO;
    fields.secret    = secret;
    fields.sender    = (uint32_t)p->rank;
    fields.aux       = (uint64_t)getpid();
    fields.value_len = p->my_addr_len;
    dkv__wire_pack(&p->hello_hdr, &fields, NULL, 0);
}

/* UCX error callback of any endpoint of the client worker: record only. */
static void ep_error_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    uint8_t *dead = arg;

    (void)ep;
    (void)status;
    *dead = 1;
}

int dkv__peers_dead(dkv__peers_t *p, int rank)
{
    uint64_t now;

    if (p->dead[rank] || !p->local[rank] || (p->pid[rank] == 0)) {
        return p->dead[rank];
    }
    /* A /proc look at most every 50 ms per peer, however many requests
     * wait on it. */
    now = dkv__now_ns();
    if (now < p->next_check[rank]) {
        return 0;
    }
    p->next_check[rank] = now + DKV__PID_CHECK_NS;
    if (dkv__proc_gone(p->pid[rank])) {
        DKV_LOG_WARN("rank %d (pid %d) on this node has exited", rank,
                     (int)p->pid[rank]);
        p->dead[rank] = 1;
    }
    return p->dead[rank];
}

/* Our HELLO on a new endpoint; UCX keeps it ordered before what follows. */
static void send_hello(dkv__peers_t *p, ucp_ep_h ep)
{
    ucp_request_param_t param;
    void               *sreq;

    memset(&param, 0, sizeof(param));
    sreq = ucp_am_send_nbx(ep, DKV__MSG_HELLO, &p->hello_hdr,
                           sizeof(p->hello_hdr), p->my_addr, p->my_addr_len,
                           &param);
    if (UCS_PTR_IS_PTR(sreq)) {
        ucp_request_free(sreq); /* completes on its own; buffers are ours */
    }
}

static dkv_status_t create_ep(dkv__peers_t *p, dkv__peer_kind_t kind,
                              int rank, int hello)
{
    const dkv__peer_addr_t *a = &p->addr[kind][rank];
    dkv_status_t            status;

    if (a->bytes == NULL) {
        DKV_LOG_WARN("no address of rank %d (%s worker)", rank,
                     (kind == DKV__PEER_SERVER) ? "server" : "client");
        return DKV_ERR_PEER_LOST;
    }
    status = dkv__ucx_ep_connect(p->worker, a->bytes, ep_error_cb,
                                 &p->dead[rank], &p->eps[kind][rank]);
    if (status != DKV_OK) {
        p->eps[kind][rank] = NULL;
        if (status == DKV_ERR_PEER_LOST) {
            p->dead[rank] = 1; /* e.g. its node refused the connection */
        }
        return status;
    }
    if (hello) {
        send_hello(p, p->eps[kind][rank]);
    }
    return DKV_OK;
}

dkv_status_t dkv__peers_ep(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                           ucp_ep_h *ep_p)
{
    dkv_status_t status;

    if ((rank < 0) || (rank >= p->size)) {
        return DKV_ERR_INVALID;
    }
    if (p->dead[rank]) {
        return DKV_ERR_PEER_LOST;
    }
    if (p->eps[kind][rank] == NULL) {
        status = create_ep(p, kind, rank, 1);
        if (status != DKV_OK) {
            /* Connecting to a process that has exited fails here. */
            return dkv__peers_dead(p, rank) ? DKV_ERR_PEER_LOST : status;
        }
    }
    *ep_p = p->eps[kind][rank];
    return DKV_OK;
}

void dkv__peers_reset(dkv__peers_t *p, dkv__peer_kind_t kind, int rank)
{
    if (p->eps[kind][rank] != NULL) {
        dkv__ucx_ep_close_force(p->worker, p->eps[kind][rank]);
        p->eps[kind][rank] = NULL;
    }
}

ucs_status_t dkv__peers_on_hello(void *arg, const void *header,
                                 size_t header_length, void *data,
                                 size_t length,
                                 const ucp_am_recv_param_t *param)
{
    dkv__peers_t   *p = arg;
    dkv__wire_hdr_t hdr;
    const char     *key, *why;
    int             r;

    (void)param;
    if ((dkv__wire_unpack(header, header_length, length, p->secret, &hdr,
                          &key, &why) != DKV_OK) ||
        (hdr.kind != DKV__MSG_HELLO) || (hdr.sender >= (uint32_t)p->size) ||
        (length == 0)) {
        p->hellos_dropped++;
        return UCS_OK;
    }
    r = (int)hdr.sender;
    if (p->hello_pending[r] || (r == p->rank)) {
        p->hellos_dropped++; /* one at a time per rank */
        return UCS_OK;
    }
    p->hello_pending[r]          = 1;
    p->hellos[p->nhello].rank    = r;
    p->hellos[p->nhello].data    = data;
    p->hellos[p->nhello++].len   = length;
    if (p->local[r] && (p->pid[r] == 0)) {
        p->pid[r] = (int32_t)hdr.aux;
    }
    return UCS_INPROGRESS;
}

/*
 * Keep @p h's address and connect back to it, unless we already have an
 * endpoint to that client worker (both sides connected at once: UCX paired
 * the two endpoints).
 */
static void answer_hello(dkv__peers_t *p, const struct dkv__peer_hello *h)
{
    void *copy = malloc(h->len);

    if (copy == NULL) {
        return; /* we connect when we need to, if the address is known */
    }
    memcpy(copy, h->data, h->len);
    dkv__peers_set_addr(p, DKV__PEER_CLIENT, h->rank, copy, h->len);
    if ((p->eps[DKV__PEER_CLIENT][h->rank] == NULL) && !p->dead[h->rank]) {
        (void)create_ep(p, DKV__PEER_CLIENT, h->rank, 0);
    }
}

unsigned dkv__peers_progress(dkv__peers_t *p)
{
    unsigned n = 0;

    while (p->nhello > 0) {
        struct dkv__peer_hello *h = &p->hellos[--p->nhello];

        answer_hello(p, h);
        p->hello_pending[h->rank] = 0;
        ucp_am_data_release(p->worker->ucp, h->data);
        n++;
    }
    return n;
}

void dkv__peers_close(dkv__peers_t *p, uint64_t deadline)
{
    ucp_ep_h *all;
    size_t    n = 0;
    int       kind, r;

    if ((p->eps[0] != NULL) && (p->eps[1] != NULL)) {
        all = calloc(2 * (size_t)p->size, sizeof(*all));
        for (kind = 0; kind < 2; kind++) {
            for (r = 0; r < p->size; r++) {
                if (p->eps[kind][r] == NULL) {
                    continue;
                }
                if ((all == NULL) || p->dead[r]) {
                    dkv__ucx_ep_close_force(p->worker, p->eps[kind][r]);
                } else {
                    all[n++] = p->eps[kind][r];
                }
                p->eps[kind][r] = NULL;
            }
        }
        dkv__ucx_eps_close(p->worker, all, n, deadline);
        free(all);
    }
    while (p->nhello > 0) {
        ucp_am_data_release(p->worker->ucp, p->hellos[--p->nhello].data);
    }
    for (kind = 0; kind < 2; kind++) {
        for (r = 0; (p->addr[kind] != NULL) && (r < p->size); r++) {
            free(p->addr[kind][r].bytes);
        }
        free(p->addr[kind]);
        free(p->eps[kind]);
        p->addr[kind] = NULL;
        p->eps[kind]  = NULL;
    }
    free(p->local);
    free(p->dead);
    free(p->pid);
    free(p->next_check);
    free(p->hellos);
    free(p->hello_pending);
    free(p->my_addr);
    memset(p, 0, sizeof(*p));
}
