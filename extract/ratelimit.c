#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* Credit is counted in token-microseconds (1 token = 1e6) so that refills by an
 * integer rate over whole microseconds are exact in a double. */
#define TOKEN 1e6

struct ratelimit {
    pthread_mutex_t mu;
    double rate;            /* tokens per second now */
    double configured_rate; /* set_rate never goes above this */
    double burst;           /* bucket size in tokens */
    double credit;          /* token-microseconds in the bucket */
    bool started;           /* last_us is meaningful (first call fills it) */
    int64_t last_us;        /* time of the last refill */
    int64_t paused_until_us;
};

ratelimit *ratelimit_new(double rate, double burst)
{
    if (!(rate > 0) || !isfinite(rate))
        return NULL;
    if (!(burst >= 1) || !isfinite(burst))
        burst = 1;
    ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    if (pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl);
        return NULL;
    }
    rl->rate = rate;
    rl->configured_rate = rate;
    rl->burst = burst;
    rl->credit = burst * TOKEN;
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

int64_t ratelimit_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Adds the credit earned since the last refill. The bucket starts full at the
 * first call, so the clock of the caller (real or a test's) defines time zero. */
static void refill(ratelimit *rl, int64_t now_us)
{
    if (!rl->started) {
        rl->started = true;
        rl->last_us = now_us;
        return;
    }
    if (now_us <= rl->last_us)
        return;
    double cap = rl->burst * TOKEN;
    rl->credit += (double)(now_us - rl->last_us) * rl->rate;
    if (rl->credit > cap)
        rl->credit = cap;
    rl->last_us = now_us;
}

int64_t ratelimit_try_acquire_at(ratelimit *rl, int64_t now_us)
{
    pthread_mutex_lock(&rl->mu);
    refill(rl, now_us);
    int64_t wait;
    if (now_us < rl->paused_until_us) {
        wait = rl->paused_until_us - now_us;
    } else if (rl->credit >= TOKEN) {
        rl->credit -= TOKEN;
        wait = 0;
    } else {
        wait = (int64_t)ceil((TOKEN - rl->credit) / rl->rate);
        if (wait < 1)
            wait = 1;
    }
    pthread_mutex_unlock(&rl->mu);
    return wait;
}

int64_t ratelimit_try_acquire(ratelimit *rl)
{
    return ratelimit_try_acquire_at(rl, ratelimit_now_us());
}

void ratelimit_pause_at(ratelimit *rl, int64_t now_us, int64_t delay_us)
{
    if (delay_us <= 0)
        return;
    pthread_mutex_lock(&rl->mu);
    int64_t until = now_us > INT64_MAX - delay_us ? INT64_MAX : now_us + delay_us;
    if (until > rl->paused_until_us)
        rl->paused_until_us = until;
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_pause(ratelimit *rl, int64_t delay_us)
{
    ratelimit_pause_at(rl, ratelimit_now_us(), delay_us);
}

void ratelimit_set_rate(ratelimit *rl, double rate)
{
    if (!(rate > 0) || !isfinite(rate))
        return;
    pthread_mutex_lock(&rl->mu);
    rl->rate = rate < rl->configured_rate ? rate : rl->configured_rate;
    pthread_mutex_unlock(&rl->mu);
}

double ratelimit_rate(const ratelimit *rl)
{
    /* The mutex is the one mutable part of a logically const read. */
    ratelimit *m = (ratelimit *)rl;
    pthread_mutex_lock(&m->mu);
    double rate = m->rate;
    pthread_mutex_unlock(&m->mu);
    return rate;
}
