/*
 * client: this rank's side of every operation - requests, the client
 * worker, waiting, quiet and the list of failed writes.
 *
 * Owner: the thread that called dkv_init (the API is funneled). UCX callbacks
 * on the client worker run inside that thread's progress calls and only
 * record into requests and push them onto the ready list.
 */
#ifndef DKV_CLIENT_H
#define DKV_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "barrier.h"
#include "list.h"
#include "peers.h"
#include "ucx_worker.h"
#include "wire.h"

typedef struct dkv__failure {
    char        *key;
    dkv_status_t status;
} dkv__failure_t;

typedef struct dkv__client dkv__client_t;

/* A request's header extension (issue 14), and whether it is
 * conditional (DKV__WIRE_FLAG_COND). */
typedef struct dkv__client_ext {
    dkv__wire_ext_t wire;
    int             cond;
} dkv__client_ext_t;

/* Request flags. */
enum {
    DKV__REQ_SEND_DONE  = DKV_BIT(0), /* local completion of the send     */
    DKV__REQ_REPLY_DONE = DKV_BIT(1), /* reply/ack recorded               */
    DKV__REQ_QUEUED     = DKV_BIT(2), /* on the ready list                */
    DKV__REQ_COMPLETE   = DKV_BIT(3), /* final status known               */
    DKV__REQ_USER       = DKV_BIT(4), /* owned by the user (nb)           */
    DKV__REQ_WAITED     = DKV_BIT(5), /* a blocking call is waiting on it */
    DKV__REQ_ABANDONED  = DKV_BIT(6), /* timed out: free when it finishes */
    DKV__REQ_DATA_RNDV  = DKV_BIT(7), /* data is a rendezvous descriptor  */
    DKV__REQ_RECVING    = DKV_BIT(8), /* rendezvous receive in progress   */
    DKV__REQ_WRITE      = DKV_BIT(9), /* counted as outstanding write     */
    DKV__REQ_VCRC       = DKV_BIT(10),/* reply carried the value's CRC    */
    DKV__REQ_RECVED     = DKV_BIT(11),/* rendezvous receive has ended     */
    DKV__REQ_ORPHAN     = DKV_BIT(12),/* get: every first copy's holder is
                                         lost, so NOT_FOUND is PEER_LOST */
    DKV__REQ_LOCAL      = DKV_BIT(13),/* sent for the node-local path     */
    DKV__REQ_GRANTED    = DKV_BIT(14),/* put: the holder reserved room    */
    DKV__REQ_LENT       = DKV_BIT(15),/* get: the reply lent an address   */
    DKV__REQ_DECIDED    = DKV_BIT(16) /* its call returns its status
                                         (conditional writes): not a
                                         failure for dkv_quiet         */
};

#define DKV__REQ_MAGIC 0x646b7672u

/* One operation. Lives in the client's pool; its id is gen << 32 | index. */
struct dkv_request {
    dkv__list_t    link;   /* free list or ready list */
    dkv__list_t    wlink;  /* outstanding writes, in issue order */
    dkv__client_t *client;
    uint32_t       magic;
    uint32_t       index;
    uint32_t       gen;
    uint32_t       flags;
    uint8_t        kind;   /* DKV__MSG_PUT, _GET or _DELETE */
    int32_t        status;
    int            holder; /* rank of the holder asked */
    struct dkv_request *sibling; /* next copy of a replicated user put */
    uint64_t       start_ns;
    void          *send_req;
    void          *recv_req;
    /* get */
    void          *buf;
    size_t         buf_size;
    size_t        *size_p;
    void         **alloc_p;
    size_t         value_len;
    void          *data;
    uint32_t       vcrc;   /* the value's CRC32C from the holder */
    const void    *src;    /* LOCAL put: the caller's value */
    uint64_t       local_addr; /* LOCAL: the value's address at the holder */
    dkv__wire_hdr_t ctl;   /* PUT_COMMIT / RELEASE header */
    uint64_t       aux;    /* header aux of the request (drain id) */
    /* issue 14: what the reply said (generation; a read's full size), and
     * where the waiter wants it, written when the request completes
     * unless it was given up on. */
    uint64_t       generation;
    uint64_t       full_size;
    uint64_t      *generation_p;
    size_t        *full_size_p;
    /* AM header: wire header + key + NUL (+ extension), valid until the
     * send completes */
    size_t         hdr_len;
    union {
        dkv__wire_hdr_t hdr;
        char bytes[sizeof(dkv__wire_hdr_t) + DKV_KEY_MAX + 1 +
                   sizeof(dkv__wire_ext_t)];
    } am;
};

struct dkv__client {
    dkv__worker_t        worker;
    dkv__peers_t         peers;
    dkv__barrier_t       barrier;
    int                  rank;
    uint64_t             secret;
    uint64_t             timeout_ns;
    uint64_t             spin_ns;      /* poll this long before sleeping */
    uint64_t             pure_spin_ns; /* ... the first part without
                                          sched_yield (0: oversubscribed) */
    size_t               rndv_thresh;
    int                  checksum;  /* send a CRC32C with every value */
    int                  node_copy; /* node-local bulk path allowed */
    const int           *holders;   /* borrowed from the context */
    int                  nholders;
    const int           *holder_node; /* borrowed; NULL when replicas = 1 */
    int                  replicas;
    /* request pool */
    struct dkv_request **chunks;
    uint32_t             nchunks;
    dkv__list_t          free_reqs;
    dkv__list_t          ready;     /* pushed by callbacks */
    dkv__list_t          writes;    /* outstanding writes, oldest first */
    dkv__list_t          gets;      /* gets in flight */
    uint64_t             sweeps;    /* liveness sweeps done while waiting */
    size_t               sends_queued; /* UCX sends not yet completed */
    size_t               outstanding;
    /* failures reported by the last quiet, and those since then */
    dkv__failure_t      *failures;
    size_t               nfailures;
    size_t               failures_cap;
    dkv__failure_t      *pending;
    size_t               npending;
    size_t               pending_cap;
    dkv_status_t         first_error; /* first failure since last quiet */
    uint64_t             rejected;  /* malformed or stale replies */
};

dkv_status_t dkv__client_open(dkv__client_t *c, ucp_context_h ucp);
void dkv__client_close(dkv__client_t *c);

/* Progress the worker once and finish what callbacks recorded. */
unsigned dkv__client_progress(dkv__client_t *c);

/*
 * Progress until @p done(@p arg) is true, sleeping after spin_ns without
 * activity (also waking on @p extra_fd if >= 0). DKV_OK or DKV_ERR_TIMEOUT.
 */
dkv_status_t dkv__client_wait(dkv__client_t *c, int (*done)(void *),
                              void *arg, int extra_fd, uint64_t deadline);

/* Start a put / delete / get; the request is returned through @p req_p. */
dkv_status_t dkv__client_put_start(dkv__client_t *c, const char *key,
                                   size_t key_len, const void *value,
                                   size_t size, int user,
                                   struct dkv_request **req_p);
dkv_status_t dkv__client_delete_start(dkv__client_t *c, const char *key,
                                      size_t key_len);
dkv_status_t dkv__client_get_start(dkv__client_t *c, const char *key,
                                   size_t key_len, void *buf, size_t buf_size,
                                   size_t *size_p, void **alloc_p, int user,
                                   struct dkv_request **req_p);

/* The holders of a key in the order asked, known-dead ones left out (with
 * one copy: its holder, dead or not); returns how many (<= 8). */
int dkv__client_targets(const dkv__client_t *c, const char *key,
                        size_t key_len, int *rank);

/* Start a put or delete (@p kind) of one copy at @p holder, with the
 * extension @p ext (NULL: none); counted as an outstanding write. */
dkv_status_t dkv__client_write_one(dkv__client_t *c, uint8_t kind,
                                   int holder, const char *key,
                                   size_t key_len, const void *value,
                                   size_t size, const dkv__client_ext_t *ext,
                                   struct dkv_request **req_p);
/* Start a get of @p key at @p holder into @p buf (@p buf_size bytes) with
 * the extension @p ext (NULL: none). */
dkv_status_t dkv__client_get_at(dkv__client_t *c, int holder,
                                const char *key, size_t key_len, void *buf,
                                size_t buf_size, size_t *size_p,
                                const dkv__client_ext_t *ext,
                                struct dkv_request **req_p);
/* The first holder a get of @p key asks that is not among @p tried (of
 * @p ntried), or -1; *@p orphan_p as for DKV__REQ_ORPHAN. */
int dkv__client_next_target(const dkv__client_t *c, const char *key,
                            size_t key_len, const int *tried, int ntried,
                            int *orphan_p);

/* Issue 14 (client_kv.c): a ranged read with failover to the next copy
 * (@p len 0 and @p buf NULL: only size and generation), and conditional
 * writes decided by the key's first copy and followed by the others. */
dkv_status_t dkv__client_read(dkv__client_t *c, const char *key,
                              size_t key_len, size_t offset, void *buf,
                              size_t len, size_t *copied_p,
                              size_t *value_size_p, uint64_t *generation_p);
dkv_status_t dkv__client_write_if(dkv__client_t *c, uint8_t kind,
                                  const char *key, size_t key_len,
                                  const void *value, size_t size,
                                  uint64_t if_generation,
                                  uint64_t *generation_p);

/* Blocking get; when a holder is lost, the key's next copy is asked.
 * @p lost: a holder already found lost for this key, or -1. */
dkv_status_t dkv__client_get(dkv__client_t *c, const char *key,
                             size_t key_len, void *buf, size_t buf_size,
                             size_t *size_p, void **alloc_p, int lost);

/*
 * Start a staging request (DKV__MSG_LIST, _DRAIN, _DRAIN_QUERY) to the
 * holder @p holder with @p payload (@p len bytes, held until the request is
 * finished) and header aux @p aux. Finish it with dkv__client_finish(); on
 * DKV_OK the reply's value is in *@p reply_p (malloc'd, caller frees;
 * 1-byte buffer for an empty value) and its length in *@p reply_len_p.
 */
dkv_status_t dkv__client_call_start(dkv__client_t *c, int holder,
                                    uint8_t kind, uint64_t aux,
                                    const void *payload, size_t len,
                                    void **reply_p, size_t *reply_len_p,
                                    struct dkv_request **req_p);

/* Wait (until @p deadline) for every request of @p head's chain to have
 * been sent, then let the chain go (copies are released when acked). The
 * first copy's abandonment status, or DKV_OK. */
dkv_status_t dkv__client_release_sent(dkv__client_t *c,
                                      struct dkv_request *head,
                                      uint64_t deadline);

/*
 * A staging request to several holders at once (dkv_list, the drain
 * calls): to each rank[i] >= 0 (of @p n) the request @p kind with @p aux
 * and the payload at @p payload + i * @p stride (@p len bytes; stride 0:
 * one payload for all), all in flight together, then each finished by one
 * shared deadline. Writes status[i], and reply[i] / reply_len[i] as
 * dkv__client_call_start (reply[i] is NULL unless status[i] is DKV_OK);
 * entries with rank[i] < 0 are left alone, except reply[i] = NULL.
 * Returns 1 if a request was given up on (timeout): UCX may still read its
 * payload, which the caller must then leave allocated.
 */
int dkv__client_call_all(dkv__client_t *c, int n, const int *rank,
                         uint8_t kind, uint64_t aux, const char *payload,
                         size_t stride, size_t len, void **reply,
                         size_t *reply_len, dkv_status_t *status);

/* Blocking put: returns when @p value may be reused. */
dkv_status_t dkv__client_put(dkv__client_t *c, const char *key,
                             size_t key_len, const void *value, size_t size);

/* Wait for a request (and the copies chained to it) to complete and
 * release it; returns its status (the first error of the copies). */
dkv_status_t dkv__client_finish(dkv__client_t *c, struct dkv_request *req);
/* The same with one deadline for the request and its copies: a call that
 * waits for several requests passes the same deadline to each. */
dkv_status_t dkv__client_finish_until(dkv__client_t *c,
                                      struct dkv_request *req,
                                      uint64_t deadline);

/* Wait for every outstanding write; the first error, failures listed. */
dkv_status_t dkv__client_quiet(dkv__client_t *c);
void dkv__client_clear_failures(dkv__client_t *c);

/* A request finished: take it off its list; a write stops counting as
 * outstanding and its failure, if any, is recorded. */
void dkv__client_untrack(dkv__client_t *c, struct dkv_request *req);

/*
 * A request that timed out while UCX still reads or writes the caller's
 * buffer for it: close the endpoint to its holder with force, so UCX
 * cancels the transfer, and wait (bounded) for UCX to let the buffer go.
 * Every other request in flight to that holder then ends too: writes as
 * DKV_ERR_UNKNOWN, reads as DKV_ERR_TIMEOUT.
 */
void dkv__client_cut(dkv__client_t *c, struct dkv_request *req);

/* Before closing the endpoint to @p holder: every request in flight to it
 * ends - writes as DKV_ERR_UNKNOWN, reads as DKV_ERR_TIMEOUT - and no
 * lent or granted address of it is used any more. */
void dkv__client_fail_holder(dkv__client_t *c, int holder);

/* Give up on a request (status TIMEOUT unless already set): it completes for
 * its waiter now and is freed when UCX is done with it. */
void dkv__client_abandon(dkv__client_t *c, struct dkv_request *req);

/* Request pool (client_reqs.c). */
struct dkv_request *dkv__req_alloc(dkv__client_t *c);
void dkv__req_release(dkv__client_t *c, struct dkv_request *req);
struct dkv_request *dkv__req_lookup(dkv__client_t *c, uint64_t id);
static inline uint64_t dkv__req_id(const struct dkv_request *req)
{
    return ((uint64_t)req->gen << 32) | req->index;
}
/* The request's key (NUL-terminated; "" for a staging request). */
static inline const char *dkv__req_key(const struct dkv_request *req)
{
    return req->am.bytes + sizeof(dkv__wire_hdr_t);
}

/* 1 unless @p req is a LOCAL put whose value is not yet copied: the
 * request's send completing then does not free the caller's buffer. */
static inline int dkv__client_value_sent(const struct dkv_request *req)
{
    return !((req->flags & DKV__REQ_LOCAL) && (req->kind == DKV__MSG_PUT));
}

/* Node-local bulk path (client_local.c). */
/* 1 if a request of @p kind with @p size bytes to @p holder goes LOCAL. */
int dkv__client_local_ok(const dkv__client_t *c, uint8_t kind, int holder,
                         size_t size);
/* A LOCAL put was granted room: copy the value there and commit (or drop
 * it if the request was given up on). Sets DKV__REQ_SEND_DONE. */
void dkv__client_local_put(dkv__client_t *c, struct dkv_request *req);
/* A LOCAL get reply lent an address: copy the value to @p dest (unless
 * the request was given up on) and release it at the holder. */
void dkv__client_local_get(dkv__client_t *c, struct dkv_request *req,
                           void *dest);

/* Reply handlers and completion (client_replies.c). */
int dkv__client_takes_data(uint8_t req_kind); /* its reply has a value */
dkv_status_t dkv__client_set_handlers(dkv__client_t *c);
void dkv__client_send_cb(void *request, ucs_status_t status, void *user_data);
void dkv__client_process(dkv__client_t *c, struct dkv_request *req);

#endif
