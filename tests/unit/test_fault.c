/*
 * test_fault: the DKV_FAULT parser accepts every documented item and rejects
 * malformed specs, naming the bad item.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fault.h"

static void test_empty(void **state)
{
    dkv__fault_t f;
    char         err[128];

    memset(&f, 0x55, sizeof(f));
    assert_int_equal(dkv__fault_parse(NULL, &f, err, sizeof(err)), DKV_OK);
    assert_true(f.kill_after == 0 && f.drop_acks == 0 && f.corrupt == 0);
    assert_int_equal(f.delay_ms, 0);
    assert_int_equal(dkv__fault_parse("", &f, err, sizeof(err)), DKV_OK);
}

static void test_items(void **state)
{
    dkv__fault_t f;
    char         err[128];

    assert_int_equal(dkv__fault_parse("kill_after:10,drop_acks:3,"
                                      "delay_ack:250,corrupt:7",
                                      &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.kill_after, 10);
    assert_int_equal(f.drop_acks, 3);
    assert_int_equal(f.delay_ms, 250);
    assert_int_equal(f.corrupt, 7);
    assert_int_equal(dkv__fault_parse("corrupt:1", &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.corrupt, 1);
    assert_int_equal(f.kill_after, 0);
}

static void test_rejects(void **state)
{
    static const char *bad[] = {"kill", "kill_after", "kill_after:",
                                "kill_after:x", "kill_after:-1", "nope:3",
                                "corrupt:3,", ",corrupt:3", "delay_ack:9999999",
                                "corrupt:3 ", "corrupt:99999999999999999999"};
    dkv__fault_t f;
    char         err[128];
    size_t       i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        f.corrupt = 42;
        assert_int_equal(dkv__fault_parse(bad[i], &f, err, sizeof(err)),
                         DKV_ERR_INVALID);
        assert_non_null(strstr(err, "DKV_FAULT"));
        assert_int_equal(f.corrupt, 42); /* untouched on error */
    }
    dkv__fault_parse("corrupt:2,bogus:1", &f, err, sizeof(err));
    assert_non_null(strstr(err, "'bogus:1'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_rejects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
