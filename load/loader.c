/* loader: the connection, cursors and the checkpoint's begin, commit and
 * rollback; the other concerns are the files listed in loader_impl.h. */
#include "load/loader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/loader_impl.h"
#include "load/pg.h"

/* max_delete_fraction when the runner sets none. */
#define DEFAULT_DELETE_FRACTION 0.5

loader *loader_open(const char *dsn, fe_err *err)
{
    if (loader_sql_check(err) != FE_OK)
        return NULL;
    loader *l = calloc(1, sizeof *l);
    if (!l) {
        fe_err_set(err, FE_ENOMEM, "out of memory");
        return NULL;
    }
    for (int t = 0; t < STG__COUNT; t++)
        buf_init(&l->stage[t], STAGE_MAX_BYTES);
    loader_set_max_delete_fraction(l, DEFAULT_DELETE_FRACTION);
    l->pipe = calloc(PIPE_MAX, sizeof *l->pipe);
    l->dropped = calloc(REFUSED_MAX, sizeof *l->dropped);
    if (!l->pipe || !l->dropped) {
        fe_err_set(err, FE_ENOMEM, "out of memory");
        goto fail;
    }
    l->conn = pg_connect(dsn, err);
    if (!l->conn)
        goto fail;
    if (pg_exec(l->conn, stage_ddl_sql, err) != FE_OK) {
        fe_err_wrap(err, "creating the staging tables");
        goto fail;
    }
    /* A checkpoint's statements each touch a few thousand rows through index
     * probes, but forced nested loops give them plan costs above jit_above_cost:
     * the server then spends up to hundreds of milliseconds compiling a statement
     * that runs in twenty ("complete fact_order_line" at scale 10: 0.84 s with JIT,
     * 0.29 s without). */
    if (pg_exec(l->conn, "SET jit = off", err) != FE_OK) {
        fe_err_wrap(err, "session settings");
        goto fail;
    }
    return l;
fail:
    loader_free(l);
    return NULL;
}

void loader_free(loader *l)
{
    if (!l)
        return;
    for (int t = 0; t < STG__COUNT; t++)
        buf_term(&l->stage[t]);
    if (l->conn)
        PQfinish(l->conn); /* ends the session: its advisory locks go with it */
    free(l->stream);
    free(l->seen_stream);
    free(l->pipe);
    for (int i = 0; i < l->ndropped; i++)
        free(l->dropped[i]);
    free(l->dropped);
    free(l->job.cursor);
    free(l);
}

void loader_set_max_delete_fraction(loader *l, double fraction)
{
    if (!(fraction >= 0)) /* NaN too */
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    snprintf(l->delete_fraction, sizeof l->delete_fraction, "%.17g", fraction);
}

PGconn *loader_conn(loader *l)
{
    return l->conn;
}

/* ---- outside checkpoints ---------------------------------------------------- */

fe_rc loader_local_date(loader *l, const char *tz, char out[11], fe_err *err)
{
    const char *params[1] = {tz && *tz ? tz : "UTC"};
    PGresult *r = PQexecParams(l->conn, "SELECT to_char(now() AT TIME ZONE $1, 'YYYY-MM-DD')", 1,
                               NULL, params, NULL, NULL, 0);
    fe_rc rc = FE_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 10)
        rc = fe_err_set(err, FE_EPG, "today's date in time zone %.60s: %s", params[0],
                        PQerrorMessage(l->conn));
    else
        memcpy(out, PQgetvalue(r, 0, 0), 11);
    PQclear(r);
    return rc;
}

fe_rc loader_get_cursor(loader *l, int source_key, const char *stream, char **cursor, fe_err *err)
{
    char key[16];
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[2] = {key, stream};

    *cursor = NULL;
    PGresult *res = pg_query(l->conn,
                             "SELECT cursor::text FROM etl.sync_state"
                             " WHERE source_key = $1 AND stream = $2 AND cursor IS NOT NULL",
                             2, params, err);
    if (!res)
        return fe_err_wrap(err, "reading the cursor of %s", stream);
    if (PQntuples(res) == 1) {
        *cursor = strdup(PQgetvalue(res, 0, 0));
        if (!*cursor) {
            PQclear(res);
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        }
    }
    PQclear(res);
    return FE_OK;
}

fe_rc loader_clear_cursor(loader *l, int source_key, const char *stream, fe_err *err)
{
    char key[16];
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[2] = {key, stream};

    if (l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_clear_cursor inside a checkpoint");
    PGresult *res =
        pg_query(l->conn, "DELETE FROM etl.sync_state WHERE source_key = $1 AND stream = $2", 2,
                 params, err);
    if (!res)
        return fe_err_wrap(err, "clearing the cursor of %s", stream);
    PQclear(res);
    return FE_OK;
}

/* ---- checkpoint ------------------------------------------------------------- */

void checkpoint_reset(loader *l)
{
    for (int t = 0; t < STG__COUNT; t++) {
        buf_reset(&l->stage[t]);
        l->staged[t] = 0;
    }
    for (int i = 0; i < l->ndropped; i++)
        free(l->dropped[i]);
    l->ndropped = 0;
    l->refused = 0;
    l->drops_staged = false;
    l->copy_savepoint = false;
    l->in_checkpoint = false;
    l->failed = false;
    l->begin_deferred = false;
}

void loader_rollback(loader *l)
{
    if (!l || !l->conn)
        return;
    fe_err ignored = {0};
    (void)pipe_drain(l, &ignored); /* the commit in flight, if any: its outcome */
    job_end(l);
    if (PQtransactionStatus(l->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(l->conn, "ROLLBACK");
        PQclear(res);
    }
    /* The rollback may have undone a truncate of the seen tables or the keys of
     * this checkpoint: have the next checkpoint start them afresh. */
    free(l->seen_stream);
    l->seen_stream = NULL;
    checkpoint_reset(l);
}

/* The seen_* tables collect the keys of one stream of one source; a checkpoint of
 * another one starts them afresh (inside its transaction). */
static fe_rc seen_switch(loader *l, int source_key, const char *stream, fe_err *err)
{
    if (l->seen_stream && l->seen_source_key == source_key && strcmp(l->seen_stream, stream) == 0)
        return FE_OK;
    free(l->seen_stream);
    l->seen_stream = strdup(stream);
    l->seen_source_key = source_key;
    if (!l->seen_stream)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return pg_exec(l->conn, seen_truncate_sql, err);
}

fe_rc loader_begin(loader *l, int source_key, const char *stream, int64_t run_id, fe_err *err)
{
    if (l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_begin: a checkpoint is already open");
    FE_TRY(pipe_drain(l, err));
    if (!stream || !*stream)
        return fe_err_set(err, FE_EINVAL, "loader_begin: no stream name");
    char *copy = strdup(stream);
    if (!copy)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    free(l->stream);
    l->stream = copy;
    snprintf(l->source_key, sizeof l->source_key, "%d", source_key);
    snprintf(l->run_id, sizeof l->run_id, "%" PRId64, run_id);

    fe_rc rc = pg_exec(l->conn, "BEGIN", err);
    if (rc != FE_OK)
        return fe_err_wrap(err, "begin checkpoint");
    checkpoint_reset(l);
    l->in_checkpoint = true;
    if ((rc = seen_switch(l, source_key, stream, err)) != FE_OK) {
        loader_rollback(l);
        return fe_err_wrap(err, "begin checkpoint");
    }
    return FE_OK;
}
/* Checks the state for a commit; on a failed checkpoint rolls it back. */
static fe_rc commit_allowed(loader *l, fe_err *err)
{
    if (!l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_commit without an open checkpoint");
    if (l->failed) {
        loader_rollback(l);
        return fe_err_set(err, FE_EINVAL,
                          "loader_commit after a failure in the checkpoint: rolled back");
    }
    return FE_OK;
}

/* A commit without a cursor or full read (c == NULL). */
static const load_commit no_commit_options = {NULL, 0};

fe_rc loader_commit(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    fe_rc rc;

    FE_TRY(commit_allowed(l, err));
    if ((rc = commit_send(l, c ? c : &no_commit_options, stats, err)) != FE_OK ||
        (rc = pipe_drain(l, err)) != FE_OK)
        goto fail;
    checkpoint_reset(l);
    return FE_OK;
fail:
    loader_rollback(l);
    return rc;
}

fe_rc loader_commit_send(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    fe_rc rc;

    FE_TRY(commit_allowed(l, err));
    if ((rc = commit_send(l, c ? c : &no_commit_options, stats, err)) != FE_OK) {
        loader_rollback(l);
        return rc;
    }
    checkpoint_reset(l);
    l->in_checkpoint = true;
    l->begin_deferred = true;
    return FE_OK;
}

fe_rc loader_wait(loader *l, fe_err *err)
{
    return pipe_drain(l, err);
}

/* ---- the row sink ---- */

#define SINK_FN(table, TABLE)                                                                      \
    static fe_rc sink_##table(void *l, const row_##table *r, fe_err *e)                            \
    {                                                                                              \
        return loader_put_##table(l, r, e);                                                        \
    }
ROW_TABLES(SINK_FN)

row_sink loader_row_sink(loader *l)
{
    row_sink s = {.ctx = l};
#define SINK_SET(table, TABLE) s.table = sink_##table;
    ROW_TABLES(SINK_SET)
#undef SINK_SET
    return s;
}
