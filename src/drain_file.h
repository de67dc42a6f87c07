/*
 * drain_file: the on-disk format of a drain (dkv_drain_start / dkv_load).
 * Pure: plain POSIX file I/O, no UCX, no PMIx. Used by the holder's drain
 * thread (writer) and by dkv_load (reader).
 *
 * A drain in directory DIR is:
 *   DIR/dkv-<id as 16 hex digits>-h<holder index as 5 digits>.dat
 *       one per draining holder (index 0..nfiles-1), written to
 *       "<name>.tmp.<pid>", fsynced, renamed, and the directory fsynced;
 *   DIR/dkv-<id as 16 hex digits>.manifest
 *       text, written last the same way: names every file of the drain with
 *       its size in bytes and record count, its commit time and label, and
 *       ends with a CRC32C line over everything before it. A drain without
 *       its manifest, or whose files do not match it, is never taken for a
 *       complete one. The newest DKV_DRAIN_KEEP drains keep theirs (and
 *       their files); older ones are removed at each commit. The newest
 *       manifest (by modification time) is the drain a load takes.
 *   DIR/dramkv-drain.manifest
 *       the manifest of format 1 directories (one drain each); still read,
 *       as one more version.
 *
 * Data file (host byte order; dramkv jobs are homogeneous):
 *   header  32 bytes: magic "DKVDRN01", u64 drain id, u32 holder index,
 *           u32 format version (2; 1 is still read), u32 reserved 0,
 *           u32 CRC32C of the 28 bytes before it
 *   records each: u32 magic 0x52564B44 ("DKVR"), u32 key_len (1..1024),
 *           u64 value_len, u32 data CRC, u32 CRC32C of the 20 bytes
 *           before it; then the key (no NUL), the value, and zero padding
 *           to a multiple of 8 bytes. The data CRC is CRC32C over the
 *           value bytes then the key bytes (version 2: it continues the
 *           value's own CRC, so the CRC a put was checked with at the
 *           holder travels to disk and a value changed in memory since is
 *           caught at load), or over the key then the value (version 1)
 *   footer  32 bytes: magic "DKVEND01", u64 record count, u64 payload
 *           bytes (sum of key_len + value_len), u32 reserved 0, u32 CRC32C
 *           of the 28 bytes before it
 *
 * Every error message written to err names the file (full path) and what
 * is wrong with it.
 */
#ifndef DKV_DRAIN_FILE_H
#define DKV_DRAIN_FILE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

#define DKV__DRAIN_MANIFEST "dramkv-drain.manifest"
#define DKV__DRAIN_NAME_MAX 64
#define DKV__DRAIN_LABEL_MAX 64 /* with the NUL */

/* One key/value to write or read back. */
typedef struct dkv__drain_item {
    const char *key;       /* not NUL-terminated when read from a map */
    size_t      key_len;
    const void *value;
    uint64_t    value_len;
    uint32_t    value_crc; /* CRC32C of the value as put, if has_crc: the
                              file's data CRC continues it (not the bytes) */
    int         has_crc;   /* 0: the writer computes it from the bytes */
} dkv__drain_item_t;

/* What a finished data file holds (and what the manifest says of it). */
typedef struct dkv__drain_file_info {
    char     name[DKV__DRAIN_NAME_MAX]; /* file name inside the dir */
    uint64_t file_bytes;                /* size of the file */
    uint64_t records;
    uint64_t payload_bytes;             /* sum of key_len + value_len */
} dkv__drain_file_info_t;

/* Progress shared with other threads (relaxed atomics). */
typedef struct dkv__drain_counters {
    _Atomic uint64_t bytes;   /* payload bytes of the records written */
    _Atomic uint64_t keys;    /* records written so far */
    _Atomic uint64_t flushed; /* file bytes written, records in part too:
                                 moves during one huge record */
    _Atomic uint32_t phase;   /* DKV__DRAIN_PHASE_*: where the writer is */
} dkv__drain_counters_t;

/* The phases of writing one file; a writer may sit in a blocking system
 * call (fsync) for a long time in any phase but BYTES. */
enum {
    DKV__DRAIN_PHASE_BYTES   = 0, /* writing records */
    DKV__DRAIN_PHASE_FSYNC   = 1, /* fsync of the file */
    DKV__DRAIN_PHASE_RENAME  = 2, /* rename into place */
    DKV__DRAIN_PHASE_DIRSYNC = 3, /* fsync of the directory */
    DKV__DRAIN_PHASE_DONE    = 4,
    DKV__DRAIN_PHASE_COMMIT  = 5  /* (drain info only) the committer
                                     writes the manifest */
};

typedef struct dkv__drain_manifest {
    uint64_t                id;
    size_t                  nfiles;
    dkv__drain_file_info_t *files; /* malloc'd, nfiles entries */
    int64_t                 time_s;  /* commit time (0: format 1, none) */
    uint32_t                time_ns;
    char label[DKV__DRAIN_LABEL_MAX]; /* "" if none; 0x21..0x7e only */
    /* Set when read from a directory: */
    char     file[DKV__DRAIN_NAME_MAX]; /* the manifest's file name */
    uint64_t mtime_ns; /* its modification time: the newest comes first */
} dkv__drain_manifest_t;

/* A data file mapped read-only and fully verified. */
typedef struct dkv__drain_map {
    void    *base;
    size_t   len;
    uint64_t records;
    size_t   pos; /* iterator: offset of the next record */
} dkv__drain_map_t;

/* "dkv-<id %016llx>-h<index %05d>.dat" into @p out (DKV__DRAIN_NAME_MAX). */
void dkv__drain_file_name(char *out, uint64_t id, int index);

/*
 * Write @p n items as holder @p index's file of drain @p id in @p dir:
 * temporary name, fsync, rename, fsync of the directory. Updates @p ctr
 * after each record (may be NULL). Stops early with DKV_ERR_STATE (and
 * removes the temporary file) when *@p cancel becomes non-zero (may be
 * NULL). Values are written straight from their memory (no copy).
 * @return DKV_OK and *@p info_p filled, or DKV_ERR_IO / DKV_ERR_NO_MEMORY
 *         with a message naming the file in @p err; nothing is left under
 *         the final name on error.
 */
dkv_status_t dkv__drain_file_write(const char *dir, uint64_t id, int index,
                                   const dkv__drain_item_t *items, size_t n,
                                   dkv__drain_counters_t *ctr,
                                   const atomic_int *cancel,
                                   dkv__drain_file_info_t *info_p, char *err,
                                   size_t errlen);

/*
 * Commit @p m in @p dir: its manifest dkv-<id>.manifest (unique temporary
 * name, fsync, rename, fsync of the directory), stamped with the time now
 * if @p m->time_s is 0. Then the newest @p keep drains (by commit time; at
 * least this one) keep their manifests and data files, and every other
 * drain's manifest, data files and temporary data files are removed.
 * Safe when several processes commit the same manifest at once.
 * @return DKV_OK, DKV_ERR_INVALID (a bad manifest: nothing written),
 *         DKV_ERR_IO (message in @p err).
 */
dkv_status_t dkv__drain_manifest_commit(const char *dir,
                                        const dkv__drain_manifest_t *m,
                                        unsigned keep, char *err,
                                        size_t errlen);

/* dkv__drain_manifest_commit with keep 1: only this drain stays. */
dkv_status_t dkv__drain_manifest_write(const char *dir,
                                       const dkv__drain_manifest_t *m,
                                       char *err, size_t errlen);

/*
 * Every drain of @p dir with a readable manifest of its own
 * (dkv-<id>.manifest), newest commit first, into *@p list_p (malloc'd;
 * free each with dkv__drain_manifest_free, then the array). Damaged
 * manifests are skipped.
 * @return DKV_OK, DKV_ERR_NOT_FOUND (no directory), DKV_ERR_IO,
 *         DKV_ERR_NO_MEMORY.
 */
dkv_status_t dkv__drain_versions(const char *dir,
                                 dkv__drain_manifest_t **list_p,
                                 size_t *n_p);

/* Free what dkv__drain_versions returned; NULL-safe. */
void dkv__drain_versions_free(dkv__drain_manifest_t *list, size_t n);

/*
 * Read and check the newest manifest of @p dir (dkv-*.manifest or the
 * format 1 dramkv-drain.manifest, by modification time) into @p m (free
 * with dkv__drain_manifest_free).
 * @return DKV_OK, DKV_ERR_NOT_FOUND (no manifest), DKV_ERR_CORRUPT
 *         (malformed, CRC mismatch), DKV_ERR_IO, DKV_ERR_NO_MEMORY.
 */
dkv_status_t dkv__drain_manifest_read(const char *dir,
                                      dkv__drain_manifest_t *m, char *err,
                                      size_t errlen);

/* The name of the newest manifest file in @p dir (by modification time)
 * into @p name (DKV__DRAIN_NAME_MAX), whether it parses or not.
 * @return DKV_OK, DKV_ERR_NOT_FOUND (none, or no directory), DKV_ERR_IO;
 *         the message names the directory. */
dkv_status_t dkv__drain_newest(const char *dir, char *name, char *err,
                               size_t errlen);

/* The same for the manifest file @p name in @p dir (for example
 * "dkv-<id>.manifest"). */
dkv_status_t dkv__drain_manifest_read_file(const char *dir, const char *name,
                                           dkv__drain_manifest_t *m,
                                           char *err, size_t errlen);
void dkv__drain_manifest_free(dkv__drain_manifest_t *m);

/*
 * Quick check of one file the manifest names: it exists (else
 * DKV_ERR_NOT_FOUND), its size is f->file_bytes (else DKV_ERR_CORRUPT,
 * "truncated" or "too long"), header (magic, id, version, CRC) and footer
 * (magic, CRC, record count and payload bytes as in @p f) are valid (else
 * DKV_ERR_CORRUPT). Reads only the header and footer.
 */
dkv_status_t dkv__drain_file_check(const char *dir, uint64_t id,
                                   const dkv__drain_file_info_t *f, char *err,
                                   size_t errlen);

/*
 * Map one file read-only and verify it completely (as _check, plus every
 * record's header CRC, bounds, key length and data CRC, and that the
 * records exactly fill the space up to the footer).
 * @return DKV_OK (then iterate with dkv__drain_map_next and close with
 *         dkv__drain_map_close), DKV_ERR_NOT_FOUND, DKV_ERR_CORRUPT,
 *         DKV_ERR_IO.
 */
dkv_status_t dkv__drain_file_open(const char *dir, uint64_t id,
                                  const dkv__drain_file_info_t *f,
                                  dkv__drain_map_t *map, char *err,
                                  size_t errlen);

/* The next record of a verified map into @p item (pointing into the map);
 * 1, or 0 after the last one. */
int dkv__drain_map_next(dkv__drain_map_t *map, dkv__drain_item_t *item);

/* Start the iteration of a verified map again from its first record. */
void dkv__drain_map_rewind(dkv__drain_map_t *map);

/* Unmap; NULL-safe and idempotent. */
void dkv__drain_map_close(dkv__drain_map_t *map);

#endif
