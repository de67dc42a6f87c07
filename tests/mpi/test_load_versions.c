/*
 * test_load_versions: several drains kept, the newest damaged (issue 12
 * item 6). Two ranks, two holders, DKV_DRAIN_KEEP=3. Four versions of a
 * key set are drained into one directory: dkv_drain_info lists the newest
 * three, complete, newest first. Every key is deleted, a byte of the
 * newest drain is flipped, and dkv_load falls back to version 3 (and says
 * so in dkv_error_detail); with version 3 damaged too it loads version 2.
 * Usage: test_load_versions DIR. Every rank prints "PASS rank N".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NKEYS 16

static void key_of(char *key, size_t len, int i)
{
    snprintf(key, len, "ver/%03d", i);
}

static void drain_version(dkv_ctx_t *ctx, const char *dir, uint64_t v)
{
    char key[32];
    uint64_t value;
    int i;

    for (i = t_rank; i < NKEYS; i += dkv_size(ctx)) {
        key_of(key, sizeof(key), i);
        value = v * 1000 + (uint64_t)i;
        T_OK(dkv_put(ctx, key, &value, sizeof(value)));
    }
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, NULL));
    T_OK(dkv_fence(ctx));
}

static void delete_all(dkv_ctx_t *ctx)
{
    char key[32];
    int i;

    for (i = t_rank; i < NKEYS; i += dkv_size(ctx)) {
        key_of(key, sizeof(key), i);
        T_OK(dkv_delete(ctx, key));
    }
    T_OK(dkv_fence(ctx));
}

/* Rank 0 flips the first key byte of drain @p id's first file. */
static void damage(dkv_ctx_t *ctx, const char *dir, uint64_t id)
{
    char path[4200];
    unsigned char b;
    int fd;

    if (t_rank == 0) {
        snprintf(path, sizeof(path), "%s/dkv-%016llx-h00000.dat", dir,
                 (unsigned long long)id);
        fd = open(path, O_RDWR);
        T_CHECK(fd >= 0);
        T_CHECK(pread(fd, &b, 1, 56) == 1);
        b ^= 0x20;
        T_CHECK(pwrite(fd, &b, 1, 56) == 1);
        close(fd);
    }
    T_OK(dkv_fence(ctx));
}

/* Every key holds version @p v. */
static void check_version(dkv_ctx_t *ctx, uint64_t v)
{
    char key[32];
    uint64_t value;
    size_t got;
    int i;

    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), i);
        value = 0;
        T_OK(dkv_get(ctx, key, &value, sizeof(value), &got));
        T_CHECK(value == v * 1000 + (uint64_t)i);
    }
}

int main(int argc, char **argv)
{
    const char *base = (argc > 1) ? argv[1] : "/tmp";
    char dir[4096], cmd[8300];
    dkv_drain_desc_t d[5];
    size_t n = 0;
    uint64_t v;
    dkv_ctx_t *ctx = t_init();

    snprintf(dir, sizeof(dir), "%s/load_versions", base);
    if (t_rank == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
        T_CHECK(system(cmd) == 0);
    }
    T_OK(dkv_fence(ctx));
    for (v = 1; v <= 4; v++) {
        drain_version(ctx, dir, v);
    }
    T_OK(dkv_drain_info(dir, d, 5, &n));
    T_CHECK(n == 3); /* DKV_DRAIN_KEEP=3: version 1 is gone */
    T_CHECK(d[0].complete && d[0].newest && (d[0].keys == NKEYS));
    T_CHECK(d[1].complete && !d[1].newest && d[2].complete);
    T_CHECK((d[0].time >= d[1].time) && (d[1].time >= d[2].time));
    delete_all(ctx);

    damage(ctx, dir, d[0].id);
    T_OK(dkv_load(ctx, dir));
    printf("rank %d: %s\n", t_rank, dkv_error_detail(ctx));
    T_CHECK(strstr(dkv_error_detail(ctx), "older drain") != NULL);
    check_version(ctx, 3);
    T_OK(dkv_fence(ctx));
    delete_all(ctx);

    damage(ctx, dir, d[1].id);
    T_OK(dkv_load(ctx, dir));
    check_version(ctx, 2);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    return 0;
}
