/* copy: COPY text format (one row per line, fields separated by tabs, \N for
 * NULL, backslash escapes) and the client side of COPY FROM STDIN. */
#include "copy.h"

#include <stdio.h>
#include <string.h>

#include "pg.h"

bool copy_field_len(buf *row, const char *value, size_t len, bool first)
{
    if (!first && !buf_putc(row, '\t'))
        return false;
    if (!value)
        return buf_append(row, "\\N", 2);
    /* Runs of bytes that need no escape are appended in one piece. */
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (value[i]) {
        case '\\':
            esc = "\\\\";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            continue;
        }
        if (!buf_append(row, value + start, i - start) || !buf_append(row, esc, 2))
            return false;
        start = i + 1;
    }
    return buf_append(row, value + start, len - start);
}

bool copy_field(buf *row, const char *value, bool first)
{
    return copy_field_len(row, value, value ? strlen(value) : 0, first);
}

bool copy_field_bool(buf *row, bool value, bool first)
{
    return copy_field_len(row, value ? "t" : "f", 1, first);
}

bool copy_end_row(buf *row)
{
    return buf_putc(row, '\n');
}

/* The table part of a COPY target ("stg_order (a, b)" -> "stg_order"), for messages. */
static void target_name(char *dst, size_t size, const char *target)
{
    size_t n = strcspn(target, " (");
    if (n >= size)
        n = size - 1;
    memcpy(dst, target, n);
    dst[n] = '\0';
}

/* Reads results until libpq has none left, keeping the first error in err.
 * A server that is still in COPY_IN after the end was sent (it should not be)
 * is told again to abort, a few times at most, so the loop always ends. */
static fe_rc copy_drain(PGconn *conn, const char *what, fe_err *err)
{
    PGresult *res;
    fe_rc rc = FE_OK;
    int escapes = 0;

    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_COPY_IN && rc == FE_OK)
            rc = pg_error(err, conn, res, what);
        PQclear(res);
        if (st == PGRES_COPY_IN) {
            if (rc == FE_OK)
                rc = fe_err_set(err, FE_EPG, "%s: the server still expects COPY data", what);
            if (++escapes > 3 || PQputCopyEnd(conn, "flowetl: COPY abandoned") != 1)
                break;
        }
    }
    return rc;
}

fe_rc copy_send(PGconn *conn, const char *target, const char *data, size_t len, fe_err *err)
{
    char what[128], sql[1024];
    fe_err put_err = {0};

    memcpy(what, "COPY ", 5);
    target_name(what + 5, sizeof what - 5, target);
    int n = snprintf(sql, sizeof sql, "COPY %s FROM STDIN", target);
    if (n < 0 || (size_t)n >= sizeof sql)
        return fe_err_set(err, FE_EINVAL, "%s: target too long", what);

    PGresult *res = PQexec(conn, sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        fe_rc rc = pg_error(err, conn, res, what);
        PQclear(res);
        return rc;
    }
    PQclear(res);

    /* A put fails when the connection broke or the server already rejected the
     * data; the server's own error (read by the drain) is the better message, so
     * the client-side one is only kept aside. */
    for (size_t off = 0; off < len;) {
        size_t chunk = len - off < COPY_CHUNK ? len - off : COPY_CHUNK;
        if (PQputCopyData(conn, data + off, (int)chunk) != 1) {
            pg_error(&put_err, conn, NULL, what);
            break;
        }
        off += chunk;
    }
    if (PQputCopyEnd(conn, put_err.code ? "flowetl: sending COPY data failed" : NULL) != 1 &&
        !put_err.code)
        pg_error(&put_err, conn, NULL, what);

    fe_rc rc = copy_drain(conn, what, err);
    if (rc == FE_OK && put_err.code) {
        if (err)
            *err = put_err;
        rc = put_err.code;
    }
    return rc;
}
