/* state: `flowetl state` and the run side of full-refresh requests (see state.h). */
#include "app/state.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "core/buf.h"
#include "core/log.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "load/source_id.h"
#include "app/runner.h"
#include "app/stream_select.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_WAREHOUSE = 3, EXIT_LOCKED = 4 };

#define CURSOR_COMPACT_MAX 60

/* ---- config --------------------------------------------------------------------- */

/* True when target (SOURCE or SOURCE.STREAM) names source `name`. */
static bool target_names(const char *target, const char *name)
{
    size_t len = strlen(name);
    return strncmp(target, name, len) == 0 && (target[len] == '\0' || target[len] == '.');
}

static bool selects(const state_args *a, const char *name)
{
    if (a->ntargets == 0)
        return true;
    for (int i = 0; i < a->ntargets; i++)
        if (target_names(a->targets[i], name))
            return true;
    return false;
}

fe_rc state_resolve_config(config *cfg, const state_args *a, fe_err *err)
{
    for (size_t i = 0; i < cfg->nsources; i++) {
        const source_config *sc = &cfg->sources[i];
        const char *keys[12];
        if (!selects(a, sc->name))
            continue;
        size_t n = source_identity_keys(source_find(sc->type), keys, 10);
        keys[n++] = "streams";
        keys[n++] = "timezone";
        FE_TRY(config_resolve_source(cfg, sc->name, keys, n, err));
    }
    return FE_OK;
}

/* ---- selection -------------------------------------------------------------------- */

typedef struct {
    const source_config *conf;
    const stream_def *def;
} state_item;

typedef struct {
    state_item v[256];
    int n;
} state_items;

static void items_add(state_items *it, const source_config *conf, const stream_def *s)
{
    for (int i = 0; i < it->n; i++)
        if (it->v[i].conf == conf && it->v[i].def == s)
            return;
    if (it->n < (int)(sizeof it->v / sizeof it->v[0]))
        it->v[it->n++] = (state_item){conf, s};
}

static bool items_add_configured(state_items *it, const source_config *conf)
{
    const source_def *def = source_find(conf->type);
    if (!stream_select_check_configured(conf, def))
        return false;
    for (int i = 0; i < def->nstreams; i++)
        if (stream_select_is_configured(conf, &def->streams[i]))
            items_add(it, conf, &def->streams[i]);
    return true;
}

/* The streams the targets name (none: every configured stream). False after
 * logging an unknown name. */
static bool select_items(const config *cfg, const state_args *a, state_items *it)
{
    it->n = 0;
    if (a->ntargets == 0) {
        for (size_t i = 0; i < cfg->nsources; i++)
            if (!items_add_configured(it, &cfg->sources[i]))
                return false;
        return true;
    }
    for (int t = 0; t < a->ntargets; t++) {
        const source_config *conf;
        const stream_def *s;
        if (!stream_select_target(cfg, a->targets[t], &conf, &s))
            return false;
        if (s)
            items_add(it, conf, s);
        else if (!items_add_configured(it, conf))
            return false;
    }
    return true;
}

/* ---- reading a stream's row --------------------------------------------------------- */

/* One row for (source NAME, stream): matched through the dw.dim_source row bound to
 * NAME, so a stream whose source never loaded is a row of NULLs. */
static const char row_sql[] =
    "SELECT s.source_key, st.cursor::text, jsonb_pretty(st.cursor),"
    " CASE WHEN st.cursor IS NOT NULL THEN to_char(st.updated_at, f.iso) END,"
    " CASE WHEN st.cursor IS NOT NULL THEN st.run_id END,"
    " to_char(st.full_refresh_requested_at, f.iso), st.full_refresh_requested_by,"
    " json_build_object('source', $1::text, 'stream', $2::text, 'cursor', st.cursor,"
    "  'updated_at', CASE WHEN st.cursor IS NOT NULL THEN to_char(st.updated_at, f.iso) END,"
    "  'run_id', CASE WHEN st.cursor IS NOT NULL THEN st.run_id END,"
    "  'full_refresh_pending', st.full_refresh_requested_at IS NOT NULL,"
    "  'full_refresh_requested_at', to_char(st.full_refresh_requested_at, f.iso),"
    "  'full_refresh_requested_by', st.full_refresh_requested_by)::text"
    " FROM (VALUES ('YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) f(iso)"
    " LEFT JOIN LATERAL (SELECT source_key FROM dw.dim_source WHERE name = $1"
    "  ORDER BY source_key DESC LIMIT 1) s ON true"
    " LEFT JOIN etl.sync_state st ON st.source_key = s.source_key AND st.stream = $2";

enum { R_KEY, R_CURSOR, R_PRETTY, R_UPDATED, R_RUN, R_REQ_AT, R_REQ_BY, R_JSON };

static PGresult *read_row(PGconn *conn, const state_item *it, fe_err *err)
{
    const char *params[2] = {it->conf->name, it->def->name};
    PGresult *r = pg_query(conn, row_sql, 2, params, err);
    if (r && PQntuples(r) != 1) {
        PQclear(r);
        fe_err_set(err, FE_EPG, "reading the state of %s.%s: no row", it->conf->name,
                   it->def->name);
        return NULL;
    }
    return r;
}

static const char *col(const PGresult *r, int c)
{
    return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

/* The cursor cut to CURSOR_COMPACT_MAX bytes (at a character boundary), "-" when none. */
static void compact_cursor(const char *cursor, char *dst, size_t size)
{
    if (!cursor) {
        snprintf(dst, size, "-");
        return;
    }
    size_t len = strlen(cursor);
    if (len <= CURSOR_COMPACT_MAX) {
        snprintf(dst, size, "%s", cursor);
        return;
    }
    size_t cut = buf_utf8_floor(cursor, CURSOR_COMPACT_MAX - 3);
    snprintf(dst, size, "%.*s...", (int)cut, cursor);
}

static void pending_text(const PGresult *r, char *dst, size_t size)
{
    if (!col(r, R_REQ_AT))
        snprintf(dst, size, "-");
    else
        snprintf(dst, size, "pending since %s (%s)", col(r, R_REQ_AT),
                 col(r, R_REQ_BY) ? col(r, R_REQ_BY) : "?");
}

/* A connection whose schema is current, or the exit code in *code. */
static PGconn *state_connect(const config *cfg, int *code)
{
    fe_err err = {0};
    PGconn *conn = pg_connect(cfg->dsn, &err);
    if (!conn) {
        log_error(NULL, "%s", err.msg);
        *code = EXIT_WAREHOUSE;
        return NULL;
    }
    if (migrate_check(conn, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        *code = err.code == FE_ECONFIG ? EXIT_USAGE : EXIT_WAREHOUSE;
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* ---- list ----------------------------------------------------------------------------- */

static int state_list(PGconn *conn, const state_items *it, bool json)
{
    fe_err err = {0};
    if (json)
        printf("[");
    else
        printf("%-16s %-16s %-60s %-20s %6s  %s\n", "source", "stream", "cursor", "updated_at",
               "run", "full refresh");
    for (int i = 0; i < it->n; i++) {
        PGresult *r = read_row(conn, &it->v[i], &err);
        if (!r) {
            if (json)
                printf("]\n");
            log_error(NULL, "state list: %s", err.msg);
            return PQstatus(conn) == CONNECTION_OK ? EXIT_FAILED : EXIT_WAREHOUSE;
        }
        if (json)
            printf("%s\n  %s", i ? "," : "", col(r, R_JSON));
        else {
            char cur[CURSOR_COMPACT_MAX + 8], pend[256];
            compact_cursor(col(r, R_CURSOR), cur, sizeof cur);
            pending_text(r, pend, sizeof pend);
            printf("%-16s %-16s %-60s %-20s %6s  %s\n", it->v[i].conf->name, it->v[i].def->name,
                   cur, col(r, R_UPDATED) ? col(r, R_UPDATED) : "-",
                   col(r, R_RUN) ? col(r, R_RUN) : "-", pend);
        }
        PQclear(r);
    }
    if (json)
        printf("%s]\n", it->n ? "\n" : "");
    return EXIT_OK;
}

/* ---- show ----------------------------------------------------------------------------- */

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* The stream's own description as a JSON object: meaning, shape, fields, window. */
static char *describe_json(const stream_def *s)
{
    const cursor_spec *c = stream_cursor_spec(s);
    const unsigned char *out;
    size_t len;
    buf shape;
    char *text = NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        return NULL;
    buf_init(&shape, 4096);
    yajl_gen_map_open(g);
    gen_str(g, "meaning");
    gen_str(g, c->meaning);
    gen_str(g, "expected_shape");
    gen_str(g, stream_cursor_shape(s, &shape) ? buf_cstr(&shape) : "");
    gen_str(g, "fields");
    yajl_gen_map_open(g);
    for (int i = 0; i < c->nfields; i++) {
        gen_str(g, c->fields[i].key);
        gen_str(g, c->fields[i].meaning);
    }
    yajl_gen_map_close(g);
    gen_str(g, "date_window");
    if (s->window)
        gen_str(g, s->window);
    else
        yajl_gen_null(g);
    yajl_gen_map_close(g);
    if (yajl_gen_get_buf(g, &out, &len) == yajl_gen_status_ok)
        text = strndup((const char *)out, len);
    yajl_gen_free(g);
    buf_term(&shape);
    return text;
}

static void show_text(const state_item *it, const PGresult *r)
{
    const cursor_spec *c = stream_cursor_spec(it->def);
    char pend[256];
    buf shape;
    buf_init(&shape, 4096);
    pending_text(r, pend, sizeof pend);
    printf("%s.%s\n", it->conf->name, it->def->name);
    printf("cursor:       %s\n",
           col(r, R_PRETTY) ? "" : "(none stored: the next run reads in full)");
    if (col(r, R_PRETTY))
        printf("%s\n", col(r, R_PRETTY));
    printf("updated_at:   %s\n", col(r, R_UPDATED) ? col(r, R_UPDATED) : "-");
    printf("run_id:       %s%s\n", col(r, R_RUN) ? col(r, R_RUN) : "-",
           col(r, R_RUN) && strcmp(col(r, R_RUN), "0") == 0 ? " (set by flowetl state set)" : "");
    printf("full refresh: %s\n", pend);
    printf("meaning:      %s\n", c->meaning);
    for (int i = 0; i < c->nfields; i++)
        printf("  %-18s %s\n", c->fields[i].key, c->fields[i].meaning);
    printf("shape:        %s\n", stream_cursor_shape(it->def, &shape) ? buf_cstr(&shape) : "?");
    printf("date window:  %s\n",
           it->def->window ? it->def->window : "none (run --from/--to skips this stream)");
    buf_term(&shape);
}

static int state_show(PGconn *conn, const state_item *it, bool json)
{
    fe_err err = {0};
    PGresult *r = read_row(conn, it, &err);
    if (!r) {
        log_error(NULL, "state show: %s", err.msg);
        return PQstatus(conn) == CONNECTION_OK ? EXIT_FAILED : EXIT_WAREHOUSE;
    }
    if (!json) {
        show_text(it, r);
        PQclear(r);
        return EXIT_OK;
    }
    char *desc = describe_json(it->def);
    const char *params[2] = {col(r, R_JSON), desc ? desc : "{}"};
    PGresult *m = pg_query(conn, "SELECT jsonb_pretty($1::jsonb || $2::jsonb)", 2, params, &err);
    if (m)
        printf("%s\n", PQgetvalue(m, 0, 0));
    else
        log_error(NULL, "state show: %s", err.msg);
    PQclear(m);
    PQclear(r);
    free(desc);
    return m ? EXIT_OK : EXIT_FAILED;
}

/* ---- set and reset: the source's identity and its lock ----------------------------- */

/* The source's key (0: it never loaded) and, with lock, its run lock on conn (held
 * until conn closes). Returns an exit code. */
static int source_key_locked(PGconn *conn, const source_config *conf, bool lock, int *key,
                             const char *what)
{
    fe_err err = {0};
    buf account;
    bool by_run = false;
    int orphan = 0, code = EXIT_OK;
    buf_init(&account, 4096);
    fe_rc rc = runner_source_account(conf, &account, &err);
    if (rc == FE_OK)
        rc = source_id_check(conn, conf->name, conf->type, buf_cstr(&account), key, &err);
    if (rc == FE_OK && lock)
        rc = source_id_lock(conn, conf->name, conf->type, buf_cstr(&account), 0, 0, &by_run,
                            &orphan, &err);
    if (rc == FE_ELOCKED) {
        log_error(NULL, "%s refused: %s; nothing was changed (try again once that run has ended)",
                  what, err.msg);
        code = EXIT_LOCKED;
    } else if (rc != FE_OK) {
        log_error(NULL, "%s: %s", what, err.msg);
        code = rc == FE_EIDENTITY || rc == FE_ECONFIG ? EXIT_USAGE
               : PQstatus(conn) != CONNECTION_OK      ? EXIT_WAREHOUSE
                                                      : EXIT_FAILED;
    }
    buf_term(&account);
    return code;
}

static const char set_sql[] =
    "INSERT INTO etl.sync_state (source_key, stream, cursor, updated_at, run_id)"
    " VALUES ($1, $2, $3::jsonb, now(), 0) ON CONFLICT (source_key, stream) DO UPDATE"
    " SET cursor = excluded.cursor, updated_at = excluded.updated_at, run_id = 0,"
    " full_refresh_requested_at = NULL, full_refresh_requested_by = NULL";

static int state_set(PGconn *conn, const state_item *it, const state_args *a)
{
    fe_err err = {0};
    char what[256], key_text[16];
    int key = 0, code;
    snprintf(what, sizeof what, "state set %s.%s", it->conf->name, it->def->name);
    if (stream_cursor_check(it->def, a->cursor, &err) != FE_OK) {
        log_error(NULL, "%s: %s; nothing was changed", what, err.msg);
        return EXIT_USAGE;
    }
    if ((code = source_key_locked(conn, it->conf, a->yes, &key, what)) != EXIT_OK)
        return code;
    if (key == 0) {
        log_error(NULL, "%s: source %s has never loaded (no dw.dim_source row): run it first", what,
                  it->conf->name);
        return EXIT_FAILED;
    }
    PGresult *r = read_row(conn, it, &err);
    if (!r) {
        log_error(NULL, "%s: %s", what, err.msg);
        return EXIT_FAILED;
    }
    const char *old = col(r, R_CURSOR) ? col(r, R_CURSOR) : "(none)";
    const char *drop = col(r, R_REQ_AT) ? " and drop its pending full refresh" : "";
    if (!a->yes) {
        log_error(NULL, "%s would replace the cursor %s with %s%s; nothing was changed: add --yes",
                  what, old, a->cursor, drop);
        PQclear(r);
        return EXIT_USAGE;
    }
    snprintf(key_text, sizeof key_text, "%d", key);
    const char *params[3] = {key_text, it->def->name, a->cursor};
    PGresult *w = pg_query(conn, set_sql, 3, params, &err);
    if (w)
        printf("%s.%s: cursor %s replaced with %s%s\n", it->conf->name, it->def->name, old,
               a->cursor, col(r, R_REQ_AT) ? " (the pending full refresh was dropped)" : "");
    else
        log_error(NULL, "%s: %s", what, err.msg);
    PQclear(w);
    PQclear(r);
    return w ? EXIT_OK : EXIT_FAILED;
}

static const char request_sql[] =
    "INSERT INTO etl.sync_state (source_key, stream, cursor, updated_at, run_id,"
    " full_refresh_requested_at, full_refresh_requested_by)"
    " VALUES ($1, $2, NULL, now(), 0, now(), $3) ON CONFLICT (source_key, stream) DO UPDATE"
    " SET full_refresh_requested_by = coalesce(CASE WHEN"
    "  etl.sync_state.full_refresh_requested_at IS NOT NULL"
    "  THEN etl.sync_state.full_refresh_requested_by END, excluded.full_refresh_requested_by),"
    " full_refresh_requested_at = coalesce(etl.sync_state.full_refresh_requested_at,"
    "  excluded.full_refresh_requested_at)";

static fe_rc request_refresh(PGconn *conn, int key, const char *stream, const char *by, fe_err *err)
{
    char key_text[16];
    snprintf(key_text, sizeof key_text, "%d", key);
    const char *params[3] = {key_text, stream, by};
    PGresult *r = pg_query(conn, request_sql, 3, params, err);
    if (!r)
        return fe_err_wrap(err, "storing the full-refresh request of %s", stream);
    PQclear(r);
    return FE_OK;
}

static int state_reset(PGconn *conn, const state_items *it, const state_args *a)
{
    fe_err err = {0};
    char what[256];
    int key = 0, code;
    const source_config *conf = it->v[0].conf;
    snprintf(what, sizeof what, "state reset %s", a->targets[0]);
    if ((code = source_key_locked(conn, conf, a->yes, &key, what)) != EXIT_OK)
        return code;
    if (key == 0) {
        printf("%s has never loaded: its next run reads everything anyway; nothing to reset\n",
               conf->name);
        return EXIT_OK;
    }
    for (int i = 0; i < it->n; i++) {
        PGresult *r = read_row(conn, &it->v[i], &err);
        if (!r) {
            log_error(NULL, "%s: %s", what, err.msg);
            return EXIT_FAILED;
        }
        char cur[CURSOR_COMPACT_MAX + 8];
        compact_cursor(col(r, R_CURSOR), cur, sizeof cur);
        const char *name = it->v[i].def->name;
        if (!a->yes)
            log_error(NULL,
                      "%s would make the next run read %s.%s in full (its cursor %s stays until "
                      "that full read commits)%s; nothing was changed: add --yes",
                      what, conf->name, name, cur,
                      col(r, R_REQ_AT) ? " (a full refresh is already pending)" : "");
        else if (request_refresh(conn, key, name, "state reset", &err) != FE_OK) {
            log_error(NULL, "%s: %s", what, err.msg);
            PQclear(r);
            return EXIT_FAILED;
        } else
            printf("%s.%s: the next run reads it in full (cursor %s kept until then)\n", conf->name,
                   name, cur);
        PQclear(r);
    }
    return a->yes ? EXIT_OK : EXIT_USAGE;
}

int state_command(const config *cfg, const state_args *a)
{
    state_items *it = calloc(1, sizeof *it);
    int code = EXIT_USAGE;
    PGconn *conn = NULL;
    if (!it) {
        log_error(NULL, "out of memory");
        return EXIT_FAILED;
    }
    if (!select_items(cfg, a, it))
        goto done;
    if (it->n == 0) {
        log_error(NULL, "state %s: no stream selected", a->targets[0] ? a->targets[0] : "");
        goto done;
    }
    if (!(conn = state_connect(cfg, &code)))
        goto done;
    switch (a->verb) {
    case STATE_LIST:
        code = state_list(conn, it, a->json);
        break;
    case STATE_SHOW:
        code = state_show(conn, &it->v[0], a->json);
        break;
    case STATE_SET:
        code = state_set(conn, &it->v[0], a);
        break;
    case STATE_RESET:
        code = state_reset(conn, it, a);
        break;
    }
    fflush(stdout);
done:
    if (conn)
        PQfinish(conn);
    free(it);
    return code;
}

/* ---- for run's workers ------------------------------------------------------------------ */

fe_rc state_stream_prepare(PGconn *conn, int source_key, const char *stream, const char *by,
                           state_stream_start *out, fe_err *err)
{
    char key_text[16];
    memset(out, 0, sizeof *out);
    if (by)
        FE_TRY(request_refresh(conn, source_key, stream, by, err));
    snprintf(key_text, sizeof key_text, "%d", source_key);
    const char *params[2] = {key_text, stream};
    PGresult *r = pg_query(conn,
                           "SELECT (SELECT cursor::text FROM etl.sync_state WHERE source_key = $1"
                           "  AND stream = $2), (SELECT full_refresh_requested_by FROM"
                           "  etl.sync_state WHERE source_key = $1 AND stream = $2"
                           "  AND full_refresh_requested_at IS NOT NULL), now()::text",
                           2, params, err);
    if (!r)
        return fe_err_wrap(err, "reading the cursor of %s", stream);
    if (!PQgetisnull(r, 0, 0) && !(out->cursor = strdup(PQgetvalue(r, 0, 0)))) {
        PQclear(r);
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    out->pending = !PQgetisnull(r, 0, 1);
    snprintf(out->by, sizeof out->by, "%s", PQgetvalue(r, 0, 1));
    snprintf(out->since, sizeof out->since, "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    return FE_OK;
}

fe_rc state_stream_refreshed(PGconn *conn, int source_key, const char *stream, const char *since,
                             fe_err *err)
{
    char key_text[16];
    snprintf(key_text, sizeof key_text, "%d", source_key);
    const char *params[3] = {key_text, stream, since};
    PGresult *r = pg_query(conn,
                           "UPDATE etl.sync_state SET full_refresh_requested_at = NULL,"
                           " full_refresh_requested_by = NULL WHERE source_key = $1"
                           " AND stream = $2 AND full_refresh_requested_at <= $3::timestamptz",
                           3, params, err);
    if (!r)
        return fe_err_wrap(err, "clearing the full-refresh request of %s", stream);
    PQclear(r);
    return FE_OK;
}

fe_rc state_window_bounds(PGconn *conn, const char *tz, const char *from, const char *to,
                          stream_window *w, fe_err *err)
{
    const char *params[3] = {tz && *tz ? tz : "UTC", from, to};
    PGresult *r =
        pg_query(conn,
                 "SELECT t.d::text, (extract(epoch FROM $2::date::timestamp AT TIME ZONE $1)"
                 " * 1000000)::bigint, (extract(epoch FROM (t.d + 1)::timestamp AT TIME ZONE $1)"
                 " * 1000000)::bigint, $2::date > t.d"
                 " FROM (SELECT coalesce($3::date, (now() AT TIME ZONE $1)::date) AS d) t",
                 3, params, err);
    if (!r)
        return fe_err_wrap(err, "the window %s .. %s in time zone %s", from, to ? to : "today",
                           params[0]);
    snprintf(w->from, sizeof w->from, "%s", from);
    snprintf(w->to, sizeof w->to, "%s", PQgetvalue(r, 0, 0));
    w->from_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    w->end_us = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    bool after = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    PQclear(r);
    if (after)
        return fe_err_set(err, FE_EINVAL, "--from %s is after %s%s (in time zone %s)", from,
                          to ? "--to " : "today, ", w->to, params[0]);
    return FE_OK;
}
