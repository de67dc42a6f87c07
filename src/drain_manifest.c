/*
 * drain_manifest: the manifest of a drain directory: formatting and
 * writing it (dkv__drain_manifest_write, which then removes the data files
 * of other drains), and reading it back with a strict parser
 * (dkv__drain_manifest_read). Any thread; the only shared state is the
 * counter that makes temporary names unique, so several processes may
 * commit the same manifest at once.
 *
 * Manifest (ASCII, every line ends in '\n', fields separated by one space):
 *   dramkv-drain 2                                  (1: no time, label)
 *   id <drain id: 16 lowercase hex digits>
 *   time <commit: seconds since the epoch> <nanoseconds>     (format 2)
 *   label <1..63 bytes 0x21..0x7e, or "-" for none>          (format 2)
 *   files <n>
 *   file <name> <file_bytes> <records> <payload_bytes>       (n lines)
 *   crc <CRC32C of every byte before this line: 8 lowercase hex digits>
 * Numbers are decimal, without sign or leading zero, and fit in 64 bits.
 * Each name is dkv__drain_file_name(id, i) for an index i < n, every index
 * once, in any order; so a name never holds '/' and always matches
 * "dkv-*-h*.dat". file_bytes must be a multiple of 8 that records and
 * payload_bytes can fill (header, footer, record headers, at most 7
 * padding bytes a record). Nothing follows the crc line.
 * Any deviation is DKV_ERR_CORRUPT when read; _manifest_write refuses a
 * manifest that breaks these rules with DKV_ERR_INVALID and writes nothing.
 * Format 2 is written; format 1 (from before versions) is still read.
 */
#include "drain_file_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"

#define DKV__DRAIN_TEXT_MAX ((size_t)64 << 20) /* largest manifest */
#define DKV__DRAIN_CRC_LINE 13 /* "crc " + 8 hex digits + '\n' */
#define DKV__DRAIN_LINE_MIN 40 /* shortest possible "file" line */

/* Like dkv__drain_name_index(), and the index must not be in @p seen yet
 * (then it is marked); 0 or -1. */
static int name_claim(const char *name, uint64_t id, size_t n,
                      unsigned char *seen)
{
    long index = dkv__drain_name_index(name, id, n);

    if ((index < 0) || seen[index]) {
        return -1;
    }
    seen[index] = 1;
    return 0;
}

/* The manifest text of @p m (malloc'd) into *@p text_p. */
static dkv_status_t manifest_format(dkv__drain_err_t e, const char *path,
                                    const dkv__drain_manifest_t *m,
                                    char **text_p, size_t *len_p)
{
    /* A "file" line with a valid name takes at most 5 + 36 + 3 * 21 + 1
     * bytes; the first five lines and the crc line fit in two. */
    const size_t line_max = 128;
    const dkv__drain_file_info_t *f;
    unsigned char *seen;
    char *text;
    size_t cap, len, i;
    uint32_t crc;

    if (m->nfiles > (SIZE_MAX - 2 * line_max) / line_max) {
        return dkv__drain_fail(e, DKV_ERR_NO_MEMORY, "%s: too many files",
                               path);
    }
    cap  = (m->nfiles + 2) * line_max;
    text = malloc(cap);
    seen = calloc(m->nfiles + 1, 1);
    if ((text == NULL) || (seen == NULL)) {
        free(seen);
        free(text);
        return dkv__drain_fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    if (!dkv__drain_label_ok(m->label)) {
        free(seen);
        free(text);
        return dkv__drain_fail(e, DKV_ERR_INVALID, "%s: bad label", path);
    }
    len = (size_t)snprintf(
        text, cap,
        "dramkv-drain 2\nid %016llx\ntime %lld %u\nlabel %s\nfiles %zu\n",
        (unsigned long long)m->id, (long long)m->time_s, (unsigned)m->time_ns,
        (m->label[0] != '\0') ? m->label : "-", m->nfiles);
    for (i = 0; i < m->nfiles; i++) {
        f = &m->files[i];
        if ((name_claim(f->name, m->id, m->nfiles, seen) != 0) ||
            !dkv__drain_sizes_fit(f)) {
            free(seen);
            free(text);
            return dkv__drain_fail(
                e, DKV_ERR_INVALID,
                "%s: entry %zu (%.*s) is not a file of drain %016llx "
                "out of %zu, or its sizes do not add up",
                path, i, DKV__DRAIN_NAME_MAX - 1, f->name,
                (unsigned long long)m->id, m->nfiles);
        }
        len += (size_t)snprintf(
            text + len, cap - len, "file %s %llu %llu %llu\n", f->name,
            (unsigned long long)f->file_bytes, (unsigned long long)f->records,
            (unsigned long long)f->payload_bytes);
    }
    crc = dkv__crc32c(0, text, len);
    len += (size_t)snprintf(text + len, cap - len, "crc %08x\n", (unsigned)crc);
    free(seen);
    *text_p = text;
    *len_p  = len;
    return DKV_OK;
}

int dkv__drain_label_ok(const char *label)
{
    size_t i;

    for (i = 0; (i < DKV__DRAIN_LABEL_MAX) && (label[i] != '\0'); i++) {
        if ((label[i] < 0x21) || (label[i] > 0x7e)) {
            return 0;
        }
    }
    return (i < DKV__DRAIN_LABEL_MAX) && (strcmp(label, "-") != 0);
}

/* Write @p text durably as @p name in @p dir: a unique temporary name,
 * fsync, rename, fsync of the directory. */
static dkv_status_t write_text(dkv__drain_err_t e, const char *dir,
                               const char *name, const char *text, size_t len)
{
    static atomic_uint seq;
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    struct timespec ts;
    dkv__drain_writer_t w;
    dkv_status_t status;

    status = dkv__drain_join(e, path, dir, name);
    if (status != DKV_OK) {
        return status;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%u.%lld%09ld", path,
                 (long)getpid(), atomic_fetch_add(&seq, 1),
                 (long long)ts.tv_sec, (long)ts.tv_nsec) >= (int)sizeof(tmp)) {
        return dkv__drain_fail(e, DKV_ERR_IO, "%s: path too long", path);
    }
    status = dkv__drain_writer_open(&w, e, tmp, O_EXCL);
    if (status != DKV_OK) {
        return status;
    }
    status = dkv__drain_writer_add(&w, text, len);
    if (status != DKV_OK) {
        dkv__drain_writer_abort(&w);
        return status;
    }
    return dkv__drain_writer_commit(&w, path, dir);
}

dkv_status_t dkv__drain_manifest_commit(const char *dir,
                                        const dkv__drain_manifest_t *m,
                                        unsigned keep, char *err, size_t errlen)
{
    dkv__drain_err_t e            = {err, errlen};
    dkv__drain_manifest_t stamped = *m;
    char name[DKV__DRAIN_NAME_MAX];
    char path[PATH_MAX];
    struct timespec ts;
    char *text = NULL;
    size_t len = 0;
    dkv_status_t status;

    status = dkv__drain_join(e, path, dir, DKV__DRAIN_MANIFEST);
    if (status != DKV_OK) {
        return status;
    }
    if (stamped.time_s == 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        stamped.time_s  = (int64_t)ts.tv_sec;
        stamped.time_ns = (uint32_t)ts.tv_nsec;
    }
    status = manifest_format(e, path, &stamped, &text, &len);
    if (status != DKV_OK) {
        return status;
    }
    dkv__drain_version_name(name, m->id);
    memcpy(stamped.file, name, sizeof(name));
    status = write_text(e, dir, name, text, len);
    if (status == DKV_OK) {
        dkv__drain_versions_prune(dir, &stamped, keep);
    }
    free(text);
    return status;
}

dkv_status_t dkv__drain_manifest_write(const char *dir,
                                       const dkv__drain_manifest_t *m,
                                       char *err, size_t errlen)
{
    return dkv__drain_manifest_commit(dir, m, 1, err, errlen);
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
static dkv_status_t check_crc_line(dkv__drain_err_t e, const char *path,
                                   const char *text, size_t len)
{
    size_t body;
    cursor_t c;
    uint64_t crc;

    if (len < DKV__DRAIN_CRC_LINE) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT, "%s: no crc line at the end",
                               path);
    }
    body  = len - DKV__DRAIN_CRC_LINE;
    c.p   = text + body;
    c.end = text + len;
    if (((body > 0) && (text[body - 1] != '\n')) ||
        (take_lit(&c, "crc ") != 0) || (take_hex(&c, 8, &crc) != 0) ||
        (take_lit(&c, "\n") != 0)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT, "%s: no crc line at the end",
                               path);
    }
    if (crc != dkv__crc32c(0, text, body)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT, "%s: crc mismatch", path);
    }
    return DKV_OK;
}

/* The "file" lines after the first three, into @p files. */
static dkv_status_t parse_files(dkv__drain_err_t e, const char *path,
                                cursor_t *c, uint64_t id,
                                dkv__drain_file_info_t *files, size_t n,
                                unsigned char *seen, size_t first)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (take_file(c, &files[i]) != 0) {
            return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                                   "%s: line %zu: bad file entry", path,
                                   i + first);
        }
        if (name_claim(files[i].name, id, n, seen) != 0) {
            return dkv__drain_fail(
                e, DKV_ERR_CORRUPT,
                "%s: line %zu: %s is not a file of drain %016llx out "
                "of %zu, or is named twice",
                path, i + first, files[i].name, (unsigned long long)id, n);
        }
        if (!dkv__drain_sizes_fit(&files[i])) {
            return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                                   "%s: line %zu: sizes of %s do not add up",
                                   path, i + first, files[i].name);
        }
    }
    if (c->p != c->end) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: line %zu: unexpected text", path,
                               n + first);
    }
    return DKV_OK;
}

/* Format 2's "time S NS" and "label L" lines into @p m. */
static int take_stamp(cursor_t *c, dkv__drain_manifest_t *m)
{
    const char *start;
    uint64_t s, ns;
    size_t len;

    if ((take_lit(c, "time ") != 0) || (take_dec(c, &s) != 0) ||
        (take_lit(c, " ") != 0) || (take_dec(c, &ns) != 0) ||
        (take_lit(c, "\n") != 0) || (s > INT64_MAX) || (ns >= 1000000000u) ||
        (take_lit(c, "label ") != 0)) {
        return -1;
    }
    start = c->p;
    while ((c->p < c->end) && (*c->p != '\n')) {
        c->p++;
    }
    len = (size_t)(c->p - start);
    if ((len == 0) || (len >= DKV__DRAIN_LABEL_MAX) ||
        (take_lit(c, "\n") != 0)) {
        return -1;
    }
    m->time_s  = (int64_t)s;
    m->time_ns = (uint32_t)ns;
    if ((len == 1) && (start[0] == '-')) {
        return 0;
    }
    memcpy(m->label, start, len);
    m->label[len] = '\0';
    return dkv__drain_label_ok(m->label) ? 0 : -1;
}

static dkv_status_t manifest_parse(dkv__drain_err_t e, const char *path,
                                   const char *text, size_t len,
                                   dkv__drain_manifest_t *m)
{
    dkv__drain_file_info_t *files;
    unsigned char *seen;
    uint64_t id, n;
    dkv_status_t status;
    cursor_t c;
    int format;
    dkv__drain_manifest_t stamp = {0};

    status = check_crc_line(e, path, text, len);
    if (status != DKV_OK) {
        return status;
    }
    c.p   = text;
    c.end = text + len - DKV__DRAIN_CRC_LINE;
    if (take_lit(&c, "dramkv-drain 1\n") == 0) {
        format = 1;
    } else if (take_lit(&c, "dramkv-drain 2\n") == 0) {
        format = 2;
    } else {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: line 1: not a dramkv-drain 1 or 2 "
                               "manifest",
                               path);
    }
    if ((take_lit(&c, "id ") != 0) || (take_hex(&c, 16, &id) != 0) ||
        (take_lit(&c, "\n") != 0)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT, "%s: line 2: bad id", path);
    }
    if ((format == 2) && (take_stamp(&c, &stamp) != 0)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: line 3 or 4: bad time or label", path);
    }
    if ((take_lit(&c, "files ") != 0) || (take_dec(&c, &n) != 0) ||
        (take_lit(&c, "\n") != 0) ||
        (n > (uint64_t)(c.end - c.p) / DKV__DRAIN_LINE_MIN)) {
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: line %d: bad file count", path,
                               (format == 1) ? 3 : 5);
    }
    files = calloc(n + 1, sizeof(*files));
    seen  = calloc(n + 1, 1);
    if ((files == NULL) || (seen == NULL)) {
        status =
            dkv__drain_fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
        goto err_free;
    }
    status =
        parse_files(e, path, &c, id, files, n, seen, (format == 1) ? 4 : 6);
    if (status != DKV_OK) {
        goto err_free;
    }
    free(seen);
    *m        = stamp;
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
static dkv_status_t read_text(dkv__drain_err_t e, const char *path,
                              char **text_p, size_t *len_p)
{
    struct stat st;
    char *text;
    size_t got = 0;
    ssize_t n;
    dkv_status_t status;
    int fd;

    status = dkv__drain_open_read(e, path, &fd, &st);
    if (status != DKV_OK) {
        return status;
    }
    if (!S_ISREG(st.st_mode) || ((uint64_t)st.st_size > DKV__DRAIN_TEXT_MAX)) {
        close(fd);
        return dkv__drain_fail(e, DKV_ERR_CORRUPT,
                               "%s: not a manifest (type or size)", path);
    }
    text = malloc((size_t)st.st_size + 1);
    if (text == NULL) {
        close(fd);
        return dkv__drain_fail(e, DKV_ERR_NO_MEMORY, "%s: out of memory", path);
    }
    while (got < (size_t)st.st_size) {
        n = read(fd, text + got, (size_t)st.st_size - got);
        if ((n < 0) && (errno == EINTR)) {
            continue;
        }
        if (n < 0) {
            free(text);
            close(fd);
            return dkv__drain_fail(e, DKV_ERR_IO, "%s: read failed: %s", path,
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
    char name[DKV__DRAIN_NAME_MAX];
    dkv_status_t status;

    status = dkv__drain_newest(dir, name, err, errlen);
    if (status != DKV_OK) {
        return status;
    }
    return dkv__drain_manifest_read_file(dir, name, m, err, errlen);
}

dkv_status_t dkv__drain_manifest_read_file(const char *dir, const char *name,
                                           dkv__drain_manifest_t *m, char *err,
                                           size_t errlen)
{
    dkv__drain_err_t e = {err, errlen};
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    dkv_status_t status;

    status = dkv__drain_join(e, path, dir, name);
    if (status != DKV_OK) {
        return status;
    }
    status = read_text(e, path, &text, &len);
    if (status != DKV_OK) {
        return status;
    }
    status = manifest_parse(e, path, text, len, m);
    free(text);
    if (status == DKV_OK) {
        snprintf(m->file, sizeof(m->file), "%.*s", (int)sizeof(m->file) - 1,
                 name);
    }
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
