/*
 * test_dedicated: DKV_DEDICATED=1 - holders only serve.
 * A dedicated holder sees dkv_is_dedicated() == 1, gets DKV_ERR_STATE from
 * dkv_fence (called before serving: it must not block), then sits in
 * dkv_serve() until every other rank has finalized, then finalizes. The
 * other ranks (dkv_serve is DKV_ERR_STATE for them) put, fence among
 * themselves and read every client's keys, twice, then finalize.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#define KEYS_PER_RANK 20

static size_t size_of(int j, int round)
{
    static const size_t sizes[] = {0, 9, 2048, 50000, 1u << 20};

    return sizes[(size_t)(j + round) % 5];
}

static void key_of(char *key, size_t len, int rank, int j)
{
    snprintf(key, len, "ded/%d/%d", rank, j);
}

static void holder_main(dkv_ctx_t *ctx)
{
    double t0 = t_now();

    T_CHECK(dkv_is_holder(ctx) == 1);
    T_STATUS(DKV_ERR_STATE, dkv_fence(ctx));
    T_OK(dkv_serve(ctx));
    printf("rank %d: dedicated holder served for %.2f s\n", t_rank,
           t_now() - t0);
}

static void client_round(dkv_ctx_t *ctx, uint8_t *buf, int round)
{
    char key[64];
    int  j;

    for (j = 0; j < KEYS_PER_RANK; j++) {
        key_of(key, sizeof(key), t_rank, j);
        t_fill(buf, size_of(j, round), t_seed(key, (uint64_t)round));
        T_OK(dkv_put(ctx, key, buf, size_of(j, round)));
    }
    T_OK(dkv_fence(ctx));
}

static void client_check(dkv_ctx_t *ctx, const int *is_client, int round)
{
    char key[64];
    int  r;
    int  j;

    for (r = 0; r < dkv_size(ctx); r++) {
        for (j = 0; j < KEYS_PER_RANK; j++) {
            key_of(key, sizeof(key), r, j);
            if (is_client[r]) {
                T_VALUE(ctx, key, size_of(j, round),
                        t_seed(key, (uint64_t)round));
            } else {
                T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
            }
        }
    }
}

/* Mark the ranks of a comma-separated list ("3" or "0,2") as holders. */
static int *parse_holders(const char *list, int size)
{
    int  *is_holder = calloc((size_t)size, sizeof(int));
    char *end;
    long  r;

    T_CHECK(is_holder != NULL);
    while (*list != '\0') {
        r = strtol(list, &end, 10);
        T_CHECK((end != list) && (r >= 0) && (r < size));
        is_holder[r] = 1;
        list         = (*end == ',') ? end + 1 : end;
    }
    return is_holder;
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx = t_init();
    int        size = dkv_size(ctx);
    int       *is_client;
    int       *is_holder;
    int        nholders = 0;
    uint8_t   *buf;
    int        round;
    int        r;

    T_CHECK(argc == 2); /* the dedicated holder ranks, e.g. "0,2" */
    is_holder = parse_holders(argv[1], size);
    is_client = calloc((size_t)size, sizeof(int));
    T_CHECK(is_client != NULL);
    for (r = 0; r < size; r++) {
        is_client[r] = !is_holder[r];
        nholders += is_holder[r];
    }
    T_CHECK(dkv_num_holders(ctx) == nholders);
    T_CHECK(dkv_is_dedicated(ctx) == is_holder[t_rank]);
    if (is_holder[t_rank]) {
        holder_main(ctx);
        t_finalize(ctx);
        free(is_holder);
        free(is_client);
        return 0;
    }
    T_CHECK(dkv_is_holder(ctx) == 0);
    T_STATUS(DKV_ERR_STATE, dkv_serve(ctx));

    buf = malloc(1u << 20);
    T_CHECK(buf != NULL);
    for (round = 0; round < 2; round++) {
        client_round(ctx, buf, round);
        client_check(ctx, is_client, round);
        T_OK(dkv_fence(ctx));
    }
    free(buf);
    free(is_holder);
    free(is_client);
    t_finalize(ctx);
    return 0;
}
