/* sb_rng: the deterministic pseudo-random numbers behind every generated value.
 * xoshiro256** seeded through splitmix64, plus stateless hashing for values that
 * must be recomputed on demand from an entity's identity (ids, text variants,
 * money styles) without storing them. Same seed, same sequence, on every platform. */
#ifndef SB_RNG_H
#define SB_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} sb_rng;

void sb_rng_seed(sb_rng *r, uint64_t seed);
uint64_t sb_rng_next(sb_rng *r);
/* Uniform in [0, n); n == 0 gives 0. */
uint64_t sb_rng_below(sb_rng *r, uint64_t n);
/* Uniform in [lo, hi] (inclusive); hi < lo gives lo. */
int64_t sb_rng_range(sb_rng *r, int64_t lo, int64_t hi);
/* True with probability permille/1000. */
bool sb_rng_permille(sb_rng *r, unsigned permille);
/* True with probability p (0..1): used for fault draws only. */
bool sb_rng_chance(sb_rng *r, double p);

/* A well-mixed 64-bit function of its arguments (splitmix64 finaliser chain). */
uint64_t sb_hash64(uint64_t a, uint64_t b);
uint64_t sb_hash3(uint64_t a, uint64_t b, uint64_t c);

#endif
