/*
 * fault: the DKV_FAULT parser and the die_at counter (see fault.h). Pure:
 * no UCX, no PMIx.
 *
 * The armed point is written by dkv_init before the holder and drain
 * threads start, and only read afterwards; the count is atomic because a
 * point may in principle be reached on several threads.
 */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dkv__fault_point_t dkv__fault_armed = DKV__FAULT_NONE;

static struct {
    uint64_t         count; /* the time to die at */
    int              rank;
    char             key[DKV__FAULT_KEY_MAX + 1];
    size_t           key_len;
    atomic_ullong    hits;
} armed;

static const char *const point_names[] = {
    [DKV__FAULT_NONE] = "none",
#define DKV__FAULT_NAME(id, name, where) [DKV__FAULT_##id] = name,
    DKV_FAULT_POINTS(DKV__FAULT_NAME)
#undef DKV__FAULT_NAME
};

const char *dkv__fault_point_name(dkv__fault_point_t point)
{
    if ((point <= DKV__FAULT_NONE) || (point >= DKV__FAULT_NPOINTS)) {
        return "none";
    }
    return point_names[point];
}

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

static dkv__fault_point_t find_point(const char *s, size_t len)
{
    int p;

    for (p = DKV__FAULT_NONE + 1; p < DKV__FAULT_NPOINTS; p++) {
        if ((strlen(point_names[p]) == len) &&
            (memcmp(point_names[p], s, len) == 0)) {
            return (dkv__fault_point_t)p;
        }
    }
    return DKV__FAULT_NONE;
}

/* die_at's argument: POINT[:N][@RANK]. */
static int parse_die(const char *s, size_t len, dkv__fault_t *f)
{
    const char *end   = s + len;
    const char *at    = memchr(s, '@', len);
    const char *colon;
    uint64_t    n     = 1, rank = 0;

    if (at != NULL) {
        if ((parse_number(at + 1, (size_t)(end - at - 1), &rank) != 0) ||
            (rank > INT32_MAX)) {
            return -1;
        }
        end = at;
    }
    colon = memchr(s, ':', (size_t)(end - s));
    if ((colon != NULL) &&
        ((parse_number(colon + 1, (size_t)(end - colon - 1), &n) != 0) ||
         (n == 0))) {
        return -1;
    }
    f->die_at = find_point(s, (size_t)(((colon != NULL) ? colon : end) - s));
    if (f->die_at == DKV__FAULT_NONE) {
        return -1;
    }
    f->die_count = n;
    f->die_rank  = (at != NULL) ? (int)rank : -1;
    return 0;
}

static int parse_die_key(const char *s, size_t len, dkv__fault_t *f)
{
    if ((len == 0) || (len > DKV__FAULT_KEY_MAX) ||
        (memchr(s, '\0', len) != NULL)) {
        return -1;
    }
    memcpy(f->die_key, s, len);
    f->die_key[len] = '\0';
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
    if ((nlen == 6) && (memcmp(item, "die_at", 6) == 0)) {
        return parse_die(colon + 1, len - nlen - 1, f);
    }
    if ((nlen == 7) && (memcmp(item, "die_key", 7) == 0)) {
        return parse_die_key(colon + 1, len - nlen - 1, f);
    }
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
    f.die_rank = -1;
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
    if ((f.die_key[0] != '\0') && (f.die_at == DKV__FAULT_NONE)) {
        snprintf(err, errlen, "DKV_FAULT: die_key without die_at in '%s'",
                 spec);
        return DKV_ERR_INVALID;
    }
    *fault = f;
    return DKV_OK;
}

void dkv__fault_arm(const dkv__fault_t *fault, int rank)
{
    dkv__fault_armed = DKV__FAULT_NONE;
    atomic_store(&armed.hits, 0);
    if ((fault->die_at == DKV__FAULT_NONE) ||
        ((fault->die_rank >= 0) && (fault->die_rank != rank))) {
        return;
    }
    armed.count   = fault->die_count;
    armed.rank    = rank;
    armed.key_len = strlen(fault->die_key);
    memcpy(armed.key, fault->die_key, armed.key_len + 1);
    dkv__fault_armed = fault->die_at;
}

void dkv__fault_reached(dkv__fault_point_t point, const char *key)
{
    unsigned long long n;

    if ((key != NULL) && (armed.key_len > 0) &&
        (strncmp(key, armed.key, armed.key_len) != 0)) {
        return;
    }
    n = atomic_fetch_add(&armed.hits, 1) + 1;
    if (n != armed.count) {
        return;
    }
    fprintf(stderr, "dkv[%d] fault: dying at %s (%llu)\n", armed.rank,
            dkv__fault_point_name(point), n);
    fflush(stdout);
    raise(SIGKILL);
}
