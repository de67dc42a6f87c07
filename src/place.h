/*
 * place: key -> holder. Pure, identical on every rank.
 * Hash: XXH3 64-bit of the key bytes (seed 0). Placement: jump consistent
 * hashing (Lamping & Veach) over the holder list's indices, so adding a
 * holder moves only about 1/n of the keys.
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

#endif
