/*
 * dkv_perf_init: what dkv_init costs, against what any UCX + PMIx library
 * must spend at start. Every rank; "size" = ranks; each iteration's time is
 * the slowest rank's; medians over the iterations.
 *
 *   init_first_ms       the first dkv_init of the process
 *   init_ms             dkv_finalize + dkv_init again, repeated
 *   ucx_ctx_workers_ms  ucp_init + the workers dramkv creates on the rank
 *                       (2 on a holder, 1 elsewhere), configured as dramkv
 *                       does, alone
 *   min_init_ms         the minimal init: that UCX setup + PMIx_Put of the
 *                       worker address + PMIx_Commit + one collecting
 *                       PMIx_Fence, timed as one step like dkv_init
 *   init_beyond_ucx_ms  init_ms - ucx_ctx_workers_ms
 *
 * Why min_init_ms: with more ranks than cores the ranks' UCX setups compete
 * for the CPU and their times scatter, so a difference of two separately
 * measured medians is noise; dkv_init and the minimal init run under the
 * same competition, so init_ms - min_init_ms is what dramkv adds.
 */
#include <mpi.h>
#include <pmix.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "dkv_perf.h"

#define MAX_ITER 9

typedef struct {
    ucp_context_h ucp;
    ucp_worker_h w[2];
    int nworkers;
} ucx_setup_t;

static void ucx_die(const char *what)
{
    fprintf(stderr, "dkv_perf: %s failed\n", what);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

/* The UCX part of dkv_init: the same context and workers (event fds). */
static void ucx_open(ucx_setup_t *u, int nworkers)
{
    ucp_params_t params;
    ucp_worker_params_t wparams;
    ucp_config_t *config;
    int efd, i;

    memset(&params, 0, sizeof(params));
    params.field_mask =
        UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
    params.features          = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
    params.mt_workers_shared = 1;
    memset(&wparams, 0, sizeof(wparams));
    wparams.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wparams.thread_mode = UCS_THREAD_MODE_SINGLE;
    if ((ucp_config_read(NULL, NULL, &config) != UCS_OK) ||
        (ucp_init(&params, config, &u->ucp) != UCS_OK)) {
        ucx_die("ucp_init");
    }
    ucp_config_release(config);
    u->nworkers = nworkers;
    for (i = 0; i < nworkers; i++) {
        if ((ucp_worker_create(u->ucp, &wparams, &u->w[i]) != UCS_OK) ||
            (ucp_worker_get_efd(u->w[i], &efd) != UCS_OK)) {
            ucx_die("ucp_worker_create");
        }
    }
}

static void ucx_close(ucx_setup_t *u)
{
    int i;

    for (i = 0; i < u->nworkers; i++) {
        ucp_worker_destroy(u->w[i]);
    }
    ucp_cleanup(u->ucp);
}

/* PMIx_Put of the first worker's address + Commit + collecting Fence. */
static void exchange(ucx_setup_t *u, int iter)
{
    ucp_address_t *addr;
    size_t len;
    pmix_value_t val;
    pmix_info_t info;
    bool collect = true;
    char key[PMIX_MAX_KEYLEN];

    if (ucp_worker_get_address(u->w[0], &addr, &len) != UCS_OK) {
        ucx_die("ucp_worker_get_address");
    }
    snprintf(key, sizeof(key), "perf.min.%d", iter);
    PMIX_VALUE_CONSTRUCT(&val);
    val.type          = PMIX_BYTE_OBJECT;
    val.data.bo.bytes = (char *)addr;
    val.data.bo.size  = len;
    PMIX_INFO_CONSTRUCT(&info);
    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    if ((PMIx_Put(PMIX_GLOBAL, key, &val) != PMIX_SUCCESS) ||
        (PMIx_Commit() != PMIX_SUCCESS) ||
        (PMIx_Fence(NULL, 0, &info, 1) != PMIX_SUCCESS)) {
        ucx_die("PMIx put/commit/fence");
    }
    PMIX_INFO_DESTRUCT(&info);
    ucp_worker_release_address(u->w[0], addr);
}

static double time_ucx(int nworkers)
{
    ucx_setup_t u;
    double t;

    MPI_Barrier(MPI_COMM_WORLD);
    t = perf_now();
    ucx_open(&u, nworkers);
    t = perf_now() - t;
    ucx_close(&u);
    return t;
}

static double time_min_init(int nworkers, int iter)
{
    ucx_setup_t u;
    double t;

    MPI_Barrier(MPI_COMM_WORLD);
    t = perf_now();
    ucx_open(&u, nworkers);
    exchange(&u, iter);
    t = perf_now() - t;
    ucx_close(&u);
    return t;
}

static void emit_max_median(const char *name, double *t, int k, int nranks,
                            int rank)
{
    perf_max_over_ranks(t, k);
    if (rank == 0) {
        perf_emit(name, (size_t)nranks, perf_median(t, k) * 1e3);
    }
}

dkv_ctx_t *perf_dkv_init_times(const perf_opts_t *o)
{
    int k = o->quick ? 3 : MAX_ITER;
    double first, ti[MAX_ITER], tu[MAX_ITER], tm[MAX_ITER];
    dkv_ctx_t *ctx;
    pmix_proc_t me;
    int i, nw, rank, nranks;

    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    if (PMIx_Init(&me, NULL, 0) != PMIX_SUCCESS) {
        ucx_die("PMIx_Init");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    first = perf_now();
    PERF_CHECK("init", dkv_init(NULL, &ctx));
    first = perf_now() - first;
    nw    = dkv_is_holder(ctx) ? 2 : 1;
    for (i = 0; i < k; i++) {
        PERF_CHECK("finalize", dkv_finalize(ctx));
        tu[i] = time_ucx(nw);
        tm[i] = time_min_init(nw, i);
        MPI_Barrier(MPI_COMM_WORLD);
        ti[i] = perf_now();
        PERF_CHECK("init", dkv_init(NULL, &ctx));
        ti[i] = perf_now() - ti[i];
    }
    if (rank == 0) {
        printf("ranks %d holders %d\n", nranks, dkv_num_holders(ctx));
    }
    emit_max_median("init_first_ms", &first, 1, nranks, rank);
    emit_max_median("ucx_ctx_workers_ms", tu, k, nranks, rank);
    emit_max_median("min_init_ms", tm, k, nranks, rank);
    /* tu and tm are sorted now; ti still holds the per-iteration maxima. */
    perf_max_over_ranks(ti, k);
    if (rank == 0) {
        double mi = perf_median(ti, k);

        perf_emit("init_ms", (size_t)nranks, mi * 1e3);
        perf_emit("init_beyond_ucx_ms", (size_t)nranks,
                  mi * 1e3 - perf_median(tu, k) * 1e3);
    }
    PMIx_Finalize(NULL, 0);
    return ctx;
}
