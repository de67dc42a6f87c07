/*
 * holder_int: state shared by holder.c (thread, loop) and holder_ops.c
 * (message handling). Private to the holder module.
 */
#ifndef DKV_HOLDER_INT_H
#define DKV_HOLDER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "drain_file.h"
#include "holder.h"
#include "list.h"
#include "stage_wire.h"
#include "store.h"
#include "ucx_worker.h"
#include "wire.h"

typedef enum {
    DKV__OP_NEW = 0,  /* recorded by the AM handler */
    DKV__OP_RECVING,  /* rendezvous value arriving into its entry */
    DKV__OP_RECVED,   /* value arrived: publish and ack */
    DKV__OP_REPLYING, /* reply in flight */
    DKV__OP_DONE      /* reply sent */
} dkv__op_state_t;

/* One request being served. Pooled; the key lives inside. */
typedef struct dkv__op {
    dkv__list_t         link;      /* free or ready list */
    dkv__list_t         flight;    /* on inflight (RECVING) or replying */
    struct dkv__holder *holder;
    int                 state;
    int                 heap;      /* allocated outside the pool */
    int                 valid;     /* header passed validation */
    const char         *why;       /* validation failure, static text */
    uint64_t            seq;       /* arrival order at this holder */
    int                 superseded;
    dkv_status_t        status;
    dkv__wire_hdr_t     hdr;       /* request header (copied) */
    dkv__wire_ext_t     ext;       /* its extension (zero when none) */
    uint64_t            generation;/* for the reply: stored, read, or
                                      current (failed condition) */
    uint64_t            range_off; /* GET: bytes of the value sent */
    uint64_t            range_len;
    dkv__wire_hdr_ext_t reply;     /* reply header, valid while sending */
    size_t              reply_len; /* its bytes (with the extension?) */
    uint64_t            reply_ns;  /* when the reply was started */
    ucp_ep_h            stranger_ep; /* reply endpoint of a malformed
                                        message; valid in the AM
                                        callback only */
    void               *data;      /* persistent data or rndv descriptor */
    size_t              data_len;
    int                 rndv;
    void               *ucx_req;
    dkv__store_entry_t *entry;
    void               *reply_buf; /* malloc'd reply value, freed at end */
    /* Node-local bulk path (holder_local.c) */
    uint8_t             park;      /* after its reply, wait for the client */
    uint8_t             reserved;  /* entry reserved, not yet published */
    uint8_t             lend;      /* reply lends the value's address */
    uint64_t            parked_ns;
    struct dkv__op     *early;     /* COMMIT/RELEASE that came before the
                                      reply's send completed */
    dkv__wire_local_t   local;     /* descriptor sent in the reply */
    uint64_t            hash;
    char                key[DKV_KEY_MAX + 1];
} dkv__op_t;

/* The holder's current or last drain. The drain thread writes the file
 * from pinned entries; everything else is the holder thread's. */
typedef struct dkv__holder_drain {
    pthread_t              thread;
    int                    running;  /* thread started, not yet joined */
    atomic_int             finished; /* set by the drain thread at its end */
    atomic_int             cancel;   /* set by the holder thread at stop */
    uint64_t               id;       /* 0: never drained */
    int                    index;    /* file index in the drain */
    int                    nfiles;
    uint8_t               *dead;     /* [nholders] lost at the start, or NULL */
    char                  *dir;
    dkv__store_entry_t   **entries;  /* pinned snapshot */
    dkv__drain_item_t     *items;
    size_t                 n;
    dkv__drain_counters_t  ctr;
    uint64_t               bytes_total;
    uint64_t               keys_total; /* n, kept after the pins go */
    dkv_status_t           status;   /* written by the drain thread */
    dkv__drain_file_info_t file;     /* written by the drain thread */
    char                   err[192]; /* written by the drain thread */
    int                    wake_fd;  /* the holder's ctl_fd */
    int                    committer; /* holder index that commits */
} dkv__holder_drain_t;

/*
 * Committing drains (holder_commit.c): every holder reports its finished
 * file to the drain's committer (its lowest live holder) over the server
 * workers; the committer writes the manifest once all nfiles are durable,
 * on a thread of its own (fsync may be slow), whether or not any
 * application rank polls. Owner: the holder thread; the commit thread
 * writes only status/why and then sets `written`.
 */
typedef struct dkv__holder_commit {
    void                 **addr;      /* [nholders] server worker addresses */
    size_t                *addr_len;
    ucp_ep_h              *eps;       /* [nholders] to other holders, lazily */
    uint8_t               *ep_failed; /* [nholders] set by the error callback */
    /* As committer: the reports of drain `id`. */
    uint64_t               id;
    char                  *dir;
    uint32_t               nfiles;
    dkv__drain_file_info_t *files;    /* [nholders] by file index */
    uint8_t               *have;      /* [nholders] by file index */
    uint32_t               nhave;
    int                    state;     /* DKV__COMMIT_* */
    dkv_status_t           status;    /* when state is DONE */
    char                   why[192];
    pthread_t              thread;
    atomic_int             written;   /* the commit thread has ended */
    uint64_t               last_ns;   /* when the last report arrived */
    /* As reporter: the report in flight (one per drain). */
    dkv__wire_hdr_t        out_hdr;
    dkv__drain_info_t      out;
    void                  *out_req;
} dkv__holder_commit_t;

enum {
    DKV__COMMIT_IDLE    = 0, /* collecting reports (or none) */
    DKV__COMMIT_WRITING = 1, /* the commit thread writes the manifest */
    DKV__COMMIT_DONE    = 2  /* ended: status says how */
};

/*
 * A client this holder answers: the endpoint the holder made to the
 * client's worker when its HELLO arrived (UCX pairs it with the client's
 * own endpoint, so replies travel on the connection the request came on).
 * The holder owns it; the error callback only marks it failed and queues
 * it, and the holder thread closes it.
 */
typedef struct dkv__holder_client {
    ucp_ep_h    ep;       /* NULL once failed and closed */
    dkv__list_t flink;    /* on the failed list while queued */
    struct dkv__holder *holder;
    int         rank;
    int32_t     pid;      /* from its HELLO */
    uint8_t     failed;   /* set by the error callback */
    uint64_t    next_check; /* earliest next look at its pid */
} dkv__holder_client_t;

typedef struct dkv__holder_stats {
    uint64_t puts, gets, deletes, rejected, no_space;
} dkv__holder_stats_t;

struct dkv__holder {
    dkv__holder_cfg_t   cfg;
    pthread_t           thread;
    int                 ctl_fd;   /* eventfd: others -> holder thread */
    int                 ready_fd; /* eventfd: holder thread -> starter */
    atomic_int          stop;
    atomic_int          go;       /* secret known: start serving */
    atomic_int          started;  /* 1 ok, -1 failed */
    void               *addr;     /* worker address bytes (copy) */
    size_t              addr_len;
    /* owner: holder thread */
    dkv__worker_t       worker;
    dkv__store_t        store;
    dkv__list_t         free_ops;
    size_t              nfree;
    dkv__list_t         ready;
    dkv__list_t         inflight; /* rendezvous puts receiving */
    dkv__list_t         replying; /* replies being sent */
    dkv__holder_client_t **clients; /* [cfg.size], NULL until a HELLO */
    dkv__list_t         failed;   /* clients whose endpoint failed */
    dkv__list_t         parked;   /* ops waiting for a client's COMMIT or
                                     RELEASE (node-local bulk path) */
    uint64_t            reply_poll_ns; /* backoff while replies wait */
    size_t              busy;     /* ops not on the free list */
    void              **chunks;
    size_t              nchunks;
    dkv__holder_stats_t stats;
    int                 warned;
    uint64_t            seq;      /* last arrival sequence number */
    uint64_t            served;   /* valid requests handled (faults) */
    uint64_t            stored;   /* values published (faults) */
    dkv__holder_drain_t drain;
    dkv__holder_commit_t commit;
};

dkv_status_t dkv__holder_set_handlers(dkv__holder_t *h);
/* Close the endpoints of failed clients, and fail those on this node
 * whose process is gone while replies to them wait (holder_clients.c). */
unsigned dkv__holder_reap_clients(dkv__holder_t *h);
/* A HELLO: keep the client's endpoint (holder_clients.c). */
void dkv__holder_do_hello(dkv__holder_t *h, dkv__op_t *op);
/* The endpoint to reply to @p rank on, NULL if it has none or failed. */
ucp_ep_h dkv__holder_client_ep(dkv__holder_t *h, uint32_t rank);
void dkv__holder_clients_free(dkv__holder_t *h);
/* The op's work is over: drop its pin (or its unpublished reservation)
 * and return it to the pool. */
void dkv__holder_finish_op(dkv__holder_t *h, dkv__op_t *op);
/* Check, publish a put's entry (dropping it if corrupt); the ack status. */
dkv_status_t dkv__holder_publish(dkv__holder_t *h, dkv__op_t *op,
                                 dkv__store_entry_t *e);

/* Node-local bulk path (holder_local.c). */
void dkv__holder_local_grant(dkv__holder_t *h, dkv__op_t *op,
                             dkv__store_entry_t *e);
int dkv__holder_local_lend(dkv__holder_t *h, dkv__op_t *op,
                           dkv__store_entry_t *e);
void dkv__holder_park(dkv__holder_t *h, dkv__op_t *op);
void dkv__holder_do_commit(dkv__holder_t *h, dkv__op_t *op);
void dkv__holder_do_release(dkv__holder_t *h, dkv__op_t *op);
/* Finish the parked ops of client @p rank (lost or reconnected). */
unsigned dkv__holder_unpark(dkv__holder_t *h, int rank);
/* At stop: end every parked op, but keep the memory of those whose client
 * is alive allocated for good (it may still copy into or out of it). */
void dkv__holder_local_stop(dkv__holder_t *h);
/* Handle every op on the ready list; returns how many. */
unsigned dkv__holder_process(dkv__holder_t *h);
/* Keep the op pool above its low-water mark (owner thread, not callbacks). */
int dkv__holder_refill(dkv__holder_t *h);
void dkv__holder_free_ops(dkv__holder_t *h);

/* Reply to @p op with @p value (@p len bytes, sent from that memory, which
 * must stay valid until the op finishes); the op then returns to the pool. */
void dkv__holder_send_reply(dkv__holder_t *h, dkv__op_t *op, uint8_t kind,
                            dkv_status_t status, const void *value,
                            size_t len);

/* Generations, conditions and ranges (holder_cond.c). */
typedef enum {
    DKV__COND_APPLY,    /* publish, stamped */
    DKV__COND_CONFLICT, /* condition failed: drop, answer CONFLICT */
    DKV__COND_STALE     /* a replica's copy older than the key's value:
                           drop, answer OK (it was overtaken) */
} dkv__cond_verdict_t;
/* At a put's publish point: check its condition, stamp @p e with its
 * generation. Sets op->generation. */
dkv__cond_verdict_t dkv__holder_cond_stamp(dkv__holder_t *h, dkv__op_t *op,
                                           dkv__store_entry_t *e);
/* Before reserving room: 1 if @p op is conditional and its condition
 * fails already; it has then been answered with CONFLICT via @p ack. */
int dkv__holder_cond_refuse(dkv__holder_t *h, dkv__op_t *op, uint8_t ack);
/* A delete: apply its condition or follow rule; the ack status. */
dkv_status_t dkv__holder_cond_delete(dkv__holder_t *h, dkv__op_t *op);
/* A get of @p e: the range to send (op->range_*), op->generation. */
void dkv__holder_cond_range(dkv__op_t *op, const dkv__store_entry_t *e);
/* 1 if puts of @p op's kind may be dropped for a later write of the key
 * (plain puts; conditional and replica ones decide at publish). */
int dkv__holder_cond_supersedable(const dkv__op_t *op);

/* Staging requests (holder_stage.c). */
void dkv__holder_do_list(dkv__holder_t *h, dkv__op_t *op);
void dkv__holder_do_drain(dkv__holder_t *h, dkv__op_t *op);
void dkv__holder_do_drain_query(dkv__holder_t *h, dkv__op_t *op);
/* Collect a finished drain thread (cheap when there is none). */
void dkv__holder_drain_reap(dkv__holder_t *h);
/* At stop: cancel a running drain and collect it. */
void dkv__holder_drain_stop(dkv__holder_t *h);
/* This holder's drain info now (the answer to a DRAIN or QUERY). */
void dkv__holder_drain_info(dkv__holder_t *h, dkv_status_t status,
                            dkv__drain_info_t *info);

/* Commits (holder_commit.c). */
dkv_status_t dkv__holder_commit_init(dkv__holder_t *h, const void *const *addr,
                                     const size_t *addr_len);
/* A drain starts here: forget reports of other drains. */
void dkv__holder_commit_begin(dkv__holder_t *h, uint64_t id, const char *dir,
                              uint32_t nfiles);
/* This holder's file is finished: report it to the committer. */
void dkv__holder_commit_report(dkv__holder_t *h);
/* A DRAIN_DONE from another holder. */
void dkv__holder_do_drain_done(dkv__holder_t *h, dkv__op_t *op);
/* Collect a finished commit thread; 1 if one was collected. */
int dkv__holder_commit_reap(dkv__holder_t *h);
/* Fill the committed fields of @p info for drain @p id. */
void dkv__holder_commit_fill(const dkv__holder_t *h, uint64_t id,
                             dkv__drain_info_t *info);
/* At stop: wait for a commit being written, close endpoints, free. */
void dkv__holder_commit_stop(dkv__holder_t *h);

#endif
