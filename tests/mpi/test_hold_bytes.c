/*
 * test_hold_bytes: a holder's memory limit (1 MiB, keys and values).
 * Run with one holder and the limit set to 1 MiB by DKV_HOLD_BYTES (or, with
 * argument "params", by dkv_init_params while the environment says more).
 * The last rank:
 * - puts 4 KiB values in batches of 16, quiet after each, until a quiet
 *   returns DKV_ERR_NO_SPACE; every listed failed key is from that batch
 *   with DKV_ERR_NO_SPACE; stored bytes fit the limit; stored keys read
 *   back, failed keys are DKV_ERR_NOT_FOUND; the next quiet is DKV_OK;
 * - overwrites a stored key with a value too big for the space left: the
 *   key then holds the old value or nothing, never part of the new one;
 * - deletes 32 keys, after which 16 new 4 KiB keys fit;
 * - a single 2 MiB value fails with DKV_ERR_NO_SPACE (also into an empty
 *   holder) and is DKV_ERR_NOT_FOUND; a 512 KiB value fits an empty holder.
 * Afterwards every rank fences (DKV_OK) and checks the final state.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT    (1u << 20)
#define VAL      4096
#define BATCH    16
#define MAXKEYS  1024
#define HUGE_VAL (2u << 20)

static int stored[MAXKEYS]; /* 1 = "hb/fill/i" holds its value */
static int nkeys;           /* keys tried */

static void key_of(char *key, size_t len, const char *kind, int i)
{
    snprintf(key, len, "hb/%s/%d", kind, i);
}

static void put_val(dkv_ctx_t *ctx, const char *key, size_t size,
                    uint64_t version)
{
    uint8_t *buf = malloc(size);

    T_CHECK(buf != NULL);
    t_fill(buf, size, t_seed(key, version));
    T_OK(dkv_put(ctx, key, buf, size));
    free(buf);
}

/* The failed keys of the last quiet: all NO_SPACE, from [first, nkeys). */
static size_t check_failed(dkv_ctx_t *ctx, int first)
{
    size_t       n = dkv_failed_count(ctx);
    const char  *key;
    dkv_status_t why;
    size_t       i;
    int          k;

    T_CHECK((n >= 1) && (n <= (size_t)(nkeys - first)));
    for (i = 0; i < n; i++) {
        key = NULL;
        why = DKV_OK;
        T_OK(dkv_failed_key(ctx, i, &key, &why));
        T_CHECK(key != NULL);
        T_STATUS(DKV_ERR_NO_SPACE, why);
        T_CHECK(sscanf(key, "hb/fill/%d", &k) == 1);
        T_CHECK((k >= first) && (k < nkeys) && stored[k]);
        stored[k] = 0;
    }
    return n;
}

static void fill(dkv_ctx_t *ctx)
{
    char         key[64];
    dkv_status_t s = DKV_OK;
    int          first;
    int          i;
    int          nstored = 0;

    while (s == DKV_OK) {
        T_CHECK(nkeys + BATCH <= MAXKEYS);
        first = nkeys;
        for (i = 0; i < BATCH; i++, nkeys++) {
            key_of(key, sizeof(key), "fill", nkeys);
            put_val(ctx, key, VAL, 0);
            stored[nkeys] = 1;
        }
        s = dkv_quiet(ctx);
        if (s == DKV_OK) {
            T_CHECK(dkv_failed_count(ctx) == 0);
        }
    }
    T_STATUS(DKV_ERR_NO_SPACE, s);
    check_failed(ctx, first);
    for (i = 0; i < nkeys; i++) {
        nstored += stored[i];
    }
    printf("rank %d: %d of %d 4 KiB values fit a 1 MiB holder\n", t_rank,
           nstored, nkeys);
    T_CHECK((size_t)nstored * VAL <= LIMIT);
    T_CHECK((size_t)nstored * VAL >= LIMIT / 2);

    T_OK(dkv_quiet(ctx)); /* nothing outstanding, errors not repeated */
    T_CHECK(dkv_failed_count(ctx) == 0);
}

static void check_fill(dkv_ctx_t *ctx)
{
    char key[64];
    int  i;

    for (i = 0; i < nkeys; i++) {
        key_of(key, sizeof(key), "fill", i);
        if (stored[i]) {
            T_VALUE(ctx, key, VAL, t_seed(key, 0));
        } else {
            T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
        }
    }
}

/* Overwrite a stored key with 256 KiB while the holder is nearly full. */
static void overwrite_when_full(dkv_ctx_t *ctx)
{
    char         key[64];
    dkv_status_t s;
    dkv_status_t g;
    size_t       got = 0;
    uint8_t     *buf = malloc(256u << 10);

    T_CHECK(buf != NULL);
    key_of(key, sizeof(key), "fill", 0);
    T_CHECK(stored[0]);
    put_val(ctx, key, 256u << 10, 1);
    s = dkv_quiet(ctx);
    g = dkv_get(ctx, key, buf, 256u << 10, &got);
    if (s == DKV_OK) {
        T_OK(g);
        T_CHECK((got == (256u << 10)) && t_verify(buf, got, t_seed(key, 1)));
    } else {
        T_STATUS(DKV_ERR_NO_SPACE, s);
        T_CHECK(dkv_failed_count(ctx) == 1);
        T_CHECK((g == DKV_OK) || (g == DKV_ERR_NOT_FOUND));
        if (g == DKV_OK) {
            T_CHECK((got == VAL) && t_verify(buf, got, t_seed(key, 0)));
        }
    }
    printf("rank %d: overwrite while full -> %s, key then %s (%zu B)\n",
           t_rank, dkv_strerror(s), dkv_strerror(g), got);
    /* From here on key 0 is simply gone. */
    T_OK(dkv_delete(ctx, key));
    T_OK(dkv_quiet(ctx));
    stored[0] = 0;
    free(buf);
}

static void delete_frees_space(dkv_ctx_t *ctx)
{
    char key[64];
    int  deleted = 0;
    int  i;

    for (i = 0; (i < nkeys) && (deleted < 32); i++) {
        if (stored[i]) {
            key_of(key, sizeof(key), "fill", i);
            T_OK(dkv_delete(ctx, key));
            stored[i] = 0;
            deleted++;
        }
    }
    T_CHECK(deleted == 32);
    T_OK(dkv_quiet(ctx));
    for (i = 0; i < 16; i++) {
        key_of(key, sizeof(key), "again", i);
        put_val(ctx, key, VAL, 0);
    }
    T_OK(dkv_quiet(ctx));
    T_CHECK(dkv_failed_count(ctx) == 0);
}

static void check_again(dkv_ctx_t *ctx)
{
    char key[64];
    int  i;

    for (i = 0; i < 16; i++) {
        key_of(key, sizeof(key), "again", i);
        T_VALUE(ctx, key, VAL, t_seed(key, 0));
    }
}

static void expect_huge_fails(dkv_ctx_t *ctx)
{
    const char  *key = NULL;
    dkv_status_t why = DKV_OK;

    put_val(ctx, "hb/huge", HUGE_VAL, 0);
    T_STATUS(DKV_ERR_NO_SPACE, dkv_quiet(ctx));
    T_CHECK(dkv_failed_count(ctx) == 1);
    T_OK(dkv_failed_key(ctx, 0, &key, &why));
    T_CHECK((key != NULL) && (strcmp(key, "hb/huge") == 0));
    T_STATUS(DKV_ERR_NO_SPACE, why);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, "hb/huge", NULL, 0, NULL));
}

/* Empty the holder; 2 MiB still fails, 512 KiB fits. */
static void empty_holder(dkv_ctx_t *ctx)
{
    char key[64];
    int  i;

    for (i = 0; i < nkeys; i++) {
        if (stored[i]) {
            key_of(key, sizeof(key), "fill", i);
            T_OK(dkv_delete(ctx, key));
            stored[i] = 0;
        }
    }
    for (i = 0; i < 16; i++) {
        key_of(key, sizeof(key), "again", i);
        T_OK(dkv_delete(ctx, key));
    }
    T_OK(dkv_quiet(ctx));
    expect_huge_fails(ctx);
    put_val(ctx, "hb/half", 512u << 10, 0);
    T_OK(dkv_quiet(ctx));
}

/* The writer shares which fill keys it stored: one byte per key. */
static void publish_state(dkv_ctx_t *ctx)
{
    uint8_t flags[MAXKEYS];
    int     i;

    for (i = 0; i < nkeys; i++) {
        flags[i] = (uint8_t)stored[i];
    }
    T_OK(dkv_put(ctx, "hb/state", flags, (size_t)nkeys));
    T_OK(dkv_quiet(ctx));
}

static void load_state(dkv_ctx_t *ctx)
{
    uint8_t *flags = NULL;
    size_t   n     = 0;
    size_t   i;

    T_OK(dkv_get_alloc(ctx, "hb/state", (void **)&flags, &n));
    T_CHECK((n > 0) && (n <= MAXKEYS));
    nkeys = (int)n;
    for (i = 0; i < n; i++) {
        stored[i] = flags[i];
    }
    free(flags);
}

static dkv_ctx_t *init(int argc, char **argv)
{
    dkv_init_params_t params;
    dkv_ctx_t        *ctx = NULL;

    if ((argc < 2) || (strcmp(argv[1], "params") != 0)) {
        return t_init();
    }
    memset(&params, 0, sizeof(params));
    params.field_mask = DKV_INIT_PARAM_FIELD_HOLD_BYTES;
    params.hold_bytes = LIMIT;
    T_OK(dkv_init(&params, &ctx));
    t_rank = dkv_rank(ctx);
    return ctx;
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx    = init(argc, argv);
    int        writer = dkv_size(ctx) - 1;

    T_CHECK(dkv_num_holders(ctx) == 1);
    if (t_rank == writer) {
        fill(ctx);
        check_fill(ctx);
        overwrite_when_full(ctx);
        delete_frees_space(ctx);
        check_fill(ctx);
        check_again(ctx);
        expect_huge_fails(ctx);
        publish_state(ctx);
    }
    T_OK(dkv_fence(ctx));
    if (t_rank != writer) {
        load_state(ctx);
    }
    check_fill(ctx);
    check_again(ctx);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, "hb/huge", NULL, 0, NULL));
    T_OK(dkv_fence(ctx));
    if (t_rank == writer) {
        empty_holder(ctx);
    }
    T_OK(dkv_fence(ctx));
    T_VALUE(ctx, "hb/half", 512u << 10, t_seed("hb/half", 0));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    return 0;
}
