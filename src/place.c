/*
 * place: which holder owns a key. The key bytes are hashed with XXH3
 * (64-bit, seed 0), and the hash is mapped onto the holder list by jump
 * consistent hashing (Lamping & Veach, "A Fast, Minimal Memory, Consistent
 * Hash Algorithm", 2014): growing the list from n to n + 1 holders moves
 * about 1/(n + 1) of the keys, all of them to the new holder. Pure and
 * deterministic, so every rank computes the same placement without talking.
 */
#include "place.h"

#include <xxhash.h>

uint64_t dkv__place_hash(const char *key, size_t len)
{
    return (uint64_t)XXH3_64bits(key, len);
}

int dkv__place_jump(uint64_t hash, int nbuckets)
{
    int64_t bucket = -1;
    int64_t next   = 0;

    /* Not a valid call; 0 keeps the result inside any non-empty list. */
    if (nbuckets < 1) {
        return 0;
    }
    while (next < nbuckets) {
        bucket = next;
        hash   = hash * 2862933555777941757ull + 1;
        next   = (int64_t)((double)(bucket + 1) *
                         ((double)(1ll << 31) / (double)((hash >> 33) + 1)));
    }
    return (int)bucket;
}
