/* ratelimit: one token bucket per source (or per endpoint family), shared by
 * every transfer of that source; thread-safe. Non-blocking: callers ask how long
 * to wait, so the curl multi loop keeps other transfers moving meanwhile. */
#ifndef FE_RATELIMIT_H
#define FE_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

/* rate: requests per second (> 0); burst: bucket size (>= 1, smaller is taken as 1).
 * The bucket starts full at the first acquire. Returns NULL on allocation failure
 * or when rate is not a positive finite number. Free with ratelimit_free. */
ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(ratelimit *rl);

/* Time source in microseconds (monotonic). Tests pass their own clock to the
 * *_at functions; the plain ones use CLOCK_MONOTONIC. */
int64_t ratelimit_now_us(void);

/* Takes one token if one is available and returns 0; otherwise takes nothing and
 * returns the microseconds until one will be. */
int64_t ratelimit_try_acquire(ratelimit *rl);
int64_t ratelimit_try_acquire_at(ratelimit *rl, int64_t now_us);

/* The server said "wait": no token is granted before now + delay_us
 * (Retry-After on a 429). Extends, never shortens, an existing pause. */
void ratelimit_pause(ratelimit *rl, int64_t delay_us);
void ratelimit_pause_at(ratelimit *rl, int64_t now_us, int64_t delay_us);

/* Lowers (or restores up to the configured value) the rate, e.g. from
 * X-Rate-Limit-* headers. Values above the configured rate are clamped to it;
 * non-positive values are ignored. */
void ratelimit_set_rate(ratelimit *rl, double rate);
double ratelimit_rate(const ratelimit *rl);

#endif
