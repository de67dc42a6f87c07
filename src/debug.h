/*
 * debug: invariant checks for debug and sanitizer builds, compiled out
 * with NDEBUG (RelWithDebInfo and Release builds). A failed check prints
 * where and what, then aborts, so a broken invariant is a core, not a
 * silent corruption. Any thread.
 */
#ifndef DKV_DEBUG_H
#define DKV_DEBUG_H

#include <stdio.h>
#include <stdlib.h>

#ifdef NDEBUG
#define DKV__ASSERT(cond) ((void)0)
#define DKV__DEBUG 0
#else
#define DKV__DEBUG 1
#define DKV__ASSERT(cond)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "dkv assertion failed: %s (%s:%d)\n", #cond,      \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)
#endif

#endif
