/*
 * agree: one decision per epoch, taken by a coordinator and copied to
 * backups before anyone may return it. Pure; see agree.h for the interface.
 *
 * Roles. The coordinator of an epoch is the lowest member not known dead
 * (known: agreed in an earlier decision, found by the failure detector, or
 * reported in a vote). Its backups are the next DKV__AGREE_BACKUPS live
 * members above it that voted in the epoch.
 *
 * Protocol of epoch E.
 *  1. Each member sends VOTE(E, its verdict, the members it knows dead) to
 *     its coordinator, and again to the next one whenever the coordinator it
 *     voted for is found dead.
 *  2. The coordinator decides when every member it believes alive has voted
 *     and nothing more is queued for it (a veto may wait behind its vote),
 *     after one more look at their liveness; or at its deadline; or at
 *     once on a VETO or on a vote for a later epoch (a member that already
 *     left E). Decision, in this order:
 *       - some live member's vote missing, a veto, a member past E:
 *         DKV_ERR_TIMEOUT, and the agreed dead set does not change;
 *       - a member dead that no earlier decision agreed on: it joins the
 *         agreed set and the verdict is DKV_ERR_PEER_LOST;
 *       - otherwise the lowest verdict voted (DKV_OK if all are).
 *     TIMEOUT is exact (never combined with other verdicts) because a member
 *     that gives up on its own (4.) returns it without knowing the votes.
 *  3. The coordinator sends DECIDE(PROPOSE) to its backups and waits for
 *     their ACKs (a dead backup is replaced by the next one; at most a
 *     grace period, or half of one after it sees a veto: that member gives
 *     up a grace period later), then DECIDE to every other live member,
 *     lets those sends leave, and only then DECIDE to the backups, which
 *     return on it.
 *  4. A member past its deadline sends VETO to its coordinator; a member
 *     past deadline + grace without a decision gives up: it returns the
 *     proposal it holds (broadcasting it first) or DKV_ERR_TIMEOUT.
 *  5. A backup whose proposer dies votes for the next coordinator with the
 *     proposal (HELD); a coordinator that has a HELD vote (or is a backup
 *     itself) takes that proposal instead of deciding, and passes it on as
 *     in 3. (its own backups first). Backups never broadcast on their own
 *     before giving up: a coordinator that decided anew without their vote
 *     would be contradicted. A proposal from a member this one already
 *     knows dead is refused (its vote to the next coordinator may have
 *     said it held none). A HELD vote for an epoch the coordinator has not
 *     begun yet is kept until it begins. TIMEOUT goes through backups too:
 *     a member may vote for the next coordinator before a dead one's
 *     TIMEOUT reaches it.
 *  6. A member that left E without deciding it (late: it never voted)
 *     finds E decided: a DECIDE for an epoch it has not voted in can only
 *     be TIMEOUT (its vote was missing) unless it is itself agreed dead, so
 *     one number (ahead_upto) records all such decisions, however far ahead.
 *     A member asked about an epoch it decided answers from its history.
 *
 * Why survivors agree. A non-TIMEOUT decision needs every live member's
 * vote, so its backups are the next live members after the coordinator:
 * the next coordinator is a backup and already holds it (a TIMEOUT's
 * backups are voters; a next coordinator that did not vote hears of it
 * from them, as below). Nobody returns a decision before every live backup
 * holds it, and the backups return only after the others were sent
 * theirs. A coordinator decides anew only with every live member's vote,
 * so it hears of any proposal a live member holds (HELD); otherwise a vote
 * is missing and it decides TIMEOUT, which is also what anyone who gave up
 * without a proposal returned.
 *
 * Limits (documented at dkv_fence): agreement can break when a member that
 * holds the only undelivered copy of a decision stalls (stopped, not dead)
 * for longer than the grace period, when the coordinator and all its
 * backups die in the same epoch, or when the failure detector declares a
 * live member dead (that member is then excluded: it returns PEER_LOST).
 */
#include <stdlib.h>
#include <string.h>

#include "agree_int.h"

dkv_status_t dkv__agree_init(dkv__agree_t *a, const int *ranks, int n,
                             int me, const dkv__agree_ops_t *ops)
{
    size_t m = (size_t)((n > 0) ? n : 1);

    memset(a, 0, sizeof(*a));
    a->ops          = *ops;
    a->n            = n;
    a->me           = me;
    a->epoch        = 1;
    a->ranks        = malloc(m * sizeof(int));
    a->known        = calloc(m, 1);
    a->known_list   = calloc(m, sizeof(uint32_t));
    a->dead_at      = calloc(m, sizeof(uint64_t));
    a->scratch      = calloc(m, sizeof(uint32_t));
    a->vote_epoch   = calloc(m, sizeof(uint64_t));
    a->vote_verdict = calloc(m, sizeof(int32_t));
    a->vote_flags   = calloc(m, 1);
    a->ack_epoch    = calloc(m, sizeof(uint64_t));
    a->told         = calloc(m, sizeof(uint64_t));
    a->proposed     = calloc(m, sizeof(uint64_t));
    a->dset         = calloc(m, 1);
    a->dlist        = calloc(m, sizeof(uint32_t));
    a->early_set    = calloc(m, sizeof(uint32_t));
    if ((a->ranks == NULL) || (a->known == NULL) ||
        (a->known_list == NULL) || (a->early_set == NULL) ||
        (a->dead_at == NULL) || (a->scratch == NULL) ||
        (a->vote_epoch == NULL) || (a->vote_verdict == NULL) ||
        (a->vote_flags == NULL) || (a->ack_epoch == NULL) ||
        (a->told == NULL) || (a->proposed == NULL) || (a->dset == NULL) ||
        (a->dlist == NULL)) {
        dkv__agree_cleanup(a);
        return DKV_ERR_NO_MEMORY;
    }
    if (n > 0) {
        memcpy(a->ranks, ranks, (size_t)n * sizeof(int));
    }
    return DKV_OK;
}

void dkv__agree_cleanup(dkv__agree_t *a)
{
    free(a->ranks);
    free(a->known);
    free(a->known_list);
    free(a->dead_at);
    free(a->scratch);
    free(a->vote_epoch);
    free(a->vote_verdict);
    free(a->vote_flags);
    free(a->ack_epoch);
    free(a->told);
    free(a->proposed);
    free(a->dset);
    free(a->dlist);
    free(a->early_set);
    memset(a, 0, sizeof(*a));
}

/* The decision's set := members known dead, only the agreed ones if
 * @p agreed_only. */
static void set_from_known(dkv__agree_t *a, int agreed_only)
{
    uint32_t k;

    set_clear(a);
    for (k = 0; k < a->nknown; k++) {
        if (!agreed_only || (a->dead_at[a->known_list[k]] != 0)) {
            set_add(a, a->known_list[k]);
        }
    }
}

dkv_status_t dkv__agree_send(dkv__agree_t *a, int to, uint8_t type,
                             uint8_t flags, uint64_t epoch, int32_t verdict,
                             const uint32_t *dead, uint32_t ndead)
{
    dkv__agree_msg_t msg = {type, flags, epoch, verdict, dead, ndead};
    dkv_status_t     st  = a->ops.send(a->ops.arg, to, &msg);

    if (st == DKV_ERR_PEER_LOST) {
        mark_dead(a, to);
    }
    return st;
}

static void at(dkv__agree_t *a, dkv__agree_point_t point)
{
    if (a->ops.at != NULL) {
        a->ops.at(a->ops.arg, point, a->epoch);
    }
}

static int is_dead(dkv__agree_t *a, int i)
{
    if (!a->known[i] && a->ops.dead(a->ops.arg, i)) {
        mark_dead(a, i);
    }
    return a->known[i];
}

static void finish(dkv__agree_t *a, int32_t verdict, int decided)
{
    dkv__agree_hist_t *h = &a->hist[a->epoch % DKV__AGREE_HISTORY];
    uint32_t           k;

    for (k = 0; decided && (k < a->ndlist); k++) {
        uint32_t i = a->dlist[k];

        if (a->dead_at[i] == 0) {
            a->dead_at[i] = a->epoch;
            a->nagreed++;
            mark_dead(a, (int)i);
            a->excluded |= ((int)i == a->me);
        }
    }
    h->epoch    = a->epoch;
    h->verdict  = verdict;
    h->nagreed  = a->nagreed;
    h->decided  = (uint8_t)decided;
    a->result   = verdict;
    a->running  = 0;
    a->epoch++;
}

dkv__agree_next_t dkv__agree_begin(dkv__agree_t *a, int32_t mine,
                                   uint64_t now, uint64_t deadline,
                                   uint64_t grace)
{
    uint64_t e = a->epoch;
    int      i;

    set_clear(a);
    a->running    = 1;
    a->mine       = mine;
    a->deadline   = deadline;
    a->grace      = grace;
    a->grace_end  = (deadline > UINT64_MAX - grace) ? UINT64_MAX
                                                    : deadline + grace;
    a->sent_to    = -1;
    a->sent_flags = 0;
    a->veto       = 0;
    a->have       = HAVE_NONE;
    a->from       = -1;
    a->acked      = 0;
    a->phase      = PH_COLLECT;
    a->announced  = 0;
    a->adopted    = 0;
    a->flushed    = 0;
    a->nbackup    = 0;
    a->forced     = 0;
    a->hurry      = 0;
    a->hurry_end  = 0;
    a->nvotes     = 1;
    a->vote_epoch[a->me]   = e;
    a->vote_verdict[a->me] = mine;
    a->vote_flags[a->me]   = 0;
    (void)now;
    if (a->excluded) {
        finish(a, DKV_ERR_PEER_LOST, 0);
        return DKV__AGREE_DONE;
    }
    if (e <= a->ahead_upto) {
        finish(a, DKV_ERR_TIMEOUT, 0); /* decided while this one was away */
        return DKV__AGREE_DONE;
    }
    if (a->early_epoch == e) { /* a backup told us before we began */
        uint32_t k;

        a->have    = HAVE_HELD;
        a->verdict = a->early_verdict;
        for (k = 0; k < a->nearly; k++) {
            set_add(a, a->early_set[k]);
        }
    }
    for (i = 0; i < a->n; i++) { /* votes that came early */
        if ((i == a->me) || a->known[i]) {
            continue;
        }
        a->nvotes += (a->vote_epoch[i] == e);
        if ((a->vote_epoch[i] > e) ||
            ((a->vote_epoch[i] == e) &&
             (a->vote_flags[i] & DKV__AGREE_F_VETO))) {
            a->forced = 1;
        }
    }
    at(a, DKV__AGREE_AT_VOTE);
    return DKV__AGREE_WAIT;
}

void dkv__agree_flushed(dkv__agree_t *a)
{
    a->flushed = 1;
}

/* Send the decision (commit) to every live member except @p skip_backups'
 * and this one, that was not sent it yet. */
static void spread(dkv__agree_t *a, int skip_backups)
{
    int i, k;

    for (i = 0; i < a->n; i++) {
        int backup = 0;

        for (k = 0; skip_backups && (k < a->nbackup); k++) {
            backup |= (a->backup[k] == i);
        }
        if ((i == a->me) || a->known[i] || backup ||
            (a->told[i] >= a->epoch)) {
            continue;
        }
        if (dkv__agree_send(a, i, DKV__AGREE_DECIDE, 0, a->epoch, a->verdict,
                            a->dlist, a->ndlist) == DKV_OK) {
            a->told[i] = a->epoch;
        }
    }
}

/* Spread a decision this member holds (no backups of its own). */
static dkv__agree_next_t spread_held(dkv__agree_t *a)
{
    a->nbackup = 0;
    spread(a, 0);
    a->phase   = PH_END;
    a->flushed = 0;
    return DKV__AGREE_FLUSH;
}

/* The vote to (the new) coordinator @p coord, if it changed. */
static void vote(dkv__agree_t *a, int coord)
{
    uint8_t flags = (uint8_t)((a->veto ? DKV__AGREE_F_VETO : 0) |
                              ((a->have == HAVE_HELD) ? DKV__AGREE_F_HELD
                                                      : 0));
    int     first = (a->sent_to < 0);

    if ((coord == a->sent_to) && (flags == a->sent_flags)) {
        return;
    }
    if (a->have == HAVE_HELD) { /* the proposal instead of my own vote */
        if (dkv__agree_send(a, coord, DKV__AGREE_VOTE, flags, a->epoch,
                            a->verdict, a->dlist, a->ndlist) != DKV_OK) {
            return;
        }
    } else if (dkv__agree_send(a, coord, DKV__AGREE_VOTE, flags, a->epoch,
                               a->mine, a->known_list,
                               a->nknown) != DKV_OK) {
        return;
    }
    a->sent_to    = coord;
    a->sent_flags = flags;
    if (first) {
        at(a, DKV__AGREE_AT_VOTED);
    }
}

static dkv__agree_next_t member_step(dkv__agree_t *a, int coord,
                                     uint64_t now, uint64_t *wake_p)
{
    if (a->have == HAVE_HELD) {
        /* A dead proposer's word is spread by the next coordinator, which
         * this member's HELD vote tells; spreading it here could contradict
         * a coordinator that decided anew without hearing this member. */
        if ((a->from >= 0) && !a->acked && !is_dead(a, a->from)) {
            at(a, DKV__AGREE_AT_BACKUP);
            a->acked = dkv__agree_send(a, a->from, DKV__AGREE_ACK, 0, a->epoch,
                                       DKV_OK, NULL, 0) == DKV_OK;
        }
        if (now >= a->grace_end) {
            return spread_held(a);
        }
    }
    if (now >= a->deadline) {
        a->veto = 1;
    }
    vote(a, coord);
    if (now >= a->grace_end) {
        finish(a, DKV_ERR_TIMEOUT, 0); /* nobody answered: give up */
        return DKV__AGREE_DONE;
    }
    /* A vote that could not be sent is tried again in a millisecond. */
    *wake_p = (a->sent_to != coord) ? now + 1000000u
              : (now < a->deadline) ? a->deadline
                                    : a->grace_end;
    return DKV__AGREE_WAIT;
}

/* Coordinator, collecting: 1 when a decision can be taken now. */
static int ready(dkv__agree_t *a, uint64_t now, int sweep, int idle,
                 int *timeout_p)
{
    int all_in = 1;
    int i;

    if (!a->forced && !sweep && (now < a->deadline) &&
        (a->nvotes + a->nknown < (uint32_t)a->n)) {
        return 0; /* votes missing: skip the scan */
    }
    for (i = 0; i < a->n; i++) {
        if ((i == a->me) || a->known[i]) {
            continue;
        }
        if (a->vote_epoch[i] > a->epoch) {
            a->forced = 1;
        } else if (a->vote_epoch[i] == a->epoch) {
            a->forced |= (a->vote_flags[i] & DKV__AGREE_F_VETO) != 0;
        } else if (!(sweep && is_dead(a, i))) {
            all_in = 0;
        }
    }
    /* All in: but a member may have vetoed (and given up) long ago, its
     * veto still queued behind its vote - decide once nothing is; past the
     * deadline, with something still queued, TIMEOUT is the safe side. */
    *timeout_p = a->forced || !all_in || !idle;
    return a->forced || (all_in && idle) || (now >= a->deadline);
}

static void decide(dkv__agree_t *a, uint64_t now, int timeout)
{
    int32_t verdict = a->mine;
    int     i, lost = 0;

    if (!timeout) { /* one last look: a voter may have died since */
        for (i = 0; i < a->n; i++) {
            if (i != a->me) {
                (void)is_dead(a, i);
            }
        }
    }
    at(a, DKV__AGREE_AT_DECIDE);
    for (i = 0; i < a->n; i++) {
        lost |= a->known[i] && (a->dead_at[i] == 0);
        if (!a->known[i] && (a->vote_epoch[i] == a->epoch) &&
            (a->vote_verdict[i] < verdict)) {
            verdict = a->vote_verdict[i];
        }
    }
    if (timeout) {
        a->verdict = DKV_ERR_TIMEOUT;
        set_from_known(a, 1);
    } else if (lost) {
        a->verdict = DKV_ERR_PEER_LOST;
        set_from_known(a, 0);
    } else {
        a->verdict = verdict;
        set_from_known(a, 1);
    }
    a->phase   = PH_PROPOSE;
    a->ack_end = (now > UINT64_MAX - a->grace) ? UINT64_MAX : now + a->grace;
}

/* Coordinator: take over a proposal held here or by a voter; it goes to
 * this coordinator's backups first, like its own decision would. */
static void adopt(dkv__agree_t *a, uint64_t now)
{
    a->adopted = 1;
    a->phase   = PH_PROPOSE;
    a->ack_end = (now > UINT64_MAX - a->grace) ? UINT64_MAX : now + a->grace;
}

/* Coordinator: the next live members above it that voted (all do, for
 * anything but TIMEOUT), or, for a proposal adopted from a dead
 * coordinator, that have not left the epoch; 1 when all of them acked.
 * Even TIMEOUT needs them: a member may vote for the next coordinator
 * before this one's TIMEOUT reaches it, and that one must not decide
 * anything else. */
static int backups_hold(dkv__agree_t *a, int sweep)
{
    int acked = 1;
    int i;

    a->nbackup = 0;
    if (a->n - 1 - (int)a->nknown <= 1) {
        return 1; /* one other member: nobody it could disagree with */
    }
    for (i = a->me + 1; (i < a->n) && (a->nbackup < DKV__AGREE_BACKUPS);
         i++) {
        if (a->known[i] || (a->vote_epoch[i] > a->epoch) ||
            (!a->adopted && (a->vote_epoch[i] != a->epoch)) ||
            (sweep && is_dead(a, i))) {
            continue;
        }
        if ((a->proposed[i] != a->epoch) &&
            (dkv__agree_send(a, i, DKV__AGREE_DECIDE, DKV__AGREE_F_PROPOSE,
                             a->epoch, a->verdict, a->dlist,
                             a->ndlist) == DKV_OK)) {
            a->proposed[i] = a->epoch;
        }
        if (a->known[i]) {
            continue; /* the send found it dead */
        }
        a->backup[a->nbackup++] = i;
        acked &= (a->proposed[i] == a->epoch) &&
                 (a->ack_epoch[i] == a->epoch);
    }
    return acked;
}

/* A coordinator not agreed yet (a lower member is dead, but no decision
 * said so) tells everyone whom it knows dead: members whose detector has
 * not seen it yet then vote here (and a false alarm does not split them). */
static void announce(dkv__agree_t *a)
{
    int i;

    if (a->announced || (dkv__agree_leader(a) == a->me)) {
        return;
    }
    a->announced = 1;
    for (i = 0; i < a->n; i++) {
        if ((i != a->me) && !a->known[i]) {
            (void)dkv__agree_send(a, i, DKV__AGREE_VOTE, 0, a->epoch, a->mine,
                                  a->known_list, a->nknown);
        }
    }
}

static dkv__agree_next_t coord_step(dkv__agree_t *a, uint64_t now, int sweep,
                                    int idle, uint64_t *wake_p)
{
    uint64_t until;
    int      timeout = 0;

    if (a->phase == PH_COLLECT) {
        announce(a);
        if (a->have == HAVE_HELD) {
            adopt(a, now); /* a dead coordinator's proposal */
        } else if (!ready(a, now, sweep, idle, &timeout)) {
            *wake_p = idle ? a->deadline : now; /* not idle: drain, retry */
            return DKV__AGREE_WAIT;
        } else {
            decide(a, now, timeout);
        }
    }
    if (a->hurry && (a->hurry_end == 0)) {
        /* A member vetoed: it gives up a grace period after, so the
         * decision must be on its way well before. */
        a->hurry_end = now + a->grace / 2;
    }
    until = ((a->hurry_end != 0) && (a->hurry_end < a->ack_end))
                ? a->hurry_end
                : a->ack_end;
    if (!backups_hold(a, sweep) && (now < until)) {
        *wake_p = until;
        return DKV__AGREE_WAIT;
    }
    at(a, DKV__AGREE_AT_PROPOSE);
    spread(a, 1); /* the others first, the backups last */
    a->phase   = PH_LAST;
    a->flushed = 0;
    return DKV__AGREE_FLUSH;
}

/* The lowest member not known dead: the coordinator. */
static int coordinator(dkv__agree_t *a)
{
    int i;

    for (i = 0; i < a->n; i++) {
        if ((i == a->me) || !is_dead(a, i)) {
            return i;
        }
    }
    return a->me;
}

dkv__agree_next_t dkv__agree_step(dkv__agree_t *a, uint64_t now, int sweep,
                                  int idle, uint64_t *wake_p)
{
    int coord;

    *wake_p = UINT64_MAX;
    if (!a->running) {
        return DKV__AGREE_DONE;
    }
    if (a->excluded && (a->phase == PH_COLLECT) &&
        (a->have != HAVE_COMMIT)) {
        finish(a, DKV_ERR_PEER_LOST, 0); /* out: the others go on */
        return DKV__AGREE_DONE;
    }
    if ((a->phase == PH_LAST) || (a->phase == PH_END)) {
        if (!a->flushed) {
            return DKV__AGREE_FLUSH;
        }
        if (a->phase == PH_END) {
            finish(a, a->verdict, 1);
            return DKV__AGREE_DONE;
        }
        spread(a, 0); /* now the backups: they may return */
        a->phase   = PH_END;
        a->flushed = 0;
        return DKV__AGREE_FLUSH;
    }
    if ((a->have == HAVE_COMMIT) && (a->phase == PH_COLLECT)) {
        finish(a, a->verdict, 1);
        return DKV__AGREE_DONE;
    }
    coord = coordinator(a);
    if ((coord == a->me) || (a->phase != PH_COLLECT)) {
        /* (Once decided here, it stays the coordinator's job.) */
        return coord_step(a, now, sweep, idle, wake_p);
    }
    return member_step(a, coord, now, wake_p);
}

int dkv__agree_live(const dkv__agree_t *a, int *index_p)
{
    int i, n = 0;

    *index_p = -1;
    for (i = 0; i < a->n; i++) {
        if (a->dead_at[i] == 0) {
            *index_p = (i == a->me) ? n : *index_p;
            n++;
        }
    }
    return n;
}

int dkv__agree_leader(const dkv__agree_t *a)
{
    int i;

    for (i = 0; i < a->n; i++) {
        if (a->dead_at[i] == 0) {
            return i;
        }
    }
    return -1;
}
