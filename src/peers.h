/*
 * peers: UCX endpoints from this rank's client worker to other ranks, the
 * worker addresses they are made from, and who is known dead. Two kinds of
 * endpoint: to a holder's server worker (requests) and to a rank's client
 * worker (barrier, bye). Owner: the client worker's thread.
 *
 * Addresses: dkv_init reads from PMIx only the addresses this rank will
 * need (every holder's server worker, the client workers of a few barrier
 * partners and of dedicated holders, the pids of this node's ranks) and
 * then ends its PMIx use, so a dead rank cannot take the job step down
 * through PMIx. Any other rank's address arrives over UCX: the first
 * message on every endpoint dramkv creates is a HELLO carrying the
 * creator's client worker address, and the receiver connects back to it
 * (UCX pairs the two endpoints into one connection).
 *
 * Liveness: every endpoint, on the node too, uses UCX peer error handling;
 * its error callback only records the peer as dead. A peer on this node is
 * also checked by its pid while a request waits on it.
 */
#ifndef DKV_PEERS_H
#define DKV_PEERS_H

#include <ucp/api/ucp.h>

#include "dramkv.h"
#include "ucx_worker.h"
#include "wire.h"

#define DKV__PMIX_KEY_CLIENT "dkv.caddr"
#define DKV__PMIX_KEY_SERVER "dkv.saddr"
#define DKV__PMIX_KEY_SECRET "dkv.secret"
#define DKV__PMIX_KEY_PID    "dkv.pid"

typedef enum {
    DKV__PEER_SERVER = 0,
    DKV__PEER_CLIENT = 1
} dkv__peer_kind_t;

typedef struct dkv__peer_addr {
    void  *bytes; /* malloc'd worker address, NULL if unknown */
    size_t len;
} dkv__peer_addr_t;

typedef struct dkv__peers {
    dkv__worker_t    *worker; /* the client worker */
    int               rank;
    int               size;
    ucp_ep_h         *eps[2];  /* [kind][rank], NULL until first contact */
    dkv__peer_addr_t *addr[2]; /* [kind][rank] */
    uint8_t          *local;   /* [rank] on this node */
    uint8_t          *dead;    /* [rank] known dead (set by UCX error cb) */
    int32_t          *pid;     /* [rank] pid of a local peer, 0 = unknown */
    uint64_t         *next_check; /* [rank] earliest next look at its pid */
    /* HELLOs received, kept by the AM handler until the owner connects
     * back (at most one per rank at a time). */
    struct dkv__peer_hello {
        int    rank;
        void  *data; /* UCX's, released after use */
        size_t len;
    }                *hellos;
    uint8_t          *hello_pending; /* [rank] */
    int               nhello;
    uint64_t          hellos_dropped;
    /* The HELLO this rank sends: header and its client worker address;
     * both stay valid as long as the peers table. */
    dkv__wire_hdr_t   hello_hdr;
    void             *my_addr;
    size_t            my_addr_len;
    uint64_t          secret;
} dkv__peers_t;

/* @p local_ranks: the ranks on this node (borrowed). */
dkv_status_t dkv__peers_init(dkv__peers_t *p, dkv__worker_t *worker,
                             int rank, int size, const int *local_ranks,
                             int nlocal);

/* Take @p bytes (malloc'd, @p len) as @p rank's address of @p kind. */
void dkv__peers_set_addr(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                         void *bytes, size_t len);

/* The job secret, known after init's exchange: HELLOs carry it. */
void dkv__peers_set_secret(dkv__peers_t *p, uint64_t secret);

/* 1 if @p rank is known dead or, on this node, its process is gone. */
int dkv__peers_dead(dkv__peers_t *p, int rank);

/* The endpoint to @p rank's worker of @p kind, created on first use. */
dkv_status_t dkv__peers_ep(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                           ucp_ep_h *ep_p);

/*
 * Forget the endpoint to @p rank's worker of @p kind, closing it with
 * force: UCX ends every operation on it (UCS_ERR_CANCELED to callbacks)
 * and touches none of their buffers afterwards. The next dkv__peers_ep()
 * connects anew.
 */
void dkv__peers_reset(dkv__peers_t *p, dkv__peer_kind_t kind, int rank);

/* AM handler of DKV__MSG_HELLO on the client worker (records only). */
ucs_status_t dkv__peers_on_hello(void *arg, const void *header,
                                 size_t header_length, void *data,
                                 size_t length,
                                 const ucp_am_recv_param_t *param);

/* Connect back to the ranks whose HELLO arrived; returns how many. */
unsigned dkv__peers_progress(dkv__peers_t *p);

/* Flush and close every endpoint, progressing until @p deadline at most;
 * then free the table. */
void dkv__peers_close(dkv__peers_t *p, uint64_t deadline);

#endif
