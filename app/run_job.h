/* run_job: what `flowetl run`'s main thread (runner.c) and its worker threads
 * (run_worker.c) share: the run's control block, one source's job, and the
 * outcome of each of its streams. Internal to the runner. */
#ifndef FE_RUN_JOB_H
#define FE_RUN_JOB_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "core/stats.h"
#include "core/stop.h"
#include "sources/source.h"
#include "app/runner.h"
#include "app/progress.h"

#define MAX_STREAMS 32
/* Stream threads of one source at most (config `stream_parallel` is capped here). */
#define MAX_STREAM_THREADS 8
#define US_PER_S 1000000LL

/* A stream's outcome (SJ_PENDING: not decided yet). */
typedef enum { SJ_PENDING, SJ_SUCCEEDED, SJ_FAILED, SJ_INTERRUPTED, SJ_SKIPPED } sj_status;

typedef struct {
    const stream_def *def;
    sj_status status;
    bool started;          /* its run function was called */
    bool claimed;          /* a stream thread took it (it decides its status) */
    int slot;              /* that thread's index in source_job.slots */
    bool recorded;         /* its etl.run_stream row holds its outcome */
    bool cut;              /* still running at the run's deadline: its stats are unknown */
    bool verify_failed;    /* committed, but its verification (verify = fail) found differences */
    int64_t run_stream_id; /* the row written when it started; 0 = none */
    int source_key;        /* for its row; 0 = not registered (NULL) */
    stream_stats stats;
    bool refresh; /* run --full-refresh named it: a persistent request is stored */
    double seconds;
    char error[sizeof(((fe_err *)0)->msg)];
} stream_job;

/* One warehouse session of a source job: the worker's own (slot 0, which holds
 * the source's lock) or that of one of its stream threads. Published for the
 * main thread (under ctl->mu), which cancels and watches its statements. */
typedef struct {
    PGcancel *cancel; /* of the loader's session; NULL when none */
    bool cancel_busy; /* the main thread is sending a cancel with it */
    int backend_pid;
    bool in_stream; /* a stream (or its rollback) is running */
    const char *stream_now;
    int64_t stream_since_us;
    /* The main thread's own bookkeeping of long statements. */
    char wait_seen[40];
    int wait_logged_s;
} stream_slot;

typedef struct source_job source_job;

/* What the workers and the main thread share; mu guards the fields of each
 * source_job marked "published", every stream_job's status, started, claimed,
 * slot and run_stream_id (a stream's stats and seconds are final once its
 * status is decided), the queue's head and lost. cv is broadcast whenever one
 * of those changes. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running; /* worker threads (of the pool) not finished */
    /* The pool's queue: the run's jobs in config order; a worker takes
     * jobs[next_job] and moves next_job on. */
    source_job *jobs;
    int njobs;
    int next_job;
    /* A job lost the warehouse (run_job_lost): the jobs still queued are not
     * started; lost_msg says why. */
    bool lost;
    char lost_msg[512];
    fe_stop stop;
    int64_t run_id;
    int64_t started_unix;     /* when the run started (wall clock), for its metrics */
    const char *metrics_file; /* [run] metrics_file; NULL or "": none */
    const char *layout;       /* [warehouse] layout: auto, single or citus */
    const char *dsn;
    char app_name[64];     /* application_name of the run's sessions */
    char lock_timeout[24]; /* milliseconds, for SET lock_timeout */
    char lock_timeout_text[24];
    progress *progress; /* live progress lines; NULL = none (app/progress.h) */
} run_ctl;

struct source_job {
    run_ctl *ctl;
    const config *cfg;
    const run_request *req;
    const source_config *conf;
    const source_def *def;
    char account[256];   /* identity: dw.dim_source.account */
    int source_key;      /* the identity's row; 0 until it exists */
    stream_job *streams; /* the selected ones: nstreams of cap (the source type's streams) */
    int nstreams, cap;
    stream_window window; /* run --from/--to in the source's zone (req->window_from set) */
    bool warehouse_lost;  /* the worker's connection broke and could not be made again */
    char lost_at[16];     /* HH:MM:SS UTC */
    char lost_msg[512];
    /* Stream threads (config stream_parallel, at most the job's streams): slot 0
     * is the worker thread itself, on the session that holds the source's lock.
     * Allocated (nslots) before the pool starts; NULL for a job with no stream. */
    int nslots;
    stream_slot *slots; /* published (under ctl->mu) */
};

static inline int64_t run_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* snprintf for messages that may be cut: a cut never splits a UTF-8 character
 * (the text goes into etl.* columns, which refuse invalid UTF-8). */
void run_textf(char *dst, size_t size, const char *fmt, ...) FE_PRINTF(3, 4);

/* etl.run_stream's word for a status ("running" for SJ_PENDING). */
const char *run_status_name(sj_status s);

/* The stream threads a job of source conf runs (its `stream_parallel`; 0: 4 when
 * def shares its state between threads and the run's sources are not queued
 * (queued: more selected sources than max_sources), else 1; at most its streams
 * and MAX_STREAM_THREADS, at least 1). */
int run_job_threads(const source_config *conf, const source_def *def, int nstreams, bool queued);

/* A worker thread of the run's pool (pthread entry; arg is the run_ctl). Takes
 * the queue's next job with streams until none is left or the run is asked to
 * stop (the jobs left stay pending: the runner ends them "not started"), and
 * runs each: connects, checks the zone, takes the source's lock, opens the
 * source (its first request), registers it and runs its streams on
 * job->nslots stream threads (itself and nslots - 1 more, each with its own
 * warehouse session and HTTP client and the source's one rate limiter), a
 * stream starting once the streams its source declares it after
 * (source_def.deps) ended; ends every stream it does not run with a status and
 * a reason. A job taken after the warehouse went away (ctl->lost) is not
 * started: its streams fail with "not run: the warehouse went away: ...".
 * Decrements ctl->running (and signals ctl->cv) when it returns. */
void *run_pool_worker(void *arg);

/* The session settings of every connection of the run (application_name,
 * lock_timeout). */
fe_rc run_session_setup(const run_ctl *ctl, PGconn *conn, fe_err *err) FE_MUST_CHECK;

/* Writes a decided stream's outcome into its row (inserting the row of a stream
 * that never started). True when done or nothing to do; false when conn cannot
 * do it (NULL, broken, or the statement failed), with why (may be NULL) saying so. */
bool run_stream_record(PGconn *conn, int64_t run_id, const char *source_name, stream_job *sj,
                       fe_err *why);

/* Ends every stream of the job not ended yet with status and msg (quietly);
 * returns how many. */
int run_job_end(source_job *job, sj_status status, const char *msg);

/* run_job_end, logged: a line for each failed stream ("NAME.stream failed: msg"),
 * one line for a source skipped (another run holds it), none for interrupted
 * streams (the run's summary says it). */
void run_job_end_logged(source_job *job, sj_status status, const char *fmt, ...) FE_PRINTF(3, 4);

/* Notes that the job's worker lost the warehouse (now, with msg). */
void run_job_lost(source_job *job, const char *msg);

#endif
