/*
 * ctx: the one dramkv context of a process (struct dkv_ctx) and how API
 * calls check it. The context lives in static storage, so a call made
 * before dkv_init or after dkv_finalize sees a valid object in the wrong
 * state and gets DKV_ERR_STATE instead of touching freed memory.
 *
 * Owner: the thread that called dkv_init (the API is funneled).
 */
#ifndef DKV_CTX_H
#define DKV_CTX_H

#include "boot.h"
#include "client.h"
#include "config.h"
#include "fault.h"
#include "holder.h"
#include "stage.h"

typedef enum {
    DKV__STATE_NONE      = 0, /* never initialised */
    DKV__STATE_READY     = 1,
    DKV__STATE_FINALIZED = 2
} dkv__state_t;

struct dkv_ctx {
    dkv__state_t   state;
    int            rank;
    int            size;
    int            is_holder;
    int            dedicated;   /* job-wide: holders only serve */
    int           *holders;     /* ascending ranks */
    int            nholders;
    int           *holder_node; /* [nholders] node number (replicas > 1) */
    int            replicas;    /* copies of every key */
    int            local_holders;  /* holders on this node */
    int           *local_ranks;    /* ranks on this node */
    int            nlocal_ranks;
    int            oversubscribed; /* more threads than cores here */
    dkv__config_t  cfg;
    dkv__fault_t   fault;       /* DKV_FAULT (die_at is armed in fault.c) */
    dkv__boot_t   *boot;
    ucp_context_h  ucp;
    dkv__client_t  client;
    dkv__holder_t *holder;      /* NULL unless a holder */
    uint64_t       secret;
    dkv__stage_t   stage;       /* drain and load state */
    int            detail_fresh; /* this call set its failure's reason
                                    (api_detail.h) */
};

/* The process's context (api_init.c). */
extern struct dkv_ctx dkv__the_ctx;

/* DKV_OK if @p ctx is the ready context; else DKV_ERR_STATE/INVALID. */
dkv_status_t dkv__ctx_check(const dkv_ctx_t *ctx);
/* The checks of every keyed call (api.c): context state, then the key's
 * length (1..DKV_KEY_MAX) into *@p key_len_p. */
dkv_status_t dkv__api_check_key(const dkv_ctx_t *ctx, const char *call,
                                const char *key, size_t *key_len_p);
/* The same, and a buffer that is there if @p len > 0. */
dkv_status_t dkv__api_check_read(const dkv_ctx_t *ctx, const char *call,
                                 const char *key, const void *buf, size_t len,
                                 size_t *key_len_p);
/* The same, and a value a put may send (there if @p size > 0, not larger
 * than the wire allows). */
dkv_status_t dkv__api_check_write(const dkv_ctx_t *ctx, const char *call,
                                  const char *key, const void *value,
                                  size_t size, size_t *key_len_p);

#endif
