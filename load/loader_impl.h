/* loader_impl: the state of a loader and the functions its files share, for
 * load/loader*.c only. The loader is one module (load/loader.h) in five files,
 * one concern each:
 *   loader.c         the connection, cursors, the checkpoint's begin, commit
 *                    and rollback, the row sink;
 *   loader_stage.c   putting rows: encoding into the staging buffers, COPY;
 *   loader_reject.c  bookkeeping of rejects: loader_put_reject and the rows
 *                    PostgreSQL refused (etl.reject rows, records dropped);
 *   loader_pipe.c    the pipelined commit: what it sends, how its results are read;
 *   loader_retry.c   the merge retry: the row a merge refused, found by bisection.
 * The SQL is load/loader_sql.h's. */
#ifndef FE_LOADER_IMPL_H
#define FE_LOADER_IMPL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"
#include "load/copy.h"
#include "load/loader.h"
#include "load/loader_sql.h"

/* A staging buffer is sent with COPY once it passes this size ... */
#define STAGE_FLUSH_BYTES (4u * 1024 * 1024)
/* ... so it only grows past it by one row; a row longer than this is refused. */
#define STAGE_MAX_BYTES (64u * 1024 * 1024)
/* Statements (and sync points) one commit may send; a commit sends about 40 when
 * every table has rows. */
#define PIPE_MAX 160
/* Rows PostgreSQL may refuse in one checkpoint before the checkpoint fails. Each
 * costs a reject and either a resend of its COPY buffer or a bisection of the
 * failing merge (about log2(rows) probes), so the cap bounds that work; more
 * refusals than this are a defect to fix, not bad records to skip. */
#define REFUSED_MAX 100

/* What a statement sent in the commit pipeline is, so that its result can be
 * counted and a failure named after it. */
typedef enum {
    PIPE_STEP,   /* a merge_step-like statement: its step_kind says what to count */
    PIPE_COMMIT, /* COMMIT: answers "ROLLBACK" when the transaction had failed */
    PIPE_SYNC,   /* a pipeline sync point */
} pipe_kind;

typedef struct {
    pipe_kind kind;
    step_kind counts;
    int merge; /* index into merge_steps; -1 for any other statement */
    char step[56];
    const char *table; /* the warehouse table whose rows it counts (static); NULL: none */
} pipe_entry;

/* A commit from the moment its staged rows are sent until its outcome is read:
 * what it needs to send its merges again, synchronously, after rows PostgreSQL
 * refused were taken out (merge_retry), also while the next checkpoint fills. */
typedef struct {
    bool active;
    int64_t staged[STG__COUNT]; /* rows staged per table (which steps to send) */
    unsigned full_read;
    char *cursor; /* NULL: none */
    bool purge;   /* stg_drop has rows: send purge_sqls */
    stream_stats *stats;
    int64_t refused; /* rejects the loader recorded for refused rows */
} commit_job;

struct loader {
    PGconn *conn;
    buf stage[STG__COUNT];
    int64_t staged[STG__COUNT]; /* rows put in the open checkpoint, per table */
    bool in_checkpoint;
    bool failed; /* a statement of the open checkpoint failed: only rollback helps */
    /* The open checkpoint's parameters $1..$3 as text. */
    char source_key[8];
    char run_id[24];
    char *stream;
    /* The source and stream whose natural keys the seen_* tables hold (NULL:
     * they are empty or stale and get truncated by the next loader_begin). */
    int seen_source_key;
    char *seen_stream;
    /* Rows staged into each table by committed checkpoints since this loader
     * last refreshed the warehouse table's statistics, and in all before. */
    int64_t since_analyze[STG__COUNT];
    int64_t before_analyze[STG__COUNT];
    /* Rows of each staging table when it was last analyzed on this connection. */
    int64_t stage_analyzed[STG__COUNT];
    /* The commit in flight: what was sent, in order (npipe = 0: none), what its
     * results counted so far, and the commit itself (where the counts go once it
     * succeeded). */
    pipe_entry *pipe;
    int npipe;
    stream_stats pipe_counts;
    commit_job job;
    /* The first failure of the pipeline read last: its merge step (-1: not a
     * merge), SQLSTATE and message (without the step name). */
    int fail_merge;
    char fail_state[6];
    char fail_msg[768];
    /* Rows of the open checkpoint PostgreSQL refused (each one reject), the
     * records they took with them ("o:<order_id>", see record_of), whether
     * stg_drop holds any, and whether a COPY savepoint is open. */
    int64_t refused;
    char **dropped;
    int ndropped;
    bool drops_staged;
    bool copy_savepoint;
    /* max_delete_fraction as the full reads' $4. */
    char delete_fraction[32];
    /* loader_commit_send opened the next checkpoint; its BEGIN is sent once the
     * commit in flight succeeded. */
    bool begin_deferred;
};

/* ---- loader.c ---- */

/* Empties the staging buffers and forgets the open checkpoint. */
void checkpoint_reset(loader *l);

/* ---- loader_stage.c ---- */

/* Sends table t's staging buffer with COPY (each refused row a reject). */
fe_rc stage_flush(loader *l, stage_table t, fe_err *err);
/* Checks that a row of t may be put: missing names its first natural id that is
 * NULL or "" (NULL: none is). Returns t's buffer and where the row starts in it. */
fe_rc row_begin(loader *l, stage_table t, const char *missing, buf **b, size_t *mark, fe_err *err);
/* Ends a row whose fields were appended (ok: every append succeeded). */
fe_rc row_end(loader *l, stage_table t, size_t mark, bool ok, fe_err *err);

/* ---- loader_reject.c ---- */

/* The record a staged row belongs to, which a refusal of the row rejects whole. */
typedef struct {
    char kind;             /* what else goes: 'o' the order's rows (order, lines, payments), 'p' the
                              payment's, 'c' the parent's components (its recipe), 0 nothing */
    const char *id;        /* order_id, payment_id or parent_id for kind */
    const char *record_id; /* etl.reject.record_id */
} refused_record;

/* Whether a refused COPY can be repaired by cutting out the row it names. */
bool copy_refusal_isolable(stage_table t, const copy_refusal *why);
/* Cuts the refused row out of t's buffer and records it (see loader_reject.c). */
fe_rc copy_refused(loader *l, stage_table t, const copy_refusal *why, fe_err *err);
/* f: the row's fields in COPY column order (stage_sqls[t].columns). */
refused_record record_of(stage_table t, const char *const *f, int n);
/* Records one reject for a refused row; direct: into stg_reject at once. */
fe_rc refused_reject(loader *l, bool direct, const char *record_id, const char *reason,
                     const char *raw, fe_err *err);
/* Has the commit purge the record's other staged rows (stg_drop). */
fe_rc record_drop(loader *l, const refused_record *r, fe_err *err);

/* ---- loader_pipe.c ---- */

/* Sends one statement into the commit pipeline; see loader_pipe.c. */
fe_rc pipe_send(loader *l, const char *step, const char *sql, step_kind counts, bool with_params,
                const char *extra, int merge, fe_err *err);
/* Reads every result of what was sent and leaves pipeline mode. */
fe_rc pipe_read(loader *l, fe_err *err);
/* Reads the outcome of the commit in flight (if any), retrying refused merges. */
fe_rc pipe_drain(loader *l, fe_err *err);
/* The commit in flight must have succeeded; sends a deferred BEGIN. */
fe_rc checkpoint_ready(loader *l, fe_err *err);
void job_end(loader *l);
/* Sends the whole commit of the open checkpoint, reads nothing. */
fe_rc commit_send(loader *l, const load_commit *c, stream_stats *stats, fe_err *err);
/* The statements after the savepoint fe_merge (sent again by merge_retry). */
fe_rc send_merge_phase(loader *l, fe_err *err);
/* Runs one statement of the commit synchronously with its $1..$3. */
PGresult *step_exec(loader *l, const char *sql);
bool step_ok(const PGresult *res);
/* Whether the commit in flight staged rows in any of tables (ST bits). */
bool commit_staged(const loader *l, unsigned tables);

/* ---- loader_retry.c ---- */

/* The commit failed in a merge for a value PostgreSQL refused. */
bool merge_refused(const loader *l);
/* Takes the refused row out and sends the merges again. */
fe_rc merge_retry(loader *l, fe_err *err);

#endif
