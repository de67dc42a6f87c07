/*
 * test_sizes: values of 0 B, 1 B, 4 KiB, 1 MiB and 64 MiB round trip.
 * The last rank puts one key per size, dkv_fence, then every rank reads each
 * key back with dkv_get and dkv_get_alloc and checks size and content byte
 * for byte. A 0-byte value must also read with a NULL buffer of size 0.
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

static const size_t sizes[] = {0, 1, 4096, 1u << 20, 64u << 20};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void key_of(char *key, size_t len, size_t size)
{
    snprintf(key, len, "sizes/%zu", size);
}

static void write_all(dkv_ctx_t *ctx)
{
    char     key[64];
    uint8_t *buf = malloc(sizes[NSIZES - 1]);
    size_t   i;

    T_CHECK(buf != NULL);
    for (i = 0; i < NSIZES; i++) {
        key_of(key, sizeof(key), sizes[i]);
        t_fill(buf, sizes[i], t_seed(key, 0));
        T_OK(dkv_put(ctx, key, sizes[i] > 0 ? buf : NULL, sizes[i]));
        /* The buffer may be reused at once: scribble over it. */
        t_fill(buf, sizes[i], 12345);
    }
    free(buf);
}

static void read_all(dkv_ctx_t *ctx)
{
    char   key[64];
    size_t got = 99;
    size_t i;

    for (i = 0; i < NSIZES; i++) {
        key_of(key, sizeof(key), sizes[i]);
        T_VALUE(ctx, key, sizes[i], t_seed(key, 0));
    }
    /* An empty value fits a NULL buffer of 0 bytes. */
    key_of(key, sizeof(key), 0);
    T_OK(dkv_get(ctx, key, NULL, 0, &got));
    T_CHECK(got == 0);
}

int main(void)
{
    dkv_ctx_t *ctx  = t_init();
    int        size = dkv_size(ctx);
    double     t0   = t_now();

    T_CHECK(size >= 2);
    T_CHECK(dkv_num_holders(ctx) >= 1);
    if (t_rank == size - 1) {
        write_all(ctx);
    }
    T_OK(dkv_fence(ctx));
    read_all(ctx);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    if (t_rank == 0) {
        printf("test_sizes: %d ranks verified %zu sizes in %.2f s\n", size,
               NSIZES, t_now() - t0);
    }
    return 0;
}
