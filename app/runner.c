/* runner: `flowetl run`. Selects streams (of the run's shard), opens the run's
 * bookkeeping, checks each source's identity, runs the sources on a pool of at
 * most max_sources worker threads (sources are independent: each has its own
 * API budget, connection and advisory lock) while the main thread watches them
 * (long waits on the warehouse, a stop request), then records every outcome,
 * prints the summary and picks the exit code. */
#include "app/runner.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "app/state_args.h"
#include "sources/source.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "load/runlog.h"
#include "load/source_id.h"
#include "app/metrics_run.h"
#include "app/run_job.h"
#include "app/runstop.h"
#include "app/stream_select.h"
#include "app/version.h"
#include "app/summary.h"

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
/* How often the main thread tries to make its own broken connection again. */
#define MAIN_RECONNECT_US (5 * US_PER_S)

/* --- selection ------------------------------------------------------------ */

static bool job_has_stream(const source_job *job, const stream_def *s)
{
    for (int i = 0; i < job->nstreams; i++)
        if (job->streams[i].def == s)
            return true;
    return false;
}

static void job_add_stream(source_job *job, const stream_def *s)
{
    if (!job_has_stream(job, s) && job->nstreams < job->cap)
        job->streams[job->nstreams++].def = s;
}

/* The streams the config enables for a source: `streams` or, when unset, all. */
static void job_add_configured_streams(source_job *job)
{
    for (int i = 0; i < job->def->nstreams; i++)
        if (stream_select_is_configured(job->conf, &job->def->streams[i]))
            job_add_stream(job, &job->def->streams[i]);
}

static source_job *job_of(source_job *jobs, int njobs, const source_config *conf)
{
    for (int i = 0; i < njobs; i++)
        if (jobs[i].conf == conf)
            return &jobs[i];
    return NULL;
}

/* The job of the source target names; NULL, after saying which shard it is of,
 * when run --shard left that source to another process. */
static source_job *target_job(source_job *jobs, int njobs, const run_request *req,
                              const source_config *conf, const char *target)
{
    source_job *job = job_of(jobs, njobs, conf);
    if (!job)
        log_error(NULL,
                  "%s: source %s is of shard %d/%d, not of this run's shard %d/%d (run it with "
                  "--shard %d/%d)",
                  target, conf->name, run_shard_of(conf->name, req->shard_count), req->shard_count,
                  req->shard_index, req->shard_count, run_shard_of(conf->name, req->shard_count),
                  req->shard_count);
    return job;
}

/* run --full-refresh: marks the streams to read in full (every selected one
 * without a list). False, after logging why, when an item names an unknown stream
 * or one this run does not select. */
static bool mark_refresh(const config *cfg, source_job *jobs, int njobs, const run_request *req)
{
    for (int i = 0; i < njobs && req->full_refresh && req->nrefresh == 0; i++)
        for (int k = 0; k < jobs[i].nstreams; k++)
            jobs[i].streams[k].refresh = true;
    for (int t = 0; t < req->nrefresh; t++) {
        const source_config *conf;
        const stream_def *s;
        int marked = 0;
        if (!stream_select_target(cfg, req->refresh[t], &conf, &s))
            return false;
        source_job *job = target_job(jobs, njobs, req, conf, req->refresh[t]);
        if (!job)
            return false;
        for (int k = 0; k < job->nstreams; k++)
            if (!s || job->streams[k].def == s) {
                job->streams[k].refresh = true;
                marked++;
            }
        if (!marked) {
            log_error(NULL, "--full-refresh=%s names no stream this run selects", req->refresh[t]);
            return false;
        }
    }
    return true;
}

/* run --from/--to: drops the selected streams that have no date window, with one
 * line naming them. False when none is left. */
static bool keep_windowed(source_job *jobs, int njobs, const run_request *req)
{
    buf skipped;
    int kept = 0;
    if (!req->window_from || njobs == 0) /* njobs 0: a shard without a source */
        return true;
    buf_init(&skipped, 4096);
    for (int i = 0; i < njobs; i++) {
        int n = 0;
        for (int k = 0; k < jobs[i].nstreams; k++) {
            const stream_def *s = jobs[i].streams[k].def;
            if (s->window)
                jobs[i].streams[n++] = jobs[i].streams[k];
            else if (!buf_printf(&skipped, "%s%s.%s", skipped.len ? ", " : "", jobs[i].conf->name,
                                 s->name))
                continue; /* out of memory: the line names fewer */
        }
        jobs[i].nstreams = n;
        kept += n;
    }
    if (skipped.len)
        log_info(NULL, "--from/--to: skipping the streams without a date window: %s",
                 buf_cstr(&skipped));
    buf_term(&skipped);
    if (!kept)
        log_error(NULL, "--from/--to: none of the selected streams has a date window");
    return kept > 0;
}

/* The streams the targets name (or every configured one). False (after printing
 * why) when a target names an unknown source or stream. */
static bool select_targets(const config *cfg, source_job *jobs, int njobs, const run_request *req)
{
    for (int i = 0; i < njobs; i++)
        if (!stream_select_check_configured(jobs[i].conf, jobs[i].def))
            return false;
    if (req->ntargets == 0) {
        for (int i = 0; i < njobs; i++)
            job_add_configured_streams(&jobs[i]);
        return true;
    }
    for (int t = 0; t < req->ntargets; t++) {
        const source_config *conf;
        const stream_def *s;
        if (!stream_select_target(cfg, req->targets[t], &conf, &s))
            return false;
        source_job *job = target_job(jobs, njobs, req, conf, req->targets[t]);
        if (!job)
            return false;
        if (s)
            job_add_stream(job, s);
        else
            job_add_configured_streams(job);
    }
    return true;
}

/* Fills the jobs' stream lists from the targets. Returns false (after printing
 * why) when a target names an unknown source or stream. */
static bool select_streams(const config *cfg, source_job *jobs, int njobs, const run_request *req)
{
    return select_targets(cfg, jobs, njobs, req) && keep_windowed(jobs, njobs, req) &&
           mark_refresh(cfg, jobs, njobs, req);
}

/* --- the main thread while the workers run -------------------------------- */

typedef struct {
    int ok, failed, interrupted, skipped, not_started;
    int unverified; /* committed streams whose verification (verify = fail) differed */
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
            t.unverified += sj->verify_failed;
        }
    }
    t.lost = t.lost_job != NULL;
    return t;
}

/* Sends a cancel to one session whose stream is still running. */
static void cancel_slot(run_ctl *ctl, const source_job *job, stream_slot *sl)
{
    pthread_mutex_lock(&ctl->mu);
    PGcancel *c = sl->in_stream && !sl->cancel_busy ? sl->cancel : NULL;
    if (c)
        sl->cancel_busy = true;
    pthread_mutex_unlock(&ctl->mu);
    if (!c)
        return;
    char why[256];
    if (!PQcancel(c, why, (int)sizeof why))
        log_debug(job->conf->name, "cancel not sent: %s", why);
    pthread_mutex_lock(&ctl->mu);
    sl->cancel_busy = false;
    pthread_cond_broadcast(&ctl->cv);
    pthread_mutex_unlock(&ctl->mu);
}

/* Sends a cancel to every stream thread whose stream is still running (a
 * statement that did not end within the grace after a signal). */
static void cancel_streams(run_ctl *ctl, source_job *jobs, int njobs)
{
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nslots; k++)
            cancel_slot(ctl, &jobs[i], &jobs[i].slots[k]);
}

/* The session of backend pid, with its job in *job; NULL when none. */
static stream_slot *slot_by_pid(source_job *jobs, int njobs, int pid, source_job **job)
{
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nslots; k++)
            if (jobs[i].slots[k].backend_pid == pid) {
                *job = &jobs[i];
                return &jobs[i].slots[k];
            }
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
    int64_t now = run_mono_us();

    pthread_mutex_lock(&ctl->mu);
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nslots && npids < 64; k++) {
            const stream_slot *sl = &jobs[i].slots[k];
            if (sl->in_stream && sl->backend_pid &&
                now - sl->stream_since_us >= WAIT_LOG_FIRST_S * US_PER_S)
                pids[npids++] = sl->backend_pid;
        }
    pthread_mutex_unlock(&ctl->mu);
    if (npids == 0 || !conn || PQstatus(conn) != CONNECTION_OK ||
        pg_long_statements(conn, pids, npids, WAIT_LOG_FIRST_S, acts, 16, &n, WATCH_QUERY_MS,
                           &err) != FE_OK)
        return;
    pthread_mutex_lock(&ctl->mu);
    for (int k = 0; k < n; k++) {
        source_job *job = NULL;
        stream_slot *sl = slot_by_pid(jobs, njobs, acts[k].pid, &job);
        if (!sl || !sl->stream_now)
            continue;
        if (strcmp(sl->wait_seen, acts[k].started) != 0) { /* another statement */
            snprintf(sl->wait_seen, sizeof sl->wait_seen, "%s", acts[k].started);
            sl->wait_logged_s = 0;
        }
        if (acts[k].seconds < (sl->wait_logged_s ? 2 * sl->wait_logged_s : WAIT_LOG_FIRST_S))
            continue;
        sl->wait_logged_s = acts[k].seconds;
        char logctx[256];
        run_textf(logctx, sizeof logctx, "%s.%s", job->conf->name, sl->stream_now);
        log_event(LOG_INFO, logctx, "warehouse_wait",
                  LOG_FIELDS(LOG_INT("seconds", acts[k].seconds), LOG_STR("query", acts[k].query),
                             LOG_STR("waiting_for", acts[k].waiting),
                             LOG_STR("lock_timeout", ctl->lock_timeout_text)),
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
    pthread_mutex_lock(&ctl->mu);
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++) {
            stream_job *sj = &jobs[i].streams[k];
            if (sj->status != SJ_PENDING)
                continue;
            sj->status = SJ_INTERRUPTED;
            sj->cut = true;
            run_textf(sj->error, sizeof sj->error,
                      "%s by %s: stopped at the deadline; the server rolled back its open "
                      "checkpoint",
                      sj->started ? "interrupted" : "not started: the run was interrupted",
                      runstop_signal_name(sig));
        }
    /* Every stream not recorded yet. A stream cut at the deadline: its stats are
     * the worker's, still being written, so only its status goes in. A stream
     * that ended before (its worker had not written its row yet): its own. */
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++) {
            stream_job *sj = &jobs[i].streams[k];
            fe_err why = {0};
            if (sj->recorded || !sj->cut) {
                (void)run_stream_record(conn, ctl->run_id, jobs[i].conf->name, sj, &why);
                continue;
            }
            stream_job cut = {.def = sj->def,
                              .status = sj->status,
                              .started = sj->started,
                              .run_stream_id = sj->run_stream_id,
                              .source_key = sj->source_key};
            memcpy(cut.error, sj->error, sizeof cut.error);
            if (!run_stream_record(conn, ctl->run_id, jobs[i].conf->name, &cut, &why))
                log_debug(NULL, "could not record %s.%s at the deadline: %s", jobs[i].conf->name,
                          sj->def->name, why.msg);
            sj->recorded = true;
        }
    pthread_mutex_unlock(&ctl->mu);
    (void)run_finish_and_report(conn, ctl, jobs, njobs, sig, true);
    metrics_run_write(ctl->metrics_file, conn, ctl, jobs, njobs, 128 + sig);
    fflush(stdout);
    _exit(128 + sig);
}

/* The main connection broke (the warehouse restarted, a network blip): a new
 * one, with the run's lock again, so that no other run takes this one for
 * abandoned while its workers go on. Quietly keeps the broken one on failure. */
static void main_reconnect(run_ctl *ctl, PGconn **conn)
{
    fe_err err = {0};
    PGconn *fresh = pg_connect(ctl->dsn, &err);
    if (!fresh)
        return;
    if (run_session_setup(ctl, fresh, &err) != FE_OK ||
        runlog_run_relock(fresh, ctl->run_id, &err) != FE_OK) {
        log_debug(NULL, "the run's own warehouse connection: %s", err.msg);
        PQfinish(fresh);
        return;
    }
    PQfinish(*conn);
    *conn = fresh;
    log_info(NULL, "the run's own warehouse connection broke and was made again");
}

/* Waits for the workers, watching them: long statements are logged; after a
 * signal, running statements are cancelled once the grace is over, and the run
 * ends at the deadline whatever the workers do. */
static void supervise(PGconn **conn, run_ctl *ctl, source_job *jobs, int njobs)
{
    int64_t stop_at = 0, last_cancel = 0, last_watch = run_mono_us(), last_reconnect = 0;
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
        int64_t now = run_mono_us();
        int sig = fe_stop_requested(&ctl->stop);
        if (sig && !stop_at)
            stop_at = fe_stop_since_us(&ctl->stop);
        if (sig && (!stop_at || stop_at > now))
            stop_at = now;
        if (sig && now - stop_at >= STOP_DEADLINE_US)
            stop_at_deadline(*conn, ctl, jobs, njobs, sig);
        if (sig && now - stop_at >= STOP_GRACE_US && now - last_cancel >= US_PER_S) {
            cancel_streams(ctl, jobs, njobs);
            last_cancel = now;
        }
        if (!sig && PQstatus(*conn) != CONNECTION_OK && now - last_reconnect >= MAIN_RECONNECT_US) {
            main_reconnect(ctl, conn);
            last_reconnect = now;
        }
        /* The main connection of an idle run does no I/O, so a server that closed
         * it (idle_session_timeout, pg_terminate_backend) would go unnoticed, and
         * with it the run's lock: read what the socket has, without blocking. */
        if (!sig && PQstatus(*conn) == CONNECTION_OK)
            (void)PQconsumeInput(*conn);
        /* After a signal the main thread only cancels and records: a query about
         * waits could block it past the deadline. */
        if (!sig && now - last_watch >= US_PER_S) {
            watch_waits(ctl, *conn, jobs, njobs);
            last_watch = now;
        }
        pthread_mutex_lock(&ctl->mu);
    }
    pthread_mutex_unlock(&ctl->mu);
}

/* The sources loaded at once: [run] max_sources, or run --max-sources. */
static int max_sources(const config *cfg, const run_request *req)
{
    const char *v = config_run_str(cfg, "max_sources");
    long n = req->max_sources > 0 ? req->max_sources : v ? strtol(v, NULL, 10) : 0;
    return n >= 1 && n <= RUN_MAX_SOURCES ? (int)n : 8;
}

/* The most stream threads npool jobs with streams can have at once: the sum of
 * the npool largest nslots (the live progress block's lines). */
static int most_slots_at_once(const source_job *jobs, int njobs, int npool)
{
    int lines = 0;
    /* nslots is 1..MAX_STREAM_THREADS: count down the values. */
    for (int v = MAX_STREAM_THREADS; v >= 1 && npool > 0; v--)
        for (int i = 0; i < njobs && npool > 0; i++)
            if (jobs[i].slots && jobs[i].nslots == v) {
                lines += v;
                npool--;
            }
    return lines;
}

/* Each selected job's stream threads and their slots, sized for it. Returns the
 * jobs with streams; one whose slots cannot be had is ended failed. */
static int size_jobs(source_job *jobs, int njobs, bool queued)
{
    int selected = 0;
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].nstreams == 0)
            continue;
        jobs[i].nslots = run_job_threads(jobs[i].conf, jobs[i].def, jobs[i].nstreams, queued);
        jobs[i].slots = calloc((size_t)jobs[i].nslots, sizeof *jobs[i].slots);
        if (!jobs[i].slots) {
            jobs[i].nslots = 0;
            run_job_end_logged(&jobs[i], SJ_FAILED, "out of memory");
            continue;
        }
        selected++;
    }
    return selected;
}

static int count_selected(const source_job *jobs, int njobs)
{
    int n = 0;
    for (int i = 0; i < njobs; i++)
        n += jobs[i].nstreams > 0;
    return n;
}

/* Runs the jobs on a pool of min(max_sources, selected jobs) worker threads
 * taking them in config order, and supervises them until every thread ended. */
static void run_workers(PGconn **conn, run_ctl *ctl, source_job *jobs, int njobs,
                        const run_request *req)
{
    int cap = njobs > 0 ? max_sources(jobs[0].cfg, req) : 1;
    int nselected = count_selected(jobs, njobs);
    int npool = nselected < cap ? nselected : cap, started = 0;
    /* Queued sources read one stream at a time by default (stream_parallel 0):
     * the pool then bounds the run's sessions to max_sources + 1. */
    int nready = size_jobs(jobs, njobs, nselected > cap);
    pthread_t *pool = calloc(npool > 0 ? (size_t)npool : 1, sizeof *pool);
    if (nselected > cap)
        log_info(NULL, "%d sources, %d at a time (max_sources)", nselected, cap);
    if (nready > 0 && progress_live_wanted(jobs[0].cfg))
        ctl->progress = progress_new(most_slots_at_once(jobs, njobs, npool));
    ctl->jobs = jobs;
    ctl->njobs = njobs;
    for (int i = 0; pool && nready > 0 && i < npool; i++) {
        pthread_mutex_lock(&ctl->mu);
        ctl->running++;
        pthread_mutex_unlock(&ctl->mu);
        if (pthread_create(&pool[started], NULL, run_pool_worker, ctl) == 0) {
            started++;
            continue;
        }
        pthread_mutex_lock(&ctl->mu);
        ctl->running--;
        pthread_mutex_unlock(&ctl->mu);
    }
    if (started == 0) /* no thread to take them */
        for (int i = 0; i < njobs; i++)
            run_job_end_logged(&jobs[i], SJ_FAILED, "could not start a worker thread");
    else if (started < npool)
        log_warn(NULL, "%d of %d worker threads started: the sources queue for them", started,
                 npool);
    supervise(conn, ctl, jobs, njobs);
    for (int i = 0; i < started; i++)
        pthread_join(pool[i], NULL);
    free(pool);
    progress_free(ctl->progress);
    ctl->progress = NULL;
}

/* --- the end of the run ------------------------------------------------------ */

/* One block per stream (app/summary.h), on stdout. */
static void print_summary(const source_job *jobs, int njobs)
{
    static const char *const shown[] = {"-", "ok", "FAILED", "INTERRUPTED", "SKIPPED"};
    buf out;
    buf_init(&out, 0);
    for (int i = 0; i < njobs; i++) {
        for (int k = 0; k < jobs[i].nstreams; k++) {
            const stream_job *sj = &jobs[i].streams[k];
            char name[256];
            run_textf(name, sizeof name, "%s.%s", jobs[i].conf->name, sj->def->name);
            if (!summary_stream(&out, name, sj->def->name, shown[sj->status], sj->seconds,
                                &sj->stats))
                log_warn(NULL, "out of memory printing the summary of %s", name);
        }
    }
    fputs(buf_cstr(&out), stdout);
    buf_term(&out);
    fflush(stdout);
}

/* The run's status and its one-line reason ("" when it succeeded cleanly). */
static const char *run_status(const tally *t, int sig, char *reason, size_t size)
{
    reason[0] = '\0';
    if (sig && t->interrupted) {
        run_textf(reason, size,
                  "interrupted by %s: %d stream(s) ok, %d rolled back or not started, %d failed",
                  runstop_signal_name(sig), t->ok, t->interrupted, t->failed);
        return "interrupted";
    }
    if (t->lost)
        run_textf(reason, size, "the warehouse went away at %s: %s; %d stream(s) not run",
                  t->lost_job->lost_at, t->lost_job->lost_msg, t->not_started);
    else if (t->failed)
        run_textf(reason, size, "%d stream(s) failed; first: %s.%s: %s", t->failed,
                  t->first_failed_job->conf->name, t->first_failed->def->name,
                  t->first_failed->error);
    else if (t->skipped)
        run_textf(reason, size, "%d stream(s) skipped: another flowetl run was loading them",
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
    if (t->unverified)
        return RUN_EXIT_VERIFY;
    return t->skipped ? RUN_EXIT_OVERLAP : RUN_EXIT_OK;
}

/* Writes the rows the workers could not (their connection broke) and the run's
 * end with conn. A row the server refuses (while conn stays up) is logged and
 * passed over: one bad row must not cost the other streams' rows and the run's
 * end, or the run would stay `running` with its real error lost. FE_OK when the
 * run's end was written. */
static fe_rc record_with(PGconn *conn, run_ctl *ctl, source_job *jobs, int njobs,
                         const char *status, const char *reason, fe_err *err)
{
    for (int i = 0; i < njobs; i++)
        for (int k = 0; k < jobs[i].nstreams; k++) {
            stream_job *sj = &jobs[i].streams[k];
            fe_err why = {0};
            if (run_stream_record(conn, ctl->run_id, jobs[i].conf->name, sj, &why))
                continue;
            if (!conn || PQstatus(conn) != CONNECTION_OK) /* the caller tries a new one */
                return fe_err_set(err, FE_EPG, "could not record stream %s.%s: %s",
                                  jobs[i].conf->name, sj->def->name, why.msg);
            log_warn(jobs[i].conf->name, "could not record stream %s in etl.run_stream: %s",
                     sj->def->name, why.msg);
        }
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
    fe_rc rc = run_session_setup(ctl, fresh, &err);
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
            run_job_lost(any, lost.msg);
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
    if (log_get_format() == LOG_FORMAT_JSON) /* the lines above, as fields */
        log_event(LOG_INFO, NULL, "run_end",
                  LOG_FIELDS(LOG_STR("status", status), LOG_INT("streams_ok", t.ok),
                             LOG_INT("streams_failed", t.failed),
                             LOG_INT("streams_skipped", t.skipped),
                             LOG_INT("streams_interrupted", t.interrupted),
                             LOG_BOOL("recorded", written), LOG_INT("exit", exit_code(&t, sig))),
                  "run %" PRId64 " ended: %s", ctl->run_id, status);
    return exit_code(&t, sig);
}

/* --- before the workers -------------------------------------------------------- */

fe_rc runner_source_account(const source_config *conf, buf *out, fe_err *err)
{
    const char *pinned = config_str(conf, "account");
    if (pinned && *pinned)
        return buf_puts(out, pinned) ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
    const source_def *def = source_find(conf->type);
    if (!def)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] unknown type %s", conf->name, conf->type);
    return source_account(def, conf, out, err);
}

/* Each selected source's identity against its binding in dw.dim_source. A
 * mismatch refuses the whole run (nothing is loaded): false, after ending every
 * stream with the reason. */
static bool check_identities(PGconn *conn, source_job *jobs, int njobs, bool *lost)
{
    char first[sizeof(((fe_err *)0)->msg)] = "";
    *lost = false;
    for (int i = 0; i < njobs; i++) {
        fe_err err = {0};
        buf account;
        if (jobs[i].nstreams == 0)
            continue;
        buf_init(&account, sizeof jobs[i].account - 1);
        fe_rc rc = runner_source_account(jobs[i].conf, &account, &err);
        run_textf(jobs[i].account, sizeof jobs[i].account, "%s", buf_cstr(&account));
        buf_term(&account);
        if (rc == FE_OK)
            rc = source_id_check(conn, jobs[i].conf->name, jobs[i].def->type.name, jobs[i].account,
                                 &jobs[i].source_key, &err);
        if (rc == FE_OK)
            continue;
        log_error(NULL, "%s", err.msg);
        run_job_end(&jobs[i], SJ_FAILED, err.msg);
        /* A warehouse that went away is not a refusal of the source. */
        if (PQstatus(conn) != CONNECTION_OK)
            *lost = true;
        if (!first[0])
            run_textf(first, sizeof first, "not run: %s while checking source %s",
                      *lost ? "the warehouse went away" : "the run was refused",
                      jobs[i].conf->name);
    }
    if (!first[0])
        return true;
    for (int i = 0; i < njobs; i++)
        run_job_end(&jobs[i], SJ_FAILED, first);
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
    ctl->started_unix = (int64_t)time(NULL);
    ctl->metrics_file = config_run_str(cfg, "metrics_file");
    ctl->layout = config_warehouse_str(cfg, "layout");
}

/* The run's row and lock, its session settings, and the runs left `running` by
 * processes that are gone. The exit code when the run cannot start, else 0. */
static int open_run(PGconn *conn, run_ctl *ctl, const run_request *req)
{
    fe_err err = {0};
    char host[64], gone[1024];
    int ngone = 0;

    migrate_layout want = LAYOUT_AUTO;
    if (!migrate_layout_parse(ctl->layout, &want))
        want = LAYOUT_AUTO; /* the config's own check refuses other values */
    if (migrate_check(conn, &err) != FE_OK || migrate_check_layout(conn, want, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        fe_err rerr = {0};
        if (err.code == FE_ECONFIG &&
            runlog_run_refused(conn, version_text(), req->command_line, err.msg, &rerr) != FE_OK)
            log_debug(NULL, "could not record the refused run: %s", rerr.msg);
        return err.code == FE_ECONFIG ? RUN_EXIT_CONFIG : RUN_EXIT_WAREHOUSE;
    }
    if (runlog_run_start(conn, version_text(), req->command_line, &ctl->run_id, &err) != FE_OK) {
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
    if (run_session_setup(ctl, conn, &err) != FE_OK)
        log_warn(NULL, "session settings: %s", err.msg);
    if (PQserverVersion(conn) < 140000)
        log_debug(NULL,
                  "the warehouse server (%d) has no client_connection_check_interval "
                  "(PostgreSQL 14): a killed run's session that waits on a lock keeps its locks "
                  "until the wait ends",
                  PQserverVersion(conn));
    log_set_run_id(ctl->run_id); /* before the workers start: see core/log.h */
    log_event(LOG_INFO, NULL, "run_start",
              LOG_FIELDS(LOG_STR("version", FLOWETL_VERSION), LOG_INT("pid", getpid())),
              "run %" PRId64 " started", ctl->run_id);
    if (runlog_mark_abandoned(conn, ctl->run_id, &ngone, gone, sizeof gone, &err) != FE_OK)
        log_warn(NULL, "%s", err.msg);
    else if (ngone)
        log_warn(NULL, "marked abandoned (its process is gone): %s", gone);
    return 0;
}

/* With the run's connection open: the run's row, the sources' identities, the
 * streams, the report. *conn may be replaced (main_reconnect, while the workers
 * run). Returns the exit code. */
static int run_with_warehouse(PGconn **conn, run_ctl *ctl, source_job *jobs, int njobs,
                              const run_request *req)
{
    int code, sig;
    bool lost = false;
    if ((code = open_run(*conn, ctl, req)) != 0)
        return code;
    if (!check_identities(*conn, jobs, njobs, &lost)) {
        if (lost) {
            /* Nothing can be recorded now: the next run marks this one abandoned. */
            log_error(NULL, "the warehouse went away while the sources' identities were "
                            "checked: nothing was run");
            return RUN_EXIT_WAREHOUSE;
        }
        (void)run_finish_and_report(*conn, ctl, jobs, njobs, 0, false);
        return RUN_EXIT_CONFIG;
    }
    if (!fe_stop_requested(&ctl->stop))
        run_workers(conn, ctl, jobs, njobs, req);
    if ((sig = fe_stop_requested(&ctl->stop)) != 0)
        for (int i = 0; i < njobs; i++)
            run_job_end_logged(&jobs[i], SJ_INTERRUPTED,
                               "not started: the run was interrupted by %s",
                               runstop_signal_name(sig));
    return run_finish_and_report(*conn, ctl, jobs, njobs, sig, false);
}

/* A job for each source of the run's shard (every source without --shard), in
 * config order, with room for its type's streams. Returns how many; -1 when
 * memory ran out. */
static int make_jobs(const config *cfg, const run_request *req, run_ctl *ctl, source_job *jobs)
{
    int n = 0;
    for (size_t i = 0; i < cfg->nsources; i++) {
        const source_config *conf = &cfg->sources[i];
        if (req->shard_count && run_shard_of(conf->name, req->shard_count) != req->shard_index)
            continue;
        source_job *job = &jobs[n++];
        job->ctl = ctl;
        job->cfg = cfg;
        job->req = req;
        job->conf = conf;
        job->def = source_find(conf->type);
        job->cap = job->def ? job->def->nstreams : 0;
        if (job->cap > MAX_STREAMS)
            job->cap = MAX_STREAMS;
        if (!(job->streams = calloc(job->cap > 0 ? (size_t)job->cap : 1, sizeof *job->streams)))
            return -1;
    }
    if (req->shard_count && n == 0)
        log_info(NULL, "shard %d/%d: no source of this config hashes here", req->shard_index,
                 req->shard_count);
    else if (req->shard_count)
        log_info(NULL, "shard %d/%d: %d of the config's %zu sources", req->shard_index,
                 req->shard_count, n, cfg->nsources);
    return n;
}

static void free_jobs(source_job *jobs, int njobs)
{
    for (int i = 0; i < njobs; i++) {
        free(jobs[i].streams);
        free(jobs[i].slots);
    }
    free(jobs);
}

int runner_run(const config *cfg, const run_request *req)
{
    int code = RUN_EXIT_CONFIG, sig;
    bool selected = false;
    fe_err err = {0};
    PGconn *conn = NULL;
    runstop *rs = NULL;
    run_ctl ctl;
    source_job *jobs = calloc(cfg->nsources ? cfg->nsources : 1, sizeof *jobs);
    int njobs = 0;

    ctl_init(&ctl, cfg);
    if (jobs && (njobs = make_jobs(cfg, req, &ctl, jobs)) < 0) {
        njobs = (int)cfg->nsources; /* free_jobs frees what was allocated */
        log_error(NULL, "out of memory");
        code = RUN_EXIT_FAILED;
        goto cleanup;
    }
    if (!jobs) {
        log_error(NULL, "out of memory");
        code = RUN_EXIT_FAILED;
        goto cleanup;
    }
    if (!select_streams(cfg, jobs, njobs, req))
        goto cleanup;
    selected = true;
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
    code = run_with_warehouse(&conn, &ctl, jobs, njobs, req);
cleanup:
    /* A signal before the run could start still ends the process as signalled. */
    if ((sig = fe_stop_requested(&ctl.stop)) != 0 && code != RUN_EXIT_CONFIG)
        code = 128 + sig;
    /* Whatever ended the run (a usage error in the targets is no run). */
    if (selected)
        metrics_run_write(ctl.metrics_file, conn, &ctl, jobs, njobs, code);
    if (conn)
        PQfinish(conn);
    runstop_end(rs);
    pthread_cond_destroy(&ctl.cv);
    pthread_mutex_destroy(&ctl.mu);
    if (jobs)
        free_jobs(jobs, njobs);
    return code;
}
