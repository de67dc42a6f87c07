/*
 * fault: fault injection for tests (DKV_FAULT), parsed here, acted on by the
 * holder. Pure. Always compiled in; an empty spec injects nothing.
 *
 * Spec: comma-separated items, each NAME:NUMBER
 *   kill_after:N  the holder's process dies (SIGKILL) after N requests
 *   drop_acks:N   after N requests the holder stops answering
 *   delay_ack:MS  the holder waits MS milliseconds before every answer
 *   corrupt:N     the N-th value stored (1-based) gets one byte flipped
 *                 after it was checked (DKV_CHECKSUM=1 catches it at get)
 */
#ifndef DKV_FAULT_H
#define DKV_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "dramkv.h"

typedef struct dkv__fault {
    uint64_t kill_after; /* 0: never */
    uint64_t drop_acks;  /* 0: never */
    unsigned delay_ms;   /* 0: none */
    uint64_t corrupt;    /* 0: never */
} dkv__fault_t;

/* Parse @p spec (NULL or "" = no faults). DKV_ERR_INVALID with a message
 * naming the bad item in @p err. */
dkv_status_t dkv__fault_parse(const char *spec, dkv__fault_t *fault,
                              char *err, size_t errlen);

#endif
