/*
 * Unit tests for src/agree.c: the set parser and what a member refuses,
 * then whole jobs of 1..7 members over a simulated network (simulated time,
 * random latencies with a heavy tail, random order, deliveries only inside
 * a fence and interleaved with steps, deaths seen after a delay of each
 * member's own): members killed at every protocol point, after their k-th
 * send (mid-broadcast), two in one epoch, at random times; members later
 * than the timeout (the coordinator too); members drifting apart; false
 * alarms. Every run checks that the survivors return one verdict per
 * epoch and that no epoch takes longer than deadline + 2 graces; most also
 * that each loss is reported by one epoch and a late member's epoch is
 * TIMEOUT everywhere. AGREE_ITERS, AGREE_SEED, AGREE_CHAOS (replay one
 * chaos run, printed on failure) and AGREE_TRACE=1 help by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agree.h"
#include "unit_rng.h"

#define MAXN    8
#define EPOCHS  12
#define MS      1000000ull
#define T_NS    (500 * MS) /* timeout */
#define G_NS    (250 * MS) /* grace */
#define SWEEP   (100 * MS)
#define MAXMSG  20000

typedef struct {
    int      from, to;
    uint8_t  type, flags;
    uint64_t epoch;
    int32_t  verdict;
    uint32_t ranks[MAXN];
    size_t   len;
    uint64_t at;
} sim_msg_t;

typedef struct sim sim_t;

typedef struct {
    sim_t       *sim;
    int          i;
    dkv__agree_t a;
    int          dead;
    uint64_t     died_at;
    int          running;
    uint64_t     start;      /* next fence starts at */
    uint64_t     began;      /* the running fence began at */
    uint64_t     wake;
    uint64_t     next_sweep;
    int          step_now;
    int          done;       /* epochs finished */
    int32_t      res[EPOCHS];
} node_t;

struct sim {
    int       n;
    int       ranks[MAXN];
    node_t    node[MAXN];
    sim_msg_t msg[MAXMSG];
    int       nmsg;
    uint64_t  now;
    uint64_t  lat_max;      /* message latency 1..lat_max ns */
    int       heavy;        /* one message in 8 takes 3x longer */
    uint64_t  sweep;        /* liveness looks this often */
    uint64_t  think;        /* pause between fences 0..think */
    int       partial;      /* members step between single deliveries */
    /* fault: kill member `victim` at `point` of epoch `epoch` */
    int       victim;
    int       point;
    uint64_t  epoch;
    /* or kill `victim` after its `after_sends`-th send in epoch `epoch` */
    int       after_sends;
    int       sends;
    /* a second, timed death (or after its after2-th send in `epoch`) */
    int       victim2;
    uint64_t  kill2_at;
    int       after2;
    int       sends2;
    /* a late member: starts epoch `late_epoch` late by `late_ns` */
    int       late;
    uint64_t  late_epoch;
    uint64_t  late_ns;
    uint64_t  late_by[MAXN]; /* ... and every member by its own delay */
    uint64_t  detect[MAXN]; /* how long member i takes to see a death */
    int       alarm_by;     /* this member's detector says ... */
    int       alarm_on;     /* ... this live one is dead (a false alarm) */
};

static void dump(const sim_t *s);

static uint64_t rng_state   = 0x9E3779B97F4A7C15ull;
static int      chaos_iters = 20000;
static int      trace; /* AGREE_TRACE=1: print every send and result */
static uint64_t chaos_state; /* AGREE_CHAOS=<state>: replay one chaos run */
static uint64_t run_state;   /* the state the current chaos run began at */

static uint64_t rnd(void)
{
    return unit_rng_next(&rng_state);
}

static uint64_t rnd_below(uint64_t n)
{
    return (n == 0) ? 0 : rnd() % n;
}

static void kill_node(sim_t *s, int i)
{
    if (trace && !s->node[i].dead) {
        fprintf(stderr, "%8.3f ms: member %d dies\n", (double)s->now / MS, i);
    }
    if (!s->node[i].dead) {
        s->node[i].dead    = 1;
        s->node[i].died_at = s->now;
    }
}

static dkv_status_t sim_send(void *arg, int to, const dkv__agree_msg_t *m)
{
    node_t    *nd = arg;
    sim_t     *s  = nd->sim;
    sim_msg_t *out;
    uint32_t   k;

    assert_in_range(to, 0, s->n - 1);
    assert_int_not_equal(to, nd->i);
    if (nd->dead) {
        return DKV_OK; /* a dead process sends nothing */
    }
    if (s->node[to].dead &&
        (s->now >= s->node[to].died_at + s->detect[nd->i])) {
        return DKV_ERR_PEER_LOST;
    }
    assert_true(s->nmsg < MAXMSG);
    if (trace) {
        fprintf(stderr, "%8.3f ms: %d -> %d type %d flags %x epoch %llu "
                "verdict %d ndead %u\n", (double)s->now / MS, nd->i, to,
                m->type, m->flags, (unsigned long long)m->epoch, m->verdict,
                m->ndead);
    }
    out          = &s->msg[s->nmsg++];
    out->from    = nd->i;
    out->to      = to;
    out->type    = m->type;
    out->flags   = m->flags;
    out->epoch   = m->epoch;
    out->verdict = m->verdict;
    for (k = 0; k < m->ndead; k++) {
        out->ranks[k] = (uint32_t)s->ranks[m->dead[k]];
        if (k > 0) {
            assert_true(m->dead[k] > m->dead[k - 1]); /* ascending */
        }
    }
    out->len = m->ndead * sizeof(uint32_t);
    out->at  = s->now + 1 + rnd_below(s->lat_max) *
                               ((s->heavy && (rnd_below(8) == 0)) ? 3 : 1);
    if ((nd->i == s->victim) && (s->after_sends > 0) &&
        (nd->a.epoch == s->epoch) && (++s->sends == s->after_sends)) {
        kill_node(s, nd->i); /* in the middle of a broadcast, say */
    }
    if ((nd->i == s->victim2) && (s->after2 > 0) &&
        (nd->a.epoch == s->epoch) && (++s->sends2 == s->after2)) {
        kill_node(s, nd->i);
    }
    return DKV_OK;
}

static int sim_dead(void *arg, int who)
{
    node_t *nd = arg;
    sim_t  *s  = nd->sim;

    if ((nd->i == s->alarm_by) && (who == s->alarm_on)) {
        return 1;
    }
    return s->node[who].dead &&
           (s->now >= s->node[who].died_at + s->detect[nd->i]);
}

static void sim_at(void *arg, dkv__agree_point_t point, uint64_t epoch)
{
    node_t *nd = arg;
    sim_t  *s  = nd->sim;

    if ((nd->i == s->victim) && ((int)point == s->point) &&
        (epoch == s->epoch)) {
        kill_node(s, nd->i);
    }
}

static void sim_setup(sim_t *s, int n)
{
    dkv__agree_ops_t ops = {sim_send, sim_dead, sim_at, NULL};
    int              i;

    memset(s, 0, sizeof(*s));
    s->n       = n;
    s->lat_max = 2 * MS;
    s->sweep   = SWEEP;
    s->think   = 5 * MS;
    s->victim  = -1;
    s->victim2 = -1;
    s->late    = -1;
    s->alarm_by = -1;
    s->alarm_on = -1;
    for (i = 0; i < n; i++) {
        s->ranks[i] = 3 * i + 1; /* not 0..n-1: indices are not ranks */
    }
    for (i = 0; i < n; i++) {
        node_t *nd = &s->node[i];

        nd->sim   = s;
        nd->i     = i;
        ops.arg   = nd;
        nd->start = rnd_below(20 * MS);
        s->detect[i] = rnd_below(60 * MS);
        assert_int_equal(dkv__agree_init(&nd->a, s->ranks, n, i, &ops),
                         DKV_OK);
    }
}

static void sim_cleanup(sim_t *s)
{
    int i;

    for (i = 0; i < s->n; i++) {
        dkv__agree_cleanup(&s->node[i].a);
    }
}

static void fence_done(sim_t *s, node_t *nd)
{
    uint64_t e = nd->a.epoch - 1;

    assert_true(e >= 1 && e <= EPOCHS);
    /* Every wait is bounded: deadline + grace for ACKs + the flushes. */
    assert_true(s->now <= nd->began + T_NS + 2 * G_NS + 10 * MS);
    nd->res[e - 1] = nd->a.result;
    if (trace) {
        fprintf(stderr, "%8.3f ms: member %d epoch %llu -> %d\n",
                (double)s->now / MS, nd->i, (unsigned long long)e,
                nd->a.result);
    }
    nd->done       = (int)e;
    nd->running    = 0;
    nd->start      = s->now + rnd_below(s->think);
    if ((nd->i == s->late) && (e + 1 == s->late_epoch)) {
        nd->start += s->late_ns;
    }
    if (e + 1 == s->late_epoch) {
        nd->start += s->late_by[nd->i];
    }
}

/* A message can reach a member only while it is in a fence (between
 * fences a process computes and does not progress), or it is lost with a
 * dead one. */
static int deliverable(const sim_t *s, const sim_msg_t *m)
{
    return (m->at <= s->now) &&
           (s->node[m->to].running || s->node[m->to].dead);
}

/* Nothing is queued for member @p i just now. */
static int idle_node(const sim_t *s, int i)
{
    int k;

    for (k = 0; k < s->nmsg; k++) {
        if ((s->msg[k].to == i) && (s->msg[k].at <= s->now)) {
            return 0;
        }
    }
    return 1;
}

/* Step a member until it waits (FLUSH: the simulated sends have left). */
static void step_node(sim_t *s, node_t *nd, int sweep)
{
    dkv__agree_next_t r;
    uint64_t          wake = UINT64_MAX;

    for (;;) {
        dkv__agree_service(&nd->a);
        if (nd->dead || !nd->running) {
            return;
        }
        r = dkv__agree_step(&nd->a, s->now, sweep, idle_node(s, nd->i),
                            &wake);
        if (nd->dead) {
            return;
        }
        if (r == DKV__AGREE_DONE) {
            fence_done(s, nd);
            return;
        }
        if (r == DKV__AGREE_FLUSH) {
            dkv__agree_flushed(&nd->a);
            continue;
        }
        nd->wake = wake;
        return;
    }
}

static void start_node(sim_t *s, node_t *nd)
{
    dkv__agree_next_t r;

    nd->running    = 1;
    nd->began      = s->now;
    nd->next_sweep = s->now + s->sweep;
    r = dkv__agree_begin(&nd->a, DKV_OK, s->now, s->now + T_NS, G_NS);
    if (nd->dead) {
        return;
    }
    if (r == DKV__AGREE_DONE) {
        fence_done(s, nd);
        return;
    }
    step_node(s, nd, 0);
}

static uint64_t next_time(sim_t *s)
{
    uint64_t t = UINT64_MAX;
    int      i;

    for (i = 0; i < s->nmsg; i++) {
        if (s->node[s->msg[i].to].running || s->node[s->msg[i].to].dead) {
            t = (s->msg[i].at < t) ? s->msg[i].at : t;
        }
    }
    for (i = 0; i < s->n; i++) {
        node_t *nd = &s->node[i];

        if (nd->dead || (nd->done == EPOCHS)) {
            continue;
        }
        if (!nd->running) {
            t = (nd->start < t) ? nd->start : t;
        } else {
            t = (nd->wake < t) ? nd->wake : t;
            t = (nd->next_sweep < t) ? nd->next_sweep : t;
        }
    }
    if ((s->victim2 >= 0) && (s->after2 == 0) && !s->node[s->victim2].dead) {
        t = (s->kill2_at < t) ? s->kill2_at : t;
    }
    return t;
}

/* Deliver the messages that are due, in random order: all of them, or
 * (partial) a few, the members stepping in between. */
static void deliver(sim_t *s)
{
    int i, budget = s->partial ? 1 + (int)rnd_below(3) : INT32_MAX;

    while ((s->nmsg > 0) && (budget-- > 0)) {
        int due[64];
        int ndue = 0;

        for (i = 0; (i < s->nmsg) && (ndue < 64); i++) {
            if (deliverable(s, &s->msg[i])) {
                due[ndue++] = i;
            }
        }
        if (ndue == 0) {
            return;
        }
        i = due[rnd_below((uint64_t)ndue)];
        {
            sim_msg_t m  = s->msg[i];
            node_t   *to = &s->node[m.to];

            s->msg[i] = s->msg[--s->nmsg];
            if (to->dead) {
                continue;
            }
            if (dkv__agree_recv(&to->a, s->ranks[m.from], m.type, m.flags,
                                m.epoch, m.verdict, m.ranks, m.len) != 0) {
                fprintf(stderr, "member %d rejected type %d flags %x epoch "
                        "%llu verdict %d from %d (at epoch %llu running %d "
                        "phase %d)\n", m.to, m.type, m.flags,
                        (unsigned long long)m.epoch, m.verdict, m.from,
                        (unsigned long long)to->a.epoch, to->a.running,
                        to->a.phase);
                dump(s);
                fail();
            }
            to->step_now = 1;
        }
    }
}

static void sim_run(sim_t *s)
{
    int i, steps = 0;

    for (;;) {
        uint64_t t = next_time(s);

        if (t == UINT64_MAX) {
            break;
        }
        assert_true(++steps < 2000000);
        s->now = (t > s->now) ? t : s->now;
        if ((s->victim2 >= 0) && (s->after2 == 0) && (s->now >= s->kill2_at)) {
            kill_node(s, s->victim2);
        }
        deliver(s);
        for (i = 0; i < s->n; i++) {
            node_t *nd = &s->node[i];
            int     sweep;

            if (nd->dead || (nd->done == EPOCHS)) {
                continue;
            }
            if (!nd->running) {
                if (nd->start <= s->now) {
                    start_node(s, nd);
                }
                continue;
            }
            sweep = nd->next_sweep <= s->now;
            if (sweep) {
                nd->next_sweep = s->now + s->sweep;
            }
            if (nd->step_now || sweep || (nd->wake <= s->now)) {
                nd->step_now = 0;
                step_node(s, nd, sweep);
            } else {
                dkv__agree_service(&nd->a);
            }
        }
    }
}

static void dump(const sim_t *s)
{
    int i, e;

    fprintf(stderr, "(replay: AGREE_CHAOS=%llu)\n",
            (unsigned long long)run_state);
    fprintf(stderr, "n %d victim %d point %d after %d epoch %llu victim2 %d "
            "at %llu ms late %d/%llu by %llu ms lat %llu us heavy %d sweep "
            "%llu ms think %llu ms\n", s->n, s->victim, s->point,
            s->after_sends, (unsigned long long)s->epoch, s->victim2,
            (unsigned long long)(s->kill2_at / MS), s->late,
            (unsigned long long)s->late_epoch,
            (unsigned long long)(s->late_ns / MS),
            (unsigned long long)(s->lat_max / 1000), s->heavy,
            (unsigned long long)(s->sweep / MS),
            (unsigned long long)(s->think / MS));
    for (i = 0; i < s->n; i++) {
        const node_t *nd = &s->node[i];

        fprintf(stderr, "  member %d%s detect %llu ms rejected %llu late "
                "%llu:", i, nd->dead ? " (dead)" : "",
                (unsigned long long)(s->detect[i] / MS),
                (unsigned long long)nd->a.rejected,
                (unsigned long long)nd->a.late);
        for (e = 0; e < nd->done; e++) {
            fprintf(stderr, " %d", nd->res[e]);
        }
        fprintf(stderr, "\n");
    }
}

/* One verdict per epoch among survivors; returns the number of deaths. */
static int check_agreement(sim_t *s, int32_t *agreed)
{
    int i, e, deaths = 0;

    for (e = 0; e < EPOCHS; e++) {
        agreed[e] = 1; /* no value */
    }
    for (i = 0; i < s->n; i++) {
        node_t *nd = &s->node[i];

        if (nd->dead) {
            deaths++;
            continue;
        }
        if ((nd->done != EPOCHS) || (nd->a.rejected != 0) ||
            (nd->a.late != 0)) {
            dump(s);
        }
        assert_int_equal(nd->done, EPOCHS);
        assert_int_equal(nd->a.rejected, 0);
        assert_int_equal(nd->a.late, 0);
        for (e = 0; e < EPOCHS; e++) {
            if (agreed[e] == 1) {
                agreed[e] = nd->res[e];
            } else if (agreed[e] != nd->res[e]) {
                fprintf(stderr, "epoch %d: member %d got %d, another %d\n",
                        e + 1, i, nd->res[e], agreed[e]);
                dump(s);
                fail();
            }
        }
    }
    return deaths;
}

/* Deaths: every one reported as PEER_LOST once (no timeouts here). */
static void check_losses(sim_t *s, int deaths, const int32_t *agreed)
{
    int e, lost = 0, i, leader = -1, survivors = 0;

    for (e = 0; e < EPOCHS; e++) {
        assert_true((agreed[e] == DKV_OK) || (agreed[e] == DKV_ERR_PEER_LOST));
        lost += (agreed[e] == DKV_ERR_PEER_LOST);
    }
    assert_true((deaths == 0) ? (lost == 0) : (lost >= 1 && lost <= deaths));
    assert_true(agreed[EPOCHS - 1] == DKV_OK);
    for (i = 0; i < s->n; i++) {
        if (!s->node[i].dead) {
            int l = dkv__agree_leader(&s->node[i].a);
            int place;

            assert_int_equal(s->node[i].a.nagreed, deaths);
            assert_true((leader < 0) || (leader == l));
            leader = l;
            /* Survivors number themselves 0, 1, ... in member order. */
            assert_int_equal(dkv__agree_live(&s->node[i].a, &place),
                             s->n - deaths);
            assert_int_equal(place, survivors++);
        }
    }
}

/* Each test gets a simulated job to set up (too big for the stack). */
static int sim_alloc(void **state)
{
    *state = calloc(1, sizeof(sim_t));
    return (*state == NULL) ? -1 : 0;
}

static int sim_free(void **state)
{
    free(*state);
    return 0;
}

/* Run the job set up in @p s, check that the survivors agree (and, with
 * @p losses, that each death was reported once and nothing timed out),
 * free it. The verdicts go to @p agreed; returns the number of deaths. */
static int run_checked(sim_t *s, int losses, int32_t *agreed)
{
    int deaths;

    sim_run(s);
    deaths = check_agreement(s, agreed);
    if (losses) {
        check_losses(s, deaths, agreed);
    }
    sim_cleanup(s);
    return deaths;
}

static void test_parse_set(void **state)
{
    static const int ranks[] = {1, 4, 7, 10};
    uint32_t         ok[]    = {1, 7, 10};
    uint32_t         down[]  = {7, 4};
    uint32_t         dup[]   = {4, 4};
    uint32_t         alien[] = {1, 5};
    uint32_t         idx[4];

    assert_int_equal(dkv__agree_parse_set(ranks, 4, NULL, 0, idx), 0);
    assert_int_equal(dkv__agree_parse_set(ranks, 4, ok, sizeof(ok), idx), 0);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 2);
    assert_int_equal(idx[2], 3);
    assert_int_equal(dkv__agree_parse_set(ranks, 4, ok, 5, idx), -1);
    assert_int_equal(dkv__agree_parse_set(ranks, 4, down, 8, idx), -1);
    assert_int_equal(dkv__agree_parse_set(ranks, 4, dup, 8, idx), -1);
    assert_int_equal(dkv__agree_parse_set(ranks, 4, alien, 8, idx), -1);
    assert_int_equal(dkv__agree_parse_set(ranks, 2, ok, sizeof(ok), idx), -1);
}

static void test_no_failure(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     n, e;

    for (n = 1; n <= 7; n++) {
        sim_setup(s, n);
        sim_run(s);
        assert_int_equal(check_agreement(s, agreed), 0);
        for (e = 0; e < EPOCHS; e++) {
            assert_int_equal(agreed[e], DKV_OK);
        }
        sim_cleanup(s);
    }
}

/* The lowest verdict wins; a member whose quiet failed is heard. */
static void test_min_verdict(void **state)
{
    dkv__agree_ops_t ops  = {sim_send, sim_dead, NULL, NULL};
    sim_t           *s    = *state;
    int32_t          v[3] = {DKV_OK, DKV_ERR_NO_SPACE, DKV_ERR_PEER_LOST};
    uint64_t         wake;
    int              i, done = 0, rounds;

    sim_setup(s, 3);
    for (i = 0; i < 3; i++) {
        (void)ops;
        assert_int_equal(dkv__agree_begin(&s->node[i].a, v[i], 0, T_NS, G_NS),
                         DKV__AGREE_WAIT);
        s->node[i].running = 1;
    }
    for (rounds = 0; (rounds < 100) && (done < 3); rounds++) {
        s->now += MS;
        deliver(s);
        for (i = 0; i < 3; i++) {
            dkv__agree_next_t r;

            if (!s->node[i].running) {
                continue;
            }
            while ((r = dkv__agree_step(&s->node[i].a, s->now, 0, 1, &wake)) ==
                   DKV__AGREE_FLUSH) {
                dkv__agree_flushed(&s->node[i].a);
            }
            if (r == DKV__AGREE_DONE) {
                assert_int_equal(s->node[i].a.result, DKV_ERR_NO_SPACE);
                s->node[i].running = 0;
                done++;
            }
        }
    }
    assert_int_equal(done, 3);
    sim_cleanup(s);
}

/* Kill one member at each protocol point, in each epoch 1..4, n = 2..7. */
static void test_die_at_points(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     n, v, point, runs = 0;
    uint64_t e;

    for (n = 2; n <= 7; n++) {
        for (point = DKV__AGREE_AT_VOTE; point <= DKV__AGREE_AT_BACKUP;
             point++) {
            for (v = 0; v < n; v++) {
                for (e = 1; e <= 4; e++) {
                    sim_setup(s, n);
                    s->victim = v;
                    s->point  = point;
                    s->epoch  = e;
                    (void)run_checked(s, 1, agreed);
                    runs++;
                }
            }
        }
    }
    assert_true(runs > 100);
}

/* Kill one member after its k-th send of an epoch: mid-broadcast. */
static void test_die_mid_send(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     n, v, k;
    uint64_t e;

    for (n = 2; n <= 7; n++) {
        for (v = 0; v < n; v++) {
            for (k = 1; k <= n + 2; k++) {
                for (e = 1; e <= 3; e++) {
                    sim_setup(s, n);
                    s->victim      = v;
                    s->after_sends = k;
                    s->epoch       = e;
                    (void)run_checked(s, 1, agreed);
                }
            }
        }
    }
}

/* The coordinator dies after its k-th send of an epoch and the next one
 * (its first backup, which takes over) after its j-th: two deaths in one
 * epoch, each in the middle of passing a decision on. Members that have
 * returned compute for a while (they answer nobody meanwhile). */
static void test_two_deaths_mid_send(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     n, k, j;

    for (n = 3; n <= 7; n++) {
        for (k = 1; k <= n + 1; k++) {
            for (j = 1; j <= n + 3; j++) {
                sim_setup(s, n);
                s->think       = 400 * MS; /* who returned is away */
                s->victim      = 0;
                s->after_sends = k;
                s->victim2     = 1;
                s->after2      = j;
                s->epoch       = 2;
                /* (1 may send fewer: then it survives) */
                assert_true(run_checked(s, 0, agreed) >= 1);
            }
        }
    }
}

/* The coordinator decides TIMEOUT and dies after its k-th send; the
 * others see the death at once, so they may vote for the next coordinator
 * before the dead one's TIMEOUT reaches them. Epoch 2 starts with every
 * member late by its own delay: the coordinator after member 1 vetoed,
 * the others soon enough not to have vetoed yet (or not). */
static void test_timeout_then_death(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     n, k, i, d;

    for (n = 3; n <= 6; n++) {
        for (k = 1; k <= n + 1; k++) {
            for (d = 0; d < 8; d++) {
                sim_setup(s, n);
                s->lat_max     = 5 * MS;
                s->sweep       = MS; /* a look at the coordinator soon */
                s->victim      = 0;
                s->after_sends = k;
                s->epoch       = 2;
                s->late_epoch  = 2;
                s->late_by[0]  = T_NS + (uint64_t)d * G_NS / 8;
                for (i = 2; i < n; i++) {
                    s->late_by[i] = (uint64_t)d * 60 * MS;
                }
                for (i = 0; i < n; i++) {
                    s->detect[i] = 0;
                }
                (void)run_checked(s, 0, agreed);
            }
        }
    }
}

/* Random pairs of deaths (a protocol point and a random time). */
static void test_random_deaths(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     iter;

    for (iter = 0; iter < 3000; iter++) {
        int n = 2 + (int)rnd_below(6);

        sim_setup(s, n);
        s->lat_max = 1 + rnd_below(20 * MS);
        s->victim  = (int)rnd_below((uint64_t)n);
        s->point   = 1 + (int)rnd_below(5);
        s->epoch   = 1 + rnd_below(6);
        if (rnd_below(2) == 0) {
            s->point       = 0;
            s->after_sends = 1 + (int)rnd_below((uint64_t)n + 2);
        }
        if ((n > 2) && (rnd_below(2) == 0)) {
            s->victim2  = (int)rnd_below((uint64_t)n);
            s->kill2_at = rnd_below(30 * MS); /* early: agreed by the end */
        }
        (void)run_checked(s, 1, agreed);
    }
}

/* Everything at random: latencies with a heavy tail, detection faster or
 * slower than messages, members drifting apart by up to 1.5 timeouts, up to
 * two deaths anywhere. Only agreement and bounded waits are checked. */
static void test_chaos(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     iter, i;

    if (chaos_state != 0) {
        rng_state   = chaos_state;
        chaos_iters = 1;
    }
    for (iter = 0; iter < chaos_iters; iter++) {
        uint64_t state = rng_state;
        int      n     = 2 + (int)rnd_below(6);

        run_state = state;

        sim_setup(s, n);
        /* Within the protocol's assumption: a decision travels (propose,
         * ack, commit: three messages) well within a grace period. */
        s->lat_max = 1 + rnd_below((rnd_below(2) == 0) ? 2 * MS : 15 * MS);
        s->heavy   = (int)rnd_below(2);
        s->sweep   = (1 + rnd_below(100)) * MS;
        s->partial = (int)rnd_below(2);
        s->think   = 1 + rnd_below((rnd_below(3) == 0) ? 750 * MS : 5 * MS);
        for (i = 0; i < n; i++) {
            s->detect[i] = (rnd_below(2) == 0) ? 0 : rnd_below(80 * MS);
        }
        s->victim = (int)rnd_below((uint64_t)n);
        s->epoch  = 1 + rnd_below(6);
        if (rnd_below(2) == 0) {
            s->after_sends = 1 + (int)rnd_below((uint64_t)n + 3);
        } else {
            s->point = 1 + (int)rnd_below(5);
        }
        if ((n > 2) && (rnd_below(2) == 0)) {
            s->victim2  = (int)rnd_below((uint64_t)n);
            s->kill2_at = rnd_below(2000 * MS);
        }
        (void)run_checked(s, 0, agreed);
    }
}

/* A member later than the timeout: that epoch is TIMEOUT everywhere, the
 * others recover; with a death at a random time too. */
static void test_late_member(void **state)
{
    int32_t agreed[EPOCHS];
    sim_t  *s = *state;
    int     iter, e, ok_after;

    for (iter = 0; iter < 2000; iter++) {
        int n = 2 + (int)rnd_below(6);

        sim_setup(s, n);
        s->lat_max    = 1 + rnd_below(5 * MS);
        s->partial    = iter % 2;
        s->late       = (iter % 4 < 2) ? 0 : (int)rnd_below((uint64_t)n);
        s->late_epoch = 2 + rnd_below(4);
        s->late_ns    = T_NS + 50 * MS + rnd_below(4 * T_NS);
        if ((iter % 3 == 0) && (n > 2)) {
            do {
                s->victim2 = (int)rnd_below((uint64_t)n);
            } while (s->victim2 == s->late);
            s->kill2_at = rnd_below(1000 * MS);
        }
        if (s->late_epoch == 2) {
            s->node[s->late].start += s->late_ns; /* late for its first */
            s->late_epoch = 1;
        }
        sim_run(s);
        (void)check_agreement(s, agreed);
        assert_int_equal(agreed[s->late_epoch - 1], DKV_ERR_TIMEOUT);
        ok_after = 0;
        for (e = (int)s->late_epoch; e < EPOCHS; e++) {
            ok_after |= (agreed[e] == DKV_OK);
        }
        assert_true(ok_after);
        if (s->victim2 < 0) {
            assert_int_equal(agreed[EPOCHS - 1], DKV_OK);
        }
        sim_cleanup(s);
    }
}

/* A member wrongly found dead is agreed dead by the others, which go on
 * without it; it learns it is out and returns PEER_LOST from then on,
 * without waiting for a timeout. */
static void test_false_alarm(void **state)
{
    sim_t *s = *state;
    int    n, by, on, e, i, first;

    for (n = 3; n <= 6; n++) {
        for (by = 0; by < n; by++) {
            for (on = 0; on < n; on++) {
                int32_t agreed[EPOCHS];

                if (by == on) {
                    continue;
                }
                sim_setup(s, n);
                s->think    = 300 * MS; /* still fencing when it vetoes */
                s->alarm_by = by;
                s->alarm_on = on;
                sim_run(s);
                /* Everybody finished every epoch in time (fence_done). */
                for (e = 0; e < EPOCHS; e++) {
                    agreed[e] = 1;
                    for (i = 0; i < n; i++) {
                        if (i == on) {
                            continue;
                        }
                        assert_int_equal(s->node[i].done, EPOCHS);
                        if (agreed[e] == 1) {
                            agreed[e] = s->node[i].res[e];
                        }
                        assert_int_equal(agreed[e], s->node[i].res[e]);
                    }
                }
                assert_int_equal(s->node[on].done, EPOCHS);
                for (first = 0;
                     (first < EPOCHS) && (agreed[first] != DKV_ERR_PEER_LOST);
                     first++) {
                }
                /* Only a detector that is asked can be wrong: by must be
                 * the coordinator, or on the coordinator of by. */
                assert_int_equal(first < EPOCHS, (by == 0) || (on == 0));
                assert_int_equal(s->node[on].a.excluded, first < EPOCHS);
                for (e = first + 1; e < EPOCHS; e++) {
                    assert_int_equal(agreed[e], DKV_OK);
                    assert_int_equal(s->node[on].res[e], DKV_ERR_PEER_LOST);
                }
                sim_cleanup(s);
            }
        }
    }
}

/* Malformed or impossible messages change nothing but the count. */
static void test_recv_rejects(void **state)
{
    sim_t   *s = *state;
    uint32_t bad[2] = {7, 4};
    uint32_t me[1];
    dkv__agree_t *a;

    sim_setup(s, 4);
    a     = &s->node[1].a;
    me[0] = (uint32_t)s->ranks[1];
    assert_int_equal(dkv__agree_recv(a, 99, DKV__AGREE_VOTE, 0, 1, 0, NULL, 0),
                     -1); /* not a member */
    assert_int_equal(dkv__agree_recv(a, s->ranks[1], DKV__AGREE_VOTE, 0, 1, 0,
                                     NULL, 0),
                     -1); /* from itself */
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_VOTE, 0, 0, 0,
                                     NULL, 0),
                     -1); /* epoch 0 */
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_VOTE, 0, 1, 0,
                                     bad, sizeof(bad)),
                     -1);
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_VOTE,
                                     DKV__AGREE_F_PROPOSE, 1, 0, NULL, 0),
                     -1);
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_ACK, 0, 1, 0,
                                     me, sizeof(me)),
                     -1);
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], 9, 0, 1, 0, NULL, 0),
                     -1);
    /* An OK decision for an epoch it has not voted in cannot be. */
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_DECIDE, 0, 1,
                                     DKV_OK, NULL, 0),
                     -1);
    /* ... unless it names this member dead: then it is excluded. */
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_DECIDE, 0, 1,
                                     DKV_ERR_PEER_LOST, me, sizeof(me)),
                     0);
    assert_int_equal(a->rejected, 8);
    assert_int_equal(a->excluded, 1);
    assert_int_equal(dkv__agree_begin(a, DKV_OK, 0, T_NS, G_NS),
                     DKV__AGREE_DONE);
    assert_int_equal(a->result, DKV_ERR_PEER_LOST);
    /* A TIMEOUT decided ahead is kept however far ahead. */
    a = &s->node[2].a;
    assert_int_equal(dkv__agree_recv(a, s->ranks[0], DKV__AGREE_DECIDE, 0,
                                     1000, DKV_ERR_TIMEOUT, NULL, 0),
                     0);
    for (int e = 1; e <= 1000; e++) {
        assert_int_equal(dkv__agree_begin(a, DKV_OK, 0, T_NS, G_NS),
                         DKV__AGREE_DONE);
        assert_int_equal(a->result, DKV_ERR_TIMEOUT);
    }
    assert_int_equal(dkv__agree_begin(a, DKV_OK, 0, T_NS, G_NS),
                     DKV__AGREE_WAIT);
    sim_cleanup(s);
}

#define SIM_TEST(f) cmocka_unit_test_setup_teardown(f, sim_alloc, sim_free)

int main(void)
{
    const char *iters = getenv("AGREE_ITERS"); /* longer runs by hand */
    const char *seed  = getenv("AGREE_SEED");

    if (iters != NULL) {
        chaos_iters = atoi(iters);
    }
    if (seed != NULL) {
        rng_state = strtoull(seed, NULL, 0) | 1;
    }
    trace = getenv("AGREE_TRACE") != NULL;
    if (getenv("AGREE_CHAOS") != NULL) {
        chaos_state = strtoull(getenv("AGREE_CHAOS"), NULL, 0);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_set),
        SIM_TEST(test_recv_rejects),
        SIM_TEST(test_no_failure),
        SIM_TEST(test_min_verdict),
        SIM_TEST(test_die_at_points),
        SIM_TEST(test_die_mid_send),
        SIM_TEST(test_two_deaths_mid_send),
        SIM_TEST(test_timeout_then_death),
        SIM_TEST(test_random_deaths),
        SIM_TEST(test_late_member),
        SIM_TEST(test_chaos),
        SIM_TEST(test_false_alarm),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
