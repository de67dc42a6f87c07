/*
 * test_fence_startup: dkv_fence straight after dkv_init completes on every
 * rank. Every rank fences 20 times in a row right after init (no other call
 * in between, no pause), then once more after putting a key, and finalizes.
 * A fence message lost while the job starts up shows as DKV_ERR_TIMEOUT
 * here (some ranks pass the first fence, others never do).
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdio.h>

#define NFENCES 20

int main(void)
{
    dkv_ctx_t   *ctx = t_init();
    dkv_status_t s;
    int          i;

    for (i = 0; i < NFENCES; i++) {
        s = dkv_fence(ctx);
        if (s != DKV_OK) {
            fprintf(stderr, "rank %d: fence %d after init -> %s\n", t_rank, i,
                    dkv_strerror(s));
        }
        T_OK(s);
    }
    T_OK(dkv_put(ctx, "startup/key", &i, sizeof(i)));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    return 0;
}
