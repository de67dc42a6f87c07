/*
 * test_drain_corrupt: a drain never launders a value corrupted in DRAM
 * (issue 12 item 4). With DKV_CHECKSUM=1 and DKV_FAULT=corrupt:1 the
 * first value each holder stores gets one byte flipped after its CRC was
 * checked. The drain writes the CRC the value was put with, so loading the
 * drain back fails with DKV_ERR_CORRUPT on every rank (naming the record)
 * and stores nothing; before the fix the drain wrote a fresh CRC over the
 * flipped byte and the load returned the wrong value as DKV_OK.
 * Usage: test_drain_corrupt DIR. Every rank prints "PASS rank N".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_test_util.h"

#define NKEYS 8 /* per rank */

int main(int argc, char **argv)
{
    const char *base = (argc > 1) ? argv[1] : "/tmp";
    char dir[4096], cmd[8300], key[32], value[64];
    dkv_status_t st;
    size_t got;
    int i, r, found = 0;
    dkv_ctx_t *ctx = t_init();

    snprintf(dir, sizeof(dir), "%s/drain_corrupt", base);
    if (t_rank == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
        T_CHECK(system(cmd) == 0);
    }
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "c/%d/%d", t_rank, i);
        memset(value, 'a' + i, sizeof(value));
        T_OK(dkv_put(ctx, key, value, sizeof(value)));
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, NULL));
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "c/%d/%d", t_rank, i);
        T_OK(dkv_delete(ctx, key));
    }
    T_OK(dkv_fence(ctx));

    st = dkv_load(ctx, dir);
    printf("rank %d: load %s (%s)\n", t_rank, dkv_strerror(st),
           dkv_error_detail(ctx));
    T_STATUS(DKV_ERR_CORRUPT, st);
    T_CHECK(strstr(dkv_error_detail(ctx), "data crc") != NULL);
    for (r = 0; r < dkv_size(ctx); r++) {
        for (i = 0; i < NKEYS; i++) {
            snprintf(key, sizeof(key), "c/%d/%d", r, i);
            found += (dkv_get(ctx, key, value, sizeof(value), &got) !=
                      DKV_ERR_NOT_FOUND);
        }
    }
    T_CHECK(found == 0);
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    return 0;
}
