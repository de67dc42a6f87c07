/*
 * test_all_to_all: every rank writes its own keys, dkv_fence, every rank
 * reads every key of every rank (dkv_get and dkv_get_alloc, byte for byte).
 * Round 2: every rank rewrites its keys with other sizes and deletes a third
 * of them; after the fence every rank sees exactly the new state.
 * Sizes span empty, eager and rendezvous values.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#define KEYS_PER_RANK 12

static const size_t sizes[] = {0, 3, 100, 4096, 40000, 300000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static size_t size_of(int j, int round)
{
    return sizes[(size_t)(j + 2 * round) % NSIZES];
}

static void key_of(char *key, size_t len, int rank, int j)
{
    snprintf(key, len, "a2a/%d/%d", rank, j);
}

static int deleted(int j, int round)
{
    return (round == 1) && (j % 3 == 0);
}

static void write_round(dkv_ctx_t *ctx, int round)
{
    uint8_t *buf = malloc(300000);
    char     key[64];
    int      j;

    T_CHECK(buf != NULL);
    for (j = 0; j < KEYS_PER_RANK; j++) {
        key_of(key, sizeof(key), t_rank, j);
        if (deleted(j, round)) {
            T_OK(dkv_delete(ctx, key));
            continue;
        }
        t_fill(buf, size_of(j, round), t_seed(key, (uint64_t)round));
        T_OK(dkv_put(ctx, key, buf, size_of(j, round)));
    }
    free(buf);
}

static void read_round(dkv_ctx_t *ctx, int round)
{
    char key[64];
    int  r;
    int  j;

    for (r = 0; r < dkv_size(ctx); r++) {
        for (j = 0; j < KEYS_PER_RANK; j++) {
            key_of(key, sizeof(key), r, j);
            if (deleted(j, round)) {
                T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, key, NULL, 0, NULL));
                continue;
            }
            T_VALUE(ctx, key, size_of(j, round), t_seed(key, (uint64_t)round));
        }
    }
}

int main(void)
{
    dkv_ctx_t *ctx      = t_init();
    int        size     = dkv_size(ctx);
    int        nholders = dkv_num_holders(ctx);
    int        round;

    for (round = 0; round < 2; round++) {
        write_round(ctx, round);
        T_OK(dkv_fence(ctx));
        read_round(ctx, round);
        T_OK(dkv_fence(ctx));
    }
    t_finalize(ctx);
    if (t_rank == 0) {
        printf("test_all_to_all: %d ranks, %d holders: all verified\n",
               size, nholders);
    }
    return 0;
}
