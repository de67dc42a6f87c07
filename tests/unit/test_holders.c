/*
 * Unit tests for src/holders.c: every spec form, every documented
 * rejection, the text of the error (it must name the bad part), and that
 * outputs are untouched on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "holders.h"

/* Compute @p spec and compare with the @p n ranks in @p want. */
static void assert_holders(const char *spec, int size, const int *local_rank,
                           const int *want, int n)
{
    char err[256] = "";
    int *ranks    = NULL;
    int count     = -1;

    assert_int_equal(dkv__holders_compute(spec, size, local_rank, &ranks,
                                          &count, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(count, n);
    assert_non_null(ranks);
    assert_memory_equal(ranks, want, (size_t)n * sizeof(int));
    free(ranks);
}

/* @p spec must be rejected with an error containing @p part (and the
 * outputs must not be written). */
static void assert_rejected(const char *spec, int size, const int *local_rank,
                            const char *part)
{
    char err[256] = "";
    int sentinel  = 0;
    int *ranks    = &sentinel;
    int count     = -7;

    assert_int_equal(dkv__holders_compute(spec, size, local_rank, &ranks,
                                          &count, err, sizeof(err)),
                     DKV_ERR_INVALID);
    assert_ptr_equal(ranks, &sentinel);
    assert_int_equal(count, -7);
    assert_true(strncmp(err, "DKV_HOLDERS: ", 13) == 0);
    if (strstr(err, part) == NULL) {
        fail_msg("error for '%s' is '%s', expected it to contain '%s'",
                 (spec != NULL) ? spec : "(null)", err, part);
    }
}

static void test_node(void **state)
{
    static const int local[]    = {0, 1, 0, 1, 2, 0};
    static const int want[]     = {0, 2, 5};
    static const int one_node[] = {0, 1, 2, 3};
    static const int first[]    = {0};

    assert_holders("node", 6, local, want, 3);
    assert_holders("node", 4, one_node, first, 1);
}

static void test_node_rejections(void **state)
{
    static const int no_leader[] = {1, 2, 3};

    assert_rejected("node", 3, NULL, "'node'");
    assert_rejected("node", 3, no_leader, "'node' selects no rank");
}

static void test_all(void **state)
{
    static const int want[] = {0, 1, 2, 3};

    assert_holders("all", 4, NULL, want, 4);
    assert_holders("all", 1, NULL, want, 1);
}

static void test_last(void **state)
{
    static const int want[] = {0, 1, 2, 3};

    assert_holders("last:1", 4, NULL, want + 3, 1);
    assert_holders("last:3", 4, NULL, want + 1, 3);
    assert_holders("last:4", 4, NULL, want, 4);
    assert_holders("last:01", 4, NULL, want + 3, 1);
}

static void test_last_rejections(void **state)
{
    assert_rejected("last:0", 4, NULL, "count 0");
    assert_rejected("last:5", 4, NULL, "count 5");
    assert_rejected("last:", 4, NULL, "bad count '' in 'last:'");
    assert_rejected("last:2x", 4, NULL, "bad count '2x'");
    assert_rejected("last:-1", 4, NULL, "bad count '-1'");
    assert_rejected("last: 2", 4, NULL, "bad count ' 2'");
    assert_rejected("last:99999999999", 4, NULL, "bad count '99999999999'");
}

static void test_every(void **state)
{
    static const int want3[] = {0, 3, 6, 9};
    static const int all[]   = {0, 1, 2, 3, 4};

    assert_holders("every:3", 10, NULL, want3, 4);
    assert_holders("every:3", 12, NULL, want3, 4);
    assert_holders("every:1", 5, NULL, all, 5);
    assert_holders("every:100", 5, NULL, all, 1);
    assert_holders("every:2147483647", 5, NULL, all, 1);
}

static void test_every_rejections(void **state)
{
    assert_rejected("every:0", 4, NULL, "step 0");
    assert_rejected("every:", 4, NULL, "bad step ''");
    assert_rejected("every:x", 4, NULL, "bad step 'x'");
    assert_rejected("every:2,", 4, NULL, "bad step '2,'");
}

static void test_ranks(void **state)
{
    static const int want1[] = {1, 3, 8, 9, 10, 11};
    static const int want2[] = {1, 2, 3};
    static const int want3[] = {0};
    static const int want4[] = {5};

    assert_holders("ranks:3,1,8-11", 12, NULL, want1, 6);
    assert_holders("ranks:2,2,1-3,3-3", 4, NULL, want2, 3);
    assert_holders("ranks:0", 1, NULL, want3, 1);
    assert_holders("ranks:5-5", 6, NULL, want4, 1);
    assert_holders("ranks:10-11,8-9,1,3,3", 12, NULL, want1, 6);
}

static void test_ranks_rejections(void **state)
{
    assert_rejected("ranks:1,x", 4, NULL,
                    "DKV_HOLDERS: bad rank 'x' in 'ranks:1,x'");
    assert_rejected("ranks:9", 4, NULL,
                    "DKV_HOLDERS: rank 9 out of range (size 4)");
    assert_rejected("ranks:4", 4, NULL, "rank 4 out of range (size 4)");
    assert_rejected("ranks:1-9", 4, NULL, "rank 9 out of range (size 4)");
    assert_rejected("ranks:5-3", 8, NULL, "reversed range '5-3'");
    assert_rejected("ranks:3-2", 8, NULL, "reversed range '3-2'");
    assert_rejected("ranks:", 4, NULL, "empty rank list");
    assert_rejected("ranks:1,,2", 4, NULL, "empty item in 'ranks:1,,2'");
    assert_rejected("ranks:1,", 4, NULL, "empty item in 'ranks:1,'");
    assert_rejected("ranks:,1", 4, NULL, "empty item");
    assert_rejected("ranks:1-", 4, NULL, "bad range '1-'");
    assert_rejected("ranks:-1", 4, NULL, "bad range '-1'");
    assert_rejected("ranks:1-2-3", 4, NULL, "bad range '1-2-3'");
    assert_rejected("ranks:1-x", 4, NULL, "bad range '1-x'");
    assert_rejected("ranks: 1", 4, NULL, "bad rank ' 1'");
    assert_rejected("ranks:1 ,2", 4, NULL, "bad rank '1 '");
    assert_rejected("ranks:1;2", 4, NULL, "bad rank '1;2'");
    assert_rejected("ranks:+1", 4, NULL, "bad rank '+1'");
    assert_rejected("ranks:99999999999", 4, NULL, "bad rank '99999999999'");
}

static void test_spec_rejections(void **state)
{
    assert_rejected("", 4, NULL, "empty spec");
    assert_rejected(NULL, 4, NULL, "empty spec");
    assert_rejected("foo", 4, NULL, "unknown spec 'foo'");
    assert_rejected("all ", 4, NULL, "unknown spec 'all '");
    assert_rejected(" all", 4, NULL, "unknown spec ' all'");
    assert_rejected("ALL", 4, NULL, "unknown spec 'ALL'");
    assert_rejected("nodes", 4, NULL, "unknown spec 'nodes'");
    assert_rejected("last", 4, NULL, "unknown spec 'last'");
    assert_rejected("ranks", 4, NULL, "unknown spec 'ranks'");
    assert_rejected("all", 0, NULL, "bad job size 0");
}

static void test_error_buffer_optional(void **state)
{
    char err[8] = "unset";
    int *ranks  = NULL;
    int count   = 0;

    assert_int_equal(
        dkv__holders_compute("foo", 4, NULL, &ranks, &count, NULL, 0),
        DKV_ERR_INVALID);
    /* A short buffer gets a cut, still terminated, message. */
    assert_int_equal(
        dkv__holders_compute("foo", 4, NULL, &ranks, &count, err, sizeof(err)),
        DKV_ERR_INVALID);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_null(ranks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_node_rejections),
        cmocka_unit_test(test_all),
        cmocka_unit_test(test_last),
        cmocka_unit_test(test_last_rejections),
        cmocka_unit_test(test_every),
        cmocka_unit_test(test_every_rejections),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_ranks_rejections),
        cmocka_unit_test(test_spec_rejections),
        cmocka_unit_test(test_error_buffer_optional),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
