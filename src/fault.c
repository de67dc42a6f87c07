/*
 * fault: the DKV_FAULT parser (see fault.h). Pure: no UCX, no PMIx.
 */
#include "fault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_number(const char *s, size_t len, uint64_t *out)
{
    char     buf[32];
    char    *end;
    uint64_t v;

    if ((len == 0) || (len >= sizeof(buf)) || (s[0] < '0') || (s[0] > '9')) {
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno    = 0;
    v        = strtoull(buf, &end, 10);
    if ((errno != 0) || (*end != '\0')) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_item(const char *item, size_t len, dkv__fault_t *f)
{
    static const struct {
        const char *name;
        size_t      offset;
        int         is_ms;
    } names[] = {
        {"kill_after", offsetof(dkv__fault_t, kill_after), 0},
        {"drop_acks", offsetof(dkv__fault_t, drop_acks), 0},
        {"delay_ack", offsetof(dkv__fault_t, delay_ms), 1},
        {"corrupt", offsetof(dkv__fault_t, corrupt), 0},
    };
    const char *colon = memchr(item, ':', len);
    uint64_t    v;
    size_t      i, nlen;

    if (colon == NULL) {
        return -1;
    }
    nlen = (size_t)(colon - item);
    if (parse_number(colon + 1, len - nlen - 1, &v) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((strlen(names[i].name) == nlen) &&
            (memcmp(names[i].name, item, nlen) == 0)) {
            if (names[i].is_ms) {
                if (v > 3600000) {
                    return -1;
                }
                f->delay_ms = (unsigned)v;
            } else {
                *(uint64_t *)((char *)f + names[i].offset) = v;
            }
            return 0;
        }
    }
    return -1;
}

dkv_status_t dkv__fault_parse(const char *spec, dkv__fault_t *fault,
                              char *err, size_t errlen)
{
    dkv__fault_t f;
    const char  *p = spec;

    memset(&f, 0, sizeof(f));
    while ((p != NULL) && (*p != '\0')) {
        const char *comma = strchr(p, ',');
        size_t      len   = (comma != NULL) ? (size_t)(comma - p) : strlen(p);

        if (parse_item(p, len, &f) != 0) {
            snprintf(err, errlen, "DKV_FAULT: bad item '%.*s' in '%s'",
                     (int)len, p, spec);
            return DKV_ERR_INVALID;
        }
        p = (comma != NULL) ? comma + 1 : NULL;
        if ((p != NULL) && (*p == '\0')) {
            snprintf(err, errlen, "DKV_FAULT: empty item at the end of '%s'",
                     spec);
            return DKV_ERR_INVALID;
        }
    }
    *fault = f;
    return DKV_OK;
}
