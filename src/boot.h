/*
 * boot: who am I, how big is the job, where does every rank live, and the
 * address exchange. One launcher = one file behind this interface
 * (boot_pmix.c). Owned by the thread that calls dkv_init.
 */
#ifndef DKV_BOOT_H
#define DKV_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

typedef struct dkv__boot dkv__boot_t;

/* Start PMIx and read rank and size. DKV_ERR_BOOTSTRAP if not launched by a
 * PMIx launcher (mpirun, srun --mpi=pmix, prterun). */
dkv_status_t dkv__boot_start(dkv__boot_t **boot_p, int *rank_p, int *size_p);
void dkv__boot_stop(dkv__boot_t *boot);

/* Each rank's local rank on its node (its position in ascending order among
 * the node's ranks); returned array of size (caller frees). */
dkv_status_t dkv__boot_local_ranks(dkv__boot_t *boot, int **local_p);

/* Node of every rank into @p node[size]: the lowest rank on the same node,
 * so ranks on one node share a number. */
dkv_status_t dkv__boot_node_ids(dkv__boot_t *boot, int *node);

/* Ranks on this node (PMIX_LOCAL_PEERS); returned array (caller frees). */
dkv_status_t dkv__boot_local_peers(dkv__boot_t *boot, int **peers_p,
                                   int *n_p);

/* Publish @p len bytes under @p key for every rank (visible after fence). */
dkv_status_t dkv__boot_put(dkv__boot_t *boot, const char *key,
                           const void *buf, size_t len);
dkv_status_t dkv__boot_commit(dkv__boot_t *boot);

/*
 * Start a fence over all ranks (collecting published data if @p collect).
 * Completion is reported through dkv__boot_fence_test(); @p wake_fd is
 * readable when the fence completes, for sleeping beside a UCX worker.
 */
dkv_status_t dkv__boot_fence_start(dkv__boot_t *boot, int collect);
/* 1 when the started fence completed (*status_p set), 0 while running. */
int dkv__boot_fence_test(dkv__boot_t *boot, dkv_status_t *status_p);
int dkv__boot_wake_fd(const dkv__boot_t *boot);

/* Bytes @p rank published under @p key; returned buffer (caller frees). */
dkv_status_t dkv__boot_get(dkv__boot_t *boot, int rank, const char *key,
                           void **buf_p, size_t *len_p);

#endif
