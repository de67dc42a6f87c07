/*
 * Unit tests for src/stage_wire.c: LIST_REPLY entries round-trip and every
 * malformed entry is refused without reading past the buffer; DRAIN
 * requests and DRAIN_REPLY infos are checked field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stage_wire.h"

static void test_list_round_trip(void **state)
{
    static const char *keys[] = {"a", "ckpt/0001/rows/0-127", "z"};
    char        buf[256], big[DKV_KEY_MAX];
    const char *key;
    size_t      len = 0, pos = 0, klen;
    uint64_t    size;
    int         i;

    for (i = 0; i < 3; i++) {
        len += dkv__list_entry_pack(buf + len, keys[i], strlen(keys[i]),
                                    (uint64_t)i << 40);
    }
    for (i = 0; i < 3; i++) {
        assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen,
                                              &size), 1);
        assert_int_equal(klen, strlen(keys[i]));
        assert_memory_equal(key, keys[i], klen);
        assert_true(size == (uint64_t)i << 40);
    }
    assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen, &size),
                     0);
    /* The longest key fits; an empty reply is the end at once. */
    memset(big, 'k', sizeof(big));
    {
        char *one = malloc(dkv__list_entry_size(DKV_KEY_MAX));

        len = dkv__list_entry_pack(one, big, DKV_KEY_MAX, 7);
        pos = 0;
        assert_int_equal(dkv__list_entry_next(one, len, &pos, &key, &klen,
                                              &size), 1);
        assert_int_equal(klen, DKV_KEY_MAX);
        free(one);
    }
    pos = 0;
    assert_int_equal(dkv__list_entry_next(buf, 0, &pos, &key, &klen, &size),
                     0);
}

static void test_list_malformed(void **state)
{
    char        buf[64];
    const char *key;
    size_t      len, pos, klen, cut;
    uint64_t    size;
    uint32_t    bad;

    len = dkv__list_entry_pack(buf, "key", 3, 1);
    /* Every truncation of a valid entry is malformed. */
    for (cut = 1; cut < len; cut++) {
        char *copy = malloc(cut); /* exact size: ASan sees overreads */

        memcpy(copy, buf, cut);
        pos = 0;
        assert_int_equal(dkv__list_entry_next(copy, cut, &pos, &key, &klen,
                                              &size), -1);
        free(copy);
    }
    /* Key length 0, beyond DKV_KEY_MAX, beyond the buffer. */
    bad = 0;
    memcpy(buf, &bad, sizeof(bad));
    pos = 0;
    assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen, &size),
                     -1);
    bad = DKV_KEY_MAX + 1;
    memcpy(buf, &bad, sizeof(bad));
    assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen, &size),
                     -1);
    bad = 0xffffffffu;
    memcpy(buf, &bad, sizeof(bad));
    assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen, &size),
                     -1);
    /* A position past the end. */
    pos = len + 1;
    assert_int_equal(dkv__list_entry_next(buf, len, &pos, &key, &klen, &size),
                     -1);
}

static size_t make_req(char *buf, uint32_t index, uint32_t nfiles,
                       const char *path)
{
    dkv__drain_req_t r = {.index = index, .nfiles = nfiles,
                          .path_len = (uint32_t)strlen(path)};

    memcpy(buf, &r, sizeof(r));
    memcpy(buf + sizeof(r), path, strlen(path));
    return sizeof(r) + strlen(path);
}

static void test_drain_req(void **state)
{
    char             buf[128];
    dkv__drain_req_t r;
    const char      *path;
    const uint8_t   *dead;
    size_t           len = make_req(buf, 1, 3, "/shared/ck");

    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead), DKV_OK);
    assert_int_equal(r.index, 1);
    assert_int_equal(r.nfiles, 3);
    assert_memory_equal(path, "/shared/ck", r.path_len);
    assert_null(dead);
    /* Short, index out of range, no files, empty path, length mismatch,
     * NUL inside the path, a bitmap longer than what follows. */
    assert_int_equal(dkv__drain_req_parse(buf, 4, &r, &path, &dead), DKV_ERR_PROTOCOL);
    assert_int_equal(dkv__drain_req_parse(NULL, 0, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    len = make_req(buf, 3, 3, "/d");
    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    len = make_req(buf, 0, 0, "/d");
    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    len = make_req(buf, 0, 1, "");
    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    len = make_req(buf, 0, 1, "/dir");
    assert_int_equal(dkv__drain_req_parse(buf, len - 1, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    buf[len - 2] = '\0';
    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    len = make_req(buf, 0, 1, "/dir");
    ((dkv__drain_req_t *)(void *)buf)->dead_len = 1;
    assert_int_equal(dkv__drain_req_parse(buf, len, &r, &path, &dead),
                     DKV_ERR_PROTOCOL);
    /* With the bitmap of lost holders after the path. */
    len = make_req(buf, 0, 2, "/dir");
    ((dkv__drain_req_t *)(void *)buf)->dead_len = 2;
    buf[len]     = 0x05;
    buf[len + 1] = 0x00;
    assert_int_equal(dkv__drain_req_parse(buf, len + 2, &r, &path, &dead),
                     DKV_OK);
    assert_int_equal(r.path_len, 4);
    assert_non_null(dead);
    assert_int_equal(dead[0], 0x05);
}

static void test_drain_info(void **state)
{
    dkv__drain_info_t in, out;

    memset(&in, 0, sizeof(in));
    in.id            = 42;
    in.done          = 1;
    in.nfiles        = 2;
    in.index         = 1;
    in.bytes_written = in.bytes_total = 100;
    in.keys_written = in.keys_total = 3;
    strcpy(in.file.name, "dkv-000000000000002a-h00000.dat");
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out), DKV_OK);
    assert_memory_equal(&in, &out, sizeof(in));
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in) - 1, &out),
                     DKV_ERR_PROTOCOL);
    in.done = 2;
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.done  = 1;
    in.index = 2; /* not below nfiles */
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.index = 1;
    in.done          = 0;
    in.bytes_written = 101;
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.bytes_written = 100;
    in.keys_written  = 4;
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.keys_written = 3;
    in.status       = 12345; /* no such status */
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.status = DKV_OK;
    memset(in.why, 'y', sizeof(in.why)); /* no NUL in the reason */
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
    in.why[0] = '\0';
    memset(in.file.name, 'x', sizeof(in.file.name)); /* no NUL */
    assert_int_equal(dkv__drain_info_check(&in, sizeof(in), &out),
                     DKV_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_round_trip),
        cmocka_unit_test(test_list_malformed),
        cmocka_unit_test(test_drain_req),
        cmocka_unit_test(test_drain_info),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
