/*
 * unit_rng: the xorshift64 generator the unit tests draw their random
 * inputs from - fast, seeded by the test, the same sequence everywhere.
 */
#ifndef DKV_UNIT_RNG_H
#define DKV_UNIT_RNG_H

#include <stdint.h>

/* The next number of the sequence in *@p state (never 0 if it is not). */
static inline uint64_t unit_rng_next(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#endif
