/*
 * test_busy_holder: a holder serves from its own thread.
 * Run with DKV_HOLDERS=ranks:0. Rank 1 stores a few values and all ranks
 * fence. After an MPI_Barrier, rank 0 computes for 2 s (a busy loop that
 * makes no dramkv or MPI call) while every other rank, for 1.5 s, gets
 * values from it and puts + quiets new ones. Every such call must finish in
 * well under 1 s (bound: 0.5 s) and the values must be right. MPI is used
 * only for the barriers around the busy phase.
 */
#include "mpi_test_util.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#define BUSY_S   2.0
#define CLIENT_S 1.5
#define BOUND_S  0.5
#define BIG      (256u << 10)

static volatile uint64_t sink;

static void busy_loop(double seconds)
{
    double   end = t_now() + seconds;
    uint64_t x   = 1;

    while (t_now() < end) {
        int i;

        for (i = 0; i < 10000; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        }
    }
    sink = x;
}

static void write_values(dkv_ctx_t *ctx)
{
    uint8_t *buf = malloc(BIG);

    T_CHECK(buf != NULL);
    t_fill(buf, 64, t_seed("busy/small", 0));
    T_OK(dkv_put(ctx, "busy/small", buf, 64));
    t_fill(buf, BIG, t_seed("busy/big", 0));
    T_OK(dkv_put(ctx, "busy/big", buf, BIG));
    free(buf);
}

static double timed_get(dkv_ctx_t *ctx, const char *key, uint8_t *buf,
                        size_t size)
{
    double t0  = t_now();
    size_t got = 0;

    T_OK(dkv_get(ctx, key, buf, size, &got));
    t0 = t_now() - t0;
    T_CHECK(got == size);
    T_CHECK(t_verify(buf, size, t_seed(key, 0)));
    return t0;
}

static void client_phase(dkv_ctx_t *ctx)
{
    uint8_t *buf   = malloc(BIG);
    double   end   = t_now() + CLIENT_S;
    double   worst = 0;
    double   t;
    long     n     = 0;
    char     key[64];

    T_CHECK(buf != NULL);
    while (t_now() < end) {
        t = timed_get(ctx, (n % 2 == 0) ? "busy/small" : "busy/big", buf,
                      (n % 2 == 0) ? 64 : BIG);
        worst = (t > worst) ? t : worst;

        snprintf(key, sizeof(key), "busy/%d/%ld", t_rank, n);
        t = t_now();
        T_OK(dkv_put(ctx, key, &n, sizeof(n)));
        T_OK(dkv_quiet(ctx));
        t     = t_now() - t;
        worst = (t > worst) ? t : worst;
        n++;
    }
    printf("rank %d: %ld get+put/quiet rounds while holder busy, worst "
           "call %.1f ms\n", t_rank, n, worst * 1e3);
    if (worst >= BOUND_S) {
        fprintf(stderr, "rank %d: a call took %.3f s while the holder "
                "computed\n", t_rank, worst);
    }
    T_CHECK(worst < BOUND_S);
    T_CHECK(n >= 5);
    free(buf);
}

int main(int argc, char **argv)
{
    dkv_ctx_t *ctx;
    int        size;

    MPI_Init(&argc, &argv);
    ctx  = t_init();
    size = dkv_size(ctx);
    T_CHECK(size >= 2);
    T_CHECK(dkv_is_holder(ctx) == (t_rank == 0));
    if (t_rank == 1) {
        write_values(ctx);
    }
    T_OK(dkv_fence(ctx));

    MPI_Barrier(MPI_COMM_WORLD);
    if (t_rank == 0) {
        busy_loop(BUSY_S);
    } else {
        client_phase(ctx);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    MPI_Finalize();
    return 0;
}
