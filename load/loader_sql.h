/* loader_sql: the SQL of the loader, for load/loader*.c only: the staging tables
 * (one spec per table, its columns from the column tables of transform/rows.h),
 * the merge steps of a checkpoint in their order, and where each statement's text
 * is. The statements that touch the warehouse are files of sql/merge/, one
 * statement each, compiled in (load/sql_embed.h); loader_sql_text finds one.
 *
 * Every statement of a checkpoint takes the same three parameters:
 *   $1 source_key (smallint), $2 run_id (bigint), $3 stream (text);
 * the cursor upsert and the full reads also a fourth, as text ($4: the cursor's
 * JSON; max_delete_fraction).
 * Staging tables are temporary (one set per connection) and ON COMMIT DELETE
 * ROWS, so a commit empties them and a rollback discards what was copied. Each
 * has a `seq` identity: the order rows were staged in, so the last one staged per
 * natural key wins. Foreign ids arrive NULL when not provided (the loader turns ""
 * into NULL) and resolve to the unknown member 0.
 *
 * Upsert steps return one row (inserted, updated, staged): they insert what is
 * new, update only rows whose compared columns are IS DISTINCT FROM the staged
 * ones (so loaded_at and run_id only move when something changed), and count
 * inserts apart from updates with RETURNING (xmax = 0).
 *
 * origin_stream (dimensions) scopes full-read deletion. It is not compared: two
 * streams writing the same row (Posiflora inventory_items maps its included
 * categories) would otherwise take it from each other on every run. It is set
 * when a stream inserts or changes the row, and a finished full read claims every
 * row it returned, so the full-reading stream owns what it lists. */
#ifndef FE_LOADER_SQL_H
#define FE_LOADER_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "transform/rows.h"

#define ST(t) (1u << (t))

/* The temporary tables of a connection: staging, stg_drop, seen_*. */
extern const char stage_ddl_sql[];

/* Per staging table: its columns, the de-duplication (keep the last staged row
 * per natural key), and for dimensions the statements that record the staged keys
 * and mark the rows a full read no longer returned. */
typedef struct {
    const char *name;    /* "stg_store" */
    const char *columns; /* "kind, store_id, ...": the COPY columns, stage_row's order */
    const char *dedupe;
    const char *seen;          /* NULL: table has no full-read semantics */
    const char *full_read;     /* sql/merge file; returns one row: rows marked deleted;
                                  $4 max_delete_fraction */
    const char *claim;         /* sql/merge file: the stream that finished a full read
                                  owns what it saw */
    const char *seen_truncate; /* forgets the keys once a full read ended */
    const char *target;        /* the dimension's table ("dim_store"): whose rows its full
                                  read counts (stream_stats.tables) */
    /* A refused dimension row keeps its key in the stream's full read (a row
     * PostgreSQL refused is not a row the source deleted). Parameters: the row's
     * first fields (2 for stores, else 1). NULL: not a dimension. */
    const char *seen_keep;
    /* The warehouse table the staging table is merged into (NULL: none), whose
     * planner statistics the loader refreshes as the table grows (see
     * send_refresh_statistics), with the columns the merges look rows up by:
     * what matters to their plans is the table's size (reltuples, relpages, which
     * any ANALYZE updates) and these columns. Analyzing them alone costs a fifth
     * of a whole-table ANALYZE (fact_order_line at 114,000 rows: 40 ms instead of
     * 190 ms). */
    const char *analyze;
} stage_sql;

extern const stage_sql stage_sqls[STG__COUNT];

/* "COPY target" of table t: "stg_x (a, b, ...)" into dst; false when it does not fit. */
bool stage_copy_target(stage_table t, char *dst, size_t size);

/* ---- merge steps ---------------------------------------------------------- */

typedef enum {
    STEP_PLAIN,  /* side effect only (inferred members, key repair) */
    STEP_UPSERT, /* returns (inserted, updated, staged) */
    STEP_DELETE, /* returns (rows marked is_deleted) */
} step_kind;

typedef struct {
    const char *name; /* for errors: "merge fact_order: <server message>" */
    step_kind kind;
    unsigned when;    /* runs when any of these staging tables (1u << STG_x) has rows */
    const char *file; /* its statement: a file of sql/merge */
} merge_step;

#define MERGE_STEPS 24
extern const merge_step merge_steps[MERGE_STEPS];

/* Steps that only read staged facts (orders, lines, payments, inventory) run with
 * hash and merge joins off, so each staged row finds its warehouse rows through the
 * natural-key indexes (nested loops): a checkpoint then costs what it stages, not
 * what the warehouse holds. With hash joins the planner scans every row of the
 * source in fact_order or fact_order_line once per checkpoint, which made a first
 * load quadratic. Dimension steps keep the default planner: they compare staged
 * keys with seen_* and staging tables that have no index. */
#define FACT_STAGES (ST(STG_ORDER) | ST(STG_ORDER_LINE) | ST(STG_PAYMENT) | ST(STG_INVENTORY))
/* One statement each: the commit sends them in a libpq pipeline, which takes
 * single statements only. */
#define INDEX_JOINS_SQLS 2
extern const char *const index_joins_on_sqls[INDEX_JOINS_SQLS];
extern const char *const index_joins_off_sqls[INDEX_JOINS_SQLS];
/* A full read compares every row of a dimension with every key the stream saw:
 * hash joins, whatever the (stale, mid-load) statistics of the dimension say;
 * a nested loop over the unindexed seen_* table is quadratic. */
extern const char full_read_joins_on_sql[];
extern const char full_read_joins_off_sql[];

/* ---- cursor, rejects, refused records -------------------------------------- */

extern const char seen_truncate_sql[];   /* every seen_* table */
extern const char cursor_upsert_file[];  /* sql/merge file; $4: the cursor, JSON text */
extern const char rejects_insert_file[]; /* sql/merge file: stg_reject -> etl.reject */
extern const char reject_insert_sql[];   /* one row into stg_reject: $1..$4 its columns */
extern const char drop_insert_sql[];     /* one record into stg_drop: $1 kind, $2 id */
#define PURGE_STEPS 5
/* sql/merge files: the rows of the records in stg_drop leave staging. */
extern const char *const purge_files[PURGE_STEPS];

/* The text of sql/merge/<file> (file: "NAME.sql"), NULL when none is compiled in. */
const char *loader_sql_text(const char *file);

/* FE_EINVAL naming the first sql/merge file the tables above refer to that is not
 * compiled in (loader_open checks this once, so loader_sql_text of a table's file
 * is never NULL after it). */
fe_rc loader_sql_check(fe_err *err) FE_MUST_CHECK;

#endif
