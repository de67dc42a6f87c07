/*
 * holder_stage: a holder's part in listing and draining, on the holder
 * thread.
 *
 * LIST   walks the store and answers with every published key that starts
 *        with the prefix and its size (one reply, built in a buffer).
 * DRAIN  takes a snapshot at once: every published entry this holder is
 *        the first copy of (so with replicas each key is drained once) is
 *        pinned - later overwrites and deletes publish or unpublish other
 *        entries, never touch these bytes - and a drain thread of its own
 *        writes them to the holder's file (drain_file.c) at low priority,
 *        while the holder thread goes on serving. The reply carries the
 *        totals. When the thread ends it wakes the holder thread, which
 *        joins it and drops the pins (only the holder thread touches the
 *        store).
 * QUERY  answers with the drain's progress and, once done, its file.
 */
#define DKV_LOG_MODULE "holder"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "holder_int.h"
#include "log.h"
#include "place.h"
#include "stage_wire.h"

static int has_prefix(const dkv__store_entry_t *e, const char *prefix,
                      size_t len)
{
    return (len == 0) ||
           ((e->key_len >= len) && (memcmp(e->key, prefix, len) == 0));
}

void dkv__holder_do_list(dkv__holder_t *h, dkv__op_t *op)
{
    const char         *prefix = op->data;
    size_t              plen   = op->data_len;
    size_t              bucket = 0, bytes = 0;
    dkv__store_entry_t *e      = NULL;
    char               *buf;

    if (plen > DKV_KEY_MAX) {
        dkv__holder_send_reply(h, op, DKV__MSG_LIST_REPLY, DKV_ERR_PROTOCOL,
                               NULL, 0);
        return;
    }
    while ((e = dkv__store_next(&h->store, &bucket, e)) != NULL) {
        bytes += has_prefix(e, prefix, plen) ? dkv__list_entry_size(e->key_len)
                                             : 0;
    }
    buf = malloc((bytes > 0) ? bytes : 1);
    if (buf == NULL) {
        dkv__holder_send_reply(h, op, DKV__MSG_LIST_REPLY, DKV_ERR_NO_MEMORY,
                               NULL, 0);
        return;
    }
    bytes  = 0;
    bucket = 0;
    while ((e = dkv__store_next(&h->store, &bucket, e)) != NULL) {
        if (has_prefix(e, prefix, plen)) {
            bytes += dkv__list_entry_pack(buf + bytes, e->key, e->key_len,
                                          e->value_len);
        }
    }
    op->reply_buf = buf;
    dkv__fault_hit(DKV__FAULT_LIST_HOLDER_BEFORE_REPLY, NULL);
    dkv__holder_send_reply(h, op, DKV__MSG_LIST_REPLY, DKV_OK, buf, bytes);
}

/*
 * 1 if this holder drains the key: it keeps the key's first live copy -
 * the first of its original holders still alive when the drain started,
 * or, if all of those were lost, the first stand-in later writes went to
 * (the order a get asks in). Every holder decides from the same lost set,
 * so each key is drained once.
 */
static int first_copy(const dkv__holder_t *h, const dkv__store_entry_t *e)
{
    uint64_t hash = dkv__place_hash(e->key, e->key_len);
    int      idx[DKV__PLACE_MAX_REPLICAS];

    if (h->cfg.replicas <= 1) {
        return 1; /* a single copy is always its holder's */
    }
    if (dkv__place_replicas(hash, h->cfg.nholders, h->cfg.holder_node, NULL,
                            h->drain.dead, h->cfg.replicas, idx) < 1) {
        return 0;
    }
    return idx[0] == h->cfg.index;
}

static void *drain_main(void *arg)
{
    dkv__holder_t       *h = arg;
    dkv__holder_drain_t *d = &h->drain;
    uint64_t             one = 1;
    ssize_t              rc;

    /* The application's compute comes first on a shared node. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    d->status = dkv__drain_file_write(d->dir, d->id, d->index, d->items, d->n,
                                      &d->ctr, &d->cancel, &d->file, d->err,
                                      sizeof(d->err));
    if (d->status != DKV_OK) {
        DKV_LOG_ERROR("drain %016llx: %s", (unsigned long long)d->id, d->err);
    }
    atomic_store_explicit(&d->finished, 1, memory_order_release);
    rc = write(d->wake_fd, &one, sizeof(one));
    (void)rc;
    return NULL;
}

static void release_snapshot(dkv__holder_t *h)
{
    dkv__holder_drain_t *d = &h->drain;
    size_t               i;

    for (i = 0; i < d->n; i++) {
        dkv__store_unpin(&h->store, d->entries[i]);
    }
    free(d->entries);
    free(d->items);
    free(d->dir);
    free(d->dead);
    d->entries = NULL;
    d->items   = NULL;
    d->dir     = NULL;
    d->dead    = NULL;
    d->n       = 0;
}

/* Pin what this holder drains; DKV_OK or DKV_ERR_NO_MEMORY. */
static dkv_status_t take_snapshot(dkv__holder_t *h)
{
    dkv__holder_drain_t *d      = &h->drain;
    dkv__store_entry_t  *e      = NULL;
    size_t               bucket = 0, cap = h->store.count;

    d->entries = malloc((cap > 0 ? cap : 1) * sizeof(*d->entries));
    d->items   = malloc((cap > 0 ? cap : 1) * sizeof(*d->items));
    if ((d->entries == NULL) || (d->items == NULL)) {
        return DKV_ERR_NO_MEMORY;
    }
    d->bytes_total = 0;
    d->keys_total  = 0;
    while ((e = dkv__store_next(&h->store, &bucket, e)) != NULL) {
        if (!first_copy(h, e)) {
            continue;
        }
        dkv__store_pin(e);
        d->entries[d->n] = e;
        d->items[d->n]   = (dkv__drain_item_t){
              .key       = e->key,
              .key_len   = e->key_len,
              .value     = dkv__store_value(e),
              .value_len = e->value_len,
              .value_crc = e->crc,
              .has_crc   = e->has_crc,
        };
        d->bytes_total += e->key_len + e->value_len;
        d->n++;
    }
    d->keys_total = d->n;
    return DKV_OK;
}

/* The lost-holder bitmap as one byte per holder (NULL: none lost). */
static dkv_status_t take_dead(dkv__holder_t *h, const dkv__drain_req_t *req,
                              const uint8_t *bits)
{
    int i, any = 0;

    if (bits == NULL) {
        return DKV_OK;
    }
    if (req->dead_len != ((uint32_t)h->cfg.nholders + 7) / 8) {
        return DKV_ERR_PROTOCOL;
    }
    h->drain.dead = calloc((size_t)h->cfg.nholders, 1);
    if (h->drain.dead == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    for (i = 0; i < h->cfg.nholders; i++) {
        h->drain.dead[i] = (bits[i / 8] >> (i % 8)) & 1;
        any |= h->drain.dead[i];
    }
    return (h->drain.dead[h->cfg.index] || !any) ? DKV_ERR_PROTOCOL : DKV_OK;
}

/* The drain's committer: the lowest holder alive when it started. */
static int lowest_live(const dkv__holder_t *h)
{
    int i;

    for (i = 0; (h->drain.dead != NULL) && (i < h->cfg.nholders); i++) {
        if (!h->drain.dead[i]) {
            return i;
        }
    }
    return 0;
}

static dkv_status_t drain_begin(dkv__holder_t *h, uint64_t id,
                                const dkv__drain_req_t *req, const char *path,
                                const uint8_t *dead)
{
    dkv__holder_drain_t *d = &h->drain;
    dkv_status_t         status;

    if (d->running) {
        return (d->id == id) ? DKV_OK : DKV_ERR_STATE;
    }
    memset(&d->file, 0, sizeof(d->file));
    d->err[0]  = '\0';
    d->id      = id;
    d->index   = (int)req->index;
    d->nfiles  = (int)req->nfiles;
    d->status  = DKV_OK;
    d->wake_fd = h->ctl_fd;
    atomic_store(&d->ctr.bytes, 0);
    atomic_store(&d->ctr.keys, 0);
    atomic_store(&d->ctr.flushed, 0);
    atomic_store(&d->ctr.phase, DKV__DRAIN_PHASE_BYTES);
    atomic_store(&d->finished, 0);
    atomic_store(&d->cancel, 0);
    d->dir = strndup(path, req->path_len);
    status = (d->dir != NULL) ? take_dead(h, req, dead) : DKV_ERR_NO_MEMORY;
    if (status == DKV_OK) {
        d->committer = lowest_live(h);
        dkv__holder_commit_begin(h, id, d->dir, req->nfiles);
        status = take_snapshot(h);
    }
    if ((status == DKV_OK) &&
        (pthread_create(&d->thread, NULL, drain_main, h) != 0)) {
        status = DKV_ERR_NO_MEMORY;
    }
    if (status != DKV_OK) {
        d->status = status;
        release_snapshot(h);
        atomic_store(&d->finished, 1);
        return status;
    }
    d->running = 1;
    DKV_LOG_INFO("drain %016llx: %zu keys, %llu bytes to %s",
                 (unsigned long long)id, d->n,
                 (unsigned long long)d->bytes_total, d->dir);
    return DKV_OK;
}

void dkv__holder_drain_info(dkv__holder_t *h, dkv_status_t status,
                            dkv__drain_info_t *info)
{
    dkv__holder_drain_t *d = &h->drain;
    int finished = atomic_load_explicit(&d->finished, memory_order_acquire);

    memset(info, 0, sizeof(*info));
    info->id            = d->id;
    info->status        = (status != DKV_OK) ? status
                                             : (finished ? d->status : DKV_OK);
    info->done          = (uint32_t)finished;
    info->index         = (uint32_t)d->index;
    info->nfiles        = (uint32_t)d->nfiles;
    info->bytes_total   = d->bytes_total;
    info->keys_total    = d->keys_total;
    info->bytes_written = atomic_load_explicit(&d->ctr.bytes,
                                               memory_order_relaxed);
    info->keys_written  = atomic_load_explicit(&d->ctr.keys,
                                               memory_order_relaxed);
    info->flushed       = atomic_load_explicit(&d->ctr.flushed,
                                               memory_order_relaxed);
    info->phase         = atomic_load_explicit(&d->ctr.phase,
                                               memory_order_relaxed);
    if (finished && (d->status != DKV_OK)) {
        snprintf(info->why, sizeof(info->why), "%s", d->err);
    }
    if (finished && (d->status == DKV_OK)) {
        info->file          = d->file;
        info->bytes_written = d->bytes_total;
        info->keys_written  = info->keys_total;
    }
    dkv__holder_commit_fill(h, d->id, info);
}

static void reply_info(dkv__holder_t *h, dkv__op_t *op, dkv_status_t status)
{
    dkv__drain_info_t *info = calloc(1, sizeof(*info));

    if (info == NULL) {
        dkv__holder_send_reply(h, op, DKV__MSG_DRAIN_REPLY, DKV_ERR_NO_MEMORY,
                               NULL, 0);
        return;
    }
    dkv__holder_drain_info(h, status, info);
    op->reply_buf = info;
    dkv__holder_send_reply(h, op, DKV__MSG_DRAIN_REPLY, DKV_OK, info,
                           sizeof(*info));
}

void dkv__holder_do_drain(dkv__holder_t *h, dkv__op_t *op)
{
    dkv__drain_req_t req;
    const char      *path;
    const uint8_t   *dead;
    dkv_status_t     status;

    if ((op->hdr.aux == 0) ||
        (dkv__drain_req_parse(op->data, op->data_len, &req, &path, &dead) !=
         DKV_OK)) {
        dkv__holder_send_reply(h, op, DKV__MSG_DRAIN_REPLY, DKV_ERR_PROTOCOL,
                               NULL, 0);
        return;
    }
    dkv__holder_drain_reap(h);
    status = drain_begin(h, op->hdr.aux, &req, path, dead);
    dkv__fault_hit(DKV__FAULT_DRAIN_HOLDER_BEFORE_REPLY, NULL);
    reply_info(h, op, status);
}

void dkv__holder_do_drain_query(dkv__holder_t *h, dkv__op_t *op)
{
    if ((op->hdr.aux == 0) || (op->hdr.aux != h->drain.id)) {
        dkv__holder_send_reply(h, op, DKV__MSG_DRAIN_REPLY,
                               DKV_ERR_NOT_FOUND, NULL, 0);
        return;
    }
    dkv__holder_drain_reap(h);
    reply_info(h, op, DKV_OK);
}

void dkv__holder_drain_reap(dkv__holder_t *h)
{
    dkv__holder_drain_t *d = &h->drain;

    if (!d->running ||
        !atomic_load_explicit(&d->finished, memory_order_acquire)) {
        return;
    }
    pthread_join(d->thread, NULL);
    d->running = 0;
    release_snapshot(h);
    dkv__holder_commit_report(h);
}

void dkv__holder_drain_stop(dkv__holder_t *h)
{
    dkv__holder_drain_t *d = &h->drain;

    if (d->running) {
        atomic_store(&d->cancel, 1);
        pthread_join(d->thread, NULL);
        d->running = 0;
    }
    release_snapshot(h);
}
