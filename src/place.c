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

/* Most holders remembered while walking (dead ones included). */
#define DKV__PLACE_WALK_MAX 256

static int in_list(const int *list, int n, int idx)
{
    int i;

    for (i = 0; i < n; i++) {
        if (list[i] == idx) {
            return 1;
        }
    }
    return 0;
}

static int node_taken(const int *node, const int *list, int n, int idx)
{
    int i;

    if (node == NULL) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (node[list[i]] == node[idx]) {
            return 1;
        }
    }
    return 0;
}

/*
 * The order is computed over every holder, dead or not, and the dead are
 * left out of the answer afterwards: so the copies a writer placed while
 * all were alive are, once a holder dies, the first ones asked.
 */
int dkv__place_replicas(uint64_t hash, int nholders, const int *node,
                        const int *rank, const uint8_t *dead, int want,
                        int *out)
{
    int walked[DKV__PLACE_WALK_MAX];
    int first = dkv__place_jump(hash, nholders);
    int n = 0, nw = 0, pass, i, idx;

    /* Pass 0 takes holders on nodes not yet walked, pass 1 the rest. */
    for (pass = 0; (pass < 2) && (n < want); pass++) {
        for (i = 0; (i < nholders) && (n < want); i++) {
            idx = (first + i) % nholders;
            if (in_list(walked, nw, idx) ||
                ((pass == 0) && node_taken(node, walked, nw, idx))) {
                continue;
            }
            if (nw < DKV__PLACE_WALK_MAX) {
                walked[nw++] = idx;
            } else if (in_list(out, n, idx)) {
                continue; /* very many dead holders: out is the memory */
            }
            if ((dead == NULL) || !dead[(rank != NULL) ? rank[idx] : idx]) {
                out[n++] = idx;
            }
        }
    }
    return n;
}
