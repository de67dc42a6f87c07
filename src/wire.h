/*
 * wire: the message header of every dramkv active message. Pure.
 *
 * Layout of an AM header: dkv__wire_hdr_t (56 bytes, host byte order:
 * dramkv jobs are homogeneous) followed, for keyed kinds, by the key and a
 * terminating NUL. The AM data part carries the value (PUT, GET_REPLY) and
 * nothing otherwise. The CRC32C covers the 52 header bytes before it.
 * Every field is validated by dkv__wire_unpack() before it is used.
 */
#ifndef DKV_WIRE_H
#define DKV_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

#define DKV__WIRE_MAGIC   0x314b5644u /* "DVK1" read little-endian */
#define DKV__WIRE_VERSION 2
/* Largest value length accepted on the wire (2^48 bytes). */
#define DKV__WIRE_VALUE_MAX (1ull << 48)

/* The value's CRC32C is in aux (PUT, GET_REPLY, PUT_COMMIT only;
 * DKV_CHECKSUM=1). */
#define DKV__WIRE_FLAG_VCRC 0x1u
/*
 * Node-local bulk path (client and holder on one node): the value moves by
 * one process_vm_writev/readv of the client, not through UCX. On PUT and
 * GET requests: "I can copy myself" (PUT: no data part; value_len is the
 * size to reserve). On a GET_REPLY: the data part is a dkv__wire_local_t
 * naming where the pinned value is; value_len is the value's size.
 */
#define DKV__WIRE_FLAG_LOCAL 0x2u

/*
 * Key/value semantics (issue 14): a dkv__wire_ext_t follows the key (or,
 * for keyless kinds, the header). Allowed on PUT, GET, DELETE and their
 * replies (PUT_ACK, GET_REPLY, DELETE_ACK).
 *   GET        offset/length: the byte range asked for (length
 *              DKV__WIRE_LEN_ALL: to the end).
 *   GET_REPLY  generation read; length: the value's full size; offset: the
 *              first byte in the data part (which holds at most the range).
 *   PUT        mode: DKV__WIRE_GEN_*; generation: the proposal or the
 *              decided generation (FOLLOW).
 *   DELETE     FOLLOW: a replica's copy of a decided delete of the value
 *              of that generation: removes only values no newer.
 *   *_ACK      generation of the value stored (PUT) or of the current one
 *              (a failed condition); 0: absent.
 */
#define DKV__WIRE_FLAG_EXT 0x20u
/* PUT, DELETE (with EXT): apply only if the key's generation equals
 * ext.if_generation (0: only if the key is absent). */
#define DKV__WIRE_FLAG_COND 0x40u

#define DKV__WIRE_LEN_ALL UINT64_MAX

/* How a PUT's generation is chosen (ext.mode). */
enum {
    DKV__WIRE_GEN_NEW    = 0, /* the holder's next, >= ext.generation */
    DKV__WIRE_GEN_FOLLOW = 1, /* PUT, DELETE: exactly ext.generation,
                                 chosen by the key's first copy; applied
                                 only if not older than the key's current
                                 generation */
    DKV__WIRE_GEN_MAX    = 1
};

typedef struct dkv__wire_ext {
    uint64_t generation;
    uint64_t if_generation; /* with DKV__WIRE_FLAG_COND */
    uint64_t offset;
    uint64_t length;
    uint32_t mode;          /* DKV__WIRE_GEN_* */
    uint32_t reserved;      /* 0 */
} dkv__wire_ext_t;

_Static_assert(sizeof(dkv__wire_ext_t) == 40, "wire extension size");

/* Where a holder's value (or reserved room for one) is, in its memory. */
typedef struct dkv__wire_local {
    uint64_t addr;    /* address in the holder process */
    uint32_t crc;     /* the value's CRC32C, if has_crc */
    uint32_t has_crc;
} dkv__wire_local_t;

_Static_assert(sizeof(dkv__wire_local_t) == 16, "local descriptor size");
/* Fence agreement (agree.h): a vote past the voter's deadline, a vote that
 * carries a proposal the voter holds, a decision sent to a backup. */
#define DKV__WIRE_FLAG_VETO    0x4u /* VOTE */
#define DKV__WIRE_FLAG_HELD    0x8u /* VOTE */
#define DKV__WIRE_FLAG_PROPOSE 0x10u /* DECIDE */

/* Message kinds; each is also the UCX AM id. */
typedef enum {
    DKV__MSG_PUT        = 1, /* client -> holder: key, value        */
    DKV__MSG_PUT_ACK    = 2, /* holder -> client: status            */
    DKV__MSG_GET        = 3, /* client -> holder: key               */
    DKV__MSG_GET_REPLY  = 4, /* holder -> client: status, value     */
    DKV__MSG_DELETE     = 5, /* client -> holder: key               */
    DKV__MSG_DELETE_ACK = 6, /* holder -> client: status            */
    DKV__MSG_VOTE       = 7, /* member -> fence coordinator: aux =
                                epoch, status = verdict, value = dead
                                ranks (uint32, ascending)           */
    DKV__MSG_BYE        = 8, /* client -> dedicated holder's client */
    DKV__MSG_LIST       = 9, /* client -> holder: value = key prefix  */
    DKV__MSG_LIST_REPLY = 10,/* holder -> client: status, value =
                                packed (key, size) entries          */
    DKV__MSG_DRAIN      = 11,/* client -> holder: aux = drain id,
                                value = drain request (stage_wire.h) */
    DKV__MSG_DRAIN_QUERY = 12,/* client -> holder: aux = drain id     */
    DKV__MSG_DRAIN_REPLY = 13,/* holder -> client: status, value =
                                drain progress (stage_wire.h)       */
    DKV__MSG_HELLO      = 14,/* client -> any worker, first message on
                                a new endpoint: aux = sender's pid,
                                value = sender's client worker address,
                                so the receiver connects back itself */
    DKV__MSG_PUT_GRANT  = 15,/* holder -> client: status; value = the
                                dkv__wire_local_t of the room reserved
                                for a LOCAL put                      */
    DKV__MSG_PUT_COMMIT = 16,/* client -> holder: req_id of a granted
                                put; status DKV_OK: the value is
                                written, publish it; else drop it    */
    DKV__MSG_RELEASE    = 17,/* client -> holder: req_id of a LOCAL get
                                reply: done reading, unpin           */
    DKV__MSG_DRAIN_DONE = 18,/* holder -> committing holder (server
                                workers): aux = drain id, value = the
                                sender's final drain info; no reply   */
    DKV__MSG_DECIDE     = 19,/* coordinator -> member: aux = epoch,
                                status = decision, value = dead ranks */
    DKV__MSG_DECIDE_ACK = 20,/* backup -> coordinator: aux = epoch     */
    DKV__MSG_KIND_MAX   = 20
} dkv__msg_kind_t;

typedef struct dkv__wire_hdr {
    uint32_t magic;
    uint8_t  version;
    uint8_t  kind;      /* dkv__msg_kind_t */
    uint16_t flags;     /* DKV__WIRE_FLAG_*; others must be 0 */
    uint32_t key_len;   /* key bytes after the header, NUL not counted */
    int32_t  status;    /* dkv_status_t (replies, barrier verdict) */
    uint64_t req_id;    /* matches a reply to its request */
    uint64_t value_len; /* value bytes in the AM data part */
    uint64_t secret;    /* job secret agreed at init */
    uint64_t aux;       /* fence: epoch; with VCRC: the value's CRC32C */
    uint32_t sender;    /* sender's rank */
    uint32_t crc;       /* CRC32C of the bytes above */
} dkv__wire_hdr_t;

_Static_assert(sizeof(dkv__wire_hdr_t) == 56, "wire header is 56 bytes");

/* A keyless message header followed by its extension (replies). */
typedef struct dkv__wire_hdr_ext {
    dkv__wire_hdr_t hdr;
    dkv__wire_ext_t ext;
} dkv__wire_hdr_ext_t;

_Static_assert(sizeof(dkv__wire_hdr_ext_t) == 96, "no padding");

/* 1 for kinds that carry a key (PUT, GET, DELETE). */
int dkv__wire_kind_has_key(unsigned kind);
/* 1 for kinds that carry a value in the data part (PUT, GET_REPLY, LIST,
 * LIST_REPLY, DRAIN, DRAIN_REPLY, HELLO, PUT_GRANT, DRAIN_DONE, VOTE,
 * DECIDE). */
int dkv__wire_kind_has_value(unsigned kind);
/* The DKV__WIRE_FLAG_* a kind may carry. */
unsigned dkv__wire_kind_flags(unsigned kind);

/* Bytes of the AM header for a key of @p key_len (0 for keyless kinds). */
static inline size_t dkv__wire_header_size(size_t key_len)
{
    return sizeof(dkv__wire_hdr_t) + ((key_len > 0) ? key_len + 1 : 0);
}

/* The same with the extension (DKV__WIRE_FLAG_EXT). */
static inline size_t dkv__wire_header_size_ext(size_t key_len)
{
    return dkv__wire_header_size(key_len) + sizeof(dkv__wire_ext_t);
}

/*
 * Write the AM header into @p out (room for dkv__wire_header_size(key_len)).
 * Copies @p fields (flags included), sets magic, version, key_len and crc,
 * then
 * appends the key and its NUL when @p key_len > 0.
 * @return bytes written.
 */
size_t dkv__wire_pack(void *out, const dkv__wire_hdr_t *fields,
                      const char *key, size_t key_len);

/*
 * dkv__wire_pack() with the extension @p ext after the key; sets
 * DKV__WIRE_FLAG_EXT. Room: dkv__wire_header_size_ext(key_len).
 */
size_t dkv__wire_pack_ext(void *out, const dkv__wire_hdr_t *fields,
                          const char *key, size_t key_len,
                          const dkv__wire_ext_t *ext);

/*
 * The extension of a header that dkv__wire_unpack() accepted (@p buf as
 * given to it): copied out, or all zero (length DKV__WIRE_LEN_ALL) when
 * the message has none.
 */
void dkv__wire_ext(const void *buf, const dkv__wire_hdr_t *hdr,
                   dkv__wire_ext_t *ext_p);

/*
 * Validate an AM header of @p len bytes whose data part has @p data_len
 * bytes, sent with @p secret. Checks, in order: length >= header, magic,
 * version, kind, crc, flags (only the kind's), secret, status known, key
 * presence and length (1..DKV_KEY_MAX, exact header length - with the
 * extension when flagged - NUL at the end, no NUL inside), the extension's
 * fields (mode known, reserved 0, offset <= DKV__WIRE_VALUE_MAX, COND only
 * with EXT), value_len <= DKV__WIRE_VALUE_MAX, value_len == data_len for
 * kinds with a value and 0 == value_len == data_len otherwise (except
 * GET_REPLY with an error status: value_len and data_len must both be 0),
 * and for VOTE and DECIDE a whole number of ranks (value_len % 4 == 0).
 * On DKV_OK copies the header to @p hdr_p and points @p key_p into @p buf
 * (NULL for keyless kinds). Returns DKV_OK or DKV_ERR_PROTOCOL and then
 * writes a short reason to @p why_p (static string).
 */
dkv_status_t dkv__wire_unpack(const void *buf, size_t len, size_t data_len,
                              uint64_t secret, dkv__wire_hdr_t *hdr_p,
                              const char **key_p, const char **why_p);

#endif
