#include "sb_fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sb_rng.h"
#include "sb_spec.h"

struct sb_fault_state {
    pthread_mutex_t mu;
    sb_faults cur;
    sb_rng rng;
    int burst_left; /* 500s still owed by the current burst */
    /* Arrival times (monotonic microseconds) of the last cur.budget answered
     * requests, a ring of SB_FAULT_BUDGET_MAX slots of which the first cur.budget
     * are used: window[window_head] is the oldest once window_count is full. */
    int64_t *window;
    int window_count;
    int window_head;
};

void sb_faults_clear(sb_faults *f)
{
    memset(f, 0, sizeof *f);
    f->retry_after = 1;
    f->seed = 1;
}

static bool parse_prob(const char *v, double *out)
{
    char *end;
    errno = 0;
    double p = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(p >= 0.0 && p <= 1.0))
        return false;
    *out = p;
    return true;
}

static bool parse_int(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

bool sb_faults_set(sb_faults *f, const char *key, const char *value, char *err, size_t errlen)
{
    const char *v = value != NULL ? value : "";
    long long n = 0;
    bool ok;
    if (strcmp(key, "p429") == 0) {
        ok = parse_prob(v, &f->p429);
    } else if (strcmp(key, "p500") == 0) {
        ok = parse_prob(v, &f->p500);
    } else if (strcmp(key, "pcut") == 0) {
        ok = parse_prob(v, &f->pcut);
    } else if (strcmp(key, "retry_after") == 0) {
        if ((ok = parse_int(v, 0, 86400, &n)))
            f->retry_after = (int)n;
    } else if (strcmp(key, "burst500") == 0) {
        if ((ok = parse_int(v, 1, 1000000, &n)))
            f->burst500 = (int)n;
    } else if (strcmp(key, "token_ttl") == 0) {
        if ((ok = parse_int(v, 1, 100000000, &n)))
            f->token_ttl = (int)n;
    } else if (strcmp(key, "slow_ms") == 0) {
        if ((ok = parse_int(v, 0, 600000, &n)))
            f->slow_ms = (int)n;
    } else if (strcmp(key, "budget") == 0) {
        if ((ok = parse_int(v, 0, SB_FAULT_BUDGET_MAX, &n)))
            f->budget = (int)n;
    } else if (strcmp(key, "fr_page_cap") == 0) {
        if ((ok = parse_int(v, 0, 1000, &n)))
            f->fr_page_cap = (int)n;
    } else if (strcmp(key, "fr_page_cap_echo") == 0) {
        ok = *v == '\0' || parse_int(v, 0, 1, &n);
        if (ok)
            f->fr_page_cap_echo = *v == '\0' || n == 1;
    } else if (strcmp(key, "seed") == 0) {
        if ((ok = parse_int(v, 0, INT64_MAX, &n)))
            f->seed = (uint64_t)n;
    } else if (strcmp(key, "refresh_fail") == 0) {
        ok = *v == '\0' || parse_int(v, 0, 1, &n);
        if (ok)
            f->refresh_fail = *v == '\0' || n == 1;
    } else if (strcmp(key, "pf_list_include") == 0) {
        ok = *v == '\0' || strcmp(v, "vendor") == 0 || strcmp(v, "lines") == 0 ||
             strcmp(v, "partial") == 0 || strcmp(v, "none") == 0 || strcmp(v, "refuse") == 0;
        if (ok)
            snprintf(f->pf_list_include, sizeof f->pf_list_include, "%s",
                     strcmp(v, "vendor") == 0 ? "" : v);
    } else if (strcmp(key, "malformed") == 0) {
        ok = strlen(v) < sizeof f->malformed; /* "" = no endpoint */
        if (ok)
            memcpy(f->malformed, v, strlen(v) + 1);
    } else {
        snprintf(err, errlen, "unknown fault '%s'", key);
        return false;
    }
    if (!ok)
        snprintf(err, errlen, "bad value '%s' for fault '%s'", v, key);
    return ok;
}

static bool faults_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
    return sb_faults_set(ctx, key, value, err, errlen);
}

bool sb_faults_parse_spec(sb_faults *f, const char *spec, char *err, size_t errlen)
{
    sb_faults_clear(f);
    return sb_spec_each(spec, SB_FAULT_MALFORMED_MAX + 32, "fault", faults_set, f, err, errlen);
}

bool sb_faults_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

void sb_faults_describe(const sb_faults *f, char *out, size_t outlen)
{
    snprintf(out, outlen,
             "p429\t%g\nretry_after\t%d\np500\t%g\nburst500\t%d\npcut\t%g\nmalformed\t%s\n"
             "token_ttl\t%d\nrefresh_fail\t%d\nslow_ms\t%d\nseed\t%llu\nbudget\t%d\n"
             "pf_list_include\t%s\nfr_page_cap\t%d\nfr_page_cap_echo\t%d\n",
             f->p429, f->retry_after, f->p500, f->burst500, f->pcut, f->malformed, f->token_ttl,
             f->refresh_fail ? 1 : 0, f->slow_ms, (unsigned long long)f->seed, f->budget,
             f->pf_list_include[0] ? f->pf_list_include : "vendor", f->fr_page_cap,
             f->fr_page_cap_echo ? 1 : 0);
}

sb_fault_state *sb_fault_state_new(void)
{
    sb_fault_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->window = malloc(SB_FAULT_BUDGET_MAX * sizeof *st->window);
    if (st->window == NULL || pthread_mutex_init(&st->mu, NULL) != 0) {
        free(st->window);
        free(st);
        return NULL;
    }
    sb_faults none;
    sb_faults_clear(&none);
    sb_fault_state_set(st, &none);
    return st;
}

void sb_fault_state_free(sb_fault_state *st)
{
    if (st == NULL)
        return;
    pthread_mutex_destroy(&st->mu);
    free(st->window);
    free(st);
}

void sb_fault_state_set(sb_fault_state *st, const sb_faults *f)
{
    pthread_mutex_lock(&st->mu);
    st->cur = *f;
    sb_rng_seed(&st->rng, f->seed);
    st->burst_left = f->p500 <= 0.0 && f->burst500 > 0 ? f->burst500 : 0;
    st->window_count = 0;
    st->window_head = 0;
    pthread_mutex_unlock(&st->mu);
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* True when one more request now stays within the budget, and then counts it.
 * Called with st->mu held; st->cur.budget > 0. */
static bool budget_admit(sb_fault_state *st)
{
    int64_t now = monotonic_us();
    int n = st->cur.budget;
    if (st->window_count < n) {
        st->window[(st->window_head + st->window_count) % n] = now;
        st->window_count++;
        return true;
    }
    /* Full: the oldest of the last n answered requests must have left the window
     * (now - 1 s, now] for this one to be the n-th inside it. */
    if (st->window[st->window_head] > now - 1000000)
        return false;
    st->window[st->window_head] = now;
    st->window_head = (st->window_head + 1) % n;
    return true;
}

sb_fault_kind sb_fault_draw(sb_fault_state *st, sb_faults *snap, bool *cut)
{
    sb_fault_kind kind = SB_FAULT_NONE;
    pthread_mutex_lock(&st->mu);
    *snap = st->cur;
    *cut = false;
    if (st->cur.budget > 0 && !budget_admit(st)) {
        kind = SB_FAULT_429;
    } else if (sb_rng_chance(&st->rng, st->cur.p429)) {
        kind = SB_FAULT_429;
    } else if (st->burst_left > 0) {
        st->burst_left--;
        kind = SB_FAULT_500;
    } else if (sb_rng_chance(&st->rng, st->cur.p500)) {
        st->burst_left = st->cur.burst500 > 0 ? st->cur.burst500 - 1 : 0;
        kind = SB_FAULT_500;
    } else {
        *cut = sb_rng_chance(&st->rng, st->cur.pcut);
    }
    pthread_mutex_unlock(&st->mu);
    return kind;
}
