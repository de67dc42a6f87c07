/*
 * test_huge: a multi-GiB value (larger than 2^31 and 2^32 - 1 bytes would
 * need too much memory here; 2.25 GiB crosses the 32-bit signed limit) goes
 * to a holder on another rank and comes back intact, with dkv_get into a
 * caller buffer. Rank 0 writes, the holder is rank 1, rank 0 reads back.
 * Size from argv[1] in MiB (default 2304).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_test_util.h"

int main(int argc, char **argv)
{
    size_t     mib  = (argc > 1) ? strtoull(argv[1], NULL, 10) : 2304;
    size_t     size = mib << 20;
    dkv_ctx_t *ctx;
    size_t     got  = 0;
    char      *buf;
    double     t0;

    T_OK(dkv_init(NULL, &ctx));
    t_rank = dkv_rank(ctx);
    if (t_rank == 0) {
        buf = malloc(size);
        T_CHECK(buf != NULL);
        t_fill(buf, size, 42);
        t0 = t_now();
        T_OK(dkv_put(ctx, "huge", buf, size));
        T_OK(dkv_quiet(ctx));
        printf("put %zu MiB in %.2f s\n", mib, t_now() - t0);
        memset(buf, 0, size);
        t0 = t_now();
        T_OK(dkv_get(ctx, "huge", buf, size, &got));
        printf("get %zu MiB in %.2f s\n", mib, t_now() - t0);
        T_CHECK(got == size);
        T_CHECK(t_verify(buf, size, 42));
        T_OK(dkv_delete(ctx, "huge"));
        T_OK(dkv_quiet(ctx));
        T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, "huge", NULL, 0, &got));
        free(buf);
        printf("huge value verified\n");
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_finalize(ctx));
    return 0;
}
