/* loader_retry: a row PostgreSQL refuses inside a merge, found by bisecting the
 * staged rows under savepoints and taken out before the merges run again. See
 * loader_impl.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/copy.h"
#include "load/loader_impl.h"
#include "load/pg.h"

/* ---- merge retry: a row PostgreSQL refuses inside a merge ------------------- */

/* The commit failed in a merge step for a value PostgreSQL refused (class 22,
 * data exception); its transaction is still open, failed, after the savepoint
 * fe_merge taken before the merges (staging is intact behind it). */
bool merge_refused(const loader *l)
{
    return l->job.active && l->fail_merge >= 0 && strncmp(l->fail_state, "22", 2) == 0 &&
           PQtransactionStatus(l->conn) == PQTRANS_INERROR;
}

/* Switches the planner between index joins and its defaults, at once. */
static fe_rc index_joins_set(loader *l, bool on, fe_err *err)
{
    const char *const *sqls = on ? index_joins_on_sqls : index_joins_off_sqls;
    for (size_t i = 0; i < INDEX_JOINS_SQLS; i++)
        if (pg_exec(l->conn, sqls[i], err) != FE_OK)
            return fe_err_wrap(err, "merge retry: planner settings");
    return FE_OK;
}

/* One question of merge_blame: with the tables order[0..j) whole, order[j] up to
 * seq `last` and order[j+1..n) empty, do the merge steps up to `step` fail with
 * a data exception? Under a savepoint that is rolled back: staging and the
 * warehouse stay as they were. Another failure is an error of its own. */
static fe_rc merge_probe(loader *l, int step, const stage_table *order, int n, int j, int64_t last,
                         bool *fails, fe_err *err)
{
    char sql[96], last_text[24];
    fe_rc rc = FE_OK;

    *fails = false;
    if (pg_exec(l->conn, "SAVEPOINT fe_probe", err) != FE_OK)
        return fe_err_wrap(err, "merge retry");
    for (int i = j; i < n && rc == FE_OK; i++) {
        if (i == j && last == INT64_MAX)
            continue;
        snprintf(last_text, sizeof last_text, "%" PRId64, i == j ? last : 0);
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE seq > $1", stage_sqls[order[i]].name);
        const char *params[1] = {last_text};
        PGresult *res = pg_query(l->conn, sql, 1, params, err);
        if (!res)
            rc = fe_err_wrap(err, "merge retry");
        PQclear(res);
    }
    bool index_joins = false;
    for (int k = 0; k <= step && rc == FE_OK && !*fails; k++) {
        if (!commit_staged(l, merge_steps[k].when))
            continue;
        /* The plans of send_merges (a fact step scanning a large warehouse table
         * would make every probe slow); the rollback below undoes the settings. */
        bool want = (merge_steps[k].when & FACT_STAGES) == merge_steps[k].when;
        if (want != index_joins && (rc = index_joins_set(l, want, err)) != FE_OK)
            break;
        index_joins = want;
        PGresult *res = step_exec(l, loader_sql_text(merge_steps[k].file));
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!step_ok(res)) {
            if (state && strncmp(state, "22", 2) == 0)
                *fails = true;
            else
                rc = pg_error(err, l->conn, res, merge_steps[k].name);
        }
        PQclear(res);
    }
    fe_err undo = {0};
    if (pg_exec(l->conn, "ROLLBACK TO SAVEPOINT fe_probe; RELEASE SAVEPOINT fe_probe", &undo) !=
            FE_OK &&
        rc == FE_OK) {
        *err = undo;
        rc = fe_err_wrap(err, "merge retry");
    }
    return rc;
}

/* Smallest and largest seq staged in table t; empty: false. */
static fe_rc seq_range(loader *l, stage_table t, int64_t *lo, int64_t *hi, bool *any, fe_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT min(seq), max(seq) FROM %s", stage_sqls[t].name);
    PGresult *res = pg_query(l->conn, sql, 0, NULL, err);
    if (!res)
        return fe_err_wrap(err, "merge retry");
    *any = !PQgetisnull(res, 0, 0);
    if (*any) {
        *lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return FE_OK;
}

/* Finds the staged row that makes merge step `step` fail, by bisection: a
 * prefix search over the staged rows (the step's own tables first, each in seq
 * order), one probe per question. About log2(rows) + tables probes, each running
 * the merges up to the step. found = false when the merges fail even with no
 * staged row, or no longer fail at all: nothing to blame. */
static fe_rc merge_blame(loader *l, int step, stage_table *table, int64_t *seq, bool *found,
                         fe_err *err)
{
    stage_table order[STG__COUNT];
    int n = 0;
    bool fails = false, any = false;
    int64_t lo = 0, hi = 0;

    *found = false;
    for (int pass = 0; pass < 2; pass++)
        for (int t = 0; t < STG__COUNT; t++)
            if (t != STG_REJECT && l->job.staged[t] &&
                ((merge_steps[step].when & ST(t)) != 0) == (pass == 0))
                order[n++] = (stage_table)t;
    if (n == 0)
        return FE_OK;
    FE_TRY(merge_probe(l, step, order, n, 0, 0, &fails, err));
    if (fails)
        return FE_OK;
    for (int j = 0; j < n; j++) {
        FE_TRY(merge_probe(l, step, order, n, j, INT64_MAX, &fails, err));
        if (!fails)
            continue;
        FE_TRY(seq_range(l, order[j], &lo, &hi, &any, err));
        if (!any)
            return FE_OK;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            FE_TRY(merge_probe(l, step, order, n, j, mid, &fails, err));
            if (fails)
                hi = mid;
            else
                lo = mid + 1;
        }
        *table = order[j];
        *seq = lo;
        *found = true;
        return FE_OK;
    }
    return FE_OK;
}

/* Runs a statement of the commit synchronously and discards its result. */
static fe_rc step_run(loader *l, const char *sql, const char *what, fe_err *err)
{
    PGresult *res = step_exec(l, sql);
    fe_rc rc = step_ok(res) ? FE_OK : pg_error(err, l->conn, res, what);
    PQclear(res);
    return rc;
}

/* Reads staged row (t, seq) as its fields (COPY column order) and as COPY text. */
static PGresult *staged_row(loader *l, stage_table t, const char *seq, buf *text, fe_err *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE seq = $1", stage_sqls[t].columns,
             stage_sqls[t].name);
    const char *params[1] = {seq};
    PGresult *res = pg_query(l->conn, sql, 1, params, err);
    if (!res)
        return NULL;
    bool ok = PQntuples(res) == 1;
    for (int i = 0; ok && i < PQnfields(res); i++)
        ok = copy_field(text, PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i), i == 0);
    if (!ok) {
        PQclear(res);
        fe_err_set(err, FE_EPG, "merge retry: staged row %s of %s not found", seq,
                   stage_sqls[t].name);
        return NULL;
    }
    return res;
}

/* Rejects staged row (t, seq), which made merge step `step` fail with msg, with
 * its record: the row leaves staging, and an order's lines and payments (or a
 * parent's other components) are purged with it. A dimension row's key stays in
 * seen_* (recorded before the merges), so a full read keeps its member. */
static fe_rc merge_reject_row(loader *l, int step, const char *msg, stage_table t, int64_t seq,
                              fe_err *err)
{
    char seq_text[24], reason[1024];
    const char *f[32];
    buf text;
    fe_rc rc = FE_OK;

    snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
    buf_init(&text, 0);
    PGresult *row = staged_row(l, t, seq_text, &text, err);
    if (!row) {
        buf_term(&text);
        return FE_EPG;
    }
    int n = PQnfields(row) < 32 ? PQnfields(row) : 32;
    for (int i = 0; i < n; i++)
        f[i] = PQgetisnull(row, 0, i) ? NULL : PQgetvalue(row, 0, i);
    refused_record r = record_of(t, f, n);
    snprintf(reason, sizeof reason, "PostgreSQL refused %s in %s: %s", stage_sqls[t].name + 4,
             merge_steps[step].name, msg);
    if ((rc = refused_reject(l, true, r.record_id, reason, buf_cstr(&text), err)) != FE_OK ||
        (rc = record_drop(l, &r, err)) != FE_OK)
        goto done;
    for (size_t i = 0; r.kind && i < PURGE_STEPS && rc == FE_OK; i++)
        rc = step_run(l, loader_sql_text(purge_files[i]), "merge retry: purging a refused record",
                      err);
    if (rc == FE_OK) {
        char sql[96];
        const char *params[1] = {seq_text};
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE seq = $1", stage_sqls[t].name);
        PGresult *res = pg_query(l->conn, sql, 1, params, err);
        rc = res ? FE_OK : fe_err_wrap(err, "merge retry");
        PQclear(res);
    }
done:
    PQclear(row);
    buf_term(&text);
    return rc;
}

/* The commit failed in a merge for a row PostgreSQL refused: goes back to the
 * savepoint before the merges, finds the row (merge_blame), rejects it with its
 * record, and sends the merges, full reads, cursor, rejects and COMMIT again,
 * then reads their outcome. Runs wherever the outcome is read, so also for a
 * commit in flight while the next checkpoint fills (its BEGIN is deferred until
 * this one ended). Each round rejects one record; refused_reject caps them. */
fe_rc merge_retry(loader *l, fe_err *err)
{
    int step = l->fail_merge;
    char msg[sizeof l->fail_msg];
    fe_err first = *err;
    stage_table t = STG_ORDER;
    int64_t seq = 0;
    bool found = false;

    snprintf(msg, sizeof msg, "%s", l->fail_msg);
    l->fail_merge = -1;
    if (pg_exec(l->conn, "ROLLBACK TO SAVEPOINT fe_merge", err) != FE_OK)
        return fe_err_wrap(err, "undoing a refused merge");
    FE_TRY(merge_blame(l, step, &t, &seq, &found, err));
    if (!found) {
        *err = first;
        return first.code ? first.code : FE_EPG;
    }
    FE_TRY(merge_reject_row(l, step, msg, t, seq, err));
    /* The rows taken out stay out should the next attempt fail too. */
    if (pg_exec(l->conn, "RELEASE SAVEPOINT fe_merge; SAVEPOINT fe_merge", err) != FE_OK)
        return fe_err_wrap(err, "merge retry");
    l->pipe_counts = (stream_stats){0};
    FE_TRY(send_merge_phase(l, err));
    return pipe_read(l, err);
}
