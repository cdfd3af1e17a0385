/* stop: a run's "stop requested" flag. The runner owns one; a signal (SIGTERM,
 * SIGINT) sets it from the runner's signal thread, and everything that waits
 * (HTTP transfers and their retry waits, rate-limiter waits, report polling,
 * statements in the warehouse) reads it at least once a second and gives up with
 * FE_EINTR. Passed down by pointer: no global state. A NULL pointer means "never
 * stopped", so code outside `run` (tests, `check`) passes NULL. */
#ifndef FE_STOP_H
#define FE_STOP_H

#include <stdatomic.h>
#include <time.h>

typedef struct {
    atomic_int signal;     /* 0 while running; else the number of the signal that stopped it */
    atomic_llong since_us; /* CLOCK_MONOTONIC of the request, in microseconds */
} fe_stop;

/* The signal number that asked to stop, or 0. Accepts NULL (0). */
static inline int fe_stop_requested(const fe_stop *s)
{
    return s ? atomic_load(&((fe_stop *)s)->signal) : 0;
}

/* Records the request and its time (the first signal wins). Async-signal-safe
 * (clock_gettime is). */
static inline void fe_stop_request(fe_stop *s, int signo)
{
    struct timespec ts;
    int none = 0;
    if (!atomic_compare_exchange_strong(&s->signal, &none, signo))
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    atomic_store(&s->since_us, (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000);
}

/* When the stop was requested (CLOCK_MONOTONIC, microseconds), or 0 (also for
 * the moment between the flag and its time). Deadlines after a signal count from
 * it, not from when someone noticed. */
static inline long long fe_stop_since_us(const fe_stop *s)
{
    return s && fe_stop_requested(s) ? atomic_load(&((fe_stop *)s)->since_us) : 0;
}

#endif
