/*
 * fuzz_wire: libFuzzer target for the wire decoder. The input is an AM
 * header as it would arrive from the network; its first byte also picks the
 * data-part length the transport would report. dkv__wire_unpack must never
 * crash, read out of bounds or accept a message that breaks its own rules.
 * The same bytes are also fed, as a data part, to the staging payload
 * parsers (LIST_REPLY entries, DRAIN request, DRAIN_REPLY info) and to the
 * fence's dead-rank set parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "stage_wire.h"
#include "wire.h"

#define SECRET 0x5ec2e7ull

/* The staging payloads of @p len bytes at @p buf: parse, never overrun. */
static void fuzz_payloads(const uint8_t *buf, size_t len)
{
    dkv__drain_req_t  req;
    dkv__drain_info_t info;
    const char       *path, *key;
    const uint8_t    *dead;
    size_t            pos = 0, key_len, total = 0;
    uint64_t          vsize;
    int               rc;

    while ((rc = dkv__list_entry_next(buf, len, &pos, &key, &key_len,
                                      &vsize)) == 1) {
        if ((key_len == 0) || (key_len > DKV_KEY_MAX) || (pos > len) ||
            (key < (const char *)buf) || (key + key_len > (const char *)buf + len)) {
            abort();
        }
        total += key_len;
    }
    if ((rc == 0) && (pos != len)) {
        abort();
    }
    if ((dkv__drain_req_parse(buf, len, &req, &path, &dead) == DKV_OK) &&
        ((sizeof(req) + req.path_len + req.dead_len != len) ||
         (req.index >= req.nfiles) || ((dead == NULL) != (req.dead_len == 0)))) {
        abort();
    }
    if ((dkv__drain_info_check(buf, len, &info) == DKV_OK) &&
        ((info.bytes_written > info.bytes_total) || (info.done > 1))) {
        abort();
    }
    (void)total;
}

static dkv_status_t no_send(void *arg, int to, const dkv__agree_msg_t *m)
{
    abort(); /* receiving never sends */
}

static int no_death(void *arg, int who)
{
    return 0;
}

/* The data part of a VOTE or DECIDE: ascending ranks, all members; and the
 * whole message recorded by a fence in progress and by an idle one. */
static void fuzz_rank_set(const uint8_t *hdr_bytes, size_t hdr_len,
                          const uint8_t *buf, size_t len)
{
    static const int        members[] = {0, 1, 2, 5, 7, 8, 64, 1000};
    static dkv__agree_t     a[2];
    static int              ready;
    const dkv__agree_ops_t  ops = {no_send, no_death, NULL, NULL};
    uint32_t                idx[sizeof(members) / sizeof(members[0])];
    uint8_t                 f[16] = {0};
    uint64_t                epoch;
    int32_t                 verdict;
    size_t                  k;

    if (!ready) {
        for (k = 0; k < 2; k++) {
            if (dkv__agree_init(&a[k], members, 8, 3, &ops) != DKV_OK) {
                abort();
            }
        }
        (void)dkv__agree_begin(&a[0], DKV_OK, 0, 1000, 1000);
        ready = 1;
    }
    memcpy(f, hdr_bytes, (hdr_len < sizeof(f)) ? hdr_len : sizeof(f));
    memcpy(&epoch, f + 4, sizeof(epoch));
    memcpy(&verdict, f + 12, sizeof(verdict));
    for (k = 0; k < 2; k++) {
        (void)dkv__agree_recv(&a[k], members[f[0] % 8], f[1] % 4, f[2] & 0xf,
                              epoch % 64, verdict, buf, len);
    }

    if (dkv__agree_parse_set(members, 8, buf, len, idx) == 0) {
        if ((len % 4 != 0) || (len / 4 > 8)) {
            abort();
        }
        for (k = 0; k < len / 4; k++) {
            if ((idx[k] >= 8) || ((k > 0) && (idx[k] <= idx[k - 1]))) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t lengths[] = {0, 1, 64, 4096, 1ull << 40};
    dkv__wire_hdr_t     hdr;
    const char         *key = NULL, *why = NULL;
    size_t              data_len;
    uint8_t            *copy;

    if (size == 0) {
        return 0;
    }
    data_len = lengths[data[0] % 5];
    /* An exact-size heap copy, so ASan sees any read past the end. */
    copy = malloc(size - 1 + 1);
    memcpy(copy, data + 1, size - 1);
    if (dkv__wire_unpack(copy, size - 1, data_len, SECRET, &hdr, &key, &why) ==
        DKV_OK) {
        if (hdr.key_len > DKV_KEY_MAX) {
            abort();
        }
        if (dkv__wire_kind_has_key(hdr.kind) &&
            ((key == NULL) || (strlen(key) != hdr.key_len))) {
            abort();
        }
        if (((hdr.flags & DKV__WIRE_FLAG_EXT)
                 ? dkv__wire_header_size_ext(hdr.key_len)
                 : dkv__wire_header_size(hdr.key_len)) != size - 1) {
            abort();
        }
        if (hdr.flags & ~dkv__wire_kind_flags(hdr.kind)) {
            abort();
        }
        {
            dkv__wire_ext_t ext; /* read in bounds; its rules hold */

            dkv__wire_ext(copy, &hdr, &ext);
            if ((ext.mode > DKV__WIRE_GEN_MAX) ||
                (ext.offset > DKV__WIRE_VALUE_MAX)) {
                abort();
            }
        }
    } else if (why == NULL) {
        abort();
    }
    fuzz_payloads(copy, size - 1);
    fuzz_rank_set(data, size, copy, size - 1);
    free(copy);
    return 0;
}
