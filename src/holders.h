/*
 * holders: which ranks hold data, from a spec string (DKV_HOLDERS).
 * Pure: every rank computes the same sorted list from the same inputs.
 *
 * Specs:
 *   node       local rank 0 of each node (default)
 *   all        every rank
 *   last:K     the K highest ranks (1 <= K <= size)
 *   every:N    ranks with rank % N == 0 (N >= 1)
 *   ranks:LIST comma-separated ranks and inclusive ranges, e.g. 1,3,8-11;
 *              every rank must be < size; duplicates are merged
 */
#ifndef DKV_HOLDERS_H
#define DKV_HOLDERS_H

#include <stddef.h>

#include "dramkv.h"

/*
 * Compute the holder list.
 * @param spec        Borrowed spec text.
 * @param size        Ranks in the job (>= 1).
 * @param local_rank  Borrowed array [size]: each rank's local rank on its
 *                    node (only read for "node"; may be NULL otherwise).
 * @param ranks_p     Returned: malloc'd ascending array of holder ranks
 *                    (caller frees); written only on success.
 * @param count_p     Number of holders (>= 1) on success.
 * @param err, errlen On DKV_ERR_INVALID, a message naming the bad part
 *                    of the spec (e.g. "DKV_HOLDERS: bad rank 'x' in ...").
 * @return DKV_OK, DKV_ERR_INVALID, DKV_ERR_NO_MEMORY.
 */
dkv_status_t dkv__holders_compute(const char *spec, int size,
                                  const int *local_rank, int **ranks_p,
                                  int *count_p, char *err, size_t errlen);

#endif
