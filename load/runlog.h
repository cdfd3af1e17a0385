/* runlog: the bookkeeping rows etl.run and etl.run_stream, written in autocommit
 * (outside checkpoints) so they survive a failed stream. Every error and reason is
 * redacted (log_redact) and made valid UTF-8 (buf_utf8_scrub) before it is stored.
 *
 * A run holds a session advisory lock (RUNLOG_LOCK_CLASS, run_id) on the
 * connection that started it, for its whole life; a row still `running` whose lock
 * nobody holds belongs to a process that is gone (killed, crashed, its connection
 * lost), and runlog_mark_abandoned closes it. */
#ifndef FE_RUNLOG_H
#define FE_RUNLOG_H

#include <libpq-fe.h>
#include <stdint.h>
#include "core/err.h"
#include "core/stats.h"

/* Advisory lock class ("FRUN") of the per-run locks; the object id is run_id
 * (below 2^31). */
#define RUNLOG_LOCK_CLASS 1179800910

/* Inserts the run (status running, host, pid) and takes its advisory lock on conn,
 * in one transaction, so no other session ever sees the row without the lock.
 * command_line must already be free of secrets. */
fe_rc runlog_run_start(PGconn *conn, const char *version, const char *command_line, int64_t *run_id,
                       fe_err *err) FE_MUST_CHECK;

/* Takes run_id's lock again on a new connection of the same run (after its
 * first one broke); FE_ELOCKED if some other session holds it. */
fe_rc runlog_run_relock(PGconn *conn, int64_t run_id, fe_err *err) FE_MUST_CHECK;

/* Marks every other run still `running` whose lock no session holds as
 * `abandoned`, with its `running` streams; *count gets how many runs, and
 * described (may be NULL) one line naming them ("run 7 (pid 123 on host h,
 * started 2026-01-02 10:00:00 UTC)", several joined by ", "). */
fe_rc runlog_mark_abandoned(PGconn *conn, int64_t self_run_id, int *count, char *described,
                            size_t size, fe_err *err) FE_MUST_CHECK;

/* status: succeeded | partial | failed | interrupted. reason: one line, NULL for
 * none. */
fe_rc runlog_run_finish(PGconn *conn, int64_t run_id, const char *status, const char *reason,
                        fe_err *err) FE_MUST_CHECK;

/* A run that could not start (e.g. the schema is out of date): one row, status
 * failed, with the reason. Written with the columns of the first schema version
 * when the newer ones are missing; FE_EPG when not even etl.run exists. */
fe_rc runlog_run_refused(PGconn *conn, const char *version, const char *command_line,
                         const char *reason, fe_err *err) FE_MUST_CHECK;

/* A stream starts: its row, status running. source_key > 0. */
fe_rc runlog_stream_start(PGconn *conn, int64_t run_id, int source_key, const char *source_name,
                          const char *stream, int64_t *run_stream_id, fe_err *err) FE_MUST_CHECK;

/* status: succeeded | failed | interrupted | skipped; error may be NULL. */
fe_rc runlog_stream_finish(PGconn *conn, int64_t run_stream_id, const char *status,
                           const stream_stats *stats, double seconds, const char *error,
                           fe_err *err) FE_MUST_CHECK;

/* A stream that never started (its source failed before the first request, was
 * locked by another run, the run was interrupted or refused): one finished row.
 * source_key 0 = NULL (the source was never registered); source_name always.
 * Nothing is written when the run already has a row for (source_name, stream). */
fe_rc runlog_stream_record(PGconn *conn, int64_t run_id, int source_key, const char *source_name,
                           const char *stream, const char *status, const char *error,
                           fe_err *err) FE_MUST_CHECK;

#endif
