/*
 * Unit tests for src/wire.c: pack/unpack round trip of every kind, each
 * malformed field rejected with its own reason (in the documented order),
 * outputs untouched on rejection, unaligned buffers, and two seeded fuzz
 * loops (random bytes; mutations of valid messages) that must never crash
 * and must only accept messages that satisfy every rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"
#include "unit_rng.h"
#include "wire.h"

#define SECRET 0x5EC12E7ull
#define BUFSZ (sizeof(dkv__wire_hdr_ext_t) + DKV_KEY_MAX + 64)

/* A packed message and the data length it claims to come with. */
typedef struct {
    unsigned char buf[BUFSZ];
    size_t len;
    size_t data_len;
} msg_t;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    return unit_rng_next(&rng_state);
}

static void make_msg(msg_t *m, unsigned kind, const char *key,
                     uint64_t value_len, int32_t status)
{
    dkv__wire_hdr_t fields;
    size_t key_len = (key != NULL) ? strlen(key) : 0;

    memset(&fields, 0, sizeof(fields));
    fields.kind      = (uint8_t)kind;
    fields.status    = status;
    fields.req_id    = 0x1122334455667788ull;
    fields.value_len = value_len;
    fields.secret    = SECRET;
    fields.aux       = (5ull << 8) | 3;
    fields.sender    = 17;
    memset(m->buf, 0xA5, sizeof(m->buf));
    m->len      = dkv__wire_pack(m->buf, &fields, key, key_len);
    m->data_len = (size_t)value_len;
}

static void get_hdr(const msg_t *m, dkv__wire_hdr_t *hdr)
{
    memcpy(hdr, m->buf, sizeof(*hdr));
}

/* Write @p hdr back and recompute its CRC, as a sender would. */
static void put_hdr_signed(msg_t *m, dkv__wire_hdr_t *hdr)
{
    hdr->crc = dkv__crc32c(0, hdr, offsetof(dkv__wire_hdr_t, crc));
    memcpy(m->buf, hdr, sizeof(*hdr));
}

static const char *unpack_why(const msg_t *m)
{
    dkv__wire_hdr_t hdr;
    const char *key = (const char *)0x1;
    const char *why = NULL;

    memset(&hdr, 0x77, sizeof(hdr));
    assert_int_equal(
        dkv__wire_unpack(m->buf, m->len, m->data_len, SECRET, &hdr, &key, &why),
        DKV_ERR_PROTOCOL);
    /* Outputs are written only on success. */
    assert_ptr_equal(key, (const char *)0x1);
    assert_int_equal(hdr.magic, 0x77777777u);
    assert_non_null(why);
    return why;
}

static void test_kind_predicates(void **state)
{
    unsigned kind;

    for (kind = 0; kind < 20; kind++) {
        assert_int_equal(dkv__wire_kind_has_key(kind),
                         (kind == DKV__MSG_PUT) || (kind == DKV__MSG_GET) ||
                             (kind == DKV__MSG_DELETE));
        assert_int_equal(dkv__wire_kind_has_value(kind),
                         (kind == DKV__MSG_PUT) ||
                             (kind == DKV__MSG_GET_REPLY) ||
                             (kind == DKV__MSG_LIST) ||
                             (kind == DKV__MSG_LIST_REPLY) ||
                             (kind == DKV__MSG_DRAIN) ||
                             (kind == DKV__MSG_HELLO) ||
                             (kind == DKV__MSG_PUT_GRANT) ||
                             (kind == DKV__MSG_DRAIN_REPLY) ||
                             (kind == DKV__MSG_DRAIN_DONE) ||
                             (kind == DKV__MSG_VOTE) ||
                             (kind == DKV__MSG_DECIDE));
        assert_int_equal(!!(dkv__wire_kind_flags(kind) & DKV__WIRE_FLAG_EXT),
                         (kind == DKV__MSG_PUT) || (kind == DKV__MSG_GET) ||
                             (kind == DKV__MSG_DELETE) ||
                             (kind == DKV__MSG_PUT_ACK) ||
                             (kind == DKV__MSG_GET_REPLY) ||
                             (kind == DKV__MSG_DELETE_ACK));
        assert_int_equal(!!(dkv__wire_kind_flags(kind) & DKV__WIRE_FLAG_COND),
                         (kind == DKV__MSG_PUT) || (kind == DKV__MSG_DELETE));
        assert_int_equal(dkv__wire_kind_flags(kind) &
                             ~(DKV__WIRE_FLAG_EXT | DKV__WIRE_FLAG_COND),
                         (kind == DKV__MSG_VOTE)
                             ? (DKV__WIRE_FLAG_VETO | DKV__WIRE_FLAG_HELD)
                         : (kind == DKV__MSG_DECIDE)
                             ? DKV__WIRE_FLAG_PROPOSE
                         : ((kind == DKV__MSG_PUT) ||
                            (kind == DKV__MSG_GET_REPLY))
                             ? (DKV__WIRE_FLAG_VCRC | DKV__WIRE_FLAG_LOCAL)
                         : (kind == DKV__MSG_PUT_COMMIT)
                             ? DKV__WIRE_FLAG_VCRC
                         : (kind == DKV__MSG_GET) ? DKV__WIRE_FLAG_LOCAL
                                                  : 0u);
    }
}

static void test_pack_layout(void **state)
{
    dkv__wire_hdr_t fields;
    dkv__wire_hdr_t hdr;
    unsigned char buf[BUFSZ];

    memset(&fields, 0xEE, sizeof(fields)); /* garbage in fixed fields */
    fields.kind  = DKV__MSG_GET;
    fields.flags = 0; /* flags are the caller's: copied as they are */
    assert_int_equal(dkv__wire_pack(buf, &fields, "abc", 3), 56 + 4);
    memcpy(&hdr, buf, sizeof(hdr));
    assert_int_equal(hdr.magic, DKV__WIRE_MAGIC);
    assert_memory_equal(buf, "DVK1", 4);
    assert_int_equal(hdr.version, DKV__WIRE_VERSION);
    assert_int_equal(hdr.flags, 0);
    assert_int_equal(hdr.key_len, 3);
    assert_int_equal(hdr.crc, dkv__crc32c(0, buf, 52));
    assert_memory_equal(buf + 56, "abc", 4);
    assert_int_equal(dkv__wire_header_size(0), 56);
    assert_int_equal(dkv__wire_header_size(3), 60);
}

static void check_round_trip(unsigned kind, int32_t status, uint64_t value_len,
                             size_t align)
{
    static unsigned char space[BUFSZ + 8];
    const char *key_in = dkv__wire_kind_has_key(kind) ? "some/key.42" : NULL;
    unsigned char *buf = space + align;
    dkv__wire_hdr_t fields;
    dkv__wire_hdr_t hdr;
    const char *key;
    const char *why = NULL;
    size_t len;

    memset(&fields, 0, sizeof(fields));
    fields.kind      = (uint8_t)kind;
    fields.status    = status;
    fields.req_id    = 99;
    fields.value_len = value_len;
    fields.secret    = SECRET;
    fields.aux       = 0xABCDEF;
    fields.sender    = 3;
    len              = dkv__wire_pack(buf, &fields, key_in,
                         (key_in != NULL) ? strlen(key_in) : 0);
    assert_int_equal(
        dkv__wire_unpack(buf, len, (size_t)value_len, SECRET, &hdr, &key, &why),
        DKV_OK);
    assert_null(why);
    assert_int_equal(hdr.kind, kind);
    assert_int_equal(hdr.status, status);
    assert_int_equal(hdr.req_id, 99);
    assert_int_equal(hdr.value_len, value_len);
    assert_int_equal(hdr.aux, 0xABCDEF);
    assert_int_equal(hdr.sender, 3);
    if (key_in == NULL) {
        assert_null(key);
        assert_int_equal(hdr.key_len, 0);
        assert_int_equal(len, 56);
    } else {
        assert_ptr_equal(key, (const char *)buf + 56);
        assert_string_equal(key, key_in);
        assert_int_equal(hdr.key_len, strlen(key_in));
    }
}

static void test_round_trip_every_kind(void **state)
{
    unsigned kind;
    size_t align;

    for (align = 0; align < 8; align++) {
        for (kind = 1; kind <= DKV__MSG_KIND_MAX; kind++) {
            check_round_trip(kind, DKV_OK,
                             dkv__wire_kind_has_value(kind) ? 1000 : 0, align);
        }
    }
    /* Values of 0 bytes, and the largest allowed length. */
    check_round_trip(DKV__MSG_PUT, DKV_OK, 0, 0);
    check_round_trip(DKV__MSG_GET_REPLY, DKV_OK, DKV__WIRE_VALUE_MAX, 0);
    /* Replies and barriers carry any known status. */
    check_round_trip(DKV__MSG_PUT_ACK, DKV_ERR_NO_SPACE, 0, 0);
    check_round_trip(DKV__MSG_VOTE, DKV_ERR_CORRUPT, 0, 0);
    check_round_trip(DKV__MSG_DECIDE, DKV_ERR_TIMEOUT, 8, 0);
    check_round_trip(DKV__MSG_GET_REPLY, DKV_ERR_NOT_FOUND, 0, 0);
}

static void test_key_lengths(void **state)
{
    char key[DKV_KEY_MAX + 1];
    msg_t m;
    dkv__wire_hdr_t hdr;
    const char *k;
    const char *why;

    memset(key, 'k', DKV_KEY_MAX);
    key[DKV_KEY_MAX] = '\0';
    make_msg(&m, DKV__MSG_DELETE, key, 0, DKV_OK);
    assert_int_equal(m.len, 56 + DKV_KEY_MAX + 1);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &hdr, &k, &why),
                     DKV_OK);
    assert_int_equal(strlen(k), DKV_KEY_MAX);

    make_msg(&m, DKV__MSG_GET, "k", 0, DKV_OK);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &hdr, &k, &why),
                     DKV_OK);
    assert_string_equal(k, "k");
}

static void test_short_header(void **state)
{
    msg_t m;
    size_t len;

    make_msg(&m, DKV__MSG_PUT_ACK, NULL, 0, DKV_OK);
    for (len = 0; len < sizeof(dkv__wire_hdr_t); len++) {
        m.len = len;
        assert_string_equal(unpack_why(&m), "short header");
    }
    assert_int_equal(dkv__wire_unpack(NULL, 56, 0, SECRET, NULL, NULL, NULL),
                     DKV_ERR_PROTOCOL);
}

static void test_bad_magic_version_kind(void **state)
{
    static const unsigned bad_kinds[] = {0, DKV__MSG_KIND_MAX + 1,
                                         DKV__MSG_KIND_MAX + 2, 100, 255};
    dkv__wire_hdr_t hdr;
    msg_t m;
    size_t i;

    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    m.buf[3] ^= 0x01;
    assert_string_equal(unpack_why(&m), "bad magic");

    /* A re-signed header still fails on the field itself. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.magic = 0;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad magic");

    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.version = DKV__WIRE_VERSION + 1;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad version");
    hdr.version = DKV__WIRE_VERSION - 1; /* the dissemination barrier's */
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad version");
    hdr.version = 0;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad version");

    for (i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
        make_msg(&m, DKV__MSG_PUT_ACK, NULL, 0, DKV_OK);
        get_hdr(&m, &hdr);
        hdr.kind = (uint8_t)bad_kinds[i];
        put_hdr_signed(&m, &hdr);
        assert_string_equal(unpack_why(&m), "unknown kind");
    }
}

static void test_bad_crc(void **state)
{
    msg_t m;
    size_t bit;

    /* Every single-bit flip after the kind byte, CRC included. */
    for (bit = 6 * 8; bit < 56 * 8; bit++) {
        make_msg(&m, DKV__MSG_PUT, "key", 10, DKV_OK);
        m.buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_string_equal(unpack_why(&m), "bad crc");
    }
}

/* The node-local bulk flag: which kinds may carry it, and what their data
 * part must then be. */
static void test_local_flag(void **state)
{
    dkv__wire_hdr_t hdr, out;
    const char     *key, *why;
    msg_t           m;

    make_msg(&m, DKV__MSG_DELETE, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = DKV__WIRE_FLAG_LOCAL; /* not on a delete */
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad flags");

    make_msg(&m, DKV__MSG_PUT, "key", 100, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = DKV__WIRE_FLAG_LOCAL; /* a LOCAL put sends no value */
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "value length mismatch");

    make_msg(&m, DKV__MSG_PUT, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags     = DKV__WIRE_FLAG_LOCAL;
    hdr.value_len = 1u << 30; /* reserve 1 GiB, nothing attached */
    put_hdr_signed(&m, &hdr);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &out, &key,
                                      &why),
                     DKV_OK);
    assert_int_equal(out.value_len, 1u << 30);

    make_msg(&m, DKV__MSG_GET_REPLY, NULL, sizeof(dkv__wire_local_t),
             DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags     = DKV__WIRE_FLAG_LOCAL;
    hdr.value_len = 5000;
    put_hdr_signed(&m, &hdr);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, m.data_len, SECRET, &out,
                                      &key, &why),
                     DKV_OK);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 10, SECRET, &out, &key,
                                      &why),
                     DKV_ERR_PROTOCOL);
    assert_string_equal(why, "bad local descriptor");
}

/* Pack @p kind with an extension, re-sign after @p mutate changed it. */
static void make_ext_msg(msg_t *m, unsigned kind, const char *key,
                         uint16_t flags, const dkv__wire_ext_t *ext)
{
    dkv__wire_hdr_t fields;
    size_t          key_len = (key != NULL) ? strlen(key) : 0;

    memset(&fields, 0, sizeof(fields));
    fields.kind   = (uint8_t)kind;
    fields.flags  = flags;
    fields.secret = SECRET;
    fields.sender = 3;
    memset(m->buf, 0xA5, sizeof(m->buf));
    m->len      = dkv__wire_pack_ext(m->buf, &fields, key, key_len, ext);
    m->data_len = 0;
}

static void test_ext(void **state)
{
    dkv__wire_ext_t ext = {.generation    = 7,
                           .if_generation = 5,
                           .offset        = 100,
                           .length        = DKV__WIRE_LEN_ALL};
    dkv__wire_ext_t got;
    dkv__wire_hdr_t hdr, out;
    const char     *key, *why;
    msg_t           m;

    (void)state;
    make_ext_msg(&m, DKV__MSG_GET, "key", 0, &ext);
    assert_int_equal(m.len, dkv__wire_header_size_ext(3));
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &out, &key,
                                      &why),
                     DKV_OK);
    assert_string_equal(key, "key");
    dkv__wire_ext(m.buf, &out, &got);
    assert_memory_equal(&got, &ext, sizeof(ext));

    /* Without the flag, the extension reads as "all of it". */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    dkv__wire_ext(m.buf, &hdr, &got);
    assert_int_equal(got.length, DKV__WIRE_LEN_ALL);
    assert_int_equal(got.generation, 0);

    /* Keyless reply with an extension. */
    make_ext_msg(&m, DKV__MSG_PUT_ACK, NULL, 0, &ext);
    assert_int_equal(m.len, sizeof(dkv__wire_hdr_ext_t));
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &out, &key,
                                      &why),
                     DKV_OK);

    /* The extension must be there when flagged, and only then. */
    assert_int_equal(dkv__wire_unpack(m.buf, m.len - 1, 0, SECRET, &out,
                                      &key, &why),
                     DKV_ERR_PROTOCOL);
    assert_string_equal(why, "bad header length");
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = DKV__WIRE_FLAG_EXT;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad header length");

    /* Not on other kinds; COND only with EXT on PUT/DELETE. */
    make_ext_msg(&m, DKV__MSG_LIST, NULL, 0, &ext);
    assert_string_equal(unpack_why(&m), "bad flags");
    make_ext_msg(&m, DKV__MSG_GET, "key", DKV__WIRE_FLAG_COND, &ext);
    assert_string_equal(unpack_why(&m), "bad flags");
    make_msg(&m, DKV__MSG_PUT, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = DKV__WIRE_FLAG_COND;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad flags");
    make_ext_msg(&m, DKV__MSG_DELETE, "key", DKV__WIRE_FLAG_COND, &ext);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &out, &key,
                                      &why),
                     DKV_OK);

    /* Malformed fields. */
    got          = ext;
    got.mode     = DKV__WIRE_GEN_MAX + 1;
    make_ext_msg(&m, DKV__MSG_PUT, "key", 0, &got);
    assert_string_equal(unpack_why(&m), "bad extension");
    got          = ext;
    got.reserved = 1;
    make_ext_msg(&m, DKV__MSG_PUT, "key", 0, &got);
    assert_string_equal(unpack_why(&m), "bad extension");
    got        = ext;
    got.offset = DKV__WIRE_VALUE_MAX + 1;
    make_ext_msg(&m, DKV__MSG_GET, "key", 0, &got);
    assert_string_equal(unpack_why(&m), "bad range");
    got        = ext;
    got.length = DKV__WIRE_VALUE_MAX + 1;
    make_ext_msg(&m, DKV__MSG_GET_REPLY, NULL, 0, &got);
    assert_string_equal(unpack_why(&m), "bad range");
    got            = ext;
    got.mode       = DKV__WIRE_GEN_FOLLOW;
    got.generation = 0; /* a follower needs the decided generation */
    make_ext_msg(&m, DKV__MSG_PUT, "key", 0, &got);
    assert_string_equal(unpack_why(&m), "bad extension");
    got      = ext;
    got.mode = DKV__WIRE_GEN_FOLLOW;
    make_ext_msg(&m, DKV__MSG_PUT, "key", DKV__WIRE_FLAG_COND, &got);
    assert_string_equal(unpack_why(&m), "bad extension");
    make_ext_msg(&m, DKV__MSG_GET, "key", 0, &got);
    assert_string_equal(unpack_why(&m), "bad extension");
    make_ext_msg(&m, DKV__MSG_DELETE, "key", 0, &got);
    assert_int_equal(dkv__wire_unpack(m.buf, m.len, 0, SECRET, &out, &key,
                                      &why),
                     DKV_OK);
}

static void test_bad_flags_secret_status(void **state)
{
    static const int32_t bad_status[] = {1, 5, -18, -100, INT32_MIN};
    dkv__wire_hdr_t hdr;
    msg_t m;
    size_t i;

    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = 1; /* VCRC on a kind without a value */
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad flags");

    make_msg(&m, DKV__MSG_PUT, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = 4; /* unknown flag */
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad flags");

    make_msg(&m, DKV__MSG_PUT, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.flags = DKV__WIRE_FLAG_VCRC; /* value CRC on a PUT is fine */
    put_hdr_signed(&m, &hdr);
    {
        dkv__wire_hdr_t out;
        const char *key, *why;

        assert_int_equal(dkv__wire_unpack(m.buf, m.len, m.data_len, SECRET,
                                          &out, &key, &why),
                         DKV_OK);
        assert_int_equal(out.flags, DKV__WIRE_FLAG_VCRC);
    }

    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.secret = SECRET + 1;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad secret");

    for (i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
        make_msg(&m, DKV__MSG_PUT_ACK, NULL, 0, DKV_OK);
        get_hdr(&m, &hdr);
        hdr.status = bad_status[i];
        put_hdr_signed(&m, &hdr);
        assert_string_equal(unpack_why(&m), "unknown status");
    }
}

/* The fence's kinds: each flag only where it belongs, ranks whole. */
static void test_fence_kinds(void **state)
{
    static const struct {
        unsigned kind;
        uint16_t flags;
        int      ok;
    } cases[] = {
        {DKV__MSG_VOTE, DKV__WIRE_FLAG_VETO, 1},
        {DKV__MSG_VOTE, DKV__WIRE_FLAG_HELD, 1},
        {DKV__MSG_VOTE, DKV__WIRE_FLAG_VETO | DKV__WIRE_FLAG_HELD, 1},
        {DKV__MSG_VOTE, DKV__WIRE_FLAG_PROPOSE, 0},
        {DKV__MSG_VOTE, DKV__WIRE_FLAG_VCRC, 0},
        {DKV__MSG_DECIDE, DKV__WIRE_FLAG_PROPOSE, 1},
        {DKV__MSG_DECIDE, DKV__WIRE_FLAG_VETO, 0},
        {DKV__MSG_DECIDE, DKV__WIRE_FLAG_VCRC, 0},
        {DKV__MSG_DECIDE_ACK, DKV__WIRE_FLAG_PROPOSE, 0},
        {DKV__MSG_PUT, DKV__WIRE_FLAG_VETO, 0},
        {DKV__MSG_GET_REPLY, DKV__WIRE_FLAG_PROPOSE, 0},
    };
    dkv__wire_hdr_t hdr;
    msg_t m;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *key = dkv__wire_kind_has_key(cases[i].kind) ? "k" : NULL;
        dkv__wire_hdr_t out;
        const char *k, *why = NULL;

        make_msg(&m, cases[i].kind, key,
                 dkv__wire_kind_has_value(cases[i].kind) ? 8 : 0, DKV_OK);
        get_hdr(&m, &hdr);
        hdr.flags = cases[i].flags;
        put_hdr_signed(&m, &hdr);
        if (cases[i].ok) {
            assert_int_equal(dkv__wire_unpack(m.buf, m.len, m.data_len,
                                              SECRET, &out, &k, &why),
                             DKV_OK);
            assert_int_equal(out.flags, cases[i].flags);
        } else {
            assert_string_equal(unpack_why(&m), "bad flags");
        }
    }
    /* Dead ranks travel as whole uint32s. */
    make_msg(&m, DKV__MSG_VOTE, NULL, 6, DKV_OK);
    assert_string_equal(unpack_why(&m), "bad rank list");
    make_msg(&m, DKV__MSG_DECIDE, NULL, 3, DKV_ERR_PEER_LOST);
    assert_string_equal(unpack_why(&m), "bad rank list");
    make_msg(&m, DKV__MSG_DECIDE_ACK, NULL, 4, DKV_OK);
    assert_string_equal(unpack_why(&m), "value length mismatch");
}

static void test_bad_key(void **state)
{
    dkv__wire_hdr_t hdr;
    msg_t m;

    /* key_len 0 on a keyed kind. */
    make_msg(&m, DKV__MSG_PUT, NULL, 0, DKV_OK);
    assert_string_equal(unpack_why(&m), "bad key length");

    /* key_len over DKV_KEY_MAX, even with a matching buffer length. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.key_len = DKV_KEY_MAX + 1;
    put_hdr_signed(&m, &hdr);
    m.len = dkv__wire_header_size(DKV_KEY_MAX + 1);
    assert_string_equal(unpack_why(&m), "bad key length");
    hdr.key_len = UINT32_MAX;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad key length");

    /* key_len longer than the message. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.key_len = 10;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "bad header length");

    /* Message longer than the key. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    m.len++;
    assert_string_equal(unpack_why(&m), "bad header length");

    /* Key without its terminator. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    m.buf[56 + 3] = 'x';
    assert_string_equal(unpack_why(&m), "key not terminated");

    /* NUL inside the key, at the start, middle and end. */
    make_msg(&m, DKV__MSG_DELETE, "abcd", 0, DKV_OK);
    m.buf[56] = '\0';
    assert_string_equal(unpack_why(&m), "key has embedded nul");
    make_msg(&m, DKV__MSG_DELETE, "abcd", 0, DKV_OK);
    m.buf[56 + 2] = '\0';
    assert_string_equal(unpack_why(&m), "key has embedded nul");
    make_msg(&m, DKV__MSG_DELETE, "abcd", 0, DKV_OK);
    m.buf[56 + 3] = '\0';
    assert_string_equal(unpack_why(&m), "key has embedded nul");
}

static void test_keyless_kinds(void **state)
{
    dkv__wire_hdr_t hdr;
    msg_t m;
    unsigned kind;

    for (kind = 1; kind <= DKV__MSG_KIND_MAX; kind++) {
        if (dkv__wire_kind_has_key(kind)) {
            continue;
        }
        /* Trailing bytes after the header. */
        make_msg(&m, kind, NULL, 0, DKV_OK);
        m.data_len = 0;
        m.len      = 57;
        assert_string_equal(unpack_why(&m), "bad header length");
        /* A key_len, whether or not the bytes are there. */
        get_hdr(&m, &hdr);
        hdr.key_len = 3;
        put_hdr_signed(&m, &hdr);
        m.len = 56;
        assert_string_equal(unpack_why(&m), "bad key length");
        m.len = 60;
        assert_string_equal(unpack_why(&m), "bad key length");
    }
}

static void test_bad_value_length(void **state)
{
    dkv__wire_hdr_t hdr;
    msg_t m;

    make_msg(&m, DKV__MSG_PUT, "key", 0, DKV_OK);
    get_hdr(&m, &hdr);
    hdr.value_len = 1ull << 63;
    put_hdr_signed(&m, &hdr);
    m.data_len = 0;
    assert_string_equal(unpack_why(&m), "value too long");
    hdr.value_len = DKV__WIRE_VALUE_MAX + 1;
    put_hdr_signed(&m, &hdr);
    assert_string_equal(unpack_why(&m), "value too long");

    make_msg(&m, DKV__MSG_PUT, "key", 100, DKV_OK);
    m.data_len = 99;
    assert_string_equal(unpack_why(&m), "value length mismatch");
    m.data_len = 101;
    assert_string_equal(unpack_why(&m), "value length mismatch");

    /* Kinds without a value: both lengths must be 0. */
    make_msg(&m, DKV__MSG_GET, "key", 0, DKV_OK);
    m.data_len = 1;
    assert_string_equal(unpack_why(&m), "value length mismatch");
    make_msg(&m, DKV__MSG_PUT_ACK, NULL, 8, DKV_OK);
    assert_string_equal(unpack_why(&m), "value length mismatch");
    make_msg(&m, DKV__MSG_BYE, NULL, 8, DKV_OK);
    m.data_len = 0;
    assert_string_equal(unpack_why(&m), "value length mismatch");

    /* An error reply carries no value. */
    make_msg(&m, DKV__MSG_GET_REPLY, NULL, 5, DKV_ERR_NOT_FOUND);
    assert_string_equal(unpack_why(&m), "value length mismatch");
    make_msg(&m, DKV__MSG_GET_REPLY, NULL, 0, DKV_ERR_NOT_FOUND);
    m.data_len = 5;
    assert_string_equal(unpack_why(&m), "value length mismatch");
}

/* Properties every accepted message must have. */
static void assert_valid(const unsigned char *buf, size_t len, size_t data_len,
                         const dkv__wire_hdr_t *hdr, const char *key)
{
    assert_int_equal(hdr->magic, DKV__WIRE_MAGIC);
    assert_in_range(hdr->kind, 1, DKV__MSG_KIND_MAX);
    assert_int_equal(hdr->flags & ~dkv__wire_kind_flags(hdr->kind), 0);
    if ((hdr->kind == DKV__MSG_VOTE) || (hdr->kind == DKV__MSG_DECIDE)) {
        assert_int_equal(hdr->value_len % 4, 0);
    }
    assert_true(hdr->secret == SECRET);
    assert_int_equal(len, dkv__wire_header_size(hdr->key_len));
    if (dkv__wire_kind_has_key(hdr->kind)) {
        assert_in_range(hdr->key_len, 1, DKV_KEY_MAX);
        assert_ptr_equal(key, (const char *)buf + 56);
        assert_int_equal(strlen(key), hdr->key_len);
    } else {
        assert_null(key);
    }
    if (!(hdr->flags & DKV__WIRE_FLAG_LOCAL)) { /* LOCAL: value not sent */
        assert_true(hdr->value_len == data_len);
    }
}

static void test_fuzz_random_bytes(void **state)
{
    static unsigned char buf[256];
    dkv__wire_hdr_t hdr;
    const char *key;
    const char *why;
    size_t len;
    size_t i;
    int iter;

    for (iter = 0; iter < 100000; iter++) {
        len = rng_next() % sizeof(buf);
        for (i = 0; i < len; i++) {
            buf[i] = (unsigned char)rng_next();
        }
        /* Half the time, get past magic, version and crc. */
        if ((iter % 2 == 1) && (len >= 56)) {
            memcpy(&hdr, buf, sizeof(hdr));
            hdr.magic   = DKV__WIRE_MAGIC;
            hdr.version = DKV__WIRE_VERSION;
            hdr.kind    = (uint8_t)(1 + rng_next() % DKV__MSG_KIND_MAX);
            hdr.crc     = dkv__crc32c(0, &hdr, 52);
            memcpy(buf, &hdr, sizeof(hdr));
        }
        why = NULL;
        assert_int_equal(dkv__wire_unpack(buf, len, rng_next() % 64, SECRET,
                                          &hdr, &key, &why),
                         DKV_ERR_PROTOCOL);
        assert_non_null(why);
    }
}

static void test_fuzz_mutations(void **state)
{
    static const unsigned kinds[] = {DKV__MSG_PUT, DKV__MSG_GET,
                                     DKV__MSG_GET_REPLY, DKV__MSG_VOTE,
                                     DKV__MSG_DECIDE, DKV__MSG_DECIDE_ACK};
    dkv__wire_hdr_t hdr;
    const char *key;
    const char *why;
    dkv_status_t status;
    unsigned kind;
    size_t pos;
    msg_t m;
    int accepted = 0;
    int iter;
    int n;

    for (iter = 0; iter < 100000; iter++) {
        kind = kinds[iter % 6];
        make_msg(&m, kind, dkv__wire_kind_has_key(kind) ? "mutant" : NULL,
                 dkv__wire_kind_has_value(kind) ? 16 : 0, DKV_OK);
        for (n = 0; n < 1 + (int)(rng_next() % 3); n++) {
            pos        = rng_next() % (m.len + 2);
            m.buf[pos] = (unsigned char)rng_next();
        }
        if (rng_next() % 4 == 0) {
            m.len = rng_next() % (m.len + 3);
        }
        if (rng_next() % 2 == 0) {
            get_hdr(&m, &hdr);
            put_hdr_signed(&m, &hdr);
        }
        why    = NULL;
        status = dkv__wire_unpack(m.buf, m.len, m.data_len, SECRET, &hdr, &key,
                                  &why);
        if (status == DKV_OK) {
            assert_valid(m.buf, m.len, m.data_len, &hdr, key);
            accepted++;
        } else {
            assert_int_equal(status, DKV_ERR_PROTOCOL);
            assert_non_null(why);
        }
    }
    /* Mutations that miss every checked byte must still be accepted. */
    assert_true(accepted > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_predicates),
        cmocka_unit_test(test_pack_layout),
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_key_lengths),
        cmocka_unit_test(test_short_header),
        cmocka_unit_test(test_bad_magic_version_kind),
        cmocka_unit_test(test_bad_crc),
        cmocka_unit_test(test_bad_flags_secret_status),
        cmocka_unit_test(test_local_flag),
        cmocka_unit_test(test_fence_kinds),
        cmocka_unit_test(test_ext),
        cmocka_unit_test(test_bad_key),
        cmocka_unit_test(test_keyless_kinds),
        cmocka_unit_test(test_bad_value_length),
        cmocka_unit_test(test_fuzz_random_bytes),
        cmocka_unit_test(test_fuzz_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
