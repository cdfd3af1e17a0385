/* source_id: NAME's binding to (system, account), the per-identity lock, the
 * dw.dim_source row. */
#include "load/source_id.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load/pg.h"

#define STR(x) #x
#define XSTR(x) STR(x)
#define LOCK_CLASS_TEXT XSTR(SOURCE_ID_LOCK_CLASS)
/* The advisory lock class ("FREG") registrations take turns on (key 0). */
#define REGISTER_LOCK_CLASS 1179796807
/* The lock's object id: the identity hashed by the server, so every flowetl
 * process talking to one warehouse derives the same key. */
#define LOCK_KEY_SQL "hashtext($1 || '/' || $2)"

/* NAME's rows, the one of (system, account) first. */
static const char bound_sql[] = "SELECT source_key, system, account, system = $2 AND account = $3"
                                " FROM dw.dim_source WHERE name = $1 AND source_key <> 0"
                                " ORDER BY 4 DESC, source_key";

static const char identity_key_sql[] =
    "SELECT source_key FROM dw.dim_source WHERE system = $1 AND account = $2";

static const char lock_sql[] = "SELECT pg_try_advisory_lock(" LOCK_CLASS_TEXT ", " LOCK_KEY_SQL ")";

/* The session holding the identity's lock; when it is a flowetl run (its
 * application_name, set by the runner, starts "flowetl run=R "), that run's row. */
static const char holder_sql[] =
    "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.usename, '?'),"
    " coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '?'),"
    " coalesce(r.run_id::text, ''), coalesce(r.pid::text, '?'), coalesce(r.host, '?'),"
    " coalesce(to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '?')"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " LEFT JOIN etl.run r"
    "  ON r.run_id = substring(a.application_name FROM '^flowetl run=([0-9]+)')::bigint"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
    "  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "  AND l.classid = " LOCK_CLASS_TEXT "::oid AND l.objid = (" LOCK_KEY_SQL ")::oid"
    " LIMIT 1";

/* Insert only when missing, so the smallint identity is not spent by every run
 * (ON CONFLICT draws a value before it sees the conflict); update name and zone
 * when they changed; then read the key. */
static const char register_sql[] =
    "WITH ins AS (INSERT INTO dw.dim_source (system, account, name, timezone, loaded_at)"
    "  SELECT $1, $2, $3, $4, now() WHERE NOT EXISTS (SELECT 1 FROM dw.dim_source"
    "   WHERE system = $1 AND account = $2)"
    "  ON CONFLICT (system, account) DO NOTHING RETURNING source_key),"
    " upd AS (UPDATE dw.dim_source SET name = $3, timezone = $4, loaded_at = now()"
    "  WHERE system = $1 AND account = $2 AND (name, timezone) IS DISTINCT FROM ($3, $4)"
    "  RETURNING source_key)"
    " SELECT source_key FROM ins UNION ALL SELECT source_key FROM upd"
    " UNION ALL SELECT source_key FROM dw.dim_source WHERE system = $1 AND account = $2"
    " LIMIT 1";

static const char rebind_rows_sql[] =
    "SELECT source_key, system, account FROM dw.dim_source"
    " WHERE name = $1 AND source_key <> 0 AND NOT (system = $2 AND account = $3)"
    " ORDER BY source_key FOR UPDATE";

static const char rebind_lock_sql[] =
    "SELECT pg_try_advisory_xact_lock(" LOCK_CLASS_TEXT ", " LOCK_KEY_SQL ")";

static const char rebind_rename_sql[] =
    "UPDATE dw.dim_source SET name = name || '@' || account, loaded_at = now()"
    " WHERE source_key = $1::int RETURNING name";

/* The source's own unknown members (key 0) where the layout keeps them per source
 * (Citus: sql/009_layouts.sql); a no-op on the single-node layout. Every
 * registration makes sure of them, so a source registered before the warehouse
 * was distributed is covered too. */
static fe_rc ensure_unknown_members(PGconn *conn, const char *name, int key, fe_err *err)
{
    char text[16];
    snprintf(text, sizeof text, "%d", key);
    const char *params[1] = {text};
    PGresult *res =
        pg_query(conn, "SELECT etl.ensure_unknown_members($1::smallint)", 1, params, err);
    if (!res)
        return fe_err_wrap(err, "making the unknown members of source %s", name);
    PQclear(res);
    return FE_OK;
}

/* The key in the first column of the first row; 0 when there is none. */
static int first_key(const PGresult *res)
{
    if (PQntuples(res) < 1)
        return 0;
    long k = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    return k > 0 && k < 32768 ? (int)k : 0;
}

fe_rc source_id_check(PGconn *conn, const char *name, const char *system, const char *account,
                      int *key, fe_err *err)
{
    const char *params[3] = {name, system, account};
    PGresult *res = pg_query(conn, bound_sql, 3, params, err);
    *key = 0;
    if (!res)
        return fe_err_wrap(err, "reading the binding of source %s", name);
    if (PQntuples(res) == 0) { /* a new name: its identity may still have a row */
        PQclear(res);
        if (!(res = pg_query(conn, identity_key_sql, 2, params + 1, err)))
            return fe_err_wrap(err, "reading the binding of source %s", name);
        *key = first_key(res);
        PQclear(res);
        return FE_OK;
    }
    if (strcmp(PQgetvalue(res, 0, 3), "t") == 0) {
        *key = first_key(res);
        PQclear(res);
        return FE_OK;
    }
    const char *old_system = PQgetvalue(res, 0, 1), *old_account = PQgetvalue(res, 0, 2);
    int old_key = first_key(res);
    fe_rc rc;
    if (strcmp(old_system, system) != 0)
        rc = fe_err_set(err, FE_EIDENTITY,
                        "[source.%s] is bound to %s account '%s' (dw.dim_source key %d), but its "
                        "config is now type %s, account '%s': nothing was run. Run `flowetl "
                        "rebind %s` to bind the name to the new account (the old rows keep their "
                        "source_key %d), or give the new source another name",
                        name, old_system, old_account, old_key, system, account, name, old_key);
    else
        rc = fe_err_set(err, FE_EIDENTITY,
                        "[source.%s] is bound to %s account '%s' (dw.dim_source key %d), but its "
                        "config now gives account '%s': nothing was run. Add `account = %s` to "
                        "[source.%s] if it is the same account, or run `flowetl rebind %s` to "
                        "bind the name to the new account (the old rows keep their source_key %d)",
                        name, old_system, old_account, old_key, account, old_account, name, name,
                        old_key);
    PQclear(res);
    return rc;
}

/* SQLSTATE invalid_parameter_value: how the server refuses a zone it does not
 * know ("time zone ... not recognized"). */
#define SQLSTATE_INVALID_PARAMETER "22023"

fe_rc source_id_check_timezone(PGconn *conn, const char *name, const char *timezone, fe_err *err)
{
    const char *tz = timezone && *timezone ? timezone : "UTC";
    PGresult *res = PQexecParams(conn, "SELECT now() AT TIME ZONE $1", 1, NULL, &tz, NULL, NULL, 0);
    fe_rc rc = FE_OK;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* Only the server's refusal of the zone is the config's fault; a lost
         * connection or a cancel stays FE_EPG, so the worker can tell a
         * warehouse that went away. */
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state && strcmp(state, SQLSTATE_INVALID_PARAMETER) == 0)
            rc = fe_err_set(err, FE_ECONFIG,
                            "[source.%s] timezone '%s' is not known to the warehouse server", name,
                            tz);
        else {
            char what[160];
            snprintf(what, sizeof what, "checking the time zone of source %s", name);
            rc = pg_error(err, conn, res, what);
        }
    }
    PQclear(res);
    return rc;
}

/* True when this machine is `host` and has no process `pid_text`: the flowetl
 * run that holds a lock died, and only its database session lives on (until the
 * server notices the closed connection). */
static bool run_process_gone(const char *host, const char *pid_text)
{
    char me[256];
    char *end = NULL;
    long pid = strtol(pid_text, &end, 10);
    if (!end || *end || pid <= 0 || gethostname(me, sizeof me) != 0)
        return false;
    me[sizeof me - 1] = '\0';
    return strcmp(me, host) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Who takes the lock: the run (0 = none) and the backend pid of a session of
 * it that the caller gave up on (0 = none). */
typedef struct {
    int64_t run_id;
    int stale_pid;
} lock_taker;

/* err = the flowetl run whose session (row 0 of holder_sql's res) holds the
 * lock. The taker's own stale session is no other run: *by_run stays false and
 * *orphan is its pid, as for a session whose run's process is gone. */
static fe_rc describe_run_holder(const PGresult *res, const char *name, const lock_taker *me,
                                 bool *by_run, int *orphan, fe_err *err)
{
    int pid = atoi(PQgetvalue(res, 0, 0));
    int64_t run = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    if (me->stale_pid && pid == me->stale_pid && run == me->run_id) {
        *orphan = pid;
        return fe_err_set(err, FE_ELOCKED,
                          "source %s is still locked by this run's own previous session (backend "
                          "pid %d), whose connection broke",
                          name, pid);
    }
    *by_run = true;
    if (run_process_gone(PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 5)))
        *orphan = pid;
    return fe_err_set(err, FE_ELOCKED,
                      "another flowetl run is loading source %s: run %s (pid %s on host %s, "
                      "started %s UTC)%s",
                      name, PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5), PQgetvalue(res, 0, 6),
                      PQgetvalue(res, 0, 7),
                      *orphan ? "; that process is gone, its database session lives on" : "");
}

/* err = who holds the identity's lock (already known not to be conn). */
static fe_rc describe_holder(PGconn *conn, const char *name, const char *const params[2],
                             const lock_taker *me, bool *by_run, int *orphan, fe_err *err)
{
    fe_err qerr = {0};
    PGresult *res = pg_query(conn, holder_sql, 2, params, &qerr);
    if (!res || PQntuples(res) == 0) {
        PQclear(res);
        return fe_err_set(err, FE_ELOCKED,
                          "source %s is locked: another session held its advisory lock a moment "
                          "ago%s%s",
                          name, res ? "" : " (", res ? "" : qerr.msg);
    }
    fe_rc rc;
    if (*PQgetvalue(res, 0, 4))
        rc = describe_run_holder(res, name, me, by_run, orphan, err);
    else
        rc = fe_err_set(err, FE_ELOCKED,
                        "source %s is locked by another session: pid %s (application '%s', user "
                        "%s, connected since %s UTC) holds its advisory lock",
                        name, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                        PQgetvalue(res, 0, 3));
    PQclear(res);
    return rc;
}

fe_rc source_id_lock(PGconn *conn, const char *name, const char *system, const char *account,
                     int64_t run_id, int stale_pid, bool *by_run, int *orphan, fe_err *err)
{
    const char *params[2] = {system, account};
    const lock_taker me = {run_id, stale_pid};
    *by_run = false;
    *orphan = 0;
    PGresult *res = pg_query(conn, lock_sql, 2, params, err);
    if (!res)
        return fe_err_wrap(err, "locking source %s", name);
    bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return got ? FE_OK : describe_holder(conn, name, params, &me, by_run, orphan, err);
}

bool source_id_end_session(PGconn *conn, int backend_pid)
{
    char pid[16];
    fe_err ignored = {0};
    snprintf(pid, sizeof pid, "%d", backend_pid);
    const char *params[1] = {pid};
    PGresult *res = pg_query(conn, "SELECT pg_terminate_backend($1::int)", 1, params, &ignored);
    bool ok = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return ok;
}

/* source_id_register's work, inside its transaction. */
static fe_rc register_locked(PGconn *conn, const char *system, const char *account,
                             const char *name, const char *timezone, int *key, fe_err *err)
{
    const char *tz = timezone && *timezone ? timezone : "UTC";
    const char *params[4] = {system, account, name, tz};

    /* A concurrent first registration of the same account can hide the row from
     * this statement's snapshot: the second attempt sees it. */
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *res = pg_query(conn, register_sql, 4, params, err);
        if (!res)
            return fe_err_wrap(err, "registering source %s in dw.dim_source", name);
        *key = first_key(res);
        bool found = PQntuples(res) == 1;
        PQclear(res);
        if (found && *key > 0)
            return ensure_unknown_members(conn, name, *key, err);
        if (found)
            return fe_err_set(err, FE_EPG, "registering source %s: bad source_key", name);
    }
    return fe_err_set(err, FE_EPG, "registering source %s: dw.dim_source row not found", name);
}

fe_rc source_id_register(PGconn *conn, const char *system, const char *account, const char *name,
                         const char *timezone, int *key, fe_err *err)
{
    /* Registrations take turns: on Citus dw.dim_source is a reference table, where
     * two sessions writing it at once (the statement's insert and its update) can
     * deadlock on its shard's lock. A registration is one short transaction a
     * source and run, so waiting for another costs nothing. */
    fe_rc rc =
        pg_exec(conn, "BEGIN; SELECT pg_advisory_xact_lock(" XSTR(REGISTER_LOCK_CLASS) ", 0)", err);
    if (rc == FE_OK)
        rc = register_locked(conn, system, account, name, timezone, key, err);
    if (rc == FE_OK)
        rc = pg_exec(conn, "COMMIT", err);
    if (rc != FE_OK) {
        PGresult *res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }
    return rc;
}

/* Renames one old row of NAME, after taking its identity's lock for the
 * transaction (a run loading it now holds that lock). */
static fe_rc rebind_one(PGconn *conn, const char *name, const char *key, const char *system,
                        const char *account, buf *report, fe_err *err)
{
    const char *lock_params[2] = {system, account};
    PGresult *res = pg_query(conn, rebind_lock_sql, 2, lock_params, err);
    if (!res)
        return fe_err_wrap(err, "locking %s account '%s'", system, account);
    bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!got)
        return fe_err_set(err, FE_ELOCKED,
                          "a run is loading %s (%s account '%s') now: nothing was changed; try "
                          "again once it ended",
                          name, system, account);
    const char *params[1] = {key};
    if (!(res = pg_query(conn, rebind_rename_sql, 1, params, err)))
        return fe_err_wrap(err, "renaming dw.dim_source key %s", key);
    bool ok = buf_printf(report,
                         "dw.dim_source key %s (%s account '%s') renamed from '%s' to '%s'; the "
                         "rows loaded under it keep source_key %s\n",
                         key, system, account, name, PQgetvalue(res, 0, 0), key);
    PQclear(res);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
}

/* One line on where NAME goes from now on. */
static fe_rc rebind_target(PGconn *conn, const char *name, const char *system, const char *account,
                           bool renamed, buf *report, fe_err *err)
{
    const char *params[2] = {system, account};
    PGresult *res = pg_query(conn, identity_key_sql, 2, params, err);
    if (!res)
        return fe_err_wrap(err, "reading dw.dim_source");
    int key = first_key(res);
    PQclear(res);
    bool ok;
    if (!renamed && key)
        ok = buf_printf(report,
                        "%s is bound to %s account '%s' (dw.dim_source key %d): nothing to "
                        "rebind\n",
                        name, system, account, key);
    else if (!renamed)
        ok = buf_printf(report, "%s is not bound to any account yet: nothing to rebind\n", name);
    else if (key)
        ok = buf_printf(report,
                        "the next run binds %s to %s account '%s' (its existing dw.dim_source "
                        "key %d)\n",
                        name, system, account, key);
    else
        ok = buf_printf(report,
                        "the next run binds %s to %s account '%s' (a new dw.dim_source row, "
                        "created by the source's first successful request)\n",
                        name, system, account);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
}

fe_rc source_id_rebind(PGconn *conn, const char *name, const char *system, const char *account,
                       buf *report, fe_err *err)
{
    const char *params[3] = {name, system, account};
    PGresult *rows = NULL;
    int renamed = 0;
    size_t mark = report->len;
    fe_rc rc = pg_exec(conn, "BEGIN", err);
    if (rc != FE_OK)
        return fe_err_wrap(err, "rebind");
    if (!(rows = pg_query(conn, rebind_rows_sql, 3, params, err))) {
        rc = fe_err_wrap(err, "reading the rows bound to %s", name);
        goto done;
    }
    for (int r = 0; rc == FE_OK && r < PQntuples(rows); r++, renamed++)
        rc = rebind_one(conn, name, PQgetvalue(rows, r, 0), PQgetvalue(rows, r, 1),
                        PQgetvalue(rows, r, 2), report, err);
    if (rc == FE_OK)
        rc = pg_exec(conn, "COMMIT", err);
done:
    PQclear(rows);
    if (rc != FE_OK) {
        PQclear(PQexec(conn, "ROLLBACK"));
        report->len = mark; /* nothing was renamed after all */
        if (report->data)
            report->data[mark] = '\0';
        return rc;
    }
    return rebind_target(conn, name, system, account, renamed > 0, report, err);
}
