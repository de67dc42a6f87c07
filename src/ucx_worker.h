/*
 * ucx_worker: the UCX context and workers dramkv uses, and the one way to
 * sleep on a worker. Each dkv__worker_t has exactly one owner thread: the
 * thread that opened it. Only that thread progresses, arms, sleeps on or
 * closes it.
 */
#ifndef DKV_UCX_WORKER_H
#define DKV_UCX_WORKER_H

#include <pthread.h>
#include <stdint.h>
#include <ucp/api/ucp.h>

#include "debug.h"
#include "dramkv.h"

typedef struct dkv__worker {
    ucp_worker_h ucp;
    int          efd;         /* UCX event fd, armed before sleeping */
    pthread_t    owner;       /* the thread that opened it (debug checks) */
    int          in_progress; /* inside dkv__worker_progress (debug) */
} dkv__worker_t;

/* Debug builds: the caller must be @p w's owner thread. */
#define DKV__ASSERT_OWNER(w) DKV__ASSERT(pthread_equal((w)->owner,            \
                                                       pthread_self()))

/*
 * ucp_worker_progress() on @p w by its owner, never re-entered (a UCX
 * callback must not progress its own worker). Returns its count.
 */
static inline unsigned dkv__worker_progress(dkv__worker_t *w)
{
    unsigned n;

    DKV__ASSERT_OWNER(w);
    DKV__ASSERT(w->in_progress++ == 0);
    n = ucp_worker_progress(w->ucp);
    DKV__ASSERT(--w->in_progress == 0);
    return n;
}

dkv_status_t dkv__status_from_ucs(ucs_status_t status);

/* One context per process, shared by the client and server workers. */
dkv_status_t dkv__ucx_context_open(ucp_context_h *ucp_p);
void dkv__ucx_context_close(ucp_context_h ucp);

/* Open a worker owned by the calling thread (UCS_THREAD_MODE_SINGLE). */
dkv_status_t dkv__worker_open(dkv__worker_t *w, ucp_context_h ucp);
void dkv__worker_close(dkv__worker_t *w);

/* The worker's address; release with ucp_worker_release_address(). */
dkv_status_t dkv__worker_address(dkv__worker_t *w, ucp_address_t **addr_p,
                                 size_t *len_p);

/*
 * An endpoint from @p w to the worker at @p address with UCX peer error
 * handling; @p err_cb(@p arg) runs (on @p w's thread, inside progress) if
 * the connection fails. DKV_OK, DKV_ERR_PEER_LOST or DKV_ERR_TRANSPORT.
 */
dkv_status_t dkv__ucx_ep_connect(dkv__worker_t *w, const void *address,
                                 ucp_err_handler_cb_t err_cb, void *arg,
                                 ucp_ep_h *ep_p);

/* Close @p ep at once: UCX cancels what is in flight on it (callbacks see
 * UCS_ERR_CANCELED) and releases their buffers; nothing waits. */
void dkv__ucx_ep_close_force(dkv__worker_t *w, ucp_ep_h ep);

/* Close @p n endpoints gracefully (flush first), progressing @p w until
 * @p deadline at most; those still closing then are closed with force. */
void dkv__ucx_eps_close(dkv__worker_t *w, ucp_ep_h *eps, size_t n,
                        uint64_t deadline);

/* Register @p cb for AM id @p id; data always persistent. */
dkv_status_t dkv__worker_set_handler(dkv__worker_t *w, unsigned id,
                                     ucp_am_recv_callback_t cb, void *arg);

/*
 * Sleep until the worker may have events, @p extra_fd (if >= 0) is readable,
 * or @p deadline (DKV__NO_DEADLINE: none) passes. Returns DKV_OK when there
 * may be work (including when arming found events pending) and
 * DKV_ERR_TIMEOUT when the deadline passed.
 */
dkv_status_t dkv__worker_sleep(dkv__worker_t *w, int extra_fd,
                               uint64_t deadline);

#endif
