/*
 * fault: fault injection for tests (DKV_FAULT), parsed here at init and
 * acted on where the fault happens. Pure. Always compiled in; an empty spec
 * injects nothing.
 *
 * Spec: comma-separated items
 *   kill_after:N  the holder's process dies (SIGKILL) after N requests
 *   drop_acks:N   after N requests the holder stops answering
 *   delay_ack:MS  the holder waits MS milliseconds before every answer
 *   corrupt:N     the N-th value stored (1-based) gets one byte flipped
 *                 after it was checked (DKV_CHECKSUM=1 catches it at get)
 *   die_at:POINT[:N][@RANK]
 *                 the process dies (SIGKILL) the N-th time (default 1) it
 *                 reaches POINT, a name of DKV_FAULT_POINTS below; on rank
 *                 RANK only if given. It says so on stderr first:
 *                 "dkv[R] fault: dying at POINT (N)". One die_at per spec
 *                 (the last one counts).
 *   die_key:PREFIX
 *                 die_at counts only requests whose key starts with PREFIX
 *                 (points without a key - listings, drains - count always)
 *
 * Every point is checked by dkv__fault_hit() where the step happens, on
 * the thread that does it: one load and one branch when nothing is armed.
 */
#ifndef DKV_FAULT_H
#define DKV_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

/*
 * The fault points: X(ID, "name", "where the process is when it dies").
 * Names are <protocol>.<side>.<step>; "client" is the rank that calls
 * dramkv, "holder" its serving thread. Put points apply to eager and
 * rendezvous values alike (the value's size picks the protocol). Append;
 * one line per point.
 */
#define DKV_FAULT_POINTS(X)                                                   \
    X(PUT_CLIENT_BEFORE_SEND, "put.client.before_send",                       \
      "client: a put (each copy) is built, not yet sent")                    \
    X(PUT_CLIENT_MID_SEND, "put.client.mid_send",                             \
      "client: a put's send started and has not finished (a rendezvous "     \
      "value is still read from the caller's buffer)")                       \
    X(PUT_CLIENT_BEFORE_ACK, "put.client.before_ack",                         \
      "client: a put's send finished, its ack not yet arrived")              \
    X(PUT_HOLDER_BEFORE_STORE, "put.holder.before_store",                     \
      "holder: a put arrived, nothing reserved or stored")                   \
    X(PUT_HOLDER_MID_RECV, "put.holder.mid_recv",                             \
      "holder: a rendezvous value is arriving into its new entry")           \
    X(PUT_HOLDER_BEFORE_ACK, "put.holder.before_ack",                         \
      "holder: a put's value is stored and published, its ack not sent")     \
    X(GET_HOLDER_BEFORE_REPLY, "get.holder.before_reply",                     \
      "holder: a get's entry is found and pinned, the reply not sent")       \
    X(GET_HOLDER_AFTER_REPLY, "get.holder.after_reply",                       \
      "holder: a get's reply send started (a large value is in flight)")     \
    X(GET_CLIENT_BEFORE_COPY, "get.client.before_copy",                       \
      "client: a get's reply arrived, its value not yet copied")             \
    X(GET_CLIENT_MID_RECV, "get.client.mid_recv",                             \
      "client: a rendezvous value is arriving into the caller's buffer")     \
    X(DELETE_CLIENT_BEFORE_SEND, "delete.client.before_send",                 \
      "client: a delete (each copy) is built, not yet sent")                 \
    X(DELETE_CLIENT_BEFORE_ACK, "delete.client.before_ack",                   \
      "client: a delete was sent, its ack not yet arrived")                  \
    X(DELETE_HOLDER_BEFORE_REMOVE, "delete.holder.before_remove",             \
      "holder: a delete arrived, the key not yet removed")                   \
    X(DELETE_HOLDER_BEFORE_ACK, "delete.holder.before_ack",                   \
      "holder: a key was removed, the delete's ack not sent")                \
    X(LIST_CLIENT_AFTER_SEND, "list.client.after_send",                       \
      "client: a listing request was sent to a holder, no answer used")      \
    X(LIST_HOLDER_BEFORE_REPLY, "list.holder.before_reply",                   \
      "holder: a listing is built, not sent")                                \
    X(DRAIN_HOLDER_BEFORE_REPLY, "drain.holder.before_reply",                 \
      "holder: a drain's snapshot is pinned and its writer started, the "    \
      "start not answered")                                                  \
    X(DRAIN_HOLDER_MID_WRITE, "drain.holder.mid_write",                       \
      "holder's drain thread: a batch is in the temporary file, the file "   \
      "not complete")                                                        \
    X(PUT_CLIENT_BEFORE_COPY, "put.client.before_copy",                       \
      "client: a node-local put was granted room, its value not copied")     \
    X(PUT_CLIENT_BEFORE_COMMIT, "put.client.before_commit",                   \
      "client: a node-local put's value is copied, not committed")           \
    X(PUT_HOLDER_AFTER_GRANT, "put.holder.after_grant",                       \
      "holder: room for a node-local put is reserved and granted, the "      \
      "client's copy not committed")                                         \
    X(GET_HOLDER_AFTER_LEND, "get.holder.after_lend",                         \
      "holder: a large value's address is lent to a client on its node, "    \
      "not released")                                                        \
    X(GET_CLIENT_MID_COPY, "get.client.mid_copy",                             \
      "client: a lent value is being copied out of the holder")              \
    X(FENCE_MEMBER_BEFORE_VOTE, "fence.member.before_vote",                   \
      "fence member: in a fence, before its first vote")                     \
    X(FENCE_MEMBER_AFTER_VOTE, "fence.member.after_vote",                     \
      "fence member: its first vote of a fence sent")                        \
    X(FENCE_COORD_BEFORE_DECIDE, "fence.coord.before_decide",                 \
      "fence coordinator: every vote in, about to decide")                   \
    X(FENCE_COORD_AFTER_PROPOSE, "fence.coord.after_propose",                 \
      "fence coordinator: its backups hold the decision, nobody else was "   \
      "sent it")                                                             \
    X(FENCE_BACKUP_BEFORE_ACK, "fence.backup.before_ack",                     \
      "fence backup: it holds the coordinator's proposal, not acknowledged")

typedef enum {
    DKV__FAULT_NONE = 0,
#define DKV__FAULT_ENUM(id, name, where) DKV__FAULT_##id,
    DKV_FAULT_POINTS(DKV__FAULT_ENUM)
#undef DKV__FAULT_ENUM
    DKV__FAULT_NPOINTS
} dkv__fault_point_t;

#define DKV__FAULT_KEY_MAX 64 /* longest die_key prefix */

typedef struct dkv__fault {
    uint64_t           kill_after; /* 0: never */
    uint64_t           drop_acks;  /* 0: never */
    unsigned           delay_ms;   /* 0: none */
    uint64_t           corrupt;    /* 0: never */
    dkv__fault_point_t die_at;     /* NONE: never */
    uint64_t           die_count;  /* ... the die_count-th time there */
    int                die_rank;   /* ... on this rank only; -1: any */
    char               die_key[DKV__FAULT_KEY_MAX + 1]; /* "": any key */
} dkv__fault_t;

/* Parse @p spec (NULL or "" = no faults). DKV_ERR_INVALID with a message
 * naming the bad item in @p err; @p fault is written only on success. */
dkv_status_t dkv__fault_parse(const char *spec, dkv__fault_t *fault,
                              char *err, size_t errlen);

/* A point's name ("put.holder.before_ack"); "none" for NONE or unknown. */
const char *dkv__fault_point_name(dkv__fault_point_t point);

/*
 * Arm @p fault's die_at in this process if it applies to @p rank, with its
 * count at zero; otherwise disarm. Called by dkv_init before any thread
 * that checks points starts, and by nothing else.
 */
void dkv__fault_arm(const dkv__fault_t *fault, int rank);

/* The armed point, DKV__FAULT_NONE when none (written only by arm). */
extern dkv__fault_point_t dkv__fault_armed;

/* The armed point was reached with @p key (NULL: none): count it, and die
 * at the chosen time. */
void dkv__fault_reached(dkv__fault_point_t point, const char *key);

/* The step @p point happens now, for @p key (NUL-terminated; NULL if the
 * step has no key). */
static inline void dkv__fault_hit(dkv__fault_point_t point, const char *key)
{
    if (__builtin_expect(dkv__fault_armed == point, 0)) {
        dkv__fault_reached(point, key);
    }
}

#endif
