/*
 * store: a holder's key -> value table in DRAM.
 *
 * A chained hash table with a power-of-two bucket array (1024 to start,
 * doubled when entries outnumber buckets twice). Doubling is incremental:
 * the new array is mapped zeroed (fresh anonymous pages cost nothing until
 * touched; calloc would memset arrays below glibc's mmap threshold, which
 * grows to 32 MiB) and every later publish, remove and lookup moves the
 * next DKV__STORE_REHASH_STEP buckets of the old array into it; the old
 * array is unmapped a chunk at a time behind the rehash, since unmapping
 * 16 MiB at once took over a millisecond. No single operation is
 * proportional to the store (one 4M-key publish took 371 ms
 * with the one-step rehash). Each entry is one malloc: the 40-byte header, the key and its NUL, padding to 16 bytes, then the value,
 * so a value can be received straight into place and sent from there.
 *
 * Entries live in one of two places: the table (published) or the
 * store's doubly linked "unpublished" list (reserved and not yet published,
 * or replaced or removed while pinned), so that every live entry can be
 * reached by dkv__store_cleanup() and any one leaves it in O(1) (unpinning
 * a 100,000-entry drain snapshot used to walk the list once per entry).
 * An entry not on that list always has prev == NULL. An entry's charge (key_len + value_len) is taken at
 * reserve and given back when its memory is freed, never earlier.
 *
 * Owner: the holder thread only; no locks.
 */
#include "store.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DKV__STORE_MIN_BUCKETS 1024
#define DKV__STORE_VALUE_ALIGN 8
#define DKV__STORE_LOAD        2 /* entries per bucket before growing */
#define DKV__STORE_REHASH_STEP 8 /* old buckets moved per operation */
/* Old buckets unmapped at once behind the rehash (64 KiB of array). */
#define DKV__STORE_UNMAP_CHUNK (8192u)

_Static_assert(sizeof(dkv__store_entry_t) == 56, "store entry header grew");
_Static_assert(alignof(max_align_t) >= DKV__STORE_VALUE_ALIGN,
               "malloc must return 8-byte aligned blocks");

/* Offset of the value from the start of an entry with a @p key_len key. */
static size_t value_offset(size_t key_len)
{
    size_t end = offsetof(dkv__store_entry_t, key) + key_len + 1;

    return (end + DKV__STORE_VALUE_ALIGN - 1) &
           ~(size_t)(DKV__STORE_VALUE_ALIGN - 1);
}

static size_t entry_charge(const dkv__store_entry_t *e)
{
    return (size_t)e->key_len + e->value_len;
}

/* The chain a key with @p hash lives in: its old bucket while that is not
 * yet moved by the rehash, else its bucket in the current array. */
static dkv__store_entry_t **bucket_of(dkv__store_t *s, uint32_t hash)
{
    size_t old;

    if (s->old_nbuckets != 0) {
        old = hash & (s->old_nbuckets - 1);
        if (old >= s->rehash_pos) {
            return &s->old_buckets[old];
        }
    }
    return &s->buckets[hash & (s->nbuckets - 1)];
}

/* Link in the table's chain for @p key pointing at its entry (or at the
 * terminating NULL when the key is absent). */
static dkv__store_entry_t **find_link(dkv__store_t *s, const char *key,
                                      size_t key_len, uint64_t hash)
{
    dkv__store_entry_t **link = bucket_of(s, hash);
    dkv__store_entry_t *e;

    for (e = *link; e != NULL; link = &e->next, e = *link) {
        if ((e->hash == (uint32_t)hash) && (e->key_len == key_len) &&
            (memcmp(e->key, key, key_len) == 0)) {
            break;
        }
    }
    return link;
}

static void unpublished_push(dkv__store_t *s, dkv__store_entry_t *e)
{
    e->prev = NULL;
    e->next = s->unpublished;
    if (s->unpublished != NULL) {
        s->unpublished->prev = e;
    }
    s->unpublished = e;
}

/* O(1); does nothing to an entry that is not on the list. */
static void unpublished_unlink(dkv__store_t *s, dkv__store_entry_t *e)
{
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else if (s->unpublished == e) {
        s->unpublished = e->next;
    } else {
        return;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    }
    e->next = NULL;
    e->prev = NULL;
}

#define DKV__STORE_HUGE_BYTES (4ull << 20)
#define DKV__STORE_SPARE_MAX   (256ull << 20)

static void entry_free(dkv__store_t *s, dkv__store_entry_t *e)
{
    size_t bytes = value_offset(e->key_len) + e->value_len;

    s->used -= entry_charge(e);
    if ((bytes >= DKV__STORE_HUGE_BYTES) && (bytes <= DKV__STORE_SPARE_MAX)) {
        free(s->spare); /* keep the newest */
        s->spare       = e;
        s->spare_bytes = bytes;
        return;
    }
    free(e);
}

/* @p e has just left the table: free it now, or at its last unpin. */
static void entry_retire(dkv__store_t *s, dkv__store_entry_t *e)
{
    e->published = 0;
    e->next      = NULL;
    if (e->pins == 0) {
        entry_free(s, e);
    } else {
        unpublished_push(s, e);
    }
}

/* A zeroed bucket array of @p n buckets, or NULL. */
static dkv__store_entry_t **buckets_map(size_t n)
{
    void *p = mmap(NULL, n * sizeof(dkv__store_entry_t *),
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return (p == MAP_FAILED) ? NULL : p;
}

/* Unmap buckets [@p from, @p to) of an array mapped by buckets_map();
 * @p from is a multiple of DKV__STORE_UNMAP_CHUNK (so page aligned). */
static void buckets_unmap(dkv__store_entry_t **b, size_t from, size_t to)
{
    if ((b != NULL) && (to > from)) {
        (void)munmap(b + from, (to - from) * sizeof(*b));
    }
}

/* Old buckets below this are unmapped (walks and cleanup skip them). */
static size_t old_mapped_from(const dkv__store_t *s)
{
    return s->rehash_pos - s->rehash_pos % DKV__STORE_UNMAP_CHUNK;
}

int dkv__store_rehash_step(dkv__store_t *s, size_t nbuckets)
{
    size_t unmapped;

    dkv__store_entry_t **home;
    dkv__store_entry_t *e;
    dkv__store_entry_t *next;
    size_t end;

    if (s->old_nbuckets == 0) {
        return 0;
    }
    unmapped = old_mapped_from(s);
    end      = s->old_nbuckets - s->rehash_pos;
    end = s->rehash_pos + ((nbuckets < end) ? nbuckets : end);
    for (; s->rehash_pos < end; s->rehash_pos++) {
        for (e = s->old_buckets[s->rehash_pos]; e != NULL; e = next) {
            next    = e->next;
            home    = &s->buckets[e->hash & (s->nbuckets - 1)];
            e->next = *home;
            *home   = e;
        }
        s->old_buckets[s->rehash_pos] = NULL;
    }
    if (s->rehash_pos < s->old_nbuckets) {
        buckets_unmap(s->old_buckets, unmapped, old_mapped_from(s));
        return 1;
    }
    buckets_unmap(s->old_buckets, unmapped, s->old_nbuckets);
    s->old_buckets  = NULL;
    s->old_nbuckets = 0;
    s->rehash_pos   = 0;
    return 0;
}

/* Start doubling the bucket array; on allocation failure keep the old one
 * (the chains just get longer). A grow still running is finished first,
 * which does not happen in practice: it ends after nbuckets/2/STEP
 * operations, long before the entries double again. */
static void grow(dkv__store_t *s)
{
    size_t nbuckets = s->nbuckets * 2;
    dkv__store_entry_t **buckets;

    buckets = buckets_map(nbuckets);
    if (buckets == NULL) {
        return;
    }
    (void)dkv__store_rehash_step(s, SIZE_MAX);
    s->old_buckets  = s->buckets;
    s->old_nbuckets = s->nbuckets;
    s->rehash_pos   = 0;
    s->buckets      = buckets;
    s->nbuckets     = nbuckets;
}

dkv_status_t dkv__store_init(dkv__store_t *s, size_t limit)
{
    memset(s, 0, sizeof(*s));
    s->buckets = buckets_map(DKV__STORE_MIN_BUCKETS);
    if (s->buckets == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    s->nbuckets = DKV__STORE_MIN_BUCKETS;
    s->limit    = limit;
    return DKV_OK;
}

static void free_chain(dkv__store_t *s, dkv__store_entry_t *e)
{
    dkv__store_entry_t *next;

    for (; e != NULL; e = next) {
        next = e->next;
        entry_free(s, e);
    }
}

void dkv__store_cleanup(dkv__store_t *s)
{
    size_t i;

    if (s->buckets != NULL) {
        for (i = 0; i < s->nbuckets; i++) {
            free_chain(s, s->buckets[i]);
        }
    }
    for (i = s->rehash_pos; i < s->old_nbuckets; i++) {
        free_chain(s, s->old_buckets[i]);
    }
    free_chain(s, s->unpublished);
    if (s->old_nbuckets != 0) {
        buckets_unmap(s->old_buckets, old_mapped_from(s), s->old_nbuckets);
    }
    buckets_unmap(s->buckets, 0, s->nbuckets);
    free(s->spare);
    memset(s, 0, sizeof(*s));
}

/* Check the charge of a new entry against the limit; 0 if it fits. */
static dkv_status_t charge_check(const dkv__store_t *s, size_t key_len,
                                 size_t value_len, size_t *charge_p)
{
    if ((value_len > SIZE_MAX - key_len) ||
        (key_len + value_len > SIZE_MAX - s->used)) {
        return (s->limit != 0) ? DKV_ERR_NO_SPACE : DKV_ERR_NO_MEMORY;
    }
    *charge_p = key_len + value_len;
    if ((s->limit != 0) && (s->used + *charge_p > s->limit)) {
        return DKV_ERR_NO_SPACE;
    }
    return DKV_OK;
}

/*
 * Large values are received straight into their entry, so first-touch page
 * faults are on the put path: give them 2 MiB-aligned memory and ask for
 * transparent huge pages (512x fewer faults). Either way free() releases it.
 */
#define DKV__STORE_HUGE_ALIGN (2ull << 20)

static void *entry_alloc(dkv__store_t *s, size_t bytes)
{
    void *p;

    if (bytes < DKV__STORE_HUGE_BYTES) {
        return malloc(bytes);
    }
    if ((s->spare != NULL) && (s->spare_bytes >= bytes) &&
        (s->spare_bytes / 2 <= bytes)) {
        p              = s->spare;
        s->spare       = NULL;
        s->spare_bytes = 0;
        return p;
    }
    if (posix_memalign(&p, DKV__STORE_HUGE_ALIGN, bytes) != 0) {
        return NULL;
    }
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint; failure is fine */
    return p;
}

dkv_status_t dkv__store_reserve(dkv__store_t *s, const char *key,
                                size_t key_len, uint64_t hash, size_t value_len,
                                dkv__store_entry_t **entry_p)
{
    dkv__store_entry_t *e;
    dkv_status_t status;
    size_t charge;

    if (key_len > UINT16_MAX) {
        return DKV_ERR_INVALID;
    }
    status = charge_check(s, key_len, value_len, &charge);
    if (status != DKV_OK) {
        return status;
    }
    /* No allocator hands out more than PTRDIFF_MAX bytes; do not ask. */
    if (value_len > (size_t)PTRDIFF_MAX - value_offset(key_len)) {
        return DKV_ERR_NO_MEMORY;
    }
    e = entry_alloc(s, value_offset(key_len) + value_len);
    if (e == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    e->hash      = (uint32_t)hash;
    e->next      = NULL;
    e->prev      = NULL;
    e->value_len = value_len;
    e->key_len   = (uint16_t)key_len;
    e->pins      = 0;
    e->published = 0;
    e->has_crc   = 0;
    e->crc       = 0;
    e->generation = 0;
    e->followed   = 0;
    memcpy(e->key, key, key_len);
    e->key[key_len] = '\0';

    s->used += charge;
    unpublished_push(s, e);
    *entry_p = e;
    return DKV_OK;
}

void *dkv__store_value(dkv__store_entry_t *e)
{
    return (char *)e + value_offset(e->key_len);
}

void dkv__store_publish(dkv__store_t *s, dkv__store_entry_t *e)
{
    dkv__store_entry_t **link;
    dkv__store_entry_t *old;

    if (e->generation == 0) {
        (void)dkv__store_stamp(s, e, 0);
    }
    unpublished_unlink(s, e);
    (void)dkv__store_rehash_step(s, DKV__STORE_REHASH_STEP);
    link         = find_link(s, e->key, e->key_len, e->hash);
    old          = *link;
    e->published = 1;
    if (old != NULL) {
        /* Take the old entry's place in its chain: one step, no gap. */
        e->next = old->next;
        *link   = e;
        entry_retire(s, old);
        return;
    }
    e->next = *link;
    *link   = e;
    s->count++;
    if ((s->count > DKV__STORE_LOAD * s->nbuckets) &&
        (s->old_nbuckets == 0)) {
        grow(s);
    }
}

uint64_t dkv__store_stamp(dkv__store_t *s, dkv__store_entry_t *e,
                          uint64_t at_least)
{
    uint64_t next = s->generation + 1;

    dkv__store_stamp_exact(s, e, (next > at_least) ? next : at_least);
    e->followed = 0;
    return e->generation;
}

void dkv__store_stamp_exact(dkv__store_t *s, dkv__store_entry_t *e,
                            uint64_t generation)
{
    e->generation = generation;
    e->followed   = 1;
    if (generation > s->generation) {
        s->generation = generation;
    }
}

void dkv__store_abort(dkv__store_t *s, dkv__store_entry_t *e)
{
    if (e->pins == 0) {
        unpublished_unlink(s, e);
        entry_free(s, e);
    }
}

void dkv__store_forget(dkv__store_t *s, dkv__store_entry_t *e)
{
    dkv__store_entry_t **link;

    if (e->published) {
        link = find_link(s, e->key, e->key_len, e->hash);
        if (*link == e) {
            *link = e->next;
            s->count--;
        }
        e->published = 0;
    } else {
        unpublished_unlink(s, e);
    }
    e->next = NULL;
    e->pins = UINT32_MAX / 2; /* never freed by an unpin either */
}

dkv__store_entry_t *dkv__store_lookup(dkv__store_t *s, const char *key,
                                      size_t key_len, uint64_t hash)
{
    (void)dkv__store_rehash_step(s, DKV__STORE_REHASH_STEP);
    return *find_link(s, key, key_len, hash);
}

dkv_status_t dkv__store_remove(dkv__store_t *s, const char *key, size_t key_len,
                               uint64_t hash)
{
    dkv__store_entry_t **link;
    dkv__store_entry_t *e;

    (void)dkv__store_rehash_step(s, DKV__STORE_REHASH_STEP);
    link = find_link(s, key, key_len, hash);
    e    = *link;

    if (e == NULL) {
        return DKV_ERR_NOT_FOUND;
    }
    *link = e->next;
    s->count--;
    entry_retire(s, e);
    return DKV_OK;
}

/* Bucket @p i of the walk: the old array's (moved ones are empty), then
 * the current array's. */
static dkv__store_entry_t *walk_bucket(const dkv__store_t *s, size_t i)
{
    if (i < s->old_nbuckets) {
        return (i < s->rehash_pos) ? NULL : s->old_buckets[i];
    }
    return s->buckets[i - s->old_nbuckets];
}

dkv__store_entry_t *dkv__store_next(const dkv__store_t *s, size_t *bucket,
                                    dkv__store_entry_t *prev)
{
    size_t total = s->old_nbuckets + s->nbuckets;

    if ((prev != NULL) && (prev->next != NULL)) {
        return prev->next;
    }
    if (prev != NULL) {
        (*bucket)++;
    }
    for (; *bucket < total; (*bucket)++) {
        if (walk_bucket(s, *bucket) != NULL) {
            return walk_bucket(s, *bucket);
        }
    }
    return NULL;
}

void dkv__store_pin(dkv__store_entry_t *e)
{
    e->pins++;
}

void dkv__store_unpin(dkv__store_t *s, dkv__store_entry_t *e)
{
    e->pins--;
    if ((e->pins == 0) && !e->published) {
        unpublished_unlink(s, e);
        entry_free(s, e);
    }
}

size_t dkv__store_held(const dkv__store_t *s)
{
    const dkv__store_entry_t *e;
    size_t                    i, n = 0;

    for (i = 0; i < s->old_nbuckets + s->nbuckets; i++) {
        for (e = walk_bucket(s, i); e != NULL; e = e->next) {
            n += (e->pins > 0);
        }
    }
    for (e = s->unpublished; e != NULL; e = e->next) {
        n++;
    }
    return n;
}
