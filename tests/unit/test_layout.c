/*
 * Unit tests for src/layout.c: node numbers (lowest rank on the node) and
 * local ranks for block, cyclic, uneven and one-node jobs, whatever order
 * the launcher lists nodes and ranks in; every inconsistent or malformed
 * input rejected with its status, a message naming the problem and the
 * output untouched; host names give the same answers; and 100,000 ranks on
 * 1,000 nodes, every answer checked, in well under a second.
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

#include "layout.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Build from @p nodes and compare with the expected arrays. */
static void assert_layout(int size, const dkv__layout_node_t *nodes, int nnodes,
                          const int *want_node, const int *want_local,
                          int want_nnodes)
{
    dkv__layout_t *layout = NULL;
    char err[256]         = "";

    assert_int_equal(
        dkv__layout_from_peers(size, nodes, nnodes, &layout, err, sizeof(err)),
        DKV_OK);
    assert_non_null(layout);
    assert_int_equal(layout->size, size);
    assert_int_equal(layout->nnodes, want_nnodes);
    assert_memory_equal(layout->node, want_node, (size_t)size * sizeof(int));
    assert_memory_equal(layout->local, want_local, (size_t)size * sizeof(int));
    dkv__layout_destroy(layout);
}

/* @p nodes must be rejected with @p want and a message containing @p part;
 * the output must not be written. */
static void assert_rejected(int size, const dkv__layout_node_t *nodes,
                            int nnodes, dkv_status_t want, const char *part)
{
    dkv__layout_t sentinel;
    dkv__layout_t *layout = &sentinel;
    char err[256]         = "";

    assert_int_equal(
        dkv__layout_from_peers(size, nodes, nnodes, &layout, err, sizeof(err)),
        want);
    assert_ptr_equal(layout, &sentinel);
    if (strstr(err, part) == NULL) {
        fail_msg("error is '%s', expected it to contain '%s'", err, part);
    }
}

static void test_block(void **state)
{
    static const dkv__layout_node_t nodes[] = {{"n1", "0,1,2,3"},
                                               {"n2", "4,5,6,7"}};
    static const int node[]                 = {0, 0, 0, 0, 4, 4, 4, 4};
    static const int local[]                = {0, 1, 2, 3, 0, 1, 2, 3};

    assert_layout(8, nodes, NELEM(nodes), node, local, 2);
}

static void test_cyclic(void **state)
{
    static const dkv__layout_node_t nodes[] = {
        {"n1", "0,3,6"}, {"n2", "1,4"}, {"n3", "2,5"}};
    static const int node[]  = {0, 1, 2, 0, 1, 2, 0};
    static const int local[] = {0, 0, 0, 1, 1, 1, 2};

    assert_layout(7, nodes, NELEM(nodes), node, local, 3);
}

/* Numbers come from the ranks, not from the order of nodes or ranks. */
static void test_any_order(void **state)
{
    static const dkv__layout_node_t nodes[]   = {{"n2", "5,1,3"},
                                                 {"n1", "4,0,2"}};
    static const dkv__layout_node_t swapped[] = {{"n1", "2,4,0"},
                                                 {"n2", "3,5,1"}};
    static const int node[]                   = {0, 1, 0, 1, 0, 1};
    static const int local[]                  = {0, 0, 1, 1, 2, 2};

    assert_layout(6, nodes, NELEM(nodes), node, local, 2);
    assert_layout(6, swapped, NELEM(swapped), node, local, 2);
}

static void test_uneven(void **state)
{
    static const dkv__layout_node_t nodes[] = {
        {"n1", "0"}, {"n2", "1,2,3,4"}, {"idle", ""}, {"n3", "5,6"}};
    static const int node[]  = {0, 1, 1, 1, 1, 5, 5};
    static const int local[] = {0, 0, 1, 2, 3, 0, 1};

    assert_layout(7, nodes, NELEM(nodes), node, local, 3);
}

static void test_one_node(void **state)
{
    static const dkv__layout_node_t nodes[]  = {{"n1", "4,3,2,1,0"}};
    static const dkv__layout_node_t single[] = {{"n1", "0"}};
    static const int node[]                  = {0, 0, 0, 0, 0};
    static const int local[]                 = {0, 1, 2, 3, 4};

    assert_layout(5, nodes, 1, node, local, 1);
    assert_layout(1, single, 1, node, local, 1);
}

static void test_rank_on_two_nodes(void **state)
{
    static const dkv__layout_node_t nodes[] = {{"n1", "0,1"}, {"n2", "1,2"}};
    static const dkv__layout_node_t twice[] = {{"n1", "0,1,0"}, {"n2", "2"}};

    assert_rejected(3, nodes, 2, DKV_ERR_BOOTSTRAP,
                    "rank 1 is listed by node 0 (n1) and by node 1 (n2)");
    assert_rejected(3, twice, 2, DKV_ERR_BOOTSTRAP,
                    "node 0 (n1) lists rank 0 twice");
}

static void test_rank_missing(void **state)
{
    static const dkv__layout_node_t nodes[] = {{"n1", "0,2"}, {"n2", "3"}};
    static const dkv__layout_node_t last[]  = {{"n1", "0,1,2"}};

    assert_rejected(4, nodes, 2, DKV_ERR_BOOTSTRAP, "rank 1 is on no node");
    assert_rejected(4, last, 1, DKV_ERR_BOOTSTRAP, "rank 3 is on no node");
}

static void test_rank_out_of_range(void **state)
{
    static const dkv__layout_node_t nodes[] = {{"n1", "0,1"}, {"n2", "2,3"}};
    static const dkv__layout_node_t huge[]  = {
         {"n1", "0,1,2,99999999999999999999999"}};

    assert_rejected(3, nodes, 2, DKV_ERR_BOOTSTRAP,
                    "node 1 (n2) lists rank 3, out of range 0..2");
    assert_rejected(3, huge, 1, DKV_ERR_BOOTSTRAP,
                    "rank 99999999999999999999999, out of range");
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {"0,,1", "0,1,", ",0,1", "0 1",  "0;1",
                                      "a",    "-1",   "+1",   " 0,1", "0,1x"};
    dkv__layout_node_t nodes[2]    = {{"n1", NULL}, {NULL, "2"}};
    int i;

    for (i = 0; i < NELEM(bad); i++) {
        nodes[0].peers = bad[i];
        assert_rejected(3, nodes, 2, DKV_ERR_BOOTSTRAP,
                        "are not a list of ranks");
    }
    /* A nameless node is still named in the message. */
    nodes[0].peers = "0,1";
    nodes[1].peers = "2,";
    assert_rejected(3, nodes, 2, DKV_ERR_BOOTSTRAP, "node 1 (?)");
}

static void test_bad_arguments(void **state)
{
    static const dkv__layout_node_t nodes[]   = {{"n1", "0"}};
    static const dkv__layout_node_t no_list[] = {{"n1", NULL}};
    dkv__layout_t *layout                     = NULL;

    assert_rejected(0, nodes, 1, DKV_ERR_INVALID, "bad arguments");
    assert_rejected(1, nodes, 0, DKV_ERR_INVALID, "bad arguments");
    assert_rejected(1, NULL, 1, DKV_ERR_INVALID, "bad arguments");
    assert_rejected(1, no_list, 1, DKV_ERR_INVALID, "no rank list");
    assert_int_equal(dkv__layout_from_peers(1, nodes, 1, NULL, NULL, 0),
                     DKV_ERR_INVALID);
    /* No message buffer: still a status, no crash. */
    assert_int_equal(dkv__layout_from_peers(2, nodes, 1, &layout, NULL, 0),
                     DKV_ERR_BOOTSTRAP);
    assert_null(layout);
    dkv__layout_destroy(NULL);
}

static void test_hosts(void **state)
{
    static const char *const host[] = {"b", "a", "b", "a", "c", "b"};
    static const char *const none[] = {"a", NULL};
    static const int node[]         = {0, 1, 0, 1, 4, 0};
    static const int local[]        = {0, 0, 1, 1, 0, 2};
    dkv__layout_t *layout           = NULL;
    char err[256]                   = "";

    assert_int_equal(dkv__layout_from_hosts(6, host, &layout, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(layout->nnodes, 3);
    assert_memory_equal(layout->node, node, sizeof(node));
    assert_memory_equal(layout->local, local, sizeof(local));
    dkv__layout_destroy(layout);

    layout = NULL;
    assert_int_equal(dkv__layout_from_hosts(2, none, &layout, err, sizeof(err)),
                     DKV_ERR_INVALID);
    assert_null(layout);
    assert_non_null(strstr(err, "rank 1 has no host name"));
    assert_int_equal(dkv__layout_from_hosts(0, host, &layout, NULL, 0),
                     DKV_ERR_INVALID);
}

#define BIG_RANKS 100000
#define BIG_NODES 1000

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/*
 * Node j's rank list for a cyclic placement (rank r on node r % BIG_NODES),
 * written in descending order so nothing relies on sorted input.
 */
static char *cyclic_peers(int j)
{
    size_t cap = (size_t)(BIG_RANKS / BIG_NODES) * 8 + 1;
    char *text = malloc(cap);
    size_t len = 0;
    int r;

    assert_non_null(text);
    text[0] = '\0';
    for (r = BIG_RANKS - BIG_NODES + j; r >= 0; r -= BIG_NODES) {
        len += (size_t)snprintf(text + len, cap - len, "%s%d",
                                (len > 0) ? "," : "", r);
    }
    assert_true(len < cap);
    return text;
}

static void test_100k_ranks(void **state)
{
    dkv__layout_node_t *nodes = calloc(BIG_NODES, sizeof(*nodes));
    const char **host         = calloc(BIG_RANKS, sizeof(*host));
    char names[BIG_NODES][16];
    dkv__layout_t *layout = NULL;
    dkv__layout_t *byhost = NULL;
    struct timespec t0;
    double peers_s, hosts_s;
    int r, j;

    assert_non_null(nodes);
    assert_non_null(host);
    /* Nodes listed last to first. */
    for (j = 0; j < BIG_NODES; j++) {
        snprintf(names[j], sizeof(names[j]), "node%04d", j);
        nodes[BIG_NODES - 1 - j].name  = names[j];
        nodes[BIG_NODES - 1 - j].peers = cyclic_peers(j);
    }
    for (r = 0; r < BIG_RANKS; r++) {
        host[r] = names[r % BIG_NODES];
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(
        dkv__layout_from_peers(BIG_RANKS, nodes, BIG_NODES, &layout, NULL, 0),
        DKV_OK);
    peers_s = seconds_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(dkv__layout_from_hosts(BIG_RANKS, host, &byhost, NULL, 0),
                     DKV_OK);
    hosts_s = seconds_since(&t0);
    print_message("layout of %d ranks on %d nodes: %.1f ms from rank "
                  "lists, %.1f ms from host names\n",
                  BIG_RANKS, BIG_NODES, peers_s * 1e3, hosts_s * 1e3);

    assert_int_equal(layout->nnodes, BIG_NODES);
    assert_int_equal(byhost->nnodes, BIG_NODES);
    for (r = 0; r < BIG_RANKS; r++) {
        assert_int_equal(layout->node[r], r % BIG_NODES);
        assert_int_equal(layout->local[r], r / BIG_NODES);
        assert_int_equal(byhost->node[r], r % BIG_NODES);
        assert_int_equal(byhost->local[r], r / BIG_NODES);
    }
    /* Linear work is a few milliseconds; the O(P^2) loop it replaces took
     * seconds at this size. */
    assert_true(peers_s < 0.5);
    assert_true(hosts_s < 0.5);

    dkv__layout_destroy(layout);
    dkv__layout_destroy(byhost);
    for (j = 0; j < BIG_NODES; j++) {
        free((char *)nodes[j].peers);
    }
    free(nodes);
    free(host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block),
        cmocka_unit_test(test_cyclic),
        cmocka_unit_test(test_any_order),
        cmocka_unit_test(test_uneven),
        cmocka_unit_test(test_one_node),
        cmocka_unit_test(test_rank_on_two_nodes),
        cmocka_unit_test(test_rank_missing),
        cmocka_unit_test(test_rank_out_of_range),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_100k_ranks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
