/*
 * barrier: the collective part of dkv_fence (and of drain and load), and
 * the "done" messages dedicated holders wait for. Every member (rank that
 * is not a dedicated holder) contributes a verdict; the survivors agree on
 * one verdict and on the set of dead members (agree.h: a coordinator, its
 * backups, votes and decisions over UCX active messages between client
 * workers).
 *
 * Owner: the client worker's thread. The AM handlers (inside that thread's
 * progress call) only record into the agreement state; sends happen on the
 * owner, inside a fence or in dkv__barrier_service() after progress.
 */
#ifndef DKV_BARRIER_H
#define DKV_BARRIER_H

#include <stddef.h>
#include <stdint.h>
#include <ucp/api/ucp.h>

#include "agree.h"
#include "dramkv.h"

typedef struct dkv__barrier {
    dkv__agree_t agree;
    int         *members;     /* ranks taking part, ascending */
    int          nmembers;
    int          me;          /* my index in members, -1 if none */
    uint64_t     call;        /* fences run so far (sends are per call) */
    size_t       inflight;    /* this call's sends not yet completed */
    uint8_t     *send_failed; /* [member] a send to it failed */
    uint32_t     byes;        /* ranks that said BYE (dedicated) */
    uint8_t     *bye_from;    /* [rank] said BYE */
    int          size;        /* ranks in the job */
    uint64_t     rejected;    /* malformed fence messages */
    int          logged_rejected;
    uint64_t     logged_late; /* agree.late already logged */
    uint32_t     nshared;     /* agreed dead marked in peers.dead */
} dkv__barrier_t;

#endif

#ifndef DKV_BARRIER_FUNCS
#define DKV_BARRIER_FUNCS
struct dkv__client;

/*
 * Set the members (ascending ranks; borrowed array copied) and my rank.
 * DKV_OK or DKV_ERR_NO_MEMORY.
 */
dkv_status_t dkv__barrier_init(struct dkv__client *c, const int *members,
                               int nmembers, int my_rank, int size);
void dkv__barrier_cleanup(dkv__barrier_t *b);

/*
 * Run one fence epoch with my verdict @p mine; every surviving member gets
 * the same verdict in @p verdict_p: DKV_ERR_TIMEOUT if a member's vote was
 * missing at the deadline; else DKV_ERR_PEER_LOST if members died that no
 * earlier fence reported; else the lowest verdict (DKV_OK if all are).
 * Waits until @p deadline plus at most two grace periods. Returns DKV_OK
 * or DKV_ERR_STATE (not a member).
 */
dkv_status_t dkv__barrier_run(struct dkv__client *c, int32_t mine,
                              int32_t *verdict_p, uint64_t deadline);

/* 1 if this rank is the lowest member no fence has reported dead. */
int dkv__barrier_leader(const struct dkv__client *c);

/* The members no fence has reported dead, and this rank's place among
 * them in *@p index_p (-1: not a member, or reported dead itself). */
int dkv__barrier_live(const struct dkv__client *c, int *index_p);

/* Answer members that asked about fences decided here (after progress). */
void dkv__barrier_service(struct dkv__client *c);

/* AM handlers (fence messages, byes): record only. */
ucs_status_t dkv__barrier_recv(void *arg, const void *header,
                               size_t header_length, void *data,
                               size_t length,
                               const ucp_am_recv_param_t *param);
ucs_status_t dkv__barrier_recv_bye(void *arg, const void *header,
                                   size_t header_length, void *data,
                                   size_t length,
                                   const ucp_am_recv_param_t *param);

/* Tell each rank in @p ranks that this rank is done (dkv_serve waits). */
dkv_status_t dkv__barrier_send_bye(struct dkv__client *c, const int *ranks,
                                   int nranks, uint64_t deadline);

/* Wait until @p count byes arrived; no deadline (serving is the job). */
dkv_status_t dkv__barrier_wait_byes(struct dkv__client *c, uint32_t count);
/* The same, until @p deadline at most (dkv_finalize). */
dkv_status_t dkv__barrier_wait_byes_until(struct dkv__client *c,
                                          uint32_t count, uint64_t deadline);
#endif
