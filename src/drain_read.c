/*
 * drain_read: checks and maps the data files a manifest names
 * (dkv__drain_file_check, dkv__drain_file_open) for dkv_load, and iterates
 * a verified map (layout in drain_file.h). Any thread; a map belongs to
 * its caller.
 *
 * Reading trusts nothing: the size is compared with the manifest before
 * anything is read, each length is checked against the space left before
 * the footer before it is used, and padding must be zero, so a changed byte
 * anywhere or a truncation is always found (CRC32C catches every burst of
 * up to 32 bits). The map is MAP_PRIVATE: a file truncated by someone else
 * while mapped still raises SIGBUS, as for any mapping. A map is written
 * only on success.
 */
#include "drain_file_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crc32c.h"

/* Open @p f in @p dir (path into @p path) and compare its size with the
 * manifest's; the holder index its name carries into *@p index_p. */
static dkv_status_t open_sized(dkv__drain_err_t e, const char *dir, uint64_t id,
                               const dkv__drain_file_info_t *f, char *path,
                               int *fd_p, long *index_p)
{
    long index = dkv__drain_name_index(f->name, id, (size_t)INT_MAX + 1);
    struct stat st;
    dkv_status_t status;
    int fd;

    if (index < 0) {
        return dkv__drain_fail(
            e, DKV_ERR_CORRUPT, "%s/%.*s: not a file of drain %016llx", dir,
            DKV__DRAIN_NAME_MAX - 1, f->name, (unsigned long long)id);
    }
    status = dkv__drain_join(e, path, dir, f->name);
    if (status != DKV_OK) {
        return status;
    }
    status = dkv__drain_open_read(e, path, &fd, &st);
    if (status != DKV_OK) {
        return status;
    }
    if (!S_ISREG(st.st_mode)) {
        status =
            dkv__drain_fail(e, DKV_ERR_CORRUPT, "%s: not a regular file", path);
    } else if ((uint64_t)st.st_size != f->file_bytes) {
        status = dkv__drain_fail(
            e, DKV_ERR_CORRUPT, "%s: %s (%lld bytes, manifest says %llu)", path,
            ((uint64_t)st.st_size < f->file_bytes) ? "truncated" : "too long",
            (long long)st.st_size, (unsigned long long)f->file_bytes);
    } else if (!dkv__drain_sizes_fit(f)) {
        status = dkv__drain_fail(e, DKV_ERR_CORRUPT,
                                 "%s: manifest sizes do not add up", path);
    }
    if (status != DKV_OK) {
        close(fd);
        return status;
    }
    *fd_p    = fd;
    *index_p = index;
    return DKV_OK;
}

static dkv_status_t check_head(dkv__drain_err_t e, const char *path,
                               const void *buf, uint64_t id, long index)
{
    dkv__drain_head_t h;

    memcpy(&h, buf, sizeof(h));
    if ((memcmp(h.magic, "DKVDRN01", sizeof(h.magic)) != 0) ||
        (h.crc != dkv__crc32c(0, &h, offsetof(dkv__drain_head_t, crc)))) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: bad header (magic or crc)", path);
    }
    if ((h.version < DKV__DRAIN_VERSION_MIN) ||
        (h.version > DKV__DRAIN_VERSION) || (h.reserved != 0)) {
        return dkv__drain_fail(
            e, DKV_ERR_CORRUPT,
            "%s: format version %u (reserved %u), expected %d to %d (0)", path,
            (unsigned)h.version, (unsigned)h.reserved, DKV__DRAIN_VERSION_MIN,
            DKV__DRAIN_VERSION);
    }
    if (h.id != id) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: belongs to drain %016llx, expected %016llx",
                               path, (unsigned long long)h.id,
                               (unsigned long long)id);
    }
    if (h.index != (uint64_t)index) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: holder index %u, expected %ld", path,
                               (unsigned)h.index, index);
    }
    return DKV_OK;
}

static dkv_status_t check_foot(dkv__drain_err_t e, const char *path,
                               const void *buf, const dkv__drain_file_info_t *f)
{
    dkv__drain_foot_t t;

    memcpy(&t, buf, sizeof(t));
    if ((memcmp(t.magic, "DKVEND01", sizeof(t.magic)) != 0) ||
        (t.crc != dkv__crc32c(0, &t, offsetof(dkv__drain_foot_t, crc))) ||
        (t.reserved != 0)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: bad footer (magic or crc)", path);
    }
    if ((t.records != f->records) || (t.payload != f->payload_bytes)) {
        return dkv__drain_fail(
            e, DKV_ERR_CORRUPT,
            "%s: footer says %llu records, %llu bytes; manifest says "
            "%llu, %llu",
            path, (unsigned long long)t.records, (unsigned long long)t.payload,
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
    dkv__drain_err_t e = {err, errlen};
    long index         = -1;
    int fd             = -1;
    char path[PATH_MAX];
    char head[sizeof(dkv__drain_head_t)];
    char foot[sizeof(dkv__drain_foot_t)];
    dkv_status_t status;

    status = open_sized(e, dir, id, f, path, &fd, &index);
    if (status != DKV_OK) {
        return status;
    }
    if ((pread_full(fd, head, sizeof(head), 0) != 0) ||
        (pread_full(fd, foot, sizeof(foot),
                    (off_t)(f->file_bytes - sizeof(foot))) != 0)) {
        status =
            dkv__drain_fail(e, DKV_ERR_IO, "%s: read failed: %s", path,
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
                                  uint32_t version, size_t *size_p)
{
    const char *key = base + pos + sizeof(dkv__drain_rec_t);
    size_t room     = end - pos;
    size_t body, size, i;
    dkv__drain_rec_t h;

    if (room < sizeof(h)) {
        return "header runs into the footer";
    }
    memcpy(&h, base + pos, sizeof(h));
    if ((h.magic != DKV__DRAIN_REC_MAGIC) ||
        (h.crc != dkv__crc32c(0, &h, offsetof(dkv__drain_rec_t, crc)))) {
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
    size = dkv__drain_padded(body);
    if (size > end - pos) {
        return "padding runs into the footer";
    }
    for (i = body; i < size; i++) {
        if (base[pos + i] != 0) {
            return "non-zero padding";
        }
    }
    if (dkv__drain_data_crc(version, key, h.key_len, key + h.key_len,
                            (size_t)h.value_len) != h.data_crc) {
        return "bad data crc";
    }
    *size_p = size;
    return NULL;
}

/* Every record of the mapped file, which must fill it up to the footer. */
static dkv_status_t check_records(dkv__drain_err_t e, const char *path,
                                  const char *base, size_t len,
                                  uint64_t records)
{
    uint32_t version;
    size_t pos = sizeof(dkv__drain_head_t);
    size_t end = len - sizeof(dkv__drain_foot_t);
    const char *why;
    size_t size = 0;
    uint64_t i;

    memcpy(&version, base + offsetof(dkv__drain_head_t, version),
           sizeof(version));
    for (i = 0; i < records; i++) {
        why = record_problem(base, pos, end, version, &size);
        if (why != NULL) {
            return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                                   "%s: record %llu at offset %zu: %s", path,
                                   (unsigned long long)i, pos, why);
        }
        pos += size;
    }
    if (pos != end) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: %zu bytes after the last record", path,
                               end - pos);
    }
    return DKV_OK;
}

dkv_status_t dkv__drain_file_open(const char *dir, uint64_t id,
                                  const dkv__drain_file_info_t *f,
                                  dkv__drain_map_t *map, char *err,
                                  size_t errlen)
{
    dkv__drain_err_t e = {err, errlen};
    size_t len         = (size_t)f->file_bytes;
    long index         = -1;
    int fd             = -1;
    char path[PATH_MAX];
    dkv_status_t status;
    char *base;

    status = open_sized(e, dir, id, f, path, &fd, &index);
    if (status != DKV_OK) {
        return status;
    }
    base = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        status = dkv__drain_fail(e, DKV_ERR_IO, "%s: mmap failed: %s", path,
                                 strerror(errno));
        close(fd);
        return status;
    }
    close(fd); /* the mapping keeps the file */
    (void)madvise(base, len, MADV_SEQUENTIAL);
    status = check_head(e, path, base, id, index);
    if (status == DKV_OK) {
        status = check_foot(e, path, base + len - sizeof(dkv__drain_foot_t), f);
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
    dkv__drain_map_rewind(map);
    return DKV_OK;
}

int dkv__drain_map_next(dkv__drain_map_t *map, dkv__drain_item_t *item)
{
    const char *rec;
    dkv__drain_rec_t h;

    if ((map->base == NULL) ||
        (map->pos >= map->len - sizeof(dkv__drain_foot_t))) {
        return 0;
    }
    rec = (const char *)map->base + map->pos;
    memcpy(&h, rec, sizeof(h));
    item->key       = rec + sizeof(h);
    item->key_len   = h.key_len;
    item->value     = item->key + h.key_len;
    item->value_len = h.value_len;
    map->pos += dkv__drain_padded(sizeof(h) + h.key_len + (size_t)h.value_len);
    return 1;
}

void dkv__drain_map_rewind(dkv__drain_map_t *map)
{
    map->pos = sizeof(dkv__drain_head_t);
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
