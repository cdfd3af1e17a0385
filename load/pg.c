/* pg: connection set-up and error formatting for libpq. */
#include "load/pg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"

/* SQLSTATE of a statement cancelled by lock_timeout (lock_not_available). */
#define SQLSTATE_LOCK_NOT_AVAILABLE "55P03"
#define LOCK_TIMEOUT_MARK "lock_timeout expired: "

/* Copies src into dst as one line: newlines and tabs become spaces, trailing
 * blanks go (libpq messages end with "\n"). Cut on a UTF-8 boundary. */
static void one_line(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < size; src++)
        dst[n++] = (*src == '\n' || *src == '\r' || *src == '\t') ? ' ' : *src;
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    n = buf_utf8_floor(dst, n);
    dst[n] = '\0';
}

fe_rc pg_error(fe_err *err, PGconn *conn, const PGresult *res, const char *what)
{
    char msg[512], detail[256], hint[256];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool lock_timeout = state && strcmp(state, SQLSTATE_LOCK_NOT_AVAILABLE) == 0;

    detail[0] = hint[0] = '\0';
    if (primary) {
        one_line(msg, sizeof msg, primary);
        one_line(detail, sizeof detail, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
        one_line(hint, sizeof hint, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
    } else {
        /* No server error: a client-side failure (lost connection, bad state) or a
         * result of an unexpected kind. */
        const char *cm = conn ? PQerrorMessage(conn) : "";
        if (!*cm && res)
            cm = PQresStatus(PQresultStatus(res));
        one_line(msg, sizeof msg, *cm ? cm : "no connection to the server");
    }
    return fe_err_set(err, FE_EPG, "%s%s%s%s%s%s%s%s%s%s", what ? what : "", what ? ": " : "",
                      lock_timeout ? LOCK_TIMEOUT_MARK : "", msg, *detail ? " (" : "", detail,
                      *detail ? ")" : "", *hint ? " (hint: " : "", hint, *hint ? ")" : "");
}

bool pg_err_is_lock_timeout(const fe_err *err)
{
    return err && err->code == FE_EPG && strstr(err->msg, LOCK_TIMEOUT_MARK) != NULL;
}

/* Server notices (e.g. "schema already exists, skipping") are not errors; libpq
 * would print them to stderr, which only the CLI and the runner may write. */
static void notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pg_connect(const char *dsn, fe_err *err)
{
    /* expand_dbname: the dsn may be a conninfo string or a URI; the keywords after
     * it only fill in what it leaves unset or are fallbacks. */
    const char *const keys[] = {"dbname", "fallback_application_name", "client_encoding", NULL};
    const char *const vals[] = {dsn, "flowetl", "UTF8", NULL};
    int first = dsn && *dsn ? 0 : 1; /* no dsn: libpq defaults (PG* environment) */
    PGconn *conn = PQconnectdbParams(keys + first, vals + first, 1);

    if (!conn) {
        fe_err_set(err, FE_ECONNECT, "cannot reach the warehouse: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        one_line(msg, sizeof msg, PQerrorMessage(conn));
        fe_err_set(err, FE_ECONNECT, "cannot reach the warehouse: %s", msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, notice_ignore, NULL);
    /* Without the check a backend only notices its client is gone when it next
     * writes to it: one waiting on a lock would wait, and keep its own locks
     * (the source's advisory lock), for as long as the lock it waits for is held. */
    const char *setup = PQserverVersion(conn) >= 140000
                            ? "SET TIME ZONE 'UTC'; SET client_connection_check_interval = "
                              "'" PG_CLIENT_CHECK_INTERVAL "'"
                            : "SET TIME ZONE 'UTC'";
    if (pg_exec(conn, setup, err) != FE_OK) {
        err->code = FE_ECONNECT;
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Appends key='value' with libpq's quoting (backslash and quote escaped). */
static bool conninfo_put(buf *b, const char *key, const char *value)
{
    if ((b->len && !buf_putc(b, ' ')) || !buf_puts(b, key) || !buf_puts(b, "='"))
        return false;
    for (const char *p = value; *p; p++)
        if (((*p == '\\' || *p == '\'') && !buf_putc(b, '\\')) || !buf_putc(b, *p))
            return false;
    return buf_putc(b, '\'');
}

static bool conninfo_default(buf *b, const PQconninfoOption *opts, const char *key, long value)
{
    char text[24];
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            return true; /* the DSN sets it */
    if (value <= 0)
        return true;
    snprintf(text, sizeof text, "%ld", value);
    return conninfo_put(b, key, text);
}

char *pg_dsn_with_defaults(const char *dsn, const pg_dsn_defaults *d, fe_err *err)
{
    char *parse_err = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &parse_err);
    buf b;
    bool ok = true;

    if (!opts) {
        char msg[256];
        one_line(msg, sizeof msg, parse_err ? parse_err : "out of memory");
        fe_err_set(err, parse_err ? FE_ECONFIG : FE_ENOMEM, "[warehouse] dsn: %s", msg);
        PQfreemem(parse_err);
        return NULL;
    }
    buf_init(&b, 0);
    for (const PQconninfoOption *o = opts; ok && o->keyword; o++)
        if (o->val)
            ok = conninfo_put(&b, o->keyword, o->val);
    const char *env_timeout = getenv("PGCONNECT_TIMEOUT");
    ok = ok &&
         conninfo_default(&b, opts, "connect_timeout",
                          env_timeout && *env_timeout ? 0 : d->connect_timeout_s) &&
         conninfo_default(&b, opts, "keepalives_idle", d->keepalives_idle_s) &&
         conninfo_default(&b, opts, "keepalives_interval", d->keepalives_interval_s) &&
         conninfo_default(&b, opts, "keepalives_count", d->keepalives_count) && buf_putc(&b, ' ');
    PQconninfoFree(opts);
    char *out = ok ? buf_take(&b, NULL) : NULL;
    buf_term(&b);
    if (!out)
        fe_err_set(err, FE_ENOMEM, "out of memory");
    return out;
}

bool pg_usable(PGconn *conn)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK || PQpipelineStatus(conn) != PQ_PIPELINE_OFF ||
        PQtransactionStatus(conn) != PQTRANS_IDLE)
        return false;
    PGresult *res = PQexec(conn, "");
    bool ok = res && PQresultStatus(res) == PGRES_EMPTY_QUERY;
    PQclear(res);
    return ok && PQstatus(conn) == CONNECTION_OK;
}

bool pg_alive(PGconn *conn)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return false;
    return PQconsumeInput(conn) == 1 && PQstatus(conn) == CONNECTION_OK;
}

fe_rc pg_set(PGconn *conn, const char *name, const char *value, fe_err *err)
{
    const char *params[2] = {name, value};
    PGresult *res = pg_query(conn, "SELECT set_config($1, $2, false)", 2, params, err);
    if (!res)
        return fe_err_wrap(err, "setting %s", name);
    PQclear(res);
    return FE_OK;
}

/* res when it holds a successful command or query result; otherwise NULL, after
 * filling err and freeing res. Takes ownership of res. */
static PGresult *result_ok(PGconn *conn, PGresult *res, fe_err *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return res;
    pg_error(err, conn, res, NULL);
    PQclear(res);
    return NULL;
}

fe_rc pg_exec(PGconn *conn, const char *sql, fe_err *err)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    fe_rc rc = FE_OK;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_error(err, conn, res, NULL);
    PQclear(res);
    return rc;
}

PGresult *pg_query_typed(PGconn *conn, const char *sql, int nparams, const Oid *types,
                         const char *const *params, fe_err *err)
{
    return result_ok(conn, PQexecParams(conn, sql, nparams, types, params, NULL, NULL, 0), err);
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   fe_err *err)
{
    return pg_query_typed(conn, sql, nparams, NULL, params, err);
}

/* ---- bounded waits ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads input until libpq has a whole result ready, or the deadline passes.
 * False on timeout or a broken connection. */
static bool wait_ready(PGconn *conn, int64_t deadline_ms)
{
    while (PQisBusy(conn)) {
        int64_t left = deadline_ms - mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n < 0 && errno != EINTR)
            return false;
        if (n > 0 && !PQconsumeInput(conn))
            return false;
    }
    return true;
}

/* Reads the results of the statement sent; keeps the first one (NULL when the
 * connection broke). False when the deadline passed first. */
static bool collect(PGconn *conn, int64_t deadline_ms, PGresult **first)
{
    for (;;) {
        if (!wait_ready(conn, deadline_ms))
            return false;
        PGresult *res = PQgetResult(conn);
        if (!res)
            return true;
        if (!*first)
            *first = res;
        else
            PQclear(res);
        if (PQstatus(conn) == CONNECTION_BAD)
            return true;
    }
}

PGresult *pg_query_within(PGconn *conn, const char *sql, int nparams, const char *const *params,
                          int timeout_ms, fe_err *err)
{
    PGresult *res = NULL;
    if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)) {
        pg_error(err, conn, NULL, NULL);
        return NULL;
    }
    if (!collect(conn, mono_ms() + timeout_ms, &res)) {
        char why[256];
        PGcancel *c = PQgetCancel(conn);
        bool sent = c && PQcancel(c, why, (int)sizeof why);
        PQfreeCancel(c);
        /* The cancelled statement still answers (with an error). A server that
         * does not answer that either is given up on: the socket is shut, so
         * libpq sees the end of the connection and the caller CONNECTION_BAD. */
        if (!sent || !collect(conn, mono_ms() + timeout_ms, &res)) {
            int fd = PQsocket(conn);
            if (fd >= 0)
                shutdown(fd, SHUT_RDWR);
            PGresult *rest; /* a shut socket reads as the end at once: never blocks */
            while ((rest = PQgetResult(conn)) != NULL)
                PQclear(rest);
        }
        PQclear(res);
        fe_err_set(err, FE_EPG, "no answer from the warehouse within %d ms", timeout_ms);
        return NULL;
    }
    return result_ok(conn, res, err);
}

/* ---- who holds what ----------------------------------------------------------- */

/* Sessions holding a lock on a dw or etl table in a mode that conflicts with
 * ROW EXCLUSIVE (what INSERT, UPDATE and DELETE take), oldest transaction first. */
static const char lock_holders_sql[] =
    "SELECT l.relation::regclass::text, l.mode, a.pid, coalesce(a.usename, '?'),"
    " coalesce(nullif(a.application_name, ''), '?'),"
    " coalesce(to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '?'),"
    " left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 100)"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_backend_pid()"
    "  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "  AND n.nspname IN ('dw', 'etl')"
    "  AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')"
    " ORDER BY a.xact_start NULLS LAST, 1 LIMIT 5";

fe_rc pg_lock_holders(PGconn *conn, buf *out, fe_err *err)
{
    PGresult *res = pg_query(conn, lock_holders_sql, 0, NULL, err);
    if (!res)
        return fe_err_wrap(err, "looking up the holders of locks on dw and etl tables");
    bool ok = true;
    for (int r = 0; ok && r < PQntuples(res); r++)
        ok = buf_printf(out,
                        "%s%s (%s) by pid %s (user %s, application %s, in a transaction since %s "
                        "UTC, query: %s)",
                        r ? "; " : "", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                        PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4),
                        PQgetvalue(res, r, 5), PQgetvalue(res, r, 6));
    PQclear(res);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
}

/* The statements running for at least $2 seconds among the backends $1, with
 * what the first one blocking each (pg_blocking_pids) is and the table waited on. */
static const char long_statements_sql[] =
    "SELECT a.pid, floor(extract(epoch FROM now() - a.query_start))::int, a.query_start::text,"
    " left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 80),"
    " coalesce((SELECT 'a lock on ' || coalesce((SELECT l.relation::regclass::text FROM pg_locks l"
    "     WHERE l.pid = a.pid AND NOT l.granted AND l.relation IS NOT NULL LIMIT 1), 'an object')"
    "   || ' held by pid ' || b.pid || ' (application ' || coalesce(nullif(b.application_name, ''),"
    "   '?') || ', user ' || coalesce(b.usename, '?') || ')'"
    "  FROM pg_stat_activity b WHERE b.pid = (pg_blocking_pids(a.pid))[1]), '')"
    " FROM pg_stat_activity a"
    " WHERE a.pid = ANY($1::int[]) AND a.state = 'active'"
    "  AND a.query_start <= now() - make_interval(secs => $2::int)"
    " ORDER BY a.pid";

fe_rc pg_long_statements(PGconn *conn, const int *pids, int npids, int min_seconds,
                         pg_activity *out, int max, int *n, int timeout_ms, fe_err *err)
{
    buf arr;
    char secs[16];
    bool ok = true;
    *n = 0;
    buf_init(&arr, 0);
    ok = buf_putc(&arr, '{');
    for (int i = 0; ok && i < npids; i++)
        ok = buf_printf(&arr, "%s%d", i ? "," : "", pids[i]);
    ok = ok && buf_putc(&arr, '}');
    if (!ok) {
        buf_term(&arr);
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    snprintf(secs, sizeof secs, "%d", min_seconds);
    const char *params[2] = {buf_cstr(&arr), secs};
    PGresult *res = pg_query_within(conn, long_statements_sql, 2, params, timeout_ms, err);
    buf_term(&arr);
    if (!res)
        return fe_err_wrap(err, "reading pg_stat_activity");
    for (int r = 0; r < PQntuples(res) && *n < max; r++) {
        pg_activity *a = &out[(*n)++];
        a->pid = (int)strtol(PQgetvalue(res, r, 0), NULL, 10);
        a->seconds = (int)strtol(PQgetvalue(res, r, 1), NULL, 10);
        one_line(a->started, sizeof a->started, PQgetvalue(res, r, 2));
        one_line(a->query, sizeof a->query, PQgetvalue(res, r, 3));
        one_line(a->waiting, sizeof a->waiting, PQgetvalue(res, r, 4));
    }
    PQclear(res);
    return FE_OK;
}
