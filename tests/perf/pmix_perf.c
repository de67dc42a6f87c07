/*
 * pmix_perf: the PMIx operations dramkv's init and a PMIx-based barrier
 * would cost, in the same job layout (every rank; size = ranks; slowest
 * rank per iteration; medians).
 *
 *   pmix_perf [--quick]
 *
 *   pmix_fence_us         PMIx_Fence over the namespace, no data
 *   pmix_exchange_us      PMIx_Put of this rank's real UCX worker address
 *                         (context and worker created as dramkv does, not
 *                         timed) + PMIx_Commit + PMIx_Fence collecting data
 *                         - what dkv_init does once
 *   ucx_address_B         the size of that address
 *
 * MPI is only used to line the ranks up and reduce the times.
 */
#include <mpi.h>
#include <pmix.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "perf_util.h"

static void die(const char *what, pmix_status_t rc)
{
    fprintf(stderr, "pmix_perf: %s failed: %s\n", what, PMIx_Error_string(rc));
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static void ucx_address(ucp_context_h *ucp, ucp_worker_h *w,
                        ucp_address_t **addr, size_t *len)
{
    ucp_params_t params;
    ucp_worker_params_t wparams;
    ucp_config_t *config;

    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_PARAM_FIELD_FEATURES;
    params.features   = UCP_FEATURE_AM | UCP_FEATURE_WAKEUP;
    memset(&wparams, 0, sizeof(wparams));
    wparams.field_mask  = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
    wparams.thread_mode = UCS_THREAD_MODE_SINGLE;
    if ((ucp_config_read(NULL, NULL, &config) != UCS_OK) ||
        (ucp_init(&params, config, ucp) != UCS_OK) ||
        (ucp_worker_create(*ucp, &wparams, w) != UCS_OK) ||
        (ucp_worker_get_address(*w, addr, len) != UCS_OK)) {
        fprintf(stderr, "pmix_perf: UCX setup failed\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    ucp_config_release(config);
}

static double exchange(const void *addr, size_t len, int iter)
{
    pmix_value_t val;
    pmix_info_t info;
    pmix_status_t rc;
    bool collect = true;
    char key[PMIX_MAX_KEYLEN];
    double t0 = perf_now();

    snprintf(key, sizeof(key), "perf.addr.%d", iter);
    PMIX_VALUE_CONSTRUCT(&val);
    val.type          = PMIX_BYTE_OBJECT;
    val.data.bo.bytes = (char *)addr;
    val.data.bo.size  = len;
    rc                = PMIx_Put(PMIX_GLOBAL, key, &val);
    if (rc != PMIX_SUCCESS) {
        die("PMIx_Put", rc);
    }
    rc = PMIx_Commit();
    if (rc != PMIX_SUCCESS) {
        die("PMIx_Commit", rc);
    }
    PMIX_INFO_CONSTRUCT(&info);
    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    rc = PMIx_Fence(NULL, 0, &info, 1);
    PMIX_INFO_DESTRUCT(&info);
    if (rc != PMIX_SUCCESS) {
        die("PMIx_Fence(collect)", rc);
    }
    return perf_now() - t0;
}

int main(int argc, char **argv)
{
    perf_opts_t o;
    pmix_proc_t me;
    pmix_status_t rc;
    ucp_context_h ucp;
    ucp_worker_h w;
    ucp_address_t *addr;
    size_t len;
    double t[200];
    int rank, nranks, n, i;

    MPI_Init(&argc, &argv);
    perf_parse_args(argc, argv, &o);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    rc = PMIx_Init(&me, NULL, 0);
    if (rc != PMIX_SUCCESS) {
        die("PMIx_Init", rc);
    }
    ucx_address(&ucp, &w, &addr, &len);
    n = o.quick ? 10 : 100;
    for (i = 0; i < n; i++) {
        double t0;

        MPI_Barrier(MPI_COMM_WORLD);
        t0   = perf_now();
        rc   = PMIx_Fence(NULL, 0, NULL, 0);
        t[i] = perf_now() - t0;
        if (rc != PMIX_SUCCESS) {
            die("PMIx_Fence", rc);
        }
    }
    perf_max_over_ranks(t, n);
    if (rank == 0) {
        perf_emit("pmix_fence_us", (size_t)nranks, perf_median(t, n) * 1e6);
    }
    n = o.quick ? 5 : 30;
    for (i = 0; i < n; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        t[i] = exchange(addr, len, i);
    }
    perf_max_over_ranks(t, n);
    if (rank == 0) {
        perf_emit("pmix_exchange_us", (size_t)nranks, perf_median(t, n) * 1e6);
        perf_emit("ucx_address_B", (size_t)nranks, (double)len);
    }
    ucp_worker_release_address(w, addr);
    ucp_worker_destroy(w);
    ucp_cleanup(ucp);
    PMIx_Finalize(NULL, 0);
    MPI_Finalize();
    return 0;
}
