/*
 * agree: the agreement behind dkv_fence, as a pure state machine (no UCX,
 * no PMIx, no clock): the caller feeds it messages, the time and a failure
 * detector, and sends what it asks to send. barrier.c drives it over UCX;
 * tests/unit/test_agree.c drives several of them over a simulated network.
 *
 * Every member runs epochs 1, 2, 3, ... in the same order; in each one it
 * contributes a verdict and leaves with the decided verdict, the same on
 * every member that leaves with a decision (see agree.c for the protocol and
 * its limits). Members are numbered 0..n-1 (their ranks ascending); on the
 * wire a set of members travels as their ranks, ascending.
 *
 * Owner: one thread (the client worker's). dkv__agree_recv() may run inside
 * that thread's progress call: it only records, in time bounded by n.
 */
#ifndef DKV_AGREE_H
#define DKV_AGREE_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

/* Members that hold a copy of a decision before anyone may return it. */
#define DKV__AGREE_BACKUPS 2
/* Own decisions kept to answer a member that asks late. */
#define DKV__AGREE_HISTORY 8

typedef enum {
    DKV__AGREE_VOTE   = 1, /* member -> coordinator: my verdict */
    DKV__AGREE_DECIDE = 2, /* coordinator -> member: the decision */
    DKV__AGREE_ACK    = 3  /* backup -> coordinator: I hold the proposal */
} dkv__agree_type_t;

/* Message flags (equal to the wire's DKV__WIRE_FLAG_* of the same name). */
enum {
    DKV__AGREE_F_VETO    = 0x4, /* VOTE: past my deadline: decide TIMEOUT */
    DKV__AGREE_F_HELD    = 0x8, /* VOTE: I hold a proposal; verdict and set
                                   are the proposal's */
    DKV__AGREE_F_PROPOSE = 0x10 /* DECIDE: a backup's copy, to ACK; not final */
};

/* Points where a test may kill the process (DKV_FAULT=die_at:...). */
typedef enum {
    DKV__AGREE_AT_VOTE    = 1, /* member: before its first vote */
    DKV__AGREE_AT_VOTED   = 2, /* member: its first vote sent */
    DKV__AGREE_AT_DECIDE  = 3, /* coordinator: about to decide */
    DKV__AGREE_AT_PROPOSE = 4, /* coordinator: backups acked, before the
                                  broadcast */
    DKV__AGREE_AT_BACKUP  = 5  /* backup: proposal received, before its ACK */
} dkv__agree_point_t;

typedef struct dkv__agree_msg {
    uint8_t         type;    /* dkv__agree_type_t */
    uint8_t         flags;   /* DKV__AGREE_F_* */
    uint64_t        epoch;
    int32_t         verdict; /* dkv_status_t */
    const uint32_t *dead;    /* member indices, ascending; borrowed */
    uint32_t        ndead;
} dkv__agree_msg_t;

typedef struct dkv__agree_ops {
    /* Send @p msg to member @p to. DKV_OK when handed to the transport;
     * DKV_ERR_PEER_LOST marks @p to dead; other errors: sent again later. */
    dkv_status_t (*send)(void *arg, int to, const dkv__agree_msg_t *msg);
    /* 1 if member @p who is known to have died (the failure detector). */
    int (*dead)(void *arg, int who);
    /* Test hook at each dkv__agree_point_t; NULL: none. */
    void (*at)(void *arg, dkv__agree_point_t point, uint64_t epoch);
    void *arg;
} dkv__agree_ops_t;

/* dkv__agree_step() results. */
typedef enum {
    DKV__AGREE_WAIT  = 0, /* wait for a message, the wake time or a sweep */
    DKV__AGREE_FLUSH = 1, /* wait until the sends so far have left (bounded),
                             then call dkv__agree_flushed() and step again */
    DKV__AGREE_DONE  = 2  /* decided: see dkv__agree_t.result */
} dkv__agree_next_t;

typedef struct dkv__agree_hist {
    uint64_t epoch;
    int32_t  verdict;
    uint32_t nagreed; /* agreed dead members after it */
    uint8_t  decided; /* 0: this member gave up (TIMEOUT) on its own */
} dkv__agree_hist_t;

typedef struct dkv__agree {
    dkv__agree_ops_t ops;
    int             *ranks;      /* [n] ascending */
    int              n;
    int              me;
    uint64_t         epoch;      /* running, or the next to run */
    int              running;
    int              excluded;   /* the others agreed this member dead */
    uint64_t         ahead_upto; /* epochs up to this one were decided
                                    TIMEOUT without this member */
    /* Failures. known: dead here (agreed, detected or reported);
     * dead_at: epoch whose decision agreed it dead, 0 if none. */
    uint8_t         *known;
    uint32_t        *known_list;  /* ascending */
    uint32_t         nknown;
    uint64_t        *dead_at;
    uint32_t         nagreed;
    uint32_t        *scratch;     /* [n] a set being sent */
    /* What the others sent, per member. */
    uint64_t        *vote_epoch;  /* latest epoch it voted in */
    int32_t         *vote_verdict;
    uint8_t         *vote_flags;
    uint64_t        *ack_epoch;   /* latest epoch it acked */
    uint64_t        *told;        /* latest epoch whose decision it got */
    uint64_t        *proposed;    /* latest epoch it was proposed */
    /* The running epoch. */
    int32_t          mine;
    uint64_t         deadline;    /* decide TIMEOUT / veto after this */
    uint64_t         grace_end;   /* give up after this */
    uint64_t         ack_end;     /* stop waiting for backups' ACKs */
    uint64_t         grace;
    int              sent_to;     /* member my vote went to, -1: none */
    uint8_t          sent_flags;
    uint8_t          veto;
    int              have;        /* 0, 1 held (proposal), 2 committed */
    int              from;        /* proposer of the held one, -1: none */
    int              acked;
    int              phase;
    int              announced;   /* (coordinator) said whom it knows dead */
    int              adopted;     /* (coordinator) passes on a proposal */
    int              flushed;     /* the caller let the sends leave */
    int32_t          verdict;     /* of the decision held or made */
    uint8_t         *dset;        /* [n] its dead set */
    uint32_t        *dlist;       /* ascending */
    uint32_t         ndlist;
    int              backup[DKV__AGREE_BACKUPS];
    int              nbackup;
    uint64_t         early_epoch; /* a HELD vote for an epoch not begun */
    int32_t          early_verdict;
    uint32_t        *early_set;   /* [n] its dead set */
    uint32_t         nearly;
    uint32_t         nvotes;      /* members voted in the running epoch */
    int              forced;      /* a veto, or a member already past it */
    int              hurry;       /* ... seen: members give up soon */
    uint64_t         hurry_end;   /* then stop waiting for ACKs by this */
    int32_t          result;      /* the last epoch's verdict */
    dkv__agree_hist_t hist[DKV__AGREE_HISTORY];
    /* Counters (handler and owner). */
    uint64_t         events;     /* messages recorded */
    uint64_t         rejected;   /* malformed or impossible messages */
    uint64_t         late;       /* decisions unlike this member's (it
                                    gave up first): agreement was lost */
    int              service;    /* an old epoch was asked about */
} dkv__agree_t;

/* @p ranks: the members' ranks, ascending (copied); @p me: my index. */
dkv_status_t dkv__agree_init(dkv__agree_t *a, const int *ranks, int n,
                             int me, const dkv__agree_ops_t *ops);
void dkv__agree_cleanup(dkv__agree_t *a);

/*
 * Record a message from rank @p from (header fields and the data part:
 * @p len bytes of ascending member ranks as uint32). Bounded work, never
 * sends. 0, or -1 when it is malformed or impossible (then nothing changed
 * except the rejected count).
 */
int dkv__agree_recv(dkv__agree_t *a, int from, unsigned type,
                    unsigned flags, uint64_t epoch, int32_t verdict,
                    const void *data, size_t len);

/*
 * Check a data part: @p len bytes of strictly ascending uint32 ranks, each
 * one of the @p n @p ranks. Writes the member indices to @p idx (room for
 * len / 4) when not NULL. 0 or -1.
 */
int dkv__agree_parse_set(const int *ranks, int n, const void *data,
                         size_t len, uint32_t *idx);

/*
 * Start the next epoch with my verdict @p mine at time @p now; vote until
 * @p deadline, then give up @p grace later. DKV__AGREE_DONE if decided at
 * once (this member is excluded, or the epoch was decided without it).
 */
dkv__agree_next_t dkv__agree_begin(dkv__agree_t *a, int32_t mine,
                                   uint64_t now, uint64_t deadline,
                                   uint64_t grace);

/*
 * Act on what arrived: send, decide, finish. Times are in nanoseconds on
 * one clock. @p sweep: look at the liveness of every member waited for (do
 * it about every 100 ms). @p idle: the transport had nothing more to
 * deliver just now (a coordinator decides anything but TIMEOUT only then:
 * a veto may wait behind the vote it cancels). Writes the time to be
 * stepped again at the latest to @p wake_p.
 */
dkv__agree_next_t dkv__agree_step(dkv__agree_t *a, uint64_t now, int sweep,
                                  int idle, uint64_t *wake_p);
void dkv__agree_flushed(dkv__agree_t *a);

/* Answer members that asked about epochs this one has decided. */
void dkv__agree_service(dkv__agree_t *a);

/* The lowest member not agreed dead (the same on every member). */
int dkv__agree_leader(const dkv__agree_t *a);

/* Members not agreed dead; this one's place among them in *@p index_p
 * (-1 if it is out). The same on every member after the same epoch. */
int dkv__agree_live(const dkv__agree_t *a, int *index_p);

#endif
