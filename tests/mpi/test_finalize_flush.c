/*
 * test_finalize_flush: dkv_finalize completes outstanding writes first.
 *
 * Rank 1 (the writer) puts 40 keys (empty to 4 MiB), rewrites one key
 * (4 MiB then 8 B), deletes a key that an earlier fence made visible, and
 * calls dkv_finalize with no quiet or fence: it must return DKV_OK.
 * The reader polls with dkv_get until every key shows its final value and
 * the deleted key is gone (each key is written once, so the first value
 * seen is final; the rewritten key may show the 4 MiB value first). Since
 * dkv_finalize waits for every rank, the reader reads while the writer sits
 * in dkv_finalize; losing a write makes the reader time out.
 *
 *   test_finalize_flush READER
 *
 * Ranks other than the writer, the reader and dedicated holders finalize at
 * once; where they are holders (DKV_HOLDERS=all) they must keep serving
 * until everyone has finalized. Dedicated holders serve. No MPI.
 */
#include "mpi_test_util.h"

#include <stdio.h>
#include <stdlib.h>

#define WRITER   1
#define NKEYS    40
#define BIG      (4u << 20)
#define DEADLINE 20.0

static size_t size_of(int i)
{
    static const size_t sizes[] = {0, 5, 3000, 40000, 1u << 20, BIG};

    return sizes[i % 6];
}

static void key_of(char *key, size_t len, int i)
{
    snprintf(key, len, "fin/%d", i);
}

static void writer(dkv_ctx_t *ctx)
{
    uint8_t *buf = malloc(BIG);
    char     key[32];
    int      i;

    T_CHECK(buf != NULL);
    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), i);
        t_fill(buf, size_of(i), t_seed(key, 0));
        T_OK(dkv_put(ctx, key, buf, size_of(i)));
    }
    t_fill(buf, BIG, t_seed("fin/last", 0));
    T_OK(dkv_put(ctx, "fin/last", buf, BIG));
    t_fill(buf, 8, t_seed("fin/last", 1));
    T_OK(dkv_put(ctx, "fin/last", buf, 8));
    T_OK(dkv_delete(ctx, "fin/gone"));
    free(buf);
    /* No quiet, no fence. */
    T_OK(dkv_finalize(ctx));
    printf("rank %d: writer finalized with writes outstanding\n", t_rank);
}

/* Poll key until it holds size bytes of seed; 1 when it did. */
static int poll_value(dkv_ctx_t *ctx, const char *key, uint8_t *buf,
                      size_t size, uint64_t seed)
{
    double       end = t_now() + DEADLINE;
    size_t       got;
    dkv_status_t s;

    while (t_now() < end) {
        got = 0;
        s   = dkv_get(ctx, key, buf, BIG, &got);
        if ((s == DKV_OK) && (got == size)) {
            return t_verify(buf, size, seed);
        }
        T_CHECK((s == DKV_OK) || (s == DKV_ERR_NOT_FOUND));
        t_sleep_ms(2);
    }
    fprintf(stderr, "rank %d: key %s never showed its %zu B value\n", t_rank,
            key, size);
    return 0;
}

static void reader(dkv_ctx_t *ctx)
{
    uint8_t     *buf = malloc(BIG);
    double       end = t_now() + DEADLINE;
    char         key[32];
    dkv_status_t s;
    int          i;

    T_CHECK(buf != NULL);
    for (i = 0; i < NKEYS; i++) {
        key_of(key, sizeof(key), i);
        T_CHECK(poll_value(ctx, key, buf, size_of(i), t_seed(key, 0)));
    }
    T_CHECK(poll_value(ctx, "fin/last", buf, 8, t_seed("fin/last", 1)));
    while ((s = dkv_get(ctx, "fin/gone", NULL, 0, NULL)) != DKV_ERR_NOT_FOUND) {
        T_CHECK(s == DKV_ERR_TRUNCATED);
        T_CHECK(t_now() < end);
        t_sleep_ms(2);
    }
    printf("rank %d: reader saw every write of the finalized writer\n",
           t_rank);
    free(buf);
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx = t_init();
    int        rdr;
    char       gone[100];

    T_CHECK(argc == 2);
    rdr = atoi(argv[1]);
    T_CHECK((rdr != WRITER) && (rdr >= 0) && (rdr < dkv_size(ctx)));
    if (dkv_is_dedicated(ctx)) {
        T_CHECK((t_rank != WRITER) && (t_rank != rdr));
        T_OK(dkv_serve(ctx));
        t_finalize(ctx);
        return 0;
    }

    /* A key that exists, visible to all, for the writer to delete. */
    if (t_rank == WRITER) {
        t_fill(gone, sizeof(gone), 1);
        T_OK(dkv_put(ctx, "fin/gone", gone, sizeof(gone)));
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == WRITER) {
        writer(ctx);
        return 0;
    }
    if (t_rank == rdr) {
        reader(ctx);
    }
    t_finalize(ctx);
    return 0;
}
