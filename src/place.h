/*
 * place: key -> holder. Pure, identical on every rank.
 * Hash: XXH3 64-bit of the key bytes (seed 0). Placement: jump consistent
 * hashing (Lamping & Veach) over the holder list's indices, so adding a
 * holder moves only about 1/n of the keys.
 * Replicas: a key's copies go to its jump-hash holder and the holders after
 * it in list order, those on nodes not yet used first, skipping holders
 * known dead.
 */
#ifndef DKV_PLACE_H
#define DKV_PLACE_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of @p len bytes of @p key. */
uint64_t dkv__place_hash(const char *key, size_t len);

/* Jump consistent hash: bucket in [0, nbuckets) for @p hash; nbuckets >= 1. */
int dkv__place_jump(uint64_t hash, int nbuckets);

/* Index into the holder list (0..nholders-1) of the key with @p hash. */
static inline int dkv__place_holder(uint64_t hash, int nholders)
{
    return dkv__place_jump(hash, nholders);
}

/* Most copies of a key (DKV_REPLICAS). */
#define DKV__PLACE_MAX_REPLICAS 8

/*
 * The holders (indices into the holder list) that keep the key with
 * @p hash, in the order they are asked. With every holder alive: the
 * jump-hash holder first, then walking the list onward from it (wrapping),
 * holders on nodes not yet in the answer before those on nodes already in
 * it (the key's originals). With some dead: the live originals first, in
 * that order, then live stand-ins, again on unused nodes first.
 *
 * @param node   Borrowed [nholders]: node number of each holder; NULL
 *               means every holder is on a node of its own.
 * @param rank   Borrowed [nholders] or NULL: index into @p dead of each
 *               holder (its rank); NULL: the holder index itself.
 * @param dead   Borrowed or NULL: non-zero marks a dead holder.
 * @param want   Copies wanted, 1..DKV__PLACE_MAX_REPLICAS.
 * @param out    Room for @p want indices.
 * @return how many were written: @p want, or fewer when fewer holders are
 *         alive.
 */
int dkv__place_replicas(uint64_t hash, int nholders, const int *node,
                        const int *rank, const uint8_t *dead, int want,
                        int *out);

#endif
