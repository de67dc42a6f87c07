/*
 * ucx_perf: raw UCX active messages between rank 0 and the last rank - the
 * minimal code a user would write instead of dramkv, and the transport's
 * limit dramkv is measured against. Not ucx_perftest: the same AM API
 * dramkv uses (ucp_am_send_nbx + a receive handler), one worker per process
 * in UCS_THREAD_MODE_SINGLE, both sides busy-polling. Worker addresses are
 * exchanged with MPI_Allgather.
 *
 *   ucx_perf [--quick]
 *
 * With UCX_PERF_ERR_MODE=peer in the environment every endpoint uses UCX
 * peer error handling, as dramkv's do (run it with
 * UCX_POSIX_ERROR_HANDLING=y UCX_SYSV_ERROR_HANDLING=y to keep shared
 * memory): tests/perf/run_errcost measures what that costs.
 *
 *   ucx_am_rtt_us      S bytes to the peer, an empty AM back (the shape of
 *                      put+quiet; of get with the directions swapped)
 *   ucx_am_bw1_GBps    S / ucx_am_rtt_us (one message in flight)
 *   ucx_am_bw_GBps     streaming: N messages of S bytes, at most
 *                      perf_window(S) unacknowledged; the peer acknowledges
 *                      each with an empty AM once its data has landed
 *   ucx_am_rate_Mops   10,000 messages of 8 B / 64 B, one empty AM back
 *
 * The receiver copies eager data into its buffer (dramkv copies it into the
 * store) and receives rendezvous data straight into it; values of 32 KiB or
 * more are sent with UCP_AM_SEND_FLAG_RNDV, as dramkv does. The sender never
 * waits on a send request: with UCX 1.13 (protocols v1, shared memory with
 * cma), a stream that waited for send completion and was acknowledged once
 * at the end hung now and then on the development machine (the receiver's
 * handler was not called for a whole burst while the sends completed);
 * acknowledging every message, as dramkv's puts are, did not. Medians.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "perf_util.h"

enum { AM_DATA = 1, AM_ACK = 2 };

typedef struct {
    ucp_worker_h worker;
    ucp_ep_h ep;
    char *rbuf; /* where received data lands */
    size_t rbuf_size;
    long ndata; /* data messages fully received */
    long nacks;
} am_t;

static am_t g;

static void die(const char *what)
{
    fprintf(stderr, "ucx_perf: %s failed\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void recv_done(void *req, ucs_status_t status, size_t length,
                      void *user_data)
{
    g.ndata++;
    ucp_request_free(req);
}

static ucs_status_t on_data(void *arg, const void *header, size_t hlen,
                            void *data, size_t length,
                            const ucp_am_recv_param_t *param)
{
    ucp_request_param_t p;
    void *req;

    if (!(param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV)) {
        memcpy(g.rbuf, data, length);
        g.ndata++;
        return UCS_OK;
    }
    memset(&p, 0, sizeof(p));
    p.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK;
    p.cb.recv_am   = recv_done;
    req            = ucp_am_recv_data_nbx(g.worker, data, g.rbuf, length, &p);
    if (UCS_PTR_IS_ERR(req)) {
        die("ucp_am_recv_data_nbx");
    }
    if (req == NULL) {
        g.ndata++;
    }
    return UCS_OK;
}

static ucs_status_t on_ack(void *arg, const void *header, size_t hlen,
                           void *data, size_t length,
                           const ucp_am_recv_param_t *param)
{
    g.nacks++;
    return UCS_OK;
}

static void set_handler(unsigned id, ucp_am_recv_callback_t cb)
{
    ucp_am_handler_param_t p;

    memset(&p, 0, sizeof(p));
    p.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                   UCP_AM_HANDLER_PARAM_FIELD_CB |
                   UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
    p.id    = id;
    p.cb    = cb;
    p.flags = UCP_AM_FLAG_WHOLE_MSG;
    if (ucp_worker_set_am_recv_handler(g.worker, &p) != UCS_OK) {
        die("ucp_worker_set_am_recv_handler");
    }
}

/* Values of RNDV_THRESH bytes or more go zero-copy (rendezvous), as
 * dramkv's do (DKV_RNDV_THRESH default). */
#define RNDV_THRESH 32768

/* Send one AM; the request (if any) is released at once - completion is
 * learnt from the peer's acknowledgement, never by waiting on it. */
static void send_am(unsigned id, const void *buf, size_t size)
{
    ucp_request_param_t p;
    void *req;

    memset(&p, 0, sizeof(p));
    if (size >= RNDV_THRESH) {
        p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        p.flags        = UCP_AM_SEND_FLAG_RNDV;
    }
    req = ucp_am_send_nbx(g.ep, id, NULL, 0, buf, size, &p);
    if (UCS_PTR_IS_ERR(req)) {
        die("ucp_am_send_nbx");
    }
    if (req != NULL) {
        ucp_request_free(req);
    }
}

/* Rank 0 sends n messages of size bytes with at most w unacknowledged;
 * the peer acknowledges each one (an empty AM) once its data has landed.
 * n = w = 1 is the round trip. Rank 0's time. */
static double stream(int sender, const char *buf, size_t size, int n, int w)
{
    double t0 = perf_now();
    long base = sender ? g.nacks : g.ndata;
    int sent  = 0;
    int acked = 0;

    if (sender) {
        while (g.nacks - base < n) {
            while ((sent < n) && (sent - (g.nacks - base) < w)) {
                send_am(AM_DATA, buf, size);
                sent++;
            }
            ucp_worker_progress(g.worker);
        }
    } else {
        while (acked < n) {
            ucp_worker_progress(g.worker);
            for (; acked < g.ndata - base; acked++) {
                send_am(AM_ACK, NULL, 0);
            }
        }
    }
    return perf_now() - t0;
}

/* Message rate: n small messages back to back, one acknowledgement after
 * the last has arrived (as 10,000 puts + one quiet). */
static double rate(int sender, const char *buf, size_t size, int n)
{
    double t0 = perf_now();
    long base = sender ? g.nacks : g.ndata;
    int i;

    if (sender) {
        for (i = 0; i < n; i++) {
            send_am(AM_DATA, buf, size);
        }
        while (g.nacks == base) {
            ucp_worker_progress(g.worker);
        }
    } else {
        while (g.ndata - base < n) {
            ucp_worker_progress(g.worker);
        }
        send_am(AM_ACK, NULL, 0);
    }
    return perf_now() - t0;
}

static void sweep(int sender, const char *buf, const perf_opts_t *o,
                  MPI_Comm pair)
{
    static double t[2000];
    size_t size;
    int i, reps, n;

    for (size = PERF_MIN_SIZE; size != 0; size = perf_next_size(size, o)) {
        /* Warm-up (endpoints, rendezvous); rank 0's time sizes the loop. */
        reps = perf_reps_timed(size, o, stream(sender, buf, size, 1, 1), pair);
        for (i = 0; i < reps; i++) {
            t[i] = stream(sender, buf, size, 1, 1);
        }
        if (sender) {
            double m = perf_median(t, reps);

            perf_emit("ucx_am_rtt_us", size, m * 1e6);
            perf_emit("ucx_am_bw1_GBps", size, (double)size / m / 1e9);
        }
    }
    for (size = 4096; size != 0; size = perf_next_size(size, o)) {
        n    = (size >= (1u << 20)) ? 16 : 64;
        reps = o->quick ? 3 : (size >= (16u << 20)) ? 5 : 9;
        for (i = 0; i < reps; i++) {
            t[i] = stream(sender, buf, size, n, perf_window(size));
            if (i == 0) { /* the first one also sizes the loop */
                reps = perf_count_timed(reps, t[0], o, pair);
            }
        }
        if (sender) {
            perf_emit("ucx_am_bw_GBps", size,
                      (double)size * n / perf_median(t, reps) / 1e9);
        }
    }
    for (size = 8; size <= 64; size *= 8) {
        reps = o->quick ? 3 : 11;
        for (i = 0; i < reps; i++) {
            t[i] = rate(sender, buf, size, 10000);
            if (i == 0) { /* the first one also sizes the loop */
                reps = perf_count_timed(reps, t[0], o, pair);
            }
        }
        if (sender) {
            perf_emit("ucx_am_rate_Mops", size,
                      10000 / perf_median(t, reps) / 1e6);
        }
    }
}

static void on_ep_error(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    fprintf(stderr, "ucx_perf: endpoint error: %s\n",
            ucs_status_string(status));
}

static void connect_peer(int peer)
{
    ucp_address_t *addr;
    ucp_ep_params_t ep;
    size_t len;
    int nranks, mylen, *lens, *offs, i;
    char *all;

    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (ucp_worker_get_address(g.worker, &addr, &len) != UCS_OK) {
        die("ucp_worker_get_address");
    }
    mylen = (int)len;
    lens  = malloc(sizeof(int) * (size_t)nranks);
    offs  = malloc(sizeof(int) * (size_t)nranks);
    MPI_Allgather(&mylen, 1, MPI_INT, lens, 1, MPI_INT, MPI_COMM_WORLD);
    for (i = 0, offs[0] = 0; i + 1 < nranks; i++) {
        offs[i + 1] = offs[i] + lens[i];
    }
    all = malloc((size_t)(offs[nranks - 1] + lens[nranks - 1]));
    MPI_Allgatherv(addr, mylen, MPI_BYTE, all, lens, offs, MPI_BYTE,
                   MPI_COMM_WORLD);
    ucp_worker_release_address(g.worker, addr);
    memset(&ep, 0, sizeof(ep));
    ep.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    ep.address    = (const ucp_address_t *)(all + offs[peer]);
    if ((getenv("UCX_PERF_ERR_MODE") != NULL) &&
        (strcmp(getenv("UCX_PERF_ERR_MODE"), "peer") == 0)) {
        ep.field_mask     |= UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE |
                             UCP_EP_PARAM_FIELD_ERR_HANDLER;
        ep.err_mode        = UCP_ERR_HANDLING_MODE_PEER;
        ep.err_handler.cb  = on_ep_error;
        ep.err_handler.arg = NULL;
    }
    if (ucp_ep_create(g.worker, &ep, &g.ep) != UCS_OK) {
        die("ucp_ep_create");
    }
    free(all);
    free(lens);
    free(offs);
}

static void close_peer(void)
{
    ucp_request_param_t p;
    void *req;

    memset(&p, 0, sizeof(p));
    p.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    p.flags        = UCP_EP_CLOSE_FLAG_FORCE;
    req            = ucp_ep_close_nbx(g.ep, &p);
    if (UCS_PTR_IS_PTR(req)) {
        while (ucp_request_check_status(req) == UCS_INPROGRESS) {
            ucp_worker_progress(g.worker);
        }
        ucp_request_free(req);
    }
}

int main(int argc, char **argv)
{
    ucp_params_t params;
    ucp_worker_params_t wparams;
    ucp_config_t *config;
    ucp_context_h ucp;
    perf_opts_t o;
    char *buf;
    MPI_Comm pair;
    int rank, nranks, peer;

    MPI_Init(&argc, &argv);
    perf_parse_args(argc, argv, &o);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_PARAM_FIELD_FEATURES;
    params.features   = UCP_FEATURE_AM;
    memset(&wparams, 0, sizeof(wparams));
    wparams.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wparams.thread_mode = UCS_THREAD_MODE_SINGLE;
    if ((ucp_config_read(NULL, NULL, &config) != UCS_OK) ||
        (ucp_init(&params, config, &ucp) != UCS_OK) ||
        (ucp_worker_create(ucp, &wparams, &g.worker) != UCS_OK)) {
        die("ucp_init/ucp_worker_create");
    }
    ucp_config_release(config);
    set_handler(AM_DATA, on_data);
    set_handler(AM_ACK, on_ack);
    g.rbuf_size = PERF_MAX_SIZE;
    g.rbuf      = malloc(g.rbuf_size);
    buf         = malloc(PERF_MAX_SIZE);
    memset(g.rbuf, 0, g.rbuf_size);
    memset(buf, 1, PERF_MAX_SIZE);
    peer = (rank == 0) ? nranks - 1 : 0;
    connect_peer(peer);
    /* The two ranks that measure, to agree on repetition counts. */
    MPI_Comm_split(MPI_COMM_WORLD,
                   ((rank == 0) || (rank == nranks - 1)) ? 0 : MPI_UNDEFINED,
                   rank, &pair);
    if (pair != MPI_COMM_NULL) {
        sweep(rank == 0, buf, &o, pair);
        MPI_Comm_free(&pair);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    close_peer();
    MPI_Barrier(MPI_COMM_WORLD);
    ucp_worker_destroy(g.worker);
    ucp_cleanup(ucp);
    free(buf);
    free(g.rbuf);
    MPI_Finalize();
    return 0;
}
