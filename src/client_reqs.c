/*
 * client_reqs: the client's request pool. Requests come from a free list;
 * the pool grows by chunks on the owner thread (never in a callback), so the
 * hot path does no malloc once warm. A request's id carries a generation so
 * a late or forged reply can never complete a reused slot.
 */
#define DKV_LOG_MODULE "client"

#include <stdlib.h>
#include <string.h>

#include "client.h"

#define DKV__REQ_CHUNK 64u

static int grow(dkv__client_t *c)
{
    struct dkv_request **chunks;
    struct dkv_request  *reqs;
    uint32_t             i;

    chunks = realloc(c->chunks, (c->nchunks + 1) * sizeof(*chunks));
    if (chunks == NULL) {
        return -1;
    }
    c->chunks = chunks;
    reqs      = calloc(DKV__REQ_CHUNK, sizeof(*reqs));
    if (reqs == NULL) {
        return -1;
    }
    for (i = 0; i < DKV__REQ_CHUNK; i++) {
        reqs[i].client = c;
        reqs[i].index  = c->nchunks * DKV__REQ_CHUNK + i;
        reqs[i].gen    = 1;
        dkv__list_init(&reqs[i].wlink);
        dkv__list_push_tail(&c->free_reqs, &reqs[i].link);
    }
    c->chunks[c->nchunks++] = reqs;
    return 0;
}

struct dkv_request *dkv__req_alloc(dkv__client_t *c)
{
    struct dkv_request *req;
    dkv__list_t        *l;

    if (dkv__list_empty(&c->free_reqs) && (grow(c) != 0)) {
        return NULL;
    }
    l   = dkv__list_pop_head(&c->free_reqs);
    req = DKV__CONTAINER_OF(l, struct dkv_request, link);
    req->magic    = DKV__REQ_MAGIC;
    req->flags    = 0;
    req->status   = DKV_OK;
    req->send_req = NULL;
    req->recv_req = NULL;
    req->buf      = NULL;
    req->buf_size = 0;
    req->size_p   = NULL;
    req->alloc_p  = NULL;
    req->data     = NULL;
    req->value_len = 0;
    req->sibling   = NULL;
    req->aux       = 0;
    req->src       = NULL;
    req->local_addr = 0;
    req->generation   = 0;
    req->full_size    = 0;
    req->generation_p = NULL;
    req->full_size_p  = NULL;
    return req;
}

void dkv__req_release(dkv__client_t *c, struct dkv_request *req)
{
    /* Released once, and never while UCX or the ready list holds it. */
    DKV__ASSERT(req->magic == DKV__REQ_MAGIC);
    DKV__ASSERT((req->send_req == NULL) && (req->recv_req == NULL));
    DKV__ASSERT(!(req->flags & DKV__REQ_QUEUED));
    req->magic = 0;
    req->gen++;
    if (req->gen == 0) {
        req->gen = 1;
    }
    dkv__list_push_tail(&c->free_reqs, &req->link);
}

struct dkv_request *dkv__req_lookup(dkv__client_t *c, uint64_t id)
{
    uint32_t            index = (uint32_t)id;
    uint32_t            gen   = (uint32_t)(id >> 32);
    struct dkv_request *req;

    if (index >= c->nchunks * DKV__REQ_CHUNK) {
        return NULL;
    }
    req = &c->chunks[index / DKV__REQ_CHUNK][index % DKV__REQ_CHUNK];
    if ((req->gen != gen) || (req->magic != DKV__REQ_MAGIC)) {
        return NULL;
    }
    return req;
}
