/*
 * make_corpus: writes the seed corpus of fuzz_wire - one valid message of
 * every kind (with a leading data-length selector byte). Run by run.sh when
 * the corpus directory is empty; the seeds are kept in the repository.
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define SECRET 0x5ec2e7ull

/* Seeds with the issue-14 extension: a ranged GET, a conditional PUT, a
 * replica's FOLLOW delete, a GET_REPLY with generation and size. */
static int write_ext_seeds(const char *dir)
{
    static const struct {
        const char *name;
        unsigned    kind;
        uint16_t    flags;
        uint32_t    mode;
    } seeds[] = {
        {"ext_get_range", DKV__MSG_GET, 0, DKV__WIRE_GEN_NEW},
        {"ext_put_cond", DKV__MSG_PUT, DKV__WIRE_FLAG_COND, DKV__WIRE_GEN_NEW},
        {"ext_delete_follow", DKV__MSG_DELETE, 0, DKV__WIRE_GEN_FOLLOW},
        {"ext_get_reply", DKV__MSG_GET_REPLY, 0, DKV__WIRE_GEN_NEW},
    };
    unsigned char   buf[1 + sizeof(dkv__wire_hdr_ext_t) + DKV_KEY_MAX + 1];
    dkv__wire_ext_t ext;
    dkv__wire_hdr_t f;
    char            path[512];
    FILE           *out;
    size_t          i, n;
    int             keyed;

    for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        keyed = dkv__wire_kind_has_key(seeds[i].kind);
        memset(&f, 0, sizeof(f));
        memset(&ext, 0, sizeof(ext));
        f.kind         = (uint8_t)seeds[i].kind;
        f.flags        = seeds[i].flags;
        f.secret       = SECRET;
        f.req_id       = 42;
        ext.generation = 7;
        ext.offset     = 3;
        ext.length     = 5;
        ext.mode       = seeds[i].mode;
        buf[0]         = 0; /* no data part */
        n = dkv__wire_pack_ext(buf + 1, &f, keyed ? "seed/key" : NULL,
                               keyed ? 8 : 0, &ext);
        snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
        out = fopen(path, "wb");
        if (out == NULL) {
            return 1;
        }
        fwrite(buf, 1, n + 1, out);
        fclose(out);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char     *dir = (argc > 1) ? argv[1] : ".";
    unsigned char   buf[1 + sizeof(dkv__wire_hdr_ext_t) + DKV_KEY_MAX + 1];
    dkv__wire_hdr_t f;
    unsigned        kind;
    char            path[512];
    FILE           *out;
    size_t          n;

    for (kind = 1; kind <= DKV__MSG_KIND_MAX; kind++) {
        memset(&f, 0, sizeof(f));
        f.kind   = (uint8_t)kind;
        f.secret = SECRET;
        f.req_id = 42;
        if (dkv__wire_kind_has_value(kind)) {
            f.value_len = 64;
            buf[0]      = 2; /* data length 64 */
        } else {
            buf[0] = 0;
        }
        n = dkv__wire_pack(buf + 1, &f, dkv__wire_kind_has_key(kind) ? "seed/key" : NULL,
                           dkv__wire_kind_has_key(kind) ? 8 : 0);
        snprintf(path, sizeof(path), "%s/kind%u", dir, kind);
        out = fopen(path, "wb");
        if (out == NULL) {
            return 1;
        }
        fwrite(buf, 1, n + 1, out);
        fclose(out);
    }
    return write_ext_seeds(dir);
}
