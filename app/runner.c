/* runner: `flowetl run`. Selects streams, opens the run's bookkeeping, checks
 * each source's identity, runs one worker thread per source (sources are
 * independent: each has its own API budget, connection and advisory lock) while
 * the main thread watches them (long waits on the warehouse, a stop request),
 * then records every outcome, prints the summary and picks the exit code. */
#include "runner.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/log.h"
#include "../extract/source.h"
#include "../load/loader.h"
#include "../load/migrate.h"
#include "../load/pg.h"
#include "../load/runlog.h"
#include "../load/source_id.h"
#include "runstop.h"
#include "source_env.h"

#define MAX_STREAMS 32
#define US_PER_S 1000000LL
/* A warehouse statement running this long is logged, then again at each doubling. */
#define WAIT_LOG_FIRST_S 10
/* After a signal: statements still running this long after it are cancelled ... */
#define STOP_GRACE_US (3 * US_PER_S)
/* ... and the run ends this long after it whatever the workers do (the signal
 * thread's own backstop exits at STOP_BACKSTOP_S). */
#define STOP_DEADLINE_US (8 * US_PER_S)
#define STOP_BACKSTOP_S 9
/* The main thread's tick, and how long its own queries may take. */
#define TICK_MS 250
#define WATCH_QUERY_MS 2000

typedef enum { SJ_PENDING, SJ_SUCCEEDED, SJ_FAILED, SJ_INTERRUPTED, SJ_SKIPPED } sj_status;

static const char *const sj_status_names[] = {"running", "succeeded", "failed", "interrupted",
                                              "skipped"};

typedef struct {
    const stream_def *def;
    sj_status status;
    bool started;          /* its run function was called */
    bool recorded;         /* its etl.run_stream row holds its outcome */
    int64_t run_stream_id; /* the row written when it started; 0 = none */
    int source_key;        /* for its row; 0 = not registered (NULL) */
    stream_stats stats;
    double seconds;
    char error[sizeof(((fe_err *)0)->msg)];
} stream_job;

/* What the workers and the main thread share; mu guards the fields of each
 * source_job marked "published" and every stream_job's status. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running; /* worker threads not finished */
    fe_stop stop;
    int64_t run_id;
    const char *dsn;
    char app_name[64];     /* application_name of the run's sessions */
    char lock_timeout[24]; /* milliseconds, for SET lock_timeout */
    char lock_timeout_text[24];
} run_ctl;

typedef struct {
    run_ctl *ctl;
    const config *cfg;
    const run_request *req;
    const source_conf *conf;
    const source_def *def;
    char account[256]; /* identity: dw.dim_source.account */
    int source_key;    /* the identity's row; 0 until it exists */
    stream_job streams[MAX_STREAMS];
    int nstreams;
    bool warehouse_lost; /* the worker's connection broke and could not be made again */
    char lost_at[16];    /* HH:MM:SS UTC */
    char lost_msg[512];
    bool started; /* thread is running and must be joined */
    pthread_t thread;
    /* Published for the main thread (under ctl->mu). */
    PGcancel *cancel; /* of the loader's session; NULL when none */
    bool cancel_busy; /* the main thread is sending a cancel with it */
    int backend_pid;
    bool in_stream; /* a stream (or its rollback) is running */
    const char *stream_now;
    int64_t stream_since_us;
    /* The main thread's own bookkeeping of long statements. */
    char wait_seen[40];
    int wait_logged_s;
} source_job;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

static void utc_clock(char *dst, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(dst, size, "%H:%M:%S UTC", &tm);
}

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

/* --- outcomes and their rows ------------------------------------------------ */

/* Sets a stream's outcome (under the lock: the main thread reads it when it
 * must end the run at its deadline). */
static void stream_set(source_job *job, stream_job *sj, sj_status status, const char *msg)
{
    pthread_mutex_lock(&job->ctl->mu);
    sj->status = status;
    sj->source_key = job->source_key;
    snprintf(sj->error, sizeof sj->error, "%s", msg ? msg : "");
    pthread_mutex_unlock(&job->ctl->mu);
}

/* Writes the outcome of a finished stream into its row (inserting the row for a
 * stream that never started). False when the connection cannot do it now. */
static bool stream_record(PGconn *conn, int64_t run_id, const char *source_name, stream_job *sj)
{
    fe_err err = {0};
    fe_rc rc;
    if (sj->recorded || sj->status == SJ_PENDING)
        return true;
    if (!conn || PQstatus(conn) != CONNECTION_OK)
        return false;
    const char *status = sj_status_names[sj->status];
    const char *error = sj->status == SJ_SUCCEEDED ? NULL : sj->error;
    if (sj->run_stream_id)
        rc = runlog_stream_finish(conn, sj->run_stream_id, status, &sj->stats, sj->seconds, error,
                                  &err);
    else
        rc = runlog_stream_record(conn, run_id, sj->source_key, source_name, sj->def->name, status,
                                  error, &err);
    if (rc != FE_OK) {
        log_debug(source_name, "could not record %s in etl.run_stream yet: %s", sj->def->name,
                  err.msg);
        return false;
    }
    sj->recorded = true;
    return true;
}

/* Records every finished stream of the job that is not recorded yet. */
static void job_record(source_job *job, loader *ld)
{
    for (int i = 0; i < job->nstreams; i++)
        (void)stream_record(ld ? loader_conn(ld) : NULL, job->ctl->run_id, job->conf->name,
                            &job->streams[i]);
}

/* Ends every stream of the job not ended yet with one status and reason; returns
 * how many. */
static int job_end_quiet(source_job *job, sj_status status, const char *msg)
{
    int n = 0;
    for (int i = 0; i < job->nstreams; i++)
        if (job->streams[i].status == SJ_PENDING) {
            stream_set(job, &job->streams[i], status, msg);
            n++;
        }
    return n;
}

/* job_end_quiet, with one log line for all of them (none for interrupted ones:
 * the run's summary says it). */
static void job_end_rest(source_job *job, sj_status status, const char *fmt, ...) FE_PRINTF(3, 4);
static void job_end_rest(source_job *job, sj_status status, const char *fmt, ...)
{
    char msg[sizeof(((fe_err *)0)->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = job_end_quiet(job, status, msg);
    if (n == 0 || status == SJ_INTERRUPTED)
        return;
    if (status == SJ_SKIPPED)
        log_warn(job->conf->name, "skipped (%d stream(s)): %s", n, msg);
    else
        log_error(job->conf->name, "%d stream(s) not run: %s", n, msg);
}

/* --- the warehouse session of a worker ------------------------------------ */

static void publish_session(source_job *job, loader *ld)
{
    PGcancel *c = PQgetCancel(loader_conn(ld));
    pthread_mutex_lock(&job->ctl->mu);
    job->cancel = c;
    job->backend_pid = PQbackendPID(loader_conn(ld));
    pthread_mutex_unlock(&job->ctl->mu);
}

/* Takes the cancel handle back (waiting for a cancel being sent with it). */
static void unpublish_session(source_job *job)
{
    pthread_mutex_lock(&job->ctl->mu);
    while (job->cancel_busy)
        pthread_cond_wait(&job->ctl->cv, &job->ctl->mu);
    PQfreeCancel(job->cancel);
    job->cancel = NULL;
    job->backend_pid = 0;
    pthread_mutex_unlock(&job->ctl->mu);
}

/* The session settings of every connection of the run. */
static fe_rc session_setup(const run_ctl *ctl, PGconn *conn, fe_err *err)
{
    FE_TRY(pg_set(conn, "application_name", ctl->app_name, err));
    return pg_set(conn, "lock_timeout", ctl->lock_timeout, err);
}

/* A loader with the run's session settings; NULL with err (FE_ECONNECT when the
 * warehouse cannot be reached). */
static loader *worker_connect(source_job *job, fe_err *err)
{
    loader *ld = loader_open(job->cfg->dsn, err);
    if (!ld)
        return NULL;
    if (session_setup(job->ctl, loader_conn(ld), err) != FE_OK) {
        if (PQstatus(loader_conn(ld)) != CONNECTION_OK)
            err->code = FE_ECONNECT;
        loader_free(ld);
        return NULL;
    }
    publish_session(job, ld);
    return ld;
}

static void worker_disconnect(source_job *job, loader **ld)
{
    if (!*ld)
        return;
    unpublish_session(job);
    loader_free(*ld);
    *ld = NULL;
}

static void job_lost(source_job *job, const char *msg)
{
    job->warehouse_lost = true;
    utc_clock(job->lost_at, sizeof job->lost_at);
    snprintf(job->lost_msg, sizeof job->lost_msg, "%s", msg);
}

/* Takes the source's lock on the worker's session; on failure ends every
 * remaining stream (skipped when a flowetl run holds it, else failed). */
static bool job_lock(source_job *job, loader *ld)
{
    fe_err err = {0};
    bool by_run = false;
    if (source_id_lock(loader_conn(ld), job->conf->name, job->def->type, job->account, &by_run,
                       &err) == FE_OK)
        return true;
    job_end_rest(job, by_run ? SJ_SKIPPED : SJ_FAILED, "%s", err.msg);
    return false;
}

/* After a stream whose connection broke: one new connection, the session
 * settings and the source's lock again. False when that failed (the remaining
 * streams are ended; job->warehouse_lost when the warehouse cannot be reached). */
static bool worker_reconnect(source_job *job, loader **ld)
{
    fe_err err = {0};
    worker_disconnect(job, ld);
    log_warn(job->conf->name, "the warehouse connection broke: connecting again");
    if (!(*ld = worker_connect(job, &err))) {
        char msg[sizeof err.msg + 64];
        job_lost(job, err.msg);
        snprintf(msg, sizeof msg, "not run: the warehouse went away: %s", err.msg);
        job_end_quiet(job, SJ_FAILED, msg); /* the run's last line says it */
        return false;
    }
    if (!job_lock(job, *ld))
        return false;
    job_record(job, *ld); /* the broken stream's own row */
    return true;
}

/* --- one stream ----------------------------------------------------------- */

static fe_rc stream_prepare_cursor(loader *ld, const source_job *job, const char *stream,
                                   char **cursor, fe_err *err)
{
    *cursor = NULL;
    if (job->req->full_refresh)
        return loader_clear_cursor(ld, job->source_key, stream, err);
    return loader_get_cursor(ld, job->source_key, stream, cursor, err);
}

static void set_in_stream(source_job *job, const char *stream)
{
    pthread_mutex_lock(&job->ctl->mu);
    job->in_stream = stream != NULL;
    job->stream_now = stream;
    job->stream_since_us = mono_us();
    pthread_mutex_unlock(&job->ctl->mu);
}

/* The stream's error as stored and printed: a lock_timeout names the tables and
 * the sessions that hold them. */
static void stream_failure_text(source_job *job, loader *ld, const fe_err *err, char *dst,
                                size_t size)
{
    buf holders;
    fe_err qerr = {0};
    const char *msg = err->msg[0] ? err->msg : fe_rc_name(err->code);
    if (!pg_err_is_lock_timeout(err) || PQstatus(loader_conn(ld)) != CONNECTION_OK) {
        snprintf(dst, size, "%s", msg);
        return;
    }
    buf_init(&holders, 4096);
    if (pg_lock_holders(loader_conn(ld), &holders, &qerr) == FE_OK && holders.len)
        snprintf(dst, size, "%s; waited lock_timeout = %s for: %s", msg,
                 job->ctl->lock_timeout_text, buf_cstr(&holders));
    else
        snprintf(dst, size, "%s (waited lock_timeout = %s)", msg, job->ctl->lock_timeout_text);
    buf_term(&holders);
}

/* Runs one stream and records it in etl.run_stream. Failures stay inside the
 * stream: its open checkpoint is rolled back and the next stream runs. */
static void run_one_stream(source_job *job, stream_job *sj, loader *ld, source_env *env)
{
    char logctx[256], text[sizeof sj->error];
    fe_err err = {0};
    char *cursor = NULL;
    long max_rejects = 100;
    int64_t started = mono_us();

    snprintf(logctx, sizeof logctx, "%s.%s", job->conf->name, sj->def->name);
    conf_int(job->conf, "max_rejects", &max_rejects);
    sj->started = true;
    sj->source_key = job->source_key;
    fe_rc rc = runlog_stream_start(loader_conn(ld), job->ctl->run_id, job->source_key,
                                   job->conf->name, sj->def->name, &sj->run_stream_id, &err);
    if (rc == FE_OK)
        rc = stream_prepare_cursor(ld, job, sj->def->name, &cursor, &err);
    if (rc == FE_OK) {
        stream_ctx ctx = {
            .conf = job->conf,
            .stream = sj->def->name,
            .logctx = logctx,
            .source_key = job->source_key,
            .run_id = job->ctl->run_id,
            .full_refresh = job->req->full_refresh,
            .cursor = cursor,
            .ld = ld,
            .http = env->http,
            .stats = &sj->stats,
            .state = env->state,
            .max_rejects = max_rejects,
            .started_us = ratelimit_now_us(),
            .progress_every_us = job->req->progress_every_us,
            .stop = &job->ctl->stop,
        };
        ctx.last_progress_us = ctx.started_us;
        log_info(logctx, "starting (%s)", cursor ? cursor : "no cursor: full read");
        set_in_stream(job, sj->def->name);
        rc = sj->def->run(&ctx, &err);
        /* A stream ends with a synchronous commit; should one leave a commit in
         * flight, its outcome decides the stream's. */
        if (rc == FE_OK)
            rc = loader_wait(ld, &err);
        if (rc != FE_OK)
            loader_rollback(ld);
        set_in_stream(job, NULL);
    }
    sj->seconds = (double)(mono_us() - started) / 1e6;
    int sig = fe_stop_requested(&job->ctl->stop);
    if (rc == FE_OK) {
        stream_set(job, sj, SJ_SUCCEEDED, NULL);
        log_info(logctx,
                 "done in %.1f s: %" PRId64 " records, %" PRId64 " inserted, %" PRId64
                 " updated, %" PRId64 " unchanged, %" PRId64 " rejected",
                 sj->seconds, sj->stats.records, sj->stats.inserted, sj->stats.updated,
                 sj->stats.unchanged, sj->stats.rejects);
    } else if (sig) {
        snprintf(text, sizeof text, "interrupted by %s: its open checkpoint was rolled back",
                 runstop_signal_name(sig));
        stream_set(job, sj, SJ_INTERRUPTED, text);
        log_warn(logctx, "%s", text);
    } else {
        stream_failure_text(job, ld, &err, text, sizeof text);
        stream_set(job, sj, SJ_FAILED, text);
        log_error(NULL, "%s failed: %s", logctx, text);
    }
    job_record(job, ld);
    free(cursor);
}

/* --- one source (a worker thread) ----------------------------------------- */

/* Everything before the first stream: the time zone, the lock, the source's
 * first request (open), its row. False when the source cannot run (its streams
 * are ended). */
static bool job_start(source_job *job, loader *ld, source_env *env)
{
    fe_err err = {0};
    int sig;
    if (source_id_check_timezone(loader_conn(ld), job->conf->name, conf_str(job->conf, "timezone"),
                                 &err) != FE_OK) {
        job_end_rest(job, SJ_FAILED, "%s", err.msg);
        return false;
    }
    if (!job_lock(job, ld))
        return false;
    if (source_env_init(env, job->conf, job->def, &job->ctl->stop, &err) == FE_OK &&
        source_env_open(env, &err) == FE_OK &&
        source_id_register(loader_conn(ld), job->def->type, job->account, job->conf->name,
                           conf_str(job->conf, "timezone"), &job->source_key, &err) == FE_OK)
        return true;
    if ((sig = fe_stop_requested(&job->ctl->stop)) != 0)
        job_end_rest(job, SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                     runstop_signal_name(sig));
    else
        job_end_rest(job, SJ_FAILED, "%s", err.msg);
    return false;
}

static void *source_worker(void *arg)
{
    source_job *job = arg;
    fe_err err = {0};
    source_env env = {0};
    loader *ld = worker_connect(job, &err);

    if (!ld) {
        if (err.code == FE_ECONNECT)
            job_lost(job, err.msg);
        job_end_rest(job, SJ_FAILED, "%s", err.msg);
        goto done;
    }
    if (!job_start(job, ld, &env))
        goto done;
    for (int i = 0; i < job->nstreams; i++) {
        int sig = fe_stop_requested(&job->ctl->stop);
        if (sig) {
            job_end_rest(job, SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                         runstop_signal_name(sig));
            break;
        }
        if (PQstatus(loader_conn(ld)) != CONNECTION_OK && !worker_reconnect(job, &ld))
            break;
        run_one_stream(job, &job->streams[i], ld, &env);
    }
done:
    job_record(job, ld);
    source_env_term(&env);
    worker_disconnect(job, &ld);
    pthread_mutex_lock(&job->ctl->mu);
    job->ctl->running--;
    pthread_cond_broadcast(&job->ctl->cv);
    pthread_mutex_unlock(&job->ctl->mu);
    return NULL;
}

/* --- the main thread while the workers run -------------------------------- */

typedef struct {
    int ok, failed, interrupted, skipped, not_started;
    bool lost;
    const source_job *lost_job;
    const source_job *first_failed_job;
    const stream_job *first_failed;
} tally;

static tally count_outcomes(const source_job *jobs, int njobs)
{
    tally t = {0};
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].warehouse_lost && !t.lost_job)
            t.lost_job = &jobs[i];
        for (int k = 0; k < jobs[i].nstreams; k++) {
            const stream_job *sj = &jobs[i].streams[k];
            if (sj->status == SJ_SUCCEEDED)
                t.ok++;
            else if (sj->status == SJ_SKIPPED)
                t.skipped++;
            else if (sj->status == SJ_INTERRUPTED || sj->status == SJ_PENDING)
                t.interrupted++;
            else if (!t.failed++) {
                t.first_failed_job = &jobs[i];
                t.first_failed = sj;
            }
            if (!sj->started && sj->status != SJ_SUCCEEDED)
                t.not_started++;
        }
    }
    t.lost = t.lost_job != NULL;
    return t;
}

/* Sends a cancel to every worker whose stream is still running (a statement that
 * did not end within the grace after a signal). */
static void cancel_streams(run_ctl *ctl, source_job *jobs, int njobs)
{
    for (int i = 0; i < njobs; i++) {
        pthread_mutex_lock(&ctl->mu);
        PGcancel *c = jobs[i].in_stream && !jobs[i].cancel_busy ? jobs[i].cancel : NULL;
        if (c)
            jobs[i].cancel_busy = true;
        pthread_mutex_unlock(&ctl->mu);
        if (!c)
            continue;
        char why[256];
        if (!PQcancel(c, why, (int)sizeof why))
            log_debug(jobs[i].conf->name, "cancel not sent: %s", why);
        pthread_mutex_lock(&ctl->mu);
        jobs[i].cancel_busy = false;
        pthread_cond_broadcast(&ctl->cv);
        pthread_mutex_unlock(&ctl->mu);
    }
}

static source_job *job_by_pid(source_job *jobs, int njobs, int pid)
{
    for (int i = 0; i < njobs; i++)
        if (jobs[i].backend_pid == pid)
            return &jobs[i];
    return NULL;
}

/* Logs the statements of the workers that have been running for
 * WAIT_LOG_FIRST_S, then 2x, 4x ... as long: a wait on the warehouse is never
 * silent. */
static void watch_waits(run_ctl *ctl, PGconn *conn, source_job *jobs, int njobs)
{
    int pids[64], npids = 0, n = 0;
    pg_activity acts[16];
    fe_err err = {0};
    int64_t now = mono_us();

    pthread_mutex_lock(&ctl->mu);
    for (int i = 0; i < njobs && npids < 64; i++)
        if (jobs[i].in_stream && jobs[i].backend_pid &&
            now - jobs[i].stream_since_us >= WAIT_LOG_FIRST_S * US_PER_S)
            pids[npids++] = jobs[i].backend_pid;
    pthread_mutex_unlock(&ctl->mu);
    if (npids == 0 || !conn || PQstatus(conn) != CONNECTION_OK ||
        pg_long_statements(conn, pids, npids, WAIT_LOG_FIRST_S, acts, 16, &n, WATCH_QUERY_MS,
                           &err) != FE_OK)
        return;
    pthread_mutex_lock(&ctl->mu);
    for (int k = 0; k < n; k++) {
        source_job *job = job_by_pid(jobs, njobs, acts[k].pid);
        if (!job || !job->stream_now)
            continue;
        if (strcmp(job->wait_seen, acts[k].started) != 0) { /* another statement */
            snprintf(job->wait_seen, sizeof job->wait_seen, "%s", acts[k].started);
            job->wait_logged_s = 0;
        }
        if (acts[k].seconds < (job->wait_logged_s ? 2 * job->wait_logged_s : WAIT_LOG_FIRST_S))
            continue;
        job->wait_logged_s = acts[k].seconds;
        char logctx[256];
        snprintf(logctx, sizeof logctx, "%s.%s", job->conf->name, job->stream_now);
        log_info(logctx,
                 "waiting for the warehouse: a statement has been running for %d s (%s)%s%s "
                 "(lock_timeout %s)",
                 acts[k].seconds, acts[k].query, acts[k].waiting[0] ? "; it waits for " : "",
                 acts[k].waiting, ctl->lock_timeout_text);
    }
    pthread_mutex_unlock(&ctl->mu);
}

static int run_finish_and_report(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs, int sig,
                                 bool deadline);

/* The run did not end within STOP_DEADLINE_US of the signal: records what is
 * known with the main connection and exits; the server rolls back what the
 * workers still had open when their sessions close. Does not return. */
static void stop_at_deadline(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs, int sig)
{
    fe_err err = {0};
    pthread_mutex_lock(&ctl->mu);
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++) {
            stream_job *sj = &jobs[i].streams[k];
            if (sj->status != SJ_PENDING)
                continue;
            sj->status = SJ_INTERRUPTED;
            snprintf(sj->error, sizeof sj->error,
                     "%s by %s: stopped at the deadline; the server rolled back its open "
                     "checkpoint",
                     sj->started ? "interrupted" : "not started: the run was interrupted",
                     runstop_signal_name(sig));
        }
    /* Rows of streams that were running: their stats are the workers' (still
     * being written), so only the status goes in. */
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++) {
            stream_job *sj = &jobs[i].streams[k];
            if (sj->recorded)
                continue;
            if (sj->run_stream_id) {
                stream_stats none = {0};
                if (runlog_stream_finish(conn, sj->run_stream_id, sj_status_names[sj->status],
                                         &none, sj->seconds, sj->error, &err) != FE_OK)
                    log_debug(NULL, "%s", err.msg);
                sj->recorded = true;
            }
        }
    pthread_mutex_unlock(&ctl->mu);
    (void)run_finish_and_report(conn, ctl, jobs, njobs, sig, true);
    fflush(stdout);
    _exit(128 + sig);
}

/* Waits for the workers, watching them: long statements are logged; after a
 * signal, running statements are cancelled once the grace is over, and the run
 * ends at the deadline whatever the workers do. */
static void supervise(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs)
{
    int64_t stop_at = 0, last_cancel = 0, last_watch = mono_us();
    pthread_mutex_lock(&ctl->mu);
    while (ctl->running > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&ctl->cv, &ctl->mu, &until);
        if (ctl->running == 0)
            break;
        pthread_mutex_unlock(&ctl->mu);
        int64_t now = mono_us();
        int sig = fe_stop_requested(&ctl->stop);
        if (sig && !stop_at)
            stop_at = now;
        if (sig && now - stop_at >= STOP_DEADLINE_US)
            stop_at_deadline(conn, ctl, jobs, njobs, sig);
        if (sig && now - stop_at >= STOP_GRACE_US && now - last_cancel >= US_PER_S) {
            cancel_streams(ctl, jobs, njobs);
            last_cancel = now;
        }
        if (now - last_watch >= US_PER_S) {
            watch_waits(ctl, conn, jobs, njobs);
            last_watch = now;
        }
        pthread_mutex_lock(&ctl->mu);
    }
    pthread_mutex_unlock(&ctl->mu);
}

static void run_workers(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs)
{
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].nstreams == 0)
            continue;
        pthread_mutex_lock(&ctl->mu);
        ctl->running++;
        pthread_mutex_unlock(&ctl->mu);
        jobs[i].started = pthread_create(&jobs[i].thread, NULL, source_worker, &jobs[i]) == 0;
        if (jobs[i].started)
            continue;
        pthread_mutex_lock(&ctl->mu);
        ctl->running--;
        pthread_mutex_unlock(&ctl->mu);
        job_end_rest(&jobs[i], SJ_FAILED, "could not start a worker thread");
    }
    supervise(conn, ctl, jobs, njobs);
    for (int i = 0; i < njobs; i++)
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
}

/* --- the end of the run ------------------------------------------------------ */

static void print_summary(const source_job *jobs, int njobs)
{
    static const char *const shown[] = {"-", "ok", "FAILED", "INTERRUPTED", "SKIPPED"};
    printf("%-32s %-11s %9s %9s %9s %9s %9s %7s %9s %8s\n", "stream", "status", "records",
           "inserted", "updated", "unchanged", "deleted", "rejects", "requests", "seconds");
    for (int i = 0; i < njobs; i++) {
        for (int k = 0; k < jobs[i].nstreams; k++) {
            const stream_job *sj = &jobs[i].streams[k];
            char name[256];
            snprintf(name, sizeof name, "%s.%s", jobs[i].conf->name, sj->def->name);
            printf("%-32s %-11s %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64 " %9" PRId64
                   " %7" PRId64 " %9" PRId64 " %8.1f\n",
                   name, shown[sj->status], sj->stats.records, sj->stats.inserted,
                   sj->stats.updated, sj->stats.unchanged, sj->stats.deleted, sj->stats.rejects,
                   sj->stats.requests, sj->seconds);
        }
    }
    fflush(stdout);
}

/* The run's status and its one-line reason ("" when it succeeded cleanly). */
static const char *run_status(const tally *t, int sig, char *reason, size_t size)
{
    reason[0] = '\0';
    if (sig && t->interrupted) {
        snprintf(reason, size,
                 "interrupted by %s: %d stream(s) ok, %d rolled back or not started, %d failed",
                 runstop_signal_name(sig), t->ok, t->interrupted, t->failed);
        return "interrupted";
    }
    if (t->lost)
        snprintf(reason, size, "the warehouse went away at %s: %s; %d stream(s) not run",
                 t->lost_job->lost_at, t->lost_job->lost_msg, t->not_started);
    else if (t->failed)
        snprintf(reason, size, "%d stream(s) failed; first: %s.%s: %s", t->failed,
                 t->first_failed_job->conf->name, t->first_failed->def->name,
                 t->first_failed->error);
    else if (t->skipped)
        snprintf(reason, size, "%d stream(s) skipped: another flowetl run was loading them",
                 t->skipped);
    if (t->failed == 0)
        return "succeeded";
    return t->ok == 0 ? "failed" : "partial";
}

static int exit_code(const tally *t, int sig)
{
    if (sig)
        return 128 + sig;
    if (t->lost)
        return RUN_EXIT_WAREHOUSE;
    if (t->failed)
        return RUN_EXIT_FAILED;
    return t->skipped ? RUN_EXIT_OVERLAP : RUN_EXIT_OK;
}

/* Writes the rows the workers could not (their connection broke) and the run's
 * end with conn. */
static fe_rc record_with(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs,
                         const char *status, const char *reason, fe_err *err)
{
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++)
            if (!stream_record(conn, ctl->run_id, jobs[i].conf->name, &jobs[i].streams[k]))
                return fe_err_set(err, FE_EPG, "could not record stream %s.%s", jobs[i].conf->name,
                                  jobs[i].streams[k].def->name);
    if (runlog_run_finish(conn, ctl->run_id, status, reason[0] ? reason : NULL, err) != FE_OK)
        return err->code;
    return FE_OK;
}

/* record_with the main connection, or a new one when that broke. False when
 * neither could; lost then says why when the warehouse cannot be reached. */
static bool record_run_end(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs,
                           const char *status, const char *reason, fe_err *lost)
{
    fe_err err = {0};
    if (conn && record_with(conn, ctl, jobs, njobs, status, reason, &err) == FE_OK)
        return true;
    /* Most likely the connection broke (libpq does not always know yet): once
     * more with a new one. */
    PGconn *fresh = pg_connect(ctl->dsn, lost);
    if (!fresh)
        return false;
    fe_rc rc = session_setup(ctl, fresh, &err);
    if (rc == FE_OK)
        rc = record_with(fresh, ctl, jobs, njobs, status, reason, &err);
    if (rc != FE_OK)
        log_warn(NULL, "could not record the end of run %" PRId64 ": %s", ctl->run_id, err.msg);
    PQfinish(fresh);
    return rc == FE_OK;
}

/* Records every outcome and the run's end, prints the summary and the run's last
 * line, and returns the exit code. A warehouse the main thread cannot reach at
 * the end counts as gone, like one a worker lost. */
static int run_finish_and_report(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs, int sig,
                                 bool deadline)
{
    char reason[1024];
    fe_err lost = {0};
    tally t = count_outcomes(jobs, njobs);
    const char *status = run_status(&t, sig, reason, sizeof reason);
    bool written = record_run_end(conn, ctl, jobs, njobs, status, reason, &lost);

    if (!written && lost.code && !t.lost) {
        source_job *any = njobs ? &jobs[0] : NULL;
        if (any) {
            job_lost(any, lost.msg);
            t = count_outcomes(jobs, njobs);
            status = run_status(&t, sig, reason, sizeof reason);
        }
    }
    print_summary(jobs, njobs);
    const char *unwritten =
        written ? "" : "; the run's rows could not be written (the next run marks it abandoned)";
    if (sig)
        log_warn(NULL,
                 "run %" PRId64 " interrupted by %s%s: %d stream(s) ok, %d rolled back or "
                 "not started, %d failed, %d skipped; exit %d%s",
                 ctl->run_id, runstop_signal_name(sig), deadline ? " (ended at the deadline)" : "",
                 t.ok, t.interrupted, t.failed, t.skipped, 128 + sig, unwritten);
    else if (t.lost)
        log_error(NULL, "%s%s", reason, unwritten);
    else if (t.skipped)
        log_info(NULL,
                 "run %" PRId64 " %s: %d stream(s) ok, %d failed, %d skipped (another run was "
                 "loading them)%s",
                 ctl->run_id, status, t.ok, t.failed, t.skipped, unwritten);
    else
        log_info(NULL, "run %" PRId64 " %s: %d stream(s) ok, %d failed%s", ctl->run_id, status,
                 t.ok, t.failed, unwritten);
    return exit_code(&t, sig);
}

/* --- before the workers -------------------------------------------------------- */

fe_rc runner_source_account(const source_conf *conf, buf *out, fe_err *err)
{
    const char *pinned = conf_str(conf, "account");
    if (pinned && *pinned)
        return buf_puts(out, pinned) ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
    const source_def *def = source_find(conf->type);
    if (!def)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] unknown type %s", conf->name, conf->type);
    return def->account(conf, out, err);
}

/* Each selected source's identity against its binding in dw.dim_source. A
 * mismatch refuses the whole run (nothing is loaded): false, after ending every
 * stream with the reason. */
static bool check_identities(PGconn *conn, source_job *jobs, int njobs)
{
    char first[sizeof(((fe_err *)0)->msg)] = "";
    for (int i = 0; i < njobs; i++) {
        fe_err err = {0};
        buf account;
        if (jobs[i].nstreams == 0)
            continue;
        buf_init(&account, sizeof jobs[i].account - 1);
        fe_rc rc = runner_source_account(jobs[i].conf, &account, &err);
        snprintf(jobs[i].account, sizeof jobs[i].account, "%s", buf_cstr(&account));
        buf_term(&account);
        if (rc == FE_OK)
            rc = source_id_check(conn, jobs[i].conf->name, jobs[i].def->type, jobs[i].account,
                                 &jobs[i].source_key, &err);
        if (rc == FE_OK)
            continue;
        log_error(NULL, "%s", err.msg);
        job_end_quiet(&jobs[i], SJ_FAILED, err.msg);
        if (!first[0])
            snprintf(first, sizeof first, "not run: the run was refused because of source %s",
                     jobs[i].conf->name);
    }
    if (!first[0])
        return true;
    for (int i = 0; i < njobs; i++)
        job_end_quiet(&jobs[i], SJ_FAILED, first);
    return false;
}

static void format_ms(int64_t ms, char *dst, size_t size)
{
    if (ms % (60 * 60000) == 0)
        snprintf(dst, size, "%" PRId64 "h", ms / (60 * 60000));
    else if (ms % 60000 == 0)
        snprintf(dst, size, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(dst, size, "%" PRId64 "s", ms / 1000);
    else
        snprintf(dst, size, "%" PRId64 "ms", ms);
}

static void ctl_init(run_ctl *ctl, const config *cfg)
{
    int64_t us = 5 * 60 * US_PER_S;
    memset(ctl, 0, sizeof *ctl);
    pthread_mutex_init(&ctl->mu, NULL);
    pthread_cond_init(&ctl->cv, NULL);
    atomic_init(&ctl->stop.signal, 0);
    config_warehouse_duration(cfg, "lock_timeout", &us);
    int64_t ms = us / 1000 > 0 ? us / 1000 : 1;
    snprintf(ctl->lock_timeout, sizeof ctl->lock_timeout, "%" PRId64, ms);
    format_ms(ms, ctl->lock_timeout_text, sizeof ctl->lock_timeout_text);
    ctl->dsn = cfg->dsn;
}

/* The run's row and lock, its session settings, and the runs left `running` by
 * processes that are gone. The exit code when the run cannot start, else 0. */
static int open_run(PGconn *conn, run_ctl *ctl, const run_request *req)
{
    fe_err err = {0};
    char host[64], gone[1024];
    int ngone = 0;

    if (migrate_check(conn, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        fe_err rerr = {0};
        if (err.code == FE_ECONFIG &&
            runlog_run_refused(conn, FLOWETL_VERSION, req->command_line, err.msg, &rerr) != FE_OK)
            log_debug(NULL, "could not record the refused run: %s", rerr.msg);
        return err.code == FE_ECONFIG ? RUN_EXIT_CONFIG : RUN_EXIT_WAREHOUSE;
    }
    if (runlog_run_start(conn, FLOWETL_VERSION, req->command_line, &ctl->run_id, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        return RUN_EXIT_WAREHOUSE;
    }
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    /* PostgreSQL keeps 63 bytes of it: a long host name is cut, the run id is not. */
    if (snprintf(ctl->app_name, sizeof ctl->app_name, "flowetl run=%" PRId64 " pid=%ld host=%s",
                 ctl->run_id, (long)getpid(), host) >= (int)sizeof ctl->app_name)
        log_debug(NULL, "application_name cut to '%s'", ctl->app_name);
    if (session_setup(ctl, conn, &err) != FE_OK)
        log_warn(NULL, "session settings: %s", err.msg);
    if (PQserverVersion(conn) < 140000)
        log_debug(NULL,
                  "the warehouse server (%d) has no client_connection_check_interval "
                  "(PostgreSQL 14): a killed run's session that waits on a lock keeps its locks "
                  "until the wait ends",
                  PQserverVersion(conn));
    log_info(NULL, "run %" PRId64 " started", ctl->run_id);
    if (runlog_mark_abandoned(conn, ctl->run_id, &ngone, gone, sizeof gone, &err) != FE_OK)
        log_warn(NULL, "%s", err.msg);
    else if (ngone)
        log_warn(NULL, "marked abandoned (its process is gone): %s", gone);
    return 0;
}

int runner_run(const config *cfg, const run_request *req)
{
    int code = RUN_EXIT_CONFIG, sig;
    fe_err err = {0};
    PGconn *conn = NULL;
    runstop *rs = NULL;
    run_ctl ctl;
    source_job *jobs = calloc(cfg->nsources ? cfg->nsources : 1, sizeof *jobs);
    int njobs = (int)cfg->nsources;

    if (!jobs) {
        log_error(NULL, "out of memory");
        return RUN_EXIT_FAILED;
    }
    ctl_init(&ctl, cfg);
    for (int i = 0; i < njobs; i++) {
        jobs[i].ctl = &ctl;
        jobs[i].cfg = cfg;
        jobs[i].req = req;
        jobs[i].conf = &cfg->sources[i];
        jobs[i].def = source_find(cfg->sources[i].type);
    }
    if (!select_streams(jobs, njobs, req))
        goto cleanup;
    /* Before any other thread: every thread inherits the blocked signals. */
    if (!(rs = runstop_start(&ctl.stop, STOP_BACKSTOP_S, &err))) {
        log_error(NULL, "%s", err.msg);
        code = RUN_EXIT_FAILED;
        goto cleanup;
    }
    if (!(conn = pg_connect(cfg->dsn, &err))) {
        log_error(NULL, "%s", err.msg);
        code = RUN_EXIT_WAREHOUSE;
        goto cleanup;
    }
    if ((code = open_run(conn, &ctl, req)) != 0)
        goto cleanup;
    if (!check_identities(conn, jobs, njobs)) {
        (void)run_finish_and_report(conn, &ctl, jobs, njobs, 0, false);
        code = RUN_EXIT_CONFIG;
        goto cleanup;
    }
    if (!fe_stop_requested(&ctl.stop))
        run_workers(conn, &ctl, jobs, njobs);
    if ((sig = fe_stop_requested(&ctl.stop)) != 0)
        for (int i = 0; i < njobs; i++)
            job_end_rest(&jobs[i], SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                         runstop_signal_name(sig));
    code = run_finish_and_report(conn, &ctl, jobs, njobs, sig, false);
cleanup:
    if (conn)
        PQfinish(conn);
    /* A signal before the run could start still ends the process as signalled. */
    if ((sig = fe_stop_requested(&ctl.stop)) != 0 && code != RUN_EXIT_CONFIG)
        code = 128 + sig;
    runstop_end(rs);
    pthread_cond_destroy(&ctl.cv);
    pthread_mutex_destroy(&ctl.mu);
    free(jobs);
    return code;
}
