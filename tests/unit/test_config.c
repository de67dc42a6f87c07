/*
 * Unit tests for src/config.c: defaults from the table, DKV_* variables
 * through a fake getenv, params beating the environment, rejection of bad
 * values with the variable and value named, the value parsers, and the
 * printed dump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

/* Indices of cfg.source[], in table order. */
enum {
#define DKV_CFG(name, type, def, help) IDX_##name,
#include "config_table.h"
#undef DKV_CFG
    IDX_COUNT
};

/* One variable of the fake environment; a NULL name ends the list. */
typedef struct {
    const char *name;
    const char *value;
} env_var_t;

static const env_var_t *fake_env;

static const char *fake_getenv(const char *name)
{
    size_t i;

    for (i = 0; (fake_env != NULL) && (fake_env[i].name != NULL); i++) {
        if (strcmp(fake_env[i].name, name) == 0) {
            return fake_env[i].value;
        }
    }
    return NULL;
}

static dkv_status_t load(dkv__config_t *cfg, const dkv_init_params_t *params,
                         const env_var_t *env, char *err, size_t errlen)
{
    fake_env = env;
    return dkv__config_load(cfg, params, fake_getenv, err, errlen);
}

static void assert_defaults(const dkv__config_t *cfg)
{
    int i;

    assert_string_equal(cfg->LOG, "");
    assert_int_equal(cfg->TIMEOUT_MS, 60000);
    assert_string_equal(cfg->HOLDERS, "node");
    assert_int_equal(cfg->HOLD_BYTES, 0);
    assert_int_equal(cfg->DEDICATED, 0);
    assert_int_equal(cfg->REPLICAS, 1);
    assert_int_equal(cfg->SPIN_US, 50);
    assert_int_equal(cfg->RNDV_THRESH, 32 * 1024);
    assert_int_equal(cfg->PRINT_CONFIG, 0);
    for (i = 0; i < IDX_COUNT; i++) {
        assert_int_equal(cfg->source[i], DKV__CFG_FROM_DEFAULT);
    }
}

static void test_defaults(void **state)
{
    static const env_var_t empty_env[] = {{NULL, NULL}};
    dkv__config_t cfg;
    char err[256] = "junk";

    assert_int_equal(load(&cfg, NULL, empty_env, err, sizeof(err)), DKV_OK);
    assert_defaults(&cfg);
    assert_string_equal(err, "");

    /* No getenv at all, and params with no bits set, change nothing. */
    assert_int_equal(dkv__config_load(&cfg, NULL, NULL, err, sizeof(err)),
                     DKV_OK);
    assert_defaults(&cfg);
}

static void test_params_without_bits_ignored(void **state)
{
    dkv_init_params_t params = {.field_mask = 0,
                                .timeout_ms = 0,
                                .holders    = "bogus",
                                .hold_bytes = 5,
                                .dedicated  = 1};
    dkv__config_t cfg;
    char err[256];

    assert_int_equal(load(&cfg, &params, NULL, err, sizeof(err)), DKV_OK);
    assert_defaults(&cfg);
}

static void test_env_overrides(void **state)
{
    char holders[]        = "last:2";
    const env_var_t env[] = {{"DKV_TIMEOUT_MS", "1500"},
                             {"DKV_HOLDERS", holders},
                             {"DKV_HOLD_BYTES", "4k"},
                             {"DKV_DEDICATED", "yes"},
                             {"DKV_LOG", "debug"},
                             {"DKV_RNDV_THRESH", "1M"},
                             {"DKV_SPIN_US", "0"},
                             {"TIMEOUT_MS", "7"},
                             {NULL, NULL}};
    dkv__config_t cfg;
    char err[256];

    assert_int_equal(load(&cfg, NULL, env, err, sizeof(err)), DKV_OK);
    assert_int_equal(cfg.TIMEOUT_MS, 1500);
    assert_string_equal(cfg.HOLDERS, "last:2");
    assert_int_equal(cfg.HOLD_BYTES, 4096);
    assert_int_equal(cfg.DEDICATED, 1);
    assert_string_equal(cfg.LOG, "debug");
    assert_int_equal(cfg.RNDV_THRESH, 1024 * 1024);
    assert_int_equal(cfg.SPIN_US, 0);
    assert_int_equal(cfg.PRINT_CONFIG, 0);
    assert_int_equal(cfg.source[IDX_TIMEOUT_MS], DKV__CFG_FROM_ENV);
    assert_int_equal(cfg.source[IDX_HOLDERS], DKV__CFG_FROM_ENV);
    assert_int_equal(cfg.source[IDX_PRINT_CONFIG], DKV__CFG_FROM_DEFAULT);

    /* The string was copied: changing the environment later is harmless. */
    holders[0] = 'X';
    assert_string_equal(cfg.HOLDERS, "last:2");
}

static void test_params_beat_env(void **state)
{
    static const env_var_t env[] = {{"DKV_TIMEOUT_MS", "1500"},
                                    {"DKV_HOLDERS", "all"},
                                    {"DKV_HOLD_BYTES", "4k"},
                                    {"DKV_DEDICATED", "1"},
                                    {NULL, NULL}};
    char holders[]               = "ranks:0,2";
    dkv_init_params_t params = {.field_mask = DKV_INIT_PARAM_FIELD_TIMEOUT_MS |
                                              DKV_INIT_PARAM_FIELD_HOLDERS |
                                              DKV_INIT_PARAM_FIELD_HOLD_BYTES |
                                              DKV_INIT_PARAM_FIELD_DEDICATED,
                                .timeout_ms = 777,
                                .holders    = holders,
                                .hold_bytes = 123456789,
                                .dedicated  = 0};
    dkv__config_t cfg;
    char err[256];

    assert_int_equal(load(&cfg, &params, env, err, sizeof(err)), DKV_OK);
    assert_int_equal(cfg.TIMEOUT_MS, 777);
    assert_string_equal(cfg.HOLDERS, "ranks:0,2");
    assert_int_equal(cfg.HOLD_BYTES, 123456789);
    assert_int_equal(cfg.DEDICATED, 0);
    assert_int_equal(cfg.source[IDX_TIMEOUT_MS], DKV__CFG_FROM_PARAM);
    assert_int_equal(cfg.source[IDX_HOLDERS], DKV__CFG_FROM_PARAM);
    assert_int_equal(cfg.source[IDX_HOLD_BYTES], DKV__CFG_FROM_PARAM);
    assert_int_equal(cfg.source[IDX_DEDICATED], DKV__CFG_FROM_PARAM);
    holders[0] = 'X';
    assert_string_equal(cfg.HOLDERS, "ranks:0,2");

    /* Replicas from the parameters, checked like the variable. */
    params.field_mask = DKV_INIT_PARAM_FIELD_REPLICAS;
    params.replicas   = 3;
    assert_int_equal(load(&cfg, &params, env, err, sizeof(err)), DKV_OK);
    assert_int_equal(cfg.REPLICAS, 3);
    params.replicas = 0;
    assert_int_equal(load(&cfg, &params, env, err, sizeof(err)),
                     DKV_ERR_INVALID);

    /* A field set in the parameters is not read from the environment, so a
     * bad variable for it does not matter. */
    {
        const env_var_t bad[] = {{"DKV_REPLICAS", "abc"},
                                 {"DKV_TIMEOUT_MS", "0"}, {NULL, NULL}};
        dkv_init_params_t p2 = {
            .field_mask = DKV_INIT_PARAM_FIELD_REPLICAS |
                          DKV_INIT_PARAM_FIELD_TIMEOUT_MS,
            .replicas = 2, .timeout_ms = 7};

        assert_int_equal(load(&cfg, &p2, bad, err, sizeof(err)), DKV_OK);
        assert_int_equal(cfg.REPLICAS, 2);
        assert_int_equal(cfg.TIMEOUT_MS, 7);
        p2.field_mask = DKV_INIT_PARAM_FIELD_REPLICAS;
        assert_int_equal(load(&cfg, &p2, bad, err, sizeof(err)),
                         DKV_ERR_INVALID);
        assert_non_null(strstr(err, "DKV_TIMEOUT_MS"));
    }

    /* Any non-zero dedicated means yes; one bit leaves the rest to env. */
    params.field_mask = DKV_INIT_PARAM_FIELD_DEDICATED;
    params.dedicated  = 42;
    assert_int_equal(load(&cfg, &params, env, err, sizeof(err)), DKV_OK);
    assert_int_equal(cfg.DEDICATED, 1);
    assert_int_equal(cfg.TIMEOUT_MS, 1500);
    assert_string_equal(cfg.HOLDERS, "all");
    assert_int_equal(cfg.source[IDX_TIMEOUT_MS], DKV__CFG_FROM_ENV);
}

/* Loading with one bad variable fails and names it and its value. */
static void assert_env_rejected(const char *name, const char *value)
{
    const env_var_t env[] = {{name, value}, {NULL, NULL}};
    dkv__config_t cfg;
    char err[256] = "";

    assert_int_equal(load(&cfg, NULL, env, err, sizeof(err)), DKV_ERR_INVALID);
    assert_non_null(strstr(err, name));
    assert_non_null(strstr(err, value));
}

static void test_bad_env_values(void **state)
{
    char long_value[600];

    assert_env_rejected("DKV_TIMEOUT_MS", "abc");
    assert_env_rejected("DKV_TIMEOUT_MS", "0");
    assert_env_rejected("DKV_TIMEOUT_MS", "-5");
    assert_env_rejected("DKV_TIMEOUT_MS", "");
    assert_env_rejected("DKV_TIMEOUT_MS", "4294967296");
    assert_env_rejected("DKV_SPIN_US", "1.5");
    assert_env_rejected("DKV_HOLD_BYTES", "12q");
    assert_env_rejected("DKV_HOLD_BYTES", "-1");
    assert_env_rejected("DKV_RNDV_THRESH", "k");
    assert_env_rejected("DKV_DEDICATED", "maybe");
    assert_env_rejected("DKV_REPLICAS", "0");
    assert_env_rejected("DKV_REPLICAS", "9");
    assert_env_rejected("DKV_REPLICAS", "two");
    assert_env_rejected("DKV_PRINT_CONFIG", "2");
    assert_env_rejected("DKV_LOG", "loud");

    memset(long_value, 'a', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    {
        const env_var_t env[] = {{"DKV_HOLDERS", long_value}, {NULL, NULL}};
        dkv__config_t cfg;
        char err[1024] = "";

        assert_int_equal(load(&cfg, NULL, env, err, sizeof(err)),
                         DKV_ERR_INVALID);
        assert_non_null(strstr(err, "DKV_HOLDERS"));
    }
}

static void test_bad_params(void **state)
{
    dkv_init_params_t params = {.field_mask = DKV_INIT_PARAM_FIELD_TIMEOUT_MS,
                                .timeout_ms = 0};
    dkv__config_t cfg;
    char err[256] = "";

    assert_int_equal(load(&cfg, &params, NULL, err, sizeof(err)),
                     DKV_ERR_INVALID);
    assert_non_null(strstr(err, "DKV_TIMEOUT_MS"));
    assert_non_null(strstr(err, "'0'"));
    assert_non_null(strstr(err, "param"));

    params.field_mask = DKV_INIT_PARAM_FIELD_HOLDERS;
    params.holders    = NULL;
    err[0]            = '\0';
    assert_int_equal(load(&cfg, &params, NULL, err, sizeof(err)),
                     DKV_ERR_INVALID);
    assert_non_null(strstr(err, "DKV_HOLDERS"));

    /* A tiny or absent error buffer is fine. */
    params.field_mask = DKV_INIT_PARAM_FIELD_TIMEOUT_MS;
    assert_int_equal(load(&cfg, &params, NULL, err, 1), DKV_ERR_INVALID);
    assert_string_equal(err, "");
    assert_int_equal(load(&cfg, &params, NULL, NULL, 0), DKV_ERR_INVALID);
}

static void test_parse_size(void **state)
{
    static const struct {
        const char *text;
        size_t value;
    } good[] = {
        {"0", 0},
        {"64", 64},
        {"64b", 64},
        {"4k", 4096},
        {"4K", 4096},
        {"8KB", 8192},
        {"8kb", 8192},
        {"1M", 1u << 20},
        {"2g", 2ull << 30},
        {"1t", 1ull << 40},
        {"007", 7},
        {"18446744073709551615", SIZE_MAX},
        {"16777215t", 16777215ull << 40},
    };
    static const char *const bad[] = {"",
                                      "-1",
                                      "+1",
                                      "1x",
                                      "k",
                                      "KB",
                                      "b",
                                      " 1",
                                      "1 ",
                                      "1kk",
                                      "1bk",
                                      "1k ",
                                      "0x10",
                                      "1.5k",
                                      "99999999999999999999",
                                      "18446744073709551616",
                                      "18446744073709551615g",
                                      "16777216t"};
    size_t value;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        value = 12345;
        assert_int_equal(dkv__parse_size(good[i].text, &value), DKV_OK);
        assert_int_equal(value, good[i].value);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        value = 12345;
        assert_int_equal(dkv__parse_size(bad[i], &value), DKV_ERR_INVALID);
        assert_int_equal(value, 12345);
    }
    assert_int_equal(dkv__parse_size(NULL, &value), DKV_ERR_INVALID);
}

static void test_parse_uint(void **state)
{
    static const char *const bad[] = {
        "",     "-1",         "+1",
        "1x",   " 1",         "1.0",
        "0x10", "4294967296", "99999999999999999999"};
    unsigned value;
    size_t i;

    assert_int_equal(dkv__parse_uint("0", &value), DKV_OK);
    assert_int_equal(value, 0);
    assert_int_equal(dkv__parse_uint("60000", &value), DKV_OK);
    assert_int_equal(value, 60000);
    assert_int_equal(dkv__parse_uint("4294967295", &value), DKV_OK);
    assert_int_equal(value, 4294967295u);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        value = 99;
        assert_int_equal(dkv__parse_uint(bad[i], &value), DKV_ERR_INVALID);
        assert_int_equal(value, 99);
    }
}

static void test_parse_bool(void **state)
{
    static const char *const yes[] = {"1",    "yes", "YES", "true",
                                      "True", "on",  "ON"};
    static const char *const no[]  = {"0",     "no",  "No", "false",
                                      "FALSE", "off", "Off"};
    static const char *const bad[] = {"",     "2",  "y",     "n",
                                      "yes ", "01", "enable"};
    int value;
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        value = 0;
        assert_int_equal(dkv__parse_bool(yes[i], &value), DKV_OK);
        assert_int_equal(value, 1);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        value = 1;
        assert_int_equal(dkv__parse_bool(no[i], &value), DKV_OK);
        assert_int_equal(value, 0);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        value = 7;
        assert_int_equal(dkv__parse_bool(bad[i], &value), DKV_ERR_INVALID);
        assert_int_equal(value, 7);
    }
}

static void test_print(void **state)
{
    static const env_var_t env[] = {{"DKV_TIMEOUT_MS", "1500"}, {NULL, NULL}};
    dkv_init_params_t params = {.field_mask = DKV_INIT_PARAM_FIELD_HOLD_BYTES,
                                .hold_bytes = 2048};
    dkv__config_t cfg;
    char err[256];
    char *text  = NULL;
    size_t size = 0;
    FILE *out;
    int lines = 0;
    const char *p;

    assert_int_equal(load(&cfg, &params, env, err, sizeof(err)), DKV_OK);
    out = open_memstream(&text, &size);
    assert_non_null(out);
    dkv__config_print(&cfg, out);
    fclose(out);

    assert_non_null(strstr(text, "DKV_TIMEOUT_MS 1500 (env)  # deadline of "
                                 "any blocking call, in ms\n"));
    assert_non_null(strstr(text, "DKV_HOLD_BYTES 2048 (param)  # "));
    assert_non_null(strstr(text, "DKV_HOLDERS node (default)  # "));
    assert_non_null(strstr(text, "DKV_RNDV_THRESH 32768 (default)  # "));
    assert_non_null(strstr(text, "DKV_DEDICATED 0 (default)  # "));
    for (p = text; *p != '\0'; p++) {
        lines += (*p == '\n');
    }
    assert_int_equal(lines, IDX_COUNT);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_params_without_bits_ignored),
        cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_params_beat_env),
        cmocka_unit_test(test_bad_env_values),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_uint),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_print),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
