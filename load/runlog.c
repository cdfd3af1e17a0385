/* runlog: etl.run and etl.run_stream rows. */
#include "runlog.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/log.h"
#include "pg.h"

static const char run_start_sql[] =
    "INSERT INTO etl.run (started_at, status, version, command_line, host, pid)"
    " VALUES (now(), 'running', $1, $2, $3, $4) RETURNING run_id";

static const char run_finish_sql[] =
    "UPDATE etl.run SET finished_at = now(), status = $2 WHERE run_id = $1";

static const char stream_start_sql[] =
    "INSERT INTO etl.run_stream (run_id, source_key, source_name, stream, status, started_at)"
    " VALUES ($1, $2, (SELECT name FROM dw.dim_source WHERE source_key = $2), $3, 'running',"
    " now()) RETURNING run_stream_id";

static const char stream_finish_sql[] =
    "UPDATE etl.run_stream SET status = $2, finished_at = now(), pages = $3, records = $4,"
    " inserted = $5, updated = $6, unchanged = $7, deleted = $8, rejects = $9,"
    " requests = $10, retries = $11, http_429 = $12, bytes = $13, seconds = round($14::numeric, 3),"
    " error = $15"
    " WHERE run_stream_id = $1";

/* Reads the one bigint a RETURNING produced. */
static fe_rc returned_id(PGresult *res, int64_t *id, fe_err *err)
{
    char *end = NULL;
    if (PQntuples(res) != 1)
        return fe_err_set(err, FE_EPG, "expected one row, got %d", PQntuples(res));
    long long v = strtoll(PQgetvalue(res, 0, 0), &end, 10);
    if (!end || *end)
        return fe_err_set(err, FE_EPG, "not an id: %s", PQgetvalue(res, 0, 0));
    *id = (int64_t)v;
    return FE_OK;
}

fe_rc runlog_run_start(PGconn *conn, const char *version, const char *command_line, int64_t *run_id,
                       fe_err *err)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    char pid[16];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    const char *params[4] = {version, command_line, host[0] ? host : NULL, pid};
    PGresult *res = pg_query(conn, run_start_sql, 4, params, err);
    if (!res)
        return fe_err_wrap(err, "recording the run in etl.run");
    fe_rc rc = returned_id(res, run_id, err);
    PQclear(res);
    return rc;
}

fe_rc runlog_run_finish(PGconn *conn, int64_t run_id, const char *status, fe_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, run_id);
    const char *params[2] = {id, status};
    PGresult *res = pg_query(conn, run_finish_sql, 2, params, err);
    if (!res)
        return fe_err_wrap(err, "finishing run %s in etl.run", id);
    PQclear(res);
    return FE_OK;
}

fe_rc runlog_stream_start(PGconn *conn, int64_t run_id, int source_key, const char *stream,
                          int64_t *run_stream_id, fe_err *err)
{
    char id[24], key[16];
    snprintf(id, sizeof id, "%" PRId64, run_id);
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[3] = {id, key, stream};
    PGresult *res = pg_query(conn, stream_start_sql, 3, params, err);
    if (!res)
        return fe_err_wrap(err, "recording stream %s in etl.run_stream", stream);
    fe_rc rc = returned_id(res, run_stream_id, err);
    PQclear(res);
    return rc;
}

fe_rc runlog_stream_finish(PGconn *conn, int64_t run_stream_id, const char *status,
                           const stream_stats *stats, double seconds, const char *error,
                           fe_err *err)
{
    char v[13][24];
    const int64_t counters[11] = {stats->pages,    stats->records,   stats->inserted,
                                  stats->updated,  stats->unchanged, stats->deleted,
                                  stats->rejects,  stats->requests,  stats->retries,
                                  stats->http_429, stats->bytes};
    const char *params[15];

    snprintf(v[0], sizeof v[0], "%" PRId64, run_stream_id);
    params[0] = v[0];
    params[1] = status;
    for (int i = 0; i < 11; i++) {
        snprintf(v[i + 1], sizeof v[i + 1], "%" PRId64, counters[i]);
        params[i + 2] = v[i + 1];
    }
    snprintf(v[12], sizeof v[12], "%.3f", isfinite(seconds) && seconds >= 0 ? seconds : 0.0);
    params[13] = v[12];
    /* The error may quote an API's answer (an echoed token): masked like a log line. */
    char *clean = log_redact_dup(error);
    params[14] = error && !clean ? "(error not stored: out of memory masking secrets)" : clean;
    PGresult *res = pg_query(conn, stream_finish_sql, 15, params, err);
    free(clean);
    if (!res)
        return fe_err_wrap(err, "finishing stream in etl.run_stream");
    PQclear(res);
    return FE_OK;
}
