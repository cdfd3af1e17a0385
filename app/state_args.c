/* state_args: see state_args.h. */
#include "app/state_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeutil.h"

#define DAY_US (86400 * TIME_US_PER_SEC)
#define SHARDS_MAX 4096

bool state_parse_date(const char *text, int64_t *days)
{
    int64_t us;
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-' ||
        !time_parse_iso(text, 10, &us))
        return false;
    if (days)
        *days = us >= 0 ? us / DAY_US : -((-us + DAY_US - 1) / DAY_US);
    return true;
}

/* The value of "--name VALUE" or "--name=VALUE" at args[*i] (moving *i past
 * it); NULL when args[*i] is not that option. *missing when the value is
 * absent. */
static const char *option_value(int nargs, const char *const *args, int *i, const char *name,
                                bool *missing)
{
    size_t len = strlen(name);
    const char *a = args[*i];
    if (strncmp(a, name, len) != 0)
        return NULL;
    if (a[len] == '=')
        return a + len + 1;
    if (a[len] != '\0')
        return NULL;
    if (*i + 1 >= nargs) {
        *missing = true;
        return NULL;
    }
    return args[++*i];
}

/* Splits a comma list into a->refresh (copied into a->storage's end). */
static bool add_refresh_list(run_args *a, const char *list, size_t *used, size_t cap, char *why,
                             size_t size)
{
    char *dst = a->storage + *used;
    size_t len = strlen(list);
    if (*used + len + 1 > cap)
        return snprintf(why, size, "--full-refresh lists too long"), false;
    memcpy(dst, list, len + 1);
    *used += len + 1;
    for (char *item = dst;; item++) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item)
            return snprintf(why, size, "--full-refresh=%s: an empty item", list), false;
        if (a->nrefresh >= STATE_ARGS_MAX)
            return snprintf(why, size, "--full-refresh: more than %d streams", STATE_ARGS_MAX),
                   false;
        a->refresh[a->nrefresh++] = item;
        if (!comma)
            return true;
        item = comma;
    }
}

/* The date checks of --from/--to. */
static bool check_window(const run_args *a, char *why, size_t size)
{
    int64_t from, to;
    if (a->to && !a->from)
        return snprintf(why, size, "--to needs --from (a window has a start)"), false;
    if (!a->from)
        return true;
    if (a->full_refresh)
        return snprintf(why, size,
                        "--from and --full-refresh exclude each other (a window reads part of "
                        "a stream, a full refresh all of it)"),
               false;
    if (!state_parse_date(a->from, &from))
        return snprintf(why, size, "--from '%.40s' is not a date (YYYY-MM-DD)", a->from), false;
    if (a->to && !state_parse_date(a->to, &to))
        return snprintf(why, size, "--to '%.40s' is not a date (YYYY-MM-DD)", a->to), false;
    if (a->to && from > to)
        return snprintf(why, size, "--from %s is after --to %s", a->from, a->to), false;
    return true;
}

/* A decimal number of at most 4 digits, the whole of [text, end). */
static bool small_number(const char *text, const char *end, int *out)
{
    int n = 0;
    if (end == text || end - text > 4)
        return false;
    for (const char *c = text; c < end; c++) {
        if (*c < '0' || *c > '9')
            return false;
        n = n * 10 + (*c - '0');
    }
    *out = n;
    return true;
}

bool run_shard_parse(const char *text, const char *what, int *index, int *count, char *why,
                     size_t size)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    int i, n;
    if (!slash || !small_number(text, slash, &i) ||
        !small_number(slash + 1, slash + 1 + strlen(slash + 1), &n))
        return snprintf(why, size, "%s '%.40s' is not I/N (e.g. 0/4: shard 0 of 4)", what,
                        text ? text : ""),
               false;
    if (n < 1 || n > SHARDS_MAX)
        return snprintf(why, size, "%s %.40s: N must be 1 to %d", what, text, SHARDS_MAX), false;
    if (i >= n)
        return snprintf(why, size, "%s %.40s: I counts from 0 and must be below N (%d)", what, text,
                        n),
               false;
    *index = i;
    *count = n;
    return true;
}

int run_shard_of(const char *name, int count)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64-bit */
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ULL;
    }
    return (int)(h % (uint64_t)count);
}

bool run_args_parse(int nargs, const char *const *args, run_args *out, char *why, size_t size)
{
    size_t cap = sizeof out->storage, used = 0;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < nargs; i++) {
        const char *a = args[i], *v;
        bool missing = false;
        if (strcmp(a, "--full-refresh") == 0)
            out->full_refresh = true;
        else if (strncmp(a, "--full-refresh=", 15) == 0) {
            out->full_refresh = true;
            if (!add_refresh_list(out, a + 15, &used, cap, why, size))
                return false;
        } else if ((v = option_value(nargs, args, &i, "--from", &missing)) != NULL || missing) {
            if (missing || out->from)
                return snprintf(why, size, "--from %s", missing ? "needs a DATE" : "given twice"),
                       false;
            out->from = v;
        } else if ((v = option_value(nargs, args, &i, "--to", &missing)) != NULL || missing) {
            if (missing || out->to)
                return snprintf(why, size, "--to %s", missing ? "needs a DATE" : "given twice"),
                       false;
            out->to = v;
        } else if ((v = option_value(nargs, args, &i, "--shard", &missing)) != NULL || missing) {
            if (missing || out->shard_count)
                return snprintf(why, size, "--shard %s", missing ? "needs I/N" : "given twice"),
                       false;
            if (!run_shard_parse(v, "--shard", &out->shard_index, &out->shard_count, why, size))
                return false;
        } else if ((v = option_value(nargs, args, &i, "--max-sources", &missing)) != NULL ||
                   missing) {
            if (missing || out->max_sources)
                return snprintf(why, size, "--max-sources %s",
                                missing ? "needs a number" : "given twice"),
                       false;
            if (!small_number(v, v + strlen(v), &out->max_sources) || out->max_sources < 1 ||
                out->max_sources > RUN_MAX_SOURCES)
                return snprintf(why, size, "--max-sources '%.40s' is not a number from 1 to %d", v,
                                RUN_MAX_SOURCES),
                       false;
        } else if (a[0] == '-')
            return snprintf(why, size, "unknown option '%.60s' for run", a), false;
        else if (out->ntargets >= STATE_ARGS_MAX)
            return snprintf(why, size, "more than %d targets", STATE_ARGS_MAX), false;
        else
            out->targets[out->ntargets++] = a;
    }
    return check_window(out, why, size);
}

static const char *const verbs[] = {"list", "show", "set", "reset"};

static bool state_usage(char *why, size_t size, const char *what)
{
    snprintf(why, size,
             "%s; usage: flowetl state list [SOURCE[.STREAM]...] [--json] | show "
             "SOURCE.STREAM [--json] | set SOURCE.STREAM CURSOR_JSON --yes | reset "
             "SOURCE[.STREAM] --yes",
             what);
    return false;
}

/* The arity of each verb: show/set need one SOURCE.STREAM, reset one target. */
static bool check_state_targets(const state_args *s, char *why, size_t size)
{
    char what[160];
    bool need_stream = s->verb == STATE_SHOW || s->verb == STATE_SET;
    if (s->verb == STATE_LIST)
        return true;
    if (s->ntargets != 1) {
        snprintf(what, sizeof what, "state %s takes one %s", verbs[s->verb],
                 need_stream ? "SOURCE.STREAM" : "SOURCE[.STREAM]");
        return state_usage(why, size, what);
    }
    if (need_stream && !strchr(s->targets[0], '.')) {
        snprintf(what, sizeof what, "state %s needs SOURCE.STREAM, not '%.60s'", verbs[s->verb],
                 s->targets[0]);
        return state_usage(why, size, what);
    }
    if (s->json && s->verb != STATE_SHOW)
        return state_usage(why, size, "--json is for state list and show");
    if (s->yes && s->verb == STATE_SHOW)
        return state_usage(why, size, "--yes is for state set and reset");
    return true;
}

bool state_args_parse(int nargs, const char *const *args, state_args *out, char *why, size_t size)
{
    memset(out, 0, sizeof *out);
    if (nargs < 1)
        return state_usage(why, size, "state needs a subcommand");
    int v = 0;
    while (v < 4 && strcmp(args[0], verbs[v]) != 0)
        v++;
    if (v == 4) {
        char what[96];
        snprintf(what, sizeof what, "unknown state subcommand '%.40s'", args[0]);
        return state_usage(why, size, what);
    }
    out->verb = (state_verb)v;
    for (int i = 1; i < nargs; i++) {
        const char *a = args[i];
        if (strcmp(a, "--json") == 0)
            out->json = true;
        else if (strcmp(a, "--yes") == 0)
            out->yes = true;
        else if (a[0] == '-' && !(out->verb == STATE_SET && out->ntargets == 1 && !out->cursor)) {
            char what[96];
            snprintf(what, sizeof what, "unknown option '%.40s' for state %s", a, verbs[v]);
            return state_usage(why, size, what);
        } else if (out->verb == STATE_SET && out->ntargets == 1 && !out->cursor)
            out->cursor = a;
        else if (out->ntargets >= STATE_ARGS_MAX)
            return state_usage(why, size, "too many targets");
        else
            out->targets[out->ntargets++] = a;
    }
    if (out->verb == STATE_SET && out->ntargets == 1 && !out->cursor)
        return state_usage(why, size, "state set needs CURSOR_JSON after SOURCE.STREAM");
    if (out->verb == STATE_LIST && out->yes)
        return state_usage(why, size, "--yes is for state set and reset");
    return check_state_targets(out, why, size);
}
