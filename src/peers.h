/*
 * peers: UCX endpoints from this rank's client worker to other ranks,
 * created lazily on first contact from the peer's address in PMIx, and
 * cached. Two kinds: to a holder's server worker (requests) and to a rank's
 * client worker (barrier, bye). Owner: the client worker's thread.
 *
 * Liveness: endpoints to other nodes use UCX peer error handling (their
 * transport is TCP or RDMA anyway), and the error callback only records the
 * peer as dead. Endpoints inside a node keep UCX's fast shared-memory path
 * (peer error handling would move them to TCP loopback), so a peer on this
 * node is checked by its pid instead: gone or a zombie means dead.
 */
#ifndef DKV_PEERS_H
#define DKV_PEERS_H

#include <ucp/api/ucp.h>

#include "boot.h"
#include "dramkv.h"
#include "ucx_worker.h"

#define DKV__PMIX_KEY_CLIENT "dkv.caddr"
#define DKV__PMIX_KEY_SERVER "dkv.saddr"
#define DKV__PMIX_KEY_SECRET "dkv.secret"
#define DKV__PMIX_KEY_PID    "dkv.pid"

typedef enum {
    DKV__PEER_SERVER = 0,
    DKV__PEER_CLIENT = 1
} dkv__peer_kind_t;

typedef struct dkv__peers {
    dkv__boot_t   *boot;
    dkv__worker_t *worker; /* the client worker */
    int            size;
    ucp_ep_h      *eps[2]; /* [kind][rank], NULL until first contact */
    uint8_t       *local;  /* [rank] on this node */
    uint8_t       *dead;   /* [rank] known dead (set by UCX error cb too) */
    int32_t       *pid;    /* [rank] pid of a local peer, 0 = not read */
    uint64_t      *next_check; /* [rank] earliest next look at its pid */
} dkv__peers_t;

/* @p local_ranks: the ranks on this node (borrowed). */
dkv_status_t dkv__peers_init(dkv__peers_t *p, dkv__boot_t *boot,
                             dkv__worker_t *worker, int size,
                             const int *local_ranks, int nlocal);

/* 1 if @p rank is known dead or, on this node, its process is gone. */
int dkv__peers_dead(dkv__peers_t *p, int rank);

/* The endpoint to @p rank's worker of @p kind, created on first use. */
dkv_status_t dkv__peers_ep(dkv__peers_t *p, dkv__peer_kind_t kind, int rank,
                           ucp_ep_h *ep_p);

/* Flush and close every endpoint, progressing until @p deadline at most;
 * then free the cache. */
void dkv__peers_close(dkv__peers_t *p, uint64_t deadline);

#endif
