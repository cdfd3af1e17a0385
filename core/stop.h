/* stop: a run's "stop requested" flag. The runner owns one; a signal (SIGTERM,
 * SIGINT) sets it from the runner's signal thread, and everything that waits
 * (HTTP transfers and their retry waits, rate-limiter waits, report polling,
 * statements in the warehouse) reads it at least once a second and gives up with
 * FE_EINTR. Passed down by pointer: no global state. A NULL pointer means "never
 * stopped", so code outside `run` (tests, `check`) passes NULL. */
#ifndef FE_STOP_H
#define FE_STOP_H

#include <stdatomic.h>

typedef struct {
    atomic_int signal; /* 0 while running; else the number of the signal that stopped it */
} fe_stop;

/* The signal number that asked to stop, or 0. Accepts NULL (0). */
static inline int fe_stop_requested(const fe_stop *s)
{
    return s ? atomic_load(&((fe_stop *)s)->signal) : 0;
}

/* Records the request (the first signal wins). Async-signal-safe. */
static inline void fe_stop_request(fe_stop *s, int signo)
{
    int none = 0;
    atomic_compare_exchange_strong(&s->signal, &none, signo);
}

#endif
