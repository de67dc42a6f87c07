/*
 * layout: turns the launcher's view of the job into node numbers and local
 * ranks, in time linear in the job (issue 10: the first version compared
 * every rank's host name with every other one's).
 *
 * From rank lists: one pass over the text records, for each rank, which
 * node lists it; a rank listed twice, out of range or not at all is an
 * error, so a launcher that answers for some nodes only is noticed. A
 * second pass over the ranks in ascending order numbers each node's ranks
 * and remembers the first (lowest) one. No sorting: O(size + nnodes), and
 * the order in which the launcher lists nodes or ranks does not matter.
 * From host names: the ranks sorted by (name, rank); each run of equal
 * names is one node.
 *
 * Pure; runs once in dkv_init() on the caller's thread. The result is one
 * allocation, written to the caller only on success.
 */
#include "layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dkv_status_t fail(dkv_status_t status, char *err, size_t errlen,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static dkv_status_t fail(dkv_status_t status, char *err, size_t errlen,
                         const char *fmt, ...)
{
    va_list ap;

    if ((err != NULL) && (errlen > 0)) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* The struct and both arrays in one block, so one free() releases it. */
static dkv__layout_t *layout_alloc(int size)
{
    dkv__layout_t *layout;

    layout = malloc(sizeof(*layout) + 2 * (size_t)size * sizeof(int));
    if (layout == NULL) {
        return NULL;
    }
    layout->size   = size;
    layout->nnodes = 0;
    layout->node   = (int *)(layout + 1);
    layout->local  = layout->node + size;
    return layout;
}

static const char *node_name(const dkv__layout_node_t *nodes, int j)
{
    return (nodes[j].name != NULL) ? nodes[j].name : "?";
}

/*
 * Record in where[r] = j every rank that node @p j lists. where[] holds -1
 * for ranks no node listed so far.
 */
static dkv_status_t read_peers(int size, const dkv__layout_node_t *nodes, int j,
                               int *where, char *err, size_t errlen)
{
    const char *text = nodes[j].peers;
    const char *s    = text;
    const char *start;
    long long r;

    if (*s == '\0') {
        return DKV_OK;
    }
    for (;;) {
        if ((*s < '0') || (*s > '9')) {
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: ranks of node %d (%s) are not a list of "
                        "ranks: '%s'",
                        j, node_name(nodes, j), text);
        }
        /* Stop accumulating once out of range: no overflow on long text. */
        for (start = s, r = 0; (*s >= '0') && (*s <= '9'); s++) {
            r = (r < size) ? r * 10 + (*s - '0') : r;
        }
        if (r >= size) {
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: node %d (%s) lists rank %.*s, out of range "
                        "0..%d",
                        j, node_name(nodes, j), (int)(s - start), start,
                        size - 1);
        }
        if (where[r] == j) {
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: node %d (%s) lists rank %d twice", j,
                        node_name(nodes, j), (int)r);
        }
        if (where[r] >= 0) {
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: rank %d is listed by node %d (%s) and by "
                        "node %d (%s)",
                        (int)r, where[r], node_name(nodes, where[r]), j,
                        node_name(nodes, j));
        }
        where[r] = j;
        if (*s == '\0') {
            return DKV_OK;
        }
        if (*s != ',') {
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: ranks of node %d (%s) are not a list of "
                        "ranks: '%s'",
                        j, node_name(nodes, j), text);
        }
        s++;
    }
}

/*
 * Turn layout->node[r] = index of r's node into the final numbers. In
 * ascending rank order, so each node's first rank is its lowest and local
 * ranks come out ascending; node[r] is read before it is overwritten.
 */
static dkv_status_t number_ranks(dkv__layout_t *layout, int nnodes, char *err,
                                 size_t errlen)
{
    int *first = malloc(2 * (size_t)nnodes * sizeof(*first));
    int *count = first + nnodes;
    int r, j;

    if (first == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    memset(count, 0, (size_t)nnodes * sizeof(*count));
    for (r = 0; r < layout->size; r++) {
        j = layout->node[r];
        if (j < 0) {
            free(first);
            return fail(DKV_ERR_BOOTSTRAP, err, errlen,
                        "layout: rank %d is on no node (%d nodes listed)", r,
                        nnodes);
        }
        if (count[j] == 0) {
            first[j] = r;
            layout->nnodes++;
        }
        layout->local[r] = count[j]++;
        layout->node[r]  = first[j];
    }
    free(first);
    return DKV_OK;
}

dkv_status_t dkv__layout_from_peers(int size, const dkv__layout_node_t *nodes,
                                    int nnodes, dkv__layout_t **layout_p,
                                    char *err, size_t errlen)
{
    dkv__layout_t *layout;
    dkv_status_t status = DKV_OK;
    int r, j;

    if ((size < 1) || (nnodes < 1) || (nodes == NULL) || (layout_p == NULL)) {
        return fail(DKV_ERR_INVALID, err, errlen,
                    "layout: bad arguments (size %d, %d nodes)", size, nnodes);
    }
    for (j = 0; j < nnodes; j++) {
        if (nodes[j].peers == NULL) {
            return fail(DKV_ERR_INVALID, err, errlen,
                        "layout: node %d (%s) has no rank list", j,
                        node_name(nodes, j));
        }
    }
    layout = layout_alloc(size);
    if (layout == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    for (r = 0; r < size; r++) {
        layout->node[r] = -1;
    }
    for (j = 0; (j < nnodes) && (status == DKV_OK); j++) {
        status = read_peers(size, nodes, j, layout->node, err, errlen);
    }
    if (status == DKV_OK) {
        status = number_ranks(layout, nnodes, err, errlen);
    }
    if (status != DKV_OK) {
        free(layout);
        return status;
    }
    *layout_p = layout;
    return DKV_OK;
}

typedef struct {
    const char *host;
    int rank;
} host_rank_t;

static int host_rank_cmp(const void *a, const void *b)
{
    const host_rank_t *x = a;
    const host_rank_t *y = b;
    int c                = strcmp(x->host, y->host);

    if (c != 0) {
        return c;
    }
    return (x->rank > y->rank) - (x->rank < y->rank);
}

dkv_status_t dkv__layout_from_hosts(int size, const char *const *host,
                                    dkv__layout_t **layout_p, char *err,
                                    size_t errlen)
{
    dkv__layout_t *layout;
    host_rank_t *order;
    int r, i, first = 0, k = 0;

    if ((size < 1) || (host == NULL) || (layout_p == NULL)) {
        return fail(DKV_ERR_INVALID, err, errlen,
                    "layout: bad arguments (size %d)", size);
    }
    for (r = 0; r < size; r++) {
        if (host[r] == NULL) {
            return fail(DKV_ERR_INVALID, err, errlen,
                        "layout: rank %d has no host name", r);
        }
    }
    layout = layout_alloc(size);
    order  = malloc((size_t)size * sizeof(*order));
    if ((layout == NULL) || (order == NULL)) {
        free(layout);
        free(order);
        return DKV_ERR_NO_MEMORY;
    }
    for (r = 0; r < size; r++) {
        order[r].host = host[r];
        order[r].rank = r;
    }
    qsort(order, (size_t)size, sizeof(*order), host_rank_cmp);
    for (i = 0; i < size; i++) {
        if ((i == 0) || (strcmp(order[i].host, order[i - 1].host) != 0)) {
            first = order[i].rank;
            k     = 0;
            layout->nnodes++;
        }
        layout->node[order[i].rank]  = first;
        layout->local[order[i].rank] = k++;
    }
    free(order);
    *layout_p = layout;
    return DKV_OK;
}

void dkv__layout_destroy(dkv__layout_t *layout)
{
    free(layout);
}
