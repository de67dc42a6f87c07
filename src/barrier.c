/*
 * barrier: runs the fence agreement (agree.c) over UCX active messages
 * between client workers, and the byes dedicated holders wait for.
 *
 * A fence is one epoch of agree.c: begin with this rank's verdict, then
 * step it whenever something arrived, a liveness sweep is due (every
 * 100 ms: dkv__peers_dead() and failed sends are the failure detector) or
 * its timer expires, until it is decided. Votes, decisions and ACKs are
 * VOTE / DECIDE / DECIDE_ACK messages: header fields as in wire.h, the dead
 * members as their ranks in the data part, always sent eagerly so the
 * handler has them at once. Each send owns its buffer until UCX is done
 * with it (freed in the completion callback, which also records a failed
 * send); the fence waits for its own sends to leave before it returns, so a
 * rank that computes or exits right after a fence leaves nobody waiting.
 *
 * Waits: a member votes until the call's deadline, then vetoes and gives up
 * one grace period later; the coordinator waits for its backups' ACKs at
 * most a grace period and for its broadcast to leave at most half of one,
 * twice. The grace is half the timeout, within 200 ms..2 s.
 *
 * Between fences, a member answers questions about fences it decided from
 * dkv__client_progress() (any dramkv call), through dkv__barrier_service().
 *
 * Owner: the client worker's thread. Handlers record only (bounded by the
 * number of members), never send.
 */
#define DKV_LOG_MODULE "fence"

#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "clock.h"
#include "fault.h"
#include "log.h"

#define DKV__BARRIER_SWEEP_NS     (100ull * 1000000ull)
#define DKV__BARRIER_GRACE_MIN_NS (200ull * 1000000ull)
#define DKV__BARRIER_GRACE_MAX_NS (2000ull * 1000000ull)

_Static_assert(DKV__AGREE_F_VETO == DKV__WIRE_FLAG_VETO, "veto flag");
_Static_assert(DKV__AGREE_F_HELD == DKV__WIRE_FLAG_HELD, "held flag");
_Static_assert(DKV__AGREE_F_PROPOSE == DKV__WIRE_FLAG_PROPOSE, "propose");

/* One AM in flight: header and dead ranks stay here until UCX is done. */
typedef struct send_slot {
    dkv__client_t  *c;
    uint64_t        call; /* the fence that sent it */
    int             to;   /* member index, -1 for a non-member */
    dkv__wire_hdr_t hdr;
    uint32_t        ranks[];
} send_slot_t;

static void slot_done(void *request, ucs_status_t status, void *user_data)
{
    send_slot_t    *s = user_data;
    dkv__client_t  *c = s->c;
    dkv__barrier_t *b = &c->barrier;

    ucp_request_free(request);
    c->sends_queued--;
    if ((status != UCS_OK) && (s->to >= 0) && (b->send_failed != NULL) &&
        (dkv__status_from_ucs(status) == DKV_ERR_PEER_LOST)) {
        b->send_failed[s->to] = 1;
    }
    if (s->call == b->call) {
        b->inflight--;
    }
    free(s);
}

/* Send a keyless message to @p rank with @p ranks (n) as its data. */
static dkv_status_t send_am(dkv__client_t *c, int rank, int to,
                            const dkv__wire_hdr_t *fields,
                            const uint32_t *idx, uint32_t n)
{
    dkv__barrier_t     *b = &c->barrier;
    ucp_request_param_t param;
    dkv__wire_hdr_t     hdr = *fields;
    send_slot_t        *s;
    ucp_ep_h            ep;
    dkv_status_t        st;
    void               *req;
    uint32_t            k;

    st = dkv__peers_ep(&c->peers, DKV__PEER_CLIENT, rank, &ep);
    if (st != DKV_OK) {
        return st;
    }
    s = malloc(sizeof(*s) + (size_t)n * sizeof(uint32_t));
    if (s == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    s->c    = c;
    s->call = b->call;
    s->to   = to;
    for (k = 0; k < n; k++) {
        s->ranks[k] = (uint32_t)b->members[idx[k]];
    }
    hdr.secret    = c->secret;
    hdr.sender    = (uint32_t)c->rank;
    hdr.value_len = (uint64_t)n * sizeof(uint32_t);
    dkv__wire_pack(&s->hdr, &hdr, NULL, 0);
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA | UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = UCP_AM_SEND_FLAG_EAGER; /* data in the handler */
    param.cb.send      = slot_done;
    param.user_data    = s;
    req = ucp_am_send_nbx(ep, hdr.kind, &s->hdr, sizeof(s->hdr), s->ranks,
                          (size_t)hdr.value_len, &param);
    if (UCS_PTR_IS_ERR(req)) {
        free(s);
        return dkv__status_from_ucs(UCS_PTR_STATUS(req));
    }
    if (req == NULL) {
        free(s); /* sent already; no callback comes */
        return DKV_OK;
    }
    c->sends_queued++; /* the worker is then polled, not slept on */
    b->inflight++;
    return DKV_OK;
}

static dkv_status_t op_send(void *arg, int to, const dkv__agree_msg_t *msg)
{
    static const uint8_t kinds[] = {
        [DKV__AGREE_VOTE]   = DKV__MSG_VOTE,
        [DKV__AGREE_DECIDE] = DKV__MSG_DECIDE,
        [DKV__AGREE_ACK]    = DKV__MSG_DECIDE_ACK};
    dkv__client_t  *c = arg;
    dkv__wire_hdr_t fields;

    memset(&fields, 0, sizeof(fields));
    fields.kind   = kinds[msg->type];
    fields.flags  = msg->flags;
    fields.status = msg->verdict;
    fields.aux    = msg->epoch;
    return send_am(c, c->barrier.members[to], to, &fields, msg->dead,
                   msg->ndead);
}

static int op_dead(void *arg, int who)
{
    dkv__client_t  *c = arg;
    dkv__barrier_t *b = &c->barrier;

    return b->send_failed[who] || dkv__peers_dead(&c->peers, b->members[who]);
}

static int no_inflight(void *arg)
{
    const dkv__client_t *c = arg;

    return c->barrier.inflight == 0;
}

/* Let this call's sends leave, waiting until @p until at most. */
static void flush(dkv__client_t *c, uint64_t until)
{
    (void)dkv__client_wait(c, no_inflight, c, -1, until);
}

/* DKV_FAULT=die_at:fence.*: a test kills this rank at a step of a fence.
 * What it sent before the step leaves first (one second at most), so that
 * "after_vote" means the vote is out. */
static void op_at(void *arg, dkv__agree_point_t point, uint64_t epoch)
{
    static const dkv__fault_point_t points[] = {
        [DKV__AGREE_AT_VOTE]    = DKV__FAULT_FENCE_MEMBER_BEFORE_VOTE,
        [DKV__AGREE_AT_VOTED]   = DKV__FAULT_FENCE_MEMBER_AFTER_VOTE,
        [DKV__AGREE_AT_DECIDE]  = DKV__FAULT_FENCE_COORD_BEFORE_DECIDE,
        [DKV__AGREE_AT_PROPOSE] = DKV__FAULT_FENCE_COORD_AFTER_PROPOSE,
        [DKV__AGREE_AT_BACKUP]  = DKV__FAULT_FENCE_BACKUP_BEFORE_ACK,
    };
    dkv__client_t *c = arg;

    (void)epoch;
    if ((unsigned)point >= sizeof(points) / sizeof(points[0]) ||
        (dkv__fault_armed != points[point])) {
        return;
    }
    flush(c, dkv__now_ns() + 1000000000ull);
    dkv__fault_hit(points[point], NULL);
}

dkv_status_t dkv__barrier_init(dkv__client_t *c, const int *members,
                               int nmembers, int my_rank, int size)
{
    dkv__barrier_t  *b   = &c->barrier;
    dkv__agree_ops_t ops = {op_send, op_dead, op_at, c};
    int              i;

    memset(b, 0, sizeof(*b));
    b->members     = malloc((size_t)(nmembers > 0 ? nmembers : 1) *
                            sizeof(int));
    b->send_failed = calloc((size_t)(nmembers > 0 ? nmembers : 1), 1);
    b->bye_from    = calloc((size_t)size, 1);
    b->size        = size;
    if ((b->members == NULL) || (b->send_failed == NULL) ||
        (b->bye_from == NULL)) {
        goto err_free;
    }
    memcpy(b->members, members, (size_t)nmembers * sizeof(int));
    b->nmembers = nmembers;
    b->me       = -1;
    for (i = 0; i < nmembers; i++) {
        if (members[i] == my_rank) {
            b->me = i;
        }
    }
    if ((b->me >= 0) &&
        (dkv__agree_init(&b->agree, members, nmembers, b->me, &ops) !=
         DKV_OK)) {
        goto err_free;
    }
    return DKV_OK;

err_free:
    dkv__barrier_cleanup(b);
    return DKV_ERR_NO_MEMORY;
}

void dkv__barrier_cleanup(dkv__barrier_t *b)
{
    if (b->me >= 0) {
        dkv__agree_cleanup(&b->agree);
    }
    free(b->members);
    free(b->send_failed);
    free(b->bye_from);
    b->members     = NULL;
    b->send_failed = NULL;
    b->bye_from    = NULL;
    b->me          = -1;
}

static uint64_t grace_ns(const dkv__client_t *c)
{
    uint64_t g = c->timeout_ns / 2;

    g = (g < DKV__BARRIER_GRACE_MIN_NS) ? DKV__BARRIER_GRACE_MIN_NS : g;
    return (g > DKV__BARRIER_GRACE_MAX_NS) ? DKV__BARRIER_GRACE_MAX_NS : g;
}

/* Progress until a pass finds nothing (at most 64 passes): 1 if it did. A
 * coordinator decides only then - a veto may be queued behind its vote. */
static int drain(dkv__client_t *c)
{
    int i;

    for (i = 0; i < 64; i++) {
        if (dkv__client_progress(c) == 0) {
            return 1;
        }
    }
    return 0;
}

typedef struct {
    const dkv__barrier_t *b;
    uint64_t              events; /* b->agree.events when we looked */
} arrival_t;

static int arrived(void *arg)
{
    const arrival_t *w = arg;

    return w->b->agree.events != w->events;
}

/* Members the fences agreed dead are dead for every other call too (a get
 * from such a holder fails at once, a drain leaves it out), on every
 * survivor alike, whichever detector saw it first. */
static void share_agreed(dkv__client_t *c)
{
    const dkv__agree_t *a = &c->barrier.agree;
    uint32_t            k;

    if (a->nagreed == c->barrier.nshared) {
        return;
    }
    for (k = 0; k < a->nknown; k++) {
        uint32_t i = a->known_list[k];

        if ((a->dead_at[i] != 0) && ((int)i != a->me)) {
            c->peers.dead[c->barrier.members[i]] = 1;
        }
    }
    c->barrier.nshared = a->nagreed;
}

/* Say what went wrong in the agreement (the handlers only count). */
static void report(dkv__barrier_t *b)
{
    const dkv__agree_t *a        = &b->agree;
    uint64_t            rejected = b->rejected + a->rejected;

    if ((rejected > 0) && !b->logged_rejected) {
        DKV_LOG_WARN("fence: dropped a malformed or impossible message");
        b->logged_rejected = 1; /* once */
    }
    if (a->late > b->logged_late) {
        DKV_LOG_WARN("fence: %llu decisions differ from what this rank "
                     "returned after giving up (stalled peers?)",
                     (unsigned long long)a->late);
        b->logged_late = a->late;
    }
    if (a->result != DKV_OK) {
        DKV_LOG_INFO("fence %llu: %s", (unsigned long long)(a->epoch - 1),
                     dkv_strerror((dkv_status_t)a->result));
    }
}

dkv_status_t dkv__barrier_run(dkv__client_t *c, int32_t mine,
                              int32_t *verdict_p, uint64_t deadline)
{
    dkv__barrier_t   *b     = &c->barrier;
    uint64_t          grace = grace_ns(c);
    uint64_t          now   = dkv__now_ns();
    uint64_t          next_sweep = now + DKV__BARRIER_SWEEP_NS;
    uint64_t          wake;
    dkv__agree_next_t next;
    arrival_t         w = {b, 0};

    if (b->me < 0) {
        return DKV_ERR_STATE;
    }
    b->call++;
    b->inflight = 0; /* sends of earlier calls no longer count */
    next = dkv__agree_begin(&b->agree, mine, now, deadline, grace);
    while (next != DKV__AGREE_DONE) {
        int sweep, idle;

        idle  = drain(c);
        now   = dkv__now_ns();
        sweep = now >= next_sweep;
        if (sweep) {
            next_sweep = now + DKV__BARRIER_SWEEP_NS;
        }
        w.events = b->agree.events;
        next     = dkv__agree_step(&b->agree, now, sweep, idle, &wake);
        if (next == DKV__AGREE_FLUSH) {
            flush(c, now + grace / 2);
            dkv__agree_flushed(&b->agree);
        } else if (next == DKV__AGREE_WAIT) {
            (void)dkv__client_wait(c, arrived, &w, -1,
                                   (wake < next_sweep) ? wake : next_sweep);
        }
    }
    /* Our messages leave before we return: a rank that computes or exits
     * right after a fence must not leave the others waiting. */
    flush(c, dkv__now_ns() + grace / 2);
    share_agreed(c);
    report(b);
    *verdict_p = b->agree.result;
    return DKV_OK;
}

int dkv__barrier_leader(const dkv__client_t *c)
{
    const dkv__barrier_t *b = &c->barrier;

    return (b->me >= 0) && (dkv__agree_leader(&b->agree) == b->me);
}

int dkv__barrier_live(const dkv__client_t *c, int *index_p)
{
    const dkv__barrier_t *b = &c->barrier;

    *index_p = -1;
    return (b->me >= 0) ? dkv__agree_live(&b->agree, index_p) : 0;
}

void dkv__barrier_service(dkv__client_t *c)
{
    if ((c->barrier.me >= 0) && c->barrier.agree.service) {
        dkv__agree_service(&c->barrier.agree);
    }
}

ucs_status_t dkv__barrier_recv(void *arg, const void *header,
                               size_t header_length, void *data,
                               size_t length, const ucp_am_recv_param_t *param)
{
    dkv__client_t  *c = arg;
    dkv__barrier_t *b = &c->barrier;
    dkv__wire_hdr_t hdr;
    const char     *key, *why;
    unsigned        type;

    if ((param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) || (b->me < 0) ||
        (dkv__wire_unpack(header, header_length, length, c->secret, &hdr,
                          &key, &why) != DKV_OK)) {
        b->rejected++; /* we always send eagerly, members only */
        return UCS_OK;
    }
    type = (hdr.kind == DKV__MSG_VOTE)     ? DKV__AGREE_VOTE
           : (hdr.kind == DKV__MSG_DECIDE) ? DKV__AGREE_DECIDE
                                           : DKV__AGREE_ACK;
    (void)dkv__agree_recv(&b->agree, (int)hdr.sender, type, hdr.flags,
                          hdr.aux, hdr.status, data, length);
    return UCS_OK;
}

ucs_status_t dkv__barrier_recv_bye(void *arg, const void *header,
                                   size_t header_length, void *data,
                                   size_t length,
                                   const ucp_am_recv_param_t *param)
{
    dkv__client_t  *c = arg;
    dkv__barrier_t *b = &c->barrier;
    dkv__wire_hdr_t hdr;
    const char     *key, *why;

    if ((dkv__wire_unpack(header, header_length, length, c->secret, &hdr,
                          &key, &why) != DKV_OK) ||
        (hdr.kind != DKV__MSG_BYE)) {
        b->rejected++;
        return UCS_OK;
    }
    if ((hdr.sender < (uint32_t)b->size) && !b->bye_from[hdr.sender]) {
        b->bye_from[hdr.sender] = 1;
        b->byes++;
    }
    return UCS_OK;
}

dkv_status_t dkv__barrier_send_bye(dkv__client_t *c, const int *ranks,
                                   int nranks, uint64_t deadline)
{
    dkv__wire_hdr_t fields;
    dkv_status_t    status = DKV_OK;
    int             i;

    memset(&fields, 0, sizeof(fields));
    fields.kind = DKV__MSG_BYE;
    c->barrier.call++;
    c->barrier.inflight = 0;
    /* Every dedicated holder must hear from us, even if one is dead. */
    for (i = 0; i < nranks; i++) {
        dkv_status_t st = send_am(c, ranks[i], -1, &fields, NULL, 0);

        status = (status == DKV_OK) ? st : status;
    }
    if ((dkv__client_wait(c, no_inflight, c, -1, deadline) != DKV_OK) &&
        (status == DKV_OK)) {
        status = DKV_ERR_TIMEOUT;
    }
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
