/* loader_pipe: the pipelined commit: the statements a commit sends, in one libpq
 * pipeline, and the reading of their results. See loader_impl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "load/loader_impl.h"
#include "load/pg.h"

/* A warehouse table's planner statistics are refreshed once this loader has
 * committed at least this many rows into it and as many as at the previous
 * refresh (so a long load analyzes each table a logarithmic number of times). */
#define ANALYZE_MIN_ROWS 2000

static const Oid step_types[4] = {PG_OID_INT2, PG_OID_INT8, PG_OID_TEXT, PG_OID_TEXT};

/* Sends one statement into the pipeline (entering pipeline mode when needed).
 * with_params: the checkpoint's $1..$3 (and $4 = extra when extra is set);
 * otherwise none (SET, ANALYZE, COMMIT). merge: the statement's index in
 * merge_steps, -1 for any other. Nothing is read here. */
fe_rc pipe_send(loader *l, const char *step, const char *sql, step_kind counts, bool with_params,
                const char *extra, int merge, fe_err *err)
{
    const char *params[4] = {l->source_key, l->run_id, l->stream, extra};
    int nparams = with_params ? (extra ? 4 : 3) : 0;

    if (l->npipe >= PIPE_MAX - 1) /* room is kept for the sync that ends it */
        return fe_err_set(err, FE_EINVAL, "%s: more than %d statements in one commit", step,
                          PIPE_MAX - 1);
    if (PQpipelineStatus(l->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(l->conn))
        return pg_error(err, l->conn, NULL, "entering pipeline mode");
    if (!PQsendQueryParams(l->conn, sql, nparams, nparams ? step_types : NULL,
                           nparams ? params : NULL, NULL, NULL, 0))
        return pg_error(err, l->conn, NULL, step);
    pipe_entry *e = &l->pipe[l->npipe++];
    e->kind = strcmp(sql, "COMMIT") == 0 ? PIPE_COMMIT : PIPE_STEP;
    e->counts = counts;
    e->merge = merge;
    snprintf(e->step, sizeof e->step, "%s", step);
    /* A merge step's name ends with its table: "merge fact_order". */
    e->table = merge >= 0 ? strrchr(merge_steps[merge].name, ' ') + 1 : NULL;
    return FE_OK;
}

/* Ends a pipeline segment: the server runs what was sent so far and answers. */
static fe_rc pipe_sync(loader *l, fe_err *err)
{
    if (l->npipe >= PIPE_MAX)
        return fe_err_set(err, FE_EINVAL, "more than %d statements in one commit", PIPE_MAX);
    if (!PQpipelineSync(l->conn))
        return pg_error(err, l->conn, NULL, "pipeline sync");
    l->pipe[l->npipe++] = (pipe_entry){.kind = PIPE_SYNC, .merge = -1};
    return FE_OK;
}

/* Adds d's row counts to to: per table, and the rows of tables past
 * STATS_TABLES to the totals only. */
static void stats_add(stream_stats *to, const stream_stats *d)
{
    table_rows rest = {NULL, d->inserted, d->updated, d->unchanged, d->deleted};
    for (int i = 0; i < STATS_TABLES && d->tables[i].table; i++) {
        const table_rows *t = &d->tables[i];
        stats_add_rows(to, t);
        rest.inserted -= t->inserted;
        rest.updated -= t->updated;
        rest.unchanged -= t->unchanged;
        rest.deleted -= t->deleted;
    }
    stats_add_rows(to, &rest);
}

/* Reads column col of the first row as a count. */
static int64_t result_count(const PGresult *res, int col)
{
    if (PQntuples(res) < 1 || PQnfields(res) <= col)
        return 0;
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void count_result(stream_stats *d, const pipe_entry *e, const PGresult *res)
{
    table_rows rows = {.table = e->table};
    if (e->counts == STEP_UPSERT) {
        int64_t ins = result_count(res, 0), upd = result_count(res, 1);
        int64_t staged = result_count(res, 2);
        rows.inserted = ins;
        rows.updated = upd;
        rows.unchanged = staged > ins + upd ? staged - ins - upd : 0;
    } else if (e->counts == STEP_DELETE) {
        rows.deleted = result_count(res, 0);
    } else {
        return;
    }
    stats_add_rows(d, &rows);
}

/* Checks one result against what was sent. A statement skipped because an
 * earlier one failed (PIPELINE_ABORTED) is not the cause: the first failure is. */
static fe_rc pipe_check(loader *l, const pipe_entry *e, PGresult *res, fe_err *err)
{
    ExecStatusType st = PQresultStatus(res);
    if (e->kind == PIPE_SYNC)
        return st == PGRES_PIPELINE_SYNC ? FE_OK : pg_error(err, l->conn, res, "pipeline sync");
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pg_error(err, l->conn, res, e->step);
    /* COMMIT answers "ROLLBACK" instead of failing when the transaction had
     * already failed; that must not pass for a commit. */
    if (e->kind == PIPE_COMMIT && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        return fe_err_set(err, FE_EPG, "commit: the server rolled the checkpoint back");
    count_result(&l->pipe_counts, e, res);
    return FE_OK;
}

/* Keeps what the first failure of a pipeline was, for merge_retry. */
static void pipe_note_failure(loader *l, const pipe_entry *e, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    fe_err msg = {0};
    pg_error(&msg, l->conn, res, NULL);
    l->fail_merge = e->merge;
    snprintf(l->fail_state, sizeof l->fail_state, "%s", state ? state : "");
    snprintf(l->fail_msg, sizeof l->fail_msg, "%s", msg.msg);
}

/* A statement after a COMMIT that succeeded failed (the statistics refresh, or
 * the connection broke after the COMMIT's answer): the checkpoint is in the
 * warehouse whatever follows, so this is a warning, never the commit's outcome;
 * reported as a failure, it would record a committed stream failed and refuse
 * the checkpoint opened behind it. res may be NULL (no answer). */
static void warn_after_commit(loader *l, const pipe_entry *e, const PGresult *res)
{
    fe_err msg = {0};
    if (res && PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
        return; /* skipped after an earlier failure, which was named */
    pg_error(&msg, l->conn, res, e->step[0] ? e->step : "after the commit");
    log_warn(l->stream,
             "source_key %s: the checkpoint committed, but a statement after it failed: %s",
             l->source_key, msg.msg);
}

/* Reads every result of what was sent and leaves pipeline mode. On failure err
 * names the first statement that failed, and fail_* say what it was. What was
 * sent after a COMMIT that succeeded is best effort (warn_after_commit). */
fe_rc pipe_read(loader *l, fe_err *err)
{
    fe_rc rc = FE_OK;
    bool committed = false;
    l->fail_merge = -1;
    l->fail_state[0] = l->fail_msg[0] = '\0';
    /* The server answers a segment only at its sync point. */
    if (l->pipe[l->npipe - 1].kind != PIPE_SYNC && (rc = pipe_sync(l, err)) != FE_OK) {
        l->npipe = 0; /* nothing would answer: the loader is failed for good */
        return rc;
    }
    for (int i = 0; i < l->npipe; i++) {
        const pipe_entry *e = &l->pipe[i];
        PGresult *res = PQgetResult(l->conn);
        if (!res) { /* the connection broke: nothing more will come */
            if (committed)
                warn_after_commit(l, e, NULL);
            else if (rc == FE_OK)
                rc = pg_error(err, l->conn, NULL, e->step[0] ? e->step : "commit");
            break;
        }
        fe_rc one = pipe_check(l, e, res, rc == FE_OK && !committed ? err : &(fe_err){0});
        if (committed && one != FE_OK)
            warn_after_commit(l, e, res);
        else if (rc == FE_OK && one != FE_OK) {
            pipe_note_failure(l, e, res);
            rc = one;
        }
        committed = committed || (e->kind == PIPE_COMMIT && rc == FE_OK);
        PQclear(res);
        if (e->kind != PIPE_SYNC) /* each statement's results end with a NULL */
            while ((res = PQgetResult(l->conn)) != NULL)
                PQclear(res);
    }
    l->npipe = 0;
    if (PQpipelineStatus(l->conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(l->conn) &&
        rc == FE_OK && !committed)
        rc = pg_error(err, l->conn, NULL, "leaving pipeline mode");
    return rc;
}

void job_end(loader *l)
{
    free(l->job.cursor);
    l->job = (commit_job){0};
}

/* Keeps what the commit of the open checkpoint needs until its outcome is read:
 * its options, what was staged, the rejects of refused rows so far. */
static fe_rc job_start(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    job_end(l);
    commit_job *j = &l->job;
    if (c->cursor && !(j->cursor = strdup(c->cursor)))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    memcpy(j->staged, l->staged, sizeof j->staged);
    j->full_read = c->full_read;
    j->purge = l->drops_staged;
    j->stats = stats;
    j->refused = l->refused;
    j->active = true;
    return FE_OK;
}

/* Runs one statement of the commit synchronously with its $1..$3 (the merge
 * retry's statements; the pipeline is not in use then). */
PGresult *step_exec(loader *l, const char *sql)
{
    const char *params[3] = {l->source_key, l->run_id, l->stream};
    return PQexecParams(l->conn, sql, 3, step_types, params, NULL, NULL, 0);
}

bool step_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

bool commit_staged(const loader *l, unsigned tables)
{
    for (int t = 0; t < STG__COUNT; t++)
        if ((tables & ST(t)) && l->job.staged[t] > 0)
            return true;
    return false;
}

/* Reads the outcome of the commit sent (npipe > 0), retrying its merges without
 * each row PostgreSQL refused in them. On success its counts and rejects go to
 * the stats given with the commit; on failure err names the first statement that
 * failed, and the checkpoint open behind the commit (if any) is failed too: only
 * loader_rollback helps. */
fe_rc pipe_drain(loader *l, fe_err *err)
{
    if (l->npipe == 0)
        return FE_OK;
    fe_rc rc = pipe_read(l, err);
    while (rc != FE_OK && merge_refused(l))
        rc = merge_retry(l, err);
    if (rc == FE_OK && l->job.stats) {
        stats_add(l->job.stats, &l->pipe_counts);
        l->job.stats->rejects += l->job.refused;
    }
    l->pipe_counts = (stream_stats){0};
    job_end(l);
    if (rc != FE_OK)
        l->failed = true;
    return rc;
}

/* Before the open checkpoint talks to the server: the commit in flight must have
 * succeeded, and the BEGIN that loader_commit_send deferred is sent. */
fe_rc checkpoint_ready(loader *l, fe_err *err)
{
    FE_TRY(pipe_drain(l, err));
    if (!l->begin_deferred)
        return FE_OK;
    fe_rc rc = pg_exec(l->conn, "BEGIN", err);
    if (rc != FE_OK) {
        l->failed = true;
        return fe_err_wrap(err, "begin checkpoint");
    }
    l->begin_deferred = false;
    return FE_OK;
}

static fe_rc send_step(loader *l, const char *step, const char *sql, step_kind counts, fe_err *err)
{
    return pipe_send(l, step, sql, counts, true, NULL, -1, err);
}

static fe_rc send_plain(loader *l, const char *step, const char *sql, fe_err *err)
{
    return pipe_send(l, step, sql, STEP_PLAIN, false, NULL, -1, err);
}

/* Temporary tables get no statistics from autovacuum: without them the planner
 * guesses their size from pages and picks joins that scan the warehouse table
 * (every checkpoint then costs as much as the table is large). A staging table
 * keeps its statistics when the commit empties it, and the planner scales its
 * row estimate by the pages it has at plan time, so one ANALYZE serves every
 * later checkpoint of similar rows: it is repeated only when a checkpoint stages
 * more than twice the rows of the last analyzed one. */
static fe_rc send_analyze_staging(loader *l, fe_err *err)
{
    buf sql;
    fe_rc rc = FE_OK;
    bool any = false;
    const int64_t *staged = l->job.staged;
    buf_init(&sql, 0);
    for (int t = 0; t < STG__COUNT; t++) {
        if (!staged[t] || t == STG_REJECT || staged[t] <= 2 * l->stage_analyzed[t])
            continue;
        if (!buf_puts(&sql, any ? ", " : "ANALYZE ") || !buf_puts(&sql, stage_sqls[t].name)) {
            rc = fe_err_set(err, FE_ENOMEM, "out of memory");
            goto done;
        }
        l->stage_analyzed[t] = staged[t];
        any = true;
    }
    if (any)
        rc = send_plain(l, "analyze staging", buf_cstr(&sql), err);
done:
    buf_term(&sql);
    return rc;
}

/* After the commit: ANALYZE the warehouse tables this loader has doubled (at
 * least ANALYZE_MIN_ROWS rows) since it last did, so the merges' joins are planned
 * for the table's real size; autovacuum is too slow for that during a first load
 * (its statistics say the table is nearly empty while the load fills it). Sent
 * after the COMMIT's sync point, so each runs in its own transaction. Best
 * effort: ANALYZE of a table this role does not own only warns, and one that
 * fails (a lock_timeout behind another session's lock) is logged, not the
 * commit's outcome (pipe_read). */
static fe_rc send_refresh_statistics(loader *l, fe_err *err)
{
    bool any = false;
    for (int t = 0; t < STG__COUNT; t++) {
        l->since_analyze[t] += l->job.staged[t];
        int64_t since = l->since_analyze[t];
        if (!stage_sqls[t].analyze || since < ANALYZE_MIN_ROWS || since < l->before_analyze[t])
            continue;
        char sql[128], step[56];
        snprintf(sql, sizeof sql, "ANALYZE %s", stage_sqls[t].analyze);
        snprintf(step, sizeof step, "analyze %.*s", (int)strcspn(stage_sqls[t].analyze, " "),
                 stage_sqls[t].analyze);
        FE_TRY(send_plain(l, step, sql, err));
        l->before_analyze[t] += since;
        l->since_analyze[t] = 0;
        any = true;
    }
    return any ? pipe_sync(l, err) : FE_OK;
}

/* The statements between the last COPY and the merges: purge the rows of records
 * PostgreSQL refused, remove older duplicates, record the staged keys of the
 * dimensions (for a full read that ends in a later checkpoint). */
static fe_rc send_stage_finish(loader *l, fe_err *err)
{
    char step[64];
    for (size_t i = 0; l->job.purge && i < PURGE_STEPS; i++)
        FE_TRY(send_step(l, "purge refused records", loader_sql_text(purge_files[i]), STEP_PLAIN,
                         err));
    for (int t = 0; t < STG__COUNT; t++) {
        if (!l->job.staged[t] || !stage_sqls[t].dedupe)
            continue;
        snprintf(step, sizeof step, "dedupe %s", stage_sqls[t].name);
        FE_TRY(send_step(l, step, stage_sqls[t].dedupe, STEP_PLAIN, err));
        if (!stage_sqls[t].seen)
            continue;
        snprintf(step, sizeof step, "record keys of %s", stage_sqls[t].name);
        FE_TRY(send_step(l, step, stage_sqls[t].seen, STEP_PLAIN, err));
    }
    return send_analyze_staging(l, err);
}

/* Switches the planner between index joins (fact steps) and its defaults. */
static fe_rc send_index_joins(loader *l, bool on, fe_err *err)
{
    const char *const *sqls = on ? index_joins_on_sqls : index_joins_off_sqls;
    for (size_t i = 0; i < INDEX_JOINS_SQLS; i++)
        FE_TRY(send_plain(l, "planner settings", sqls[i], err));
    return FE_OK;
}

static fe_rc send_merges(loader *l, fe_err *err)
{
    bool index_joins = false;
    for (size_t i = 0; i < MERGE_STEPS; i++) {
        const merge_step *s = &merge_steps[i];
        if (!commit_staged(l, s->when))
            continue;
        bool want = (s->when & FACT_STAGES) == s->when;
        if (want != index_joins)
            FE_TRY(send_index_joins(l, want, err));
        index_joins = want;
        FE_TRY(pipe_send(l, s->name, loader_sql_text(s->file), s->kind, true, NULL, (int)i, err));
    }
    return index_joins ? send_index_joins(l, false, err) : FE_OK;
}

/* For each table whose full read ended: marks the rows the stream owns but did
 * not return as deleted (unless they are more than max_delete_fraction of them:
 * the statement then fails), makes the stream the owner of every row it
 * returned, then forgets the keys. */
static fe_rc send_full_reads(loader *l, unsigned full_read, fe_err *err)
{
    char step[64];
    for (int t = 0; t < STG__COUNT; t++) {
        const stage_sql *q = &stage_sqls[t];
        if (!(full_read & ST(t)) || !q->full_read)
            continue;
        snprintf(step, sizeof step, "full read %s", q->name + 4);
        FE_TRY(send_plain(l, step, full_read_joins_on_sql, err));
        FE_TRY(pipe_send(l, step, loader_sql_text(q->full_read), STEP_DELETE, true,
                         l->delete_fraction, -1, err));
        l->pipe[l->npipe - 1].table = q->target;
        FE_TRY(send_step(l, step, loader_sql_text(q->claim), STEP_PLAIN, err));
        FE_TRY(send_plain(l, step, full_read_joins_off_sql, err));
        FE_TRY(send_plain(l, step, q->seen_truncate, err));
    }
    return FE_OK;
}

/* The commit's statements after the savepoint fe_merge: merges, full reads,
 * cursor, rejects, COMMIT, sync. Sent again by merge_retry. */
fe_rc send_merge_phase(loader *l, fe_err *err)
{
    FE_TRY(send_merges(l, err));
    FE_TRY(send_full_reads(l, l->job.full_read, err));
    if (l->job.cursor)
        FE_TRY(pipe_send(l, "write cursor to etl.sync_state", loader_sql_text(cursor_upsert_file),
                         STEP_PLAIN, true, l->job.cursor, -1, err));
    if (l->job.staged[STG_REJECT])
        FE_TRY(send_step(l, "write etl.reject", loader_sql_text(rejects_insert_file), STEP_PLAIN,
                         err));
    FE_TRY(send_plain(l, "commit", "COMMIT", err));
    return pipe_sync(l, err);
}

/* Sends the whole commit of the open checkpoint as one pipeline: staged rows
 * (COPY, synchronous, each refused row a reject), purge and de-duplication, a
 * savepoint, merges, full reads, cursor, rejects, COMMIT, then the statistics
 * refresh; returns without reading any result. */
fe_rc commit_send(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    FE_TRY(checkpoint_ready(l, err));
    for (int t = 0; t < STG__COUNT; t++) /* rejects last: refusals add to them */
        FE_TRY(stage_flush(l, t, err));  /* "COPY stg_x: <message>" */
    FE_TRY(job_start(l, c, stats, err));
    FE_TRY(send_stage_finish(l, err));
    FE_TRY(send_plain(l, "savepoint before the merges", "SAVEPOINT fe_merge", err));
    FE_TRY(send_merge_phase(l, err));
    return send_refresh_statistics(l, err);
}
