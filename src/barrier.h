/*
 * barrier: the collective part of dkv_fence and the "done" messages dedicated
 * holders wait for. A dissemination barrier over the non-dedicated ranks
 * (ceil(log2 P) rounds of UCX active messages between client workers) that
 * also combines each rank's verdict by minimum, so every rank returns the
 * same status.
 *
 * Owner: the client worker's thread. The AM handler (inside that thread's
 * progress call) only records the round's arrival and verdict.
 */
#ifndef DKV_BARRIER_H
#define DKV_BARRIER_H

#include <stdint.h>

#include "dramkv.h"

#define DKV__BARRIER_MAX_ROUNDS 32

typedef struct dkv__barrier_slot {
    uint64_t epoch;                            /* epoch this slot holds */
    uint32_t arrived;                          /* bit per round */
    int32_t  verdict[DKV__BARRIER_MAX_ROUNDS]; /* per round */
} dkv__barrier_slot_t;

typedef struct dkv__barrier {
    int                *members;  /* ranks taking part, ascending */
    int                 nmembers;
    int                 me;       /* my index in members, -1 if none */
    uint64_t            epoch;    /* next epoch to run */
    dkv__barrier_slot_t slot[2];  /* epoch & 1; a peer is at most one ahead */
    uint32_t            byes;     /* ranks that said BYE (dedicated) */
    uint8_t            *bye_from; /* [rank] said BYE */
    int                 size;     /* ranks in the job */
    uint64_t            rejected; /* malformed barrier messages */
} dkv__barrier_t;

#endif

#ifndef DKV_BARRIER_FUNCS
#define DKV_BARRIER_FUNCS
struct dkv__client;

/*
 * Set the members (ascending ranks; borrowed array copied) and my rank.
 * DKV_OK or DKV_ERR_NO_MEMORY.
 */
dkv_status_t dkv__barrier_init(dkv__barrier_t *b, const int *members,
                               int nmembers, int my_rank, int size);
void dkv__barrier_cleanup(dkv__barrier_t *b);

/*
 * Run one barrier epoch with my verdict @p mine; every member gets the
 * minimum of all verdicts in @p verdict_p. DKV_OK, DKV_ERR_TIMEOUT,
 * DKV_ERR_STATE (not a member), or a send error.
 */
dkv_status_t dkv__barrier_run(struct dkv__client *c, int32_t mine,
                              int32_t *verdict_p, uint64_t deadline);

/* Tell each rank in @p ranks that this rank is done (dkv_serve waits). */
dkv_status_t dkv__barrier_send_bye(struct dkv__client *c, const int *ranks,
                                   int nranks, uint64_t deadline);

/* Wait until @p count byes arrived; no deadline (serving is the job). */
dkv_status_t dkv__barrier_wait_byes(struct dkv__client *c, uint32_t count);
/* The same, until @p deadline at most (dkv_finalize). */
dkv_status_t dkv__barrier_wait_byes_until(struct dkv__client *c,
                                          uint32_t count, uint64_t deadline);
#endif
