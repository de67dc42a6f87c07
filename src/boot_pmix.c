/*
 * boot_pmix: the PMIx bootstrap. PMIx_Init gives rank and size; addresses
 * are exchanged with PMIx_Put + PMIx_Commit + one PMIx_Fence_nb that
 * collects data, and read back lazily with PMIx_Get.
 *
 * The job's layout (node and local rank of every rank) is read once, on
 * first use, in O(nodes) PMIx calls: the node list, then each node's rank
 * list, handed to the pure layout module. Those are the lookups
 * PMIx_Resolve_nodes and PMIx_Resolve_peers make (PMIx 4.2), made here
 * local-only (PMIX_OPTIONAL): when a client lacks a node's list,
 * PMIx_Resolve_peers asks the server, and Open MPI 4.1's mpirun never
 * answers for a remote node (it blocks, PMIX_TIMEOUT or not). Slurm gives
 * every node's list; mpirun gives them to the ranks of some nodes only. The
 * others fall back to one PMIX_HOSTNAME per rank, grouped in
 * O(size log size). Both ways number a node by its lowest rank, which
 * depends only on which ranks share a node, so ranks that took different
 * ways still agree (replica placement needs every rank to agree).
 *
 * Threads: everything runs on the dkv_init/finalize caller's thread except
 * the fence callback, which runs on PMIx's progress thread and only records:
 * it stores the status, sets an atomic flag and writes an eventfd.
 */
#define DKV_LOG_MODULE "boot"

#include "boot.h"

#include <pmix.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "layout.h"
#include "log.h"

struct dkv__boot {
    pmix_proc_t      me;
    int              size;
    int              wake_fd;  /* eventfd written by the fence callback */
    pmix_info_t      info[1];  /* fence info, valid until the callback */
    atomic_int       fence_done;
    atomic_int       fence_status;
    dkv__layout_t   *layout;   /* read on first use, NULL before */
};

static atomic_int boot_error_said;

static int value_to_int(const pmix_value_t *val, int *out)
{
    switch (val->type) {
    case PMIX_UINT16:
        *out = val->data.uint16;
        return 0;
    case PMIX_UINT32:
        *out = (int)val->data.uint32;
        return 0;
    case PMIX_INT:
        *out = val->data.integer;
        return 0;
    case PMIX_PROC_RANK:
        *out = (int)val->data.rank;
        return 0;
    default:
        return -1;
    }
}

/* One value of @p rank as an int; -1 if PMIx does not have it. */
static int get_int(dkv__boot_t *boot, pmix_rank_t rank, const char *key,
                   int *out)
{
    pmix_proc_t   proc;
    pmix_value_t *val = NULL;
    pmix_status_t rc;
    int           bad;

    PMIX_PROC_CONSTRUCT(&proc);
    PMIX_LOAD_PROCID(&proc, boot->me.nspace, rank);
    rc = PMIx_Get(&proc, key, NULL, 0, &val);
    if ((rc != PMIX_SUCCESS) || (val == NULL)) {
        return -1;
    }
    bad = value_to_int(val, out);
    PMIX_VALUE_RELEASE(val);
    return bad;
}

dkv_status_t dkv__boot_start(dkv__boot_t **boot_p, int *rank_p, int *size_p)
{
    dkv__boot_t  *boot;
    pmix_status_t rc;

    boot = calloc(1, sizeof(*boot));
    if (boot == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    boot->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (boot->wake_fd < 0) {
        free(boot);
        return DKV_ERR_NO_MEMORY;
    }
    rc = PMIx_Init(&boot->me, NULL, 0);
    if (rc != PMIX_SUCCESS) {
        /* The one failure a user cannot see otherwise: said even when
         * logging is off, once per process. */
        if (!atomic_exchange(&boot_error_said, 1)) {
            fprintf(stderr, "dkv[?] error boot: PMIx_Init failed: %s (start "
                    "the job with mpirun or srun --mpi=pmix)\n",
                    PMIx_Error_string(rc));
        }
        goto err_close_fd;
    }
    if ((get_int(boot, PMIX_RANK_WILDCARD, PMIX_JOB_SIZE, &boot->size) !=
         0) ||
        (boot->size < 1)) {
        DKV_LOG_ERROR("PMIx has no job size (PMIX_JOB_SIZE)");
        PMIx_Finalize(NULL, 0);
        goto err_close_fd;
    }
    *rank_p = (int)boot->me.rank;
    *size_p = boot->size;
    *boot_p = boot;
    return DKV_OK;

err_close_fd:
    close(boot->wake_fd);
    free(boot);
    return DKV_ERR_BOOTSTRAP;
}

void dkv__boot_stop(dkv__boot_t *boot)
{
    if (boot == NULL) {
        return;
    }
    PMIx_Finalize(NULL, 0);
    close(boot->wake_fd);
    dkv__layout_destroy(boot->layout);
    free(boot);
}

static void free_hosts(char **host, int n)
{
    int r;

    for (r = 0; r < n; r++) {
        free(host[r]);
    }
    free(host);
}

/* Every rank's PMIX_HOSTNAME; returned array of size strings. */
static dkv_status_t read_hosts(dkv__boot_t *boot, char ***host_p)
{
    pmix_proc_t   proc;
    pmix_value_t *val;
    pmix_status_t rc;
    char        **host;
    dkv_status_t  status = DKV_OK;
    int           r;

    host = calloc((size_t)boot->size, sizeof(*host));
    if (host == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    PMIX_PROC_CONSTRUCT(&proc);
    for (r = 0; (r < boot->size) && (status == DKV_OK); r++) {
        PMIX_LOAD_PROCID(&proc, boot->me.nspace, (pmix_rank_t)r);
        val = NULL;
        rc  = PMIx_Get(&proc, PMIX_HOSTNAME, NULL, 0, &val);
        if ((rc != PMIX_SUCCESS) || (val == NULL) ||
            (val->type != PMIX_STRING) || (val->data.string == NULL)) {
            DKV_LOG_ERROR("PMIx_Get(PMIX_HOSTNAME) of rank %d failed: %s", r,
                          PMIx_Error_string(rc));
            status = DKV_ERR_BOOTSTRAP;
        } else {
            host[r] = strdup(val->data.string);
            status  = (host[r] != NULL) ? DKV_OK : DKV_ERR_NO_MEMORY;
        }
        if (val != NULL) {
            PMIX_VALUE_RELEASE(val);
        }
    }
    if (status != DKV_OK) {
        free_hosts(host, boot->size);
        return status;
    }
    *host_p = host;
    return DKV_OK;
}

/*
 * A string this process already holds (PMIX_OPTIONAL: the server is never
 * asked); about @p node if not NULL. Returned copy (caller frees), or NULL.
 */
static char *get_local_string(dkv__boot_t *boot, pmix_rank_t rank,
                              const char *key, const char *node)
{
    pmix_info_t   info[3];
    pmix_proc_t   proc;
    pmix_value_t *val   = NULL;
    char         *copy  = NULL;
    bool          yes   = true;
    size_t        ninfo = 0;
    size_t        i;
    pmix_status_t rc;

    PMIX_PROC_CONSTRUCT(&proc);
    PMIX_LOAD_PROCID(&proc, boot->me.nspace, rank);
    PMIX_INFO_LOAD(&info[ninfo++], PMIX_OPTIONAL, &yes, PMIX_BOOL);
    if (node != NULL) {
        PMIX_INFO_LOAD(&info[ninfo++], PMIX_NODE_INFO, &yes, PMIX_BOOL);
        PMIX_INFO_LOAD(&info[ninfo++], PMIX_HOSTNAME, node, PMIX_STRING);
    }
    rc = PMIx_Get(&proc, key, info, ninfo, &val);
    if ((rc == PMIX_SUCCESS) && (val != NULL) && (val->type == PMIX_STRING) &&
        (val->data.string != NULL)) {
        copy = strdup(val->data.string);
    } else {
        DKV_LOG_DEBUG("no %s%s%s here: %s", key, (node != NULL) ? " of " : "",
                      (node != NULL) ? node : "", PMIx_Error_string(rc));
    }
    if (val != NULL) {
        PMIX_VALUE_RELEASE(val);
    }
    for (i = 0; i < ninfo; i++) {
        PMIX_INFO_DESTRUCT(&info[i]);
    }
    return copy;
}

/* Each node's PMIX_LOCAL_PEERS into @p nodes, for the nodes named in the
 * comma-separated @p list (modified); *n_p = how many were read. */
static dkv_status_t read_node_peers(dkv__boot_t *boot, char *list,
                                    dkv__layout_node_t *nodes, int *n_p)
{
    char *save = NULL;
    char *name;
    int   n = 0;

    for (name = strtok_r(list, ",", &save); name != NULL;
         name = strtok_r(NULL, ",", &save)) {
        nodes[n].name  = name;
        nodes[n].peers = get_local_string(boot, PMIX_RANK_UNDEF,
                                          PMIX_LOCAL_PEERS, name);
        if (nodes[n].peers == NULL) {
            break;
        }
        n++;
    }
    *n_p = n;
    return (name == NULL) ? DKV_OK : DKV_ERR_BOOTSTRAP;
}

/* The layout from the node list and every node's rank list. */
static dkv_status_t layout_from_node_lists(dkv__boot_t *boot,
                                           dkv__layout_t **layout_p)
{
    dkv__layout_node_t *nodes;
    dkv_status_t        status;
    char                err[256] = "";
    char               *list;
    const char         *s;
    int                 cap = 1;
    int                 n, j;

    list = get_local_string(boot, PMIX_RANK_WILDCARD, PMIX_NODE_LIST, NULL);
    if (list == NULL) {
        return DKV_ERR_BOOTSTRAP;
    }
    for (s = list; *s != '\0'; s++) {
        cap += (*s == ',');
    }
    nodes = calloc((size_t)cap, sizeof(*nodes));
    if (nodes == NULL) {
        free(list);
        return DKV_ERR_NO_MEMORY;
    }
    status = read_node_peers(boot, list, nodes, &n);
    if ((status == DKV_OK) && (n == 0)) {
        status = DKV_ERR_BOOTSTRAP;
    }
    if (status == DKV_OK) {
        status = dkv__layout_from_peers(boot->size, nodes, n, layout_p, err,
                                        sizeof(err));
        if (status != DKV_OK) {
            DKV_LOG_DEBUG("node rank lists unusable: %s", err);
        }
    }
    for (j = 0; j < n; j++) {
        free((char *)nodes[j].peers);
    }
    free(nodes);
    free(list);
    return status;
}

/* The layout from every rank's host name: one PMIx_Get per rank. */
static dkv_status_t layout_from_hosts(dkv__boot_t *boot,
                                      dkv__layout_t **layout_p)
{
    char       **host;
    char         err[256] = "";
    dkv_status_t status   = read_hosts(boot, &host);

    if (status != DKV_OK) {
        return status;
    }
    status = dkv__layout_from_hosts(boot->size, (const char *const *)host,
                                    layout_p, err, sizeof(err));
    if (status != DKV_OK) {
        DKV_LOG_ERROR("%s", err);
    }
    free_hosts(host, boot->size);
    return status;
}

/* The job's layout, read on the first call. */
static dkv_status_t read_layout(dkv__boot_t *boot,
                                const dkv__layout_t **layout_p)
{
    const char  *how = "rank lists per node";
    dkv_status_t status;

    if (boot->layout == NULL) {
        status = layout_from_node_lists(boot, &boot->layout);
        if (status == DKV_ERR_NO_MEMORY) {
            return status;
        }
        if (status != DKV_OK) {
            DKV_LOG_DEBUG("no usable rank list per node: asking each of %d "
                          "ranks for its host name", boot->size);
            how    = "host names";
            status = layout_from_hosts(boot, &boot->layout);
            if (status != DKV_OK) {
                return status;
            }
        }
        DKV_LOG_DEBUG("layout: %d ranks on %d nodes, from %s", boot->size,
                      boot->layout->nnodes, how);
    }
    *layout_p = boot->layout;
    return DKV_OK;
}

dkv_status_t dkv__boot_node_ids(dkv__boot_t *boot, int *node)
{
    const dkv__layout_t *layout;
    dkv_status_t         status = read_layout(boot, &layout);

    if (status != DKV_OK) {
        return status;
    }
    memcpy(node, layout->node, (size_t)boot->size * sizeof(*node));
    return DKV_OK;
}

dkv_status_t dkv__boot_local_ranks(dkv__boot_t *boot, int **local_p)
{
    const dkv__layout_t *layout;
    dkv_status_t         status = read_layout(boot, &layout);
    int                 *local;

    if (status != DKV_OK) {
        return status;
    }
    local = malloc((size_t)boot->size * sizeof(*local));
    if (local == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    memcpy(local, layout->local, (size_t)boot->size * sizeof(*local));
    *local_p = local;
    return DKV_OK;
}

dkv_status_t dkv__boot_put(dkv__boot_t *boot, const char *key,
                           const void *buf, size_t len)
{
    pmix_value_t  val;
    pmix_status_t rc;

    PMIX_VALUE_CONSTRUCT(&val);
    val.type          = PMIX_BYTE_OBJECT;
    val.data.bo.bytes = (char *)buf;
    val.data.bo.size  = len;
    rc                = PMIx_Put(PMIX_GLOBAL, key, &val);
    if (rc != PMIX_SUCCESS) {
        DKV_LOG_ERROR("PMIx_Put(%s) failed: %s", key, PMIx_Error_string(rc));
        return DKV_ERR_BOOTSTRAP;
    }
    return DKV_OK;
}

dkv_status_t dkv__boot_commit(dkv__boot_t *boot)
{
    pmix_status_t rc = PMIx_Commit();

    if (rc != PMIX_SUCCESS) {
        DKV_LOG_ERROR("PMIx_Commit failed: %s", PMIx_Error_string(rc));
        return DKV_ERR_BOOTSTRAP;
    }
    return DKV_OK;
}

/* PMIx progress thread: record only. */
static void fence_cb(pmix_status_t status, void *cbdata)
{
    dkv__boot_t *boot = cbdata;
    uint64_t     one  = 1;
    ssize_t      n;

    atomic_store(&boot->fence_status, (int)status);
    atomic_store(&boot->fence_done, 1);
    n = write(boot->wake_fd, &one, sizeof(one));
    (void)n;
}

dkv_status_t dkv__boot_fence_start(dkv__boot_t *boot, int collect)
{
    bool          flag = (collect != 0);
    pmix_status_t rc;
    size_t        ninfo = 0;

    atomic_store(&boot->fence_done, 0);
    if (collect) {
        PMIX_INFO_LOAD(&boot->info[0], PMIX_COLLECT_DATA, &flag, PMIX_BOOL);
        ninfo = 1;
    }
    rc = PMIx_Fence_nb(NULL, 0, (ninfo > 0) ? boot->info : NULL, ninfo,
                       fence_cb, boot);
    if (rc == PMIX_OPERATION_SUCCEEDED) {
        atomic_store(&boot->fence_status, PMIX_SUCCESS);
        atomic_store(&boot->fence_done, 1);
        return DKV_OK;
    }
    if (rc != PMIX_SUCCESS) {
        DKV_LOG_ERROR("PMIx_Fence_nb failed: %s", PMIx_Error_string(rc));
        return DKV_ERR_BOOTSTRAP;
    }
    return DKV_OK;
}

int dkv__boot_fence_test(dkv__boot_t *boot, dkv_status_t *status_p)
{
    uint64_t drain;
    int      rc;
    ssize_t  n;

    if (!atomic_load(&boot->fence_done)) {
        return 0;
    }
    n  = read(boot->wake_fd, &drain, sizeof(drain));
    (void)n;
    rc = atomic_load(&boot->fence_status);
    if (rc != PMIX_SUCCESS) {
        DKV_LOG_ERROR("PMIx fence failed: %s", PMIx_Error_string(rc));
        *status_p = DKV_ERR_BOOTSTRAP;
    } else {
        *status_p = DKV_OK;
    }
    return 1;
}

int dkv__boot_wake_fd(const dkv__boot_t *boot)
{
    return boot->wake_fd;
}

dkv_status_t dkv__boot_get(dkv__boot_t *boot, int rank, const char *key,
                           void **buf_p, size_t *len_p)
{
    pmix_proc_t   proc;
    pmix_value_t *val = NULL;
    pmix_info_t   info;
    pmix_status_t rc;
    bool          optional = true;
    void         *buf;

    /* After the collecting fence every published value is here: a key
     * that is not (a rank that published nothing) must not make PMIx ask
     * its server and wait. */
    PMIX_INFO_LOAD(&info, PMIX_OPTIONAL, &optional, PMIX_BOOL);
    PMIX_PROC_CONSTRUCT(&proc);
    PMIX_LOAD_PROCID(&proc, boot->me.nspace, (pmix_rank_t)rank);
    rc = PMIx_Get(&proc, key, &info, 1, &val);
    PMIX_INFO_DESTRUCT(&info);
    if ((rc != PMIX_SUCCESS) || (val == NULL) ||
        (val->type != PMIX_BYTE_OBJECT)) {
        DKV_LOG_DEBUG("PMIx_Get(%s) of rank %d failed: %s", key, rank,
                      PMIx_Error_string(rc));
        if (val != NULL) {
            PMIX_VALUE_RELEASE(val);
        }
        return DKV_ERR_BOOTSTRAP;
    }
    buf = malloc(val->data.bo.size + 1);
    if (buf == NULL) {
        PMIX_VALUE_RELEASE(val);
        return DKV_ERR_NO_MEMORY;
    }
    memcpy(buf, val->data.bo.bytes, val->data.bo.size);
    *len_p = val->data.bo.size;
    *buf_p = buf;
    PMIX_VALUE_RELEASE(val);
    return DKV_OK;
}

dkv_status_t dkv__boot_local_peers(dkv__boot_t *boot, int **peers_p,
                                   int *n_p)
{
    pmix_proc_t   wild;
    pmix_value_t *val = NULL;
    pmix_status_t rc;
    const char   *s;
    int          *peers;
    int           n = 1;
    int           cap;

    PMIX_PROC_CONSTRUCT(&wild);
    PMIX_LOAD_PROCID(&wild, boot->me.nspace, PMIX_RANK_WILDCARD);
    rc = PMIx_Get(&wild, PMIX_LOCAL_PEERS, NULL, 0, &val);
    if ((rc != PMIX_SUCCESS) || (val == NULL) || (val->type != PMIX_STRING) ||
        (val->data.string == NULL)) {
        DKV_LOG_ERROR("PMIx_Get(PMIX_LOCAL_PEERS) failed: %s",
                      PMIx_Error_string(rc));
        if (val != NULL) {
            PMIX_VALUE_RELEASE(val);
        }
        return DKV_ERR_BOOTSTRAP;
    }
    for (s = val->data.string; *s != '\0'; s++) {
        n += (*s == ',');
    }
    peers = calloc((size_t)n, sizeof(*peers));
    if (peers == NULL) {
        PMIX_VALUE_RELEASE(val);
        return DKV_ERR_NO_MEMORY;
    }
    cap = n;
    n   = 0;
    for (s = val->data.string; (*s != '\0') && (n < cap);) {
        char *end;
        long  v = strtol(s, &end, 10);

        if (end == s) {
            break; /* not a number: keep what was parsed */
        }
        peers[n++] = (int)v;
        s          = (*end == ',') ? end + 1 : end;
    }
    PMIX_VALUE_RELEASE(val);
    *peers_p = peers;
    *n_p     = n;
    return DKV_OK;
}
