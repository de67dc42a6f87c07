/*
 * drain_file: writes, checks and maps the files of a drain (layout in
 * drain_file.h). Pure: POSIX file I/O only, no UCX, no PMIx, no logging;
 * every error comes back as a status and one line in the caller's buffer
 * naming the file (full path) and what is wrong with it. Any thread; the
 * only shared state is the counter that makes manifest temporary names
 * unique.
 *
 * Writing gathers record headers, keys, values and padding into an iovec
 * batch (at most 256 pieces and 64 MiB per writev; a larger value is split),
 * so values go from their memory to the kernel without a copy. After each
 * batch reaches the file, the records it completed are added to the
 * progress counters (relaxed); cancel is tested before every batch. A file
 * is written under a temporary name, fsynced, renamed, and the directory
 * fsynced; on error neither name is left behind.
 *
 * Reading trusts nothing: the size is compared with the manifest before
 * anything is read, each length is checked against the space left before
 * the footer before it is used, and padding must be zero, so a changed byte
 * anywhere or a truncation is always found (CRC32C catches every burst of
 * up to 32 bits). The map is MAP_PRIVATE: a file truncated by someone else
 * while mapped still raises SIGBUS, as for any mapping.
 *
 * Manifest (ASCII, every line ends in '\n', fields separated by one space):
 *   dramkv-drain 1
 *   id <drain id: 16 lowercase hex digits>
 *   files <n>
 *   file <name> <file_bytes> <records> <payload_bytes>       (n lines)
 *   crc <CRC32C of every byte before this line: 8 lowercase hex digits>
 * Numbers are decimal, without sign or leading zero, and fit in 64 bits.
 * Each name is dkv__drain_file_name(id, i) for an index i < n, every index
 * once, in any order; so a name never holds '/' and always matches
 * "dkv-*-h*.dat". file_bytes must be a multiple of 8 that records and
 * payload_bytes can fill (header, footer, record headers, at most 7
 * padding bytes a record). Nothing follows the crc line.
 * Any deviation is DKV_ERR_CORRUPT.
 *
 * Beyond drain_file.h: bad input is DKV_ERR_INVALID (a negative holder
 * index or a key length outside 1..DKV_KEY_MAX for _file_write; a manifest
 * that breaks the rules above for _manifest_write, which then writes
 * nothing), and _manifest_write may return DKV_ERR_NO_MEMORY. Counters are
 * only added to (the caller zeroes them) and keep what was written when a
 * write fails or is cancelled. A map is written only on success.
 */
#include "drain_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

#define DKV__DRAIN_VERSION 1
#define DKV__DRAIN_REC_MAGIC 0x52564B44u /* "DKVR" read little-endian */
#define DKV__DRAIN_ALIGN 8
#define DKV__DRAIN_CHUNK ((size_t)64 << 20)    /* most bytes per writev */
#define DKV__DRAIN_IOV 256                     /* most pieces per writev */
#define DKV__DRAIN_BATCH (DKV__DRAIN_IOV / 4)  /* records per writev */
#define DKV__DRAIN_TEXT_MAX ((size_t)64 << 20) /* largest manifest */
#define DKV__DRAIN_PATTERN "dkv-*-h*.dat"
#define DKV__DRAIN_CRC_LINE 13 /* "crc " + 8 hex digits + '\n' */
#define DKV__DRAIN_LINE_MIN 40 /* shortest possible "file" line */

typedef struct {
    char magic[8]; /* "DKVDRN01" */
    uint64_t id;
    uint32_t index;
    uint32_t version;
    uint32_t reserved;
    uint32_t crc;
} file_head_t;

typedef struct {
    char magic[8]; /* "DKVEND01" */
    uint64_t records;
    uint64_t payload;
    uint32_t reserved;
    uint32_t crc;
} file_foot_t;

typedef struct {
    uint32_t magic;
    uint32_t key_len;
    uint64_t value_len;
    uint32_t data_crc;
    uint32_t crc;
} rec_head_t;

_Static_assert((sizeof(file_head_t) == 32) &&
                   (offsetof(file_head_t, crc) == 28),
               "file header is 32 bytes, CRC over the first 28");
_Static_assert((sizeof(file_foot_t) == 32) &&
                   (offsetof(file_foot_t, crc) == 28),
               "file footer is 32 bytes, CRC over the first 28");
_Static_assert((sizeof(rec_head_t) == 24) && (offsetof(rec_head_t, crc) == 20),
               "record header is 24 bytes, CRC over the first 20");
_Static_assert(SIZE_MAX >= UINT64_MAX, "dramkv targets 64-bit hosts");

/* The caller's message buffer (may be NULL). */
typedef struct {
    char *buf;
    size_t len;
} errbuf_t;

static dkv_status_t fail(errbuf_t e, dkv_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static dkv_status_t fail(errbuf_t e, dkv_status_t status, const char *fmt, ...)
{
    va_list ap;

    if ((e.buf != NULL) && (e.len > 0)) {
        va_start(ap, fmt);
        vsnprintf(e.buf, e.len, fmt, ap);
        va_end(ap);
    }
    return status;
}

static size_t padded(size_t len)
{
    return (len + DKV__DRAIN_ALIGN - 1) & ~(size_t)(DKV__DRAIN_ALIGN - 1);
}

void dkv__drain_file_name(char *out, uint64_t id, int index)
{
    snprintf(out, DKV__DRAIN_NAME_MAX, "dkv-%016llx-h%05d.dat",
             (unsigned long long)id, index);
}

/* The index of @p name if it is exactly dkv__drain_file_name(id, index) for
 * an index below @p limit, else -1. @p name need not be NUL-terminated
 * within DKV__DRAIN_NAME_MAX bytes (then it is not a name). */
static long name_index(const char *name, uint64_t id, size_t limit)
{
    const size_t digits = 22; /* after "dkv-" + 16 hex digits + "-h" */
    size_t len          = strnlen(name, DKV__DRAIN_NAME_MAX);
    char want[DKV__DRAIN_NAME_MAX];
    long index = 0;
    size_t i;

    if ((len == DKV__DRAIN_NAME_MAX) || (len < digits + 5 + 4)) {
        return -1;
    }
    for (i = digits; i < len - 4; i++) {
        if ((name[i] < '0') || (name[i] > '9') ||
            (index > (INT_MAX - 9) / 10)) {
            return -1;
        }
        index = index * 10 + (name[i] - '0');
    }
    if ((size_t)index >= limit) {
        return -1;
    }
    dkv__drain_file_name(want, id, (int)index);
    return (strcmp(want, name) == 0) ? index : -1;
}

/* Like name_index(), and the index must not be in @p seen yet (marked). */
static int name_claim(const char *name, uint64_t id, size_t n,
                      unsigned char *seen)
{
    long index = name_index(name, id, n);

    if ((index < 0) || seen[index]) {
        return -1;
    }
    seen[index] = 1;
    return 0;
}

/* 1 if @p f->file_bytes is what records and payload_bytes take up. */
static int sizes_fit(const dkv__drain_file_info_t *f)
{
    uint64_t min, pad;

    if ((f->payload_bytes < f->records) ||
        __builtin_mul_overflow(f->records, sizeof(rec_head_t), &min) ||
        __builtin_add_overflow(min, f->payload_bytes, &min) ||
        __builtin_add_overflow(min, 2 * sizeof(file_head_t), &min)) {
        return 0;
    }
    if (__builtin_mul_overflow(f->records, DKV__DRAIN_ALIGN - 1, &pad)) {
        pad = UINT64_MAX;
    }
    return (f->file_bytes >= min) && (f->file_bytes - min <= pad) &&
           ((f->file_bytes % DKV__DRAIN_ALIGN) == 0);
}

static dkv_status_t join(errbuf_t e, char *out, const char *dir,
                         const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

    if ((n < 0) || (n >= PATH_MAX)) {
        return fail(e, DKV_ERR_IO, "%s/%s: path too long", dir, name);
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

/* Rename @p tmp to @p path and make it durable. */
static dkv_status_t commit(errbuf_t e, const char *tmp, const char *path,
                           const char *dir)
{
    if (rename(tmp, path) != 0) {
        return fail(e, DKV_ERR_IO, "%s: rename to %s failed: %s", tmp, path,
                    strerror(errno));
    }
    if (sync_dir(dir) != 0) {
        return fail(e, DKV_ERR_IO, "%s: fsync of directory %s failed: %s", path,
                    dir, strerror(errno));
    }
    return DKV_OK;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* One file being written: a batch of pieces not yet handed to writev. */
typedef struct {
    int fd;
    const char *path; /* for messages */
    const atomic_int *cancel;
    dkv__drain_counters_t *ctr;
    errbuf_t e;
    struct iovec iov[DKV__DRAIN_IOV];
    int niov;
    size_t nbytes; /* in iov[] */
    rec_head_t heads[DKV__DRAIN_BATCH];
    int nheads;
    uint64_t batch_records; /* completed in iov[] */
    uint64_t batch_payload;
    uint64_t total_bytes; /* queued since the start */
    uint64_t total_payload;
    file_head_t head;
    file_foot_t foot;
} writer_t;

/* writev the batch, resuming after short writes and EINTR. */
static dkv_status_t writev_all(writer_t *w)
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
            return fail(w->e, DKV_ERR_IO, "%s: write failed: %s", w->path,
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

static dkv_status_t flush(writer_t *w)
{
    dkv_status_t status;

    if ((w->cancel != NULL) &&
        (atomic_load_explicit(w->cancel, memory_order_relaxed) != 0)) {
        return fail(w->e, DKV_ERR_STATE, "%s: drain cancelled", w->path);
    }
    status = writev_all(w);
    if (status != DKV_OK) {
        return status;
    }
    if (w->ctr != NULL) {
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

/* Queue @p len bytes at @p buf, flushing whenever the batch is full. */
static dkv_status_t add(writer_t *w, const void *buf, size_t len)
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

static dkv_status_t add_record(writer_t *w, const dkv__drain_item_t *it)
{
    static const char zeros[DKV__DRAIN_ALIGN];
    size_t body = sizeof(rec_head_t) + it->key_len + it->value_len;
    rec_head_t *h;
    dkv_status_t status;

    if ((it->key_len == 0) || (it->key_len > DKV_KEY_MAX)) {
        return fail(w->e, DKV_ERR_INVALID, "%s: key length %zu out of range",
                    w->path, it->key_len);
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
    h->data_crc  = dkv__crc32c(dkv__crc32c(0, it->key, it->key_len), it->value,
                               it->value_len);
    h->crc       = dkv__crc32c(0, h, offsetof(rec_head_t, crc));
    status       = add(w, h, sizeof(*h));
    if (status == DKV_OK) {
        status = add(w, it->key, it->key_len);
    }
    if (status == DKV_OK) {
        status = add(w, it->value, it->value_len);
    }
    if (status == DKV_OK) {
        status = add(w, zeros, padded(body) - body);
    }
    if (status != DKV_OK) {
        return status;
    }
    w->batch_records++;
    w->batch_payload += it->key_len + it->value_len;
    w->total_payload += it->key_len + it->value_len;
    return DKV_OK;
}

static dkv_status_t write_body(writer_t *w, uint64_t id, int index,
                               const dkv__drain_item_t *items, size_t n)
{
    dkv_status_t status;
    size_t i;

    memcpy(w->head.magic, "DKVDRN01", sizeof(w->head.magic));
    w->head.id      = id;
    w->head.index   = (uint32_t)index;
    w->head.version = DKV__DRAIN_VERSION;
    w->head.crc     = dkv__crc32c(0, &w->head, offsetof(file_head_t, crc));
    status          = add(w, &w->head, sizeof(w->head));
    for (i = 0; (i < n) && (status == DKV_OK); i++) {
        status = add_record(w, &items[i]);
    }
    if (status != DKV_OK) {
        return status;
    }
    memcpy(w->foot.magic, "DKVEND01", sizeof(w->foot.magic));
    w->foot.records = n;
    w->foot.payload = w->total_payload;
    w->foot.crc     = dkv__crc32c(0, &w->foot, offsetof(file_foot_t, crc));
    status          = add(w, &w->foot, sizeof(w->foot));
    if (status != DKV_OK) {
        return status;
    }
    return flush(w);
}

/* Create @p tmp for a writer; the caller closes w->fd. */
static dkv_status_t writer_open(writer_t *w, errbuf_t e, const char *tmp,
                                int flags)
{
    memset(w, 0, sizeof(*w));
    w->path = tmp;
    w->e    = e;
    w->fd   = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
    if (w->fd < 0) {
        return fail(e, DKV_ERR_IO, "%s: cannot create: %s", tmp,
                    strerror(errno));
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_file_write(const char *dir, uint64_t id, int index,
                                   const dkv__drain_item_t *items, size_t n,
                                   dkv__drain_counters_t *ctr,
                                   const atomic_int *cancel,
                                   dkv__drain_file_info_t *info_p, char *err,
                                   size_t errlen)
{
    errbuf_t e = {err, errlen};
    char name[DKV__DRAIN_NAME_MAX];
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    writer_t w;
    dkv_status_t status;

    if (index < 0) {
        return fail(e, DKV_ERR_INVALID, "%s: bad holder index %d", dir, index);
    }
    dkv__drain_file_name(name, id, index);
    status = join(e, path, dir, name);
    if (status != DKV_OK) {
        return status;
    }
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        return fail(e, DKV_ERR_IO, "%s: path too long", path);
    }
    status = writer_open(&w, e, tmp, O_TRUNC);
    if (status != DKV_OK) {
        return status;
    }
    w.cancel = cancel;
    w.ctr    = ctr;
    status   = write_body(&w, id, index, items, n);
    if (status != DKV_OK) {
        goto err_close;
    }
    if (fsync(w.fd) != 0) {
        status =
            fail(e, DKV_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
        goto err_close;
    }
    if (close(w.fd) != 0) {
        status =
            fail(e, DKV_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
        goto err_unlink;
    }
    status = commit(e, tmp, path, dir);
    if (status != DKV_OK) {
        goto err_unlink;
    }
    memset(info_p, 0, sizeof(*info_p));
    memcpy(info_p->name, name, sizeof(name));
    info_p->file_bytes    = w.total_bytes;
    info_p->records       = n;
    info_p->payload_bytes = w.total_payload;
    return DKV_OK;

err_close:
    close(w.fd);
err_unlink:
    unlink(tmp);
    unlink(path);
    return status;
}

/* ------------------------------------------------------------------ */
/* Manifest                                                            */
/* ------------------------------------------------------------------ */

/* The manifest text of @p m (malloc'd) into *@p text_p. */
static dkv_status_t manifest_format(errbuf_t e, const char *path,
                                    const dkv__drain_manifest_t *m,
                                    char **text_p, size_t *len_p)
{
    /* A "file" line with a valid name takes at most 5 + 36 + 3 * 21 + 1
     * bytes; the first three lines and the crc line fit in two. */
    const size_t line_max = 128;
    unsigned char *seen;
    char *text;
    size_t cap, len, i;
    uint32_t crc;

    if (m->nfiles > (SIZE_MAX - 2 * line_max) / line_max) {
        return fail(e, DKV_ERR_NO_MEMORY, "%s: too many files", path);
    }
    cap  = (m->nfiles + 2) * line_max;
    text = malloc(cap);
    seen = calloc(m->nfiles + 1, 1);
    if ((text == NULL) || (seen == NULL)) {
        free(seen);
        free(text);
        return fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    len = (size_t)snprintf(text, cap, "dramkv-drain 1\nid %016llx\nfiles %zu\n",
                           (unsigned long long)m->id, m->nfiles);
    for (i = 0; i < m->nfiles; i++) {
        if ((name_claim(m->files[i].name, m->id, m->nfiles, seen) != 0) ||
            !sizes_fit(&m->files[i])) {
            free(seen);
            free(text);
            return fail(e, DKV_ERR_INVALID,
                        "%s: entry %zu (%.*s) is not a file of drain %016llx "
                        "out of %zu, or its sizes do not add up",
                        path, i, DKV__DRAIN_NAME_MAX - 1, m->files[i].name,
                        (unsigned long long)m->id, m->nfiles);
        }
        len += (size_t)snprintf(text + len, cap - len,
                                "file %s %llu %llu %llu\n", m->files[i].name,
                                (unsigned long long)m->files[i].file_bytes,
                                (unsigned long long)m->files[i].records,
                                (unsigned long long)m->files[i].payload_bytes);
    }
    crc = dkv__crc32c(0, text, len);
    len += (size_t)snprintf(text + len, cap - len, "crc %08x\n", (unsigned)crc);
    free(seen);
    *text_p = text;
    *len_p  = len;
    return DKV_OK;
}

/* Remove the data files in @p dir that @p m does not name, errors ignored.
 * Temporary files ("*.tmp.*") and any other file are left alone. */
static void remove_stale(const char *dir, const dkv__drain_manifest_t *m)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if ((fnmatch(DKV__DRAIN_PATTERN, de->d_name, 0) == 0) &&
            (strstr(de->d_name, ".tmp.") == NULL) &&
            (name_index(de->d_name, m->id, m->nfiles) < 0)) {
            (void)unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    closedir(d);
}

dkv_status_t dkv__drain_manifest_write(const char *dir,
                                       const dkv__drain_manifest_t *m,
                                       char *err, size_t errlen)
{
    static atomic_uint seq;
    errbuf_t e = {err, errlen};
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    struct timespec ts;
    writer_t w;
    char *text = NULL;
    size_t len = 0;
    dkv_status_t status;

    status = join(e, path, dir, DKV__DRAIN_MANIFEST);
    if (status != DKV_OK) {
        return status;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u.%lld%09ld", path,
                 (long)getpid(), atomic_fetch_add(&seq, 1),
                 (long long)ts.tv_sec, (long)ts.tv_nsec) >= (int)sizeof(tmp)) {
        return fail(e, DKV_ERR_IO, "%s: path too long", path);
    }
    status = manifest_format(e, path, m, &text, &len);
    if (status != DKV_OK) {
        return status;
    }
    status = writer_open(&w, e, tmp, O_EXCL);
    if (status != DKV_OK) {
        goto err_free;
    }
    status = add(&w, text, len);
    if (status == DKV_OK) {
        status = flush(&w);
    }
    if (status != DKV_OK) {
        goto err_close;
    }
    if (fsync(w.fd) != 0) {
        status =
            fail(e, DKV_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
        goto err_close;
    }
    if (close(w.fd) != 0) {
        status =
            fail(e, DKV_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
        goto err_unlink;
    }
    status = commit(e, tmp, path, dir);
    if (status != DKV_OK) {
        goto err_unlink;
    }
    remove_stale(dir, m);
    free(text);
    return DKV_OK;

err_close:
    close(w.fd);
err_unlink:
    unlink(tmp);
err_free:
    free(text);
    return status;
}

/* A read position in the manifest text. */
typedef struct {
    const char *p;
    const char *end;
} cursor_t;

static int take_lit(cursor_t *c, const char *lit)
{
    size_t len = strlen(lit);

    if (((size_t)(c->end - c->p) < len) || (memcmp(c->p, lit, len) != 0)) {
        return -1;
    }
    c->p += len;
    return 0;
}

/* A decimal u64: no sign, no leading zero, no overflow. */
static int take_dec(cursor_t *c, uint64_t *value_p)
{
    const char *start = c->p;
    uint64_t value    = 0;
    unsigned digit;

    while ((c->p < c->end) && (*c->p >= '0') && (*c->p <= '9')) {
        digit = (unsigned)(*c->p - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            return -1;
        }
        value = value * 10 + digit;
        c->p++;
    }
    if ((c->p == start) || ((start[0] == '0') && (c->p - start > 1))) {
        return -1;
    }
    *value_p = value;
    return 0;
}

/* Exactly @p ndigits lowercase hex digits. */
static int take_hex(cursor_t *c, int ndigits, uint64_t *value_p)
{
    uint64_t value = 0;
    int i;
    char ch;

    if (c->end - c->p < ndigits) {
        return -1;
    }
    for (i = 0; i < ndigits; i++) {
        ch = *c->p++;
        if ((ch >= '0') && (ch <= '9')) {
            value = (value << 4) | (uint64_t)(ch - '0');
        } else if ((ch >= 'a') && (ch <= 'f')) {
            value = (value << 4) | (uint64_t)(ch - 'a' + 10);
        } else {
            return -1;
        }
    }
    *value_p = value;
    return 0;
}

/* A file name up to the next space into @p out (DKV__DRAIN_NAME_MAX). */
static int take_name(cursor_t *c, char *out)
{
    const char *start = c->p;
    size_t len;

    while ((c->p < c->end) && (*c->p != ' ') && (*c->p != '\n')) {
        c->p++;
    }
    len = (size_t)(c->p - start);
    if ((len == 0) || (len >= DKV__DRAIN_NAME_MAX) ||
        (memchr(start, '\0', len) != NULL) ||
        (memchr(start, '/', len) != NULL)) {
        return -1;
    }
    memcpy(out, start, len);
    out[len] = '\0';
    return (fnmatch(DKV__DRAIN_PATTERN, out, 0) == 0) ? 0 : -1;
}

static int take_file(cursor_t *c, dkv__drain_file_info_t *f)
{
    if ((take_lit(c, "file ") != 0) || (take_name(c, f->name) != 0) ||
        (take_lit(c, " ") != 0) || (take_dec(c, &f->file_bytes) != 0) ||
        (take_lit(c, " ") != 0) || (take_dec(c, &f->records) != 0) ||
        (take_lit(c, " ") != 0) || (take_dec(c, &f->payload_bytes) != 0) ||
        (take_lit(c, "\n") != 0)) {
        return -1;
    }
    return 0;
}

/* The last line: the CRC of everything before it. */
static dkv_status_t check_crc_line(errbuf_t e, const char *path,
                                   const char *text, size_t len)
{
    size_t body;
    cursor_t c;
    uint64_t crc;

    if (len < DKV__DRAIN_CRC_LINE) {
        return fail(e, DKV_ERR_CORRUPT, "%s: no crc line at the end", path);
    }
    body  = len - DKV__DRAIN_CRC_LINE;
    c.p   = text + body;
    c.end = text + len;
    if (((body > 0) && (text[body - 1] != '\n')) ||
        (take_lit(&c, "crc ") != 0) || (take_hex(&c, 8, &crc) != 0) ||
        (take_lit(&c, "\n") != 0)) {
        return fail(e, DKV_ERR_CORRUPT, "%s: no crc line at the end", path);
    }
    if (crc != dkv__crc32c(0, text, body)) {
        return fail(e, DKV_ERR_CORRUPT, "%s: crc mismatch", path);
    }
    return DKV_OK;
}

/* The "file" lines after the first three, into @p files. */
static dkv_status_t parse_files(errbuf_t e, const char *path, cursor_t *c,
                                uint64_t id, dkv__drain_file_info_t *files,
                                size_t n, unsigned char *seen)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (take_file(c, &files[i]) != 0) {
            return fail(e, DKV_ERR_CORRUPT, "%s: line %zu: bad file entry",
                        path, i + 4);
        }
        if (name_claim(files[i].name, id, n, seen) != 0) {
            return fail(e, DKV_ERR_CORRUPT,
                        "%s: line %zu: %s is not a file of drain %016llx out "
                        "of %zu, or is named twice",
                        path, i + 4, files[i].name, (unsigned long long)id, n);
        }
        if (!sizes_fit(&files[i])) {
            return fail(e, DKV_ERR_CORRUPT,
                        "%s: line %zu: sizes of %s do not add up", path, i + 4,
                        files[i].name);
        }
    }
    if (c->p != c->end) {
        return fail(e, DKV_ERR_CORRUPT, "%s: line %zu: unexpected text", path,
                    n + 4);
    }
    return DKV_OK;
}

static dkv_status_t manifest_parse(errbuf_t e, const char *path,
                                   const char *text, size_t len,
                                   dkv__drain_manifest_t *m)
{
    dkv__drain_file_info_t *files;
    unsigned char *seen;
    uint64_t id, n;
    dkv_status_t status;
    cursor_t c;

    status = check_crc_line(e, path, text, len);
    if (status != DKV_OK) {
        return status;
    }
    c.p   = text;
    c.end = text + len - DKV__DRAIN_CRC_LINE;
    if (take_lit(&c, "dramkv-drain 1\n") != 0) {
        return fail(e, DKV_ERR_CORRUPT,
                    "%s: line 1: not a dramkv-drain 1 manifest", path);
    }
    if ((take_lit(&c, "id ") != 0) || (take_hex(&c, 16, &id) != 0) ||
        (take_lit(&c, "\n") != 0)) {
        return fail(e, DKV_ERR_CORRUPT, "%s: line 2: bad id", path);
    }
    if ((take_lit(&c, "files ") != 0) || (take_dec(&c, &n) != 0) ||
        (take_lit(&c, "\n") != 0) ||
        (n > (uint64_t)(c.end - c.p) / DKV__DRAIN_LINE_MIN)) {
        return fail(e, DKV_ERR_CORRUPT, "%s: line 3: bad file count", path);
    }
    files = calloc(n + 1, sizeof(*files));
    seen  = calloc(n + 1, 1);
    if ((files == NULL) || (seen == NULL)) {
        status = fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
        goto err_free;
    }
    status = parse_files(e, path, &c, id, files, n, seen);
    if (status != DKV_OK) {
        goto err_free;
    }
    free(seen);
    m->id     = id;
    m->nfiles = n;
    m->files  = files;
    return DKV_OK;

err_free:
    free(seen);
    free(files);
    return status;
}

/* The whole of the small file @p path, malloc'd. */
static dkv_status_t read_text(errbuf_t e, const char *path, char **text_p,
                              size_t *len_p)
{
    struct stat st;
    char *text;
    size_t got = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return fail(e, (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO,
                    "%s: cannot open: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        close(fd);
        return fail(e, DKV_ERR_IO, "%s: stat failed: %s", path,
                    strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || ((uint64_t)st.st_size > DKV__DRAIN_TEXT_MAX)) {
        close(fd);
        return fail(e, DKV_ERR_CORRUPT, "%s: not a manifest (type or size)",
                    path);
    }
    text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        close(fd);
        return fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, text + got, (size_t)st.st_size - got);
        if ((n < 0) && (errno == EINTR)) {
            continue;
        }
        if (n < 0) {
            free(text);
            close(fd);
            return fail(e, DKV_ERR_IO, "%s: read failed: %s", path,
                        strerror(errno));
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    *text_p = text;
    *len_p  = got;
    return DKV_OK;
}

dkv_status_t dkv__drain_manifest_read(const char *dir, dkv__drain_manifest_t *m,
                                      char *err, size_t errlen)
{
    errbuf_t e = {err, errlen};
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    dkv_status_t status;

    status = join(e, path, dir, DKV__DRAIN_MANIFEST);
    if (status != DKV_OK) {
        return status;
    }
    status = read_text(e, path, &text, &len);
    if (status != DKV_OK) {
        return status;
    }
    status = manifest_parse(e, path, text, len, m);
    free(text);
    return status;
}

void dkv__drain_manifest_free(dkv__drain_manifest_t *m)
{
    if (m == NULL) {
        return;
    }
    free(m->files);
    m->files  = NULL;
    m->nfiles = 0;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* Open @p f in @p dir (path into @p path) and compare its size with the
 * manifest's; the holder index its name carries into *@p index_p. */
static dkv_status_t open_sized(errbuf_t e, const char *dir, uint64_t id,
                               const dkv__drain_file_info_t *f, char *path,
                               int *fd_p, long *index_p)
{
    long index = name_index(f->name, id, (size_t)INT_MAX + 1);
    struct stat st;
    dkv_status_t status;
    int fd;

    if (index < 0) {
        return fail(e, DKV_ERR_CORRUPT, "%s/%.*s: not a file of drain %016llx",
                    dir, DKV__DRAIN_NAME_MAX - 1, f->name,
                    (unsigned long long)id);
    }
    status = join(e, path, dir, f->name);
    if (status != DKV_OK) {
        return status;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(e, (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO,
                    "%s: cannot open: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        status =
            fail(e, DKV_ERR_IO, "%s: stat failed: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        status = fail(e, DKV_ERR_CORRUPT, "%s: not a regular file", path);
    } else if ((uint64_t)st.st_size != f->file_bytes) {
        status = fail(
            e, DKV_ERR_CORRUPT, "%s: %s (%lld bytes, manifest says %llu)", path,
            ((uint64_t)st.st_size < f->file_bytes) ? "truncated" : "too long",
            (long long)st.st_size, (unsigned long long)f->file_bytes);
    } else if (!sizes_fit(f)) {
        status =
            fail(e, DKV_ERR_CORRUPT, "%s: manifest sizes do not add up", path);
    }
    if (status != DKV_OK) {
        close(fd);
        return status;
    }
    *fd_p    = fd;
    *index_p = index;
    return DKV_OK;
}

static dkv_status_t check_head(errbuf_t e, const char *path, const void *buf,
                               uint64_t id, long index)
{
    file_head_t h;

    memcpy(&h, buf, sizeof(h));
    if ((memcmp(h.magic, "DKVDRN01", sizeof(h.magic)) != 0) ||
        (h.crc != dkv__crc32c(0, &h, offsetof(file_head_t, crc)))) {
        return fail(e, DKV_ERR_CORRUPT, "%s: bad header (magic or crc)", path);
    }
    if ((h.version != DKV__DRAIN_VERSION) || (h.reserved != 0)) {
        return fail(e, DKV_ERR_CORRUPT,
                    "%s: format version %u (reserved %u), expected %d (0)",
                    path, (unsigned)h.version, (unsigned)h.reserved,
                    DKV__DRAIN_VERSION);
    }
    if (h.id != id) {
        return fail(e, DKV_ERR_CORRUPT,
                    "%s: belongs to drain %016llx, expected %016llx", path,
                    (unsigned long long)h.id, (unsigned long long)id);
    }
    if (h.index != (uint64_t)index) {
        return fail(e, DKV_ERR_CORRUPT, "%s: holder index %u, expected %ld",
                    path, (unsigned)h.index, index);
    }
    return DKV_OK;
}

static dkv_status_t check_foot(errbuf_t e, const char *path, const void *buf,
                               const dkv__drain_file_info_t *f)
{
    file_foot_t t;

    memcpy(&t, buf, sizeof(t));
    if ((memcmp(t.magic, "DKVEND01", sizeof(t.magic)) != 0) ||
        (t.crc != dkv__crc32c(0, &t, offsetof(file_foot_t, crc))) ||
        (t.reserved != 0)) {
        return fail(e, DKV_ERR_CORRUPT, "%s: bad footer (magic or crc)", path);
    }
    if ((t.records != f->records) || (t.payload != f->payload_bytes)) {
        return fail(e, DKV_ERR_CORRUPT,
                    "%s: footer says %llu records, %llu bytes; manifest says "
                    "%llu, %llu",
                    path, (unsigned long long)t.records,
                    (unsigned long long)t.payload,
                    (unsigned long long)f->records,
                    (unsigned long long)f->payload_bytes);
    }
    return DKV_OK;
}

/* Read exactly @p len bytes at @p off; -1 on error or end of file. */
static int pread_full(int fd, void *buf, size_t len, off_t off)
{
    size_t got = 0;
    ssize_t n;

    errno = 0;
    while (got < len) {
        n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
        if ((n < 0) && (errno == EINTR)) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

dkv_status_t dkv__drain_file_check(const char *dir, uint64_t id,
                                   const dkv__drain_file_info_t *f, char *err,
                                   size_t errlen)
{
    errbuf_t e = {err, errlen};
    long index = -1;
    int fd     = -1;
    char path[PATH_MAX];
    char head[sizeof(file_head_t)];
    char foot[sizeof(file_foot_t)];
    dkv_status_t status;

    status = open_sized(e, dir, id, f, path, &fd, &index);
    if (status != DKV_OK) {
        return status;
    }
    if ((pread_full(fd, head, sizeof(head), 0) != 0) ||
        (pread_full(fd, foot, sizeof(foot),
                    (off_t)(f->file_bytes - sizeof(foot))) != 0)) {
        status = fail(e, DKV_ERR_IO, "%s: read failed: %s", path,
                      (errno != 0) ? strerror(errno) : "end of file");
    } else {
        status = check_head(e, path, head, id, index);
    }
    if (status == DKV_OK) {
        status = check_foot(e, path, foot, f);
    }
    close(fd);
    return status;
}

/* What is wrong with the record at @p pos (NULL if nothing); its size with
 * padding into *@p size_p. @p end is the offset of the footer. */
static const char *record_problem(const char *base, size_t pos, size_t end,
                                  size_t *size_p)
{
    const char *key = base + pos + sizeof(rec_head_t);
    size_t room     = end - pos;
    size_t body, size, i;
    rec_head_t h;

    if (room < sizeof(h)) {
        return "header runs into the footer";
    }
    memcpy(&h, base + pos, sizeof(h));
    if ((h.magic != DKV__DRAIN_REC_MAGIC) ||
        (h.crc != dkv__crc32c(0, &h, offsetof(rec_head_t, crc)))) {
        return "bad record header (magic or crc)";
    }
    if ((h.key_len == 0) || (h.key_len > DKV_KEY_MAX)) {
        return "bad key length";
    }
    room -= sizeof(h);
    if ((h.key_len > room) || (h.value_len > room - h.key_len)) {
        return "key and value run into the footer";
    }
    body = sizeof(h) + h.key_len + (size_t)h.value_len;
    size = padded(body);
    if (size > end - pos) {
        return "padding runs into the footer";
    }
    for (i = body; i < size; i++) {
        if (base[pos + i] != 0) {
            return "non-zero padding";
        }
    }
    if (dkv__crc32c(dkv__crc32c(0, key, h.key_len), key + h.key_len,
                    (size_t)h.value_len) != h.data_crc) {
        return "bad data crc";
    }
    *size_p = size;
    return NULL;
}

/* Every record of the mapped file, which must fill it up to the footer. */
static dkv_status_t check_records(errbuf_t e, const char *path,
                                  const char *base, size_t len,
                                  uint64_t records)
{
    size_t pos = sizeof(file_head_t);
    size_t end = len - sizeof(file_foot_t);
    const char *why;
    size_t size = 0;
    uint64_t i;

    for (i = 0; i < records; i++) {
        why = record_problem(base, pos, end, &size);
        if (why != NULL) {
            return fail(e, DKV_ERR_CORRUPT, "%s: record %llu at offset %zu: %s",
                        path, (unsigned long long)i, pos, why);
        }
        pos += size;
    }
    if (pos != end) {
        return fail(e, DKV_ERR_CORRUPT, "%s: %zu bytes after the last record",
                    path, end - pos);
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_file_open(const char *dir, uint64_t id,
                                  const dkv__drain_file_info_t *f,
                                  dkv__drain_map_t *map, char *err,
                                  size_t errlen)
{
    errbuf_t e = {err, errlen};
    size_t len = (size_t)f->file_bytes;
    long index = -1;
    int fd     = -1;
    char path[PATH_MAX];
    dkv_status_t status;
    char *base;

    status = open_sized(e, dir, id, f, path, &fd, &index);
    if (status != DKV_OK) {
        return status;
    }
    base = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        status =
            fail(e, DKV_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        close(fd);
        return status;
    }
    close(fd); /* the mapping keeps the file */
    (void)madvise(base, len, MADV_SEQUENTIAL);
    status = check_head(e, path, base, id, index);
    if (status == DKV_OK) {
        status = check_foot(e, path, base + len - sizeof(file_foot_t), f);
    }
    if (status == DKV_OK) {
        status = check_records(e, path, base, len, f->records);
    }
    if (status != DKV_OK) {
        munmap(base, len);
        return status;
    }
    map->base    = base;
    map->len     = len;
    map->records = f->records;
    map->pos     = sizeof(file_head_t);
    return DKV_OK;
}

int dkv__drain_map_next(dkv__drain_map_t *map, dkv__drain_item_t *item)
{
    const char *rec;
    rec_head_t h;

    if ((map->base == NULL) || (map->pos >= map->len - sizeof(file_foot_t))) {
        return 0;
    }
    rec = (const char *)map->base + map->pos;
    memcpy(&h, rec, sizeof(h));
    item->key       = rec + sizeof(h);
    item->key_len   = h.key_len;
    item->value     = item->key + h.key_len;
    item->value_len = h.value_len;
    map->pos += padded(sizeof(h) + h.key_len + (size_t)h.value_len);
    return 1;
}

void dkv__drain_map_close(dkv__drain_map_t *map)
{
    if ((map == NULL) || (map->base == NULL)) {
        return;
    }
    munmap(map->base, map->len);
    map->base    = NULL;
    map->len     = 0;
    map->records = 0;
    map->pos     = 0;
}
