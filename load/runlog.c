/* runlog: etl.run and etl.run_stream rows. */
#include "load/runlog.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "load/pg.h"

#define STR(x) #x
#define XSTR(x) STR(x)
#define LOCK_CLASS_TEXT XSTR(RUNLOG_LOCK_CLASS)

static const char run_start_sql[] =
    "INSERT INTO etl.run (started_at, status, version, command_line, host, pid)"
    " VALUES (now(), 'running', $1, $2, $3, $4) RETURNING run_id";

static const char run_lock_sql[] =
    "SELECT pg_advisory_lock(" LOCK_CLASS_TEXT ", ($1::bigint % 2147483648)::int)";

static const char run_relock_sql[] =
    "SELECT pg_try_advisory_lock(" LOCK_CLASS_TEXT ", ($1::bigint % 2147483648)::int)";

static const char run_finish_sql[] =
    "UPDATE etl.run SET finished_at = now(), status = $2, reason = $3 WHERE run_id = $1";

/* A run is abandoned when it is still running and no session of this database
 * holds its lock (the two-key form of the lock: objsubid 2). */
static const char abandon_sql[] =
    "WITH gone AS ("
    "  UPDATE etl.run r SET status = 'abandoned', finished_at = now(),"
    "   reason = 'the flowetl process (pid ' || coalesce(r.pid::text, '?') || ' on host '"
    "    || coalesce(r.host, '?') || ') ended without finishing the run'"
    "  WHERE r.status = 'running' AND r.run_id <> $1 AND NOT EXISTS ("
    "   SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted"
    "    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    "    AND l.classid = " LOCK_CLASS_TEXT "::oid AND l.objid = (r.run_id % 2147483648)::oid"
    "    AND l.objsubid = 2)"
    "  RETURNING r.run_id, r.pid, r.host, r.started_at),"
    " streams AS ("
    "  UPDATE etl.run_stream s SET status = 'abandoned', finished_at = now(),"
    "   error = 'the flowetl process ended while the stream ran'"
    "  FROM gone WHERE s.run_id = gone.run_id AND s.status = 'running' RETURNING 1),"
    /* A stream left `running` by a run that did end (it could not write the
     * stream's end: its deadline, a lost connection) is no longer running either. */
    " orphans AS ("
    "  UPDATE etl.run_stream s SET status = 'abandoned', finished_at = now(),"
    "   error = coalesce(s.error, 'the run ended without recording how the stream ended')"
    "  FROM etl.run r WHERE s.run_id = r.run_id AND s.status = 'running'"
    "   AND r.status NOT IN ('running') RETURNING 1)"
    " SELECT run_id, coalesce(pid::text, '?'), coalesce(host, '?'),"
    "  to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
    "  (SELECT count(*) FROM streams)"
    " FROM gone ORDER BY run_id";

static const char refused_sql[] =
    "INSERT INTO etl.run (started_at, finished_at, status, version, command_line, host, pid,"
    " reason) VALUES (now(), now(), 'failed', $1, $2, $3, $4, $5)";

/* The columns of 001_schema.sql only. */
static const char refused_old_sql[] =
    "INSERT INTO etl.run (started_at, finished_at, status, version, command_line, host)"
    " VALUES (now(), now(), 'failed', $1, $2, $3)";

static const char stream_start_sql[] =
    "INSERT INTO etl.run_stream (run_id, source_key, source_name, stream, status, started_at)"
    " VALUES ($1, $2, $3, $4, 'running', now()) RETURNING run_stream_id";

static const char stream_finish_sql[] =
    "UPDATE etl.run_stream SET status = $2, finished_at = now(), pages = $3, records = $4,"
    " inserted = $5, updated = $6, unchanged = $7, deleted = $8, rejects = $9,"
    " requests = $10, retries = $11, http_429 = $12, bytes = $13, seconds = round($14::numeric, 3),"
    " error = $15"
    " WHERE run_stream_id = $1";

/* Never a second row for one stream of one run. A row still `running` is ended:
 * the stream had started (its worker wrote the row) but the caller did not learn
 * its id (the run's deadline came between the two). */
static const char stream_record_sql[] =
    "WITH ended AS ("
    "  UPDATE etl.run_stream SET status = $5, finished_at = now(), error = $6"
    "  WHERE run_id = $1::bigint AND source_name = $3 AND stream = $4 AND status = 'running'"
    "  RETURNING 1)"
    " INSERT INTO etl.run_stream (run_id, source_key, source_name, stream, status, started_at,"
    " finished_at, seconds, error)"
    " SELECT $1::bigint, nullif($2::int, 0), $3, $4, $5, now(), now(), 0, $6"
    " WHERE NOT EXISTS (SELECT 1 FROM etl.run_stream"
    "  WHERE run_id = $1::bigint AND source_name = $3 AND stream = $4)";

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

/* A copy of an error or reason fit to store (caller frees; NULL for NULL or out
 * of memory): secrets masked like a log line (it may quote an API's answer, an
 * echoed token), then every byte that is not UTF-8 made '?'. The server refuses
 * invalid UTF-8 (SQLSTATE 22021), and a refused row would lose the real error
 * and leave the run `running`; an API's error body in windows-1251 is enough. */
static char *stored_dup(const char *text)
{
    char *clean = log_redact_dup(text);
    if (clean)
        buf_utf8_scrub(clean, strlen(clean));
    return clean;
}

/* The text to store for text, given clean = stored_dup(text). */
static const char *stored_text(const char *text, const char *clean)
{
    return text && !clean ? "(not stored: out of memory masking secrets)" : clean;
}

static void host_name(char *host, size_t size)
{
    if (gethostname(host, size) != 0)
        host[0] = '\0';
    host[size - 1] = '\0';
}

fe_rc runlog_run_start(PGconn *conn, const char *version, const char *command_line, int64_t *run_id,
                       fe_err *err)
{
    char host[256], pid[16], id[24];
    host_name(host, sizeof host);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    const char *params[4] = {version, command_line, host[0] ? host : NULL, pid};
    PGresult *res = NULL;
    fe_rc rc = pg_exec(conn, "BEGIN", err);
    if (rc != FE_OK)
        goto done;
    if (!(res = pg_query(conn, run_start_sql, 4, params, err))) {
        rc = FE_EPG;
        goto done;
    }
    if ((rc = returned_id(res, run_id, err)) != FE_OK)
        goto done;
    PQclear(res);
    snprintf(id, sizeof id, "%" PRId64, *run_id);
    const char *lock_params[1] = {id};
    if (!(res = pg_query(conn, run_lock_sql, 1, lock_params, err))) {
        rc = FE_EPG;
        goto done;
    }
    rc = pg_exec(conn, "COMMIT", err);
done:
    PQclear(res);
    if (rc != FE_OK) {
        if (PQtransactionStatus(conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn, "ROLLBACK"));
        return fe_err_wrap(err, "recording the run in etl.run");
    }
    return FE_OK;
}

fe_rc runlog_run_relock(PGconn *conn, int64_t run_id, fe_err *err)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, run_id);
    const char *params[1] = {id};
    PGresult *res = pg_query(conn, run_relock_sql, 1, params, err);
    if (!res)
        return fe_err_wrap(err, "taking the lock of run %s again", id);
    bool got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return got ? FE_OK : fe_err_set(err, FE_ELOCKED, "the lock of run %s is held elsewhere", id);
}

fe_rc runlog_mark_abandoned(PGconn *conn, int64_t self_run_id, int *count, char *described,
                            size_t size, fe_err *err)
{
    char id[24];
    size_t used = 0;
    snprintf(id, sizeof id, "%" PRId64, self_run_id);
    const char *params[1] = {id};
    *count = 0;
    if (described && size)
        described[0] = '\0';
    PGresult *res = pg_query(conn, abandon_sql, 1, params, err);
    if (!res)
        return fe_err_wrap(err, "marking abandoned runs in etl.run");
    *count = PQntuples(res);
    for (int r = 0; described && r < *count && used < size; r++) {
        int w = snprintf(described + used, size - used,
                         "%srun %s (pid %s on host %s, started %s UTC; %s stream(s) were running)",
                         r ? ", " : "", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                         PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), PQgetvalue(res, r, 4));
        if (w < 0)
            break;
        used += (size_t)w;
    }
    PQclear(res);
    return FE_OK;
}

fe_rc runlog_run_finish(PGconn *conn, int64_t run_id, const char *status, const char *reason,
                        fe_err *err)
{
    char id[24];
    char *clean = stored_dup(reason);
    snprintf(id, sizeof id, "%" PRId64, run_id);
    const char *params[3] = {id, status, stored_text(reason, clean)};
    PGresult *res = pg_query(conn, run_finish_sql, 3, params, err);
    free(clean);
    if (!res)
        return fe_err_wrap(err, "finishing run %s in etl.run", id);
    PQclear(res);
    return FE_OK;
}

fe_rc runlog_run_refused(PGconn *conn, const char *version, const char *command_line,
                         const char *reason, fe_err *err)
{
    char host[256], pid[16];
    char *clean = stored_dup(reason);
    host_name(host, sizeof host);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    const char *params[5] = {version, command_line, host[0] ? host : NULL, pid,
                             stored_text(reason, clean)};
    PGresult *res = pg_query(conn, refused_sql, 5, params, err);
    if (!res) /* a schema from before etl.run had reason and pid */
        res = pg_query(conn, refused_old_sql, 3, params, err);
    free(clean);
    if (!res)
        return fe_err_wrap(err, "recording the refused run in etl.run");
    PQclear(res);
    return FE_OK;
}

fe_rc runlog_stream_start(PGconn *conn, int64_t run_id, int source_key, const char *source_name,
                          const char *stream, int64_t *run_stream_id, fe_err *err)
{
    char id[24], key[16];
    snprintf(id, sizeof id, "%" PRId64, run_id);
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[4] = {id, key, source_name, stream};
    PGresult *res = pg_query(conn, stream_start_sql, 4, params, err);
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
    char *clean = stored_dup(error);
    params[14] = stored_text(error, clean);
    PGresult *res = pg_query(conn, stream_finish_sql, 15, params, err);
    free(clean);
    if (!res)
        return fe_err_wrap(err, "finishing stream in etl.run_stream");
    PQclear(res);
    return FE_OK;
}

fe_rc runlog_stream_record(PGconn *conn, int64_t run_id, int source_key, const char *source_name,
                           const char *stream, const char *status, const char *error, fe_err *err)
{
    char id[24], key[16];
    char *clean = stored_dup(error);
    snprintf(id, sizeof id, "%" PRId64, run_id);
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[6] = {id, key, source_name, stream, status, stored_text(error, clean)};
    PGresult *res = pg_query(conn, stream_record_sql, 6, params, err);
    free(clean);
    if (!res)
        return fe_err_wrap(err, "recording stream %s in etl.run_stream", stream);
    PQclear(res);
    return FE_OK;
}
