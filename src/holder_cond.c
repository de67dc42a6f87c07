/*
 * holder_cond: generations, conditional writes and byte ranges on a
 * holder (issue 14).
 *
 * Every value a holder publishes is stamped with a generation from the
 * store's counter (store.h), at the same instant it becomes visible, so a
 * key's generations increase in the order its values appear. A
 * conditional put or delete (DKV__WIRE_FLAG_COND) compares the key's
 * generation with the one the client names at that instant too: the
 * holder thread does nothing else in between, so the check and the write
 * are one step, and conditional writes of a key are linearizable at its
 * holder. A put_if may also be refused earlier, before room is reserved,
 * when its condition already fails (equally valid: the refusal is the
 * linearization point). A replica's copy of a decided write
 * (DKV__WIRE_GEN_FOLLOW) carries the generation the key's first copy
 * chose and is applied unless the replica already has a newer decided
 * value (one that followed too), so copies converge to the newest decided
 * value whatever order they arrive in; a value a plain put stamped here
 * is always replaced, its generation being this store's, not comparable.
 *
 * A ranged get sends only the bytes asked for (offset beyond the end: no
 * bytes), from the store's memory, with the generation and full size in
 * the reply's extension.
 *
 * Owner: the holder thread, like the store.
 */
#include "holder_int.h"

#include <string.h>

static uint64_t current_generation(dkv__holder_t *h, const dkv__op_t *op)
{
    dkv__store_entry_t *e = dkv__store_lookup(&h->store, op->key,
                                              op->hdr.key_len, op->hash);

    return (e != NULL) ? e->generation : 0;
}

/*
 * The key's generation as a follower compares it: that of a value that
 * itself followed the first copy, else 0. A value stamped here by a plain
 * put has a generation from this store's counter, not comparable with the
 * first copy's, so a decided write replaces it.
 */
static uint64_t followed_generation(dkv__holder_t *h, const dkv__op_t *op)
{
    dkv__store_entry_t *e = dkv__store_lookup(&h->store, op->key,
                                              op->hdr.key_len, op->hash);

    return ((e != NULL) && e->followed) ? e->generation : 0;
}

static int is_cond(const dkv__op_t *op)
{
    return (op->hdr.flags & DKV__WIRE_FLAG_COND) != 0;
}

static int is_follow(const dkv__op_t *op)
{
    return (op->hdr.flags & DKV__WIRE_FLAG_EXT) &&
           (op->ext.mode == DKV__WIRE_GEN_FOLLOW);
}

dkv__cond_verdict_t dkv__holder_cond_stamp(dkv__holder_t *h, dkv__op_t *op,
                                           dkv__store_entry_t *e)
{
    uint64_t current;

    if (is_follow(op)) {
        op->generation = op->ext.generation;
        if (op->ext.generation <= followed_generation(h, op)) {
            return DKV__COND_STALE;
        }
        dkv__store_stamp_exact(&h->store, e, op->ext.generation);
        return DKV__COND_APPLY;
    }
    current = current_generation(h, op);
    if (is_cond(op) && (current != op->ext.if_generation)) {
        op->generation = current;
        return DKV__COND_CONFLICT;
    }
    op->generation = dkv__store_stamp(&h->store, e, op->ext.generation);
    return DKV__COND_APPLY;
}

int dkv__holder_cond_refuse(dkv__holder_t *h, dkv__op_t *op, uint8_t ack)
{
    uint64_t current;

    if (!is_cond(op)) {
        return 0;
    }
    current = current_generation(h, op);
    if (current == op->ext.if_generation) {
        return 0;
    }
    if (op->data != NULL) {
        ucp_am_data_release(h->worker.ucp, op->data);
        op->data = NULL;
    }
    op->generation = current;
    dkv__holder_send_reply(h, op, ack, DKV_ERR_CONFLICT, NULL, 0);
    return 1;
}

dkv_status_t dkv__holder_cond_delete(dkv__holder_t *h, dkv__op_t *op)
{
    uint64_t current = current_generation(h, op);

    op->generation = 0;
    if (is_follow(op) && (followed_generation(h, op) > op->ext.generation)) {
        return DKV_OK; /* a newer decided value came after the delete */
    }
    if (is_cond(op) && (current != op->ext.if_generation)) {
        op->generation = current;
        return DKV_ERR_CONFLICT;
    }
    if (current != 0) {
        (void)dkv__store_remove(&h->store, op->key, op->hdr.key_len,
                                op->hash);
    }
    return DKV_OK;
}

void dkv__holder_cond_range(dkv__op_t *op, const dkv__store_entry_t *e)
{
    uint64_t size = e->value_len;
    uint64_t off  = (op->ext.offset < size) ? op->ext.offset : size;
    uint64_t left = size - off;

    op->generation = e->generation;
    op->range_off  = off;
    op->range_len  = (op->ext.length < left) ? op->ext.length : left;
}

int dkv__holder_cond_supersedable(const dkv__op_t *op)
{
    return !is_cond(op) && !is_follow(op);
}
