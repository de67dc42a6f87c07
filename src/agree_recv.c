/*
 * agree_recv: what arrives for the fence agreement (see agree.c for the
 * protocol) and the answers to questions about decided epochs. The AM
 * handler calls dkv__agree_recv(): it checks a vote, decision or ACK, then
 * records it in time bounded by the number of members; it never sends or
 * blocks. dkv__agree_service() runs later on the owner and answers members
 * that asked about an epoch decided here, or that were agreed dead. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "agree_int.h"

int dkv__agree_parse_set(const int *ranks, int n, const void *data,
                         size_t len, uint32_t *idx)
{
    const unsigned char *p = data;
    int64_t              prev = -1;
    size_t               k;

    if ((len % sizeof(uint32_t) != 0) ||
        (len / sizeof(uint32_t) > (size_t)n) || ((len > 0) && (p == NULL))) {
        return -1;
    }
    for (k = 0; k < len / sizeof(uint32_t); k++) {
        uint32_t rank = read_u32(p + k * sizeof(uint32_t));
        int      i;

        if (((int64_t)rank <= prev) || (rank > (uint32_t)INT32_MAX)) {
            return -1;
        }
        i = index_of(ranks, n, (int)rank);
        if (i < 0) {
            return -1;
        }
        if (idx != NULL) {
            idx[k] = (uint32_t)i;
        }
        prev = rank;
    }
    return 0;
}

/* Apply a checked set: to the known dead, and to the decision's set. */
static void take_set(dkv__agree_t *a, const void *data, size_t len,
                     int into_decision)
{
    const unsigned char *p = data;
    size_t               k;

    for (k = 0; k < len / sizeof(uint32_t); k++) {
        int i = index_of(a->ranks, a->n,
                         (int)read_u32(p + k * sizeof(uint32_t)));

        mark_dead(a, i);
        if (into_decision) {
            set_add(a, (uint32_t)i);
        }
    }
}

static int set_has(const dkv__agree_t *a, const void *data, size_t len,
                   int i)
{
    const unsigned char *p = data;
    size_t               k;

    for (k = 0; k < len / sizeof(uint32_t); k++) {
        if ((int)read_u32(p + k * sizeof(uint32_t)) == a->ranks[i]) {
            return 1;
        }
    }
    return 0;
}

/* A HELD vote for an epoch not begun yet: kept (the latest one) until it
 * begins, so a late coordinator adopts it. */
static void early_keep(dkv__agree_t *a, uint64_t epoch, int32_t verdict,
                       const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t               k;

    a->early_epoch   = epoch;
    a->early_verdict = verdict;
    a->nearly        = (uint32_t)(len / sizeof(uint32_t));
    for (k = 0; k < a->nearly; k++) {
        a->early_set[k] = (uint32_t)index_of(
            a->ranks, a->n, (int)read_u32(p + k * sizeof(uint32_t)));
    }
}

static void recv_vote(dkv__agree_t *a, int from, unsigned flags,
                      uint64_t epoch, int32_t verdict, const void *data,
                      size_t len)
{
    int current = a->running && (epoch == a->epoch);

    take_set(a, data, len, 0); /* the sender's dead are dead */
    if (epoch > a->vote_epoch[from]) {
        a->vote_epoch[from]   = epoch;
        a->vote_verdict[from] = verdict;
        a->vote_flags[from]   = (uint8_t)flags;
        a->nvotes += current;
    } else if (epoch == a->vote_epoch[from]) {
        a->vote_flags[from] |= (uint8_t)flags;
        if (flags & DKV__AGREE_F_HELD) {
            a->vote_verdict[from] = verdict;
        }
    }
    if (a->running && ((epoch > a->epoch) ||
                       (current && (flags & DKV__AGREE_F_VETO)))) {
        a->forced = 1;
        a->hurry  = 1; /* someone gives up within a grace period */
    }
    if (current && (flags & DKV__AGREE_F_HELD) && (a->phase == PH_COLLECT) &&
        (a->have == HAVE_NONE)) {
        a->have    = HAVE_HELD; /* adopted: a backup holds this decision */
        a->from    = -1;
        a->verdict = verdict;
        take_set(a, data, len, 1);
    } else if ((flags & DKV__AGREE_F_HELD) && (epoch >= a->epoch) &&
               !current && (epoch > a->early_epoch)) {
        early_keep(a, epoch, verdict, data, len); /* for when it begins */
    }
    if ((epoch < a->epoch) || (a->dead_at[from] != 0)) {
        a->service = 1; /* it asks about an epoch decided here */
    }
}

/* A DECIDE for an epoch this member has not voted in (or is not in). */
static int recv_decide_other(dkv__agree_t *a, int from, unsigned flags,
                             uint64_t epoch, int32_t verdict,
                             const void *data, size_t len)
{
    const dkv__agree_hist_t *h;

    if (epoch < a->epoch) { /* an epoch this member has left */
        h = hist_find(a, epoch);
        if ((h != NULL) && (h->verdict != verdict) &&
            !(flags & DKV__AGREE_F_PROPOSE)) {
            a->late++; /* it gave up on its own and got it wrong */
        }
        return 0;
    }
    if (flags & DKV__AGREE_F_PROPOSE) {
        return -1; /* a backup must have voted */
    }
    if (verdict == DKV_ERR_TIMEOUT) {
        if (epoch > a->ahead_upto) {
            a->ahead_upto = epoch;
        }
        return 0;
    }
    if (a->excluded) {
        return 0; /* it names this member dead */
    }
    return -1; /* without my vote, only TIMEOUT can be decided */
}

static int recv_decide(dkv__agree_t *a, int from, unsigned flags,
                       uint64_t epoch, int32_t verdict, const void *data,
                       size_t len)
{
    if (set_has(a, data, len, a->me)) {
        a->excluded = 1; /* the others agreed this member dead */
    }
    if (a->dead_at[from] != 0) {
        /* Agreed dead in an earlier decision, yet it speaks (a false
         * alarm): its word no longer counts, and it is told it is out. */
        if (epoch > a->vote_epoch[from]) {
            a->vote_epoch[from] = epoch;
            a->service          = 1;
        }
        return 0;
    }
    if (!a->running || (epoch != a->epoch)) {
        return recv_decide_other(a, from, flags, epoch, verdict, data, len);
    }
    if ((flags & DKV__AGREE_F_PROPOSE) &&
        (a->known[from] || (a->phase != PH_COLLECT) ||
         (a->have == HAVE_COMMIT))) {
        return 0; /* refused (see 5. above), or decided already */
    }
    if (a->phase != PH_COLLECT) { /* decided here already */
        a->late += (verdict != a->verdict);
        return 0;
    }
    if (!(flags & DKV__AGREE_F_PROPOSE)) {
        if (a->have != HAVE_COMMIT) {
            a->have    = HAVE_COMMIT;
            a->verdict = verdict;
            take_set(a, data, len, 1);
        }
        return 0;
    }
    if (a->have == HAVE_NONE) {
        a->have    = HAVE_HELD;
        a->verdict = verdict;
        take_set(a, data, len, 1);
    }
    if (a->from != from) {
        a->from  = from;
        a->acked = 0;
    }
    return 0;
}

int dkv__agree_recv(dkv__agree_t *a, int from_rank, unsigned type,
                    unsigned flags, uint64_t epoch, int32_t verdict,
                    const void *data, size_t len)
{
    int from = index_of(a->ranks, a->n, from_rank);
    int rc   = -1;

    if ((from < 0) || (from == a->me) || (epoch == 0) ||
        (dkv__agree_parse_set(a->ranks, a->n, data, len, NULL) != 0)) {
        a->rejected++;
        return -1;
    }
    switch (type) {
    case DKV__AGREE_VOTE:
        if (!(flags & ~(unsigned)(DKV__AGREE_F_VETO | DKV__AGREE_F_HELD))) {
            recv_vote(a, from, flags, epoch, verdict, data, len);
            rc = 0;
        }
        break;
    case DKV__AGREE_DECIDE:
        if (!(flags & ~(unsigned)DKV__AGREE_F_PROPOSE)) {
            rc = recv_decide(a, from, flags, epoch, verdict, data, len);
        }
        break;
    case DKV__AGREE_ACK:
        if ((flags == 0) && (len == 0)) {
            if (a->running && (epoch == a->epoch) &&
                (epoch > a->ack_epoch[from])) {
                a->ack_epoch[from] = epoch;
            }
            rc = 0;
        }
        break;
    default:
        break;
    }
    if (rc != 0) {
        a->rejected++;
        return -1;
    }
    a->events++;
    return 0;
}

/* The members agreed dead by the decision of @p epoch, into scratch. */
static uint32_t agreed_by(dkv__agree_t *a, uint64_t epoch)
{
    uint32_t k, n = 0;

    for (k = 0; k < a->nknown; k++) {
        uint32_t d = a->known_list[k];

        if ((a->dead_at[d] != 0) && (a->dead_at[d] <= epoch)) {
            a->scratch[n++] = d;
        }
    }
    return n;
}

void dkv__agree_service(dkv__agree_t *a)
{
    int i;

    if (!a->service) {
        return;
    }
    a->service = 0;
    for (i = 0; i < a->n; i++) {
        uint64_t                 e = a->vote_epoch[i];
        const dkv__agree_hist_t *h = NULL;
        int32_t                  verdict = DKV_ERR_PEER_LOST;

        if ((i == a->me) || (e == 0) || (a->told[i] >= e)) {
            continue;
        }
        if (a->dead_at[i] != 0) {
            /* Agreed dead, yet it votes (a false alarm): it is out, and is
             * told so with the agreed set, which names it. */
        } else if (a->known[i] || (e >= a->epoch) ||
                   ((h = hist_find(a, e)) == NULL) || !h->decided) {
            continue; /* too old, or given up here: let it give up too */
        } else {
            verdict = h->verdict;
        }
        if (dkv__agree_send(a, i, DKV__AGREE_DECIDE, 0, e, verdict, a->scratch,
                            agreed_by(a, (h != NULL) ? e : UINT64_MAX)) ==
            DKV_OK) {
            a->told[i] = e;
        }
    }
}
