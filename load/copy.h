/* copy: COPY text format encoding and the COPY send loop (psql's discipline:
 * check every put, end with an error on failure, drain PQgetResult). */
#ifndef FE_COPY_H
#define FE_COPY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include "../core/buf.h"
#include "../core/err.h"

/* Appends one field (escaped: backslash, tab, newline, carriage return) or \N for
 * NULL, preceded by a tab unless first. */
bool copy_field(buf *row, const char *value, bool first) FE_MUST_CHECK;
bool copy_field_len(buf *row, const char *value, size_t len, bool first) FE_MUST_CHECK;
bool copy_field_bool(buf *row, bool value, bool first) FE_MUST_CHECK;
/* Ends the row with a newline. */
bool copy_end_row(buf *row) FE_MUST_CHECK;

/* Runs "COPY <target> FROM STDIN" and sends data[0..len) (whole rows). */
fe_rc copy_send(PGconn *conn, const char *target, const char *data, size_t len,
                fe_err *err) FE_MUST_CHECK;

#endif
