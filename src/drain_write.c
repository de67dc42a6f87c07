/*
 * drain_write: the batching writer (also used for the manifest) and the
 * data files of a drain, dkv__drain_file_write (layout in drain_file.h).
 * Runs on the thread that writes the file, the holder's drain thread.
 *
 * Writing gathers record headers, keys, values and padding into an iovec
 * batch (at most 256 pieces and 64 MiB per writev; a larger value is split),
 * so values go from their memory to the kernel without a copy. After each
 * batch reaches the file, the records it completed are added to the
 * progress counters (relaxed); cancel is tested before every batch. A file
 * is written under a temporary name, fsynced, renamed, and the directory
 * fsynced; on error neither name is left behind.
 *
 * Counters are only added to (the caller zeroes them) and keep what was
 * written when a write fails or is cancelled.
 */
#include "drain_file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "fault.h"

/* writev the batch, resuming after short writes and EINTR. */
static dkv_status_t writev_all(dkv__drain_writer_t *w)
{
    struct iovec *iov = w->iov;
    int niov          = w->niov;
    ssize_t n;

    while (niov > 0) {
        n = writev(w->fd, iov, niov);
        if ((n < 0) && (errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            return dkv__drain_fail(w->e, DKV_ERR_IO, "%s: write failed: %s",
                                   w->path,
                                   (n < 0) ? strerror(errno) : "no progress");
        }
        for (; (niov > 0) && ((size_t)n >= iov->iov_len); iov++, niov--) {
            n -= (ssize_t)iov->iov_len;
        }
        if (niov > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return DKV_OK;
}

static dkv_status_t flush(dkv__drain_writer_t *w)
{
    dkv_status_t status;

    if ((w->cancel != NULL) &&
        (atomic_load_explicit(w->cancel, memory_order_relaxed) != 0)) {
        return dkv__drain_fail(w->e, DKV_ERR_STATE, "%s: drain cancelled",
                               w->path);
    }
    status = writev_all(w);
    if (status != DKV_OK) {
        return status;
    }
    if (w->ctr != NULL) { /* a data file of a drain */
        dkv__fault_hit(DKV__FAULT_DRAIN_HOLDER_MID_WRITE, NULL);
        atomic_fetch_add_explicit(&w->ctr->flushed, w->nbytes,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&w->ctr->keys, w->batch_records,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&w->ctr->bytes, w->batch_payload,
                                  memory_order_relaxed);
    }
    w->niov          = 0;
    w->nbytes        = 0;
    w->nheads        = 0;
    w->batch_records = 0;
    w->batch_payload = 0;
    return DKV_OK;
}

dkv_status_t dkv__drain_writer_add(dkv__drain_writer_t *w, const void *buf,
                                   size_t len)
{
    const char *p = buf;
    size_t take;
    dkv_status_t status;

    w->total_bytes += len;
    while (len > 0) {
        if ((w->niov == DKV__DRAIN_IOV) || (w->nbytes == DKV__DRAIN_CHUNK)) {
            status = flush(w);
            if (status != DKV_OK) {
                return status;
            }
        }
        take = DKV__DRAIN_CHUNK - w->nbytes;
        if (take > len) {
            take = len;
        }
        w->iov[w->niov].iov_base = (void *)p;
        w->iov[w->niov].iov_len  = take;
        w->niov++;
        w->nbytes += take;
        p += take;
        len -= take;
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_writer_open(dkv__drain_writer_t *w, dkv__drain_err_t e,
                                    const char *tmp, int flags)
{
    memset(w, 0, sizeof(*w));
    w->path = tmp;
    w->e    = e;
    w->fd   = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (w->fd < 0) {
        return dkv__drain_fail(e, DKV_ERR_IO, "%s: cannot create: %s", tmp,
                               strerror(errno));
    }
    return DKV_OK;
}

/* fsync @p dir so that a rename in it is durable. Some file systems cannot
 * sync a directory (EINVAL); their renames are durable without it. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc, saved;

    if (fd < 0) {
        return -1;
    }
    rc    = fsync(fd);
    saved = errno;
    close(fd);
    if ((rc != 0) && (saved != EINVAL)) {
        errno = saved;
        return -1;
    }
    return 0;
}

/* Tell the progress counters (if any) which phase the writer is in. */
static void set_phase(dkv__drain_counters_t *ctr, uint32_t phase)
{
    if (ctr != NULL) {
        atomic_store_explicit(&ctr->phase, phase, memory_order_relaxed);
    }
}

/* Rename @p tmp to @p path and make it durable. */
static dkv_status_t commit(dkv__drain_err_t e, dkv__drain_counters_t *ctr,
                           const char *tmp, const char *path, const char *dir)
{
    set_phase(ctr, DKV__DRAIN_PHASE_RENAME);
    if (rename(tmp, path) != 0) {
        return dkv__drain_fail(e, DKV_ERR_IO, "%s: rename to %s failed: %s",
                               tmp, path, strerror(errno));
    }
    set_phase(ctr, DKV__DRAIN_PHASE_DIRSYNC);
    if (sync_dir(dir) != 0) {
        return dkv__drain_fail(e, DKV_ERR_IO,
                               "%s: fsync of directory %s failed: %s", path,
                               dir, strerror(errno));
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_writer_commit(dkv__drain_writer_t *w, const char *path,
                                      const char *dir)
{
    dkv_status_t status;

    status = flush(w);
    if (status != DKV_OK) {
        goto err_close;
    }
    set_phase(w->ctr, DKV__DRAIN_PHASE_FSYNC);
    if (fsync(w->fd) != 0) {
        status = dkv__drain_fail(w->e, DKV_ERR_IO, "%s: fsync failed: %s",
                                 w->path, strerror(errno));
        goto err_close;
    }
    if (close(w->fd) != 0) {
        status = dkv__drain_fail(w->e, DKV_ERR_IO, "%s: close failed: %s",
                                 w->path, strerror(errno));
        goto err_unlink;
    }
    status = commit(w->e, w->ctr, w->path, path, dir);
    if (status != DKV_OK) {
        goto err_unlink;
    }
    set_phase(w->ctr, DKV__DRAIN_PHASE_DONE);
    return DKV_OK;

err_close:
    close(w->fd);
err_unlink:
    unlink(w->path);
    return status;
}

void dkv__drain_writer_abort(dkv__drain_writer_t *w)
{
    close(w->fd);
    unlink(w->path);
}

static dkv_status_t add_record(dkv__drain_writer_t *w,
                               const dkv__drain_item_t *it)
{
    static const char zeros[DKV__DRAIN_ALIGN];
    size_t body = sizeof(dkv__drain_rec_t) + it->key_len + it->value_len;
    dkv__drain_rec_t *h;
    dkv_status_t status;

    if ((it->key_len == 0) || (it->key_len > DKV_KEY_MAX)) {
        return dkv__drain_fail(w->e, DKV_ERR_INVALID,
                               "%s: key length %zu out of range", w->path,
                               it->key_len);
    }
    /* The header and key go out in one batch: heads[] is reused after a
     * flush, so a header must never be split across one. */
    if ((w->nheads == DKV__DRAIN_BATCH) || (w->niov > DKV__DRAIN_IOV - 4) ||
        (DKV__DRAIN_CHUNK - w->nbytes < sizeof(*h) + it->key_len)) {
        status = flush(w);
        if (status != DKV_OK) {
            return status;
        }
    }
    h            = &w->heads[w->nheads++];
    h->magic     = DKV__DRAIN_REC_MAGIC;
    h->key_len   = (uint32_t)it->key_len;
    h->value_len = it->value_len;
    h->data_crc = it->has_crc ? dkv__crc32c(it->value_crc, it->key, it->key_len)
                              : dkv__drain_data_crc(DKV__DRAIN_VERSION, it->key,
                                                    it->key_len, it->value,
                                                    it->value_len);
    h->crc = dkv__crc32c(0, h, offsetof(dkv__drain_rec_t, crc));
    status = dkv__drain_writer_add(w, h, sizeof(*h));
    if (status == DKV_OK) {
        status = dkv__drain_writer_add(w, it->key, it->key_len);
    }
    if (status == DKV_OK) {
        status = dkv__drain_writer_add(w, it->value, it->value_len);
    }
    if (status == DKV_OK) {
        status =
            dkv__drain_writer_add(w, zeros, dkv__drain_padded(body) - body);
    }
    if (status != DKV_OK) {
        return status;
    }
    w->batch_records++;
    w->batch_payload += it->key_len + it->value_len;
    w->total_payload += it->key_len + it->value_len;
    return DKV_OK;
}

/* Queue header, records and footer; the last batch stays queued. */
static dkv_status_t write_body(dkv__drain_writer_t *w, uint64_t id, int index,
                               const dkv__drain_item_t *items, size_t n)
{
    dkv_status_t status;
    size_t i;

    memcpy(w->head.magic, "DKVDRN01", sizeof(w->head.magic));
    w->head.id      = id;
    w->head.index   = (uint32_t)index;
    w->head.version = DKV__DRAIN_VERSION;
    w->head.crc = dkv__crc32c(0, &w->head, offsetof(dkv__drain_head_t, crc));
    status      = dkv__drain_writer_add(w, &w->head, sizeof(w->head));
    for (i = 0; (i < n) && (status == DKV_OK); i++) {
        status = add_record(w, &items[i]);
    }
    if (status != DKV_OK) {
        return status;
    }
    memcpy(w->foot.magic, "DKVEND01", sizeof(w->foot.magic));
    w->foot.records = n;
    w->foot.payload = w->total_payload;
    w->foot.crc = dkv__crc32c(0, &w->foot, offsetof(dkv__drain_foot_t, crc));
    return dkv__drain_writer_add(w, &w->foot, sizeof(w->foot));
}

dkv_status_t dkv__drain_file_write(const char *dir, uint64_t id, int index,
                                   const dkv__drain_item_t *items, size_t n,
                                   dkv__drain_counters_t *ctr,
                                   const atomic_int *cancel,
                                   dkv__drain_file_info_t *info_p, char *err,
                                   size_t errlen)
{
    dkv__drain_err_t e = {err, errlen};
    char name[DKV__DRAIN_NAME_MAX];
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    dkv__drain_writer_t w;
    dkv_status_t status;

    if (index < 0) {
        return dkv__drain_fail(e, DKV_ERR_INVALID, "%s: bad holder index %d",
                               dir, index);
    }
    dkv__drain_file_name(name, id, index);
    status = dkv__drain_join(e, path, dir, name);
    if (status != DKV_OK) {
        return status;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        return dkv__drain_fail(e, DKV_ERR_IO, "%s: path too long", path);
    }
    status = dkv__drain_writer_open(&w, e, tmp, O_TRUNC);
    if (status != DKV_OK) {
        return status;
    }
    w.cancel = cancel;
    w.ctr    = ctr;
    status   = write_body(&w, id, index, items, n);
    if (status != DKV_OK) {
        dkv__drain_writer_abort(&w);
        goto err_unlink;
    }
    status = dkv__drain_writer_commit(&w, path, dir);
    if (status != DKV_OK) {
        goto err_unlink;
    }
    memset(info_p, 0, sizeof(*info_p));
    memcpy(info_p->name, name, sizeof(name));
    info_p->file_bytes    = w.total_bytes;
    info_p->records       = n;
    info_p->payload_bytes = w.total_payload;
    return DKV_OK;

err_unlink:
    /* An older file of the same name must not pass for this one. */
    unlink(path);
    return status;
}
