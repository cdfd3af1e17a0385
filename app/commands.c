/* commands: `flowetl init`, `status` and `check`. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../load/migrate.h"
#include "../load/pg.h"
#include "source_env.h"

int command_init(const config *cfg)
{
    fe_err err = {0};
    int applied = 0;
    PGconn *conn = pg_connect(cfg->dsn, &err);

    if (!conn) {
        log_error(NULL, "cannot reach the warehouse: %s", err.msg);
        return 3;
    }
    int code = 0;
    if (migrate_apply(conn, &applied, &err) != FE_OK) {
        log_error(NULL, "init failed: %s", err.msg);
        code = 1;
    } else {
        printf("warehouse schema is up to date (%d migration(s) applied now)\n", applied);
    }
    PQfinish(conn);
    return code;
}

/* One row per (source, stream) that ever ran: its last run's outcome, when it
 * last succeeded, how old that is, and the stored cursor. */
static const char status_sql[] =
    "WITH last AS ("
    "  SELECT DISTINCT ON (source_key, stream) source_key, stream, status, finished_at,"
    "         records, inserted, updated, error"
    "  FROM etl.run_stream ORDER BY source_key, stream, run_stream_id DESC),"
    " ok AS (SELECT source_key, stream, max(finished_at) AS last_success"
    "  FROM etl.run_stream WHERE status = 'succeeded' GROUP BY 1, 2)"
    " SELECT s.name, l.stream, l.status,"
    "  coalesce(to_char(ok.last_success AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), 'never'),"
    "  coalesce(justify_interval(date_trunc('second', now() - ok.last_success))::text, '-'),"
    "  l.records, l.inserted, l.updated,"
    "  coalesce(st.cursor::text, '-'), coalesce(l.error, '')"
    " FROM last l JOIN dw.dim_source s USING (source_key)"
    " LEFT JOIN ok USING (source_key, stream)"
    " LEFT JOIN etl.sync_state st USING (source_key, stream)"
    " ORDER BY 1, 2";

static const char runs_sql[] =
    "SELECT run_id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    " coalesce(to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '-'), status"
    " FROM etl.run ORDER BY run_id DESC LIMIT 5";

static void print_streams(const PGresult *res)
{
    printf("%-32s %-10s %-19s %-16s %9s %9s %9s  %s\n", "stream", "last", "last success (UTC)",
           "age", "records", "inserted", "updated", "cursor");
    for (int r = 0; r < PQntuples(res); r++) {
        char name[256];
        snprintf(name, sizeof name, "%s.%s", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
        printf("%-32s %-10s %-19s %-16s %9s %9s %9s  %s\n", name, PQgetvalue(res, r, 2),
               PQgetvalue(res, r, 3), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
               PQgetvalue(res, r, 6), PQgetvalue(res, r, 7), PQgetvalue(res, r, 8));
        if (*PQgetvalue(res, r, 9))
            printf("    last error: %s\n", PQgetvalue(res, r, 9));
    }
    if (PQntuples(res) == 0)
        printf("(no stream has run yet: try `flowetl run`)\n");
}

static void print_runs(const PGresult *res)
{
    printf("\n%-8s %-19s %-19s %s\n", "run", "started (UTC)", "finished (UTC)", "status");
    for (int r = 0; r < PQntuples(res); r++)
        printf("%-8s %-19s %-19s %s\n", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
               PQgetvalue(res, r, 2), PQgetvalue(res, r, 3));
}

int command_status(const config *cfg)
{
    fe_err err = {0};
    PGresult *streams = NULL, *runs = NULL;
    int code = 0;
    PGconn *conn = pg_connect(cfg->dsn, &err);

    if (!conn) {
        log_error(NULL, "cannot reach the warehouse: %s", err.msg);
        return 3;
    }
    if (migrate_check(conn, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        code = 2;
        goto cleanup;
    }
    streams = pg_query(conn, status_sql, 0, NULL, &err);
    runs = streams ? pg_query(conn, runs_sql, 0, NULL, &err) : NULL;
    if (!streams || !runs) {
        log_error(NULL, "status query failed: %s", err.msg);
        code = 1;
        goto cleanup;
    }
    print_streams(streams);
    print_runs(runs);
cleanup:
    PQclear(streams);
    PQclear(runs);
    PQfinish(conn);
    return code;
}

/* `check` prints what the API and libpq answered: masked like every log line,
 * since an answer may echo a token. */
static void print_redacted(const char *before, const char *text, const char *after)
{
    char *clean = log_redact_dup(text);
    fputs(before, stdout);
    fputs(clean ? clean : "(not shown: out of memory while masking secrets)", stdout);
    fputs(after, stdout);
    free(clean);
}

static bool check_source(const source_conf *conf)
{
    fe_err err = {0};
    source_env env = {0};
    buf out;
    bool ok = false;
    const source_def *def = source_find(conf->type);

    buf_init(&out, 64 * 1024);
    printf("[source.%s] type %s\n", conf->name, conf->type);
    if (source_env_init_check(&env, conf, def, &err) != FE_OK ||
        source_env_open(&env, &err) != FE_OK ||
        (def->check && def->check(conf, env.http, env.state, &out, &err) != FE_OK)) {
        if (out.len)
            print_redacted("", buf_cstr(&out), "");
        print_redacted("  FAILED: ", err.msg, "\n");
        goto cleanup;
    }
    print_redacted("", buf_cstr(&out), "");
    printf("  ok\n");
    ok = true;
cleanup:
    source_env_term(&env);
    buf_term(&out);
    return ok;
}

int command_check(const config *cfg)
{
    fe_err err = {0};
    int code = 0;
    PGconn *conn = pg_connect(cfg->dsn, &err);

    printf("config %s: ok, %zu source(s)\n", cfg->path, cfg->nsources);
    if (!conn) {
        print_redacted("warehouse: FAILED: ", err.msg, "\n");
        code = 3;
    } else if (migrate_check(conn, &err) != FE_OK) {
        print_redacted("warehouse: reachable, but ", err.msg, "\n");
        code = 2;
    } else {
        printf("warehouse: ok (%s)\n", PQdb(conn));
    }
    if (conn)
        PQfinish(conn);
    for (size_t i = 0; i < cfg->nsources; i++)
        if (!check_source(&cfg->sources[i]) && code == 0)
            code = 1;
    fflush(stdout);
    return code;
}
