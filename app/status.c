/* status: `flowetl status`. */
#include "app/status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "core/buf.h"
#include "core/log.h"
#include "sources/source.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "app/stream_select.h"

static const char *const keys_read[] = {"streams", "warn_after", "error_after"};

const char *const *status_config_keys(size_t *n)
{
    *n = sizeof keys_read / sizeof keys_read[0];
    return keys_read;
}

/* ---- selection ---------------------------------------------------------------- */

typedef struct {
    const source_config *conf;
    const char *stream; /* the name in the type's streams table */
} status_item;

typedef struct {
    status_item *items;
    size_t n, cap; /* cap: every stream of every source, so adding never grows it */
} selection;

static void select_add(selection *sel, const source_config *conf, const char *stream)
{
    for (size_t i = 0; i < sel->n; i++)
        if (sel->items[i].conf == conf && strcmp(sel->items[i].stream, stream) == 0)
            return;
    if (sel->n < sel->cap)
        sel->items[sel->n++] = (status_item){conf, stream};
}

/* The streams a source's config enables (`streams`, else every stream of the type).
 * False, after saying why, for a name in `streams` that the type does not have. */
static bool select_configured(selection *sel, const source_config *conf)
{
    const source_def *def = source_find(conf->type);
    if (!stream_select_check_configured(conf, def))
        return false;
    for (int i = 0; i < def->nstreams; i++)
        if (stream_select_is_configured(conf, &def->streams[i]))
            select_add(sel, conf, def->streams[i].name);
    return true;
}

/* "SOURCE" (its configured streams) or "SOURCE.STREAM" (any stream of the type). */
static bool select_target(selection *sel, const config *cfg, const char *target)
{
    const source_config *conf;
    const stream_def *s;
    if (!stream_select_target(cfg, target, &conf, &s))
        return false;
    if (!s)
        return select_configured(sel, conf);
    select_add(sel, conf, s->name);
    return true;
}

/* Fills sel from the request. False (after saying why) on an unknown name; *oom when
 * memory ran out. */
static bool select_streams(selection *sel, const config *cfg, const status_request *req, bool *oom)
{
    size_t cap = 0;
    for (size_t i = 0; i < cfg->nsources; i++)
        cap += (size_t)source_find(cfg->sources[i].type)->nstreams;
    sel->items = calloc(cap ? cap : 1, sizeof *sel->items);
    sel->cap = cap;
    if (!sel->items) {
        *oom = true;
        return false;
    }
    if (req->ntargets == 0) {
        for (size_t i = 0; i < cfg->nsources; i++)
            if (!select_configured(sel, &cfg->sources[i]))
                return false;
        return true;
    }
    for (int t = 0; t < req->ntargets; t++)
        if (!select_target(sel, cfg, req->targets[t]))
            return false;
    return true;
}

/* ---- queries ------------------------------------------------------------------ */

/* One row per selected (source NAME, stream), in selection order: the latest run
 * row of any status, the latest decisive outcome (skipped and running rows tell
 * nothing about the data), the latest success, and the cursor of the source key the
 * stream last loaded with. Matched by source_name: a stream whose source was never
 * registered (no source_key) is seen too. Times as ISO 8601 text in UTC (the
 * session's time zone, see pg_connect). */
static const char streams_sql[] =
    "SELECT l.run_id, l.status, to_char(l.started_at, f.iso), to_char(l.finished_at, f.iso),"
    " l.records, l.inserted, l.updated, d.status, coalesce(l.error, d.error),"
    " to_char(ok.finished_at, f.iso), floor(extract(epoch FROM now() - ok.finished_at))::bigint,"
    " st.cursor::text, to_char(v.at, f.iso), v.checks, v.mismatches, v.errors"
    " FROM (VALUES ('YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) f(iso),"
    " unnest($1::text[], $2::text[]) WITH ORDINALITY AS sel(source_name, stream, ord)"
    " LEFT JOIN LATERAL (SELECT * FROM etl.run_stream r"
    "  WHERE r.source_name = sel.source_name AND r.stream = sel.stream"
    "  ORDER BY r.run_stream_id DESC LIMIT 1) l ON true"
    " LEFT JOIN LATERAL (SELECT r.status, r.error FROM etl.run_stream r"
    "  WHERE r.source_name = sel.source_name AND r.stream = sel.stream"
    "  AND r.status NOT IN ('skipped', 'running') ORDER BY r.run_stream_id DESC LIMIT 1) d ON true"
    " LEFT JOIN LATERAL (SELECT r.finished_at FROM etl.run_stream r"
    "  WHERE r.source_name = sel.source_name AND r.stream = sel.stream"
    "  AND r.status = 'succeeded' ORDER BY r.run_stream_id DESC LIMIT 1) ok ON true"
    " LEFT JOIN LATERAL (SELECT r.source_key FROM etl.run_stream r"
    "  WHERE r.source_name = sel.source_name AND r.stream = sel.stream"
    "  AND r.source_key IS NOT NULL ORDER BY r.run_stream_id DESC LIMIT 1) k ON true"
    " LEFT JOIN etl.sync_state st ON st.source_key = k.source_key AND st.stream = sel.stream"
    /* the last verification of the stream (issue 13): its comparisons */
    " LEFT JOIN LATERAL (SELECT min(rc.checked_at) AS at, count(*) AS checks,"
    "  count(*) FILTER (WHERE rc.status = 'mismatch') AS mismatches,"
    "  count(*) FILTER (WHERE rc.status = 'error') AS errors FROM etl.reconcile rc"
    "  WHERE rc.source_key = k.source_key AND rc.stream = sel.stream"
    "  AND rc.verification_id = (SELECT max(r2.verification_id) FROM etl.reconcile r2"
    "   WHERE r2.source_key = k.source_key AND r2.stream = sel.stream)) v ON true"
    " ORDER BY sel.ord";

enum {
    C_RUN_ID,
    C_STATUS,
    C_STARTED,
    C_FINISHED,
    C_RECORDS,
    C_INSERTED,
    C_UPDATED,
    C_OUTCOME,
    C_ERROR,
    C_LAST_OK,
    C_AGE,
    C_CURSOR,
    C_VERIFIED_AT,
    C_V_CHECKS,
    C_V_MISMATCHES,
    C_V_ERRORS
};

/* The last verification's word: ok, mismatch, error; NULL when never verified. */
static const char *verification_of(const PGresult *res, int row)
{
    if (PQgetisnull(res, row, C_VERIFIED_AT))
        return NULL;
    if (strtoll(PQgetvalue(res, row, C_V_ERRORS), NULL, 10) > 0)
        return "error";
    return strtoll(PQgetvalue(res, row, C_V_MISMATCHES), NULL, 10) > 0 ? "mismatch" : "ok";
}

/* The 5 latest runs; with a selection given, those that ran one of its sources. */
static const char runs_sql[] =
    "SELECT r.run_id, r.status, to_char(r.started_at, f.iso), to_char(r.finished_at, f.iso),"
    " r.reason, r.host, r.pid"
    " FROM (VALUES ('YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) f(iso), etl.run r"
    " WHERE $1::text[] IS NULL OR EXISTS (SELECT 1 FROM etl.run_stream rs"
    "  WHERE rs.run_id = r.run_id AND rs.source_name = ANY ($1::text[]))"
    " ORDER BY r.run_id DESC LIMIT 5";

/* The server's clock: ages are measured by it too. */
static const char now_sql[] = "SELECT to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

/* A PostgreSQL array literal of the items' source names or streams. */
static bool array_literal(buf *b, const selection *sel, bool streams)
{
    bool ok = buf_putc(b, '{');
    for (size_t i = 0; ok && i < sel->n; i++) {
        const char *s = streams ? sel->items[i].stream : sel->items[i].conf->name;
        ok = (i == 0 || buf_putc(b, ',')) && buf_putc(b, '"');
        for (; ok && *s; s++) {
            if (*s == '"' || *s == '\\')
                ok = buf_putc(b, '\\');
            ok = ok && buf_putc(b, *s);
        }
        ok = ok && buf_putc(b, '"');
    }
    return ok && buf_putc(b, '}');
}

/* ---- judging ------------------------------------------------------------------ */

typedef enum { V_OK, V_WARN, V_ERROR } verdict;

typedef struct {
    verdict v;
    const char *word;      /* the table's verdict: ok, warn, STALE, FAILED, NEVER */
    const char *freshness; /* pass, warn, error (also: never succeeded), unchecked */
    bool has_warn, has_error;
    int64_t warn_s, error_s; /* thresholds in seconds, when set */
    char problem[320];       /* why it is not ok; "" when it is */
} judgement;

static bool is_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) != 0;
}

static int64_t int_at(const PGresult *res, int row, int col)
{
    return is_null(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* "3d 4h", "2h 5m", "5m 3s", "12s": the two largest units, a zero second one left out. */
static void format_age(int64_t secs, char *dst, size_t n)
{
    static const int64_t size[] = {86400, 3600, 60, 1};
    static const char unit[] = "dhms";
    size_t i = 0;
    if (secs < 0)
        secs = 0;
    while (i < 3 && secs < size[i])
        i++;
    int64_t first = secs / size[i];
    int64_t second = i < 3 ? secs % size[i] / size[i + 1] : 0;
    if (second)
        snprintf(dst, n, "%" PRId64 "%c %" PRId64 "%c", first, unit[i], second, unit[i + 1]);
    else
        snprintf(dst, n, "%" PRId64 "%c", first, unit[i]);
}

static void read_thresholds(const source_config *conf, judgement *j)
{
    int64_t us;
    j->has_warn = config_duration(conf, "warn_after", &us);
    j->warn_s = us / 1000000;
    j->has_error = config_duration(conf, "error_after", &us);
    j->error_s = us / 1000000;
}

static const char *freshness_of(const judgement *j, bool succeeded_ever, int64_t age)
{
    if (!succeeded_ever)
        return "error";
    if (j->has_error && age > j->error_s)
        return "error";
    if (j->has_warn && age > j->warn_s)
        return "warn";
    return j->has_warn || j->has_error ? "pass" : "unchecked";
}

static void set_verdict(judgement *j, verdict v, const char *word)
{
    j->v = v;
    j->word = word;
}

/* The stream's verdict from its query row. */
static void judge(const status_item *it, const PGresult *res, int row, judgement *j)
{
    char age_text[32], limit[32];
    bool ran = !is_null(res, row, C_STATUS);
    bool succeeded_ever = !is_null(res, row, C_LAST_OK);
    const char *outcome = is_null(res, row, C_OUTCOME) ? NULL : PQgetvalue(res, row, C_OUTCOME);
    int64_t age = int_at(res, row, C_AGE);

    read_thresholds(it->conf, j);
    j->freshness = freshness_of(j, succeeded_ever, age);
    j->problem[0] = '\0';
    set_verdict(j, V_OK, "ok");
    format_age(age, age_text, sizeof age_text);
    if (!ran) {
        set_verdict(j, V_ERROR, "NEVER");
        buf_textf(j->problem, sizeof j->problem, "never ran");
    } else if (outcome && strcmp(outcome, "succeeded") != 0) {
        set_verdict(j, V_ERROR, "FAILED");
        buf_textf(j->problem, sizeof j->problem, "latest run %s%s%s", outcome,
                  is_null(res, row, C_ERROR) ? "" : ": ", PQgetvalue(res, row, C_ERROR));
    } else if (!succeeded_ever) {
        set_verdict(j, V_ERROR, "NEVER");
        buf_textf(j->problem, sizeof j->problem, "never succeeded (latest run %s)",
                  PQgetvalue(res, row, C_STATUS));
    } else if (strcmp(j->freshness, "error") == 0) {
        set_verdict(j, V_ERROR, "STALE");
        format_age(j->error_s, limit, sizeof limit);
        buf_textf(j->problem, sizeof j->problem, "last success %s ago, older than error_after %s",
                  age_text, limit);
    } else if (strcmp(j->freshness, "warn") == 0) {
        set_verdict(j, V_WARN, "warn");
        format_age(j->warn_s, limit, sizeof limit);
        buf_textf(j->problem, sizeof j->problem, "last success %s ago, older than warn_after %s",
                  age_text, limit);
    }
}

/* ---- text ------------------------------------------------------------------------ */

/* An error as one line (they are stored as one, but the table must not break). */
static void one_line(const char *s, char *dst, size_t n)
{
    buf_textf(dst, n, "%s", s);
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static const char *or_dash(const PGresult *res, int row, int col)
{
    return is_null(res, row, col) ? "-" : PQgetvalue(res, row, col);
}

static void print_streams(const selection *sel, const PGresult *res, const judgement *js)
{
    char name[256], age[32], line[sizeof(((fe_err *)0)->msg) + 64];
    printf("%-32s %-11s %-7s %-20s %-9s %9s %9s %9s  %s\n", "stream", "last run", "verdict",
           "last success (UTC)", "age", "records", "inserted", "updated", "cursor");
    for (size_t i = 0; i < sel->n; i++) {
        int r = (int)i;
        snprintf(name, sizeof name, "%s.%s", sel->items[i].conf->name, sel->items[i].stream);
        if (is_null(res, r, C_LAST_OK))
            snprintf(age, sizeof age, "-");
        else
            format_age(int_at(res, r, C_AGE), age, sizeof age);
        printf("%-32s %-11s %-7s %-20s %-9s %9s %9s %9s  %s\n", name,
               is_null(res, r, C_STATUS) ? "never ran" : PQgetvalue(res, r, C_STATUS), js[i].word,
               is_null(res, r, C_LAST_OK) ? "never" : PQgetvalue(res, r, C_LAST_OK), age,
               or_dash(res, r, C_RECORDS), or_dash(res, r, C_INSERTED), or_dash(res, r, C_UPDATED),
               or_dash(res, r, C_CURSOR));
        if (!is_null(res, r, C_ERROR)) {
            one_line(PQgetvalue(res, r, C_ERROR), line, sizeof line);
            printf("    error: %s\n", line);
        }
        if (verification_of(res, r))
            printf("    verified: %s at %s (%s checks, %s mismatches, %s errors)\n",
                   verification_of(res, r), PQgetvalue(res, r, C_VERIFIED_AT),
                   PQgetvalue(res, r, C_V_CHECKS), PQgetvalue(res, r, C_V_MISMATCHES),
                   PQgetvalue(res, r, C_V_ERRORS));
    }
    if (sel->n == 0)
        printf("(no source configured: nothing to report)\n");
}

static void print_runs(const PGresult *runs)
{
    char reason[sizeof(((fe_err *)0)->msg) + 64];
    printf("\n%-8s %-12s %-20s %-20s %s\n", "run", "status", "started (UTC)", "finished (UTC)",
           "reason");
    for (int r = 0; r < PQntuples(runs); r++) {
        one_line(PQgetvalue(runs, r, 4), reason, sizeof reason);
        printf("%-8s %-12s %-20s %-20s %s\n", PQgetvalue(runs, r, 0), PQgetvalue(runs, r, 1),
               PQgetvalue(runs, r, 2), or_dash(runs, r, 3), reason);
    }
    if (PQntuples(runs) == 0)
        printf("(no run yet: try `flowetl run`)\n");
}

/* ---- JSON ------------------------------------------------------------------------ */

static void j_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* key: the column's text, or null. */
static void j_text_col(yajl_gen g, const char *key, const PGresult *res, int row, int col)
{
    j_str(g, key);
    if (is_null(res, row, col))
        yajl_gen_null(g);
    else
        j_str(g, PQgetvalue(res, row, col));
}

static void j_int_col(yajl_gen g, const char *key, const PGresult *res, int row, int col)
{
    j_str(g, key);
    if (is_null(res, row, col))
        yajl_gen_null(g);
    else
        yajl_gen_integer(g, int_at(res, row, col));
}

static void j_seconds(yajl_gen g, const char *key, bool set, int64_t secs)
{
    j_str(g, key);
    if (set)
        yajl_gen_integer(g, secs);
    else
        yajl_gen_null(g);
}

/* yajl's parser feeding its generator: copies a JSON value (the cursor, jsonb text)
 * into the document as JSON rather than as a string. */
static int rf_null(void *g)
{
    return yajl_gen_null(g) == yajl_gen_status_ok;
}
static int rf_bool(void *g, int b)
{
    return yajl_gen_bool(g, b) == yajl_gen_status_ok;
}
static int rf_number(void *g, const char *s, size_t n)
{
    return yajl_gen_number(g, s, n) == yajl_gen_status_ok;
}
static int rf_string(void *g, const unsigned char *s, size_t n)
{
    return yajl_gen_string(g, s, n) == yajl_gen_status_ok;
}
static int rf_start_map(void *g)
{
    return yajl_gen_map_open(g) == yajl_gen_status_ok;
}
static int rf_end_map(void *g)
{
    return yajl_gen_map_close(g) == yajl_gen_status_ok;
}
static int rf_start_array(void *g)
{
    return yajl_gen_array_open(g) == yajl_gen_status_ok;
}
static int rf_end_array(void *g)
{
    return yajl_gen_array_close(g) == yajl_gen_status_ok;
}

static const yajl_callbacks reformat = {rf_null,    rf_bool,        NULL,         NULL,
                                        rf_number,  rf_string,      rf_start_map, rf_string,
                                        rf_end_map, rf_start_array, rf_end_array};

static void j_raw_json(yajl_gen g, const char *key, const PGresult *res, int row, int col)
{
    j_str(g, key);
    if (is_null(res, row, col)) {
        yajl_gen_null(g);
        return;
    }
    const char *text = PQgetvalue(res, row, col);
    yajl_handle h = yajl_alloc(&reformat, NULL, g);
    if (!h || yajl_parse(h, (const unsigned char *)text, strlen(text)) != yajl_status_ok ||
        yajl_complete_parse(h) != yajl_status_ok)
        log_warn(NULL, "status: a cursor is not valid JSON: %.80s", text);
    if (h)
        yajl_free(h);
}

static void j_last_run(yajl_gen g, const PGresult *res, int r)
{
    j_str(g, "last_run");
    if (is_null(res, r, C_STATUS)) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    j_int_col(g, "run_id", res, r, C_RUN_ID);
    j_text_col(g, "status", res, r, C_STATUS);
    j_text_col(g, "started_at", res, r, C_STARTED);
    j_text_col(g, "finished_at", res, r, C_FINISHED);
    j_int_col(g, "records", res, r, C_RECORDS);
    j_int_col(g, "inserted", res, r, C_INSERTED);
    j_int_col(g, "updated", res, r, C_UPDATED);
    yajl_gen_map_close(g);
}

/* "verification": the stream's last verification (issue 13), or null. */
static void j_verification(yajl_gen g, const PGresult *res, int r)
{
    j_str(g, "verification");
    if (!verification_of(res, r)) {
        yajl_gen_null(g);
        return;
    }
    yajl_gen_map_open(g);
    j_str(g, "status");
    j_str(g, verification_of(res, r));
    j_text_col(g, "checked_at", res, r, C_VERIFIED_AT);
    j_int_col(g, "checks", res, r, C_V_CHECKS);
    j_int_col(g, "mismatches", res, r, C_V_MISMATCHES);
    j_int_col(g, "errors", res, r, C_V_ERRORS);
    yajl_gen_map_close(g);
}

static void j_stream(yajl_gen g, const status_item *it, const PGresult *res, int r,
                     const judgement *j)
{
    static const char *const names[] = {"ok", "warn", "error"};
    char error[sizeof(((fe_err *)0)->msg) + 64];
    yajl_gen_map_open(g);
    j_str(g, "source");
    j_str(g, it->conf->name);
    j_str(g, "stream");
    j_str(g, it->stream);
    j_str(g, "status");
    j_str(g, names[j->v]);
    j_str(g, "problem");
    if (j->problem[0])
        j_str(g, j->problem);
    else
        yajl_gen_null(g);
    j_last_run(g, res, r);
    j_verification(g, res, r);
    j_text_col(g, "outcome", res, r, C_OUTCOME);
    j_str(g, "error");
    if (is_null(res, r, C_ERROR)) {
        yajl_gen_null(g);
    } else {
        one_line(PQgetvalue(res, r, C_ERROR), error, sizeof error);
        j_str(g, error);
    }
    j_text_col(g, "last_success_at", res, r, C_LAST_OK);
    j_int_col(g, "age_seconds", res, r, C_AGE);
    j_str(g, "freshness");
    j_str(g, j->freshness);
    j_seconds(g, "warn_after_seconds", j->has_warn, j->warn_s);
    j_seconds(g, "error_after_seconds", j->has_error, j->error_s);
    j_raw_json(g, "cursor", res, r, C_CURSOR);
    yajl_gen_map_close(g);
}

static void j_runs(yajl_gen g, const PGresult *runs)
{
    j_str(g, "runs");
    yajl_gen_array_open(g);
    for (int r = 0; r < PQntuples(runs); r++) {
        yajl_gen_map_open(g);
        j_int_col(g, "run_id", runs, r, 0);
        j_text_col(g, "status", runs, r, 1);
        j_text_col(g, "started_at", runs, r, 2);
        j_text_col(g, "finished_at", runs, r, 3);
        j_text_col(g, "reason", runs, r, 4);
        j_text_col(g, "host", runs, r, 5);
        j_int_col(g, "pid", runs, r, 6);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static verdict overall(const judgement *js, size_t n)
{
    verdict v = V_OK;
    for (size_t i = 0; i < n; i++)
        if (js[i].v > v)
            v = js[i].v;
    return v;
}

static bool print_json(const selection *sel, const PGresult *res, const judgement *js,
                       const PGresult *runs, const char *now)
{
    static const char *const names[] = {"ok", "warn", "error"};
    verdict v = overall(js, sel->n);
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return false;
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, "  ");
    yajl_gen_map_open(g);
    j_str(g, "status");
    j_str(g, names[v]);
    j_str(g, "exit_code");
    yajl_gen_integer(g, v == V_ERROR ? 1 : 0);
    j_str(g, "checked_at");
    j_str(g, now);
    j_str(g, "streams");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < sel->n; i++)
        j_stream(g, &sel->items[i], res, (int)i, &js[i]);
    yajl_gen_array_close(g);
    j_runs(g, runs);
    yajl_gen_map_close(g);
    const unsigned char *out;
    size_t len;
    bool ok =
        yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok && fwrite(out, 1, len, stdout) == len;
    yajl_gen_free(g);
    return ok;
}

/* ---- the command ----------------------------------------------------------------- */

/* One stderr line per stream that is not ok: warnings for warn_after, errors else. */
static void log_problems(const selection *sel, const judgement *js)
{
    for (size_t i = 0; i < sel->n; i++) {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s.%s", sel->items[i].conf->name, sel->items[i].stream);
        if (js[i].v == V_WARN)
            log_warn(ctx, "%s", js[i].problem);
        else if (js[i].v == V_ERROR)
            log_error(ctx, "%s", js[i].problem);
    }
}

typedef struct {
    PGconn *conn;
    PGresult *streams, *runs, *now;
    judgement *js;
    buf names, stream_list;
} status_state;

/* Runs the two queries. Returns 0, or the exit code of the failure. */
static int query(status_state *st, const config *cfg, const selection *sel,
                 const status_request *req)
{
    fe_err err = {0};
    st->conn = pg_connect(cfg->dsn, &err);
    if (!st->conn) {
        log_error(NULL, "cannot reach the warehouse: %s", err.msg);
        return 3;
    }
    if (migrate_check(st->conn, &err) != FE_OK) {
        /* Like run and rebind: a schema missing or out of date is the user's to
         * fix (2); failing to read it at all is the warehouse's (3). */
        log_error(NULL, "%s", err.msg);
        return err.code == FE_ECONFIG ? 2 : 3;
    }
    if (!array_literal(&st->names, sel, false) || !array_literal(&st->stream_list, sel, true)) {
        log_error(NULL, "out of memory");
        return 1;
    }
    const char *params[2] = {buf_cstr(&st->names), buf_cstr(&st->stream_list)};
    st->streams = pg_query(st->conn, streams_sql, 2, params, &err);
    const char *run_filter = req->ntargets ? params[0] : NULL;
    st->runs = st->streams ? pg_query(st->conn, runs_sql, 1, &run_filter, &err) : NULL;
    st->now = st->runs ? pg_query(st->conn, now_sql, 0, NULL, &err) : NULL;
    if (!st->now) {
        log_error(NULL, "status query failed: %s", err.msg);
        return PQstatus(st->conn) == CONNECTION_OK ? 1 : 3;
    }
    return 0;
}

int status_run(const config *cfg, const status_request *req)
{
    selection sel = {0};
    status_state st = {0};
    bool oom = false;
    int code = 2;
    buf_init(&st.names, 1 << 20);
    buf_init(&st.stream_list, 1 << 20);
    if (!select_streams(&sel, cfg, req, &oom)) {
        code = oom ? 1 : 2;
        goto cleanup;
    }
    code = query(&st, cfg, &sel, req);
    if (code)
        goto cleanup;
    st.js = calloc(sel.n ? sel.n : 1, sizeof *st.js);
    if (!st.js) {
        code = 1;
        goto cleanup;
    }
    for (size_t i = 0; i < sel.n; i++)
        judge(&sel.items[i], st.streams, (int)i, &st.js[i]);
    if (req->json) {
        print_json(&sel, st.streams, st.js, st.runs, PQgetvalue(st.now, 0, 0));
    } else {
        print_streams(&sel, st.streams, st.js);
        print_runs(st.runs);
    }
    fflush(stdout);
    log_problems(&sel, st.js);
    code = overall(st.js, sel.n) == V_ERROR ? 1 : 0;
cleanup:
    free(st.js);
    PQclear(st.streams);
    PQclear(st.runs);
    PQclear(st.now);
    if (st.conn)
        PQfinish(st.conn);
    buf_term(&st.names);
    buf_term(&st.stream_list);
    free(sel.items);
    return code;
}
