/* state: `flowetl state list|show|set|reset` (the streams' cursors in
 * etl.sync_state), and the persistent full-refresh requests and date windows that
 * `flowetl run` honours (called by its workers).
 *
 * A full-refresh request (state reset, run --full-refresh[=...]) is stored in
 * etl.sync_state.full_refresh_requested_at (sql/007_state.sql); the cursor stays.
 * A run reads a stream with a pending request in full (ignoring its cursor) and,
 * once that stream succeeded, clears the request if it was made before the read
 * started. A failed or killed full read leaves it pending: the next run reads in
 * full again.
 *
 * Exit codes of the state command: 0 done; 1 it could not be done (a source that
 * never loaded has no cursor to set); 2 usage, config, an invalid cursor, or a
 * destructive subcommand without --yes (nothing changed; the message says what
 * would); 3 warehouse unreachable; 4 another run holds the source (nothing
 * changed). */
#ifndef FE_STATE_H
#define FE_STATE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/err.h"
#include "sources/source.h"
#include "app/state_args.h"

/* Expands the config keys the state command reads of the sources it names (its
 * identity keys, `streams`, `timezone`); a target naming no source is left for
 * the command to report. */
fe_rc state_resolve_config(config *cfg, const state_args *a, fe_err *err) FE_MUST_CHECK;

/* Runs the state command; returns the exit code above. Prints on stdout. */
int state_command(const config *cfg, const state_args *a);

/* ---- for run's workers ------------------------------------------------------------- */

/* What a stream starts from. */
typedef struct {
    char *cursor;   /* stored cursor (JSON text) or NULL; free() */
    bool pending;   /* a full-refresh request is stored */
    char by[160];   /* who made it ("state reset", "run --full-refresh (run 12)") */
    char since[40]; /* the server's time when read: requests up to it are this read's */
} state_stream_start;

/* Stores a full-refresh request made by `by` (NULL: none; an older pending one is
 * kept), then reads the stream's cursor and request. Autocommit. */
fe_rc state_stream_prepare(PGconn *conn, int source_key, const char *stream, const char *by,
                           state_stream_start *out, fe_err *err) FE_MUST_CHECK;

/* After a full read of the stream succeeded: clears its request when it was made
 * at or before since (state_stream_start.since). */
fe_rc state_stream_refreshed(PGconn *conn, int source_key, const char *stream, const char *since,
                             fe_err *err) FE_MUST_CHECK;

/* The window of run --from FROM [--to TO] in IANA zone tz (NULL/"" = UTC): to
 * defaults to today there. FE_EINVAL when from is after to (or today). */
fe_rc state_window_bounds(PGconn *conn, const char *tz, const char *from, const char *to,
                          stream_window *w, fe_err *err) FE_MUST_CHECK;

#endif
