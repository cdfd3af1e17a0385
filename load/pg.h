/* pg: small libpq helpers shared by the load modules. */
#ifndef FE_PG_H
#define FE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include "../core/err.h"

/* Connects and checks the connection; FE_ECONNECT with libpq's message when it fails.
 * Sets TimeZone=UTC and application_name=flowetl. Caller PQfinish()es. */
PGconn *pg_connect(const char *dsn, fe_err *err);

/* Runs a command without parameters; FE_EPG with the server's message, detail and
 * hint on one line when it fails. */
fe_rc pg_exec(PGconn *conn, const char *sql, fe_err *err) FE_MUST_CHECK;

/* Runs a parameterised command; returns the result (caller PQclear()s) or NULL with
 * err filled when the status is not COMMAND_OK or TUPLES_OK. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   fe_err *err);

/* Formats the error of a failed result/connection into err (code FE_EPG). */
fe_rc pg_error(fe_err *err, PGconn *conn, const PGresult *res, const char *what);

#endif
