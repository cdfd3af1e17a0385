/* pg: small libpq helpers shared by the load modules. */
#ifndef FE_PG_H
#define FE_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include "core/buf.h"
#include "core/err.h"

/* Type OIDs for pg_query_typed (fixed in PostgreSQL's catalog; libpq's client
 * headers do not export pg_type.h). */
#define PG_OID_INT8 20
#define PG_OID_INT2 21
#define PG_OID_INT4 23
#define PG_OID_TEXT 25

/* The server checks a session's client socket this often while a statement runs
 * (client_connection_check_interval, PostgreSQL >= 14), so a backend whose client
 * was killed while it waited on a lock ends and releases its locks. */
#define PG_CLIENT_CHECK_INTERVAL "2s"

/* Connects and checks the connection; FE_ECONNECT with libpq's message when it fails.
 * dsn: conninfo or URI; NULL or "" = libpq defaults (PG* environment). Sets
 * TimeZone=UTC, client_encoding=UTF8, application_name=flowetl (unless the dsn
 * names one) and, on servers that have it (PQserverVersion >= 140000),
 * client_connection_check_interval = PG_CLIENT_CHECK_INTERVAL. Caller PQfinish()es;
 * NULL on failure. */
PGconn *pg_connect(const char *dsn, fe_err *err);

/* Connection settings flowetl adds to a DSN that does not set them itself. */
typedef struct {
    long connect_timeout_s; /* 0 = none added (libpq then waits as long as TCP does) */
    int keepalives_idle_s;  /* TCP keepalives, so a dead peer is noticed; 0 = none added */
    int keepalives_interval_s;
    int keepalives_count;
} pg_dsn_defaults;

/* The DSN as a key=value conninfo string (libpq's own parser reads it, so URIs and
 * every quoting rule are libpq's) with each default of d added when the DSN does not
 * set that key; connect_timeout is also left alone when PGCONNECT_TIMEOUT is set.
 * dsn NULL or "" gives only the defaults (libpq's PG* environment fills the rest).
 * Returns a string the caller free()s, or NULL with err: FE_ECONFIG and libpq's
 * message when the DSN cannot be parsed, FE_ENOMEM. */
char *pg_dsn_with_defaults(const char *dsn, const pg_dsn_defaults *d, fe_err *err);

/* True when conn can take a new command now: connected, out of pipeline mode, no
 * transaction or command open, and the server answers (an empty query: one round
 * trip). A session the server ended (pg_terminate_backend, a restart) while it
 * sat idle, or one left in a broken pipeline, is not. */
bool pg_usable(PGconn *conn);

/* True when conn is still connected as far as can be told without waiting:
 * what the server sent is read (PQconsumeInput), so a session the server ended
 * or a server that went away shows. Sends nothing; safe at any point of a
 * command or pipeline, on the thread that uses conn. */
bool pg_alive(PGconn *conn);

/* Sets a session parameter (set_config, session-wide): e.g. lock_timeout "300000"
 * (milliseconds), application_name. FE_EPG with the server's message. */
fe_rc pg_set(PGconn *conn, const char *name, const char *value, fe_err *err) FE_MUST_CHECK;

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

/* pg_query, for a thread that must not hang on the server: waits at most
 * timeout_ms for the whole answer. On timeout the statement is cancelled
 * (PQcancel) and NULL returned with FE_EPG "no answer from the warehouse within N
 * ms"; when not even the cancel is answered within another timeout_ms the
 * connection is left busy and is closed (PQstatus becomes CONNECTION_BAD). */
PGresult *pg_query_within(PGconn *conn, const char *sql, int nparams, const char *const *params,
                          int timeout_ms, fe_err *err);

/* Formats the error of a failed result/connection into err (code FE_EPG):
 * "what: message (detail) (hint)" on one line; what may be NULL. Returns FE_EPG.
 * A statement cancelled by lock_timeout (SQLSTATE 55P03) reads
 * "what: lock_timeout expired: message", which pg_err_is_lock_timeout recognises. */
fe_rc pg_error(fe_err *err, PGconn *conn, const PGresult *res, const char *what);

/* True when err was made by pg_error for a lock_timeout (SQLSTATE 55P03). */
bool pg_err_is_lock_timeout(const fe_err *err);

/* Who holds locks on tables of the schemas dw and etl in a mode that blocks the
 * loader's writes (SHARE and stronger), sessions other than conn's: appended to
 * out as "dw.fact_order (AccessExclusiveLock) by pid 4242 (user u, application
 * psql, in a transaction since 2026-01-02 10:00:00 UTC, query: ...)", several
 * joined by "; "; nothing appended when none. */
fe_rc pg_lock_holders(PGconn *conn, buf *out, fe_err *err) FE_MUST_CHECK;

/* A statement of another session that has been running for a while. */
typedef struct {
    int pid;
    int seconds;       /* running for this long */
    char started[40];  /* query_start as text: tells one statement from the next */
    char query[96];    /* its first characters, on one line */
    char waiting[320]; /* "a lock on dw.fact_order held by pid 42 (application psql)", or "" */
} pg_activity;

/* The statements of backends pids[0..npids) that have been running (state active)
 * for at least min_seconds, at most max of them into out, their count into *n.
 * Waits at most timeout_ms (pg_query_within). */
fe_rc pg_long_statements(PGconn *conn, const int *pids, int npids, int min_seconds,
                         pg_activity *out, int max, int *n, int timeout_ms,
                         fe_err *err) FE_MUST_CHECK;

#endif
