/*
 * holders: turns a DKV_HOLDERS spec into the sorted list of holder ranks.
 *
 * Every rank runs this on the same inputs and must get the same list, so
 * parsing is strict: no spaces, no signs, no trailing text, and every
 * number must be in range. Chosen ranks are marked in a byte map of the
 * job, which merges duplicates and yields ascending order for free. An
 * error is reported in the caller's buffer naming the part of the spec that
 * is wrong. Pure; runs once in dkv_init().
 */
#include "holders.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One dkv__holders_compute() call. */
typedef struct {
    const char *spec;
    int size;
    const int *local_rank;
    unsigned char *mark; /* [size]: 1 for each chosen rank */
    char *err;
    size_t errlen;
} holders_parse_t;

static dkv_status_t fail(const holders_parse_t *hp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static dkv_status_t fail(const holders_parse_t *hp, const char *fmt, ...)
{
    va_list ap;

    if ((hp->err != NULL) && (hp->errlen > 0)) {
        va_start(ap, fmt);
        vsnprintf(hp->err, hp->errlen, fmt, ap);
        va_end(ap);
    }
    return DKV_ERR_INVALID;
}

/* Parse exactly @p len decimal digits at @p text into a non-negative int. */
static int parse_number(const char *text, size_t len, int *value_p)
{
    long long value = 0;
    size_t i;

    if (len == 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if ((text[i] < '0') || (text[i] > '9')) {
            return -1;
        }
        value = value * 10 + (text[i] - '0');
        if (value > INT_MAX) {
            return -1;
        }
    }
    *value_p = (int)value;
    return 0;
}

static dkv_status_t mark_node(holders_parse_t *hp)
{
    int r;

    if (hp->local_rank == NULL) {
        return fail(hp, "DKV_HOLDERS: 'node' needs the node layout, "
                        "which is not available");
    }
    for (r = 0; r < hp->size; r++) {
        hp->mark[r] = (hp->local_rank[r] == 0);
    }
    return DKV_OK;
}

static dkv_status_t mark_all(holders_parse_t *hp)
{
    memset(hp->mark, 1, (size_t)hp->size);
    return DKV_OK;
}

static dkv_status_t mark_last(holders_parse_t *hp, const char *arg)
{
    int k;
    int r;

    if (parse_number(arg, strlen(arg), &k) != 0) {
        return fail(hp, "DKV_HOLDERS: bad count '%s' in '%s'", arg, hp->spec);
    }
    if ((k < 1) || (k > hp->size)) {
        return fail(hp, "DKV_HOLDERS: count %d out of range 1..%d in '%s'", k,
                    hp->size, hp->spec);
    }
    for (r = hp->size - k; r < hp->size; r++) {
        hp->mark[r] = 1;
    }
    return DKV_OK;
}

static dkv_status_t mark_every(holders_parse_t *hp, const char *arg)
{
    int n;
    int r;

    if (parse_number(arg, strlen(arg), &n) != 0) {
        return fail(hp, "DKV_HOLDERS: bad step '%s' in '%s'", arg, hp->spec);
    }
    if (n < 1) {
        return fail(hp, "DKV_HOLDERS: step %d must be at least 1 in '%s'", n,
                    hp->spec);
    }
    for (r = 0; r < hp->size; r += n) {
        hp->mark[r] = 1;
        if (r > INT_MAX - n) {
            break;
        }
    }
    return DKV_OK;
}

/* One LIST item: "R" or "A-B", @p len bytes at @p item. */
static dkv_status_t mark_item(holders_parse_t *hp, const char *item, size_t len)
{
    const char *dash = memchr(item, '-', len);
    int first;
    int last;
    int r;

    if (dash == NULL) {
        if (parse_number(item, len, &first) != 0) {
            return fail(hp, "DKV_HOLDERS: bad rank '%.*s' in '%s'", (int)len,
                        item, hp->spec);
        }
        last = first;
    } else if ((parse_number(item, (size_t)(dash - item), &first) != 0) ||
               (parse_number(dash + 1, len - (size_t)(dash - item) - 1,
                             &last) != 0)) {
        return fail(hp, "DKV_HOLDERS: bad range '%.*s' in '%s'", (int)len, item,
                    hp->spec);
    } else if (first > last) {
        return fail(hp, "DKV_HOLDERS: reversed range '%.*s' in '%s'", (int)len,
                    item, hp->spec);
    }
    if (last >= hp->size) {
        return fail(hp, "DKV_HOLDERS: rank %d out of range (size %d)", last,
                    hp->size);
    }
    for (r = first; r <= last; r++) {
        hp->mark[r] = 1;
    }
    return DKV_OK;
}

static dkv_status_t mark_list(holders_parse_t *hp, const char *list)
{
    const char *item = list;
    const char *comma;
    dkv_status_t status;
    size_t len;

    if (*list == '\0') {
        return fail(hp, "DKV_HOLDERS: empty rank list in '%s'", hp->spec);
    }
    for (;;) {
        comma = strchr(item, ',');
        len   = (comma != NULL) ? (size_t)(comma - item) : strlen(item);
        if (len == 0) {
            return fail(hp, "DKV_HOLDERS: empty item in '%s'", hp->spec);
        }
        status = mark_item(hp, item, len);
        if ((status != DKV_OK) || (comma == NULL)) {
            return status;
        }
        item = comma + 1;
    }
}

static dkv_status_t mark_spec(holders_parse_t *hp)
{
    const char *spec = hp->spec;

    if (strcmp(spec, "node") == 0) {
        return mark_node(hp);
    } else if (strcmp(spec, "all") == 0) {
        return mark_all(hp);
    } else if (strncmp(spec, "last:", 5) == 0) {
        return mark_last(hp, spec + 5);
    } else if (strncmp(spec, "every:", 6) == 0) {
        return mark_every(hp, spec + 6);
    } else if (strncmp(spec, "ranks:", 6) == 0) {
        return mark_list(hp, spec + 6);
    }
    return fail(hp,
                "DKV_HOLDERS: unknown spec '%s' (expected node, all, "
                "last:K, every:N or ranks:LIST)",
                spec);
}

/* Turn the byte map into the ascending array of chosen ranks. */
static dkv_status_t collect(holders_parse_t *hp, int **ranks_p, int *count_p)
{
    int count = 0;
    int *ranks;
    int r;

    for (r = 0; r < hp->size; r++) {
        count += hp->mark[r];
    }
    if (count == 0) {
        return fail(hp, "DKV_HOLDERS: '%s' selects no rank", hp->spec);
    }
    ranks = malloc((size_t)count * sizeof(*ranks));
    if (ranks == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    count = 0;
    for (r = 0; r < hp->size; r++) {
        if (hp->mark[r]) {
            ranks[count++] = r;
        }
    }
    *ranks_p = ranks;
    *count_p = count;
    return DKV_OK;
}

dkv_status_t dkv__holders_compute(const char *spec, int size,
                                  const int *local_rank, int **ranks_p,
                                  int *count_p, char *err, size_t errlen)
{
    holders_parse_t hp = {.spec       = spec,
                          .size       = size,
                          .local_rank = local_rank,
                          .err        = err,
                          .errlen     = errlen};
    dkv_status_t status;

    if ((spec == NULL) || (spec[0] == '\0')) {
        return fail(&hp, "DKV_HOLDERS: empty spec");
    }
    if (size < 1) {
        return fail(&hp, "DKV_HOLDERS: bad job size %d", size);
    }
    hp.mark = calloc((size_t)size, 1);
    if (hp.mark == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    status = mark_spec(&hp);
    if (status == DKV_OK) {
        status = collect(&hp, ranks_p, count_p);
    }
    free(hp.mark);
    return status;
}
