/* runner: `flowetl run`. Selects streams, opens the run's bookkeeping, runs one
 * worker thread per source (sources are independent: each has its own API
 * budget, connection and advisory lock), then prints the summary and picks the
 * exit code. */
#include "runner.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../extract/source.h"
#include "../load/loader.h"
#include "../load/migrate.h"
#include "../load/pg.h"
#include "../load/runlog.h"
#include "source_env.h"

#define MAX_STREAMS 32

typedef struct {
    const stream_def *def;
    bool done; /* ran to the end (succeeded or failed) */
    bool succeeded;
    stream_stats stats;
    double seconds;
    char error[sizeof(((fe_err *)0)->msg)];
} stream_job;

typedef struct {
    const config *cfg;
    const run_request *req;
    const source_conf *conf;
    const source_def *def;
    int64_t run_id;
    stream_job streams[MAX_STREAMS];
    int nstreams;
    bool warehouse_lost; /* the worker could not connect to the warehouse */
    bool started;        /* thread is running and must be joined */
    pthread_t thread;
} source_job;

/* --- selection ------------------------------------------------------------ */

static const stream_def *find_stream(const source_def *def, const char *name, size_t len)
{
    for (int i = 0; i < def->nstreams; i++)
        if (strlen(def->streams[i].name) == len && strncmp(def->streams[i].name, name, len) == 0)
            return &def->streams[i];
    return NULL;
}

static bool job_has_stream(const source_job *job, const stream_def *s)
{
    for (int i = 0; i < job->nstreams; i++)
        if (job->streams[i].def == s)
            return true;
    return false;
}

static void job_add_stream(source_job *job, const stream_def *s)
{
    if (!job_has_stream(job, s) && job->nstreams < MAX_STREAMS)
        job->streams[job->nstreams++].def = s;
}

/* The streams the config enables for a source: `streams` or, when unset, all. */
static void job_add_configured_streams(source_job *job)
{
    const char *list = conf_str(job->conf, "streams");
    for (int i = 0; i < job->def->nstreams; i++)
        if (!list || !*list || conf_list_has(job->conf, "streams", job->def->streams[i].name))
            job_add_stream(job, &job->def->streams[i]);
}

static void stream_names(const source_def *def, char *dst, size_t n)
{
    size_t used = 0;
    dst[0] = '\0';
    for (int i = 0; i < def->nstreams && used < n; i++) {
        int w = snprintf(dst + used, n - used, "%s%s", i ? ", " : "", def->streams[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static source_job *job_for(source_job *jobs, int njobs, const char *name, size_t len)
{
    for (int i = 0; i < njobs; i++)
        if (strlen(jobs[i].conf->name) == len && strncmp(jobs[i].conf->name, name, len) == 0)
            return &jobs[i];
    return NULL;
}

/* Every name in a source's `streams` key must be a stream of its type: a typo
 * would otherwise silently skip a stream every night. */
static bool configured_streams_exist(const source_job *job)
{
    const char *item;
    size_t len;
    for (size_t i = 0; conf_list_at(job->conf, "streams", i, &item, &len); i++) {
        if (find_stream(job->def, item, len))
            continue;
        char names[512];
        stream_names(job->def, names, sizeof names);
        log_error(NULL, "[source.%s] streams: unknown stream '%.*s' (type %s has: %s)",
                  job->conf->name, (int)len, item, job->def->type, names);
        return false;
    }
    return true;
}

/* Fills the jobs' stream lists from the targets. Returns false (after printing
 * why) when a target names an unknown source or stream. */
static bool select_streams(source_job *jobs, int njobs, const run_request *req)
{
    for (int i = 0; i < njobs; i++)
        if (!configured_streams_exist(&jobs[i]))
            return false;
    if (req->ntargets == 0) {
        for (int i = 0; i < njobs; i++)
            job_add_configured_streams(&jobs[i]);
        return true;
    }
    for (int t = 0; t < req->ntargets; t++) {
        const char *target = req->targets[t];
        const char *dot = strchr(target, '.');
        size_t name_len = dot ? (size_t)(dot - target) : strlen(target);
        source_job *job = job_for(jobs, njobs, target, name_len);
        if (!job) {
            log_error(NULL, "unknown source '%.*s' in '%s': no [source.%.*s] in the config",
                      (int)name_len, target, target, (int)name_len, target);
            return false;
        }
        if (!dot) {
            job_add_configured_streams(job);
            continue;
        }
        const stream_def *s = find_stream(job->def, dot + 1, strlen(dot + 1));
        if (!s) {
            char names[512];
            stream_names(job->def, names, sizeof names);
            log_error(NULL, "unknown stream '%s' of source '%s' (type %s has: %s)", dot + 1,
                      job->conf->name, job->def->type, names);
            return false;
        }
        job_add_stream(job, s);
    }
    return true;
}

/* --- one stream ----------------------------------------------------------- */

static void job_fail_stream(source_job *job, stream_job *sj, const char *msg)
{
    sj->done = true;
    sj->succeeded = false;
    snprintf(sj->error, sizeof sj->error, "%s", msg);
    log_error(NULL, "%s.%s failed: %s", job->conf->name, sj->def->name, msg);
}

static fe_rc stream_prepare_cursor(loader *ld, const source_job *job, int source_key,
                                   const char *stream, char **cursor, fe_err *err)
{
    *cursor = NULL;
    if (job->req->full_refresh) {
        fe_rc rc = loader_clear_cursor(ld, source_key, stream, err);
        if (rc != FE_OK)
            return rc;
        return FE_OK;
    }
    return loader_get_cursor(ld, source_key, stream, cursor, err);
}

/* Runs one stream and records it in etl.run_stream. Failures stay inside the
 * stream: its open checkpoint is rolled back and the next stream runs. */
static void run_one_stream(source_job *job, stream_job *sj, loader *ld, source_env *env,
                           int source_key)
{
    char logctx[256];
    fe_err err = {0};
    char *cursor = NULL;
    int64_t run_stream_id = 0;
    long max_rejects = 100;

    snprintf(logctx, sizeof logctx, "%s.%s", job->conf->name, sj->def->name);
    conf_int(job->conf, "max_rejects", &max_rejects);
    if (runlog_stream_start(loader_conn(ld), job->run_id, source_key, sj->def->name, &run_stream_id,
                            &err) != FE_OK ||
        stream_prepare_cursor(ld, job, source_key, sj->def->name, &cursor, &err) != FE_OK) {
        job_fail_stream(job, sj, err.msg);
        goto cleanup;
    }

    stream_ctx ctx = {
        .conf = job->conf,
        .stream = sj->def->name,
        .logctx = logctx,
        .source_key = source_key,
        .run_id = job->run_id,
        .full_refresh = job->req->full_refresh,
        .cursor = cursor,
        .ld = ld,
        .http = env->http,
        .stats = &sj->stats,
        .state = env->state,
        .max_rejects = max_rejects,
        .started_us = ratelimit_now_us(),
        .progress_every_us = job->req->progress_every_us,
    };
    ctx.last_progress_us = ctx.started_us;
    log_info(logctx, "starting (%s)", cursor ? cursor : "no cursor: full read");

    fe_rc rc = sj->def->run(&ctx, &err);
    /* A stream ends with a synchronous commit; should one leave a commit in
     * flight, its outcome decides the stream's. */
    if (rc == FE_OK)
        rc = loader_wait(ld, &err);
    sj->seconds = (double)(ratelimit_now_us() - ctx.started_us) / 1e6;
    if (rc != FE_OK) {
        loader_rollback(ld);
        job_fail_stream(job, sj, err.msg[0] ? err.msg : fe_rc_name(rc));
    } else {
        sj->done = true;
        sj->succeeded = true;
        log_info(logctx,
                 "done in %.1f s: %" PRId64 " records, %" PRId64 " inserted, %" PRId64
                 " updated, %" PRId64 " unchanged, %" PRId64 " rejected",
                 sj->seconds, sj->stats.records, sj->stats.inserted, sj->stats.updated,
                 sj->stats.unchanged, sj->stats.rejects);
    }
    if (run_stream_id) {
        fe_err logerr = {0};
        if (runlog_stream_finish(loader_conn(ld), run_stream_id,
                                 sj->succeeded ? "succeeded" : "failed", &sj->stats, sj->seconds,
                                 sj->succeeded ? NULL : sj->error, &logerr) != FE_OK)
            log_warn(logctx, "could not record the stream in etl.run_stream: %s", logerr.msg);
    }
cleanup:
    free(cursor);
}

/* --- one source (a worker thread) ----------------------------------------- */

static void job_fail_all(source_job *job, const char *msg)
{
    for (int i = 0; i < job->nstreams; i++)
        if (!job->streams[i].done)
            job_fail_stream(job, &job->streams[i], msg);
}

static fe_rc job_register(source_job *job, loader *ld, int *source_key, fe_err *err)
{
    buf account;
    buf_init(&account, 1024);
    fe_rc rc = job->def->account(job->conf, &account, err);
    if (rc == FE_OK)
        rc = loader_register_source(ld, job->def->type, buf_cstr(&account), job->conf->name,
                                    conf_str(job->conf, "timezone"), source_key, err);
    buf_term(&account);
    return rc;
}

static void *source_worker(void *arg)
{
    source_job *job = arg;
    fe_err err = {0};
    source_env env = {0};
    int source_key = 0;
    loader *ld = loader_open(job->cfg->dsn, &err);

    if (!ld) {
        job->warehouse_lost = err.code == FE_ECONNECT;
        job_fail_all(job, err.msg);
        goto cleanup;
    }
    double max_delete_fraction = 0.5;
    conf_double(job->conf, "max_delete_fraction", &max_delete_fraction);
    loader_set_max_delete_fraction(ld, max_delete_fraction);
    if (job_register(job, ld, &source_key, &err) != FE_OK ||
        loader_lock_source(ld, source_key, &err) != FE_OK ||
        source_env_init(&env, job->conf, job->def, NULL, &err) != FE_OK ||
        source_env_open(&env, &err) != FE_OK) {
        job_fail_all(job, err.msg);
        goto cleanup;
    }
    for (int i = 0; i < job->nstreams; i++)
        run_one_stream(job, &job->streams[i], ld, &env, source_key);
cleanup:
    source_env_term(&env);
    loader_free(ld);
    return NULL;
}

/* --- the run -------------------------------------------------------------- */

static void print_summary(const source_job *jobs, int njobs)
{
    printf("%-32s %-9s %9s %9s %9s %9s %9s %7s %9s %8s\n", "stream", "status", "records",
           "inserted", "updated", "unchanged", "deleted", "rejects", "requests", "seconds");
    for (int i = 0; i < njobs; i++) {
        for (int k = 0; k < jobs[i].nstreams; k++) {
            const stream_job *sj = &jobs[i].streams[k];
            char name[256];
            snprintf(name, sizeof name, "%s.%s", jobs[i].conf->name, sj->def->name);
            printf("%-32s %-9s %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64
                   " %7" PRId64 " %9" PRId64 " %8.1f\n",
                   name, sj->succeeded ? "ok" : "FAILED", sj->stats.records, sj->stats.inserted,
                   sj->stats.updated, sj->stats.unchanged, sj->stats.deleted, sj->stats.rejects,
                   sj->stats.requests, sj->seconds);
        }
    }
    fflush(stdout);
}

static void count_outcomes(const source_job *jobs, int njobs, int *ok, int *failed, bool *lost)
{
    *ok = *failed = 0;
    *lost = false;
    for (int i = 0; i < njobs; i++) {
        *lost = *lost || jobs[i].warehouse_lost;
        for (int k = 0; k < jobs[i].nstreams; k++) {
            if (jobs[i].streams[k].succeeded)
                (*ok)++;
            else
                (*failed)++;
        }
    }
}

static int finish_run(PGconn *conn, int64_t run_id, const source_job *jobs, int njobs)
{
    int ok, failed;
    bool lost;
    fe_err err = {0};

    count_outcomes(jobs, njobs, &ok, &failed, &lost);
    const char *status = failed == 0 ? "succeeded" : ok == 0 ? "failed" : "partial";
    if (runlog_run_finish(conn, run_id, status, &err) != FE_OK)
        log_warn(NULL, "could not record the end of run %" PRId64 ": %s", run_id, err.msg);
    print_summary(jobs, njobs);
    log_info(NULL, "run %" PRId64 " %s: %d stream(s) ok, %d failed", run_id, status, ok, failed);
    if (failed == 0)
        return 0;
    return lost && ok == 0 ? 3 : 1;
}

static void run_workers(source_job *jobs, int njobs)
{
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].nstreams == 0)
            continue;
        jobs[i].started = pthread_create(&jobs[i].thread, NULL, source_worker, &jobs[i]) == 0;
        if (!jobs[i].started)
            job_fail_all(&jobs[i], "could not start a worker thread");
    }
    for (int i = 0; i < njobs; i++)
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
}

int runner_run(const config *cfg, const run_request *req)
{
    int code = 2;
    fe_err err = {0};
    PGconn *conn = NULL;
    int64_t run_id = 0;
    source_job *jobs = calloc(cfg->nsources ? cfg->nsources : 1, sizeof *jobs);
    int njobs = (int)cfg->nsources;

    if (!jobs) {
        log_error(NULL, "out of memory");
        return 1;
    }
    for (int i = 0; i < njobs; i++) {
        jobs[i].cfg = cfg;
        jobs[i].req = req;
        jobs[i].conf = &cfg->sources[i];
        jobs[i].def = source_find(cfg->sources[i].type);
    }
    if (!select_streams(jobs, njobs, req))
        goto cleanup;

    conn = pg_connect(cfg->dsn, &err);
    if (!conn) {
        log_error(NULL, "cannot reach the warehouse: %s", err.msg);
        code = 3;
        goto cleanup;
    }
    if (migrate_check(conn, &err) != FE_OK ||
        runlog_run_start(conn, FLOWETL_VERSION, req->command_line, &run_id, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        code = err.code == FE_ECONFIG ? 2 : 3;
        goto cleanup;
    }
    log_info(NULL, "run %" PRId64 " started", run_id);
    for (int i = 0; i < njobs; i++)
        jobs[i].run_id = run_id;
    run_workers(jobs, njobs);
    code = finish_run(conn, run_id, jobs, njobs);
cleanup:
    if (conn)
        PQfinish(conn);
    free(jobs);
    return code;
}
