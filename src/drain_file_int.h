/*
 * drain_file_int: what the files of the drain_file module share, private
 * to them: the binary layout of a data file, the error buffer, names,
 * paths and sizes, and the batching writer (temporary file, fsync, durable
 * rename). drain_file.c holds the common helpers, drain_write.c the writer
 * and data file writing, drain_read.c the checks and maps of data files,
 * drain_manifest.c the manifest. The contract of the module is
 * drain_file.h.
 */
#ifndef DKV_DRAIN_FILE_INT_H
#define DKV_DRAIN_FILE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "drain_file.h"

#define DKV__DRAIN_VERSION 2 /* written; 1 is still read */
#define DKV__DRAIN_VERSION_MIN 1
#define DKV__DRAIN_REC_MAGIC 0x52564B44u /* "DKVR" read little-endian */
#define DKV__DRAIN_ALIGN 8
#define DKV__DRAIN_CHUNK ((size_t)64 << 20)   /* most bytes per writev */
#define DKV__DRAIN_IOV 256                    /* most pieces per writev */
#define DKV__DRAIN_BATCH (DKV__DRAIN_IOV / 4) /* records per writev */
#define DKV__DRAIN_PATTERN "dkv-*-h*.dat"

/* Data file header, footer and record header (layout in drain_file.h). */
typedef struct {
    char magic[8]; /* "DKVDRN01" */
    uint64_t id;
    uint32_t index;
    uint32_t version;
    uint32_t reserved;
    uint32_t crc;
} dkv__drain_head_t;

typedef struct {
    char magic[8]; /* "DKVEND01" */
    uint64_t records;
    uint64_t payload;
    uint32_t reserved;
    uint32_t crc;
} dkv__drain_foot_t;

typedef struct {
    uint32_t magic;
    uint32_t key_len;
    uint64_t value_len;
    uint32_t data_crc;
    uint32_t crc;
} dkv__drain_rec_t;

_Static_assert((sizeof(dkv__drain_head_t) == 32) &&
                   (offsetof(dkv__drain_head_t, crc) == 28),
               "file header is 32 bytes, CRC over the first 28");
_Static_assert((sizeof(dkv__drain_foot_t) == 32) &&
                   (offsetof(dkv__drain_foot_t, crc) == 28),
               "file footer is 32 bytes, CRC over the first 28");
_Static_assert((sizeof(dkv__drain_rec_t) == 24) &&
                   (offsetof(dkv__drain_rec_t, crc) == 20),
               "record header is 24 bytes, CRC over the first 20");
_Static_assert(SIZE_MAX >= UINT64_MAX, "dramkv targets 64-bit hosts");

/* The caller's message buffer (may be NULL). */
typedef struct {
    char *buf;
    size_t len;
} dkv__drain_err_t;

/* Format one message into @p e (if it has room); returns @p status. */
dkv_status_t dkv__drain_fail(dkv__drain_err_t e, dkv_status_t status,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* @p len rounded up to a multiple of DKV__DRAIN_ALIGN. */
size_t dkv__drain_padded(size_t len);

/* The data CRC of a record of format @p version (layout in drain_file.h):
 * over the value then the key (2), or the key then the value (1). */
uint32_t dkv__drain_data_crc(uint32_t version, const void *key, size_t key_len,
                             const void *value, size_t value_len);

/* The index of @p name if it is exactly dkv__drain_file_name(id, index) for
 * an index below @p limit, else -1. @p name need not be NUL-terminated
 * within DKV__DRAIN_NAME_MAX bytes (then it is not a name). */
long dkv__drain_name_index(const char *name, uint64_t id, size_t limit);

/* 1 if @p label (NUL-terminated within DKV__DRAIN_LABEL_MAX) may be
 * stored in a manifest: "" or 1..63 bytes 0x21..0x7e, not "-". */
int dkv__drain_label_ok(const char *label);

#define DKV__DRAIN_VERSION_GLOB "dkv-*.manifest"

/* "dkv-<id %016llx>.manifest" into @p out (DKV__DRAIN_NAME_MAX). */
void dkv__drain_version_name(char *out, uint64_t id);

/* After committing @p newest in @p dir: keep the manifests and data files
 * of the newest @p keep drains (at least @p newest), remove every other
 * drain's manifest, data files and temporary data files. Errors ignored. */
void dkv__drain_versions_prune(const char *dir,
                               const dkv__drain_manifest_t *newest,
                               unsigned keep);

/* 1 if @p f->file_bytes is what records and payload_bytes take up. */
int dkv__drain_sizes_fit(const dkv__drain_file_info_t *f);

/* "@p dir/@p name" into @p out (PATH_MAX); DKV_ERR_IO if too long. */
dkv_status_t dkv__drain_join(dkv__drain_err_t e, char *out, const char *dir,
                             const char *name);

/* Open @p path read-only into *@p fd_p and stat it into @p st.
 * @return DKV_OK, DKV_ERR_NOT_FOUND (no such file), DKV_ERR_IO; the file
 *         is closed again on error. */
dkv_status_t dkv__drain_open_read(dkv__drain_err_t e, const char *path,
                                  int *fd_p, struct stat *st);

/* One file being written: a batch of pieces not yet handed to writev.
 * Owned by the thread that writes the file. */
typedef struct {
    int fd;
    const char *path; /* the temporary name, for messages and removal */
    const atomic_int *cancel;
    dkv__drain_counters_t *ctr;
    dkv__drain_err_t e;
    struct iovec iov[DKV__DRAIN_IOV];
    int niov;
    size_t nbytes; /* in iov[] */
    dkv__drain_rec_t heads[DKV__DRAIN_BATCH];
    int nheads;
    uint64_t batch_records; /* completed in iov[] */
    uint64_t batch_payload;
    uint64_t total_bytes; /* queued since the start */
    uint64_t total_payload;
    dkv__drain_head_t head;
    dkv__drain_foot_t foot;
} dkv__drain_writer_t;

/* Create @p tmp (borrowed until the writer is committed or aborted) with
 * open(2) @p flags added to O_WRONLY | O_CREAT; no cancel, no counters.
 * @return DKV_OK, DKV_ERR_IO (nothing to undo). */
dkv_status_t dkv__drain_writer_open(dkv__drain_writer_t *w, dkv__drain_err_t e,
                                    const char *tmp, int flags);

/* Queue @p len bytes at @p buf (held until the next flush), flushing
 * whenever the batch is full. @return DKV_OK, DKV_ERR_IO, DKV_ERR_STATE
 * (cancelled). */
dkv_status_t dkv__drain_writer_add(dkv__drain_writer_t *w, const void *buf,
                                   size_t len);

/* Write what is queued, fsync, close, rename the temporary file to @p path
 * and fsync @p dir. On error the file is closed and the temporary file
 * removed. @return DKV_OK, DKV_ERR_IO, DKV_ERR_STATE (cancelled). */
dkv_status_t dkv__drain_writer_commit(dkv__drain_writer_t *w, const char *path,
                                      const char *dir);

/* Close and remove the temporary file after an error. */
void dkv__drain_writer_abort(dkv__drain_writer_t *w);

#endif
