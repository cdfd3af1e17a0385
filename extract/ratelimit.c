#include "extract/ratelimit.h"

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
    /* Sliding window mode when ring is set: the times of the last n grants, in
     * order from ring[head], at most cap of them (cap = the configured count). */
    int64_t *ring;
    long cap;
    long n;
    long head;
    long limit;        /* grants allowed per window now (set_rate lowers it) */
    int64_t window_us; /* as configured */
    int64_t span_us;   /* window_us + guard: the spacing enforced */
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

int64_t ratelimit_window_guard_us(int64_t window_us)
{
    int64_t pct = window_us / 50;
    return pct > 20000 ? pct : 20000;
}

ratelimit *ratelimit_new_window(long count, int64_t window_us)
{
    if (count < 1 || count > RATELIMIT_WINDOW_MAX || window_us < 1 ||
        window_us > RATELIMIT_WINDOW_US_MAX)
        return NULL;
    double rate = (double)count * 1e6 / (double)window_us;
    ratelimit *rl = ratelimit_new(rate, 1);
    if (!rl)
        return NULL;
    rl->ring = malloc((size_t)count * sizeof *rl->ring);
    if (!rl->ring) {
        ratelimit_free(rl);
        return NULL;
    }
    rl->cap = count;
    rl->limit = count;
    rl->window_us = window_us;
    rl->span_us = window_us + ratelimit_window_guard_us(window_us);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->ring);
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

/* Window mode, mu held, not paused: grants when fewer than limit grants lie
 * within the span before now. Grant times are recorded no earlier than the last
 * one, so the ring stays ordered when threads read the clock out of turn. */
static int64_t window_acquire(ratelimit *rl, int64_t now_us)
{
    if (rl->n > 0) {
        int64_t newest = rl->ring[(rl->head + rl->n - 1) % rl->cap];
        if (now_us < newest)
            now_us = newest;
    }
    if (rl->n >= rl->limit) {
        /* the limit-th most recent grant must have left the span */
        int64_t kth = rl->ring[(rl->head + rl->n - rl->limit) % rl->cap];
        if (now_us - kth < rl->span_us)
            return kth + rl->span_us - now_us;
    }
    if (rl->n < rl->cap) {
        rl->ring[(rl->head + rl->n) % rl->cap] = now_us;
        rl->n++;
    } else {
        rl->ring[rl->head] = now_us;
        rl->head = (rl->head + 1) % rl->cap;
    }
    return 0;
}

int64_t ratelimit_try_acquire_at(ratelimit *rl, int64_t now_us)
{
    pthread_mutex_lock(&rl->mu);
    refill(rl, now_us);
    int64_t wait;
    if (now_us < rl->paused_until_us) {
        wait = rl->paused_until_us - now_us;
    } else if (rl->ring) {
        wait = window_acquire(rl, now_us);
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

void ratelimit_refund_at(ratelimit *rl, int64_t now_us)
{
    pthread_mutex_lock(&rl->mu);
    if (rl->ring) {
        if (rl->n > 0)
            rl->n--; /* the newest grant: the last of the ring from head */
    } else if (rl->started) {
        refill(rl, now_us);
        double cap = rl->burst * TOKEN;
        rl->credit = rl->credit + TOKEN > cap ? cap : rl->credit + TOKEN;
    }
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_refund(ratelimit *rl)
{
    ratelimit_refund_at(rl, ratelimit_now_us());
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
    if (rl->ring) {
        double count = floor(rl->rate * (double)rl->window_us / 1e6 + 1e-9);
        rl->limit = count < 1 ? 1 : count > (double)rl->cap ? rl->cap : (long)count;
        rl->rate = (double)rl->limit * 1e6 / (double)rl->window_us;
    }
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
