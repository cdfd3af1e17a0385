/* backoff: retry delays (exponential with full jitter) and Retry-After parsing. */
#ifndef FE_BACKOFF_H
#define FE_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t base_us; /* first retry waits up to this */
    int64_t max_us;  /* cap of one wait */
    int max_retries; /* attempts after the first */
} backoff_policy;

/* Delay before retry number `attempt` (1-based): uniform in [cap/2, cap] where
 * cap = min(max_us, base_us * 2^(attempt-1)). `rnd` is any 64-bit random value
 * (the caller's PRNG, so tests are deterministic). */
int64_t backoff_delay_us(const backoff_policy *p, int attempt, uint64_t rnd);

/* Parses a Retry-After header value: delta-seconds (integer or fractional, e.g.
 * "7.8832487", kept to the microsecond) or an HTTP-date (relative to now_epoch_s;
 * a date in the past gives 0). Surrounding blanks are allowed. Returns false when
 * it is neither, or when it is over a century away. */
bool backoff_parse_retry_after(const char *value, int64_t now_epoch_s, int64_t *delay_us);

/* A small xorshift PRNG step, for jitter without global state. */
uint64_t backoff_rand_next(uint64_t *state);

#endif
