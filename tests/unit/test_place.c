/*
 * Unit tests for src/place.c: the hash is XXH3-64 and deterministic, jump
 * hashing stays in range, spreads keys evenly, and when a holder is added
 * moves only the expected share of keys, all of them to the new holder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "place.h"

#define NKEYS 100000

static uint64_t key_hash(int i)
{
    char key[32];
    int len = snprintf(key, sizeof(key), "key-%d", i);

    return dkv__place_hash(key, (size_t)len);
}

static void test_hash_known_values(void **state)
{
    /* Reference XXH3_64bits() results, seed 0. */
    assert_true(dkv__place_hash("", 0) == 0x2D06800538D394C2ull);
    assert_true(dkv__place_hash("a", 1) != dkv__place_hash("b", 1));
    /* Only the given bytes count. */
    assert_true(dkv__place_hash("abcdef", 3) == dkv__place_hash("abcxyz", 3));
    assert_true(dkv__place_hash("abc", 3) != dkv__place_hash("abc", 2));
}

static void test_deterministic(void **state)
{
    char copy[32];
    int i;

    for (i = 0; i < 1000; i++) {
        snprintf(copy, sizeof(copy), "key-%d", i);
        assert_true(key_hash(i) == dkv__place_hash(copy, strlen(copy)));
        assert_int_equal(dkv__place_holder(key_hash(i), 7),
                         dkv__place_holder(key_hash(i), 7));
        assert_int_equal(dkv__place_holder(key_hash(i), 7),
                         dkv__place_jump(key_hash(i), 7));
    }
}

static void test_jump_known_values(void **state)
{
    /* Vectors published with the reference algorithm's Go port
     * (github.com/dgryski/go-jump). */
    assert_int_equal(dkv__place_jump(1, 1), 0);
    assert_int_equal(dkv__place_jump(42, 57), 43);
    assert_int_equal(dkv__place_jump(0xDEAD10CC, 1), 0);
    assert_int_equal(dkv__place_jump(0xDEAD10CC, 666), 361);
    assert_int_equal(dkv__place_jump(256, 1024), 520);
}

static void test_jump_single_bucket(void **state)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    int i;

    for (i = 0; i < 10000; i++) {
        assert_int_equal(dkv__place_jump(h, 1), 0);
        h = h * 6364136223846793005ull + 1442695040888963407ull;
    }
    assert_int_equal(dkv__place_jump(0, 1), 0);
    assert_int_equal(dkv__place_jump(UINT64_MAX, 1), 0);
}

static void test_jump_in_range(void **state)
{
    static const int sizes[] = {2, 3, 7, 100, 1000, 65536, 2147483647};
    size_t s;
    int i;
    int b;

    for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (i = 0; i < 2000; i++) {
            b = dkv__place_jump(key_hash(i), sizes[s]);
            assert_in_range(b, 0, sizes[s] - 1);
        }
    }
}

static void check_balance(int nbuckets)
{
    int counts[16] = {0};
    double mean    = (double)NKEYS / nbuckets;
    int i;

    for (i = 0; i < NKEYS; i++) {
        counts[dkv__place_jump(key_hash(i), nbuckets)]++;
    }
    for (i = 0; i < nbuckets; i++) {
        if ((counts[i] < mean * 0.95) || (counts[i] > mean * 1.05)) {
            fail_msg("bucket %d of %d has %d keys, mean %.0f", i, nbuckets,
                     counts[i], mean);
        }
    }
}

static void test_balance(void **state)
{
    check_balance(3);
    check_balance(8);
    check_balance(13);
}

/* From n to n + 1 buckets: keys move only to bucket n, about 1/(n+1). */
static void check_stability(int n)
{
    double expected = (double)NKEYS / (n + 1);
    int moved       = 0;
    int before;
    int after;
    int i;

    for (i = 0; i < NKEYS; i++) {
        before = dkv__place_jump(key_hash(i), n);
        after  = dkv__place_jump(key_hash(i), n + 1);
        if (before != after) {
            assert_int_equal(after, n);
            moved++;
        }
    }
    if ((moved < expected * 0.95) || (moved > expected * 1.05)) {
        fail_msg("%d -> %d buckets moved %d keys, expected about %.0f", n,
                 n + 1, moved, expected);
    }
}

static void test_stability(void **state)
{
    int n;

    for (n = 1; n <= 16; n++) {
        check_stability(n);
    }
    check_stability(100);
}

/* Replicas: distinct holders, the jump-hash holder first, different nodes
 * whenever there are enough, dead holders skipped, fewer when too few. */
static void test_replicas_distinct_nodes(void **state)
{
    /* 6 holders on 3 nodes, two per node, blocked as launchers place them. */
    static const int node[6] = {0, 0, 1, 1, 2, 2};
    int out[DKV__PLACE_MAX_REPLICAS];
    int i, n, a, b;

    for (i = 0; i < NKEYS / 10; i++) {
        uint64_t h = key_hash(i);

        n = dkv__place_replicas(h, 6, node, NULL, NULL, 3, out);
        assert_int_equal(n, 3);
        assert_int_equal(out[0], dkv__place_jump(h, 6));
        for (a = 0; a < 3; a++) {
            for (b = a + 1; b < 3; b++) {
                assert_int_not_equal(out[a], out[b]);
                assert_int_not_equal(node[out[a]], node[out[b]]);
            }
        }
        /* More copies than nodes: the 4th shares a node, still distinct. */
        n = dkv__place_replicas(h, 6, node, NULL, NULL, 4, out);
        assert_int_equal(n, 4);
        for (a = 0; a < 4; a++) {
            for (b = a + 1; b < 4; b++) {
                assert_int_not_equal(out[a], out[b]);
            }
        }
    }
}

static void test_replicas_dead_and_short(void **state)
{
    static const int node[4] = {0, 0, 1, 1};
    uint8_t dead[4] = {0, 0, 0, 0};
    int out[DKV__PLACE_MAX_REPLICAS];
    int i, n, j;

    /* Node 1 lost: both copies land on node 0's two holders. */
    dead[2] = dead[3] = 1;
    for (i = 0; i < 1000; i++) {
        n = dkv__place_replicas(key_hash(i), 4, node, NULL, dead, 2, out);
        assert_int_equal(n, 2);
        for (j = 0; j < n; j++) {
            assert_true(out[j] < 2);
        }
    }
    /* Three dead of four: only one copy possible. */
    dead[0] = 1;
    assert_int_equal(dkv__place_replicas(key_hash(7), 4, node, NULL, dead, 2, out),
                     1);
    assert_int_equal(out[0], 1);
    /* Without a node map every holder counts as its own node. */
    assert_int_equal(dkv__place_replicas(key_hash(7), 1, NULL, NULL, NULL, 2, out),
                     1);
    assert_int_equal(out[0], 0);
}

/* The surviving copies of a key come first in the order asked once the
 * holder of its first copy is dead: a get finds it at once. */
static void check_failover(const int *node)
{
    uint8_t dead[4] = {0, 0, 0, 0};
    int full[2], live[2];
    int i;

    for (i = 0; i < 1000; i++) {
        uint64_t h = key_hash(i);

        assert_int_equal(dkv__place_replicas(h, 4, node, NULL, NULL, 2, full), 2);
        memset(dead, 0, sizeof(dead));
        dead[full[0]] = 1;
        assert_int_equal(dkv__place_replicas(h, 4, node, NULL, dead, 2, live), 2);
        assert_int_equal(live[0], full[1]);
    }
}

/* A dead holder does not keep its node from getting a copy: with one of
 * node 1's two holders dead, every key still has a copy on node 1. */
static void test_replicas_dead_frees_node(void **state)
{
    static const int node[4] = {0, 0, 1, 1};
    uint8_t dead[4] = {0, 0, 1, 0};
    int out[2];
    int i;

    for (i = 0; i < 10000; i++) {
        assert_int_equal(dkv__place_replicas(key_hash(i), 4, node, NULL,
                                             dead, 2, out), 2);
        assert_int_not_equal(node[out[0]], node[out[1]]);
        assert_int_not_equal(out[0], 2);
        assert_int_not_equal(out[1], 2);
    }
}

static void test_replicas_failover_order(void **state)
{
    static const int alternating[4] = {0, 1, 0, 1};
    static const int blocked[4]     = {0, 0, 1, 1};

    check_failover(alternating);
    check_failover(blocked);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_known_values),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_jump_known_values),
        cmocka_unit_test(test_jump_single_bucket),
        cmocka_unit_test(test_jump_in_range),
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_stability),
        cmocka_unit_test(test_replicas_distinct_nodes),
        cmocka_unit_test(test_replicas_dead_and_short),
        cmocka_unit_test(test_replicas_failover_order),
        cmocka_unit_test(test_replicas_dead_frees_node),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
