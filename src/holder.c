/*
 * holder: the holder thread. It creates the server worker itself (so the
 * worker has exactly one owner), publishes the worker address to the
 * starting thread, then loops: progress the worker, handle what the AM
 * handlers recorded, and - after spin_ns without activity - arm the worker
 * and sleep in poll() on its event fd and the control eventfd. An idle
 * holder therefore uses no CPU. dkv__holder_stop() sets the stop flag and
 * writes the control eventfd; the thread finishes in-flight replies for a
 * bounded time, closes its worker and exits.
 */
#define DKV_LOG_MODULE "holder"

#include "holder_int.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define DKV__OP_CHUNK    256u
#define DKV__OP_LOWWATER 64u
#define DKV__STOP_DRAIN_NS (2000ull * 1000000ull)
/* While replies wait for their clients, look again after 200 us at first,
 * backing off to 100 ms: a reply waiting for room at its client gets no
 * wakeup, and one to a dead client must be noticed without burning CPU. */
#define DKV__REPLY_POLL_MIN_NS (200ull * 1000ull)
#define DKV__REPLY_POLL_MAX_NS (100ull * 1000000ull)

int dkv__holder_refill(dkv__holder_t *h)
{
    dkv__op_t *ops;
    void     **chunks;
    size_t     i;

    if (h->nfree >= DKV__OP_LOWWATER) {
        return 0;
    }
    chunks = realloc(h->chunks, (h->nchunks + 1) * sizeof(*chunks));
    if (chunks == NULL) {
        return -1;
    }
    h->chunks = chunks;
    ops       = calloc(DKV__OP_CHUNK, sizeof(*ops));
    if (ops == NULL) {
        return -1;
    }
    for (i = 0; i < DKV__OP_CHUNK; i++) {
        ops[i].holder = h;
        dkv__list_init(&ops[i].flight);
        dkv__list_push_tail(&h->free_ops, &ops[i].link);
    }
    h->nfree += DKV__OP_CHUNK;
    h->chunks[h->nchunks++] = ops;
    return 0;
}

void dkv__holder_free_ops(dkv__holder_t *h)
{
    size_t i;

    for (i = 0; i < h->nchunks; i++) {
        free(h->chunks[i]);
    }
    free(h->chunks);
    h->chunks  = NULL;
    h->nchunks = 0;
}

static void signal_fd(int fd)
{
    uint64_t one = 1;
    ssize_t  n   = write(fd, &one, sizeof(one));

    (void)n;
}

static void drain_fd(int fd)
{
    uint64_t v;
    ssize_t  n = read(fd, &v, sizeof(v));

    (void)n;
}

static int setup(dkv__holder_t *h)
{
    ucp_address_t *addr;
    size_t         len;

    dkv__list_init(&h->free_ops);
    dkv__list_init(&h->ready);
    dkv__list_init(&h->inflight);
    dkv__list_init(&h->replying);
    dkv__list_init(&h->failed);
    dkv__list_init(&h->parked);
    h->clients       = calloc((size_t)h->cfg.size, sizeof(*h->clients));
    h->reply_poll_ns = DKV__REPLY_POLL_MIN_NS;
    if ((h->clients == NULL) || (dkv__store_init(&h->store, h->cfg.hold_bytes) != DKV_OK) ||
        (dkv__holder_refill(h) != 0)) {
        return -1;
    }
    if (dkv__worker_open(&h->worker, h->cfg.ucp) != DKV_OK) {
        return -1;
    }
    if ((dkv__holder_set_handlers(h) != DKV_OK) ||
        (dkv__worker_address(&h->worker, &addr, &len) != DKV_OK)) {
        return -1;
    }
    h->addr = malloc(len);
    if (h->addr != NULL) {
        memcpy(h->addr, addr, len);
        h->addr_len = len;
    }
    ucp_worker_release_address(h->worker.ucp, addr);
    return (h->addr != NULL) ? 0 : -1;
}

static void serve(dkv__holder_t *h)
{
    uint64_t idle_since = 0;
    uint64_t now;

    while (!atomic_load_explicit(&h->stop, memory_order_acquire)) {
        unsigned n = dkv__worker_progress(&h->worker);

        n += dkv__holder_process(h);
        n += dkv__holder_reap_clients(h);
        dkv__holder_refill(h);
        dkv__holder_drain_reap(h);
        n += (unsigned)dkv__holder_commit_reap(h);
        if (n > 0) {
            idle_since       = 0;
            h->reply_poll_ns = DKV__REPLY_POLL_MIN_NS;
            continue;
        }
        now = dkv__now_ns();
        if (idle_since == 0) {
            idle_since = now;
        }
        if (now - idle_since < h->cfg.spin_ns) {
            continue;
        }
        if (dkv__worker_sleep(&h->worker, h->ctl_fd,
                              (dkv__list_empty(&h->replying) &&
                               dkv__list_empty(&h->parked))
                                  ? DKV__NO_DEADLINE
                                  : now + h->reply_poll_ns) == DKV_OK) {
            drain_fd(h->ctl_fd);
        }
        if (h->reply_poll_ns < DKV__REPLY_POLL_MAX_NS) {
            h->reply_poll_ns *= 2;
        }
        idle_since = 0;
    }
}

/* Let replies in flight finish (bounded) so no request is left in UCX. */
static void finish_replies(dkv__holder_t *h)
{
    uint64_t deadline = dkv__now_ns() + DKV__STOP_DRAIN_NS;

    while ((h->busy > 0) && (dkv__now_ns() < deadline)) {
        if ((dkv__worker_progress(&h->worker) == 0) &&
            (dkv__holder_process(h) == 0) &&
            (dkv__holder_reap_clients(h) == 0)) {
            dkv__worker_sleep(&h->worker, -1, deadline);
        }
    }
    if (h->busy > 0) {
        /* Closing the worker ends them (UCS_ERR_CANCELED to callbacks). */
        DKV_LOG_WARN("stopping with %zu requests in flight", h->busy);
    } else if (dkv__store_held(&h->store) > 0) {
        /* Every request is done and the drain released its snapshot: an
         * entry still held was leaked by a request that ended. */
        DKV_LOG_ERROR("%zu entries still pinned or reserved at stop",
                      dkv__store_held(&h->store));
    }
}

/* Hold requests in UCX until the job secret is known (dkv__holder_go). */
static void wait_for_go(dkv__holder_t *h)
{
    struct pollfd pfd = {.fd = h->ctl_fd, .events = POLLIN};

    while (!atomic_load_explicit(&h->go, memory_order_acquire) &&
           !atomic_load_explicit(&h->stop, memory_order_acquire)) {
        if (poll(&pfd, 1, -1) > 0) {
            drain_fd(h->ctl_fd);
        }
    }
}

/* Every reply is done or given up: close the clients' endpoints. */
static void close_clients(dkv__holder_t *h)
{
    int r;

    for (r = 0; (h->clients != NULL) && (r < h->cfg.size); r++) {
        if ((h->clients[r] != NULL) && (h->clients[r]->ep != NULL)) {
            dkv__ucx_ep_close_force(&h->worker, h->clients[r]->ep);
            h->clients[r]->ep = NULL;
        }
    }
    dkv__worker_progress(&h->worker);
}

static void *holder_main(void *arg)
{
    dkv__holder_t *h = arg;

    if (setup(h) != 0) {
        atomic_store(&h->started, -1);
        signal_fd(h->ready_fd);
        return NULL;
    }
    atomic_store(&h->started, 1);
    signal_fd(h->ready_fd);
    wait_for_go(h);
    serve(h);
    dkv__holder_local_stop(h);
    dkv__holder_drain_stop(h);
    finish_replies(h);
    dkv__holder_commit_stop(h);
    DKV_LOG_DEBUG("served %llu puts, %llu gets, %llu deletes, rejected %llu",
                  (unsigned long long)h->stats.puts,
                  (unsigned long long)h->stats.gets,
                  (unsigned long long)h->stats.deletes,
                  (unsigned long long)h->stats.rejected);
    close_clients(h);
    dkv__worker_close(&h->worker);
    return NULL;
}

static void destroy(dkv__holder_t *h)
{
    dkv__store_cleanup(&h->store);
    dkv__holder_free_ops(h);
    dkv__holder_clients_free(h);
    if (h->ctl_fd >= 0) {
        close(h->ctl_fd);
    }
    if (h->ready_fd >= 0) {
        close(h->ready_fd);
    }
    free(h->addr);
    free(h);
}

dkv_status_t dkv__holder_start(const dkv__holder_cfg_t *cfg, uint64_t deadline,
                               dkv__holder_t **holder_p)
{
    dkv__holder_t *h;
    struct pollfd  pfd;

    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    h->cfg      = *cfg;
    h->ctl_fd   = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    h->ready_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if ((h->ctl_fd < 0) || (h->ready_fd < 0) ||
        (pthread_create(&h->thread, NULL, holder_main, h) != 0)) {
        DKV_LOG_ERROR("cannot start the holder thread");
        destroy(h);
        return DKV_ERR_NO_MEMORY;
    }
    pfd.fd     = h->ready_fd;
    pfd.events = POLLIN;
    while (atomic_load(&h->started) == 0) {
        if (poll(&pfd, 1, dkv__poll_ms(deadline)) == 0) {
            if (dkv__now_ns() >= deadline) {
                /* The thread is stuck in UCX; it cannot be joined safely. */
                DKV_LOG_ERROR("holder thread did not start in time");
                return DKV_ERR_TIMEOUT;
            }
        }
    }
    if (atomic_load(&h->started) < 0) {
        DKV_LOG_ERROR("holder thread failed to open its worker");
        pthread_join(h->thread, NULL);
        destroy(h);
        return DKV_ERR_TRANSPORT;
    }
    *holder_p = h;
    return DKV_OK;
}

void dkv__holder_address(const dkv__holder_t *h, const void **addr_p,
                         size_t *len_p)
{
    *addr_p = h->addr;
    *len_p  = h->addr_len;
}

dkv_status_t dkv__holder_go(dkv__holder_t *h, uint64_t secret,
                            const void *const *addr, const size_t *addr_len)
{
    dkv_status_t status = dkv__holder_commit_init(h, addr, addr_len);

    h->cfg.secret = secret;
    atomic_store_explicit(&h->go, 1, memory_order_release);
    signal_fd(h->ctl_fd);
    return status;
}

void dkv__holder_stop(dkv__holder_t *h)
{
    if (h == NULL) {
        return;
    }
    atomic_store_explicit(&h->stop, 1, memory_order_release);
    signal_fd(h->ctl_fd);
    pthread_join(h->thread, NULL);
    destroy(h);
}
