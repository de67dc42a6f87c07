/*
 * clock: monotonic time and deadlines, header-only.
 */
#ifndef DKV_CLOCK_H
#define DKV_CLOCK_H

#include <stdint.h>
#include <time.h>

#define DKV__NO_DEADLINE UINT64_MAX

static inline uint64_t dkv__now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t dkv__deadline_ms(unsigned timeout_ms)
{
    return dkv__now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

static inline uint64_t dkv__max_u64(uint64_t a, uint64_t b)
{
    return (a > b) ? a : b;
}

/* Milliseconds from now until @p deadline for poll(): -1 for none, >= 0. */
static inline int dkv__poll_ms(uint64_t deadline)
{
    uint64_t now = dkv__now_ns();
    uint64_t ms;

    if (deadline == DKV__NO_DEADLINE) {
        return -1;
    }
    if (deadline <= now) {
        return 0;
    }
    ms = (deadline - now + 999999ull) / 1000000ull;
    return (ms > 60000) ? 60000 : (int)ms;
}

#endif
