/*
 * list: intrusive doubly linked list, header-only (after ucs_list).
 */
#ifndef DKV_LIST_H
#define DKV_LIST_H

#include <stddef.h>

typedef struct dkv__list {
    struct dkv__list *prev, *next;
} dkv__list_t;

#define DKV__CONTAINER_OF(ptr, type, member)                                  \
    ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void dkv__list_init(dkv__list_t *head)
{
    head->prev = head->next = head;
}

static inline int dkv__list_empty(const dkv__list_t *head)
{
    return head->next == head;
}

static inline void dkv__list_push_tail(dkv__list_t *head, dkv__list_t *l)
{
    l->prev          = head->prev;
    l->next          = head;
    head->prev->next = l;
    head->prev       = l;
}

static inline void dkv__list_del(dkv__list_t *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

/* Remove and return the first link, or NULL. */
static inline dkv__list_t *dkv__list_pop_head(dkv__list_t *head)
{
    dkv__list_t *l = head->next;

    if (l == head) {
        return NULL;
    }
    dkv__list_del(l);
    return l;
}

#endif
