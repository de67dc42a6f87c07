/*
 * test_load_mix: dkv_load never mixes two drains (issue 12 item 3).
 *
 * Two ranks, two holders. Version 1 of a key set is drained to DIR/a,
 * version 2 to DIR/b, and every key deleted. Rank 0 then calls dkv_load(a)
 * at once (reads the manifest, maps its file, waits in the load's
 * barrier); rank 1 first commits version 2 into DIR/a the way a holder's
 * commit does (data files renamed in, the other drain's files removed, the
 * manifest renamed over the old one) and only then calls dkv_load(a).
 * Before the fix rank 0 stored version 1 and rank 1 version 2. Now the
 * load must hold one version only, or fail and hold nothing.
 * Every rank prints "PASS rank N".
 */
#include <dirent.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NKEYS 32

static void key_of(char *key, size_t len, int i)
{
    snprintf(key, len, "mix/%03d", i);
}

static void put_version(dkv_ctx_t *ctx, uint64_t v)
{
    char     key[32];
    uint64_t value;
    int      i;

    for (i = t_rank; i < NKEYS; i += dkv_size(ctx)) {
        key_of(key, sizeof(key), i);
        value = v * 1000 + (uint64_t)i;
        T_OK(dkv_put(ctx, key, &value, sizeof(value)));
    }
    T_OK(dkv_fence(ctx));
}

static void drain_to(dkv_ctx_t *ctx, const char *dir)
{
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, NULL));
    T_OK(dkv_fence(ctx));
}

/* Move drain @p from's data files into @p to, remove @p to's own, then
 * move @p from's manifest in (the newest now): a commit as it looks from
 * a reader's side. */
static void commit_into(const char *from, const char *to)
{
    char           src[8192], dst[8192];
    DIR           *d;
    struct dirent *de;

    d = opendir(to);
    T_CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (fnmatch("dkv-*-h*.dat", de->d_name, 0) == 0) {
            snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
            T_CHECK(unlink(dst) == 0);
        }
    }
    closedir(d);
    d = opendir(from);
    T_CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (fnmatch("dkv-*.dat", de->d_name, 0) == 0) {
            snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
            snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
            T_CHECK(rename(src, dst) == 0);
        }
    }
    closedir(d);
    d = opendir(from);
    T_CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        if (fnmatch("dkv-*.manifest", de->d_name, 0) == 0) {
            snprintf(src, sizeof(src), "%s/%s", from, de->d_name);
            snprintf(dst, sizeof(dst), "%s/%s", to, de->d_name);
            T_CHECK(rename(src, dst) == 0);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    const char *base = (argc > 1) ? argv[1] : "/tmp";
    char        a[4096], b[4096], cmd[8300], key[32];
    uint64_t    value;
    int         i, n1 = 0, n2 = 0, other = 0;
    dkv_ctx_t  *ctx = t_init();
    dkv_status_t st;

    snprintf(a, sizeof(a), "%s/load_mix/a", base);
    snprintf(b, sizeof(b), "%s/load_mix/b", base);
    if (t_rank == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s/load_mix && mkdir -p %s %s",
                 base, a, b);
        T_CHECK(system(cmd) == 0);
    }
    T_OK(dkv_fence(ctx));
    put_version(ctx, 1);
    drain_to(ctx, a);
    put_version(ctx, 2);
    drain_to(ctx, b);
    for (i = t_rank; i < NKEYS; i += dkv_size(ctx)) {
        key_of(key, sizeof(key), i);
        T_OK(dkv_delete(ctx, key));
    }
    T_OK(dkv_fence(ctx));

    if (t_rank == 1) {
        t_sleep_ms(1500); /* rank 0 has read a's manifest and mapped */
        commit_into(b, a);
    }
    st = dkv_load(ctx, a);
    printf("rank %d: load %s (%s)\n", t_rank, dkv_strerror(st),
           dkv_error_detail(ctx));
    for (i = 0; i < NKEYS; i++) {
        size_t got = 0;

        key_of(key, sizeof(key), i);
        value = 0;
        if (dkv_get(ctx, key, &value, sizeof(value), &got) != DKV_OK) {
            continue;
        }
        n1 += (value == 1000 + (uint64_t)i);
        n2 += (value == 2000 + (uint64_t)i);
        other += (value != 1000 + (uint64_t)i) && (value != 2000 + (uint64_t)i);
    }
    printf("rank %d: %d keys of version 1, %d of version 2\n", t_rank, n1,
           n2);
    T_CHECK(other == 0);
    T_CHECK((n1 == 0) || (n2 == 0));                      /* never a mix */
    T_CHECK((st != DKV_OK) || (n1 == NKEYS) || (n2 == NKEYS)); /* all */
    T_CHECK((st == DKV_OK) || (n1 + n2 == 0));           /* or nothing */
    t_finalize(ctx);
    printf("PASS rank %d\n", t_rank);
    return 0;
}
