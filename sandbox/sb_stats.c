#include "sb_stats.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sb_module.h"

enum {
    C_REQUESTS,
    C_2XX,
    C_400,
    C_401,
    C_404,
    C_422,
    C_429,
    C_5XX,
    C_OTHER,
    C_CUT,
    C_MALFORMED,
    C_LOGINS,
    C_REFRESHES,
    C_COUNT
};

static const char *const counter_names[C_COUNT] = {
    "requests",   "status_2xx", "status_400", "status_401",   "status_404",
    "status_422", "status_429", "status_5xx", "status_other", "cut",
    "malformed",  "logins",     "refreshes"};

struct sb_stats {
    atomic_ullong c[C_COUNT];
    const char *const *endpoints;
    size_t nendpoints;
    atomic_ullong *per_endpoint;
};

sb_stats *sb_stats_new(const char *const *endpoints, size_t nendpoints)
{
    sb_stats *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->per_endpoint = calloc(nendpoints + 1, sizeof *st->per_endpoint);
    if (st->per_endpoint == NULL) {
        free(st);
        return NULL;
    }
    st->endpoints = endpoints;
    st->nendpoints = nendpoints;
    sb_stats_reset(st);
    return st;
}

void sb_stats_free(sb_stats *st)
{
    if (st == NULL)
        return;
    free(st->per_endpoint);
    free(st);
}

static int status_counter(int status)
{
    if (status >= 200 && status < 300)
        return C_2XX;
    if (status >= 500)
        return C_5XX;
    switch (status) {
    case 400:
        return C_400;
    case 401:
        return C_401;
    case 404:
        return C_404;
    case 422:
        return C_422;
    case 429:
        return C_429;
    default:
        return C_OTHER;
    }
}

void sb_stats_count(sb_stats *st, int status, const char *endpoint, bool cut, bool malformed,
                    int event)
{
    atomic_fetch_add(&st->c[C_REQUESTS], 1);
    atomic_fetch_add(&st->c[status_counter(status)], 1);
    if (cut)
        atomic_fetch_add(&st->c[C_CUT], 1);
    if (malformed)
        atomic_fetch_add(&st->c[C_MALFORMED], 1);
    if (event == SB_EVENT_LOGIN)
        atomic_fetch_add(&st->c[C_LOGINS], 1);
    if (event == SB_EVENT_REFRESH)
        atomic_fetch_add(&st->c[C_REFRESHES], 1);
    if (endpoint == NULL)
        return;
    for (size_t i = 0; i < st->nendpoints; i++)
        if (st->endpoints[i] == endpoint || strcmp(st->endpoints[i], endpoint) == 0) {
            atomic_fetch_add(&st->per_endpoint[i], 1);
            return;
        }
}

void sb_stats_reset(sb_stats *st)
{
    for (int i = 0; i < C_COUNT; i++)
        atomic_store(&st->c[i], 0);
    for (size_t i = 0; i < st->nendpoints; i++)
        atomic_store(&st->per_endpoint[i], 0);
}

typedef struct {
    char name[96];
    unsigned long long value;
} stat_line;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const stat_line *)a)->name, ((const stat_line *)b)->name);
}

void sb_stats_render(sb_stats *st, sb_buf *out)
{
    size_t n = C_COUNT + st->nendpoints;
    stat_line *lines = calloc(n, sizeof *lines);
    if (lines == NULL) {
        out->failed = true;
        return;
    }
    for (int i = 0; i < C_COUNT; i++) {
        snprintf(lines[i].name, sizeof lines[i].name, "%s", counter_names[i]);
        lines[i].value = atomic_load(&st->c[i]);
    }
    for (size_t i = 0; i < st->nendpoints; i++) {
        stat_line *l = &lines[C_COUNT + i];
        snprintf(l->name, sizeof l->name, "requests.%s", st->endpoints[i]);
        l->value = atomic_load(&st->per_endpoint[i]);
    }
    qsort(lines, n, sizeof *lines, by_name);
    for (size_t i = 0; i < n; i++)
        sb_buf_printf(out, "%s\t%llu\n", lines[i].name, lines[i].value);
    free(lines);
}
