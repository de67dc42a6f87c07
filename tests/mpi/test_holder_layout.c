/*
 * test_holder_layout: DKV_HOLDERS picks the expected ranks, and data
 * round-trips whichever ranks hold it.
 *
 *   test_holder_layout EXPECTED [SPEC]
 *
 * EXPECTED: comma-separated ranks that must report dkv_is_holder() == 1
 * (all on this one node). SPEC: passed as dkv_init_params.holders, which
 * must beat DKV_HOLDERS from the environment. Every rank then puts 50 keys,
 * fences, and reads every rank's keys.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS 50

static int expected_holder(const char *list, int rank, int *count_p)
{
    const char *p     = list;
    char       *end;
    int         found = 0;
    long        r;

    *count_p = 0;
    while (*p != '\0') {
        r = strtol(p, &end, 10);
        T_CHECK(end != p);
        found |= (r == rank);
        (*count_p)++;
        p = (*end == ',') ? end + 1 : end;
    }
    return found;
}

static dkv_ctx_t *init(int argc, char **argv)
{
    dkv_init_params_t params;
    dkv_ctx_t        *ctx = NULL;

    if (argc < 3) {
        return t_init();
    }
    memset(&params, 0, sizeof(params));
    params.field_mask = DKV_INIT_PARAM_FIELD_HOLDERS;
    params.holders    = argv[2];
    T_OK(dkv_init(&params, &ctx));
    t_rank = dkv_rank(ctx);
    return ctx;
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;
    char       key[64];
    uint8_t    val[200];
    int        nexpected;
    int        holds;
    int        r;
    int        i;

    T_CHECK(argc >= 2);
    ctx   = init(argc, argv);
    holds = expected_holder(argv[1], t_rank, &nexpected);
    if ((dkv_is_holder(ctx) != holds) ||
        (dkv_num_holders(ctx) != nexpected)) {
        fprintf(stderr, "rank %d: is_holder %d (expected %d), num_holders %d "
                "(expected %d)\n", t_rank, dkv_is_holder(ctx), holds,
                dkv_num_holders(ctx), nexpected);
    }
    T_CHECK(dkv_is_holder(ctx) == holds);
    T_CHECK(dkv_num_holders(ctx) == nexpected);
    T_CHECK(dkv_is_dedicated(ctx) == 0);

    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "holders/%d/%d", t_rank, i);
        t_fill(val, (size_t)i * 4, t_seed(key, 0));
        T_OK(dkv_put(ctx, key, val, (size_t)i * 4));
    }
    T_OK(dkv_fence(ctx));
    for (r = 0; r < dkv_size(ctx); r++) {
        for (i = 0; i < NKEYS; i++) {
            snprintf(key, sizeof(key), "holders/%d/%d", r, i);
            T_VALUE(ctx, key, (size_t)i * 4, t_seed(key, 0));
        }
    }
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    return 0;
}
