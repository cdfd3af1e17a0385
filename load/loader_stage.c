/* loader_stage: putting rows into the staging buffers and sending them with
 * COPY. See loader_impl.h. */
#include <stdio.h>
#include <string.h>

#include "load/loader_impl.h"
#include "load/pg.h"
#include "load/stage_row.h"

/* Opens the savepoint a COPY runs under, releasing the previous COPY's (one
 * round trip per flush; the commit's COMMIT releases the last one). */
static fe_rc copy_savepoint(loader *l, fe_err *err)
{
    const char *sql =
        l->copy_savepoint ? "RELEASE SAVEPOINT fe_copy; SAVEPOINT fe_copy" : "SAVEPOINT fe_copy";
    if (pg_exec(l->conn, sql, err) != FE_OK)
        return fe_err_wrap(err, "savepoint before COPY");
    l->copy_savepoint = true;
    return FE_OK;
}

/* Sends one staging buffer with COPY and empties it. The COPY runs under a
 * savepoint: when PostgreSQL refuses a value of a row (a data error that names
 * the line), the COPY is undone, that row is cut out of the buffer and recorded
 * as a reject with its record (copy_refused), and the rest is sent again. The
 * buffer is kept until its COPY succeeded. */
fe_rc stage_flush(loader *l, stage_table t, fe_err *err)
{
    buf *b = &l->stage[t];
    char target[512];
    if (b->len == 0)
        return FE_OK;
    FE_TRY(checkpoint_ready(l, err));
    if (!stage_copy_target(t, target, sizeof target))
        return fe_err_set(err, FE_EINVAL, "COPY %s: column list too long", stage_sqls[t].name);
    while (b->len > 0) {
        copy_refusal why = {0};
        fe_rc rc = copy_savepoint(l, err);
        if (rc == FE_OK)
            rc = copy_send(l->conn, target, b->data, b->len, &why, err);
        if (rc == FE_OK) {
            buf_reset(b);
            break;
        }
        if (!copy_refusal_isolable(t, &why) || (rc = copy_refused(l, t, &why, err)) != FE_OK) {
            l->failed = true;
            return rc;
        }
    }
    return FE_OK;
}

/* Checks that a row may be put (missing: the name of its first natural id that
 * is NULL or "", NULL when none is) and returns its table's buffer and where the
 * row starts in it (to cut a half-written row back out). */
fe_rc row_begin(loader *l, stage_table t, const char *missing, buf **b, size_t *mark, fe_err *err)
{
    *b = NULL;
    *mark = 0;
    if (!l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "%s row put outside a checkpoint",
                          stage_sqls[t].name + 4);
    if (l->failed)
        return fe_err_set(err, FE_EINVAL, "%s row put after the checkpoint failed",
                          stage_sqls[t].name + 4);
    if (missing)
        return fe_err_set(err, FE_EINVAL, "%s row without %s", stage_sqls[t].name + 4, missing);
    *b = &l->stage[t];
    *mark = (*b)->len;
    return FE_OK;
}

/* Ends a row whose fields were appended (ok: every append succeeded) and sends
 * the buffer once it is big enough. */
fe_rc row_end(loader *l, stage_table t, size_t mark, bool ok, fe_err *err)
{
    buf *b = &l->stage[t];
    if (!ok || !copy_end_row(b)) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
        return fe_err_set(err, FE_ENOMEM, "%s row does not fit in the staging buffer",
                          stage_sqls[t].name + 4);
    }
    l->staged[t]++;
    if (b->len >= STAGE_FLUSH_BYTES)
        return stage_flush(l, t, err);
    return FE_OK;
}

/* loader_put_<table>: the row's natural ids (kinds ID and DAY_ID of its column
 * table) are checked in column order, then it is encoded by stage_row_<table>. */
#define PUT_CHECK_ID(f)                                                                            \
    if (!missing && !stage_opt_id(r->f))                                                           \
        missing = #f;
#define PUT_CHECK_DAY_ID PUT_CHECK_ID
#define PUT_CHECK_KIND(f)
#define PUT_CHECK_REF_KIND(f)
#define PUT_CHECK_REF(f)
#define PUT_CHECK_SLOT(f)
#define PUT_CHECK_TEXT(f)
#define PUT_CHECK_AMOUNT(f)
#define PUT_CHECK_CURRENCY(f)
#define PUT_CHECK_TIME(f)
#define PUT_CHECK_DATE(f)
#define PUT_CHECK_INT(f)
#define PUT_CHECK_BOOL(f)
#define PUT_CHECK(kind, f) PUT_CHECK_##kind(f)

#define PUT_FN(table, TABLE)                                                                       \
    fe_rc loader_put_##table(loader *l, const row_##table *r, fe_err *err)                         \
    {                                                                                              \
        const char *missing = NULL;                                                                \
        buf *b;                                                                                    \
        size_t m;                                                                                  \
        ROW_##TABLE##_COLUMNS(PUT_CHECK) fe_rc rc =                                                \
            row_begin(l, STG_##TABLE, missing, &b, &m, err);                                       \
        return rc != FE_OK ? rc : row_end(l, STG_##TABLE, m, stage_row_##table(b, r), err);        \
    }

ROW_TABLES(PUT_FN)

int64_t loader_staged_rows(const loader *l)
{
    int64_t n = 0;
    for (int t = 0; t < STG__COUNT; t++)
        if (t != STG_REJECT)
            n += l->staged[t];
    return n;
}
