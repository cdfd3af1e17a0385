/* pg: connection set-up and error formatting for libpq. */
#include "pg.h"

#include <stdio.h>
#include <string.h>

#include "../core/buf.h"

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
    return fe_err_set(err, FE_EPG, "%s%s%s%s%s%s%s%s%s", what ? what : "", what ? ": " : "", msg,
                      *detail ? " (" : "", detail, *detail ? ")" : "", *hint ? " (hint: " : "",
                      hint, *hint ? ")" : "");
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
    if (pg_exec(conn, "SET TIME ZONE 'UTC'", err) != FE_OK) {
        err->code = FE_ECONNECT;
        PQfinish(conn);
        return NULL;
    }
    return conn;
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
    PGresult *res = PQexecParams(conn, sql, nparams, types, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_error(err, conn, res, NULL);
        PQclear(res);
        return NULL;
    }
    return res;
}

PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   fe_err *err)
{
    return pg_query_typed(conn, sql, nparams, NULL, params, err);
}
