/*
 * stage_list: dkv_list. Every live holder is asked at once for its keys
 * with the prefix; the answers are merged, sorted and de-duplicated (a key
 * kept in several copies is listed once), and only then is the caller's
 * callback run - so it may call dramkv itself.
 */
#define DKV_LOG_MODULE "stage"

#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "log.h"
#include "stage_wire.h"

typedef struct listed {
    const char *key;
    size_t      key_len;
    uint64_t    size;
} listed_t;

typedef struct answers {
    void        **buf;
    size_t       *len;
    dkv_status_t *status;
    int           n;
    int           timed_out; /* a request was given up on */
} answers_t;

static int cmp_listed(const void *a, const void *b)
{
    const listed_t *x = a, *y = b;
    size_t          n = (x->key_len < y->key_len) ? x->key_len : y->key_len;
    int             c = memcmp(x->key, y->key, n);

    if (c != 0) {
        return c;
    }
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static void free_answers(answers_t *a)
{
    int i;

    for (i = 0; (a->buf != NULL) && (i < a->n); i++) {
        free(a->buf[i]);
    }
    free(a->buf);
    free(a->len);
    free(a->status);
}

/* Ask every holder; per-holder status in a->status (PEER_LOST if dead). */
static dkv_status_t ask_all(dkv_ctx_t *ctx, const char *prefix, size_t plen,
                            answers_t *a)
{
    dkv__client_t *c    = &ctx->client;
    int           *rank = calloc((size_t)ctx->nholders, sizeof(*rank));
    int            i;

    a->n      = ctx->nholders;
    a->buf    = calloc((size_t)a->n, sizeof(*a->buf));
    a->len    = calloc((size_t)a->n, sizeof(*a->len));
    a->status = calloc((size_t)a->n, sizeof(*a->status));
    if ((rank == NULL) || (a->buf == NULL) || (a->len == NULL) ||
        (a->status == NULL)) {
        free(rank);
        return DKV_ERR_NO_MEMORY;
    }
    for (i = 0; i < a->n; i++) {
        rank[i]      = c->peers.dead[ctx->holders[i]] ? -1 : ctx->holders[i];
        a->status[i] = DKV_ERR_PEER_LOST; /* stays for the dead ones */
    }
    a->timed_out = dkv__client_call_all(c, a->n, rank, DKV__MSG_LIST, 0,
                                        prefix, 0, plen, a->buf, a->len,
                                        a->status);
    free(rank);
    return DKV_OK;
}

/* Parse every answer into one array; DKV_ERR_PROTOCOL if one is bad. */
static dkv_status_t gather(const answers_t *a, listed_t **out_p, size_t *n_p)
{
    listed_t *out = NULL, *grown;
    size_t    n = 0, cap = 0, pos;
    listed_t  e;
    int       i, rc;

    for (i = 0; i < a->n; i++) {
        for (pos = 0; a->buf[i] != NULL;) {
            rc = dkv__list_entry_next(a->buf[i], a->len[i], &pos, &e.key,
                                      &e.key_len, &e.size);
            if (rc == 0) {
                break;
            }
            if (rc < 0) {
                free(out);
                return DKV_ERR_PROTOCOL;
            }
            if (n == cap) {
                cap   = (cap == 0) ? 256 : 2 * cap;
                grown = realloc(out, cap * sizeof(*out));
                if (grown == NULL) {
                    free(out);
                    return DKV_ERR_NO_MEMORY;
                }
                out = grown;
            }
            out[n++] = e;
        }
    }
    *out_p = out;
    *n_p   = n;
    return DKV_OK;
}

static void visit(listed_t *all, size_t n, dkv_list_cb_t cb, void *arg)
{
    char   key[DKV_KEY_MAX + 1];
    size_t i;

    if (n == 0) {
        return;
    }
    qsort(all, n, sizeof(*all), cmp_listed);
    for (i = 0; i < n; i++) {
        if ((i > 0) && (cmp_listed(&all[i - 1], &all[i]) == 0)) {
            continue; /* another copy of the same key */
        }
        memcpy(key, all[i].key, all[i].key_len);
        key[all[i].key_len] = '\0';
        if (cb(key, all[i].size, arg) != 0) {
            return;
        }
    }
}

dkv_status_t dkv__stage_list(dkv_ctx_t *ctx, const char *prefix,
                             size_t prefix_len, dkv_list_cb_t cb, void *arg)
{
    answers_t    a = {0};
    listed_t    *all = NULL;
    size_t       n = 0;
    int          lost = 0, i;
    /* The requests send a copy: one given up on may still be read by UCX
     * after the caller's prefix is gone. */
    char        *copy = malloc(prefix_len + 1);
    dkv_status_t status;

    if (copy == NULL) {
        return DKV_ERR_NO_MEMORY;
    }
    if (prefix_len > 0) {
        memcpy(copy, prefix, prefix_len);
    }
    status = ask_all(ctx, copy, prefix_len, &a);

    for (i = 0; (status == DKV_OK) && (i < a.n); i++) {
        lost += (a.status[i] == DKV_ERR_PEER_LOST);
        if ((a.status[i] != DKV_OK) && (a.status[i] != DKV_ERR_PEER_LOST)) {
            status = a.status[i];
        }
    }
    if (status == DKV_OK) {
        status = gather(&a, &all, &n);
    }
    if (status == DKV_OK) {
        visit(all, n, cb, arg);
        /* With k copies, k lost holders may have taken a key with them. */
        status = (lost >= ctx->replicas) ? DKV_ERR_PEER_LOST : DKV_OK;
    }
    free(all);
    free_answers(&a);
    if (!a.timed_out) {
        free(copy); /* else leaked: see above */
    }
    return status;
}
