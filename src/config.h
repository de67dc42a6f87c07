/*
 * config: the DKV_* settings, read once at dkv_init (no getenv elsewhere).
 * Pure: no UCX or PMIx. The variable list is config_table.h.
 */
#ifndef DKV_CONFIG_H
#define DKV_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "dramkv.h"

typedef enum {
    DKV__CFG_FROM_DEFAULT = 0,
    DKV__CFG_FROM_ENV     = 1,
    DKV__CFG_FROM_PARAM   = 2
} dkv__cfg_source_t;

#define DKV__CFG_C_string const char *
#define DKV__CFG_C_uint   unsigned
#define DKV__CFG_C_size   size_t
#define DKV__CFG_C_bool   int

typedef struct dkv__config {
#define DKV_CFG(name, type, def, help) DKV__CFG_C_##type name;
#include "config_table.h"
#undef DKV_CFG
    /* Where each value came from, indexed like the table. */
    dkv__cfg_source_t source[16];
    /* Storage for string values (they point into here or at literals). */
    char strbuf[512];
} dkv__config_t;

/*
 * Fill @p cfg: defaults, then DKV_* variables from @p getenv_fn (pass
 * getenv; tests pass a fake), then fields set in @p params. On error the
 * name of the bad variable and value are written to @p err (size errlen).
 * Returns DKV_OK or DKV_ERR_INVALID.
 */
dkv_status_t dkv__config_load(dkv__config_t *cfg,
                              const dkv_init_params_t *params,
                              const char *(*getenv_fn)(const char *),
                              char *err, size_t errlen);

/* Print "DKV_NAME value (default|env|param)  # help" lines to @p out. */
void dkv__config_print(const dkv__config_t *cfg, FILE *out);

/*
 * Parse a byte size: decimal digits with an optional suffix k, m, g or t
 * (either case, powers of 1024, optional trailing 'b'/'B').
 * Rejects empty text, signs, junk and overflow. DKV_OK or DKV_ERR_INVALID.
 */
dkv_status_t dkv__parse_size(const char *text, size_t *size_p);

/* Parse an unsigned decimal (fits in unsigned). DKV_OK or DKV_ERR_INVALID. */
dkv_status_t dkv__parse_uint(const char *text, unsigned *value_p);

/* Parse 0/1/yes/no/true/false/on/off (any case). */
dkv_status_t dkv__parse_bool(const char *text, int *value_p);

#endif
