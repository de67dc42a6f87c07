/*
 * Unit tests for src/log.c: level parsing, the line format with and without
 * a rank, one newline-terminated line per call even when cut, and the
 * level check that skips evaluating the arguments. stderr is redirected to
 * a temporary file while a test captures it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define DKV_LOG_MODULE "test"
#include "log.h"

static int saved_stderr = -1;
static FILE *capture;

static void capture_start(void)
{
    fflush(stderr);
    capture = tmpfile();
    assert_non_null(capture);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
}

/* Stop capturing; returns what was written (static buffer). */
static const char *capture_stop(void)
{
    static char text[4096];
    size_t n;

    fflush(stderr);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    rewind(capture);
    n       = fread(text, 1, sizeof(text) - 1, capture);
    text[n] = '\0';
    fclose(capture);
    return text;
}

static void test_parse_level(void **state)
{
    assert_int_equal(dkv__log_parse_level(""), DKV__LOG_NONE);
    assert_int_equal(dkv__log_parse_level(NULL), DKV__LOG_NONE);
    assert_int_equal(dkv__log_parse_level("none"), DKV__LOG_NONE);
    assert_int_equal(dkv__log_parse_level("error"), DKV__LOG_ERROR);
    assert_int_equal(dkv__log_parse_level("warn"), DKV__LOG_WARN);
    assert_int_equal(dkv__log_parse_level("info"), DKV__LOG_INFO);
    assert_int_equal(dkv__log_parse_level("debug"), DKV__LOG_DEBUG);
    assert_int_equal(dkv__log_parse_level("TRACE"), DKV__LOG_TRACE);
    assert_int_equal(dkv__log_parse_level("loud"), -1);
    assert_int_equal(dkv__log_parse_level("warning"), -1);
    assert_int_equal(dkv__log_parse_level(" info"), -1);
}

static void test_silent_by_default(void **state)
{
    /* Runs first: nothing has called dkv__log_setup() yet. */
    assert_int_equal(dkv__log_level, DKV__LOG_NONE);
    capture_start();
    DKV_LOG_ERROR("must not appear %d", 1);
    assert_string_equal(capture_stop(), "");
}

static void test_rank_unknown_before_setup(void **state)
{
    capture_start();
    dkv__log_emit(DKV__LOG_WARN, "mod", "value %d", 7);
    assert_string_equal(capture_stop(), "dkv[?] warn mod: value 7\n");
}

static void test_format_with_rank(void **state)
{
    dkv__log_setup(DKV__LOG_INFO, 12);
    capture_start();
    DKV_LOG_INFO("holder %d ready", 3);
    DKV_LOG_ERROR("key %s", "k1");
    DKV_LOG_DEBUG("hidden");
    assert_string_equal(capture_stop(), "dkv[12] info test: holder 3 ready\n"
                                        "dkv[12] error test: key k1\n");
    dkv__log_setup(DKV__LOG_NONE, -1);
}

static void test_long_line_cut(void **state)
{
    char big[3000];
    const char *text;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    dkv__log_setup(DKV__LOG_TRACE, 0);
    capture_start();
    DKV_LOG_TRACE("%s", big);
    text = capture_stop();
    dkv__log_setup(DKV__LOG_NONE, -1);

    assert_true(strncmp(text, "dkv[0] trace test: xxx", 22) == 0);
    assert_true(strlen(text) < sizeof(big));
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
}

static int evaluated;

static int side_effect(void)
{
    evaluated++;
    return 1;
}

static void test_disabled_skips_arguments(void **state)
{
    dkv__log_setup(DKV__LOG_WARN, 1);
    evaluated = 0;
    capture_start();
    DKV_LOG_INFO("%d", side_effect());
    DKV_LOG_WARN("%d", side_effect());
    assert_string_equal(capture_stop(), "dkv[1] warn test: 1\n");
    assert_int_equal(evaluated, 1);
    dkv__log_setup(DKV__LOG_NONE, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_by_default),
        cmocka_unit_test(test_rank_unknown_before_setup),
        cmocka_unit_test(test_parse_level),
        cmocka_unit_test(test_format_with_rank),
        cmocka_unit_test(test_long_line_cut),
        cmocka_unit_test(test_disabled_skips_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
