/*
 * drain_file: writes, checks and maps the files of a drain (layout in
 * drain_file.h). Pure: POSIX file I/O only, no UCX, no PMIx, no logging;
 * every error comes back as a status and one line in the caller's buffer
 * naming the file (full path) and what is wrong with it. Any thread; the
 * only shared state is the counter that makes manifest temporary names
 * unique (drain_manifest.c).
 *
 * The module is four files sharing drain_file_int.h: this one holds what
 * several of them use (messages, file names, size rules, paths, opening a
 * file to read); drain_write.c holds the batching writer and the durable
 * rename and writes data files, drain_read.c checks and maps them,
 * drain_manifest.c writes, parses and applies the manifest.
 *
 * Beyond drain_file.h: bad input is DKV_ERR_INVALID (a negative holder
 * index or a key length outside 1..DKV_KEY_MAX for _file_write; a manifest
 * that breaks the rules in drain_manifest.c for _manifest_write, which then
 * writes nothing), and _manifest_write may return DKV_ERR_NO_MEMORY.
 */
#include "drain_file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"

dkv_status_t dkv__drain_fail(dkv__drain_err_t e, dkv_status_t status,
                             const char *fmt, ...)
{
    va_list ap;

    if ((e.buf != NULL) && (e.len > 0)) {
        va_start(ap, fmt);
        vsnprintf(e.buf, e.len, fmt, ap);
        va_end(ap);
    }
    return status;
}

size_t dkv__drain_padded(size_t len)
{
    return (len + DKV__DRAIN_ALIGN - 1) & ~(size_t)(DKV__DRAIN_ALIGN - 1);
}

uint32_t dkv__drain_data_crc(uint32_t version, const void *key, size_t key_len,
                             const void *value, size_t value_len)
{
    if (version == 1) {
        return dkv__crc32c(dkv__crc32c(0, key, key_len), value, value_len);
    }
    return dkv__crc32c(dkv__crc32c(0, value, value_len), key, key_len);
}

void dkv__drain_file_name(char *out, uint64_t id, int index)
{
    snprintf(out, DKV__DRAIN_NAME_MAX, "dkv-%016llx-h%05d.dat",
             (unsigned long long)id, index);
}

long dkv__drain_name_index(const char *name, uint64_t id, size_t limit)
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

int dkv__drain_sizes_fit(const dkv__drain_file_info_t *f)
{
    uint64_t min, pad;

    if ((f->payload_bytes < f->records) ||
        __builtin_mul_overflow(f->records, sizeof(dkv__drain_rec_t), &min) ||
        __builtin_add_overflow(min, f->payload_bytes, &min) ||
        __builtin_add_overflow(min, 2 * sizeof(dkv__drain_head_t), &min)) {
        return 0;
    }
    if (__builtin_mul_overflow(f->records, DKV__DRAIN_ALIGN - 1, &pad)) {
        pad = UINT64_MAX;
    }
    return (f->file_bytes >= min) && (f->file_bytes - min <= pad) &&
           ((f->file_bytes % DKV__DRAIN_ALIGN) == 0);
}

dkv_status_t dkv__drain_join(dkv__drain_err_t e, char *out, const char *dir,
                             const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

    if ((n < 0) || (n >= PATH_MAX)) {
        return dkv__drain_fail(e, DKV_ERR_IO, "%s/%s: path too long", dir,
                               name);
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_open_read(dkv__drain_err_t e, const char *path,
                                  int *fd_p, struct stat *st)
{
    dkv_status_t status;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return dkv__drain_fail(
            e, (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO,
            "%s: cannot open: %s", path, strerror(errno));
    }
    if (fstat(fd, st) != 0) {
        status = dkv__drain_fail(e, DKV_ERR_IO, "%s: stat failed: %s", path,
                                 strerror(errno));
        close(fd);
        return status;
    }
    *fd_p = fd;
    return DKV_OK;
}
