/* copy: COPY text format encoding and the COPY send loop (psql's discipline:
 * check every put, end with an error on failure, drain PQgetResult). */
#ifndef FE_COPY_H
#define FE_COPY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

/* Largest piece handed to one PQputCopyData call. */
#define COPY_CHUNK (1024 * 1024)

/* Appends one field (escaped: backslash, tab, newline, carriage return) or \N for
 * NULL, preceded by a tab unless first. Bytes are otherwise copied as they are
 * (UTF-8 stays byte-exact; the server checks its validity). False when the buffer
 * cannot grow; the buffer may then hold part of the field: the caller drops the
 * row (see the loader, which cuts the buffer back to the row's start). */
bool copy_field(buf *row, const char *value, bool first) FE_MUST_CHECK;
bool copy_field_len(buf *row, const char *value, size_t len, bool first) FE_MUST_CHECK;
/* "t" or "f". */
bool copy_field_bool(buf *row, bool value, bool first) FE_MUST_CHECK;
/* Ends the row with a newline. */
bool copy_end_row(buf *row) FE_MUST_CHECK;

/* What the server said when it refused a COPY: enough to find the row. */
typedef struct {
    char sqlstate[6];   /* "" when the failure was not the server's (lost connection) */
    unsigned long line; /* 1-based line of the data the error names; 0: none named */
    char column[64];    /* column the error names; "" when none */
    char message[768];  /* "message (detail) (hint)" on one line, without "COPY <table>: " */
} copy_refusal;

/* Runs "COPY <target> FROM STDIN" (target: a table name with an optional column
 * list) and sends data[0..len) (whole rows) in chunks of at most COPY_CHUNK. When a
 * put fails the COPY is ended with an error message; in every case the results are
 * drained until the connection has left COPY_IN, so it stays usable (inside a
 * transaction block, the transaction is then aborted). FE_EPG with "COPY <table>:
 * <first error>" on failure; why (may be NULL) then says which line and column
 * the server refused, when it named them. */
fe_rc copy_send(PGconn *conn, const char *target, const char *data, size_t len, copy_refusal *why,
                fe_err *err) FE_MUST_CHECK;

/* Reads the line and column out of a COPY error's CONTEXT field ("COPY stg_order,
 * line 3, column total: \"1e20\""). Only the shape is relied on (table, a number,
 * then optionally a column name before a colon), not the words, which the server
 * may translate. False (line 0, column "") when context is not a COPY's. */
bool copy_context_line(const char *context, unsigned long *line, char *column, size_t column_size);

/* Splits one COPY text row (row[0..len), without its newline) into its fields,
 * undoing copy_field's escapes; \N becomes NULL. The text is stored in out (reset
 * first) and fields[i] points into it, valid until out changes. Returns the number
 * of fields (at most max; further ones are ignored), -1 when out cannot grow. */
int copy_row_split(const char *row, size_t len, buf *out, const char **fields, int max);

#endif
