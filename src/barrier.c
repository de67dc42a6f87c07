/*
 * barrier: dissemination barrier with a min-combined verdict, over UCX
 * active messages between client workers. In round k member i sends its
 * verdict so far to member (i + 2^k) mod P and waits for the message of
 * member (i - 2^k) mod P; after ceil(log2 P) rounds every member has seen
 * every verdict. Messages that arrive before their round is reached are kept
 * in a two-slot table (a member can be at most one epoch ahead of another).
 *
 * Owner: the client worker's thread.
 */
#define DKV_LOG_MODULE "fence"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "log.h"

dkv_status_t dkv__barrier_init(dkv__barrier_t *b, const int *members,
                               int nmembers, int my_rank, int size)
{
    int i;

    memset(b, 0, sizeof(*b));
    b->members  = malloc((size_t)(nmembers > 0 ? nmembers : 1) *
                         sizeof(int));
    b->bye_from = calloc((size_t)size, 1);
    b->size     = size;
    if ((b->members == NULL) || (b->bye_from == NULL)) {
        free(b->members);
        free(b->bye_from);
        return DKV_ERR_NO_MEMORY;
    }
    memcpy(b->members, members, (size_t)nmembers * sizeof(int));
    b->nmembers = nmembers;
    b->me       = -1;
    b->epoch    = 1;
    for (i = 0; i < nmembers; i++) {
        if (members[i] == my_rank) {
            b->me = i;
        }
    }
    return DKV_OK;
}

void dkv__barrier_cleanup(dkv__barrier_t *b)
{
    free(b->members);
    free(b->bye_from);
    b->members  = NULL;
    b->bye_from = NULL;
}

/* Send a keyless control message; *sreq_p is the UCX request or NULL. */
static dkv_status_t send_ctl(dkv__client_t *c, int rank, uint8_t kind,
                             uint64_t aux, int32_t status,
                             dkv__wire_hdr_t *buf, void **sreq_p)
{
    dkv__wire_hdr_t     fields;
    ucp_request_param_t param;
    ucp_ep_h            ep;
    dkv_status_t        st;
    void               *sreq;

    *sreq_p = NULL;
    st      = dkv__peers_ep(&c->peers, DKV__PEER_CLIENT, rank, &ep);
    if (st != DKV_OK) {
        return st;
    }
    memset(&fields, 0, sizeof(fields));
    fields.kind   = kind;
    fields.status = status;
    fields.secret = c->secret;
    fields.aux    = aux;
    fields.sender = (uint32_t)c->rank;
    dkv__wire_pack(buf, &fields, NULL, 0);
    memset(&param, 0, sizeof(param));
    sreq = ucp_am_send_nbx(ep, kind, buf, sizeof(*buf), NULL, 0, &param);
    if (UCS_PTR_IS_ERR(sreq)) {
        return dkv__status_from_ucs(UCS_PTR_STATUS(sreq));
    }
    if (sreq != NULL) {
        c->sends_queued++; /* polled by sends_done(), not by a callback */
    }
    *sreq_p = sreq;
    return DKV_OK;
}

typedef struct {
    dkv__client_t *c;
    void         **reqs;
    size_t         n;
} sends_t;

/* Give back sends that did not finish in time (a dead or stopped peer). */
static void sends_abandon(dkv__client_t *c, sends_t *s)
{
    for (; s->n > 0; s->n--) {
        void *r = s->reqs[s->n - 1];

        if (r != NULL) {
            ucp_request_cancel(c->worker.ucp, r);
            ucp_request_free(r);
            c->sends_queued--;
        }
    }
}

static int sends_done(void *arg)
{
    sends_t *s = arg;

    while (s->n > 0) {
        void *r = s->reqs[s->n - 1];

        if ((r != NULL) && (ucp_request_check_status(r) == UCS_INPROGRESS)) {
            return 0;
        }
        if (r != NULL) {
            ucp_request_free(r);
            s->c->sends_queued--;
        }
        s->n--;
    }
    return 1;
}

typedef struct {
    dkv__client_t       *c;
    dkv__barrier_slot_t *slot;
    uint32_t             bit;
    int                  from;   /* the member we wait for */
    uint64_t             sweeps; /* c->sweeps when last checked */
    int                  lost;
} arrival_t;

static int arrived(void *arg)
{
    arrival_t *a = arg;

    if (a->slot->arrived & a->bit) {
        return 1;
    }
    if (a->sweeps != a->c->sweeps) { /* about every 100 ms of waiting */
        a->sweeps = a->c->sweeps;
        a->lost   = dkv__peers_dead(&a->c->peers, a->from);
    }
    return a->lost;
}

/*
 * A member that is dead or silent past the deadline counts with verdict
 * PEER_LOST or TIMEOUT, and the barrier goes on: the survivors still finish
 * every round and so agree on one verdict. Rounds after a timeout wait a
 * short grace period each, not the whole timeout again.
 */
#define DKV__BARRIER_GRACE_NS (200ull * 1000000ull)

dkv_status_t dkv__barrier_run(dkv__client_t *c, int32_t mine,
                              int32_t *verdict_p, uint64_t deadline)
{
    dkv__barrier_t      *b = &c->barrier;
    dkv__wire_hdr_t     *bufs; /* AM headers: valid until their sends end */
    void                *reqs[DKV__BARRIER_MAX_ROUNDS];
    sends_t              sends   = {c, reqs, 0};
    dkv__barrier_slot_t *slot;
    arrival_t            a;
    dkv_status_t         status  = DKV_OK;
    int32_t              verdict = mine;
    int32_t              got;
    int                  p       = b->nmembers;
    unsigned             round;
    int                  dist;

    if (b->me < 0) {
        return DKV_ERR_STATE;
    }
    bufs = malloc(DKV__BARRIER_MAX_ROUNDS * sizeof(*bufs));
    if (bufs == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    slot = &b->slot[b->epoch & 1];
    if (slot->epoch != b->epoch) {
        slot->epoch   = b->epoch;
        slot->arrived = 0;
    }
    for (round = 0, dist = 1; dist < p; round++, dist <<= 1) {
        int      to    = b->members[(b->me + dist) % p];
        uint64_t grace = dkv__now_ns() + DKV__BARRIER_GRACE_NS;

        memset(&a, 0, sizeof(a));
        a.c      = c;
        a.sweeps = c->sweeps; /* first liveness look after ~100 ms */
        a.slot = slot;
        a.bit  = 1u << round;
        a.from = b->members[(b->me - dist % p + p) % p];
        if (send_ctl(c, to, DKV__MSG_VOTE, (b->epoch << 8) | round,
                     verdict, &bufs[round], &reqs[round]) != DKV_OK) {
            /* A dead successor; its own successors will count it lost. */
            verdict = (verdict < DKV_ERR_PEER_LOST) ? verdict
                                                    : DKV_ERR_PEER_LOST;
        }
        sends.n = round + 1;
        status  = dkv__client_wait(c, arrived, &a, -1,
                                   dkv__max_u64(deadline, grace));
        if ((status == DKV_OK) && !a.lost) {
            got = slot->verdict[round];
        } else {
            DKV_LOG_WARN("fence epoch %llu round %u: rank %d %s",
                         (unsigned long long)b->epoch, round, a.from,
                         a.lost ? "is dead" : "is silent");
            got    = a.lost ? DKV_ERR_PEER_LOST : DKV_ERR_TIMEOUT;
            status = DKV_OK;
        }
        if (got < verdict) {
            verdict = got;
        }
    }
    /* Our messages must leave before we return: a rank that stops or exits
     * right after a fence must not leave the others waiting. */
    if (dkv__client_wait(c, sends_done, &sends, -1,
                         dkv__max_u64(deadline, dkv__now_ns() +
                                                    DKV__BARRIER_GRACE_NS)) !=
        DKV_OK) {
        DKV_LOG_WARN("fence: some round messages could not be sent");
        sends_abandon(c, &sends);
        bufs = NULL; /* UCX may still read them: left allocated */
    }
    free(bufs);
    b->epoch++;
    *verdict_p = verdict;
    return status;
}

dkv_status_t dkv__barrier_send_bye(dkv__client_t *c, const int *ranks,
                                   int nranks, uint64_t deadline)
{
    dkv__wire_hdr_t *bufs;
    void           **reqs;
    sends_t          sends;
    dkv_status_t     status = DKV_OK;
    int              i;

    if (nranks == 0) {
        return DKV_OK;
    }
    bufs = calloc((size_t)nranks, sizeof(*bufs));
    reqs = calloc((size_t)nranks, sizeof(*reqs));
    if ((bufs == NULL) || (reqs == NULL)) {
        free(bufs);
        free(reqs);
        return DKV_ERR_NO_MEMORY;
    }
    sends.c    = c;
    sends.reqs = reqs;
    sends.n    = (size_t)nranks;
    /* Every dedicated holder must hear from us, even if one is dead. */
    for (i = 0; i < nranks; i++) {
        dkv_status_t st = send_ctl(c, ranks[i], DKV__MSG_BYE, 0, DKV_OK,
                                   &bufs[i], &reqs[i]);

        status = (status == DKV_OK) ? st : status;
    }
    if (dkv__client_wait(c, sends_done, &sends, -1, deadline) != DKV_OK) {
        status = (status == DKV_OK) ? DKV_ERR_TIMEOUT : status;
        sends_abandon(c, &sends);
        bufs = NULL; /* UCX may still read them: left allocated */
    }
    free(bufs);
    free(reqs);
    return status;
}

typedef struct {
    dkv__client_t *c;
    uint32_t       count;
    uint64_t       sweeps; /* c->sweeps when members were last checked */
    uint32_t       dead;   /* members found dead */
} byes_t;

static int byes_arrived(void *arg)
{
    byes_t         *w = arg;
    dkv__barrier_t *b = &w->c->barrier;
    int             i;

    if (w->sweeps != w->c->sweeps) { /* about every 100 ms */
        w->sweeps = w->c->sweeps;
        w->dead   = 0;
        for (i = 0; i < b->nmembers; i++) {
            int r = b->members[i];

            w->dead += !b->bye_from[r] && dkv__peers_dead(&w->c->peers, r);
        }
    }
    return b->byes + w->dead >= w->count;
}

dkv_status_t dkv__barrier_wait_byes(dkv__client_t *c, uint32_t count)
{
    return dkv__barrier_wait_byes_until(c, count, DKV__NO_DEADLINE);
}

dkv_status_t dkv__barrier_wait_byes_until(dkv__client_t *c, uint32_t count,
                                          uint64_t deadline)
{
    byes_t       w = {c, count, 0, 0};
    dkv_status_t status;

    status = dkv__client_wait(c, byes_arrived, &w, -1, deadline);
    if ((status == DKV_OK) && (w.dead > 0)) {
        DKV_LOG_WARN("serve: %u ranks died before saying goodbye", w.dead);
        return DKV_ERR_PEER_LOST;
    }
    return status;
}
