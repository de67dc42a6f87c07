/*
 * Unit tests for src/status.c: every status code has its own text, unknown
 * codes get a fixed text, and dkv__status_is_known() matches the list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

typedef struct {
    int value;
    const char *text;
} status_row_t;

static const status_row_t status_rows[] = {
#define DKV_X_ROW(name, value, text) {value, text},
    DKV_STATUS_MAP(DKV_X_ROW)
#undef DKV_X_ROW
};

#define NROWS (sizeof(status_rows) / sizeof(status_rows[0]))

static void test_strerror_every_code(void **state)
{
    size_t i;

    for (i = 0; i < NROWS; i++) {
        assert_string_equal(dkv_strerror((dkv_status_t)status_rows[i].value),
                            status_rows[i].text);
    }
    assert_string_equal(dkv_strerror(DKV_OK), "success");
    assert_string_equal(dkv_strerror(DKV_ERR_NO_SPACE),
                        "holder memory limit reached");
    assert_string_equal(dkv_strerror(DKV_ERR_CORRUPT),
                        "data failed its integrity check");
}

static void test_strerror_texts_distinct(void **state)
{
    size_t i;
    size_t j;

    for (i = 0; i < NROWS; i++) {
        for (j = i + 1; j < NROWS; j++) {
            assert_int_not_equal(status_rows[i].value, status_rows[j].value);
            assert_string_not_equal(status_rows[i].text, status_rows[j].text);
        }
    }
}

static void test_strerror_unknown(void **state)
{
    static const int unknown[] = {1, 2, 100, -18, -1000, INT32_MAX, INT32_MIN};
    size_t i;

    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        assert_string_equal(dkv_strerror((dkv_status_t)unknown[i]),
                            "unknown status");
    }
}

static void test_is_known(void **state)
{
    int value;
    size_t i;
    int found;

    /* Every value in a wide window is known exactly when it is listed. */
    for (value = -100; value <= 100; value++) {
        found = 0;
        for (i = 0; i < NROWS; i++) {
            found |= (status_rows[i].value == value);
        }
        assert_int_equal(dkv__status_is_known(value), found);
    }
    assert_true(dkv__status_is_known(DKV_ERR_CORRUPT));
    assert_false(dkv__status_is_known(INT32_MIN));
    assert_false(dkv__status_is_known(INT32_MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_strerror_texts_distinct),
        cmocka_unit_test(test_strerror_unknown),
        cmocka_unit_test(test_is_known),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
