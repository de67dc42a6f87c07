/*
 * api_init: dkv_init, dkv_finalize, dkv_serve and the context queries.
 *
 * Init order: config -> PMIx (rank, size, layout) -> holder list -> UCX
 * context + client worker -> holder thread (its worker's address) ->
 * PMIx_Put of addresses (+ the job secret on rank 0) -> Commit -> one
 * collecting PMIx_Fence_nb, progressing the client worker meanwhile -> the
 * secret -> the holder starts serving. No endpoint is created here.
 *
 * Finalize order: quiet -> tell dedicated holders we are done -> PMIx fence
 * (everyone done with traffic) -> close endpoints -> PMIx fence (everyone
 * closed) -> stop the holder -> close UCX -> PMIx_Finalize. Each wait is
 * bounded by DKV_TIMEOUT_MS; resources are released whatever happens.
 */
#define DKV_LOG_MODULE "init"

#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "api_detail.h"
#include "clock.h"
#include "ctx.h"
#include "holders.h"
#include "peers.h"
#include "log.h"

struct dkv_ctx dkv__the_ctx;

/* Lowest fence members whose client addresses every rank reads at init:
 * the candidates for a fence's coordinator. */
#define DKV__COORD_PREFETCH 8

dkv_status_t dkv__ctx_check(const dkv_ctx_t *ctx)
{
    if (ctx == NULL) {
        return (dkv__the_ctx.state == DKV__STATE_READY) ? DKV_ERR_INVALID
                                                        : DKV_ERR_STATE;
    }
    if (ctx != &dkv__the_ctx) {
        return DKV_ERR_INVALID;
    }
    return (ctx->state == DKV__STATE_READY) ? DKV_OK : DKV_ERR_STATE;
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

static dkv_status_t load_config(dkv_ctx_t *ctx, const dkv_init_params_t *p)
{
    char         err[256] = "";
    dkv_status_t status;
    int          level;

    status = dkv__config_load(&ctx->cfg, p, env_get, err, sizeof(err));
    if (status != DKV_OK) {
        /* Init fails: say why even when logging is off. */
        fprintf(stderr, "dkv[?] error config: %s\n", err);
        return status;
    }
    level = dkv__log_parse_level(ctx->cfg.LOG);
    if (level < 0) {
        fprintf(stderr, "dkv[?] error config: DKV_LOG: unknown level '%s'\n",
                ctx->cfg.LOG);
        return DKV_ERR_INVALID;
    }
    dkv__log_setup((dkv__log_level_t)level, -1);
    if (dkv__fault_parse(ctx->cfg.FAULT, &ctx->fault, err, sizeof(err)) !=
        DKV_OK) {
        fprintf(stderr, "dkv[?] error config: %s\n", err);
        return DKV_ERR_INVALID;
    }
    return DKV_OK;
}

/* Each holder's node number, so that replicas go to different nodes. */
static dkv_status_t holder_nodes(dkv_ctx_t *ctx)
{
    int         *node = calloc((size_t)ctx->size, sizeof(*node));
    dkv_status_t status;
    int          i;

    ctx->holder_node = calloc((size_t)ctx->nholders, sizeof(int));
    if ((node == NULL) || (ctx->holder_node == NULL)) {
        free(node);
        return DKV_ERR_NO_MEMORY;
    }
    status = dkv__boot_node_ids(ctx->boot, node);
    for (i = 0; (status == DKV_OK) && (i < ctx->nholders); i++) {
        ctx->holder_node[i] = node[ctx->holders[i]];
    }
    free(node);
    return status;
}

/* More copies than holders, or than nodes with holders: said once on rank
 * 0 even with logging off, because every write would fail (or copies
 * would share a node that can take them all down at once). */
static void warn_replicas(const dkv_ctx_t *ctx)
{
    int i, j, nodes = 0;

    for (i = 0; i < ctx->nholders; i++) {
        for (j = 0; (j < i) && (ctx->holder_node[j] != ctx->holder_node[i]);
             j++) {
        }
        nodes += (j == i);
        if (nodes >= ctx->replicas) {
            return; /* enough: stops early, O(replicas * holders) */
        }
    }
    if (ctx->rank != 0) {
        return;
    }
    if (ctx->replicas > ctx->nholders) {
        fprintf(stderr, "dkv[0] warning: DKV_REPLICAS=%d but the job has "
                "only %d holder%s: every write will fail with "
                "DKV_ERR_REPLICAS\n", ctx->replicas, ctx->nholders,
                (ctx->nholders == 1) ? "" : "s");
    } else {
        fprintf(stderr, "dkv[0] warning: DKV_REPLICAS=%d but the holders are "
                "on only %d nodes: copies of a key share a node, and losing "
                "it loses them all\n", ctx->replicas, nodes);
    }
}

static dkv_status_t choose_holders(dkv_ctx_t *ctx)
{
    char         err[256] = "";
    int         *local    = NULL;
    dkv_status_t status;
    int          i;

    if (strcmp(ctx->cfg.HOLDERS, "node") == 0) {
        status = dkv__boot_local_ranks(ctx->boot, &local);
        if (status != DKV_OK) {
            return status;
        }
    }
    status = dkv__holders_compute(ctx->cfg.HOLDERS, ctx->size, local,
                                  &ctx->holders, &ctx->nholders, err,
                                  sizeof(err));
    free(local);
    if (status != DKV_OK) {
        fprintf(stderr, "dkv[%d] error config: %s\n", ctx->rank, err);
        return status;
    }
    for (i = 0; i < ctx->nholders; i++) {
        ctx->is_holder |= (ctx->holders[i] == ctx->rank);
    }
    ctx->replicas = (int)ctx->cfg.REPLICAS;
    if (ctx->replicas > 1) {
        status = holder_nodes(ctx);
        if (status != DKV_OK) {
            return status;
        }
        warn_replicas(ctx);
    }
    ctx->dedicated = ctx->cfg.DEDICATED;
    if (ctx->dedicated && (ctx->nholders == ctx->size)) {
        fprintf(stderr, "dkv[%d] error config: DKV_DEDICATED=1 needs at "
                "least one rank that is not a holder\n", ctx->rank);
        return DKV_ERR_INVALID;
    }
    return DKV_OK;
}

/* This node's ranks: sizes the default memory limit and says whether the
 * node is oversubscribed (then waiting ranks yield the CPU at once). */
static dkv_status_t read_node(dkv_ctx_t *ctx)
{
    long         ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int         *peers;
    int          npeers, i, j;
    dkv_status_t status;

    status = dkv__boot_local_peers(ctx->boot, &peers, &npeers);
    if (status != DKV_OK) {
        return status;
    }
    for (i = 0; i < npeers; i++) {
        for (j = 0; j < ctx->nholders; j++) {
            ctx->local_holders += (ctx->holders[j] == peers[i]);
        }
    }
    ctx->local_ranks  = peers;
    ctx->nlocal_ranks = npeers;
    /* Holder threads sleep when idle; count the ranks' own threads. */
    ctx->oversubscribed = npeers > ncpu;
    return DKV_OK;
}

/* DKV_HOLD_BYTES=0: half the node's memory, shared by its holders. */
static size_t hold_limit(const dkv_ctx_t *ctx)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long psize = sysconf(_SC_PAGESIZE);

    if (ctx->cfg.HOLD_BYTES != 0) {
        return ctx->cfg.HOLD_BYTES;
    }
    return (size_t)pages * (size_t)psize / 2 /
           (size_t)((ctx->local_holders > 0) ? ctx->local_holders : 1);
}

static dkv_status_t start_holder(dkv_ctx_t *ctx, uint64_t deadline)
{
    dkv__holder_cfg_t hcfg;
    const void       *addr;
    size_t            len;
    dkv_status_t      status;

    memset(&hcfg, 0, sizeof(hcfg));
    hcfg.fault       = ctx->fault;
    hcfg.hold_bytes  = hold_limit(ctx);
    hcfg.ucp         = ctx->ucp;
    hcfg.rndv_thresh = ctx->cfg.RNDV_THRESH;
    hcfg.spin_ns     = (uint64_t)ctx->cfg.SPIN_US * 1000;
    hcfg.rank        = ctx->rank;
    hcfg.size        = ctx->size;
    hcfg.holders     = ctx->holders;
    hcfg.holder_node = ctx->holder_node;
    hcfg.nholders    = ctx->nholders;
    hcfg.replicas    = ctx->replicas;
    hcfg.drain_keep  = (unsigned)ctx->cfg.DRAIN_KEEP;
    for (hcfg.index = 0; ctx->holders[hcfg.index] != ctx->rank; hcfg.index++) {
    }
    status           = dkv__holder_start(&hcfg, deadline, &ctx->holder);
    if (status != DKV_OK) {
        return status;
    }
    dkv__holder_address(ctx->holder, &addr, &len);
    DKV_LOG_INFO("holder serving up to %zu bytes", hcfg.hold_bytes);
    return dkv__boot_put(ctx->boot, DKV__PMIX_KEY_SERVER, addr, len);
}

static int fence_done(void *arg)
{
    dkv_ctx_t   *ctx = arg;
    dkv_status_t status;

    return dkv__boot_fence_test(ctx->boot, &status);
}

/*
 * The PMIx fence of init. The client worker is left alone meanwhile: until
 * this rank knows the job secret it must not handle messages, or a fast
 * peer's first message would be dropped as unauthenticated. The wait ends
 * at @p deadline.
 */
static dkv_status_t pmix_fence(dkv_ctx_t *ctx, int collect, uint64_t deadline)
{
    struct pollfd pfd    = {.fd = dkv__boot_wake_fd(ctx->boot),
                            .events = POLLIN};
    dkv_status_t  status = dkv__boot_fence_start(ctx->boot, collect);

    if (status != DKV_OK) {
        return status;
    }
    while (!fence_done(ctx) && (dkv__now_ns() < deadline)) {
        (void)poll(&pfd, 1, dkv__poll_ms(deadline));
    }
    if (!fence_done(ctx)) {
        DKV_LOG_ERROR("PMIx fence did not complete in %u ms",
                      ctx->cfg.TIMEOUT_MS);
        return DKV_ERR_TIMEOUT;
    }
    dkv__boot_fence_test(ctx->boot, &status);
    return status;
}

static dkv_status_t publish_and_fence(dkv_ctx_t *ctx, uint64_t deadline)
{
    ucp_address_t *addr;
    size_t         len;
    dkv_status_t   status;
    void          *buf;

    status = dkv__worker_address(&ctx->client.worker, &addr, &len);
    if (status != DKV_OK) {
        return status;
    }
    status = dkv__boot_put(ctx->boot, DKV__PMIX_KEY_CLIENT, addr, len);
    ucp_worker_release_address(ctx->client.worker.ucp, addr);
    if (status == DKV_OK) {
        int32_t pid = (int32_t)getpid();

        status = dkv__boot_put(ctx->boot, DKV__PMIX_KEY_PID, &pid,
                               sizeof(pid));
    }
    if ((status == DKV_OK) && (ctx->rank == 0)) {
        while (ctx->secret == 0) {
            if (getrandom(&ctx->secret, sizeof(ctx->secret), 0) < 0) {
                ctx->secret = dkv__now_ns() ^ ((uint64_t)getpid() << 32);
            }
        }
        status = dkv__boot_put(ctx->boot, DKV__PMIX_KEY_SECRET, &ctx->secret,
                               sizeof(ctx->secret));
    }
    if (status == DKV_OK) {
        status = dkv__boot_commit(ctx->boot);
    }
    if (status == DKV_OK) {
        status = pmix_fence(ctx, 1, deadline);
    }
    if ((status == DKV_OK) && (ctx->rank != 0)) {
        status = dkv__boot_get(ctx->boot, 0, DKV__PMIX_KEY_SECRET, &buf, &len);
        if (status == DKV_OK) {
            if (len == sizeof(ctx->secret)) {
                memcpy(&ctx->secret, buf, sizeof(ctx->secret));
            } else {
                status = DKV_ERR_BOOTSTRAP;
            }
            free(buf);
        }
    }
    return status;
}

/*
 * 1 if the program links MPI but has not initialised it yet. Open MPI's
 * MPI_Init cannot start after PMIx was initialised and finalised in the
 * same process (PMIx 4.2 has lost the job data then), so dramkv keeps its
 * PMIx connection until dkv_finalize in that case - an MPI job dies with
 * any rank anyway.
 */
static int mpi_init_pending(void)
{
    int (*initialized)(int *) = NULL;
    int flag                  = 0;

    *(void **)&initialized = dlsym(RTLD_DEFAULT, "MPI_Initialized");
    if ((initialized == NULL) || (initialized(&flag) != 0)) {
        return 0;
    }
    return !flag;
}

/* Read @p rank's worker address of @p kind from PMIx into the peer table. */
static dkv_status_t fetch_addr(dkv_ctx_t *ctx, dkv__peer_kind_t kind,
                               int rank)
{
    dkv__peers_t *p = &ctx->client.peers;
    dkv_status_t  status;
    void         *buf;
    size_t        len;

    if ((rank < 0) || (rank >= ctx->size) ||
        (p->addr[kind][rank].bytes != NULL)) {
        return DKV_OK;
    }
    status = dkv__boot_get(ctx->boot, rank,
                           (kind == DKV__PEER_SERVER) ? DKV__PMIX_KEY_SERVER
                                                      : DKV__PMIX_KEY_CLIENT,
                           &buf, &len);
    if (status == DKV_OK) {
        dkv__peers_set_addr(p, kind, rank, buf, len);
    } else if (kind == DKV__PEER_SERVER) {
        DKV_LOG_ERROR("holder %d published no address", rank);
    } else {
        status = DKV_OK; /* a rank that published none is unreachable */
    }
    return status;
}

/*
 * Everything this rank will ever ask PMIx, read now, so that init can end
 * its PMIx use: every holder's server worker; the client workers of the
 * lowest members (fence coordinators), of this rank's partners at distance
 * 2^k both ways (dissemination rounds) and of dedicated holders (byes); the
 * pids of this node's ranks. O(holders + log P); every other rank's address
 * comes in its HELLO.
 */
static dkv_status_t prefetch(dkv_ctx_t *ctx)
{
    const dkv__barrier_t *b = &ctx->client.barrier;
    dkv__peers_t         *p = &ctx->client.peers;
    dkv_status_t          status = DKV_OK;
    int                   i, d, n = b->nmembers;
    void                 *buf;
    size_t                len;

    for (i = 0; (status == DKV_OK) && (i < ctx->nholders); i++) {
        status = fetch_addr(ctx, DKV__PEER_SERVER, ctx->holders[i]);
        if ((status == DKV_OK) && ctx->dedicated) {
            status = fetch_addr(ctx, DKV__PEER_CLIENT, ctx->holders[i]);
        }
    }
    for (i = 0; (status == DKV_OK) && (i < n) && (i < DKV__COORD_PREFETCH);
         i++) {
        status = fetch_addr(ctx, DKV__PEER_CLIENT, b->members[i]);
    }
    for (d = 1; (status == DKV_OK) && (b->me >= 0) && (d < n); d *= 2) {
        status = fetch_addr(ctx, DKV__PEER_CLIENT, b->members[(b->me + d) % n]);
        if (status == DKV_OK) {
            status = fetch_addr(ctx, DKV__PEER_CLIENT,
                                b->members[(b->me - d % n + n) % n]);
        }
    }
    for (i = 0; (status == DKV_OK) && (i < ctx->nlocal_ranks); i++) {
        int r = ctx->local_ranks[i];

        if ((r < 0) || (r >= ctx->size) || (r == ctx->rank)) {
            continue;
        }
        if (dkv__boot_get(ctx->boot, r, DKV__PMIX_KEY_PID, &buf, &len) ==
            DKV_OK) {
            if (len == sizeof(int32_t)) {
                memcpy(&p->pid[r], buf, sizeof(int32_t));
            }
            free(buf);
        }
    }
    return status;
}

/* Let the holder thread serve, with every holder's server address (from
 * the peer table, filled before PMIx ended) so holders can reach each
 * other to commit drains. */
static dkv_status_t start_serving(dkv_ctx_t *ctx)
{
    const dkv__peer_addr_t *a = ctx->client.peers.addr[DKV__PEER_SERVER];
    const void            **addr;
    size_t                 *len;
    dkv_status_t            status = DKV_ERR_NO_MEMORY;
    int                     i;

    addr = calloc((size_t)ctx->nholders, sizeof(*addr));
    len  = calloc((size_t)ctx->nholders, sizeof(*len));
    if ((addr != NULL) && (len != NULL)) {
        for (i = 0; i < ctx->nholders; i++) {
            addr[i] = a[ctx->holders[i]].bytes;
            len[i]  = a[ctx->holders[i]].len;
        }
        status = dkv__holder_go(ctx->holder, ctx->secret, addr, len);
    }
    free(addr);
    free(len);
    return status;
}

/* Ranks that take part in fences: all but dedicated holders. */
static dkv_status_t setup_barrier(dkv_ctx_t *ctx)
{
    dkv_status_t status;
    int         *members;
    int          n = 0, r, h = 0;

    members = malloc((size_t)ctx->size * sizeof(int));
    if (members == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    for (r = 0; r < ctx->size; r++) {
        int held = (h < ctx->nholders) && (ctx->holders[h] == r);

        h += held;
        if (!(ctx->dedicated && held)) {
            members[n++] = r;
        }
    }
    status = dkv__barrier_init(&ctx->client, members, n, ctx->rank,
                               ctx->size);
    free(members);
    return status;
}

static void setup_client(dkv_ctx_t *ctx)
{
    dkv__client_t *c = &ctx->client;

    c->rank        = ctx->rank;
    c->timeout_ns  = (uint64_t)ctx->cfg.TIMEOUT_MS * 1000000ull;
    c->spin_ns     = (uint64_t)ctx->cfg.SPIN_US * 1000ull;
    c->pure_spin_ns = ctx->oversubscribed ? 0 : c->spin_ns;
    c->rndv_thresh = ctx->cfg.RNDV_THRESH;
    c->checksum    = ctx->cfg.CHECKSUM;
    c->node_copy   = ctx->cfg.NODE_COPY;
    c->holders     = ctx->holders;
    c->nholders    = ctx->nholders;
    c->holder_node = ctx->holder_node;
    c->replicas    = ctx->replicas;
}

dkv_status_t dkv_init(const dkv_init_params_t *params, dkv_ctx_t **ctx_p)
{
    dkv_ctx_t   *ctx = &dkv__the_ctx;
    dkv_status_t status;
    uint64_t     deadline;

    if (ctx_p == NULL) {
        return DKV_ERR_INVALID;
    }
    if (ctx->state == DKV__STATE_READY) {
        dkv__detail_set(ctx, "dkv_init: this process is already initialised "
                        "(one context per process; dkv_finalize first)");
        return dkv__detail_result(ctx, "dkv_init", NULL, DKV_ERR_STATE);
    }
    memset(ctx, 0, sizeof(*ctx));
    status = load_config(ctx, params);
    if (status != DKV_OK) {
        return status;
    }
    deadline = dkv__deadline_ms(ctx->cfg.TIMEOUT_MS);
    status   = dkv__boot_start(&ctx->boot, &ctx->rank, &ctx->size);
    if (status != DKV_OK) {
        return status;
    }
    dkv__log_setup(dkv__log_level, ctx->rank);
    dkv__fault_arm(&ctx->fault, ctx->rank); /* before any thread starts */
    if ((ctx->rank == 0) && ctx->cfg.PRINT_CONFIG) {
        dkv__config_print(&ctx->cfg, stderr);
    }
    status = choose_holders(ctx);
    if (status != DKV_OK) {
        goto err_boot_stop;
    }
    status = read_node(ctx);
    if (status != DKV_OK) {
        goto err_free_holders;
    }
    status = dkv__ucx_context_open(&ctx->ucp);
    if (status != DKV_OK) {
        goto err_free_holders;
    }
    setup_client(ctx);
    status = dkv__client_open(&ctx->client, ctx->ucp);
    if (status != DKV_OK) {
        goto err_ucx_close;
    }
    status = dkv__peers_init(&ctx->client.peers, &ctx->client.worker,
                             ctx->rank, ctx->size, ctx->local_ranks,
                             ctx->nlocal_ranks);
    if (status != DKV_OK) {
        goto err_client_close;
    }
    status = setup_barrier(ctx);
    if (status != DKV_OK) {
        goto err_peers_close;
    }
    if (ctx->is_holder) {
        status = start_holder(ctx, deadline);
        if (status != DKV_OK) {
            goto err_barrier_cleanup;
        }
    }
    status = publish_and_fence(ctx, deadline);
    if (status == DKV_OK) {
        status = prefetch(ctx);
    }
    if (status != DKV_OK) {
        goto err_holder_stop;
    }
    /* dramkv's PMIx use ends here: from now on a rank that dies cannot
     * make the launcher's PMIx server kill the job step on our account.
     * (PMIx counts inits: MPI's own connection, if any, stays.) */
    if (!mpi_init_pending()) {
        dkv__boot_stop(ctx->boot);
        ctx->boot = NULL;
    }
    ctx->client.secret = ctx->secret;
    dkv__peers_set_secret(&ctx->client.peers, ctx->secret);
    if (ctx->holder != NULL) {
        status = start_serving(ctx);
        if (status != DKV_OK) {
            goto err_holder_stop;
        }
    }
    DKV_LOG_INFO("rank %d of %d ready, %d holders%s", ctx->rank, ctx->size,
                 ctx->nholders, ctx->is_holder ? ", holding" : "");
    ctx->state = DKV__STATE_READY;
    *ctx_p     = ctx;
    return DKV_OK;

err_holder_stop:
    dkv__holder_stop(ctx->holder);
    ctx->holder = NULL;
err_barrier_cleanup:
    dkv__barrier_cleanup(&ctx->client.barrier);
err_peers_close:
    dkv__peers_close(&ctx->client.peers, dkv__now_ns());
err_client_close:
    dkv__client_close(&ctx->client);
err_ucx_close:
    dkv__ucx_context_close(ctx->ucp);
err_free_holders:
    free(ctx->local_ranks);
    free(ctx->holders);
    free(ctx->holder_node);
    ctx->holder_node = NULL;
err_boot_stop:
    dkv__boot_stop(ctx->boot);
    memset(ctx, 0, sizeof(*ctx));
    return status;
}

static uint64_t finalize_wait_ns(const dkv_ctx_t *ctx)
{
    uint64_t ms = ctx->cfg.FINALIZE_TIMEOUT_MS;

    if (ms == 0) {
        ms = 10ull * ctx->cfg.TIMEOUT_MS;
    }
    return ms * 1000000ull;
}

/* Dedicated holders, to whom a finishing rank says goodbye. */
static dkv_status_t say_bye(dkv_ctx_t *ctx, uint64_t deadline)
{
    if (!ctx->dedicated || ctx->is_holder) {
        return DKV_OK;
    }
    return dkv__barrier_send_bye(&ctx->client, ctx->holders, ctx->nholders,
                                 deadline);
}

/*
 * Wait until no rank will send this one a request any more, so its holder
 * may stop: members pass one barrier (every member has quiesced); a
 * dedicated holder waits for every member's bye (bounded here, unlike
 * dkv_serve). Ranks found dead are not waited for.
 */
static dkv_status_t all_done(dkv_ctx_t *ctx, uint64_t deadline)
{
    int32_t verdict;

    if (ctx->client.barrier.me >= 0) {
        return dkv__barrier_run(&ctx->client, DKV_OK, &verdict, deadline);
    }
    if (ctx->dedicated && ctx->is_holder) {
        return dkv__barrier_wait_byes_until(
            &ctx->client, (uint32_t)ctx->client.barrier.nmembers, deadline);
    }
    return DKV_OK;
}

dkv_status_t dkv_finalize(dkv_ctx_t *ctx)
{
    dkv_status_t status, st, drain;
    uint64_t     deadline;

    if (ctx == NULL) {
        return DKV_OK;
    }
    status = dkv__ctx_check(ctx);
    if (status != DKV_OK) {
        return status;
    }
    drain    = dkv__stage_finalize(ctx); /* a running drain ends first */
    status   = dkv__client_quiet(&ctx->client);
    status   = (status == DKV_OK) ? drain : status;
    /* Ranks reach finalize at different times (load imbalance at the end of
     * a job is common): a holder must keep serving until the last one is
     * done, so this wait is longer than an ordinary call's. */
    deadline = dkv__now_ns() + finalize_wait_ns(ctx);
    st       = say_bye(ctx, deadline);
    status   = (status == DKV_OK) ? st : status;
    st       = all_done(ctx, deadline);
    status   = (status == DKV_OK) ? st : status;
    dkv__peers_close(&ctx->client.peers, dkv__now_ns() + 1000000000ull);
    dkv__holder_stop(ctx->holder);
    dkv__barrier_cleanup(&ctx->client.barrier);
    dkv__client_close(&ctx->client);
    dkv__ucx_context_close(ctx->ucp);
    free(ctx->local_ranks);
    free(ctx->holders);
    free(ctx->holder_node);
    ctx->holder_node = NULL;
    dkv__boot_stop(ctx->boot); /* NULL unless kept for a later MPI_Init */
    memset(ctx, 0, sizeof(*ctx));
    ctx->state = DKV__STATE_FINALIZED;
    return dkv__detail_result(ctx, "dkv_finalize", NULL, status);
}

dkv_status_t dkv_serve(dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv__ctx_check(ctx);

    if ((status == DKV_OK) && (!ctx->dedicated || !ctx->is_holder)) {
        status = DKV_ERR_STATE;
    }
    if (status == DKV_OK) {
        status = dkv__barrier_wait_byes(
            &ctx->client, (uint32_t)ctx->client.barrier.nmembers);
    }
    return dkv__detail_result(ctx, "dkv_serve", NULL, status);
}

int dkv_rank(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->rank : -1;
}

int dkv_size(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->size : -1;
}

int dkv_is_holder(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->is_holder : 0;
}

int dkv_num_holders(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? ctx->nholders : -1;
}

int dkv_is_dedicated(const dkv_ctx_t *ctx)
{
    return (dkv__ctx_check(ctx) == DKV_OK) ? (ctx->dedicated &&
                                              ctx->is_holder)
                                           : 0;
}
