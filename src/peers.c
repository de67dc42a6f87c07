/*
 * peers: lazy endpoint cache of the client worker. The first request to a
 * rank reads its worker address from PMIx (local after the collecting fence
 * at init) and creates the endpoint; UCX wires it up in the background.
 * Nothing here runs at init, so start-up does no per-peer work.
 */
#define DKV_LOG_MODULE "peers"

#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

dkv_status_t dkv__peers_init(dkv__peers_t *p, dkv__boot_t *boot,
                             dkv__worker_t *worker, int size)
{
    memset(p, 0, sizeof(*p));
    p->boot   = boot;
    p->worker = worker;
    p->size   = size;
    p->eps[0] = calloc((size_t)size, sizeof(ucp_ep_h));
    p->eps[1] = calloc((size_t)size, sizeof(ucp_ep_h));
    if ((p->eps[0] == NULL) || (p->eps[1] == NULL)) {
        free(p->eps[0]);
        free(p->eps[1]);
        p->eps[0] = p->eps[1] = NULL;
        return DKV_ERR_NO_MEMORY;
    }
    return DKV_OK;
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
    params.address         = addr;
    params.err_mode        = UCP_ERR_HANDLING_MODE_NONE;
    ustatus = ucp_ep_create(p->worker->ucp, &params, &p->eps[kind][rank]);
    free(addr);
    if (ustatus != UCS_OK) {
        DKV_LOG_ERROR("ucp_ep_create to rank %d failed: %s", rank,
                      ucs_status_string(ustatus));
        p->eps[kind][rank] = NULL;
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

dkv_status_t dkv__peers_ep(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                           ucp_ep_h *ep_p)
{
    dkv_status_t status;

    if (p->eps[kind][rank] == NULL) {
        status = create_ep(p, kind, rank);
        if (status != DKV_OK) {
            return status;
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

    if (p->eps[0] == NULL) {
        return;
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
                    goto out;
                }
            }
        }
        ucp_request_free(reqs[i]);
    }
out:
    free(reqs);
    free(p->eps[0]);
    free(p->eps[1]);
    p->eps[0] = p->eps[1] = NULL;
}
