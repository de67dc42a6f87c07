/*
 * store: a holder's DRAM table of key -> value. Pure (no UCX, no PMIx).
 *
 * Owner: the holder thread; nothing else touches a store, so it has no lock.
 *
 * An entry is one allocation: header, key + NUL, value. A write first
 * reserves an entry (charged against the limit, not yet visible), fills its
 * value (possibly by a zero-copy receive straight into it), then publishes
 * it, replacing any previous entry of the key in one step. Readers pin an
 * entry while its bytes are being sent; a replaced or removed entry is freed
 * when its last pin goes, so bytes in flight are never freed.
 *
 * Generations: every published value carries one, taken from a counter of
 * the store that only grows, so a key's generations increase and are never
 * reused, also across a delete (0 means absent).
 *
 * Memory: 56 bytes of header per entry, the value 8-byte aligned after the
 * key, and the bucket array grown at two entries per bucket; about 66
 * bytes per key beyond key and value, malloc's own included.
 *
 * Time: every operation is O(1) on average, none proportional to the
 * store. The bucket array grows by incremental rehash (a few buckets move
 * per operation, as Redis's dict does), and entries outside the table sit
 * on a doubly linked list, so unpinning or publishing one is O(1).
 *
 * Accounting: an entry charges key_len + value_len bytes from reserve until
 * it is freed. A reserve that would exceed the limit fails with
 * DKV_ERR_NO_SPACE and changes nothing.
 */
#ifndef DKV_STORE_H
#define DKV_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

typedef struct dkv__store_entry {
    struct dkv__store_entry *next;      /* hash chain, or unpublished list */
    struct dkv__store_entry *prev;      /* unpublished list only */
    size_t                   value_len;
    uint64_t                 generation; /* 0 until published */
    uint32_t                 hash;      /* low 32 bits of the key's hash */
    uint32_t                 pins;      /* in-flight readers */
    uint32_t                 crc;       /* value's CRC32C if has_crc */
    uint16_t                 key_len;
    uint8_t                  published; /* 1 while in the table */
    uint8_t                  has_crc;
    uint8_t                  followed;  /* generation chosen elsewhere
                                           (dkv__store_stamp_exact) */
    char                     key[];     /* key_len + 1 bytes, then value */
} dkv__store_entry_t;

typedef struct dkv__store {
    dkv__store_entry_t **buckets;
    size_t               nbuckets; /* power of two */
    /* While growing: the previous bucket array, whose buckets below
     * rehash_pos have been moved to buckets[]. A key lives in the old
     * array if its old bucket is not yet moved, else in the new one. */
    dkv__store_entry_t **old_buckets;
    size_t               old_nbuckets; /* 0: not growing */
    size_t               rehash_pos;
    size_t               count;    /* published entries */
    size_t               used;     /* bytes charged (all live entries) */
    size_t               limit;    /* 0: no limit */
    uint64_t             generation; /* the largest handed out so far */
    /* Live entries outside the table (reserved, or replaced/removed but
     * pinned), doubly linked by next/prev, so that cleanup can free them
     * too and any one leaves in O(1). */
    dkv__store_entry_t  *unpublished;
    /* One freed large block kept for the next large value of about its
     * size (checkpoints overwrite the same keys with the same sizes): its
     * pages are already mapped, so the next zero-copy receive into it
     * takes no page faults. Not charged against the limit. */
    void                *spare;
    size_t               spare_bytes;
} dkv__store_t;

dkv_status_t dkv__store_init(dkv__store_t *s, size_t limit);
/* Frees every entry, pinned or not. */
void dkv__store_cleanup(dkv__store_t *s);

/*
 * Reserve an unpublished entry for @p key (@p key_len bytes, no NUL needed
 * in the input) with room for @p value_len bytes.
 * @return DKV_OK, DKV_ERR_NO_SPACE (limit), DKV_ERR_NO_MEMORY (malloc).
 */
dkv_status_t dkv__store_reserve(dkv__store_t *s, const char *key,
                                size_t key_len, uint64_t hash,
                                size_t value_len, dkv__store_entry_t **entry_p);

/* The value bytes of @p e (16-byte aligned; valid for value_len bytes). */
void *dkv__store_value(dkv__store_entry_t *e);

/* Make @p e (reserved) visible, replacing the key's current entry; an
 * entry not stamped yet gets the next generation. */
void dkv__store_publish(dkv__store_t *s, dkv__store_entry_t *e);

/*
 * Take @p e out of the store for good without freeing it: another process
 * may still copy into or out of its memory (node-local bulk path), so it
 * stays allocated until this process exits. Idempotent; cleanup then
 * leaves it alone.
 */
void dkv__store_forget(dkv__store_t *s, dkv__store_entry_t *e);

/*
 * Stamp @p e (reserved) with the store's next generation, at least
 * @p at_least; returns it. The counter moves past it.
 */
uint64_t dkv__store_stamp(dkv__store_t *s, dkv__store_entry_t *e,
                          uint64_t at_least);

/* Stamp @p e with exactly @p generation (chosen elsewhere: a replica
 * follows its first copy) and mark it followed; the counter moves past
 * it. */
void dkv__store_stamp_exact(dkv__store_t *s, dkv__store_entry_t *e,
                            uint64_t generation);

/* Give back an unpublished reservation. */
void dkv__store_abort(dkv__store_t *s, dkv__store_entry_t *e);

/* The published entry of @p key, or NULL. */
dkv__store_entry_t *dkv__store_lookup(dkv__store_t *s, const char *key,
                                      size_t key_len, uint64_t hash);

/* Unpublish the key's entry. DKV_OK or DKV_ERR_NOT_FOUND. */
dkv_status_t dkv__store_remove(dkv__store_t *s, const char *key,
                               size_t key_len, uint64_t hash);

/*
 * Visit the published entries: start with *@p bucket = 0 and @p prev =
 * NULL, pass the last answer back as @p prev; NULL at the end. The table
 * must not change during a walk (no reserve, publish, lookup or remove:
 * each may move entries between bucket arrays).
 */
dkv__store_entry_t *dkv__store_next(const dkv__store_t *s, size_t *bucket,
                                    dkv__store_entry_t *prev);

/* Pin / unpin a published or unpublished entry; an unpublished entry is
 * freed when its last pin goes. */
void dkv__store_pin(dkv__store_entry_t *e);
void dkv__store_unpin(dkv__store_t *s, dkv__store_entry_t *e);

/* Entries held outside the table's say: pinned ones, and unpublished ones
 * (reserved, or kept by a pin). A holder with no request in flight and no
 * drain has none; more means a leaked pin or reservation. O(entries). */
size_t dkv__store_held(const dkv__store_t *s);

/* Move up to @p nbuckets buckets of an unfinished grow; returns 1 while
 * more remain. Operations do this by themselves; an idle holder may call
 * it to finish early. */
int dkv__store_rehash_step(dkv__store_t *s, size_t nbuckets);

#endif
