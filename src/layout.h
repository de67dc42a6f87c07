/*
 * layout: which node every rank of the job runs on, and its local rank
 * there. Pure: built from what the launcher reports (each node's rank
 * list, or each rank's host name), identical on every rank.
 *
 * Node number of a rank: the lowest rank on the same node, so ranks on one
 * node share a number and numbers do not depend on the order in which the
 * launcher lists the nodes. Local rank: the rank's position in ascending
 * order among the ranks of its node (what mpirun and srun assign).
 */
#ifndef DKV_LAYOUT_H
#define DKV_LAYOUT_H

#include <stddef.h>

#include "dramkv.h"

/* One node as the launcher reports it. */
typedef struct dkv__layout_node {
    const char *name;  /* borrowed; only quoted in errors, may be NULL */
    const char *peers; /* borrowed; its ranks, comma-separated decimal
                          numbers in any order ("0,4,8"); "" for none */
} dkv__layout_node_t;

/* Returned by the builders below; released with dkv__layout_destroy(). */
typedef struct dkv__layout {
    int size;   /* ranks in the job */
    int nnodes; /* nodes hosting at least one rank */
    int *node;  /* [size] lowest rank on the rank's node */
    int *local; /* [size] position among its node's ranks, from 0 */
} dkv__layout_t;

/*
 * Layout from every node's rank list. O(size + nnodes + text length).
 * @param size        Ranks in the job (>= 1).
 * @param nodes       Borrowed [nnodes]; every rank 0..size-1 must be on
 *                    exactly one of them.
 * @param nnodes      Number of nodes (>= 1).
 * @param layout_p    Returned (dkv__layout_destroy); written on success only.
 * @param err, errlen On failure, a message naming the bad part (a rank on
 *                    two nodes, a rank on none, a rank out of range, text
 *                    that is not a list of ranks). May be NULL / 0.
 * @return DKV_OK; DKV_ERR_BOOTSTRAP if the lists are inconsistent or
 *         malformed; DKV_ERR_INVALID for a bad argument (size < 1,
 *         nnodes < 1, NULL pointer); DKV_ERR_NO_MEMORY.
 */
DKV_NODISCARD dkv_status_t
dkv__layout_from_peers(int size, const dkv__layout_node_t *nodes, int nnodes,
                       dkv__layout_t **layout_p, char *err, size_t errlen);

/*
 * Layout from every rank's host name: ranks with equal names share a node.
 * O(size log size) string comparisons.
 * @param size        Ranks in the job (>= 1).
 * @param host        Borrowed [size] non-NULL host names.
 * @param layout_p    Returned (dkv__layout_destroy); written on success only.
 * @param err, errlen As for dkv__layout_from_peers().
 * @return DKV_OK; DKV_ERR_INVALID (size < 1 or a NULL pointer);
 *         DKV_ERR_NO_MEMORY.
 */
DKV_NODISCARD dkv_status_t dkv__layout_from_hosts(int size,
                                                  const char *const *host,
                                                  dkv__layout_t **layout_p,
                                                  char *err, size_t errlen);

/* Release a layout; NULL does nothing. */
void dkv__layout_destroy(dkv__layout_t *layout);

#endif
