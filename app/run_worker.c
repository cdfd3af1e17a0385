/* run_worker: the pool's worker threads in `flowetl run`, each running one
 * source at a time (see run_job.h). */
#include "app/run_job.h"

#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "load/loader.h"
#include "load/pg.h"
#include "load/runlog.h"
#include "load/source_id.h"
#include "app/runstop.h"
#include "app/source_env.h"
#include "app/state.h"
#include "app/summary.h"
#include "app/verify.h"

/* How long a lock left by a killed run's session is waited for once that session
 * was asked to end (it ends within client_connection_check_interval anyway). */
#define ORPHAN_WAIT_S 10

static const char *const status_names[] = {"running", "succeeded", "failed", "interrupted",
                                           "skipped"};

const char *run_status_name(sj_status s)
{
    return status_names[s];
}

void run_textf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vtextf(dst, size, fmt, ap);
    va_end(ap);
}

static void utc_clock(char *dst, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(dst, size, "%H:%M:%S UTC", &tm);
}

/* --- outcomes and their rows ------------------------------------------------ */

/* Sets a stream's outcome (under the lock: the main thread reads it when it
 * must end the run at its deadline). */
static void stream_set(source_job *job, stream_job *sj, sj_status status, const char *msg)
{
    pthread_mutex_lock(&job->ctl->mu);
    sj->status = status;
    sj->source_key = job->source_key;
    run_textf(sj->error, sizeof sj->error, "%s", msg ? msg : "");
    pthread_cond_broadcast(&job->ctl->cv); /* streams waiting for it may start */
    pthread_mutex_unlock(&job->ctl->mu);
}

bool run_stream_record(PGconn *conn, int64_t run_id, const char *source_name, stream_job *sj,
                       fe_err *why)
{
    fe_err err = {0};
    fe_rc rc;
    if (sj->recorded || sj->status == SJ_PENDING)
        return true;
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        fe_err_set(why, FE_EPG, "no connection to the warehouse");
        return false;
    }
    const char *status = run_status_name(sj->status);
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
        fe_err_set(why, rc, "%s", err.msg);
        return false;
    }
    sj->recorded = true;
    return true;
}

/* Records every finished stream of the job that is not recorded yet: those the
 * stream thread of slot ran (slot -1: all, once the stream threads ended). */
static void job_record(source_job *job, loader *ld, int slot)
{
    for (int i = 0; i < job->nstreams; i++) {
        stream_job *sj = &job->streams[i];
        pthread_mutex_lock(&job->ctl->mu);
        bool mine = slot < 0 || (sj->claimed && sj->slot == slot);
        pthread_mutex_unlock(&job->ctl->mu);
        if (mine)
            (void)run_stream_record(ld ? loader_conn(ld) : NULL, job->ctl->run_id, job->conf->name,
                                    sj, NULL);
    }
}

/* run_job_end; with log, a line for each failed stream ("NAME.stream failed:
 * msg", the contract of exit code 1). */
static int job_end(source_job *job, sj_status status, const char *msg, bool log)
{
    int n = 0;
    for (int i = 0; i < job->nstreams; i++) {
        pthread_mutex_lock(&job->ctl->mu);
        /* A stream a stream thread took is ended by that thread. */
        bool open = job->streams[i].status == SJ_PENDING && !job->streams[i].claimed;
        pthread_mutex_unlock(&job->ctl->mu);
        if (open) {
            stream_set(job, &job->streams[i], status, msg);
            if (log && status == SJ_FAILED)
                log_error(NULL, "%s.%s failed: %s", job->conf->name, job->streams[i].def->name,
                          msg);
            n++;
        }
    }
    return n;
}

int run_job_end(source_job *job, sj_status status, const char *msg)
{
    return job_end(job, status, msg, false);
}

void run_job_end_logged(source_job *job, sj_status status, const char *fmt, ...)
{
    char msg[sizeof(((fe_err *)0)->msg)];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (w >= 0 && (size_t)w >= sizeof msg)
        msg[buf_utf8_floor(msg, sizeof msg - 1)] = '\0';
    int n = job_end(job, status, msg, true);
    if (n > 0 && status == SJ_SKIPPED)
        log_warn(job->conf->name, "skipped (%d stream(s)): %s", n, msg);
}

/* --- the warehouse session of a worker ------------------------------------ */

static void publish_session(source_job *job, int slot, loader *ld)
{
    PGcancel *c = PQgetCancel(loader_conn(ld));
    pthread_mutex_lock(&job->ctl->mu);
    job->slots[slot].cancel = c;
    job->slots[slot].backend_pid = PQbackendPID(loader_conn(ld));
    pthread_mutex_unlock(&job->ctl->mu);
}

/* Takes the cancel handle back (waiting for a cancel being sent with it). */
static void unpublish_session(source_job *job, int slot)
{
    stream_slot *sl = &job->slots[slot];
    pthread_mutex_lock(&job->ctl->mu);
    while (sl->cancel_busy)
        pthread_cond_wait(&job->ctl->cv, &job->ctl->mu);
    PQfreeCancel(sl->cancel);
    sl->cancel = NULL;
    sl->backend_pid = 0;
    pthread_mutex_unlock(&job->ctl->mu);
}

fe_rc run_session_setup(const run_ctl *ctl, PGconn *conn, fe_err *err)
{
    FE_TRY(pg_set(conn, "application_name", ctl->app_name, err));
    return pg_set(conn, "lock_timeout", ctl->lock_timeout, err);
}

/* A loader with the run's session settings; NULL with err (FE_ECONNECT when the
 * warehouse cannot be reached). */
static loader *worker_connect(source_job *job, int slot, fe_err *err)
{
    loader *ld = loader_open(job->cfg->dsn, err);
    if (!ld)
        return NULL;
    double max_delete_fraction = 0.5;
    config_double(job->conf, "max_delete_fraction", &max_delete_fraction);
    loader_set_max_delete_fraction(ld, max_delete_fraction);
    if (run_session_setup(job->ctl, loader_conn(ld), err) != FE_OK) {
        if (PQstatus(loader_conn(ld)) != CONNECTION_OK)
            err->code = FE_ECONNECT;
        loader_free(ld);
        return NULL;
    }
    publish_session(job, slot, ld);
    return ld;
}

static void worker_disconnect(source_job *job, int slot, loader **ld)
{
    if (!*ld)
        return;
    unpublish_session(job, slot);
    loader_free(*ld);
    *ld = NULL;
}

void run_job_lost(source_job *job, const char *msg)
{
    pthread_mutex_lock(&job->ctl->mu); /* stream threads of one job may all lose it */
    if (!job->warehouse_lost) {
        job->warehouse_lost = true;
        utc_clock(job->lost_at, sizeof job->lost_at);
        run_textf(job->lost_msg, sizeof job->lost_msg, "%s", msg);
    }
    if (!job->ctl->lost) { /* the sources still queued are not started */
        job->ctl->lost = true;
        run_textf(job->ctl->lost_msg, sizeof job->ctl->lost_msg, "%s", msg);
    }
    pthread_mutex_unlock(&job->ctl->mu);
}

/* The warehouse went away before the job's streams ran: ends them failed (the
 * run's last line says why, and it exits 3). */
static void job_lost_now(source_job *job, const char *why)
{
    char msg[sizeof(((fe_err *)0)->msg) + 64];
    run_job_lost(job, why);
    run_textf(msg, sizeof msg, "not run: the warehouse went away: %s", why);
    run_job_end(job, SJ_FAILED, msg);
}

/* The session holding the source's lock (backend pid holder) can be ended: a
 * killed run's, whose session lives on until the server notices the closed
 * connection, or this run's own (stale_pid) whose connection broke. Ends it
 * rather than skip the source and waits up to ORPHAN_WAIT_S for the lock; a
 * stop ends the wait. */
static fe_rc lock_take_over(source_job *job, PGconn *conn, int stale_pid, int holder, bool *by_run,
                            fe_err *err)
{
    fe_rc rc = FE_ELOCKED;
    int orphan = holder;
    log_info(job->conf->name,
             "%s; ending that session (backend pid %d) and waiting up to %d s for the lock",
             err->msg, holder, ORPHAN_WAIT_S);
    bool ended = source_id_end_session(conn, holder);
    for (int i = 0; rc == FE_ELOCKED && i < ORPHAN_WAIT_S * 10; i++) {
        if (fe_stop_requested(&job->ctl->stop))
            break;
        struct timespec tenth = {0, 100 * 1000 * 1000};
        nanosleep(&tenth, NULL);
        fe_err_clear(err);
        rc = source_id_lock(conn, job->conf->name, job->def->type.name, job->account,
                            job->ctl->run_id, stale_pid, by_run, &orphan, err);
    }
    if (rc == FE_OK)
        log_info(job->conf->name, "took the source's lock over from %s%s",
                 holder == stale_pid ? "this run's previous session" : "the dead run",
                 ended ? "" : " (its session ended by itself)");
    return rc;
}

/* Takes the source's lock on the worker's session; stale_pid is the backend pid
 * of the worker's previous session when its connection broke (0 = none). On
 * failure ends every remaining stream: interrupted after a stop, skipped when
 * another flowetl run holds the lock, else failed. */
static bool job_lock(source_job *job, loader *ld, int stale_pid)
{
    fe_err err = {0};
    bool by_run = false;
    int orphan = 0, sig;
    PGconn *conn = loader_conn(ld);
    fe_rc rc = source_id_lock(conn, job->conf->name, job->def->type.name, job->account,
                              job->ctl->run_id, stale_pid, &by_run, &orphan, &err);
    if (rc == FE_ELOCKED && orphan)
        rc = lock_take_over(job, conn, stale_pid, orphan, &by_run, &err);
    if (rc == FE_OK)
        return true;
    if ((sig = fe_stop_requested(&job->ctl->stop)) != 0)
        run_job_end_logged(job, SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                           runstop_signal_name(sig));
    else
        run_job_end_logged(job, by_run ? SJ_SKIPPED : SJ_FAILED, "%s", err.msg);
    return false;
}

/* Before a stream, when the session of slot is not usable (the server ended
 * it, a broken pipeline): one new connection, the session settings and, for slot
 * 0, the source's lock again. False when that failed (the remaining streams are
 * ended; job->warehouse_lost when the warehouse cannot be reached). */
static bool worker_reconnect(source_job *job, int slot, loader **ld)
{
    fe_err err = {0};
    /* The old session may outlive its connection, holding the source's lock. */
    pthread_mutex_lock(&job->ctl->mu);
    int stale_pid = job->slots[slot].backend_pid;
    pthread_mutex_unlock(&job->ctl->mu);
    worker_disconnect(job, slot, ld);
    log_warn(job->conf->name, "the warehouse connection broke: connecting again");
    if (!(*ld = worker_connect(job, slot, &err))) {
        if (err.code != FE_ECONNECT)
            run_job_end_logged(job, SJ_FAILED, "not run: connecting again failed: %s", err.msg);
        else
            job_lost_now(job, err.msg);
        return false;
    }
    if (slot == 0 && !job_lock(job, *ld, stale_pid))
        return false;
    job_record(job, *ld, slot); /* the broken stream's own row */
    return true;
}

/* --- one stream ----------------------------------------------------------- */

/* The stored cursor and full-refresh request of the stream (app/state.h); run
 * --full-refresh stores its request first. A window run (--from) makes none. */
static fe_rc stream_prepare_cursor(loader *ld, const source_job *job, const stream_job *sj,
                                   state_stream_start *start, fe_err *err)
{
    char by[96];
    const char *request = NULL;
    if (sj->refresh && !job->req->window_from) {
        run_textf(by, sizeof by, "run --full-refresh (run %" PRId64 ")", job->ctl->run_id);
        request = by;
    }
    return state_stream_prepare(loader_conn(ld), job->source_key, sj->def->name, request, start,
                                err);
}

/* The stream's first log line: where it starts from, and why a stored cursor is
 * not used. */
static void log_stream_start(const source_job *job, const state_stream_start *st,
                             const char *logctx)
{
    const stream_window *w = &job->window;
    bool window = job->req->window_from != NULL, full = st->pending && !window;
    char why[512];
    if (window)
        snprintf(why, sizeof why, "window %s .. %s (stored cursor %s is never moved back)%s",
                 w->from, w->to, st->cursor ? st->cursor : "none",
                 st->pending ? "; its full refresh stays pending" : "");
    else if (full && st->cursor)
        snprintf(why, sizeof why,
                 "full read (stored cursor %s ignored: full refresh requested by %s)", st->cursor,
                 st->by);
    else if (full)
        snprintf(why, sizeof why, "full read (no cursor stored; full refresh requested by %s)",
                 st->by);
    else
        snprintf(why, sizeof why, "%s", st->cursor ? st->cursor : "no cursor: full read");
    log_event(LOG_INFO, logctx, "stream_start",
              LOG_FIELDS(LOG_STR("cursor", st->cursor), LOG_BOOL("full_read", full || !st->cursor),
                         LOG_STR("window_from", window ? w->from : NULL),
                         LOG_STR("window_to", window ? w->to : NULL),
                         LOG_STR("full_refresh_by", st->pending ? st->by : NULL)),
              "starting%s%s%s", window || full ? ": " : " (", why, window || full ? "" : ")");
}

static void set_in_stream(source_job *job, int slot, const char *stream)
{
    stream_slot *sl = &job->slots[slot];
    pthread_mutex_lock(&job->ctl->mu);
    sl->in_stream = stream != NULL;
    sl->stream_now = stream;
    sl->stream_since_us = run_mono_us();
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
        run_textf(dst, size, "%s", msg);
        return;
    }
    buf_init(&holders, 4096);
    if (pg_lock_holders(loader_conn(ld), &holders, &qerr) == FE_OK && holders.len)
        run_textf(dst, size, "%s; waited lock_timeout = %s for: %s", msg,
                  job->ctl->lock_timeout_text, buf_cstr(&holders));
    else
        run_textf(dst, size, "%s (waited lock_timeout = %s)", msg, job->ctl->lock_timeout_text);
    buf_term(&holders);
}

/* Marks the stream started and opens its etl.run_stream row. */
static fe_rc stream_open_row(source_job *job, stream_job *sj, loader *ld, fe_err *err)
{
    int64_t row = 0;
    pthread_mutex_lock(&job->ctl->mu); /* the main thread reads both at its deadline */
    sj->started = true;
    sj->source_key = job->source_key;
    pthread_mutex_unlock(&job->ctl->mu);
    fe_rc rc = runlog_stream_start(loader_conn(ld), job->ctl->run_id, job->source_key,
                                   job->conf->name, sj->def->name, &row, err);
    pthread_mutex_lock(&job->ctl->mu);
    sj->run_stream_id = row;
    pthread_mutex_unlock(&job->ctl->mu);
    return rc;
}

static void on_progress(void *user, const stream_stats *stats)
{
    progress_line_update(user, stats->records, stats->expected);
}

/* Runs the stream's extractor from cursor (NULL: a full read) and waits for its
 * last commit; on failure its open checkpoint is rolled back. With live progress
 * lines, the periodic progress log lines are left out. */
static fe_rc stream_extract(source_job *job, stream_job *sj, loader *ld, source_env *env,
                            const state_stream_start *st, const char *logctx, int slot, fe_err *err)
{
    bool window = job->req->window_from != NULL, full = st->pending && !window;
    long max_rejects = 100;
    config_int(job->conf, "max_rejects", &max_rejects);
    stream_ctx ctx = {
        .conf = job->conf,
        .stream = sj->def->name,
        .logctx = logctx,
        .source_key = job->source_key,
        .run_id = job->ctl->run_id,
        .full_refresh = full,
        .cursor = full ? NULL : st->cursor,
        .window = window ? &job->window : NULL,
        .ld = ld,
        .http = env->http,
        .stats = &sj->stats,
        .state = env->state,
        .max_rejects = max_rejects,
        .started_us = ratelimit_now_us(),
        .progress_every_us = job->ctl->progress ? 0 : job->req->progress_every_us,
        .stop = &job->ctl->stop,
    };
    ctx.last_progress_us = ctx.started_us;
    log_stream_start(job, st, logctx);
    progress_line *line = progress_line_open(job->ctl->progress, logctx);
    if (line) {
        ctx.on_progress = on_progress;
        ctx.progress_user = line;
        ctx.live_every_us = PROGRESS_REDRAW_MS * 1000LL;
    }
    set_in_stream(job, slot, sj->def->name);
    fe_rc rc = sj->def->run(&ctx, err);
    progress_line_close(line);
    /* A stream ends with a synchronous commit; should one leave a commit in
     * flight, its outcome decides the stream's. */
    if (rc == FE_OK)
        rc = loader_wait(ld, err);
    /* A full read that committed answers the request it was started for. Its
     * data is in: should the clear fail, the next run only reads in full again. */
    fe_err clear = {0};
    if (rc == FE_OK && full &&
        state_stream_refreshed(loader_conn(ld), job->source_key, sj->def->name, st->since,
                               &clear) != FE_OK)
        log_warn(logctx, "the full read committed, but its request stays pending (%s)", clear.msg);
    if (rc != FE_OK)
        loader_rollback(ld);
    set_in_stream(job, slot, NULL);
    return rc;
}

/* Sets the stream's end state from rc (succeeded, interrupted by a signal, or
 * failed with err) and logs it. */
static void stream_conclude(source_job *job, stream_job *sj, loader *ld, fe_rc rc,
                            const fe_err *err, const char *logctx)
{
    char text[sizeof sj->error];
    int sig = fe_stop_requested(&job->ctl->stop);
    if (rc == FE_OK) {
        const stream_stats *st = &sj->stats;
        char one[64], many[64]; /* the stream's unit: "1 order", "2 orders" */
        summary_unit(sj->def->name, one, sizeof one, many, sizeof many);
        stream_set(job, sj, SJ_SUCCEEDED, NULL);
        log_event(LOG_INFO, logctx, "stream_end",
                  LOG_FIELDS(LOG_STR("status", "succeeded"), LOG_NUM("seconds", sj->seconds),
                             LOG_INT("records", st->records), LOG_INT("pages", st->pages),
                             LOG_INT("inserted", st->inserted), LOG_INT("updated", st->updated),
                             LOG_INT("unchanged", st->unchanged), LOG_INT("deleted", st->deleted),
                             LOG_INT("rejected", st->rejects), LOG_INT("requests", st->requests),
                             LOG_INT("retries", st->retries), LOG_INT("http_429", st->http_429),
                             LOG_INT("bytes", st->bytes)),
                  "done in %.1f s: %" PRId64 " %s read; warehouse rows: %" PRId64
                  " inserted, %" PRId64 " updated, %" PRId64 " unchanged; %" PRId64 " rejected",
                  sj->seconds, st->records, st->records == 1 ? one : many, st->inserted,
                  st->updated, st->unchanged, st->rejects);
    } else if (sig) {
        run_textf(text, sizeof text, "interrupted by %s: its open checkpoint was rolled back",
                  runstop_signal_name(sig));
        stream_set(job, sj, SJ_INTERRUPTED, text);
        log_event(LOG_WARN, logctx, "stream_end",
                  LOG_FIELDS(LOG_STR("status", "interrupted"), LOG_NUM("seconds", sj->seconds),
                             LOG_INT("records", sj->stats.records)),
                  "%s", text);
    } else {
        stream_failure_text(job, ld, err, text, sizeof text);
        stream_set(job, sj, SJ_FAILED, text);
        log_event(LOG_ERROR, NULL, "stream_end",
                  LOG_FIELDS(LOG_STR("status", "failed"), LOG_NUM("seconds", sj->seconds),
                             LOG_INT("records", sj->stats.records)),
                  "%s failed: %s", logctx, text);
    }
}

/* After a stream committed: its verification against the source (issue 13,
 * `verify` policy): one warning line per difference; with verify = fail a
 * difference makes the run exit 5. Its requests do not count into the stream's. */
static void stream_verify(source_job *job, stream_job *sj, loader *ld, source_env *env,
                          const char *logctx)
{
    const verify_def *vd = verify_find(job->def, sj->def->name);
    verify_policy policy = verify_policy_of(job->conf);
    stream_stats scratch = {0};
    fe_err err = {0};
    verify_outcome o;
    if (!vd || policy == VERIFY_OFF || fe_stop_requested(&job->ctl->stop) ||
        !pg_usable(loader_conn(ld)))
        return;
    verify_outcome_init(&o);
    verify_job vj = {.conn = loader_conn(ld),
                     .conf = job->conf,
                     .vd = vd,
                     .source_key = job->source_key,
                     .run_id = job->ctl->run_id,
                     .http = env->http,
                     .state = env->state,
                     .stats = &scratch,
                     .after_run = true,
                     .logctx = logctx};
    if (job->req->window_from) { /* run --from/--to: verify the window it read */
        vj.from = job->window.from;
        vj.to = job->window.to;
    }
    if (verify_stream(&vj, &o, &err) != FE_OK)
        log_warn(logctx, "verification could not run: %s", err.msg);
    else if (o.mismatches == 0 && o.errors == 0)
        log_info(logctx, "verified against the source: %d check(s) ok (%" PRId64 " requests)",
                 o.checks, scratch.requests);
    else {
        for (char *line = (char *)buf_cstr(&o.lines), *end; line && *line;
             line = end ? end + 1 : NULL) {
            if ((end = strchr(line, '\n')) != NULL)
                *end = '\0';
            log_warn(logctx, "verification:%s", line);
        }
        if (policy == VERIFY_FAIL && o.mismatches) {
            sj->verify_failed = true;
            log_error(NULL, "%s: the warehouse differs from the source (verify = fail): exit 5",
                      logctx);
        }
    }
    verify_outcome_term(&o);
}

/* Runs one stream and records it in etl.run_stream. Failures stay inside the
 * stream: its open checkpoint is rolled back and the next stream runs. */
static void run_one_stream(source_job *job, stream_job *sj, loader *ld, source_env *env, int slot)
{
    char logctx[256];
    fe_err err = {0};
    state_stream_start start = {0};
    int64_t started = run_mono_us();

    run_textf(logctx, sizeof logctx, "%s.%s", job->conf->name, sj->def->name);
    log_thread_ctx(logctx); /* names the stream in JSON lines of the source's HTTP client */
    fe_rc rc = stream_open_row(job, sj, ld, &err);
    if (rc == FE_OK)
        rc = stream_prepare_cursor(ld, job, sj, &start, &err);
    if (rc == FE_OK)
        rc = stream_extract(job, sj, ld, env, &start, logctx, slot, &err);
    sj->seconds = (double)(run_mono_us() - started) / 1e6;
    stream_conclude(job, sj, ld, rc, &err, logctx);
    job_record(job, ld, slot);
    if (rc == FE_OK)
        stream_verify(job, sj, ld, env, logctx);
    log_thread_ctx(NULL);
    free(start.cursor);
}

/* --- one source (a worker thread) ----------------------------------------- */

/* Everything before the first stream: the time zone, the lock, the source's
 * first request (open), its row. False when the source cannot run (its streams
 * are ended). */
static bool job_start(source_job *job, loader *ld, source_env *env)
{
    fe_err err = {0};
    int sig;
    if (source_id_check_timezone(loader_conn(ld), job->conf->name,
                                 config_str(job->conf, "timezone"), &err) != FE_OK) {
        if (err.code != FE_ECONFIG && PQstatus(loader_conn(ld)) != CONNECTION_OK) {
            job_lost_now(job, err.msg); /* not a zone the server refused */
            return false;
        }
        run_job_end_logged(job, SJ_FAILED, "%s", err.msg);
        return false;
    }
    if (!job_lock(job, ld, 0))
        return false;
    if (job->req->window_from &&
        state_window_bounds(loader_conn(ld), config_str(job->conf, "timezone"),
                            job->req->window_from, job->req->window_to, &job->window,
                            &err) != FE_OK) {
        run_job_end_logged(job, SJ_FAILED, "%s", err.msg);
        return false;
    }
    if (source_env_init(env, job->conf, job->def, &job->ctl->stop, &err) == FE_OK &&
        source_env_open(env, &err) == FE_OK &&
        source_id_register(loader_conn(ld), job->def->type.name, job->account, job->conf->name,
                           config_str(job->conf, "timezone"), &job->source_key, &err) == FE_OK)
        return true;
    if ((sig = fe_stop_requested(&job->ctl->stop)) != 0)
        run_job_end_logged(job, SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                           runstop_signal_name(sig));
    else
        run_job_end_logged(job, SJ_FAILED, "%s", err.msg);
    return false;
}

/* --- stream threads -------------------------------------------------------- */

/* One stream thread of a job: its own warehouse session and, but for slot 0
 * (the worker, which uses the job's env), its own HTTP client and module state
 * (source_env_open: one cheap request, unless the source's open made none: then
 * it was only the probe the worker made; or the worker's state, when the source
 * declares it shareable) with the job's rate limiter, so that the
 * source's streams share its one budget and no client or session is shared
 * between threads. */
typedef struct {
    source_job *job;
    int slot;
    loader *ld;
    source_env own;
    source_env *env;
    ratelimit *shared; /* the job's limiter, for slot > 0 */
    bool stateless;    /* the source's open kept no state: it was a probe, made once */
    void *state;       /* the worker's state, when the source shares it (share_state) */
    pthread_t thread;
    bool started;
    bool done; /* the thread ended (under ctl->mu) */
} stream_thread;

int run_job_threads(const source_config *conf, const source_def *def, int nstreams, bool queued)
{
    long n = 0;
    config_int(conf, "stream_parallel", &n);
    /* 0, automatic: concurrent streams only where they cost no extra session (a
     * thread of a source whose state cannot be shared logs in again, every run),
     * and only while the sources do not queue: then the pool's threads are what
     * bounds the run's connections (max_sources + 1). */
    if (n == 0)
        n = def->share_state && !queued ? 4 : 1;
    if (n > nstreams)
        n = nstreams;
    if (n > MAX_STREAM_THREADS)
        n = MAX_STREAM_THREADS;
    return n < 1 ? 1 : (int)n;
}

/* True when every stream sj is declared after (source_def.deps), listed before
 * it and read by this run, has ended. Under ctl->mu. */
static bool deps_done(const source_job *job, const stream_job *sj)
{
    for (const stream_dep *d = job->def->deps; d && d->stream; d++) {
        if (strcmp(d->stream, sj->def->name) != 0)
            continue;
        for (int i = 0; i < job->nstreams && &job->streams[i] != sj; i++)
            if (strcmp(job->streams[i].def->name, d->after) == 0 &&
                job->streams[i].status == SJ_PENDING)
                return false;
    }
    return true;
}

/* The next stream slot takes: the first one not taken and not ended whose
 * dependencies ended, waiting (and watching the stop flag) while the streams
 * left wait for others. NULL when none is left or the run is asked to stop. */
static stream_job *stream_take(source_job *job, int slot)
{
    stream_job *got = NULL;
    pthread_mutex_lock(&job->ctl->mu);
    while (!fe_stop_requested(&job->ctl->stop)) {
        bool left = false;
        for (int i = 0; i < job->nstreams && !got; i++) {
            stream_job *sj = &job->streams[i];
            if (sj->claimed || sj->status != SJ_PENDING)
                continue;
            left = true;
            if (deps_done(job, sj))
                got = sj;
        }
        if (got || !left)
            break;
        struct timespec until; /* the stop flag is set from a signal: no broadcast */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&job->ctl->cv, &job->ctl->mu, &until);
    }
    if (got) {
        got->claimed = true;
        got->slot = slot;
    }
    pthread_mutex_unlock(&job->ctl->mu);
    return got;
}

/* Runs streams until none is left: the loop of every stream thread. */
static void stream_loop(stream_thread *t)
{
    source_job *job = t->job;
    for (;;) {
        int sig = fe_stop_requested(&job->ctl->stop);
        if (sig) {
            run_job_end_logged(job, SJ_INTERRUPTED, "not started: the run was interrupted by %s",
                               runstop_signal_name(sig));
            return;
        }
        if (!pg_usable(loader_conn(t->ld)) && !worker_reconnect(job, t->slot, &t->ld))
            return;
        stream_job *sj = stream_take(job, t->slot);
        if (!sj && fe_stop_requested(&job->ctl->stop))
            continue; /* ends the rest above */
        if (!sj)
            return; /* none left */
        run_one_stream(job, sj, t->ld, t->env, t->slot);
    }
}

/* A stream thread of slot > 0: its session and client; when either cannot be
 * had the thread ends at once and the others run the streams. */
static void *stream_thread_main(void *arg)
{
    stream_thread *t = arg;
    source_job *job = t->job;
    fe_err err = {0};
    if (!(t->ld = worker_connect(job, t->slot, &err)))
        log_warn(job->conf->name, "stream thread %d: no warehouse session (%s); the others go on",
                 t->slot, err.msg);
    else if (source_env_init_sharing(&t->own, job->conf, job->def, &job->ctl->stop, t->shared,
                                     &err) != FE_OK ||
             (!t->stateless && !t->state && source_env_open(&t->own, &err) != FE_OK))
        log_warn(job->conf->name,
                 "stream thread %d: the source could not be opened (%s); the others go on", t->slot,
                 err.msg);
    else {
        if (t->state)
            t->own.state = t->state; /* borrowed: given back before the env's term */
        t->env = &t->own;
        stream_loop(t);
    }
    if (t->state)
        t->own.state = NULL;
    job_record(job, t->ld, t->slot);
    source_env_term(&t->own);
    worker_disconnect(job, t->slot, &t->ld);
    pthread_mutex_lock(&job->ctl->mu);
    t->done = true;
    pthread_cond_broadcast(&job->ctl->cv);
    pthread_mutex_unlock(&job->ctl->mu);
    return NULL;
}

/* Slot 0 while the other stream threads still load: the source's lock lives on
 * its session, so a session the server ended (pg_alive, checked every second)
 * is made again at once, with the lock. */
static void keep_lock_while_loading(source_job *job, stream_thread *ts)
{
    for (;;) {
        bool loading = false;
        pthread_mutex_lock(&job->ctl->mu);
        for (int i = 1; i < job->nslots; i++)
            loading = loading || (ts[i].started && !ts[i].done);
        if (loading) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&job->ctl->cv, &job->ctl->mu, &until);
        }
        pthread_mutex_unlock(&job->ctl->mu);
        if (!loading)
            return;
        if (!fe_stop_requested(&job->ctl->stop) && !pg_alive(loader_conn(ts[0].ld)) &&
            !worker_reconnect(job, 0, &ts[0].ld))
            return; /* logged; the others finish their streams and are joined */
    }
}

/* True when no stream is left to take (every one taken or ended). */
static bool streams_all_taken(source_job *job)
{
    bool all = true;
    pthread_mutex_lock(&job->ctl->mu);
    for (int i = 0; i < job->nstreams; i++)
        if (!job->streams[i].claimed && job->streams[i].status == SJ_PENDING)
            all = false;
    pthread_mutex_unlock(&job->ctl->mu);
    return all;
}

/* Runs the job's streams on job->nslots threads: the worker (slot 0, on ld and
 * env) and the others, which it joins. */
static void run_streams(source_job *job, loader **ld, source_env *env)
{
    stream_thread ts[MAX_STREAM_THREADS];
    memset(ts, 0, sizeof ts);
    for (int i = 0; i < job->nslots; i++) {
        ts[i].job = job;
        ts[i].slot = i;
        ts[i].shared = env->rl;
        ts[i].stateless = env->state == NULL;
        ts[i].state = job->def->share_state ? env->state : NULL;
    }
    for (int i = 1; i < job->nslots; i++)
        ts[i].started = pthread_create(&ts[i].thread, NULL, stream_thread_main, &ts[i]) == 0;
    ts[0].ld = *ld;
    ts[0].env = env;
    stream_loop(&ts[0]);
    if (ts[0].ld)
        keep_lock_while_loading(job, ts);
    *ld = ts[0].ld;
    for (int i = 1; i < job->nslots; i++)
        if (ts[i].started)
            pthread_join(ts[i].thread, NULL);
    /* A thread that could not start its session left its streams to slot 0,
     * which may have ended first: run what is left here. */
    if (ts[0].ld && !streams_all_taken(job)) {
        ts[0].ld = *ld;
        stream_loop(&ts[0]);
        *ld = ts[0].ld;
    }
}

/* Runs one source's job on the calling pool thread. */
static void run_source(source_job *job)
{
    fe_err err = {0};
    source_env env = {0};
    loader *ld = worker_connect(job, 0, &err);

    if (!ld) {
        if (err.code == FE_ECONNECT)
            run_job_lost(job, err.msg);
        run_job_end_logged(job, SJ_FAILED, "%s", err.msg);
        goto done;
    }
    if (!job_start(job, ld, &env))
        goto done;
    run_streams(job, &ld, &env);
done:
    job_record(job, ld, -1);
    source_env_term(&env);
    worker_disconnect(job, 0, &ld);
}

/* The queue's next job with streams; NULL when none is left or the run is asked
 * to stop. *lost (a copy of ctl->lost_msg) is set when the warehouse went away:
 * the job is then not to be started. */
static source_job *pool_take(run_ctl *ctl, char *lost, size_t size)
{
    source_job *job = NULL;
    lost[0] = '\0';
    pthread_mutex_lock(&ctl->mu);
    while (!job && ctl->next_job < ctl->njobs && !fe_stop_requested(&ctl->stop)) {
        source_job *next = &ctl->jobs[ctl->next_job++];
        if (next->nstreams > 0)
            job = next;
    }
    if (job && ctl->lost)
        run_textf(lost, size, "%s", ctl->lost_msg);
    pthread_mutex_unlock(&ctl->mu);
    return job;
}

void *run_pool_worker(void *arg)
{
    run_ctl *ctl = arg;
    char lost[sizeof ctl->lost_msg], msg[sizeof lost + 64];
    source_job *job;
    while ((job = pool_take(ctl, lost, sizeof lost)) != NULL) {
        if (!lost[0]) {
            run_source(job);
#ifdef __GLIBC__
            /* What the source's client, pages and staging took goes back to the
             * system: glibc keeps freed memory in each thread's arena, so a run
             * of 200 sources on 8 threads would otherwise hold twice the memory
             * of one with 8 (bench/accounts.sh: 50 MB, not 26). */
            malloc_trim(0);
#endif
            continue;
        }
        /* What the streams of a started job get when the warehouse goes away
         * (job_lost_now); the run's last line says it once. */
        run_textf(msg, sizeof msg, "not run: the warehouse went away: %s", lost);
        run_job_end(job, SJ_FAILED, msg);
    }
    pthread_mutex_lock(&ctl->mu);
    ctl->running--;
    pthread_cond_broadcast(&ctl->cv);
    pthread_mutex_unlock(&ctl->mu);
    return NULL;
}
