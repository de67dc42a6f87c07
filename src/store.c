/*
 * store: a holder's key -> value table in DRAM.
 *
 * A chained hash table with a power-of-two bucket array (1024 to start,
 * doubled when entries outnumber buckets). Each entry is one malloc: the
 * 40-byte header, the key and its NUL, padding to 16 bytes, then the value,
 * so a value can be received straight into place and sent from there.
 *
 * Entries live in one of two places: the table (published) or the
 * store's "unpublished" chain (reserved and not yet published, or replaced
 * or removed while pinned), so that every live entry can be reached by
 * dkv__store_cleanup(). An entry's charge (key_len + value_len) is taken at
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

_Static_assert(sizeof(dkv__store_entry_t) == 48, "store entry header grew");
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

static dkv__store_entry_t **bucket_of(dkv__store_t *s, uint32_t hash)
{
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
    e->next        = s->unpublished;
    s->unpublished = e;
}

static void unpublished_unlink(dkv__store_t *s, dkv__store_entry_t *e)
{
    dkv__store_entry_t **link = &s->unpublished;

    while ((*link != NULL) && (*link != e)) {
        link = &(*link)->next;
    }
    if (*link == e) {
        *link = e->next;
    }
    e->next = NULL;
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

/* Double the bucket array; on allocation failure keep the old one (the
 * chains just get longer). */
static void grow(dkv__store_t *s)
{
    size_t nbuckets = s->nbuckets * 2;
    dkv__store_entry_t **buckets;
    dkv__store_entry_t *e;
    dkv__store_entry_t *next;
    size_t i;

    buckets = calloc(nbuckets, sizeof(*buckets));
    if (buckets == NULL) {
        return;
    }
    for (i = 0; i < s->nbuckets; i++) {
        for (e = s->buckets[i]; e != NULL; e = next) {
            next    = e->next;
            e->next = buckets[e->hash & (nbuckets - 1)];
            buckets[e->hash & (nbuckets - 1)] = e;
        }
    }
    free(s->buckets);
    s->buckets  = buckets;
    s->nbuckets = nbuckets;
}

dkv_status_t dkv__store_init(dkv__store_t *s, size_t limit)
{
    memset(s, 0, sizeof(*s));
    s->buckets = calloc(DKV__STORE_MIN_BUCKETS, sizeof(*s->buckets));
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
    free_chain(s, s->unpublished);
    free(s->buckets);
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
    if (s->count > DKV__STORE_LOAD * s->nbuckets) {
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
    return *find_link(s, key, key_len, hash);
}

dkv_status_t dkv__store_remove(dkv__store_t *s, const char *key, size_t key_len,
                               uint64_t hash)
{
    dkv__store_entry_t **link = find_link(s, key, key_len, hash);
    dkv__store_entry_t *e     = *link;

    if (e == NULL) {
        return DKV_ERR_NOT_FOUND;
    }
    *link = e->next;
    s->count--;
    entry_retire(s, e);
    return DKV_OK;
}

dkv__store_entry_t *dkv__store_next(const dkv__store_t *s, size_t *bucket,
                                    dkv__store_entry_t *prev)
{
    if ((prev != NULL) && (prev->next != NULL)) {
        return prev->next;
    }
    if (prev != NULL) {
        (*bucket)++;
    }
    for (; *bucket < s->nbuckets; (*bucket)++) {
        if (s->buckets[*bucket] != NULL) {
            return s->buckets[*bucket];
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

    for (i = 0; i < s->nbuckets; i++) {
        for (e = s->buckets[i]; e != NULL; e = e->next) {
            n += (e->pins > 0);
        }
    }
    for (e = s->unpublished; e != NULL; e = e->next) {
        n++;
    }
    return n;
}
