/* metrics_run: gathers a run's outcome and the warehouse's last successes into a
 * metrics_run and writes it (see metrics_run.h). */
#include "app/metrics_run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "load/pg.h"
#include "app/metrics.h"
#include "app/stream_select.h"

#define LAST_SUCCESS_TIMEOUT_MS 2000

/* One row per source and stream that ever succeeded. */
static const char last_success_sql[] =
    "SELECT rs.source_key, s.name, s.system, rs.stream,"
    " extract(epoch FROM max(rs.finished_at))::bigint"
    " FROM etl.run_stream rs JOIN dw.dim_source s USING (source_key)"
    " WHERE rs.status = 'succeeded' AND rs.finished_at IS NOT NULL"
    " GROUP BY rs.source_key, s.name, s.system, rs.stream";

static const char *status_of(const stream_job *sj, bool signalled)
{
    switch (sj->status) {
    case SJ_SUCCEEDED:
        return "succeeded";
    case SJ_SKIPPED:
        return "skipped";
    case SJ_INTERRUPTED:
        return "interrupted";
    case SJ_PENDING:
        return signalled ? "interrupted" : "failed";
    case SJ_FAILED:
        break;
    }
    return "failed";
}

static const stream_job *selected(const source_job *job, const stream_def *s)
{
    for (int i = 0; i < job->nstreams; i++)
        if (job->streams[i].def == s)
            return &job->streams[i];
    return NULL;
}

/* The latest success of (job, stream) in res; 0 when none. A source whose
 * identity is known is matched by its key (a rebind renames it), else by name
 * and type. */
static int64_t last_success_in(const PGresult *res, const source_job *job, const char *stream)
{
    for (int r = 0; res && r < PQntuples(res); r++) {
        if (strcmp(PQgetvalue(res, r, 3), stream) != 0)
            continue;
        bool same = job->source_key > 0 ? atoi(PQgetvalue(res, r, 0)) == job->source_key
                                        : strcmp(PQgetvalue(res, r, 1), job->conf->name) == 0 &&
                                              strcmp(PQgetvalue(res, r, 2), job->conf->type) == 0;
        if (same)
            return strtoll(PQgetvalue(res, r, 4), NULL, 10);
    }
    return 0;
}

static int count_streams(const source_job *jobs, int njobs)
{
    int n = 0;
    for (int i = 0; i < njobs; i++)
        n += jobs[i].def ? jobs[i].def->nstreams : 0;
    return n;
}

/* The configured and the selected streams of every job, in the config's order. */
static int gather(const source_job *jobs, int njobs, const PGresult *res, bool signalled,
                  int64_t now, metrics_stream *out)
{
    int n = 0;
    for (int i = 0; i < njobs; i++) {
        const source_job *job = &jobs[i];
        for (int k = 0; job->def && k < job->def->nstreams; k++) {
            const stream_def *def = &job->def->streams[k];
            const stream_job *sj = selected(job, def);
            if (!sj && !stream_select_is_configured(job->conf, def))
                continue;
            metrics_stream *m = &out[n++];
            *m = (metrics_stream){.source = job->conf->name,
                                  .stream = def->name,
                                  .type = job->conf->type,
                                  .last_success = last_success_in(res, job, def->name)};
            if (!sj)
                continue;
            m->ran = true;
            m->status = status_of(sj, signalled);
            /* A stream cut at the deadline: its worker may still write these. */
            if (!sj->cut) {
                m->seconds = sj->seconds;
                m->stats = sj->stats;
            }
            /* The warehouse did not say (unreachable, or the row was not written). */
            if (sj->status == SJ_SUCCEEDED && m->last_success == 0)
                m->last_success = now;
        }
    }
    return n;
}

void metrics_run_write(const char *path, PGconn *conn, const run_ctl *ctl, const source_job *jobs,
                       int njobs, int exit_code)
{
    fe_err err = {0}, qerr = {0};
    PGresult *res = NULL;
    buf text;
    if (!path || !*path)
        return;
    if (conn && PQstatus(conn) == CONNECTION_OK)
        res = pg_query_within(conn, last_success_sql, 0, NULL, LAST_SUCCESS_TIMEOUT_MS, &qerr);
    if (!res && qerr.code)
        log_debug(NULL, "metrics: last successes not read: %s", qerr.msg);
    metrics_stream *streams = calloc((size_t)count_streams(jobs, njobs) + 1, sizeof *streams);
    buf_init(&text, 0);
    if (!streams) {
        fe_err_set(&err, FE_ENOMEM, "out of memory");
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    metrics_run r = {.run_id = ctl->run_id,
                     .exit_code = exit_code,
                     .started = ctl->started_unix,
                     .ended = now,
                     .warehouse_up = res != NULL,
                     .streams = streams};
    r.nstreams = gather(jobs, njobs, res, exit_code > 128, now, streams);
    if (metrics_format(&r, &text, &err) == FE_OK &&
        metrics_write_file(path, buf_cstr(&text), strlen(buf_cstr(&text)), &err) == FE_OK)
        log_debug(NULL, "metrics written to %s", path);
done:
    if (err.code)
        log_warn(NULL, "metrics not written (the run's outcome is unchanged): %s", err.msg);
    buf_term(&text);
    free(streams);
    PQclear(res);
}
