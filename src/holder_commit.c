/*
 * holder_commit: the holders commit a drain themselves.
 *
 * Each holder of a drain knows, from the DRAIN request, its file index,
 * the number of files and who commits: the lowest holder alive when the
 * drain started. When its drain thread has made its file durable (or
 * failed), the holder thread sends the file's info (DRAIN_DONE) from its
 * server worker to the committer's server worker - never through the
 * client worker, which belongs to the application thread. The committer
 * keeps the reports by file index (a report may arrive before its own
 * DRAIN request); when all nfiles are in and OK it starts a commit thread
 * that writes the manifest (temporary name, fsync, rename, directory
 * fsync) exactly once. A failed report ends the drain with that status and
 * no manifest. Clients learn the outcome from the committer's answers to
 * DRAIN_QUERY (dkv__holder_commit_fill).
 *
 * Owner: the holder thread. The commit thread reads the reports (frozen
 * while it runs), writes status/why, then sets `written` and wakes the
 * holder thread, which joins it.
 */
#define DKV_LOG_MODULE "holder"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "holder_int.h"
#include "log.h"

dkv_status_t dkv__holder_commit_init(dkv__holder_t *h, const void *const *addr,
                                     const size_t *addr_len)
{
    dkv__holder_commit_t *c = &h->commit;
    size_t                n = (size_t)h->cfg.nholders;
    size_t                i;

    c->addr      = calloc(n, sizeof(*c->addr));
    c->addr_len  = calloc(n, sizeof(*c->addr_len));
    c->eps       = calloc(n, sizeof(*c->eps));
    c->ep_failed = calloc(n, 1);
    c->files     = calloc(n, sizeof(*c->files));
    c->have      = calloc(n, 1);
    if ((c->addr == NULL) || (c->addr_len == NULL) || (c->eps == NULL) ||
        (c->ep_failed == NULL) || (c->files == NULL) || (c->have == NULL)) {
        return DKV_ERR_NO_MEMORY;
    }
    for (i = 0; (addr != NULL) && (i < n); i++) {
        if ((addr[i] == NULL) || (addr_len[i] == 0)) {
            continue;
        }
        c->addr[i] = malloc(addr_len[i]);
        if (c->addr[i] == NULL) {
            return DKV_ERR_NO_MEMORY;
        }
        memcpy(c->addr[i], addr[i], addr_len[i]);
        c->addr_len[i] = addr_len[i];
    }
    return DKV_OK;
}

static void *commit_main(void *arg)
{
    dkv__holder_t        *h = arg;
    dkv__holder_commit_t *c = &h->commit;
    dkv__drain_manifest_t m = {.id = c->id, .nfiles = c->nfiles,
                               .files = c->files};
    uint64_t              one = 1;
    ssize_t               rc;

    c->status = dkv__drain_manifest_commit(c->dir, &m, h->cfg.drain_keep,
                                           c->why, sizeof(c->why));
    atomic_store_explicit(&c->written, 1, memory_order_release);
    rc = write(h->ctl_fd, &one, sizeof(one));
    (void)rc;
    return NULL;
}

static void commit_end(dkv__holder_t *h, dkv_status_t status, const char *why)
{
    dkv__holder_commit_t *c = &h->commit;

    c->state  = DKV__COMMIT_DONE;
    c->status = status;
    snprintf(c->why, sizeof(c->why), "%s", why);
}

/* Every file is in: write the manifest on a thread of its own. */
static void commit_start(dkv__holder_t *h)
{
    dkv__holder_commit_t *c = &h->commit;

    if (c->dir == NULL) {
        return; /* our own DRAIN has not arrived yet: it starts us */
    }
    atomic_store(&c->written, 0);
    c->state = DKV__COMMIT_WRITING;
    if (pthread_create(&c->thread, NULL, commit_main, h) != 0) {
        commit_end(h, DKV_ERR_NO_MEMORY, "cannot start the commit thread");
    }
}

/* Forget the reports unless they are drain @p id's. */
static void reset_for(dkv__holder_t *h, uint64_t id)
{
    dkv__holder_commit_t *c = &h->commit;

    if (c->id == id) {
        return;
    }
    (void)dkv__holder_commit_reap(h);
    if (c->state == DKV__COMMIT_WRITING) {
        pthread_join(c->thread, NULL); /* a stale commit: rare, bounded */
    }
    free(c->dir);
    c->dir   = NULL;
    c->id    = id;
    c->nfiles = 0;
    c->nhave = 0;
    c->state = DKV__COMMIT_IDLE;
    c->why[0] = '\0';
    memset(c->have, 0, (size_t)h->cfg.nholders);
}

/* Record one holder's final info (its own or a DRAIN_DONE). */
static void take_report(dkv__holder_t *h, const dkv__drain_info_t *info)
{
    dkv__holder_commit_t *c = &h->commit;

    if (c->have == NULL) {
        return;
    }
    reset_for(h, info->id);
    if ((c->state != DKV__COMMIT_IDLE) ||
        (info->nfiles > (uint32_t)h->cfg.nholders) ||
        ((c->nfiles != 0) && (info->nfiles != c->nfiles)) ||
        c->have[info->index]) {
        return;
    }
    c->nfiles  = info->nfiles;
    c->last_ns = dkv__now_ns();
    if (info->status != DKV_OK) {
        commit_end(h, (dkv_status_t)info->status, info->why);
        return;
    }
    c->have[info->index]  = 1;
    c->files[info->index] = info->file;
    if (++c->nhave == c->nfiles) {
        commit_start(h);
    }
}

void dkv__holder_commit_begin(dkv__holder_t *h, uint64_t id, const char *dir,
                              uint32_t nfiles)
{
    dkv__holder_commit_t *c = &h->commit;

    if ((h->drain.committer != h->cfg.index) || (c->have == NULL)) {
        return;
    }
    reset_for(h, id);
    c->nfiles = nfiles;
    free(c->dir);
    c->dir = strdup(dir);
    if (c->dir == NULL) {
        commit_end(h, DKV_ERR_NO_MEMORY, "no memory for the commit");
    } else if ((c->state == DKV__COMMIT_IDLE) && (c->nhave == nfiles)) {
        commit_start(h); /* every report came before the request */
    }
}

static void peer_error_cb(void *arg, ucp_ep_h ep, ucs_status_t status)
{
    (void)ep;
    (void)status;
    *(uint8_t *)arg = 1;
}

static void report_sent_cb(void *request, ucs_status_t status, void *arg)
{
    dkv__holder_commit_t *c = arg;

    (void)status;
    ucp_request_free(request);
    c->out_req = NULL;
}

/* Send c->out to holder @p to; a failure is left to the clients, who see
 * the committer lost. */
static void send_report(dkv__holder_t *h, int to)
{
    dkv__holder_commit_t *c = &h->commit;
    dkv__wire_hdr_t       fields;
    ucp_request_param_t   param;
    void                 *sreq;

    if ((c->eps[to] == NULL) && (c->addr[to] != NULL) &&
        (dkv__ucx_ep_connect(&h->worker, c->addr[to], peer_error_cb,
                             &c->ep_failed[to], &c->eps[to]) != DKV_OK)) {
        c->eps[to] = NULL;
    }
    if ((c->eps[to] == NULL) || c->ep_failed[to] || (c->out_req != NULL)) {
        DKV_LOG_WARN("drain %016llx: cannot report to committer %d",
                     (unsigned long long)c->out.id, to);
        return;
    }
    memset(&fields, 0, sizeof(fields));
    fields.kind      = DKV__MSG_DRAIN_DONE;
    fields.value_len = sizeof(c->out);
    fields.secret    = h->cfg.secret;
    fields.aux       = c->out.id;
    fields.sender    = (uint32_t)h->cfg.rank;
    dkv__wire_pack(&c->out_hdr, &fields, NULL, 0);
    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK |
                         UCP_OP_ATTR_FIELD_USER_DATA |
                         UCP_OP_ATTR_FIELD_FLAGS;
    param.cb.send      = report_sent_cb;
    param.user_data    = c;
    param.flags        = UCP_AM_SEND_FLAG_EAGER;
    sreq = ucp_am_send_nbx(c->eps[to], DKV__MSG_DRAIN_DONE, &c->out_hdr,
                           sizeof(c->out_hdr), &c->out, sizeof(c->out),
                           &param);
    if (UCS_PTR_IS_PTR(sreq)) {
        c->out_req = sreq;
    } else if (UCS_PTR_IS_ERR(sreq)) {
        DKV_LOG_WARN("drain %016llx: report to committer %d failed: %s",
                     (unsigned long long)c->out.id, to,
                     ucs_status_string(UCS_PTR_STATUS(sreq)));
    }
}

void dkv__holder_commit_report(dkv__holder_t *h)
{
    dkv__holder_commit_t *c = &h->commit;
    dkv__drain_info_t     info;

    if (c->have == NULL) {
        return; /* dkv__holder_commit_init failed: init failed too */
    }
    dkv__holder_drain_info(h, DKV_OK, &info);
    if (h->drain.committer == h->cfg.index) {
        take_report(h, &info);
        return;
    }
    if (c->out_req != NULL) {
        return; /* the previous report is still in flight: UCX holds c->out */
    }
    c->out = info;
    send_report(h, h->drain.committer);
}

void dkv__holder_do_drain_done(dkv__holder_t *h, dkv__op_t *op)
{
    dkv__drain_info_t info;

    if ((dkv__drain_info_check(op->data, op->data_len, &info) != DKV_OK) ||
        (info.id != op->hdr.aux) || (info.id == 0) || !info.done) {
        h->stats.rejected++;
    } else {
        take_report(h, &info);
    }
    dkv__holder_finish_op(h, op);
}

int dkv__holder_commit_reap(dkv__holder_t *h)
{
    dkv__holder_commit_t *c = &h->commit;

    if ((c->state != DKV__COMMIT_WRITING) ||
        !atomic_load_explicit(&c->written, memory_order_acquire)) {
        return 0;
    }
    pthread_join(c->thread, NULL);
    c->state = DKV__COMMIT_DONE;
    if (c->status == DKV_OK) {
        DKV_LOG_INFO("drain %016llx committed, %u files, %.1f ms after the "
                     "last file", (unsigned long long)c->id, c->nfiles,
                     (double)(dkv__now_ns() - c->last_ns) / 1e6);
    } else {
        DKV_LOG_ERROR("drain %016llx: commit failed: %s",
                      (unsigned long long)c->id, c->why);
    }
    return 1;
}

void dkv__holder_commit_fill(const dkv__holder_t *h, uint64_t id,
                             dkv__drain_info_t *info)
{
    const dkv__holder_commit_t *c = &h->commit;

    info->committer = (uint32_t)h->drain.committer;
    if ((c->id == id) && (c->state == DKV__COMMIT_WRITING)) {
        info->phase = DKV__DRAIN_PHASE_COMMIT; /* may sit in fsync */
    }
    if ((c->id != id) || (c->state != DKV__COMMIT_DONE)) {
        return;
    }
    info->committed     = 1;
    info->commit_status = c->status;
    if ((c->status != DKV_OK) && (info->why[0] == '\0')) {
        snprintf(info->why, sizeof(info->why), "%s", c->why);
    }
}

void dkv__holder_commit_stop(dkv__holder_t *h)
{
    dkv__holder_commit_t *c = &h->commit;
    int                   i;

    if (c->state == DKV__COMMIT_WRITING) {
        pthread_join(c->thread, NULL);
        c->state = DKV__COMMIT_DONE;
    }
    for (i = 0; (c->eps != NULL) && (i < h->cfg.nholders); i++) {
        if (c->eps[i] != NULL) {
            dkv__ucx_ep_close_force(&h->worker, c->eps[i]);
            c->eps[i] = NULL;
        }
    }
    for (i = 0; (c->addr != NULL) && (i < h->cfg.nholders); i++) {
        free(c->addr[i]);
    }
    free(c->addr);
    free(c->addr_len);
    free(c->eps);
    free(c->ep_failed);
    free(c->files);
    free(c->have);
    free(c->dir);
    memset(c, 0, sizeof(*c));
}
