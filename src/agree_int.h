/*
 * agree_int: what agree.c (stepping) and agree_recv.c (receiving) share -
 * the phases of an epoch and the set, list and history helpers. Pure.
 */
#ifndef DKV_AGREE_INT_H
#define DKV_AGREE_INT_H

#include <stdint.h>
#include <string.h>

#include "agree.h"

enum {
    PH_COLLECT = 0, /* voting; the coordinator collects */
    PH_PROPOSE = 1, /* coordinator: waiting for the backups' ACKs */
    PH_LAST    = 2, /* coordinator: the others were sent; backups next */
    PH_END     = 3  /* everything sent: finish once it has left */
};

enum { HAVE_NONE = 0, HAVE_HELD = 1, HAVE_COMMIT = 2 };

static inline int index_of(const int *ranks, int n, int rank)
{
    int lo = 0, hi = n - 1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;

        if (ranks[mid] == rank) {
            return mid;
        }
        if (ranks[mid] < rank) {
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return -1;
}

static inline uint32_t read_u32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Insert @p i into the ascending @p list of *@p count unless present. */
static inline void list_insert(uint32_t *list, uint32_t *count, uint32_t i)
{
    uint32_t pos = *count;

    while ((pos > 0) && (list[pos - 1] > i)) {
        pos--;
    }
    if ((pos > 0) && (list[pos - 1] == i)) {
        return;
    }
    memmove(&list[pos + 1], &list[pos], (*count - pos) * sizeof(*list));
    list[pos] = i;
    (*count)++;
}

static inline void mark_dead(dkv__agree_t *a, int i)
{
    if ((i != a->me) && !a->known[i]) {
        a->known[i] = 1;
        list_insert(a->known_list, &a->nknown, (uint32_t)i);
    }
}

static inline void set_add(dkv__agree_t *a, uint32_t i)
{
    if (!a->dset[i]) {
        a->dset[i] = 1;
        list_insert(a->dlist, &a->ndlist, i);
    }
}

static inline void set_clear(dkv__agree_t *a)
{
    uint32_t k;

    for (k = 0; k < a->ndlist; k++) {
        a->dset[a->dlist[k]] = 0;
    }
    a->ndlist = 0;
}

static inline const dkv__agree_hist_t *hist_find(const dkv__agree_t *a,
                                          uint64_t epoch)
{
    const dkv__agree_hist_t *h = &a->hist[epoch % DKV__AGREE_HISTORY];

    return (h->epoch == epoch) ? h : NULL;
}

/* Send through ops; a member found dead by the send is marked (agree.c). */
dkv_status_t dkv__agree_send(dkv__agree_t *a, int to, uint8_t type,
                             uint8_t flags, uint64_t epoch, int32_t verdict,
                             const uint32_t *dead, uint32_t ndead);

#endif
