/*
 * ucx_worker: opens the process's UCX context (active messages + wakeup) and
 * its workers, and implements the arm-then-poll sleep every waiting loop in
 * dramkv uses. A worker is created UCS_THREAD_MODE_SINGLE on the thread that
 * will drive it; nothing here keeps state across threads.
 */
#define DKV_LOG_MODULE "ucx"

#include "ucx_worker.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

dkv_status_t dkv__status_from_ucs(ucs_status_t status)
{
    switch (status) {
    case UCS_OK:
        return DKV_OK;
    case UCS_ERR_NO_MEMORY:
        return DKV_ERR_NO_MEMORY;
    case UCS_ERR_TIMED_OUT:
        return DKV_ERR_TIMEOUT;
    /* What UCX reports for requests on a failed endpoint: the peer is
     * gone or unreachable. All of these let a get try the next copy. */
    case UCS_ERR_ENDPOINT_TIMEOUT:
    case UCS_ERR_CONNECTION_RESET:
    case UCS_ERR_UNREACHABLE:
    case UCS_ERR_REJECTED:
    case UCS_ERR_NOT_CONNECTED:
    case UCS_ERR_IO_ERROR:
    case UCS_ERR_CANCELED:
    case UCS_ERR_SHMEM_SEGMENT:
        return DKV_ERR_PEER_LOST;
    default:
        return DKV_ERR_TRANSPORT;
    }
}

/*
 * Every dramkv endpoint uses peer error handling. UCX's shared-memory
 * transports support it only when asked (otherwise UCX falls back to TCP
 * loopback on the node); keepalive finds a silent peer's death. The user's
 * own UCX_* settings win.
 */
static void set_defaults(ucp_config_t *config)
{
    /* {variable a user may have set, UCX key, value}: a UCT setting is
     * applied by its name inside its transport's table, so one key sets
     * it for posix, sysv and xpmem alike. */
    static const char *const defaults[][3] = {
        {"UCX_POSIX_ERROR_HANDLING", "MM_ERROR_HANDLING", "y"},
        {"UCX_KEEPALIVE_INTERVAL", "KEEPALIVE_INTERVAL", "1s"},
    };
    size_t i;

    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
        if (getenv(defaults[i][0]) != NULL) {
            continue;
        }
        if (ucp_config_modify(config, defaults[i][1], defaults[i][2]) !=
            UCS_OK) {
            DKV_LOG_DEBUG("UCX setting %s not applied", defaults[i][1]);
        }
    }
}

dkv_status_t dkv__ucx_context_open(ucp_context_h *ucp_p)
{
    ucp_params_t  params;
    ucp_config_t *config;
    ucs_status_t  status;

    status = ucp_config_read(NULL, NULL, &config);
    if (status != UCS_OK) {
        DKV_LOG_ERROR("ucp_config_read failed: %s", ucs_status_string(status));
        return DKV_ERR_TRANSPORT;
    }
    set_defaults(config);
    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_PARAM_FIELD_FEATURES |
                        UCP_PARAM_FIELD_MT_WORKERS_SHARED |
                        UCP_PARAM_FIELD_NAME;
    params.features          = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
    params.mt_workers_shared = 1; /* client + holder workers, two threads */
    params.name              = "dramkv";
    status                   = ucp_init(&params, config, ucp_p);
    ucp_config_release(config);
    if (status != UCS_OK) {
        DKV_LOG_ERROR("ucp_init failed: %s", ucs_status_string(status));
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

void dkv__ucx_context_close(ucp_context_h ucp)
{
    if (ucp != NULL) {
        ucp_cleanup(ucp);
    }
}

dkv_status_t dkv__worker_open(dkv__worker_t *w, ucp_context_h ucp)
{
    ucp_worker_params_t params;
    ucs_status_t        status;

    memset(&params, 0, sizeof(params));
    params.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    params.thread_mode = UCS_THREAD_MODE_SINGLE;
    w->owner           = pthread_self();
    w->in_progress     = 0;
    status             = ucp_worker_create(ucp, &params, &w->ucp);
    if (status != UCS_OK) {
        DKV_LOG_ERROR("ucp_worker_create failed: %s",
                      ucs_status_string(status));
        return DKV_ERR_TRANSPORT;
    }
    status = ucp_worker_get_efd(w->ucp, &w->efd);
    if (status != UCS_OK) {
        DKV_LOG_ERROR("ucp_worker_get_efd failed: %s",
                      ucs_status_string(status));
        ucp_worker_destroy(w->ucp);
        w->ucp = NULL;
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

void dkv__worker_close(dkv__worker_t *w)
{
    if (w->ucp != NULL) {
        ucp_worker_destroy(w->ucp);
        w->ucp = NULL;
    }
}

dkv_status_t dkv__worker_address(dkv__worker_t *w, ucp_address_t **addr_p,
                                 size_t *len_p)
{
    ucs_status_t status = ucp_worker_get_address(w->ucp, addr_p, len_p);

    if (status != UCS_OK) {
        DKV_LOG_ERROR("ucp_worker_get_address failed: %s",
                      ucs_status_string(status));
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

dkv_status_t dkv__ucx_ep_connect(dkv__worker_t *w, const void *address,
                                 ucp_err_handler_cb_t err_cb, void *arg,
                                 ucp_ep_h *ep_p)
{
    ucp_ep_params_t params;
    ucs_status_t    status;

    memset(&params, 0, sizeof(params));
    params.field_mask      = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS |
                             UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                             UCP_EP_PARAM_FIELD_ERR_HANDLER;
    params.address         = address;
    params.err_mode        = UCP_ERR_HANDLING_MODE_PEER;
    params.err_handler.cb  = err_cb;
    params.err_handler.arg = arg;
    status                 = ucp_ep_create(w->ucp, &params, ep_p);
    if (status != UCS_OK) {
        DKV_LOG_WARN("ucp_ep_create failed: %s", ucs_status_string(status));
        return (dkv__status_from_ucs(status) == DKV_ERR_PEER_LOST)
                   ? DKV_ERR_PEER_LOST
                   : DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

void dkv__ucx_ep_close_force(dkv__worker_t *w, ucp_ep_h ep)
{
    ucp_request_param_t param;
    void               *req;

    (void)w;
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = UCP_EP_CLOSE_FLAG_FORCE;
    req                = ucp_ep_close_nbx(ep, &param);
    if (UCS_PTR_IS_PTR(req)) {
        ucp_request_free(req); /* finishes inside later progress calls */
    }
}

void dkv__ucx_eps_close(dkv__worker_t *w, ucp_ep_h *eps, size_t n,
                        uint64_t deadline)
{
    ucp_request_param_t param;
    size_t              i, left = 0;
    void               *req;
    void              **reqs = calloc((n > 0) ? n : 1, sizeof(*reqs));

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = (reqs == NULL) ? UCP_EP_CLOSE_FLAG_FORCE : 0;
    for (i = 0; i < n; i++) {
        req = ucp_ep_close_nbx(eps[i], &param);
        if (UCS_PTR_IS_PTR(req)) {
            if (reqs != NULL) {
                reqs[left++] = req;
            } else {
                ucp_request_free(req);
            }
        }
    }
    for (i = 0; i < left; i++) {
        while (ucp_request_check_status(reqs[i]) == UCS_INPROGRESS) {
            if ((dkv__worker_progress(w) == 0) &&
                (dkv__worker_sleep(w, -1, deadline) == DKV_ERR_TIMEOUT)) {
                break;
            }
        }
        /* A close still running past the deadline (its peer hung) ends
         * when the worker is destroyed; its handle is freed now. */
        ucp_request_free(reqs[i]);
    }
    free(reqs);
}

dkv_status_t dkv__worker_set_handler(dkv__worker_t *w, unsigned id,
                                     ucp_am_recv_callback_t cb, void *arg)
{
    ucp_am_handler_param_t param;
    ucs_status_t           status;

    memset(&param, 0, sizeof(param));
    param.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                       UCP_AM_HANDLER_PARAM_FIELD_CB |
                       UCP_AM_HANDLER_PARAM_FIELD_ARG |
                       UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
    param.id    = id;
    param.cb    = cb;
    param.arg   = arg;
    param.flags = UCP_AM_FLAG_WHOLE_MSG | UCP_AM_FLAG_PERSISTENT_DATA;
    status      = ucp_worker_set_am_recv_handler(w->ucp, &param);
    if (status != UCS_OK) {
        DKV_LOG_ERROR("set am handler %u failed: %s", id,
                      ucs_status_string(status));
        return DKV_ERR_TRANSPORT;
    }
    return DKV_OK;
}

dkv_status_t dkv__worker_sleep(dkv__worker_t *w, int extra_fd,
                               uint64_t deadline)
{
    struct pollfd fds[2];
    ucs_status_t  status;
    int           nfds = 1;
    int           rc;

    DKV__ASSERT_OWNER(w);
    if ((deadline != DKV__NO_DEADLINE) && (dkv__now_ns() >= deadline)) {
        return DKV_ERR_TIMEOUT;
    }
    status = ucp_worker_arm(w->ucp);
    if (status == UCS_ERR_BUSY) {
        return DKV_OK; /* events are pending: progress again */
    }
    if (status != UCS_OK) {
        DKV_LOG_WARN("ucp_worker_arm failed: %s", ucs_status_string(status));
    }
    fds[0].fd     = w->efd;
    fds[0].events = POLLIN;
    if (extra_fd >= 0) {
        fds[1].fd     = extra_fd;
        fds[1].events = POLLIN;
        nfds          = 2;
    }
    do {
        rc = poll(fds, nfds, dkv__poll_ms(deadline));
    } while ((rc < 0) && (errno == EINTR));
    if ((rc == 0) && (deadline != DKV__NO_DEADLINE) &&
        (dkv__now_ns() >= deadline)) {
        return DKV_ERR_TIMEOUT;
    }
    return DKV_OK;
}
