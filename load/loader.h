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
 * as the last commit left them. */
#ifndef FE_LOADER_H
#define FE_LOADER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include "../core/err.h"
#include "../core/stats.h"
#include "rows.h"

typedef struct loader loader;

/* Connects (dsn: conninfo or URI; "" = libpq defaults), sets the session up
 * (UTC, application_name) and creates the temporary staging tables.
 * FE_ECONNECT when the server cannot be reached. Free with loader_free. */
loader *loader_open(const char *dsn, fe_err *err);
void loader_free(loader *l);
PGconn *loader_conn(loader *l);

/* Upserts dw.dim_source for (system, account) and returns its key; updates name
 * and timezone. Autocommit: call outside a checkpoint. */
fe_rc loader_register_source(loader *l, const char *system, const char *account, const char *name,
                             const char *timezone, int *source_key, fe_err *err) FE_MUST_CHECK;

/* Session advisory lock for this source; FE_ELOCKED at once when another
 * session holds it. Released by loader_free. */
fe_rc loader_lock_source(loader *l, int source_key, fe_err *err) FE_MUST_CHECK;

/* The cursor stored for (source_key, stream) as JSON text, or NULL when none.
 * Caller frees with free(). */
fe_rc loader_get_cursor(loader *l, int source_key, const char *stream, char **cursor,
                        fe_err *err) FE_MUST_CHECK;

/* Removes the stream's cursor (for --full-refresh). Autocommit. */
fe_rc loader_clear_cursor(loader *l, int source_key, const char *stream, fe_err *err) FE_MUST_CHECK;

/* Starts a checkpoint for this source and stream; run_id stamps every row written. */
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

/* Rows staged in the open checkpoint (all tables but rejects). */
int64_t loader_staged_rows(const loader *l);

typedef struct {
    const char *cursor; /* new cursor, JSON text; NULL leaves etl.sync_state alone */
    /* Full read of these tables (bitmask of 1u << STG_x) finished in this
     * checkpoint: rows of this source last written by this stream that were not
     * staged are marked is_deleted. */
    unsigned full_read;
} load_commit;

/* Merges everything staged, writes the cursor, commits. Adds inserted, updated,
 * unchanged, deleted and rejects to stats. On error the checkpoint is rolled back. */
fe_rc loader_commit(loader *l, const load_commit *c, stream_stats *stats, fe_err *err) FE_MUST_CHECK;

/* Abandons the open checkpoint, if any. Safe to call at any time. */
void loader_rollback(loader *l);

#endif
