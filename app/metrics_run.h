/* metrics_run: what `flowetl run` writes to [run] metrics_file at its end (see
 * app/metrics.h for the format and README "Metrics" for the metrics). */
#ifndef FE_METRICS_RUN_H
#define FE_METRICS_RUN_H

#include <libpq-fe.h>
#include "app/run_job.h"

/* Writes the metrics of the run to path ([run] metrics_file); does nothing when
 * path is NULL or empty. Every configured stream gets its last success time (the latest
 * succeeded etl.run_stream row, read with conn; when conn is NULL, broken or does
 * not answer within 2 s, flowetl_warehouse_up is 0 and only the successes of this
 * run are known); the streams of jobs (the run's selection) also get their
 * last-run series. A stream still pending counts as interrupted after a signal,
 * else as failed. Never fails the run: a file that cannot be written is a
 * warning on stderr. */
void metrics_run_write(const char *path, PGconn *conn, const run_ctl *ctl, const source_job *jobs,
                       int njobs, int exit_code);

#endif
