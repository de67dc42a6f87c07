/*
 * writer_reader: the two-rank hand-off. Rank 0 writes a string, a 4x4 float
 * tensor and a 64 MiB array; dkv_fence; rank 1 reads all three back,
 * verifies them byte for byte and prints what it verified with sizes and
 * times. Exits non-zero on any mismatch or error.
 *
 *   mpirun -np 2 ./writer_reader        (or: launch/dkvrun -n 2 -- ...)
 *
 * It uses only dramkv (no MPI calls): dkv_init reads the job from PMIx.
 */
#include <dramkv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BIG_BYTES (64u << 20)

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fill_big(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)((i * 2654435761u) >> 13);
    }
}

static void fill_tensor(float t[16])
{
    int i;

    for (i = 0; i < 16; i++) {
        t[i] = (float)i * 0.25f - 1.0f;
    }
}

static int check(const char *what, dkv_status_t status)
{
    if (status != DKV_OK) {
        fprintf(stderr, "writer_reader: %s: %s\n", what,
                dkv_strerror(status));
        return 1;
    }
    return 0;
}

static int writer(dkv_ctx_t *ctx, const char *text, const float *tensor,
                  const uint8_t *big)
{
    double t0 = now_s();
    int    bad = 0;

    bad |= check("put testkey", dkv_put(ctx, "testkey", text,
                                        strlen(text) + 1));
    bad |= check("put tensor", dkv_put(ctx, "tensor", tensor,
                                       16 * sizeof(float)));
    bad |= check("put big", dkv_put(ctx, "big", big, BIG_BYTES));
    bad |= check("quiet", dkv_quiet(ctx));
    printf("rank 0 wrote testkey (%zu B), tensor (%zu B), big (%u B) in "
           "%.3f ms\n", strlen(text) + 1, 16 * sizeof(float), BIG_BYTES,
           (now_s() - t0) * 1e3);
    return bad;
}

static int reader(dkv_ctx_t *ctx, const char *text, const float *tensor,
                  const uint8_t *big)
{
    char     sbuf[64];
    float    tbuf[16];
    uint8_t *bbuf = malloc(BIG_BYTES);
    size_t   n    = 0;
    double   t0;
    int      bad  = 0;

    if (bbuf == NULL) {
        return 1;
    }
    t0 = now_s();
    bad |= check("get testkey", dkv_get(ctx, "testkey", sbuf, sizeof(sbuf),
                                        &n));
    if ((bad == 0) && ((n != strlen(text) + 1) || (strcmp(sbuf, text) != 0))) {
        fprintf(stderr, "writer_reader: testkey mismatch\n");
        bad = 1;
    }
    printf("rank 1 verified testkey = \"%s\" (%zu B) in %.3f ms\n",
           bad ? "?" : sbuf, n, (now_s() - t0) * 1e3);
    t0 = now_s();
    bad |= check("get tensor", dkv_get(ctx, "tensor", tbuf, sizeof(tbuf), &n));
    if ((bad == 0) && ((n != sizeof(tbuf)) ||
                       (memcmp(tbuf, tensor, sizeof(tbuf)) != 0))) {
        fprintf(stderr, "writer_reader: tensor mismatch\n");
        bad = 1;
    }
    printf("rank 1 verified tensor 4x4 float (%zu B) in %.3f ms\n", n,
           (now_s() - t0) * 1e3);
    t0 = now_s();
    bad |= check("get big", dkv_get(ctx, "big", bbuf, BIG_BYTES, &n));
    if ((bad == 0) && ((n != BIG_BYTES) || (memcmp(bbuf, big, n) != 0))) {
        fprintf(stderr, "writer_reader: big array mismatch\n");
        bad = 1;
    }
    t0 = now_s() - t0;
    printf("rank 1 verified big array (%zu B) in %.3f ms (%.2f GB/s)\n", n,
           t0 * 1e3, (double)n / t0 / 1e9);
    free(bbuf);
    return bad;
}

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: writer_reader [--help]\n"
               "Rank 0 writes a string, a 4x4 float tensor and a 64 MiB "
               "array; rank 1\nreads them back and verifies them. Run it "
               "on 2 or more ranks:\n  mpirun -np 2 writer_reader\n");
    return rc;
}

int main(int argc, char **argv)
{
    const char *text = "Data from rank 0";
    float       tensor[16];
    uint8_t    *big = malloc(BIG_BYTES);
    dkv_ctx_t  *ctx;
    int         bad = 0;
    int         rank;

    if (argc > 1) {
        free(big);
        return (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
                   ? usage(stdout, 0)
                   : usage(stderr, 2);
    }
    if (big == NULL || check("dkv_init", dkv_init(NULL, &ctx))) {
        return 1;
    }
    rank = dkv_rank(ctx);
    if (dkv_size(ctx) < 2) {
        fprintf(stderr, "writer_reader: run with at least 2 ranks\n");
        dkv_finalize(ctx);
        return 1;
    }
    fill_tensor(tensor);
    fill_big(big, BIG_BYTES);
    if (rank == 0) {
        bad |= writer(ctx, text, tensor, big);
    }
    bad |= check("fence", dkv_fence(ctx));
    if (rank == 1) {
        bad |= reader(ctx, text, tensor, big);
        printf("rank 1: %s\n", bad ? "MISMATCH" : "all data verified");
    }
    bad |= check("fence", dkv_fence(ctx));
    bad |= check("finalize", dkv_finalize(ctx));
    free(big);
    return bad;
}
