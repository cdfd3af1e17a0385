/* ratelimit: one limiter per source (or per endpoint family), shared by every
 * transfer of that source; thread-safe. Non-blocking: callers ask how long to
 * wait, so the curl multi loop keeps other transfers moving meanwhile.
 *
 * Two modes. A token bucket (ratelimit_new) spreads requests at a rate with a
 * burst; it grants up to burst + rate x T in any T seconds, so against an API
 * that allows N requests in any window it must stay well below N. A sliding
 * window (ratelimit_new_window) is the exact dual of such an API: at most
 * `count` grants in any window, remembering the last `count` grant times, so a
 * pause (a list page, a checkpoint merge) is not lost budget. */
#ifndef FE_RATELIMIT_H
#define FE_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

/* rate: requests per second (> 0); burst: bucket size (>= 1, smaller is taken as 1).
 * The bucket starts full at the first acquire. Returns NULL on allocation failure
 * or when rate is not a positive finite number. Free with ratelimit_free. */
ratelimit *ratelimit_new(double rate, double burst);
void ratelimit_free(ratelimit *rl);

/* Largest count of a sliding window (its memory is 8 bytes per count). */
#define RATELIMIT_WINDOW_MAX 100000

/* Sliding window: at most count grants in any window of window_us, as a server
 * that answers at most count requests in any sliding window_us counts them.
 * What the server counts is the arrival, a little after the grant and with
 * jitter (connection set-up, scheduling); so the limiter keeps its grants
 * apart by window_us plus a guard of ratelimit_window_guard_us(window_us).
 * count: 1..RATELIMIT_WINDOW_MAX; window_us: 1..RATELIMIT_WINDOW_US_MAX.
 * Returns NULL on allocation failure or an argument out of range. Free with
 * ratelimit_free. */
#define RATELIMIT_WINDOW_US_MAX (86400LL * 1000000)
ratelimit *ratelimit_new_window(long count, int64_t window_us);

/* The guard added to a window: 2 % of it or 20 ms, whichever is larger. With a
 * 1-s window that is 20 ms, i.e. at most 98 % of the server's budget. */
int64_t ratelimit_window_guard_us(int64_t window_us);

/* Time source in microseconds (monotonic). Tests pass their own clock to the
 * *_at functions; the plain ones use CLOCK_MONOTONIC. */
int64_t ratelimit_now_us(void);

/* Takes one token (window: one grant) if one is available and returns 0;
 * otherwise takes nothing and returns the microseconds until one will be. */
int64_t ratelimit_try_acquire(ratelimit *rl);
int64_t ratelimit_try_acquire_at(ratelimit *rl, int64_t now_us);

/* Gives back one token taken by an acquire whose request the server did not
 * count: for budgets the server spends only on what it did (a report generator's
 * budget is spent by reports created, not by a 5xx or a connection cut before the
 * answer). A bucket gets one token back (never above its burst); a window forgets
 * its most recent grant. Does nothing when nothing was granted. */
void ratelimit_refund(ratelimit *rl);
void ratelimit_refund_at(ratelimit *rl, int64_t now_us);

/* The server said "wait": no token is granted before now + delay_us
 * (Retry-After on a 429). Extends, never shortens, an existing pause. */
void ratelimit_pause(ratelimit *rl, int64_t delay_us);
void ratelimit_pause_at(ratelimit *rl, int64_t now_us, int64_t delay_us);

/* Lowers (or restores up to the configured value) the rate, e.g. from
 * X-Rate-Limit-* headers. Values above the configured rate are clamped to it;
 * non-positive values are ignored. A window's rate is count / window seconds:
 * setting it sets the count to floor(rate x window), at least 1. */
void ratelimit_set_rate(ratelimit *rl, double rate);
double ratelimit_rate(const ratelimit *rl);

#endif
