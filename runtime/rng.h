/* rng.h: the host's random numbers (parameter initialisation, shuffling):
 * splitmix64, small and the same on every platform. The device uses Philox
 * (cl/prelude.cl). */
#ifndef CLRUN_RNG_H
#define CLRUN_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rng_uniform(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), without modulo bias. */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = rng_next(state);
    while (x >= limit);
    return x % n;
}

/* Shuffles v in place (Fisher-Yates from the end), the same order for the same state. */
static inline void rng_shuffle(uint64_t *state, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(state, (uint64_t)i + 1), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

#endif
