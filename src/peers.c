/*
 * peers: lazy endpoint cache of the client worker. The first request to a
 * rank reads its worker address from PMIx (local after the collecting fence
 * at init) and creates the endpoint; UCX wires it up in the background.
 * Nothing here runs at init, so start-up does no per-peer work.
 */
#define DKV_LOG_MODULE "peers"

#include "peers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

dkv_status_t dkv__peers_init(dkv__peers_t *p, dkv__boot_t *boot,
                             dkv__worker_t *worker, int size,
                             const int *local_ranks, int nlocal)
{
    int i;

    memset(p, 0, sizeof(*p));
    p->boot   = boot;
    p->worker = worker;
    p->size   = size;
    p->eps[0] = calloc((size_t)size, sizeof(ucp_ep_h));
    p->eps[1] = calloc((size_t)size, sizeof(ucp_ep_h));
    p->local  = calloc((size_t)size, 1);
    p->dead   = calloc((size_t)size, 1);
    p->pid    = calloc((size_t)size, sizeof(int32_t));
    p->next_check = calloc((size_t)size, sizeof(uint64_t));
    if ((p->eps[0] == NULL) || (p->eps[1] == NULL) || (p->local == NULL) ||
        (p->dead == NULL) || (p->pid == NULL) || (p->next_check == NULL)) {
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

/* UCX error callback of an endpoint to another node: record only. */
static void ep_error_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    uint8_t *dead = arg;

    *dead = 1;
}

/* 1 if the process @p pid has exited (gone, or a zombie not yet reaped). */
static int process_gone(int32_t pid)
{
    char  path[64];
    char  buf[256];
    char *state;
    FILE *f;
    int   gone = 0;

    if ((kill(pid, 0) != 0) && (errno == ESRCH)) {
        return 1;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT;
    }
    if (fgets(buf, sizeof(buf), f) != NULL) {
        state = strrchr(buf, ')'); /* "pid (comm) S ..." */
        gone  = (state != NULL) && ((state[2] == 'Z') || (state[2] == 'X'));
    }
    fclose(f);
    return gone;
}

int dkv__peers_dead(dkv__peers_t *p, int rank)
{
    uint64_t now;
    void    *buf;
    size_t   len;

    if (p->dead[rank] || !p->local[rank]) {
        return p->dead[rank];
    }
    if (p->pid[rank] == 0) {
        if (dkv__boot_get(p->boot, rank, DKV__PMIX_KEY_PID, &buf, &len) !=
            DKV_OK) {
            return 0;
        }
        if (len == sizeof(int32_t)) {
            memcpy(&p->pid[rank], buf, sizeof(int32_t));
        }
        free(buf);
        if (p->pid[rank] == 0) {
            return 0;
        }
    }
    /* A /proc look at most every 50 ms per peer, however many requests
     * wait on it. */
    now = dkv__now_ns();
    if (now < p->next_check[rank]) {
        return 0;
    }
    p->next_check[rank] = now + 50000000ull;
    if (process_gone(p->pid[rank])) {
        DKV_LOG_WARN("rank %d (pid %d) on this node has exited", rank,
                     (int)p->pid[rank]);
        p->dead[rank] = 1;
    }
    return p->dead[rank];
}

static dkv_status_t create_ep(dkv__peers_t *p, dkv__peer_kind_t kind,
                              int rank)
{
    const char     *key = (kind == DKV__PEER_SERVER) ? DKV__PMIX_KEY_SERVER
                                                     : DKV__PMIX_KEY_CLIENT;
    ucp_ep_params_t params;
    ucs_status_t    ustatus;
    dkv_status_t    status;
    void           *addr;
    size_t          len;

    status = dkv__boot_get(p->boot, rank, key, &addr, &len);
    if (status != DKV_OK) {
        return status;
    }
    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS |
                        UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
    params.address    = addr;
    params.err_mode   = UCP_ERR_HANDLING_MODE_NONE;
    if (!p->local[rank]) {
        /* Another node: let the transport report a dead peer. */
        params.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLER;
        params.err_mode        = UCP_ERR_HANDLING_MODE_PEER;
        params.err_handler.cb  = ep_error_cb;
        params.err_handler.arg = &p->dead[rank];
    }
    ustatus = ucp_ep_create(p->worker->ucp, &params, &p->eps[kind][rank]);
    free(addr);
    if (ustatus != UCS_OK) {
        DKV_LOG_WARN("ucp_ep_create to rank %d failed: %s", rank,
                     ucs_status_string(ustatus));
        p->eps[kind][rank] = NULL;
        if (dkv__status_from_ucs(ustatus) == DKV_ERR_PEER_LOST) {
            p->dead[rank] = 1; /* e.g. its node refused the connection */
            return DKV_ERR_PEER_LOST;
        }
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

dkv_status_t dkv__peers_ep(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                           ucp_ep_h *ep_p)
{
    dkv_status_t status;

    if (p->dead[rank]) {
        return DKV_ERR_PEER_LOST;
    }
    if (p->eps[kind][rank] == NULL) {
        status = create_ep(p, kind, rank);
        if (status != DKV_OK) {
            /* Connecting to a process that has exited fails here. */
            return dkv__peers_dead(p, rank) ? DKV_ERR_PEER_LOST : status;
        }
    }
    *ep_p = p->eps[kind][rank];
    return DKV_OK;
}

void dkv__peers_close(dkv__peers_t *p, uint64_t deadline)
{
    ucp_request_param_t param;
    void              **reqs;
    size_t              nreqs = 0;
    size_t              i;
    int                 kind, r;

    if ((p->eps[0] == NULL) || (p->eps[1] == NULL)) {
        goto out_free;
    }
    reqs = calloc(2 * (size_t)p->size, sizeof(void *));
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = 0; /* flush, then close */
    for (kind = 0; kind < 2; kind++) {
        for (r = 0; r < p->size; r++) {
            void *req;

            if (p->eps[kind][r] == NULL) {
                continue;
            }
            /* A dead peer cannot answer a flush; forcing needs peer error
             * mode, which only endpoints to other nodes have. */
            param.flags = (p->dead[r] && !p->local[r])
                              ? UCP_EP_CLOSE_FLAG_FORCE : 0;
            req = ucp_ep_close_nbx(p->eps[kind][r], &param);
            if (UCS_PTR_IS_PTR(req) && (reqs != NULL)) {
                reqs[nreqs++] = req;
            }
            p->eps[kind][r] = NULL;
        }
    }
    for (i = 0; i < nreqs; i++) {
        while (ucp_request_check_status(reqs[i]) == UCS_INPROGRESS) {
            if (ucp_worker_progress(p->worker->ucp) == 0) {
                if (dkv__worker_sleep(p->worker, -1, deadline) ==
                    DKV_ERR_TIMEOUT) {
                    DKV_LOG_WARN("endpoint close timed out, %zu left",
                                 nreqs - i);
                    for (; i < nreqs; i++) {
                        ucp_request_free(reqs[i]); /* finishes in close */
                    }
                    goto out;
                }
            }
        }
        ucp_request_free(reqs[i]);
    }
out:
    free(reqs);
out_free:
    free(p->eps[0]);
    free(p->eps[1]);
    free(p->local);
    free(p->dead);
    free(p->pid);
    free(p->next_check);
    p->next_check = NULL;
    p->eps[0] = p->eps[1] = NULL;
    p->local = p->dead = NULL;
    p->pid   = NULL;
}
