/*
 * make_corpus: writes the seed corpus of fuzz_wire - one valid message of
 * every kind (with a leading data-length selector byte). Run by run.sh when
 * the corpus directory is empty; the seeds are kept in the repository.
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define SECRET 0x5ec2e7ull

int main(int argc, char **argv)
{
    const char     *dir = (argc > 1) ? argv[1] : ".";
    unsigned char   buf[1 + sizeof(dkv__wire_hdr_t) + DKV_KEY_MAX + 1];
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
    return 0;
}
