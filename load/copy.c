/* copy: COPY text format (one row per line, fields separated by tabs, \N for
 * NULL, backslash escapes) and the client side of COPY FROM STDIN. */
#include "load/copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/pg.h"

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

/* Keeps what the server said about a refused COPY, for copy_refusal. */
static void refusal_note(copy_refusal *why, PGconn *conn, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    fe_err msg = {0};

    snprintf(why->sqlstate, sizeof why->sqlstate, "%s", state ? state : "");
    copy_context_line(PQresultErrorField(res, PG_DIAG_CONTEXT), &why->line, why->column,
                      sizeof why->column);
    pg_error(&msg, conn, res, NULL);
    snprintf(why->message, sizeof why->message, "%s", msg.msg);
}

/* Reads results until libpq has none left, keeping the first error in err (and
 * why). A server that is still in COPY_IN after the end was sent (it should not
 * be) is told again to abort, a few times at most, so the loop always ends. */
static fe_rc copy_drain(PGconn *conn, const char *what, copy_refusal *why, fe_err *err)
{
    PGresult *res;
    fe_rc rc = FE_OK;
    int escapes = 0;

    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_COPY_IN && rc == FE_OK) {
            rc = pg_error(err, conn, res, what);
            if (why)
                refusal_note(why, conn, res);
        }
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

fe_rc copy_send(PGconn *conn, const char *target, const char *data, size_t len, copy_refusal *why,
                fe_err *err)
{
    char what[128], sql[1024];
    fe_err put_err = {0};

    if (why)
        *why = (copy_refusal){0};

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

    fe_rc rc = copy_drain(conn, what, why, err);
    if (rc == FE_OK && put_err.code) {
        if (err)
            *err = put_err;
        rc = put_err.code;
    }
    return rc;
}

bool copy_context_line(const char *context, unsigned long *line, char *column, size_t column_size)
{
    *line = 0;
    if (column_size)
        column[0] = '\0';
    /* "COPY <table>, <word> <N>[, <word> <column>: <value>]" */
    if (!context || strncmp(context, "COPY ", 5) != 0)
        return false;
    const char *p = strchr(context + 5, ',');
    if (!p)
        return false;
    p += strcspn(p, "0123456789\n");
    if (*p < '0' || *p > '9')
        return false;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (n == 0)
        return false;
    *line = n;
    if (end[0] != ',' || end[1] != ' ')
        return true;
    /* The column is the last word before the colon. */
    const char *seg = end + 2;
    const char *colon = strchr(seg, ':');
    if (!colon)
        return true;
    const char *name = colon;
    while (name > seg && name[-1] != ' ')
        name--;
    size_t len = (size_t)(colon - name);
    if (len > 0 && len < column_size) {
        memcpy(column, name, len);
        column[len] = '\0';
    }
    return true;
}

/* The character a backslash escape of COPY text stands for. */
static char unescape_char(char c)
{
    switch (c) {
    case 't':
        return '\t';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'v':
        return '\v';
    default:
        return c;
    }
}

int copy_row_split(const char *row, size_t len, buf *out, const char **fields, int max)
{
    size_t starts[64];
    bool null[64];
    int n = 0;

    if (max > 64)
        max = 64;
    buf_reset(out);
    for (size_t i = 0; i <= len && n < max;) {
        size_t end = i;
        while (end < len && row[end] != '\t')
            end++;
        starts[n] = out->len;
        null[n] = end - i == 2 && row[i] == '\\' && row[i + 1] == 'N';
        for (size_t k = i; k < end && !null[n]; k++) {
            char c = row[k];
            if (c == '\\' && k + 1 < end)
                c = unescape_char(row[++k]);
            if (!buf_putc(out, c))
                return -1;
        }
        if (!buf_putc(out, '\0'))
            return -1;
        n++;
        i = end + 1;
    }
    for (int f = 0; f < n; f++)
        fields[f] = null[f] ? NULL : out->data + starts[f];
    return n;
}
