/* loader: one PostgreSQL connection per stream worker, and the checkpoint cycle.
 *
 * A checkpoint is one transaction:
 *   loader_begin -> loader_put_* (rows are COPY-text encoded into per-table
 *   buffers; a buffer over its cap is sent at once with COPY into a temporary
 *   staging table, so memory stays flat however long the checkpoint is)
 *   -> loader_commit: send what is left, de-duplicate staging on natural keys
 *   (the last staged row wins), merge dimensions, then facts (inferred members
 *   for unknown ids, IS DISTINCT FROM so unchanged rows are not rewritten),
 *   mark deletions, upsert the cursor into etl.sync_state, COMMIT.
 * Any error rolls the whole checkpoint back: the warehouse and the cursor stay
 * as the last commit left them.
 *
 * The source's row in dw.dim_source and its lock are source_id's (source_id.h).
 *
 * Not thread-safe: one loader per thread. Rows are validated only for their
 * natural ids (a put without one is FE_EINVAL). A value PostgreSQL refuses (a
 * data exception: a bad decimal or time, a year out of range, an amount beyond
 * numeric(20,4), text that is not UTF-8) costs its record, never the checkpoint:
 *   - staging columns have the warehouse columns' types, so most such values fail
 *     the COPY, which runs under a savepoint: the refused row is cut out of its
 *     buffer and the rest sent again;
 *   - one that fails a merge instead (an expression, e.g. a date whose key does
 *     not fit) is found by bisecting the staged rows under savepoints, taken out,
 *     and the merge runs again (also for a commit in flight, when its outcome is
 *     read).
 * Either way the record is one row in etl.reject (record_id: the order id for an
 * order, line or payment, else the row's own id; reason "PostgreSQL refused
 * <table>.<column>: <message>"; raw: the row as COPY text; all redacted with
 * log_redact), written by the same commit as the data and counted in the
 * commit's stats->rejects. A refused order, line or payment takes the order's
 * other staged rows with it, a refused component its parent's whole recipe; a
 * refused dimension row is not taken for deleted by a full read. At most
 * REFUSED_MAX (100) refusals per checkpoint: one more fails the commit with
 * FE_EREJECTS. Check and not-null violations inside a merge (a mapper's value
 * outside the schema's sets) still fail the checkpoint. The merge SQL is in
 * sql/merge/ (one statement a file), run in the order of load/loader_sql.h. */
#ifndef FE_LOADER_H
#define FE_LOADER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"
#include "core/stats.h"
#include "transform/rows.h"

typedef struct loader loader;

/* Connects (dsn: conninfo or URI; "" = libpq defaults), sets the session up
 * (UTC, UTF8, application_name flowetl; see pg_connect) and creates the temporary
 * staging tables. FE_ECONNECT when the server cannot be reached. It does not
 * check the schema version: call migrate_check first. Free with loader_free. */
loader *loader_open(const char *dsn, fe_err *err);
void loader_free(loader *l);
PGconn *loader_conn(loader *l);

/* The largest share (0..1, clamped; NaN = 0) of a table's live rows owned by a
 * stream that one full read may mark deleted (the [source.NAME] key
 * max_delete_fraction; 0.5 until set). A full read that would mark more fails
 * its commit before marking anything, with "full read <table>: would mark N of
 * M live rows of dw.<table> deleted, ... (hint: set max_delete_fraction = 1 in
 * [source.NAME] for one run if this is intended)".
 * Call once after loader_open; applies to every later commit. */
void loader_set_max_delete_fraction(loader *l, double fraction);

/* Today's date in IANA zone tz (NULL or "" = UTC) as PostgreSQL sees it, "YYYY-MM-DD"
 * into out: the zone rules the merge uses for every other business date. Call it
 * outside a checkpoint. FE_EPG ("today's date in time zone TZ: ...") on failure. */
fe_rc loader_local_date(loader *l, const char *tz, char out[11], fe_err *err) FE_MUST_CHECK;

/* The cursor stored for (source_key, stream) as JSON text, or NULL when none.
 * Caller frees with free(). */
fe_rc loader_get_cursor(loader *l, int source_key, const char *stream, char **cursor,
                        fe_err *err) FE_MUST_CHECK;

/* Removes the stream's cursor (for --full-refresh). Autocommit. */
fe_rc loader_clear_cursor(loader *l, int source_key, const char *stream, fe_err *err) FE_MUST_CHECK;

/* Starts a checkpoint (BEGIN) for this source and stream; run_id stamps every row
 * written. FE_EINVAL when one is already open. */
fe_rc loader_begin(loader *l, int source_key, const char *stream, int64_t run_id,
                   fe_err *err) FE_MUST_CHECK;

fe_rc loader_put_store(loader *l, const row_store *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_customer(loader *l, const row_customer *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_category(loader *l, const row_category *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_product(loader *l, const row_product *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_component(loader *l, const row_component *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_order(loader *l, const row_order *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_order_line(loader *l, const row_order_line *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_payment(loader *l, const row_payment *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_inventory(loader *l, const row_inventory *r, fe_err *err) FE_MUST_CHECK;
fe_rc loader_put_reject(loader *l, const row_reject *r, fe_err *err) FE_MUST_CHECK;

/* Puts copy the row into the staging buffers (the pointers need only live for the
 * call). Empty foreign ids count as not provided; a referenced store without a
 * kind is of kind "store". loader_put_reject makes its text valid UTF-8 (other
 * bytes become \xNN) and keeps 8 KiB of raw; it does not count the reject in any
 * stats (stream_reject does). */

/* A row_sink whose callbacks are the loader_put_* functions of l. */
row_sink loader_row_sink(loader *l);

/* Rows staged in the open checkpoint (all tables but rejects). */
int64_t loader_staged_rows(const loader *l);

typedef struct {
    const char *cursor; /* new cursor, JSON text; NULL leaves etl.sync_state alone */
    /* Full read of these tables (bitmask of 1u << STG_x) finished in this
     * checkpoint: rows of this source owned by this stream (origin_stream: the
     * stream that last inserted or changed the row, or returned it in a full
     * read) that were not staged are marked is_deleted, and every staged row
     * becomes this stream's. "Staged" counts every committed
     * checkpoint of this stream on this loader since the stream's first
     * loader_begin (or the last full_read commit of that table), so a full read
     * may span several checkpoints and set the bit on its last one. Honoured for
     * STG_STORE, STG_CUSTOMER, STG_CATEGORY, STG_PRODUCT and STG_COMPONENT;
     * other bits are ignored. */
    unsigned full_read;
} load_commit;

/* Merges everything staged, writes the cursor, commits. c may be NULL (no cursor,
 * no full read). On success adds inserted, updated, unchanged (staged rows, after
 * de-duplication, whose warehouse row was already equal) and deleted to stats
 * (which may be NULL); of rejects, only the loader's own (loader_put_reject's are
 * counted by stream_reject).
 * Rows marked deleted also include lines and payments of orders staged with
 * lines_complete / payments_complete or is_deleted, and recipe rows of a parent
 * whose components were staged (the components staged for a parent are its whole
 * recipe). stats->rejects gets the records whose rows PostgreSQL refused (see the
 * top of this file). On error the checkpoint is rolled back and err says which
 * step failed, e.g. "merge fact_order: <server message>". */
fe_rc loader_commit(loader *l, const load_commit *c, stream_stats *stats,
                    fe_err *err) FE_MUST_CHECK;

/* loader_commit in two halves, so that the next checkpoint's rows are fetched
 * while the server merges this one: sends the staged rows (COPY), then the merge
 * statements, the cursor and COMMIT as one libpq pipeline, and returns without
 * waiting; the next checkpoint of the same stream is open at once (its BEGIN is
 * sent once the commit in flight succeeded). The commit's outcome arrives with
 * the next call on l that needs the server: a put whose buffer is sent,
 * loader_commit, loader_commit_send, loader_wait, loader_rollback. When the commit
 * failed that call returns its error (e.g. "merge fact_order: <message>") and the
 * checkpoint opened here is failed too: call loader_rollback. stats must stay
 * valid until then; it gets the counts once the commit is known to have
 * succeeded. A stream ends with loader_commit (synchronous) or loader_rollback,
 * never with a commit in flight. Memory: the open checkpoint's buffers fill while
 * the commit runs, so at most one commit's worth more than loader_commit. */
fe_rc loader_commit_send(loader *l, const load_commit *c, stream_stats *stats,
                         fe_err *err) FE_MUST_CHECK;

/* Waits for the commit sent by loader_commit_send, if any: FE_OK when it succeeded
 * (or none was in flight), else its error. */
fe_rc loader_wait(loader *l, fe_err *err) FE_MUST_CHECK;

/* Abandons the open checkpoint, if any (ROLLBACK, staging emptied), after the
 * commit in flight finished (committed or not). Safe to call at any time, also on
 * NULL. */
void loader_rollback(loader *l);

#endif
