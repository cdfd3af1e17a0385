/* pg: small libpq helpers shared by the load modules. */
#ifndef FE_PG_H
#define FE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include "../core/err.h"

/* Type OIDs for pg_query_typed (fixed in PostgreSQL's catalog; libpq's client
 * headers do not export pg_type.h). */
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_TEXT 25

/* Connects and checks the connection; FE_ECONNECT with libpq's message when it fails.
 * dsn: conninfo or URI; NULL or "" = libpq defaults (PG* environment). Sets
 * TimeZone=UTC, client_encoding=UTF8 and application_name=flowetl (unless the dsn
 * names one). Caller PQfinish()es; NULL on failure. */
PGconn *pg_connect(const char *dsn, fe_err *err);

/* Runs a command without parameters (may hold several statements); FE_EPG with the
 * server's message, detail and hint on one line when it fails. */
fe_rc pg_exec(PGconn *conn, const char *sql, fe_err *err) FE_MUST_CHECK;

/* Runs a parameterised command; returns the result (caller PQclear()s) or NULL with
 * err filled when the status is not COMMAND_OK or TUPLES_OK. */
PGresult *pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   fe_err *err);

/* pg_query with the parameter types given (PG_OID_*), so a statement may leave some
 * parameters unused and needs no casts. */
PGresult *pg_query_typed(PGconn *conn, const char *sql, int nparams, const Oid *types,
                         const char *const *params, fe_err *err);

/* Formats the error of a failed result/connection into err (code FE_EPG):
 * "what: message (detail) (hint)" on one line; what may be NULL. Returns FE_EPG. */
fe_rc pg_error(fe_err *err, PGconn *conn, const PGresult *res, const char *what);

#endif
