/*
 * client: the client worker and waiting for operations on the caller's
 * thread (client_ops.c starts them). Every wait is a progress loop with a
 * deadline: poll the client
 * worker for spin_ns after the last activity, then arm it and sleep on its
 * event fd until the deadline. Writes are tracked in issue order until their
 * holder acknowledges them; dkv__client_quiet() waits for all of them.
 *
 * Owner: the thread that called dkv_init. Nothing here is thread-safe.
 */
#define DKV_LOG_MODULE "client"

#include "client.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* While waiting, look for dead holders this often. */
#define DKV__SWEEP_NS (100ull * 1000000ull)
/* ... and, while a send waits for room at its destination, this often. */
#define DKV__QUEUED_POLL_NS (200ull * 1000ull)
/* How long UCX gets to finish or cancel a transfer that uses the caller's
 * buffer after its call's deadline. */
#define DKV__CUT_WAIT_NS (1000ull * 1000000ull)

dkv_status_t dkv__client_open(dkv__client_t *c, ucp_context_h ucp)
{
    dkv_status_t status;

    dkv__list_init(&c->free_reqs);
    dkv__list_init(&c->ready);
    dkv__list_init(&c->writes);
    dkv__list_init(&c->gets);
    status = dkv__worker_open(&c->worker, ucp);
    if (status != DKV_OK) {
        return status;
    }
    status = dkv__client_set_handlers(c);
    if (status != DKV_OK) {
        dkv__worker_close(&c->worker);
    }
    return status;
}

static void free_failures(dkv__failure_t *f, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(f[i].key);
    }
}

void dkv__client_close(dkv__client_t *c)
{
    uint32_t i;

    dkv__worker_close(&c->worker);
    for (i = 0; i < c->nchunks; i++) {
        free(c->chunks[i]);
    }
    free(c->chunks);
    c->chunks  = NULL;
    c->nchunks = 0;
    dkv__client_clear_failures(c);
    free_failures(c->pending, c->npending);
    free(c->pending);
    free(c->failures);
    c->pending  = NULL;
    c->failures = NULL;
}

unsigned dkv__client_progress(dkv__client_t *c)
{
    unsigned     n = dkv__worker_progress(&c->worker);
    dkv__list_t *l;

    n += dkv__peers_progress(&c->peers);
    while ((l = dkv__list_pop_head(&c->ready)) != NULL) {
        struct dkv_request *req = DKV__CONTAINER_OF(l, struct dkv_request,
                                                    link);

        req->flags &= ~DKV__REQ_QUEUED;
        dkv__client_process(c, req);
        n++;
    }
    dkv__barrier_service(c); /* members asking about decided fences */
    return n;
}

/* Fail the requests whose holder is known dead. */
static void reap_dead(dkv__client_t *c)
{
    dkv__list_t *lists[2] = {&c->writes, &c->gets};
    dkv__list_t *l, *next;
    int          i;

    c->sweeps++;
    for (i = 0; i < 2; i++) {
        for (l = lists[i]->next; l != lists[i]; l = next) {
            struct dkv_request *req = DKV__CONTAINER_OF(l, struct dkv_request,
                                                        wlink);

            next = l->next;
            if (dkv__peers_dead(&c->peers, req->holder)) {
                req->status = DKV_ERR_PEER_LOST;
                dkv__client_abandon(c, req);
            }
        }
    }
}

dkv_status_t dkv__client_wait(dkv__client_t *c, int (*done)(void *),
                              void *arg, int extra_fd, uint64_t deadline)
{
    uint64_t idle_since = 0;
    uint64_t next_sweep = dkv__now_ns() + DKV__SWEEP_NS;
    uint64_t now, wake;
    int      busy;

    for (;;) {
        if (done(arg)) {
            return DKV_OK;
        }
        busy = dkv__client_progress(c) > 0;
        if (done(arg)) {
            return DKV_OK;
        }
        now = dkv__now_ns();
        if (busy) {
            idle_since = 0;
            if ((now < deadline) && (now < next_sweep)) {
                continue;
            }
        }
        if (now >= next_sweep) {
            reap_dead(c);
            next_sweep = now + DKV__SWEEP_NS;
            continue;
        }
        if (now >= deadline) {
            return DKV_ERR_TIMEOUT;
        }
        if (idle_since == 0) {
            idle_since = now;
        }
        if (now - idle_since < c->spin_ns) {
            if (now - idle_since > c->pure_spin_ns) {
                sched_yield(); /* oversubscribed ranks let others run */
            }
            continue;
        }
        wake = (next_sweep < deadline) ? next_sweep : deadline;
        /* UCX wakes a sleeping worker for arrivals, not for a send that
         * waits for room at its destination: while one is queued, look
         * again soon. */
        if ((c->sends_queued > 0) && (wake > now + DKV__QUEUED_POLL_NS)) {
            wake = now + DKV__QUEUED_POLL_NS;
        }
        (void)dkv__worker_sleep(&c->worker, extra_fd, wake);
        idle_since = 0;
    }
}

static int req_complete(void *arg)
{
    const struct dkv_request *req = arg;

    return (req->flags & (DKV__REQ_COMPLETE | DKV__REQ_ABANDONED)) != 0;
}

static void record_failure(dkv__client_t *c, const struct dkv_request *req,
                           dkv_status_t status)
{
    dkv__failure_t *f;

    if (c->first_error == DKV_OK) {
        c->first_error = status; /* reported by quiet even without memory */
    }
    if (c->npending == c->pending_cap) {
        size_t cap = (c->pending_cap == 0) ? 16 : 2 * c->pending_cap;

        f = realloc(c->pending, cap * sizeof(*f));
        if (f == NULL) {
            return; /* the status is still reported by quiet */
        }
        c->pending     = f;
        c->pending_cap = cap;
    }
    f         = &c->pending[c->npending];
    f->key    = strdup(dkv__req_key(req));
    f->status = status;
    if (f->key != NULL) {
        c->npending++;
    }
}

void dkv__client_untrack(dkv__client_t *c, struct dkv_request *req)
{
    if (req->flags & DKV__REQ_WRITE) {
        req->flags &= ~DKV__REQ_WRITE;
        dkv__list_del(&req->wlink);
        c->outstanding--;
        if ((req->status != DKV_OK) && !(req->flags & DKV__REQ_DECIDED)) {
            record_failure(c, req, req->status);
        }
    } else if (dkv__client_takes_data(req->kind)) {
        dkv__list_del(&req->wlink); /* no-op when already off the list */
    }
}

void dkv__client_abandon(dkv__client_t *c, struct dkv_request *req)
{
    if (req->flags & (DKV__REQ_COMPLETE | DKV__REQ_ABANDONED)) {
        return;
    }
    if (req->status == DKV_OK) {
        /* A write that timed out may have been stored, or not. */
        req->status = (req->flags & DKV__REQ_WRITE) ? DKV_ERR_UNKNOWN
                                                    : DKV_ERR_TIMEOUT;
    }
    dkv__client_untrack(c, req);
    /* UCX requests still in flight keep their callbacks (they free their
     * own handles; closing the worker ends them with UCS_ERR_CANCELED), and
     * the slot is released only after them. */
    req->flags |= DKV__REQ_ABANDONED;
}

/* The waiter is done with @p req: free it now, or when UCX lets it go. */
static void let_go(dkv__client_t *c, struct dkv_request *req)
{
    req->flags &= ~(DKV__REQ_USER | DKV__REQ_WAITED);
    if (req->flags & DKV__REQ_COMPLETE) {
        dkv__req_release(c, req);
    }
}

static int ucx_released(void *arg)
{
    const struct dkv_request *req = arg;

    return (req->send_req == NULL) && (req->recv_req == NULL);
}

void dkv__client_fail_holder(dkv__client_t *c, int holder)
{
    dkv__list_t *lists[2] = {&c->writes, &c->gets};
    dkv__list_t *l;
    int          i;

    for (i = 0; i < 2; i++) {
        for (l = lists[i]->next; l != lists[i]; l = l->next) {
            struct dkv_request *r = DKV__CONTAINER_OF(l, struct dkv_request,
                                                      wlink);

            if ((r->holder == holder) && (r->status == DKV_OK)) {
                r->status = (r->flags & DKV__REQ_WRITE) ? DKV_ERR_UNKNOWN
                                                        : DKV_ERR_TIMEOUT;
            }
        }
    }
}

void dkv__client_cut(dkv__client_t *c, struct dkv_request *req)
{
    int holder = req->holder;

    if (ucx_released(req)) {
        return;
    }
    DKV_LOG_WARN("closing the endpoint to holder %d: a timed-out request "
                 "still uses the caller's buffer", holder);
    dkv__client_fail_holder(c, holder);
    if (req->status == DKV_OK) {
        req->status = DKV_ERR_TIMEOUT;
    }
    dkv__peers_reset(&c->peers, DKV__PEER_SERVER, holder);
    /* UCX runs the cancelled operations' callbacks in progress. */
    if (dkv__client_wait(c, ucx_released, req, -1,
                         dkv__now_ns() + DKV__CUT_WAIT_NS) != DKV_OK) {
        DKV_LOG_ERROR("UCX still holds a buffer of a cancelled request");
    }
}

static dkv_status_t finish_one(dkv__client_t *c, struct dkv_request *req,
                               uint64_t deadline)
{
    dkv_status_t status;

    DKV__ASSERT(req->magic == DKV__REQ_MAGIC);
    req->flags |= DKV__REQ_WAITED;
    status = dkv__client_wait(c, req_complete, req, -1, deadline);
    if ((status != DKV_OK) && (req->flags & DKV__REQ_RECVING)) {
        /* The value is streaming into the caller's buffer: returning now
         * would leave UCX writing into memory the caller owns again. Give
         * the transfer a short grace, then cut it off. */
        status = dkv__client_wait(c, req_complete, req, -1,
                                  dkv__now_ns() + DKV__CUT_WAIT_NS);
        if (status != DKV_OK) {
            dkv__client_cut(c, req);
        }
    }
    if (status != DKV_OK) {
        DKV_LOG_WARN("request to holder %d timed out after %llu ms",
                     req->holder,
                     (unsigned long long)(c->timeout_ns / 1000000));
        dkv__client_abandon(c, req);
    }
    status = req->status;
    let_go(c, req);
    return status;
}

dkv_status_t dkv__client_finish_until(dkv__client_t *c,
                                      struct dkv_request *req,
                                      uint64_t deadline)
{
    struct dkv_request *next = req->sibling;
    dkv_status_t        status, copy;

    req->sibling = NULL;
    status       = finish_one(c, req, deadline);
    for (req = next; req != NULL; req = next) {
        next         = req->sibling;
        req->sibling = NULL;
        copy         = finish_one(c, req, deadline);
        status       = (status == DKV_OK) ? copy : status;
    }
    return status;
}

dkv_status_t dkv__client_finish(dkv__client_t *c, struct dkv_request *req)
{
    return dkv__client_finish_until(c, req, dkv__now_ns() + c->timeout_ns);
}

static int no_outstanding(void *arg)
{
    const dkv__client_t *c = arg;

    return c->outstanding == 0;
}

/* Say who we were waiting for: per holder, oldest first (DKV_LOG=warn).
 * The list is in issue order, so a holder's first entry is its oldest. */
static void log_outstanding(dkv__client_t *c)
{
    enum { MAX_SHOWN = 16 };
    struct dkv_request *oldest[MAX_SHOWN];
    size_t              count[MAX_SHOWN];
    uint64_t            now = dkv__now_ns();
    dkv__list_t        *l;
    int                 n = 0, i;

    DKV_LOG_WARN("quiet timed out: %zu writes unacknowledged", c->outstanding);
    if (dkv__log_level < DKV__LOG_WARN) {
        return;
    }
    for (l = c->writes.next; l != &c->writes; l = l->next) {
        struct dkv_request *req = DKV__CONTAINER_OF(l, struct dkv_request,
                                                    wlink);

        for (i = 0; (i < n) && (oldest[i]->holder != req->holder); i++) {
        }
        if (i == n) {
            if (n == MAX_SHOWN) {
                continue;
            }
            oldest[n]  = req;
            count[n++] = 0;
        }
        count[i]++;
    }
    for (i = 0; i < n; i++) {
        DKV_LOG_WARN("  holder %d: %zu outstanding, oldest %llu ms (key %s)",
                     oldest[i]->holder, count[i],
                     (unsigned long long)((now - oldest[i]->start_ns) /
                                          1000000),
                     dkv__req_key(oldest[i]));
    }
}

static void abandon_all(dkv__client_t *c)
{
    log_outstanding(c);
    while (!dkv__list_empty(&c->writes)) {
        dkv__client_abandon(c, DKV__CONTAINER_OF(c->writes.next,
                                                 struct dkv_request, wlink));
    }
}

void dkv__client_clear_failures(dkv__client_t *c)
{
    free_failures(c->failures, c->nfailures);
    c->nfailures = 0;
}

dkv_status_t dkv__client_quiet(dkv__client_t *c)
{
    dkv__failure_t *tmp;
    size_t          cap;
    dkv_status_t    status;

    dkv__client_clear_failures(c);
    status = dkv__client_wait(c, no_outstanding, c, -1,
                              dkv__now_ns() + c->timeout_ns);
    if (status != DKV_OK) {
        abandon_all(c);
    }
    /* What accumulated since the last quiet becomes the reported list. */
    tmp            = c->failures;
    cap            = c->failures_cap;
    c->failures    = c->pending;
    c->nfailures   = c->npending;
    c->failures_cap = c->pending_cap;
    c->pending     = tmp;
    c->pending_cap = cap;
    c->npending    = 0;
    status         = c->first_error;
    c->first_error = DKV_OK;
    return status;
}
