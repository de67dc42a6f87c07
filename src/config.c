/*
 * config: builds dkv__config_t from three layers, each overriding the one
 * before: the defaults of config_table.h, the DKV_<NAME> environment
 * variables (read through a caller-supplied getenv so tests can fake it),
 * and the fields of dkv_init_params_t whose bit is set. Every layer goes
 * through the same text parser, so a value is checked the same way whatever
 * its source, and the first bad value stops the load with a message naming
 * the variable and the value.
 *
 * String values point at the table's literals (defaults) or at copies in
 * cfg->strbuf, so they live as long as the config struct itself; a struct
 * copy must therefore not outlive its original. Pure; called once by
 * dkv_init() on the calling thread.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "place.h"

enum {
#define DKV_CFG(name, type, def, help) DKV__CFG_IDX_##name,
#include "config_table.h"
#undef DKV_CFG
    DKV__CFG_COUNT
};

_Static_assert(DKV__CFG_COUNT <= sizeof(((dkv__config_t *)0)->source) /
                                     sizeof(dkv__cfg_source_t),
               "config source[] too small for config_table.h");

typedef struct {
    const char *name;
    const char *def;
    const char *help;
} cfg_entry_t;

static const cfg_entry_t cfg_entries[] = {
#define DKV_CFG(name, type, def, help) {#name, def, help},
#include "config_table.h"
#undef DKV_CFG
};

/* State of one dkv__config_load() call. */
typedef struct {
    dkv__config_t *cfg;
    size_t strpos;            /* bytes of cfg->strbuf in use */
    dkv__cfg_source_t source; /* layer being applied */
    const char *why;          /* what was wrong with the last value */
} cfg_loader_t;

static const char *source_name(dkv__cfg_source_t source)
{
    switch (source) {
    case DKV__CFG_FROM_ENV:
        return "env";
    case DKV__CFG_FROM_PARAM:
        return "param";
    default:
        return "default";
    }
}

/* ------------------------------------------------------------------ */
/* Parsers                                                             */
/* ------------------------------------------------------------------ */

static int is_digit(char c)
{
    return (c >= '0') && (c <= '9');
}

/* Leading decimal digits of @p text into @p value_p, at most @p max.
 * Returns the first byte after them, or NULL (no digits, overflow). */
static const char *parse_digits(const char *text, uint64_t max,
                                uint64_t *value_p)
{
    uint64_t value = 0;
    unsigned digit;

    if ((text == NULL) || !is_digit(*text)) {
        return NULL;
    }
    for (; is_digit(*text); text++) {
        digit = (unsigned)(*text - '0');
        if (value > (max - digit) / 10) {
            return NULL;
        }
        value = value * 10 + digit;
    }
    *value_p = value;
    return text;
}

static unsigned size_suffix_shift(char c)
{
    switch (c) {
    case 'k':
    case 'K':
        return 10;
    case 'm':
    case 'M':
        return 20;
    case 'g':
    case 'G':
        return 30;
    case 't':
    case 'T':
        return 40;
    default:
        return 0;
    }
}

dkv_status_t dkv__parse_size(const char *text, size_t *size_p)
{
    const char *p;
    uint64_t value;
    unsigned shift;

    p = parse_digits(text, SIZE_MAX, &value);
    if (p == NULL) {
        return DKV_ERR_INVALID;
    }
    shift = size_suffix_shift(*p);
    if (shift != 0) {
        p++;
    }
    if ((*p == 'b') || (*p == 'B')) {
        p++;
    }
    if ((*p != '\0') || (value > ((uint64_t)SIZE_MAX >> shift))) {
        return DKV_ERR_INVALID;
    }
    *size_p = (size_t)(value << shift);
    return DKV_OK;
}

dkv_status_t dkv__parse_uint(const char *text, unsigned *value_p)
{
    const char *p;
    uint64_t value;

    p = parse_digits(text, UINT_MAX, &value);
    if ((p == NULL) || (*p != '\0')) {
        return DKV_ERR_INVALID;
    }
    *value_p = (unsigned)value;
    return DKV_OK;
}

dkv_status_t dkv__parse_bool(const char *text, int *value_p)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[]  = {"0", "no", "false", "off"};
    size_t i;

    if (text == NULL) {
        return DKV_ERR_INVALID;
    }
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *value_p = 1;
            return DKV_OK;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *value_p = 0;
            return DKV_OK;
        }
    }
    return DKV_ERR_INVALID;
}

/* ------------------------------------------------------------------ */
/* Setting one value from text, by type                                */
/* ------------------------------------------------------------------ */

static dkv_status_t set_string(cfg_loader_t *ld, const char **field,
                               const char *text)
{
    size_t len;

    if (text == NULL) {
        ld->why = "expected a string";
        return DKV_ERR_INVALID;
    }
    /* Defaults are literals from the table and outlive any copy. */
    if (ld->source == DKV__CFG_FROM_DEFAULT) {
        *field = text;
        return DKV_OK;
    }
    len = strlen(text);
    if (len >= sizeof(ld->cfg->strbuf) - ld->strpos) {
        ld->why = "value too long";
        return DKV_ERR_INVALID;
    }
    memcpy(ld->cfg->strbuf + ld->strpos, text, len + 1);
    *field = ld->cfg->strbuf + ld->strpos;
    ld->strpos += len + 1;
    return DKV_OK;
}

static dkv_status_t set_uint(cfg_loader_t *ld, unsigned *field,
                             const char *text)
{
    ld->why = "expected an unsigned integer";
    return dkv__parse_uint(text, field);
}

static dkv_status_t set_size(cfg_loader_t *ld, size_t *field, const char *text)
{
    ld->why = "expected a size such as 4096, 64k, 1M, 2g";
    return dkv__parse_size(text, field);
}

static dkv_status_t set_bool(cfg_loader_t *ld, int *field, const char *text)
{
    ld->why = "expected 0|1|yes|no|true|false|on|off";
    return dkv__parse_bool(text, field);
}

/* Checks beyond the type: the value's meaning. */
static dkv_status_t check_value(cfg_loader_t *ld, int idx)
{
    const dkv__config_t *cfg = ld->cfg;

    if ((idx == DKV__CFG_IDX_TIMEOUT_MS) && (cfg->TIMEOUT_MS == 0)) {
        ld->why = "must be at least 1";
        return DKV_ERR_INVALID;
    }
    if ((idx == DKV__CFG_IDX_REPLICAS) &&
        ((cfg->REPLICAS < 1) || (cfg->REPLICAS > DKV__PLACE_MAX_REPLICAS))) {
        ld->why = "must be 1..8";
        return DKV_ERR_INVALID;
    }
    if ((idx == DKV__CFG_IDX_LOG) && (dkv__log_parse_level(cfg->LOG) < 0)) {
        ld->why = "expected error|warn|info|debug|trace|none";
        return DKV_ERR_INVALID;
    }
    return DKV_OK;
}

/* Parse @p text into entry @p idx and record the current source. */
static dkv_status_t apply_text(cfg_loader_t *ld, int idx, const char *text)
{
    dkv__config_t *cfg = ld->cfg;
    dkv_status_t status;

    switch (idx) {
#define DKV_CFG(name, type, def, help)                                         \
    case DKV__CFG_IDX_##name:                                                  \
        status = set_##type(ld, &cfg->name, text);                             \
        break;
#include "config_table.h"
#undef DKV_CFG
    default:
        status = DKV_ERR_INVALID;
        break;
    }
    if (status == DKV_OK) {
        status = check_value(ld, idx);
    }
    if (status == DKV_OK) {
        cfg->source[idx] = ld->source;
    }
    return status;
}

/* ------------------------------------------------------------------ */
/* The three layers                                                    */
/* ------------------------------------------------------------------ */

static void format_error(const cfg_loader_t *ld, int idx, const char *text,
                         char *err, size_t errlen)
{
    if ((err == NULL) || (errlen == 0)) {
        return;
    }
    snprintf(err, errlen, "DKV_%s: bad value '%s' from %s (%s)",
             cfg_entries[idx].name, (text != NULL) ? text : "(null)",
             source_name(ld->source), ld->why);
}

static dkv_status_t load_defaults(cfg_loader_t *ld, char *err, size_t errlen)
{
    int idx;

    ld->source = DKV__CFG_FROM_DEFAULT;
    for (idx = 0; idx < DKV__CFG_COUNT; idx++) {
        if (apply_text(ld, idx, cfg_entries[idx].def) != DKV_OK) {
            format_error(ld, idx, cfg_entries[idx].def, err, errlen);
            return DKV_ERR_INVALID;
        }
    }
    return DKV_OK;
}

/* 1 if @p params sets entry @p idx: then its variable is not even read. */
static int param_sets(const dkv_init_params_t *params, int idx)
{
    static const struct {
        int      idx;
        uint64_t bit;
    } fields[] = {
        {DKV__CFG_IDX_TIMEOUT_MS, DKV_INIT_PARAM_FIELD_TIMEOUT_MS},
        {DKV__CFG_IDX_HOLDERS, DKV_INIT_PARAM_FIELD_HOLDERS},
        {DKV__CFG_IDX_HOLD_BYTES, DKV_INIT_PARAM_FIELD_HOLD_BYTES},
        {DKV__CFG_IDX_DEDICATED, DKV_INIT_PARAM_FIELD_DEDICATED},
        {DKV__CFG_IDX_REPLICAS, DKV_INIT_PARAM_FIELD_REPLICAS},
    };
    size_t i;

    for (i = 0; (params != NULL) && (i < sizeof(fields) / sizeof(fields[0]));
         i++) {
        if ((fields[i].idx == idx) && (params->field_mask & fields[i].bit)) {
            return 1;
        }
    }
    return 0;
}

static dkv_status_t load_env(cfg_loader_t *ld, const dkv_init_params_t *params,
                             const char *(*getenv_fn)(const char *), char *err,
                             size_t errlen)
{
    char var[64];
    const char *text;
    int idx;

    ld->source = DKV__CFG_FROM_ENV;
    for (idx = 0; idx < DKV__CFG_COUNT; idx++) {
        snprintf(var, sizeof(var), "DKV_%s", cfg_entries[idx].name);
        text = getenv_fn(var);
        if ((text == NULL) || param_sets(params, idx)) {
            continue;
        }
        if (apply_text(ld, idx, text) != DKV_OK) {
            format_error(ld, idx, text, err, errlen);
            return DKV_ERR_INVALID;
        }
    }
    return DKV_OK;
}

/* Apply one params field, given as text, reporting errors like env ones. */
static dkv_status_t apply_param(cfg_loader_t *ld, int idx, const char *text,
                                char *err, size_t errlen)
{
    if (apply_text(ld, idx, text) != DKV_OK) {
        format_error(ld, idx, text, err, errlen);
        return DKV_ERR_INVALID;
    }
    return DKV_OK;
}

static dkv_status_t load_params(cfg_loader_t *ld,
                                const dkv_init_params_t *params, char *err,
                                size_t errlen)
{
    uint64_t mask       = params->field_mask;
    dkv_status_t status = DKV_OK;
    char text[32];

    ld->source = DKV__CFG_FROM_PARAM;
    if ((mask & DKV_INIT_PARAM_FIELD_TIMEOUT_MS) != 0) {
        snprintf(text, sizeof(text), "%u", params->timeout_ms);
        status = apply_param(ld, DKV__CFG_IDX_TIMEOUT_MS, text, err, errlen);
    }
    if ((status == DKV_OK) && ((mask & DKV_INIT_PARAM_FIELD_HOLDERS) != 0)) {
        status =
            apply_param(ld, DKV__CFG_IDX_HOLDERS, params->holders, err, errlen);
    }
    if ((status == DKV_OK) && ((mask & DKV_INIT_PARAM_FIELD_HOLD_BYTES) != 0)) {
        snprintf(text, sizeof(text), "%zu", params->hold_bytes);
        status = apply_param(ld, DKV__CFG_IDX_HOLD_BYTES, text, err, errlen);
    }
    if ((status == DKV_OK) && ((mask & DKV_INIT_PARAM_FIELD_DEDICATED) != 0)) {
        status = apply_param(ld, DKV__CFG_IDX_DEDICATED,
                             (params->dedicated != 0) ? "1" : "0", err, errlen);
    }
    if ((status == DKV_OK) && ((mask & DKV_INIT_PARAM_FIELD_REPLICAS) != 0)) {
        snprintf(text, sizeof(text), "%u", params->replicas);
        status = apply_param(ld, DKV__CFG_IDX_REPLICAS, text, err, errlen);
    }
    return status;
}

dkv_status_t dkv__config_load(dkv__config_t *cfg,
                              const dkv_init_params_t *params,
                              const char *(*getenv_fn)(const char *), char *err,
                              size_t errlen)
{
    cfg_loader_t ld = {.cfg = cfg};
    dkv_status_t status;

    if ((err != NULL) && (errlen > 0)) {
        err[0] = '\0';
    }
    memset(cfg, 0, sizeof(*cfg));

    status = load_defaults(&ld, err, errlen);
    if ((status == DKV_OK) && (getenv_fn != NULL)) {
        status = load_env(&ld, params, getenv_fn, err, errlen);
    }
    if ((status == DKV_OK) && (params != NULL)) {
        status = load_params(&ld, params, err, errlen);
    }
    return status;
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

static void format_string(char *buf, size_t size, const char *value)
{
    snprintf(buf, size, "%s", (value != NULL) ? value : "");
}

static void format_uint(char *buf, size_t size, unsigned value)
{
    snprintf(buf, size, "%u", value);
}

static void format_size(char *buf, size_t size, size_t value)
{
    snprintf(buf, size, "%zu", value);
}

static void format_bool(char *buf, size_t size, int value)
{
    snprintf(buf, size, "%d", value);
}

void dkv__config_print(const dkv__config_t *cfg, FILE *out)
{
    char value[sizeof(cfg->strbuf)];

#define DKV_CFG(name, type, def, help)                                         \
    format_##type(value, sizeof(value), cfg->name);                            \
    fprintf(out, "DKV_%s %s (%s)  # %s\n", #name, value,                       \
            source_name(cfg->source[DKV__CFG_IDX_##name]), help);
#include "config_table.h"
#undef DKV_CFG
}
