/* source_id: which dw.dim_source row a config NAME loads into, and the lock that
 * keeps two runs from loading one account at once.
 *
 * A source's identity is (system, account): system is the config `type`, account
 * what the source module derives from its config (a host, a subdomain, a tenant)
 * or the `account` key that pins it. dw.dim_source holds one row per identity,
 * named after the config section that loaded it. A NAME stays bound to the
 * identity it first loaded: when the config changes so that NAME now derives
 * another account (127.0.0.1 becomes localhost in a base_url), the run is refused
 * instead of loading every record again under a second source_key. The way
 * forward is either to pin the old account (`account = ...`) or to rebind the name
 * (source_id_rebind), which renames the old row so that the next run creates a
 * new one.
 *
 * The row of a new source is created only once the source answered its first
 * request (source_id_register, called after the source module's open): a mistyped
 * host leaves no row. The lock (SOURCE_ID_LOCK_CLASS, hashtext(system || '/' ||
 * account)) is derived from the identity, not from the row, so it exists before
 * the row does and two names for one account still never load at once. */
#ifndef FE_SOURCE_ID_H
#define FE_SOURCE_ID_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

/* Advisory lock class ("FSRC") of the per-source session locks. */
#define SOURCE_ID_LOCK_CLASS 1179865667

/* Compares NAME's binding with (system, account). FE_OK: *key is the row of
 * (system, account) (bound to NAME, or to another name it will be renamed from),
 * 0 when the identity has no row yet. FE_EIDENTITY when NAME is bound to another
 * identity and none of its rows is (system, account): err shows both and the way
 * forward (pinned: the config already pins `account`). FE_EPG on a query error. */
fe_rc source_id_check(PGconn *conn, const char *name, const char *system, const char *account,
                      int *key, fe_err *err) FE_MUST_CHECK;

/* FE_ECONFIG when the server refuses the time zone as unknown (NULL or "" =
 * UTC); FE_EPG when the query failed otherwise (a lost connection, a cancel). */
fe_rc source_id_check_timezone(PGconn *conn, const char *name, const char *timezone,
                               fe_err *err) FE_MUST_CHECK;

/* Takes the identity's session advisory lock on conn, without waiting (released
 * when the session ends). FE_ELOCKED when another session holds it: err names the
 * holder; *by_run is true when that session is a flowetl run (its
 * application_name "flowetl run=R pid=P host=H"), false for any other session.
 * *orphan is that session's backend pid when its run's process ran on this host
 * and is gone (killed with -9): the session only lives on until the server
 * notices (client_connection_check_interval), and source_id_end_session may end
 * it at once; else 0.
 *
 * run_id is the run taking the lock (0 = none), stale_pid the backend pid of a
 * session of that same run which the caller gave up on because its connection
 * broke (0 = none). When that session still holds the lock (the server has not
 * ended it yet) it is no other run: *by_run stays false and *orphan is
 * stale_pid. Another session of the same run (a second name for the account)
 * is a holder like any run's. */
fe_rc source_id_lock(PGconn *conn, const char *name, const char *system, const char *account,
                     int64_t run_id, int stale_pid, bool *by_run, int *orphan,
                     fe_err *err) FE_MUST_CHECK;

/* Asks the server to end the session of backend_pid (pg_terminate_backend): for
 * an orphan found by source_id_lock only. False when the server refused (the role
 * may not signal it) or it was already gone. */
bool source_id_end_session(PGconn *conn, int backend_pid);

/* Creates the row of (system, account) when missing, names it NAME and sets its
 * time zone (NULL or "" = UTC), and returns its key. Autocommit, outside any
 * transaction. */
fe_rc source_id_register(PGconn *conn, const char *system, const char *account, const char *name,
                         const char *timezone, int *key, fe_err *err) FE_MUST_CHECK;

/* `flowetl rebind NAME`: every row named NAME whose identity is not (system,
 * account) is renamed "NAME@ACCOUNT" (a name no config section can have), so the
 * next run binds NAME to (system, account): to its existing row, or to a new one
 * created by its first successful request. The renamed rows keep their
 * source_key and every row loaded under it. Refused (FE_ELOCKED) while a run holds
 * an old identity's lock. Appends what it did (or that there was nothing to do) to
 * report, one line each. */
fe_rc source_id_rebind(PGconn *conn, const char *name, const char *system, const char *account,
                       buf *report, fe_err *err) FE_MUST_CHECK;

#endif
