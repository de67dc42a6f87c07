/*
 * wire: packs and checks the fixed 56-byte header of every dramkv active
 * message, followed for keyed kinds by the key and its NUL.
 *
 * Unpack trusts nothing: it copies the header out of the (possibly
 * unaligned) buffer and checks every field in the order documented in
 * wire.h, stopping at the first failure with a short static reason, so a
 * malformed or foreign message is rejected before any field is used. The
 * CRC guards the header only; values are not checksummed. Pure; any thread.
 */
#include "wire.h"

#include <string.h>

#include "crc32c.h"
#include "status.h"

#define DKV__WIRE_CRC_BYTES offsetof(dkv__wire_hdr_t, crc)

_Static_assert(DKV__WIRE_CRC_BYTES == 52, "crc covers the first 52 bytes");

int dkv__wire_kind_has_key(unsigned kind)
{
    return (kind == DKV__MSG_PUT) || (kind == DKV__MSG_GET) ||
           (kind == DKV__MSG_DELETE);
}

int dkv__wire_kind_has_value(unsigned kind)
{
    return (kind == DKV__MSG_PUT) || (kind == DKV__MSG_GET_REPLY) ||
           (kind == DKV__MSG_LIST) || (kind == DKV__MSG_LIST_REPLY) ||
           (kind == DKV__MSG_DRAIN) || (kind == DKV__MSG_DRAIN_REPLY) ||
           (kind == DKV__MSG_HELLO) || (kind == DKV__MSG_PUT_GRANT) ||
           (kind == DKV__MSG_DRAIN_DONE) || (kind == DKV__MSG_VOTE) ||
           (kind == DKV__MSG_DECIDE);
}

unsigned dkv__wire_kind_flags(unsigned kind)
{
    switch (kind) {
    case DKV__MSG_PUT:
        return DKV__WIRE_FLAG_VCRC | DKV__WIRE_FLAG_LOCAL |
               DKV__WIRE_FLAG_EXT | DKV__WIRE_FLAG_COND;
    case DKV__MSG_GET_REPLY:
        return DKV__WIRE_FLAG_VCRC | DKV__WIRE_FLAG_LOCAL | DKV__WIRE_FLAG_EXT;
    case DKV__MSG_PUT_COMMIT:
        return DKV__WIRE_FLAG_VCRC;
    case DKV__MSG_GET:
        return DKV__WIRE_FLAG_LOCAL | DKV__WIRE_FLAG_EXT;
    case DKV__MSG_DELETE:
        return DKV__WIRE_FLAG_EXT | DKV__WIRE_FLAG_COND;
    case DKV__MSG_PUT_ACK:
    case DKV__MSG_DELETE_ACK:
        return DKV__WIRE_FLAG_EXT;
    case DKV__MSG_VOTE:
        return DKV__WIRE_FLAG_VETO | DKV__WIRE_FLAG_HELD;
    case DKV__MSG_DECIDE:
        return DKV__WIRE_FLAG_PROPOSE;
    default:
        return 0;
    }
}

static uint32_t header_crc(const dkv__wire_hdr_t *hdr)
{
    return dkv__crc32c(0, hdr, DKV__WIRE_CRC_BYTES);
}

size_t dkv__wire_pack_ext(void *out, const dkv__wire_hdr_t *fields,
                          const char *key, size_t key_len,
                          const dkv__wire_ext_t *ext)
{
    dkv__wire_hdr_t with = *fields;
    size_t          len;

    with.flags |= DKV__WIRE_FLAG_EXT;
    len = dkv__wire_pack(out, &with, key, key_len);
    memcpy((char *)out + len, ext, sizeof(*ext));
    return len + sizeof(*ext);
}

void dkv__wire_ext(const void *buf, const dkv__wire_hdr_t *hdr,
                   dkv__wire_ext_t *ext_p)
{
    if (!(hdr->flags & DKV__WIRE_FLAG_EXT)) {
        memset(ext_p, 0, sizeof(*ext_p));
        ext_p->length = DKV__WIRE_LEN_ALL;
        return;
    }
    memcpy(ext_p, (const char *)buf + dkv__wire_header_size(hdr->key_len),
           sizeof(*ext_p));
}

size_t dkv__wire_pack(void *out, const dkv__wire_hdr_t *fields, const char *key,
                      size_t key_len)
{
    dkv__wire_hdr_t hdr = *fields;
    char *key_out       = (char *)out + sizeof(hdr);

    hdr.magic   = DKV__WIRE_MAGIC;
    hdr.version = DKV__WIRE_VERSION;
    hdr.key_len = (uint32_t)key_len;
    hdr.crc     = header_crc(&hdr);
    memcpy(out, &hdr, sizeof(hdr));
    if (key_len > 0) {
        memcpy(key_out, key, key_len);
        key_out[key_len] = '\0';
    }
    return dkv__wire_header_size(key_len);
}

/* Magic, version, kind, crc, flags, secret, status: the fixed fields. */
static const char *check_fixed(const dkv__wire_hdr_t *hdr, uint64_t secret)
{
    if (hdr->magic != DKV__WIRE_MAGIC) {
        return "bad magic";
    }
    if (hdr->version != DKV__WIRE_VERSION) {
        return "bad version";
    }
    if ((hdr->kind < DKV__MSG_PUT) || (hdr->kind > DKV__MSG_KIND_MAX)) {
        return "unknown kind";
    }
    if (hdr->crc != header_crc(hdr)) {
        return "bad crc";
    }
    if ((hdr->flags & ~dkv__wire_kind_flags(hdr->kind)) ||
        ((hdr->flags & DKV__WIRE_FLAG_COND) &&
         !(hdr->flags & DKV__WIRE_FLAG_EXT))) {
        return "bad flags";
    }
    if (hdr->secret != secret) {
        return "bad secret";
    }
    if (!dkv__status_is_known(hdr->status)) {
        return "unknown status";
    }
    return NULL;
}

/* Key presence, length, the header's exact size and the key's NULs. */
static const char *check_key(const dkv__wire_hdr_t *hdr, const char *buf,
                             size_t len)
{
    const char *key = buf + sizeof(*hdr);
    size_t      ext = (hdr->flags & DKV__WIRE_FLAG_EXT)
                          ? sizeof(dkv__wire_ext_t)
                          : 0;

    if (!dkv__wire_kind_has_key(hdr->kind)) {
        if (hdr->key_len != 0) {
            return "bad key length";
        }
        return (len == sizeof(*hdr) + ext) ? NULL : "bad header length";
    }
    if ((hdr->key_len == 0) || (hdr->key_len > DKV_KEY_MAX)) {
        return "bad key length";
    }
    if (len != dkv__wire_header_size(hdr->key_len) + ext) {
        return "bad header length";
    }
    if (key[hdr->key_len] != '\0') {
        return "key not terminated";
    }
    if (memchr(key, '\0', hdr->key_len) != NULL) {
        return "key has embedded nul";
    }
    return NULL;
}

/* The extension's fields, when there is one. */
static const char *check_ext(const dkv__wire_hdr_t *hdr, const char *buf)
{
    dkv__wire_ext_t ext;

    dkv__wire_ext(buf, hdr, &ext);
    if (!(hdr->flags & DKV__WIRE_FLAG_EXT)) {
        return NULL;
    }
    if ((ext.mode > DKV__WIRE_GEN_MAX) || (ext.reserved != 0)) {
        return "bad extension";
    }
    if (ext.offset > DKV__WIRE_VALUE_MAX) {
        return "bad range";
    }
    /* A reply's length is the value's size, bounded like value_len. */
    if ((hdr->kind != DKV__MSG_GET) && (ext.length != DKV__WIRE_LEN_ALL) &&
        (ext.length > DKV__WIRE_VALUE_MAX)) {
        return "bad range";
    }
    if ((ext.mode == DKV__WIRE_GEN_FOLLOW) &&
        (((hdr->kind != DKV__MSG_PUT) && (hdr->kind != DKV__MSG_DELETE)) ||
         (ext.generation == 0) ||
         (hdr->flags & DKV__WIRE_FLAG_COND))) {
        return "bad extension";
    }
    return NULL;
}

/* Value length against the limit and against the data part. */
static const char *check_value(const dkv__wire_hdr_t *hdr, size_t data_len)
{
    int has_value = dkv__wire_kind_has_value(hdr->kind);

    if (hdr->value_len > DKV__WIRE_VALUE_MAX) {
        return "value too long";
    }
    /* An error reply carries no value. */
    if (((hdr->kind == DKV__MSG_GET_REPLY) ||
         (hdr->kind == DKV__MSG_PUT_GRANT)) && (hdr->status != DKV_OK)) {
        has_value = 0;
    }
    if (hdr->flags & DKV__WIRE_FLAG_LOCAL) {
        /* The value itself does not travel: a LOCAL put reserves
         * value_len bytes, a LOCAL get reply carries its descriptor. */
        if (hdr->kind == DKV__MSG_PUT) {
            return (data_len == 0) ? NULL : "value length mismatch";
        }
        if (has_value && (hdr->kind == DKV__MSG_GET_REPLY)) {
            return (data_len == sizeof(dkv__wire_local_t))
                       ? NULL
                       : "bad local descriptor";
        }
    }
    if (has_value) {
        if (hdr->value_len != data_len) {
            return "value length mismatch";
        }
        if (((hdr->kind == DKV__MSG_VOTE) || (hdr->kind == DKV__MSG_DECIDE)) &&
            (hdr->value_len % sizeof(uint32_t) != 0)) {
            return "bad rank list";
        }
        return NULL;
    }
    if ((hdr->value_len != 0) || (data_len != 0)) {
        return "value length mismatch";
    }
    return NULL;
}

dkv_status_t dkv__wire_unpack(const void *buf, size_t len, size_t data_len,
                              uint64_t secret, dkv__wire_hdr_t *hdr_p,
                              const char **key_p, const char **why_p)
{
    dkv__wire_hdr_t hdr;
    const char *why;

    if ((buf == NULL) || (len < sizeof(hdr))) {
        why = "short header";
        goto err_reject;
    }
    memcpy(&hdr, buf, sizeof(hdr));
    why = check_fixed(&hdr, secret);
    if (why == NULL) {
        why = check_key(&hdr, buf, len);
    }
    if (why == NULL) {
        why = check_ext(&hdr, buf);
    }
    if (why == NULL) {
        why = check_value(&hdr, data_len);
    }
    if (why != NULL) {
        goto err_reject;
    }
    *hdr_p = hdr;
    *key_p = (hdr.key_len > 0) ? (const char *)buf + sizeof(hdr) : NULL;
    return DKV_OK;

err_reject:
    if (why_p != NULL) {
        *why_p = why;
    }
    return DKV_ERR_PROTOCOL;
}
