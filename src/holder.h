/*
 * holder: the serving side of a holder rank - a thread of its own that owns
 * the server worker and the store, serves puts, gets and deletes while the
 * application computes, and sleeps on the worker's event fd when idle.
 *
 * Other threads may only call dkv__holder_start() and dkv__holder_stop()
 * (which signal the thread through an eventfd and join it) and read the
 * address it published at start.
 */
#ifndef DKV_HOLDER_H
#define DKV_HOLDER_H

#include <stddef.h>
#include <stdint.h>
#include <ucp/api/ucp.h>

#include "dramkv.h"
#include "fault.h"

typedef struct dkv__holder dkv__holder_t;

typedef struct dkv__holder_cfg {
    ucp_context_h ucp;
    uint64_t      secret;
    size_t        hold_bytes;  /* 0: no limit */
    size_t        rndv_thresh; /* values this large are sent zero-copy */
    uint64_t      spin_ns;     /* poll this long after activity */
    int           rank;
    int           size;        /* ranks in the job */
    dkv__fault_t  fault;       /* injected faults (tests) */
    /* Placement, to drain each key once (borrowed from the context). */
    const int    *holders;     /* [nholders] ranks */
    const int    *holder_node; /* [nholders] nodes, NULL if replicas = 1 */
    int           nholders;
    int           index;       /* this holder's index in holders */
    int           replicas;
    unsigned      drain_keep;  /* complete drains a directory keeps */
} dkv__holder_cfg_t;

/* Start the holder thread and wait (until @p deadline) for its worker. */
dkv_status_t dkv__holder_start(const dkv__holder_cfg_t *cfg, uint64_t deadline,
                               dkv__holder_t **holder_p);

/* The server worker's address (valid until dkv__holder_stop). */
void dkv__holder_address(const dkv__holder_t *h, const void **addr_p,
                         size_t *len_p);

/*
 * Start serving with the job's @p secret (requests wait in UCX until then).
 * @p addr / @p addr_len [cfg.nholders]: every holder's server worker
 * address (borrowed; copied), so holders can reach each other to commit a
 * drain without the client worker. A NULL entry: that holder cannot be
 * reached.
 */
dkv_status_t dkv__holder_go(dkv__holder_t *h, uint64_t secret,
                            const void *const *addr, const size_t *addr_len);

/* Stop serving, finish in-flight replies (bounded), join and free. */
void dkv__holder_stop(dkv__holder_t *h);

#endif
