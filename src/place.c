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

static int is_dead(const int *rank, const uint8_t *dead, int idx)
{
    return (dead != NULL) && dead[(rank != NULL) ? rank[idx] : idx];
}

/*
 * Add holders to @p out (n so far) until it has @p want: walking from
 * @p first, holders on nodes not yet in @p out before the others, never a
 * dead one or one already in @p out or @p skip.
 */
static int fill(uint64_t first, int nholders, const int *node, const int *rank,
                const uint8_t *dead, const int *skip, int nskip, int want,
                int *out, int n)
{
    int pass, i, idx;

    for (pass = 0; (pass < 2) && (n < want); pass++) {
        for (i = 0; (i < nholders) && (n < want); i++) {
            idx = (int)((first + (uint64_t)i) % (uint64_t)nholders);
            if (is_dead(rank, dead, idx) || in_list(out, n, idx) ||
                in_list(skip, nskip, idx) ||
                ((pass == 0) && node_taken(node, out, n, idx))) {
                continue;
            }
            out[n++] = idx;
        }
    }
    return n;
}

/*
 * The key's original holders are computed with every holder alive; the
 * live ones among them come first, so the copies a writer placed while all
 * were alive are the first asked once some die. Free places go to live
 * holders on nodes the live copies do not use yet, then to any live one.
 */
int dkv__place_replicas(uint64_t hash, int nholders, const int *node,
                        const int *rank, const uint8_t *dead, int want,
                        int *out)
{
    int orig[DKV__PLACE_MAX_REPLICAS];
    int first, norig, n = 0, i;

    if (nholders < 1) {
        return 0;
    }
    want  = (want > DKV__PLACE_MAX_REPLICAS) ? DKV__PLACE_MAX_REPLICAS : want;
    first = dkv__place_jump(hash, nholders);
    norig = fill((uint64_t)first, nholders, node, NULL, NULL, NULL, 0, want,
                 orig, 0);
    for (i = 0; i < norig; i++) {
        if (!is_dead(rank, dead, orig[i])) {
            out[n++] = orig[i];
        }
    }
    return fill((uint64_t)first, nholders, node, rank, dead, orig, norig,
                want, out, n);
}
