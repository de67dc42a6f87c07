/*
 * Unit tests for src/store.c: insert, lookup, overwrite and remove; the
 * byte accounting (charged at reserve, given back when memory is freed);
 * the limit (NO_SPACE changes nothing); pins keeping replaced or removed
 * entries alive; abort; growth to 100,000 keys; zero-length values; and
 * 8-byte alignment of values. Leaks show up under ASan/valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "place.h"
#include "store.h"

static uint64_t hash_of(const char *key)
{
    return dkv__place_hash(key, strlen(key));
}

/* Reserve, fill with @p value and publish; returns the entry. */
static dkv__store_entry_t *put(dkv__store_t *s, const char *key,
                               const char *value)
{
    dkv__store_entry_t *e = NULL;

    assert_int_equal(dkv__store_reserve(s, key, strlen(key), hash_of(key),
                                        strlen(value), &e),
                     DKV_OK);
    memcpy(dkv__store_value(e), value, strlen(value));
    dkv__store_publish(s, e);
    return e;
}

static dkv__store_entry_t *get(dkv__store_t *s, const char *key)
{
    return dkv__store_lookup(s, key, strlen(key), hash_of(key));
}

static void assert_value(dkv__store_entry_t *e, const char *value)
{
    assert_non_null(e);
    assert_int_equal(e->value_len, strlen(value));
    assert_memory_equal(dkv__store_value(e), value, strlen(value));
}

static int setup(void **state)
{
    static dkv__store_t store;

    if (dkv__store_init(&store, 0) != DKV_OK) {
        return -1;
    }
    *state = &store;
    return 0;
}

static int teardown(void **state)
{
    dkv__store_cleanup(*state);
    return 0;
}

static void test_init(void **state)
{
    dkv__store_t *s = *state;

    assert_int_equal(s->nbuckets, 1024);
    assert_int_equal(s->count, 0);
    assert_int_equal(s->used, 0);
    assert_null(get(s, "missing"));
}

static void test_insert_lookup(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;

    /* A reserved entry is charged but not visible. */
    assert_int_equal(dkv__store_reserve(s, "alpha", 5, hash_of("alpha"), 3, &e),
                     DKV_OK);
    assert_int_equal(s->used, 8);
    assert_int_equal(s->count, 0);
    assert_null(get(s, "alpha"));
    memcpy(dkv__store_value(e), "one", 3);
    dkv__store_publish(s, e);

    assert_ptr_equal(get(s, "alpha"), e);
    assert_int_equal(e->published, 1);
    assert_string_equal(e->key, "alpha");
    assert_int_equal(e->key_len, 5);
    assert_value(e, "one");
    assert_int_equal(s->count, 1);
    assert_int_equal(s->used, 8);

    /* Prefixes and extensions of the key are other keys. */
    put(s, "alphabet", "two");
    assert_value(get(s, "alpha"), "one");
    assert_value(get(s, "alphabet"), "two");
    assert_null(dkv__store_lookup(s, "alpha", 4, hash_of("alpha")));
    assert_int_equal(s->count, 2);
}

static void test_same_hash_chain(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;
    char key[16];
    int i;

    /* Every key in one chain: lookups must compare the bytes. */
    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(dkv__store_reserve(s, key, strlen(key), 42, 4, &e),
                         DKV_OK);
        memcpy(dkv__store_value(e), &i, 4);
        dkv__store_publish(s, e);
    }
    for (i = 0; i < 50; i += 7) {
        snprintf(key, sizeof(key), "k%d", i);
        e = dkv__store_lookup(s, key, strlen(key), 42);
        assert_non_null(e);
        assert_memory_equal(dkv__store_value(e), &i, 4);
        assert_null(dkv__store_lookup(s, key, strlen(key), 43));
    }
    assert_int_equal(dkv__store_remove(s, "k10", 3, 42), DKV_OK);
    assert_null(dkv__store_lookup(s, "k10", 3, 42));
    assert_non_null(dkv__store_lookup(s, "k11", 3, 42));
    assert_int_equal(s->count, 49);
}

static void test_overwrite(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *old;
    dkv__store_entry_t *e;

    old = put(s, "key", "old");
    assert_int_equal(s->used, 6);

    /* While both exist, both are charged. */
    assert_int_equal(dkv__store_reserve(s, "key", 3, hash_of("key"), 9, &e),
                     DKV_OK);
    assert_int_equal(s->used, 6 + 12);
    assert_ptr_equal(get(s, "key"), old);
    memcpy(dkv__store_value(e), "newer one", 9);
    dkv__store_publish(s, e);

    assert_ptr_equal(get(s, "key"), e);
    assert_value(e, "newer one");
    assert_int_equal(s->count, 1);
    assert_int_equal(s->used, 12);
}

static void test_remove(void **state)
{
    dkv__store_t *s = *state;

    put(s, "a", "1");
    put(s, "b", "22");
    assert_int_equal(dkv__store_remove(s, "a", 1, hash_of("a")), DKV_OK);
    assert_null(get(s, "a"));
    assert_value(get(s, "b"), "22");
    assert_int_equal(s->count, 1);
    assert_int_equal(s->used, 3);
    assert_int_equal(dkv__store_remove(s, "a", 1, hash_of("a")),
                     DKV_ERR_NOT_FOUND);
    assert_int_equal(dkv__store_remove(s, "zz", 2, hash_of("zz")),
                     DKV_ERR_NOT_FOUND);
    assert_int_equal(dkv__store_remove(s, "b", 1, hash_of("b")), DKV_OK);
    assert_int_equal(s->count, 0);
    assert_int_equal(s->used, 0);
}

static void test_limit(void **state)
{
    dkv__store_t s;
    dkv__store_entry_t *sentinel = (dkv__store_entry_t *)0x1;
    dkv__store_entry_t *e        = sentinel;

    assert_int_equal(dkv__store_init(&s, 100), DKV_OK);
    put(&s, "0123456789",
        "0123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789");
    assert_int_equal(s.used, 90);

    /* One byte over: refused, nothing changed. */
    assert_int_equal(
        dkv__store_reserve(&s, "0123456789", 10, hash_of("0123456789"), 1, &e),
        DKV_ERR_NO_SPACE);
    assert_ptr_equal(e, sentinel);
    assert_int_equal(s.used, 90);
    assert_int_equal(s.count, 1);
    assert_int_equal(get(&s, "0123456789")->value_len, 80);

    /* Exactly at the limit: fine. */
    assert_int_equal(
        dkv__store_reserve(&s, "abcde", 5, hash_of("abcde"), 5, &e), DKV_OK);
    assert_int_equal(s.used, 100);
    dkv__store_publish(&s, e);

    /* Nothing fits, not even an empty value. */
    e = sentinel;
    assert_int_equal(dkv__store_reserve(&s, "x", 1, hash_of("x"), 0, &e),
                     DKV_ERR_NO_SPACE);
    assert_ptr_equal(e, sentinel);

    /* Removing frees the space for a new reservation. */
    assert_int_equal(
        dkv__store_remove(&s, "0123456789", 10, hash_of("0123456789")), DKV_OK);
    assert_int_equal(s.used, 10);
    put(&s, "x",
        "0123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789123456789");
    assert_int_equal(s.used, 100);
    dkv__store_cleanup(&s);
}

static void test_overflow_sizes(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_t limited;
    dkv__store_entry_t *e = NULL;

    /* Sizes whose sum or allocation size would wrap around. */
    assert_int_equal(dkv__store_reserve(s, "k", 1, 1, SIZE_MAX, &e),
                     DKV_ERR_NO_MEMORY);
    assert_int_equal(dkv__store_reserve(s, "key", 3, 1, SIZE_MAX - 3, &e),
                     DKV_ERR_NO_MEMORY);
    assert_int_equal(dkv__store_reserve(s, "key", 3, 1, SIZE_MAX - 40, &e),
                     DKV_ERR_NO_MEMORY);
    assert_null(e);
    assert_int_equal(s->used, 0);

    assert_int_equal(dkv__store_init(&limited, 1000), DKV_OK);
    put(&limited, "a", "b");
    assert_int_equal(dkv__store_reserve(&limited, "k", 1, 1, SIZE_MAX, &e),
                     DKV_ERR_NO_SPACE);
    assert_int_equal(dkv__store_reserve(&limited, "k", 1, 1, SIZE_MAX - 2, &e),
                     DKV_ERR_NO_SPACE);
    assert_null(e);
    assert_int_equal(limited.used, 2);
    dkv__store_cleanup(&limited);
}

static void test_pinned_survives_overwrite(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *old;

    old = put(s, "key", "old value");
    dkv__store_pin(old);
    dkv__store_pin(old);
    put(s, "key", "new");

    assert_value(get(s, "key"), "new");
    assert_int_equal(old->published, 0);
    assert_value(old, "old value"); /* still readable while pinned */
    assert_int_equal(s->count, 1);
    assert_int_equal(s->used, 12 + 6);

    dkv__store_unpin(s, old);
    assert_int_equal(s->used, 12 + 6);
    assert_value(old, "old value");
    dkv__store_unpin(s, old); /* last pin: freed now */
    assert_int_equal(s->used, 6);
    assert_value(get(s, "key"), "new");
}

static void test_pinned_survives_remove(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;

    e = put(s, "gone", "bytes");
    dkv__store_pin(e);
    assert_int_equal(dkv__store_remove(s, "gone", 4, hash_of("gone")), DKV_OK);
    assert_null(get(s, "gone"));
    assert_int_equal(e->published, 0);
    assert_int_equal(s->count, 0);
    assert_int_equal(s->used, 9);
    assert_value(e, "bytes");

    /* A new entry of the same key is independent of the pinned one. */
    put(s, "gone", "back");
    assert_int_equal(s->used, 9 + 8);
    dkv__store_unpin(s, e);
    assert_int_equal(s->used, 8);
    assert_value(get(s, "gone"), "back");
}

static void test_pin_published_keeps_it(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;

    e = put(s, "k", "v");
    dkv__store_pin(e);
    dkv__store_unpin(s, e);
    assert_ptr_equal(get(s, "k"), e);
    assert_int_equal(s->used, 2);
}

static void test_cleanup_frees_pinned_and_reserved(void **state)
{
    dkv__store_t s;
    dkv__store_entry_t *pinned;
    dkv__store_entry_t *reserved;

    /* Leak checkers verify that cleanup reaches every live entry. */
    assert_int_equal(dkv__store_init(&s, 0), DKV_OK);
    pinned = put(&s, "p", "pinned");
    dkv__store_pin(pinned);
    put(&s, "p", "replacement");
    assert_int_equal(
        dkv__store_reserve(&s, "r", 1, hash_of("r"), 100, &reserved), DKV_OK);
    put(&s, "q", "published");
    dkv__store_cleanup(&s);
    assert_int_equal(s.used, 0);
    assert_int_equal(s.count, 0);
    assert_null(s.buckets);
}

/* Pins and reservations are counted until they go. */
static void test_held(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *a, *r;

    assert_int_equal(dkv__store_held(s), 0);
    a = put(s, "a", "one");
    assert_int_equal(dkv__store_held(s), 0);
    dkv__store_pin(a);
    assert_int_equal(dkv__store_held(s), 1);
    put(s, "a", "two"); /* the pinned one leaves the table */
    assert_int_equal(dkv__store_held(s), 1);
    assert_int_equal(dkv__store_reserve(s, "r", 1, hash_of("r"), 4, &r),
                     DKV_OK);
    assert_int_equal(dkv__store_held(s), 2);
    dkv__store_abort(s, r);
    dkv__store_unpin(s, a);
    assert_int_equal(dkv__store_held(s), 0);
}

static void test_abort(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;

    put(s, "key", "kept");
    assert_int_equal(dkv__store_reserve(s, "key", 3, hash_of("key"), 50, &e),
                     DKV_OK);
    assert_int_equal(s->used, 7 + 53);
    dkv__store_abort(s, e);
    assert_int_equal(s->used, 7);
    assert_int_equal(s->count, 1);
    assert_value(get(s, "key"), "kept");

    assert_int_equal(dkv__store_reserve(s, "new", 3, hash_of("new"), 5, &e),
                     DKV_OK);
    dkv__store_abort(s, e);
    assert_null(get(s, "new"));
    assert_int_equal(s->used, 7);

    /* A pinned reservation is given back at its last unpin. */
    assert_int_equal(dkv__store_reserve(s, "new", 3, hash_of("new"), 5, &e),
                     DKV_OK);
    dkv__store_pin(e);
    dkv__store_abort(s, e);
    assert_int_equal(s->used, 7 + 8);
    dkv__store_unpin(s, e);
    assert_int_equal(s->used, 7);
}

static void test_interleaved_reservations(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e[4];
    char key[4] = "r0";
    int i;

    for (i = 0; i < 4; i++) {
        key[1] = (char)('0' + i);
        assert_int_equal(dkv__store_reserve(s, key, 2, hash_of(key), 1, &e[i]),
                         DKV_OK);
        *(char *)dkv__store_value(e[i]) = (char)('a' + i);
    }
    /* Publish and abort out of order. */
    dkv__store_publish(s, e[2]);
    dkv__store_abort(s, e[1]);
    dkv__store_publish(s, e[0]);
    dkv__store_publish(s, e[3]);
    assert_value(get(s, "r0"), "a");
    assert_null(get(s, "r1"));
    assert_value(get(s, "r2"), "c");
    assert_value(get(s, "r3"), "d");
    assert_int_equal(s->count, 3);
    assert_int_equal(s->used, 9);
}

static void test_growth(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;
    char key[32];
    int len;
    int i;

    for (i = 0; i < 100000; i++) {
        len = snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(dkv__store_reserve(s, key, (size_t)len, hash_of(key),
                                            sizeof(i), &e),
                         DKV_OK);
        memcpy(dkv__store_value(e), &i, sizeof(i));
        dkv__store_publish(s, e);
    }
    assert_int_equal(s->count, 100000);
    assert_int_equal(s->nbuckets, 65536); /* grown at 2 entries a bucket */
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        e = get(s, key);
        assert_non_null(e);
        assert_memory_equal(dkv__store_value(e), &i, sizeof(i));
    }
    for (i = 0; i < 100000; i += 2) {
        len = snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(dkv__store_remove(s, key, (size_t)len, hash_of(key)),
                         DKV_OK);
    }
    assert_int_equal(s->count, 50000);
    for (i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_true((get(s, key) == NULL) == (i % 2 == 0));
    }
}

static void test_zero_length_value(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;

    assert_int_equal(dkv__store_reserve(s, "empty", 5, hash_of("empty"), 0, &e),
                     DKV_OK);
    assert_non_null(dkv__store_value(e));
    dkv__store_publish(s, e);
    e = get(s, "empty");
    assert_non_null(e);
    assert_int_equal(e->value_len, 0);
    assert_int_equal(s->used, 5);
    assert_int_equal((uintptr_t)dkv__store_value(e) % 8, 0);
}

static void test_value_alignment(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e;
    char key[80];
    size_t len;

    for (len = 1; len < sizeof(key); len++) {
        memset(key, 'a' + (int)(len % 26), len);
        key[len] = '\0';
        assert_int_equal(dkv__store_reserve(s, key, len, hash_of(key), 33, &e),
                         DKV_OK);
        assert_int_equal((uintptr_t)dkv__store_value(e) % 8, 0);
        /* Filling the value must not touch the key or its NUL. */
        memset(dkv__store_value(e), 0xEE, 33);
        assert_int_equal(strlen(e->key), len);
        assert_memory_equal(e->key, key, len);
        dkv__store_publish(s, e);
    }
    /* 40 + the generation + the followed flag (padded). */
    assert_int_equal(sizeof(dkv__store_entry_t), 56);
}

/* A walk visits every published entry exactly once, and nothing else. */
static void test_walk(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e = NULL, *reserved;
    static char seen[3000];
    size_t bucket = 0, n = 0;
    char key[32];
    int i;

    assert_null(dkv__store_next(s, &bucket, NULL));
    for (i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "walk%d", i);
        put(s, key, "v");
    }
    assert_int_equal(dkv__store_reserve(s, "hidden", 6, hash_of("hidden"), 1,
                                        &reserved), DKV_OK);
    assert_int_equal(dkv__store_remove(s, "walk7", 5, hash_of("walk7")),
                     DKV_OK);
    bucket = 0;
    while ((e = dkv__store_next(s, &bucket, e)) != NULL) {
        assert_int_equal(strncmp(e->key, "walk", 4), 0);
        i = atoi(e->key + 4);
        assert_int_equal(seen[i], 0);
        seen[i] = 1;
        n++;
    }
    assert_int_equal(n, 2999);
    assert_int_equal(seen[7], 0);
    dkv__store_abort(s, reserved);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Issue 11: 100,000 pinned entries replaced (a drain snapshot whose keys
 * were all overwritten), then unpinned oldest first. With the singly
 * linked unpublished list each unpin walked the whole list (32.6 s on the
 * holder thread); doubly linked it is O(1) each.
 */
static void test_issue11_unpin_many_o1(void **state)
{
    enum { N = 100000 };
    dkv__store_t *s = *state;
    static dkv__store_entry_t *pinned[N];
    char key[32];
    size_t used_old;
    double t0;
    int i;

    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "pin-%d", i);
        pinned[i] = put(s, key, "old");
        dkv__store_pin(pinned[i]);
    }
    used_old = s->used;
    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "pin-%d", i);
        put(s, key, "new!");
    }
    assert_int_equal(dkv__store_held(s), N);
    t0 = now_s();
    for (i = 0; i < N; i++) { /* oldest first: the far end of the list */
        dkv__store_unpin(s, pinned[i]);
    }
    print_message("unpin of %d replaced entries: %.1f ms\n", N,
                  (now_s() - t0) * 1e3);
    assert_true(now_s() - t0 < 2.0); /* was 32.6 s */
    assert_int_equal(dkv__store_held(s), 0);
    assert_null(s->unpublished);
    assert_int_equal(s->used, used_old + N); /* "new!" is 1 byte longer */
    assert_value(get(s, "pin-0"), "new!");
    assert_value(get(s, "pin-99999"), "new!");
}

/* Unlinking from the middle, head and tail of the unpublished list. */
static void test_issue11_unpublished_unlink_anywhere(void **state)
{
    dkv__store_t *s = *state;
    dkv__store_entry_t *e[5];
    char key[4] = "u0";
    int i;

    for (i = 0; i < 5; i++) {
        key[1] = (char)('0' + i);
        assert_int_equal(dkv__store_reserve(s, key, 2, hash_of(key), 1, &e[i]),
                         DKV_OK);
    }
    dkv__store_abort(s, e[2]);   /* middle */
    dkv__store_abort(s, e[4]);   /* head (newest) */
    dkv__store_publish(s, e[0]); /* tail (oldest) */
    assert_int_equal(dkv__store_held(s), 2);
    dkv__store_abort(s, e[3]);
    dkv__store_abort(s, e[1]);
    assert_null(s->unpublished);
    assert_int_equal(dkv__store_held(s), 0);
    assert_int_equal(s->count, 1);
}

/*
 * Issue 11: growing the bucket array moves at most a few buckets per
 * operation, and every key stays reachable (lookup, overwrite, remove,
 * walk) while entries sit in both arrays.
 */
static void test_issue11_incremental_rehash(void **state)
{
    enum { N = 20000 };
    dkv__store_t *s = *state;
    dkv__store_entry_t *e = NULL;
    size_t pos, bucket, walked, grows = 0, mid_checks = 0;
    char key[32];
    int i, j;

    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "rh-%d", i);
        pos = s->rehash_pos;
        put(s, key, "v");
        if (s->old_nbuckets != 0) {
            grows += (s->rehash_pos == 0);
            /* One publish moved at most 8 old buckets. */
            assert_true(s->rehash_pos <= pos + 8);
        }
        if ((s->old_nbuckets != 0) && (s->rehash_pos > 0) &&
            (i % 97 == 0)) {
            mid_checks++;
            for (j = 0; j <= i; j += 7) {
                snprintf(key, sizeof(key), "rh-%d", j);
                assert_non_null(dkv__store_lookup(s, key, strlen(key),
                                                  hash_of(key)));
            }
            walked = 0;
            bucket = 0;
            e      = NULL;
            while ((e = dkv__store_next(s, &bucket, e)) != NULL) {
                walked++;
            }
            assert_int_equal(walked, s->count);
        }
    }
    assert_true(grows >= 4); /* 1024 -> 16384 buckets */
    assert_true(mid_checks > 0);
    /* Overwrite and remove half while a grow may be running. */
    for (i = 0; i < N; i += 2) {
        snprintf(key, sizeof(key), "rh-%d", i);
        put(s, key, "w");
        assert_int_equal(dkv__store_remove(s, key, strlen(key), hash_of(key)),
                         DKV_OK);
    }
    assert_int_equal(s->count, N / 2);
    while (dkv__store_rehash_step(s, 1)) {
    }
    assert_int_equal(s->old_nbuckets, 0);
    for (i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "rh-%d", i);
        e = get(s, key);
        assert_true((e == NULL) == (i % 2 == 0));
    }
}

/* Generations: increasing per key, never reused after a delete, an exact
 * stamp (a replica following its first copy) moves the counter past it. */
static void test_generations(void **state)
{
    dkv__store_t       *s = *state;
    dkv__store_entry_t *e = NULL;
    uint64_t            g1, g2, g3;

    g1 = put(s, "gen", "a")->generation;
    assert_true(g1 > 0);
    g2 = put(s, "gen", "b")->generation;
    assert_true(g2 > g1);
    assert_int_equal(dkv__store_remove(s, "gen", 3, hash_of("gen")), DKV_OK);
    g3 = put(s, "gen", "c")->generation;
    assert_true(g3 > g2);
    assert_int_equal(get(s, "gen")->generation, g3);

    assert_int_equal(dkv__store_reserve(s, "gen", 3, hash_of("gen"), 0, &e),
                     DKV_OK);
    assert_int_equal(e->generation, 0);
    dkv__store_stamp_exact(s, e, g3 + 1000);
    assert_int_equal(e->followed, 1);
    dkv__store_publish(s, e);
    assert_int_equal(get(s, "gen")->generation, g3 + 1000);
    assert_true(put(s, "other", "x")->generation > g3 + 1000);

    assert_int_equal(dkv__store_reserve(s, "gen", 3, hash_of("gen"), 0, &e),
                     DKV_OK);
    assert_int_equal(dkv__store_stamp(s, e, 1ull << 60), 1ull << 60);
    dkv__store_abort(s, e);
    /* An aborted stamp is never reused either. */
    assert_true(put(s, "gen", "d")->generation > (1ull << 60));
}

#define STORE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_init),
        STORE_TEST(test_issue11_unpin_many_o1),
        STORE_TEST(test_issue11_unpublished_unlink_anywhere),
        STORE_TEST(test_issue11_incremental_rehash),
        STORE_TEST(test_insert_lookup),
        STORE_TEST(test_same_hash_chain),
        STORE_TEST(test_overwrite),
        STORE_TEST(test_generations),
        STORE_TEST(test_remove),
        cmocka_unit_test(test_limit),
        STORE_TEST(test_overflow_sizes),
        STORE_TEST(test_pinned_survives_overwrite),
        STORE_TEST(test_pinned_survives_remove),
        STORE_TEST(test_pin_published_keeps_it),
        cmocka_unit_test(test_cleanup_frees_pinned_and_reserved),
        STORE_TEST(test_held),
        STORE_TEST(test_abort),
        STORE_TEST(test_interleaved_reservations),
        STORE_TEST(test_growth),
        STORE_TEST(test_zero_length_value),
        STORE_TEST(test_value_alignment),
        STORE_TEST(test_walk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
