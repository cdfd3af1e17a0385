/* runlog: the bookkeeping rows etl.run and etl.run_stream, written in autocommit
 * (outside checkpoints) so they survive a failed stream. */
#ifndef FE_RUNLOG_H
#define FE_RUNLOG_H

#include <libpq-fe.h>
#include <stdint.h>
#include "../core/err.h"
#include "../core/stats.h"

/* command_line must already be free of secrets. */
fe_rc runlog_run_start(PGconn *conn, const char *version, const char *command_line, int64_t *run_id,
                       fe_err *err) FE_MUST_CHECK;
/* status: succeeded | partial | failed */
fe_rc runlog_run_finish(PGconn *conn, int64_t run_id, const char *status,
                        fe_err *err) FE_MUST_CHECK;

fe_rc runlog_stream_start(PGconn *conn, int64_t run_id, int source_key, const char *stream,
                          int64_t *run_stream_id, fe_err *err) FE_MUST_CHECK;
/* status: succeeded | failed; error may be NULL. */
fe_rc runlog_stream_finish(PGconn *conn, int64_t run_stream_id, const char *status,
                           const stream_stats *stats, double seconds, const char *error,
                           fe_err *err) FE_MUST_CHECK;

#endif
