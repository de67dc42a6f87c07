/*
 * stage_wire: the payloads of the staging messages (LIST, LIST_REPLY,
 * DRAIN, DRAIN_REPLY). Pure. They travel in the AM data part behind the
 * usual wire header (wire.h), host byte order, and are validated here
 * before use like any other field from the network.
 *
 * LIST        the key prefix, 0..DKV_KEY_MAX bytes, no NUL.
 * LIST_REPLY  entries back to back: u32 key_len (1..DKV_KEY_MAX), u64 value
 *             size, key bytes (no NUL); unaligned, read with memcpy.
 * DRAIN       dkv__drain_req_t, the directory path (path_len bytes, no
 *             NUL), then dead_len bytes: a bitmap over the job's holder list
 *             of the holders lost when the drain started (bit i of byte
 *             i / 8); the drain id is the header's aux.
 * DRAIN_REPLY dkv__drain_info_t.
 * DRAIN_DONE  dkv__drain_info_t: a holder's final answer, sent to the
 *             committing holder when its file is durable (or failed).
 */
#ifndef DKV_STAGE_WIRE_H
#define DKV_STAGE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "drain_file.h"
#include "dramkv.h"

/* Longest drain directory path. */
#define DKV__DRAIN_PATH_MAX 4000

typedef struct dkv__drain_req {
    uint32_t index;    /* file index of the receiving holder */
    uint32_t nfiles;   /* files in the drain (one per live holder) */
    uint32_t path_len; /* bytes of the path after this struct */
    uint32_t dead_len; /* bytes of the lost-holder bitmap after the path */
} dkv__drain_req_t;

/* Longest lost-holder bitmap (a million holders). */
#define DKV__DRAIN_DEAD_MAX (1u << 17)

typedef struct dkv__drain_info {
    uint64_t id;
    int32_t  status;   /* the drain's status at this holder so far */
    uint32_t done;     /* 1: the file is complete (or the drain failed) */
    uint32_t index;    /* this holder's file index in the drain */
    uint32_t nfiles;   /* files in the drain */
    uint64_t bytes_written, bytes_total;
    uint64_t keys_written, keys_total;
    uint64_t flushed;  /* file bytes written so far (moves within a record) */
    dkv__drain_file_info_t file; /* valid when done and status is DKV_OK */
    char     why[192]; /* when status is an error: what went wrong (the
                          file and the system's reason), NUL-terminated */
    uint32_t committer; /* holder index that commits the drain */
    uint32_t committed; /* 1: the committer has ended the drain (only set
                           in the committer's own answers) */
    int32_t  commit_status; /* when committed: DKV_OK (manifest durable)
                               or why the drain failed */
    uint32_t phase;    /* DKV__DRAIN_PHASE_* of this holder's writer, or
                          COMMIT while the committer writes the manifest */
} dkv__drain_info_t;

/* Bytes one LIST_REPLY entry takes for a key of @p key_len. */
static inline size_t dkv__list_entry_size(size_t key_len)
{
    return sizeof(uint32_t) + sizeof(uint64_t) + key_len;
}

/* Append an entry at @p out (room for dkv__list_entry_size); bytes written. */
size_t dkv__list_entry_pack(void *out, const char *key, size_t key_len,
                            uint64_t size);

/*
 * Read the entry at offset *@p pos of a LIST_REPLY of @p len bytes.
 * @return 1 and the entry (key points into @p buf, not NUL-terminated),
 *         advancing *@p pos; 0 at the end; -1 if malformed.
 */
int dkv__list_entry_next(const void *buf, size_t len, size_t *pos,
                         const char **key_p, size_t *key_len_p,
                         uint64_t *size_p);

/* Check a DRAIN payload; on DKV_OK copy the header and point @p path_p at
 * the path (path_len bytes) and @p dead_p at the bitmap (dead_len bytes,
 * NULL if none). DKV_ERR_PROTOCOL otherwise. */
dkv_status_t dkv__drain_req_parse(const void *buf, size_t len,
                                  dkv__drain_req_t *req_p,
                                  const char **path_p,
                                  const uint8_t **dead_p);

/* Check a DRAIN_REPLY payload (length, status known, counts sane, the file
 * name and the reason NUL-terminated); DKV_OK or DKV_ERR_PROTOCOL. */
dkv_status_t dkv__drain_info_check(const void *buf, size_t len,
                                   dkv__drain_info_t *info_p);

#endif
