/*
 * test_drain_info: dkv_drain_info (src/drain_info.c) on directories built
 * with the drain writer: the complete drain first with its counts, data
 * files no manifest names as incomplete drains, a damaged file makes its
 * drain incomplete, bad arguments and a missing directory.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "drain_file.h"

#define ID 0x0123456789abcdefull
#define OTHER 0xfedcba9876543210ull

static int setup(void **state)
{
    char *dir = strdup("/tmp/dkv-drain-info-XXXXXX");

    if ((dir == NULL) || (mkdtemp(dir) == NULL)) {
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;
    DIR *d    = opendir(dir);
    struct dirent *de;

    while ((d != NULL) && ((de = readdir(d)) != NULL)) {
        if (de->d_name[0] != '.') {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

static const dkv__drain_item_t items[3] = {
    {"a", 1, "one", 3, 0, 0}, {"bb", 2, "two", 3, 0, 0}, {"c", 1, "", 0, 0, 0}};

/* Drain @p id: @p nfiles files of the three items each, and its manifest
 * if @p commit. */
static void make_drain(const char *dir, uint64_t id, size_t nfiles, int commit,
                       dkv__drain_file_info_t *files)
{
    dkv__drain_manifest_t m = {.id = id, .nfiles = nfiles, .files = files};
    char err[512];
    size_t i;

    for (i = 0; i < nfiles; i++) {
        assert_int_equal(dkv__drain_file_write(dir, id, (int)i, items, 3, NULL,
                                               NULL, &files[i], err,
                                               sizeof(err)),
                         DKV_OK);
    }
    if (commit) {
        assert_int_equal(dkv__drain_manifest_write(dir, &m, err, sizeof(err)),
                         DKV_OK);
    }
}

static void test_empty_and_args(void **state)
{
    const char *dir = *state;
    dkv_drain_desc_t d[2];
    size_t n = 7;

    assert_int_equal(dkv_drain_info(dir, d, 2, &n), DKV_OK);
    assert_int_equal(n, 0);
    assert_int_equal(dkv_drain_info(NULL, d, 2, &n), DKV_ERR_INVALID);
    assert_int_equal(dkv_drain_info(dir, NULL, 2, &n), DKV_ERR_INVALID);
    assert_int_equal(dkv_drain_info(dir, d, 2, NULL), DKV_ERR_INVALID);
    assert_int_equal(dkv_drain_info("/nonexistent/dkv", d, 2, &n),
                     DKV_ERR_NOT_FOUND);
}

static void test_complete_and_incomplete(void **state)
{
    const char *dir = *state;
    dkv__drain_file_info_t files[3], other[2];
    dkv_drain_desc_t d[3];
    size_t n = 0;

    make_drain(dir, ID, 3, 1, files);
    make_drain(dir, OTHER, 2, 0, other); /* written, never committed */
    assert_int_equal(dkv_drain_info(dir, NULL, 0, &n), DKV_OK);
    assert_int_equal(n, 2);
    memset(d, 0xff, sizeof(d));
    assert_int_equal(dkv_drain_info(dir, d, 1, &n), DKV_OK); /* room: 1 */
    assert_int_equal(n, 2);
    assert_int_equal(d[0].id, ID);
    assert_int_equal(d[1].id, UINT64_MAX); /* not written */
    assert_int_equal(dkv_drain_info(dir, d, 3, &n), DKV_OK);
    assert_int_equal(d[0].complete, 1);
    assert_int_equal(d[0].newest, 1);
    assert_int_equal(d[0].files, 3);
    assert_int_equal(d[0].keys, 9);
    assert_int_equal(d[0].bytes, 3 * (4 + 5 + 1));
    assert_true(d[0].time > 0);
    assert_string_equal(d[0].label, "");
    assert_int_equal(d[1].id, OTHER);
    assert_int_equal(d[1].complete, 0);
    assert_int_equal(d[1].newest, 0);
    assert_int_equal(d[1].files, 2);
    assert_int_equal(d[1].keys, 0);
}

/* A file of the committed drain is truncated: no drain is complete. */
static void test_damaged_is_incomplete(void **state)
{
    const char *dir = *state;
    dkv__drain_file_info_t files[2];
    dkv_drain_desc_t d[2];
    char path[256];
    size_t n = 0;

    make_drain(dir, ID, 2, 1, files);
    snprintf(path, sizeof(path), "%s/%s", dir, files[1].name);
    assert_int_equal(truncate(path, 40), 0);
    assert_int_equal(dkv_drain_info(dir, d, 2, &n), DKV_OK);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].id, ID);
    assert_int_equal(d[0].complete, 0);
    assert_int_equal(d[0].newest, 0);
    assert_int_equal(d[0].files, 2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_empty_and_args),
        T(test_complete_and_incomplete),
        T(test_damaged_is_incomplete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
