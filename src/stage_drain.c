/*
 * stage_drain: dkv_drain_start / _test / _wait on the caller's side.
 *
 * Start (collective): a fence (quiet + barrier, the directory check folded
 * into the verdict); then the lowest live member asks every holder to
 * snapshot and start writing (DRAIN, one file index per holder) and waits
 * for all their answers; a second barrier spreads the outcome, so no rank
 * returns - and writes again - before every holder has its snapshot.
 * The holders commit the drain themselves (holder_commit.c): the lowest
 * live holder writes the manifest once every file is durable, whether or
 * not any rank polls. Test/wait ask the holders for their progress
 * (DRAIN_QUERY) and the committer for the outcome; a rank never writes
 * the manifest.
 * The drain id is derived from the job secret and the drain's number, so
 * every rank knows it without a message.
 */
#define DKV_LOG_MODULE "stage"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "ctx.h"
#include "log.h"
#include "place.h"
#include "stage_wire.h"

/* Polling interval bounds while waiting for a drain. */
#define DKV__DRAIN_POLL_MIN_US 500
#define DKV__DRAIN_POLL_MAX_US 20000

void dkv__stage_detail(dkv_ctx_t *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(ctx->stage.detail, sizeof(ctx->stage.detail), fmt, ap);
    va_end(ap);
    ctx->detail_fresh = 1; /* kept by dkv__detail_result() */
    DKV_LOG_ERROR("%s", ctx->stage.detail);
}

/* The drain directory exists and a file can be made in it: tried for real
 * (permission bits do not tell, e.g. for root or on /proc). */
static dkv_status_t check_dir(dkv_ctx_t *ctx, const char *dir)
{
    char        probe[DKV__DRAIN_PATH_MAX + 64];
    struct stat st;
    int         fd;

    if ((stat(dir, &st) != 0) || !S_ISDIR(st.st_mode)) {
        dkv__stage_detail(ctx, "drain: %s is not a directory", dir);
        return DKV_ERR_IO;
    }
    snprintf(probe, sizeof(probe), "%s/.dkv-probe.%d.%ld", dir, ctx->rank,
             (long)getpid());
    fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        dkv__stage_detail(ctx, "drain: cannot create files in %s: %s", dir,
                          strerror(errno));
        return DKV_ERR_IO;
    }
    close(fd);
    (void)unlink(probe);
    return DKV_OK;
}

/* Fence with this rank's own verdict folded in. */
static dkv_status_t fence_with(dkv_ctx_t *ctx, dkv_status_t mine)
{
    dkv_status_t quiet = dkv__client_quiet(&ctx->client);
    int32_t      verdict;
    dkv_status_t status;

    if (mine == DKV_OK) {
        mine = quiet;
    }
    status = dkv__barrier_run(&ctx->client, mine, &verdict,
                              dkv__deadline_ms(ctx->cfg.TIMEOUT_MS));
    return (status != DKV_OK) ? status : (dkv_status_t)verdict;
}

/* 1 when fewer holders are dead than copies of a key: every key still
 * has a live copy (the same answer on every survivor after a fence). */
static int every_key_live(const dkv_ctx_t *ctx)
{
    int i, dead = 0;

    for (i = 0; i < ctx->nholders; i++) {
        dead += ctx->client.peers.dead[ctx->holders[i]] != 0;
    }
    return dead < ctx->replicas;
}

static uint64_t drain_id(const dkv_ctx_t *ctx)
{
    uint64_t seed[2] = {ctx->secret, ctx->stage.drains};
    uint64_t id      = dkv__place_hash((const char *)seed, sizeof(seed));

    return (id != 0) ? id : 1;
}

/* One holder's answer: its info, or the reason there is none. */
static dkv_status_t take_info(dkv_status_t status, void *buf, size_t len,
                              dkv__drain_info_t *info)
{
    if (status == DKV_OK) {
        status = dkv__drain_info_check(buf, len, info);
        if (status == DKV_OK) {
            status = (dkv_status_t)info->status;
        }
    }
    free(buf);
    return status;
}

/* The status to keep of two: an error over DKV_OK, and any other error over
 * a timeout (a timeout may pass; what a holder reported does not). */
static dkv_status_t worse(dkv_status_t kept, dkv_status_t st)
{
    if ((kept == DKV_OK) || ((kept == DKV_ERR_TIMEOUT) && (st != DKV_OK))) {
        return st;
    }
    return kept;
}

/* Fold holder @p i's outcome @p st into @p status (see ask_holders). */
static dkv_status_t note(dkv_ctx_t *ctx, uint8_t kind, int i, dkv_status_t st,
                         const dkv__drain_info_t *info, dkv_status_t status)
{
    if (st == DKV_OK) {
        return status;
    }
    if ((kind == DKV__MSG_DRAIN_QUERY) && (st == DKV_ERR_PEER_LOST)) {
        ctx->stage.lost[i] = 1;
        return status;
    }
    if (worse(status, st) != status) {
        dkv__stage_detail(ctx, "drain to %s: holder rank %d: %s%s%s",
                          ctx->stage.dir, ctx->holders[i], dkv_strerror(st),
                          ((info != NULL) && info->why[0]) ? ": " : "",
                          (info != NULL) ? info->why : "");
    }
    return worse(status, st);
}

/* A DRAIN payload per live holder: index among the live ones, the path,
 * and the bitmap of lost holders when there are any. */
typedef struct drain_msgs {
    char  *buf;
    size_t one;      /* bytes per holder */
    int    nlive;
    int    any_dead;
} drain_msgs_t;

static dkv_status_t build_msgs(dkv_ctx_t *ctx, drain_msgs_t *dm)
{
    const uint8_t *dead = ctx->client.peers.dead;
    size_t         plen = strlen(ctx->stage.dir);
    size_t         blen = ((size_t)ctx->nholders + 7) / 8;
    int            i, k = 0;

    dm->nlive = 0;
    for (i = 0; i < ctx->nholders; i++) {
        dm->nlive += !dead[ctx->holders[i]];
    }
    dm->any_dead = dm->nlive < ctx->nholders;
    dm->one      = sizeof(dkv__drain_req_t) + plen + (dm->any_dead ? blen : 0);
    dm->buf      = calloc((size_t)ctx->nholders, dm->one);
    if (dm->buf == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    for (i = 0; i < ctx->nholders; i++) {
        char            *p = dm->buf + (size_t)i * dm->one;
        dkv__drain_req_t r = {.index = (uint32_t)k, .nfiles = (uint32_t)dm->nlive,
                              .path_len = (uint32_t)plen,
                              .dead_len = dm->any_dead ? (uint32_t)blen : 0};
        int              j;

        if (dead[ctx->holders[i]]) {
            continue;
        }
        k++;
        memcpy(p, &r, sizeof(r));
        memcpy(p + sizeof(r), ctx->stage.dir, plen);
        for (j = 0; dm->any_dead && (j < ctx->nholders); j++) {
            if (dead[ctx->holders[j]]) {
                p[sizeof(r) + plen + (size_t)j / 8] |= (char)(1 << (j % 8));
            }
        }
    }
    return (dm->nlive > 0) ? DKV_OK : DKV_ERR_PEER_LOST;
}

/* The committer named by the answers so far, -1 if none yet. */
static int committer(const dkv_ctx_t *ctx, const dkv__drain_info_t *info)
{
    int i;

    for (i = 0; i < ctx->nholders; i++) {
        if ((info[i].nfiles > 0) &&
            (info[i].committer < (uint32_t)ctx->nholders)) {
            return (int)info[i].committer;
        }
    }
    return -1;
}

/* 1 if holder @p i is not asked: known lost, or (queries) its final answer
 * is kept - except the committer's, until it reports the commit. */
static int skip_holder(const dkv_ctx_t *ctx, uint8_t kind,
                       const dkv__drain_info_t *info, int i)
{
    if (ctx->client.peers.dead[ctx->holders[i]]) {
        return 1;
    }
    return (kind == DKV__MSG_DRAIN_QUERY) &&
           ((info[i].done && (i != committer(ctx, info))) ||
            ctx->stage.lost[i]);
}

/*
 * Send @p kind to every live holder and collect the answers into @p info
 * [nholders]. DRAIN: every error counts (the drain does not start). QUERY:
 * a holder found lost is marked in stage.lost and is not an error here
 * (the drain may not have needed it); the rest is the first error, a
 * holder's own before a timeout, naming the holder in the detail.
 */
static dkv_status_t ask_holders(dkv_ctx_t *ctx, uint8_t kind,
                                dkv__drain_info_t *info)
{
    int           n    = ctx->nholders;
    int          *rank = calloc((size_t)n, sizeof(*rank));
    void        **buf  = calloc((size_t)n, sizeof(*buf));
    size_t       *len  = calloc((size_t)n, sizeof(*len));
    dkv_status_t *each = calloc((size_t)n, sizeof(*each));
    drain_msgs_t  dm   = {0};
    dkv_status_t  status = DKV_OK, st;
    int           i, timed_out = 0;

    if ((rank == NULL) || (buf == NULL) || (len == NULL) || (each == NULL)) {
        status = DKV_ERR_NO_MEMORY;
    } else if (kind == DKV__MSG_DRAIN) {
        status = build_msgs(ctx, &dm);
    }
    if (status == DKV_OK) {
        for (i = 0; i < n; i++) {
            rank[i] = skip_holder(ctx, kind, info, i) ? -1 : ctx->holders[i];
        }
        timed_out = dkv__client_call_all(&ctx->client, n, rank, kind,
                                         ctx->stage.id, dm.buf, dm.one,
                                         (dm.buf != NULL) ? dm.one : 0, buf,
                                         len, each);
        for (i = 0; i < n; i++) {
            if (rank[i] >= 0) {
                st     = take_info(each[i], buf[i], len[i], &info[i]);
                status = note(ctx, kind, i, st, &info[i], status);
            }
        }
    }
    /* A request given up on may still be read by UCX: its payload stays
     * (leaked, as the barrier's buffers are) rather than freed under it. */
    if (!timed_out) {
        free(dm.buf);
    }
    free(rank);
    free(buf);
    free(len);
    free(each);
    return status;
}

dkv_status_t dkv__stage_drain_start(dkv_ctx_t *ctx, const char *dir)
{
    dkv__stage_t      *st = &ctx->stage;
    dkv__drain_info_t *info;
    dkv_status_t       status;

    /* The previous drain first: it ends (and is committed) before the
     * holders take the next snapshot. */
    (void)dkv__stage_settle(ctx);
    st->detail[0] = '\0';
    status        = fence_with(ctx, check_dir(ctx, dir));
    if ((status == DKV_ERR_PEER_LOST) && every_key_live(ctx)) {
        /* The survivors agreed on the loss (one verdict everywhere); it
         * took no key's last copy, so the checkpoint goes to disk and the
         * next dkv_fence reports the loss instead. */
        st->loss_unreported = 1;
        status              = DKV_OK;
    }
    if (status != DKV_OK) {
        if (st->detail[0] == '\0') {
            dkv__stage_detail(ctx, "drain to %s: %s", dir,
                              dkv_strerror(status));
        }
        return status;
    }
    free(st->dir);
    free(st->info);
    free(st->lost);
    st->info = calloc((size_t)ctx->nholders, sizeof(*st->info));
    st->lost = calloc((size_t)ctx->nholders, 1);
    st->drains++;
    st->id    = drain_id(ctx);
    st->dir   = strdup(dir);
    st->ended = 0;
    memset(&st->last, 0, sizeof(st->last));
    status = ((st->dir != NULL) && (st->info != NULL) && (st->lost != NULL))
                 ? DKV_OK
                 : DKV_ERR_NO_MEMORY;
    if ((status == DKV_OK) && dkv__barrier_leader(&ctx->client)) {
        info   = calloc((size_t)ctx->nholders, sizeof(*info));
        status = (info != NULL) ? ask_holders(ctx, DKV__MSG_DRAIN, info)
                                : DKV_ERR_NO_MEMORY;
        free(info);
    }
    status = fence_with(ctx, status);
    if (status != DKV_OK) {
        st->ended = 1;
        st->final = status;
        if (st->detail[0] == '\0') {
            dkv__stage_detail(ctx, "drain to %s failed on another rank: %s",
                              dir, dkv_strerror(status));
        }
    }
    DKV_LOG_INFO("drain %016llx to %s: %s", (unsigned long long)st->id, dir,
                 dkv_strerror(status));
    return status;
}

/* Where the drain stands from the answers so far: *done_p = 1 when the
 * committer has ended it (its status returned: DKV_OK once the manifest
 * is durable), DKV_OK with 0 while holders still work or the committer
 * writes, DKV_ERR_PEER_LOST when a holder of the drain (the committer
 * included) was lost before the drain ended. Sums the progress into @p p. */
static dkv_status_t tally(dkv_ctx_t *ctx, dkv_drain_progress_t *p,
                          int *done_p)
{
    const dkv__drain_info_t *info = ctx->stage.info;
    uint32_t                 nfiles = 0, finished = 0;
    int                      i, working = 0, c = committer(ctx, info);

    ctx->stage.flushed = 0;
    ctx->stage.phases  = 0;
    ctx->stage.syncing = 0;
    for (i = 0; i < ctx->nholders; i++) {
        ctx->stage.flushed += info[i].flushed;
        ctx->stage.phases += info[i].phase;
        ctx->stage.syncing |= !ctx->stage.lost[i] && !info[i].committed &&
                              (info[i].phase != DKV__DRAIN_PHASE_BYTES) &&
                              (info[i].phase != DKV__DRAIN_PHASE_DONE);
        p->bytes_written += info[i].bytes_written;
        p->bytes_total += info[i].bytes_total;
        p->keys_written += info[i].keys_written;
        p->keys_total += info[i].keys_total;
        nfiles = (info[i].nfiles > nfiles) ? info[i].nfiles : nfiles;
        finished += info[i].done;
        working += !info[i].done && !ctx->stage.lost[i] &&
                   !ctx->client.peers.dead[ctx->holders[i]];
    }
    *done_p = (c >= 0) && info[c].committed;
    if (*done_p) {
        if (info[c].commit_status != DKV_OK) {
            dkv__stage_detail(ctx, "drain to %s: commit by holder rank %d: "
                              "%s: %s", ctx->stage.dir, ctx->holders[c],
                              dkv_strerror(info[c].commit_status),
                              info[c].why);
        }
        return (dkv_status_t)info[c].commit_status;
    }
    if ((working == 0) && ((finished < nfiles) || (c < 0) ||
                           ctx->stage.lost[c] ||
                           ctx->client.peers.dead[ctx->holders[c]])) {
        dkv__stage_detail(ctx, "drain to %s: a holder was lost before the "
                               "drain was committed", ctx->stage.dir);
        return DKV_ERR_PEER_LOST;
    }
    return DKV_OK;
}

dkv_status_t dkv__stage_drain_test(dkv_ctx_t *ctx,
                                   dkv_drain_progress_t *progress_p)
{
    dkv__stage_t         *st = &ctx->stage;
    dkv_drain_progress_t  p = {0};
    dkv_status_t          status;
    int                   done = 0;

    if (st->id == 0) {
        return DKV_ERR_STATE;
    }
    if (!st->ended) {
        status = ask_holders(ctx, DKV__MSG_DRAIN_QUERY, st->info);
        if (status == DKV_ERR_TIMEOUT) {
            status = DKV_OK; /* no answer yet: dkv_drain_wait's stall
                                deadline decides */
        }
        if (status == DKV_OK) {
            status = tally(ctx, &p, &done);
        }
        if ((status != DKV_OK) || done) {
            st->ended = 1;
            st->final = status;
        }
        st->last      = p;
        st->last.done = st->ended;
    }
    if (progress_p != NULL) {
        *progress_p = st->last;
    }
    return st->ended ? st->final : DKV_OK;
}

dkv_status_t dkv__stage_drain_wait(dkv_ctx_t *ctx,
                                   dkv_drain_progress_t *progress_p)
{
    uint64_t             timeout = (uint64_t)ctx->cfg.TIMEOUT_MS * 1000000ull;
    uint64_t             stall   = dkv__now_ns() + timeout;
    uint64_t             seen    = 0;
    unsigned             pause   = DKV__DRAIN_POLL_MIN_US;
    dkv_drain_progress_t p;
    dkv_status_t         status;

    for (;;) {
        status = dkv__stage_drain_test(ctx, &p);
        if ((status != DKV_OK) || p.done) {
            break;
        }
        /* Progress is any file byte written, so one huge record being
         * written does not count as a stall, and any phase passed (fsync,
         * rename, directory fsync, the commit); a holder sitting in an
         * fsync is a slow file system, not a stall. */
        if ((ctx->stage.flushed + p.keys_written + ctx->stage.phases !=
             seen) || ctx->stage.syncing) {
            seen  = ctx->stage.flushed + p.keys_written + ctx->stage.phases;
            stall = dkv__now_ns() + timeout; /* progress: a new deadline */
        } else if (dkv__now_ns() >= stall) {
            dkv__stage_detail(ctx, "drain to %s: no progress for %u ms",
                              ctx->stage.dir, ctx->cfg.TIMEOUT_MS);
            status = DKV_ERR_TIMEOUT;
            break;
        }
        usleep(pause);
        pause = (pause * 2 < DKV__DRAIN_POLL_MAX_US) ? pause * 2
                                                     : DKV__DRAIN_POLL_MAX_US;
    }
    if (progress_p != NULL) {
        *progress_p = p;
    }
    return status;
}

dkv_status_t dkv__stage_settle(dkv_ctx_t *ctx)
{
    dkv_status_t status = DKV_OK;

    if ((ctx->stage.id != 0) && !ctx->stage.ended &&
        (ctx->client.barrier.me >= 0)) {
        status = dkv__stage_drain_wait(ctx, NULL);
        if (status != DKV_OK) {
            DKV_LOG_WARN("drain to %s did not complete: %s", ctx->stage.dir,
                         dkv_strerror(status));
        }
    }
    return status;
}

dkv_status_t dkv__stage_finalize(dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv__stage_settle(ctx);

    free(ctx->stage.dir);
    free(ctx->stage.info);
    free(ctx->stage.lost);
    memset(&ctx->stage, 0, sizeof(ctx->stage));
    return status;
}
