/* loader_sql: the SQL text of the loader: staging tables, de-duplication and the
 * merge steps of a checkpoint. Included by loader.c only.
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

#include "transform/rows.h"

/* ---- staging ------------------------------------------------------------- */

/* Column types are the warehouse columns' own (numeric(20,4), varchar(3) for the
 * char(3) currencies, timestamptz, date, integer), so a value PostgreSQL refuses
 * fails the COPY, where the error names the row, not a merge: the loader turns
 * such a row into a reject (see stage_flush in loader.c). */
#define AMOUNT "numeric(20,4)"
#define CURRENCY "varchar(3)"

static const char stage_ddl_sql[] =
    "CREATE TEMP TABLE stg_store (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " kind text NOT NULL, store_id text NOT NULL, name text, address text,"
    " currency " CURRENCY ", timezone text, status text, is_deleted boolean NOT NULL)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_customer (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " customer_id text NOT NULL, name text, phone text, email text, status text,"
    " loyalty_points " AMOUNT ", created_at timestamptz, updated_at timestamptz,"
    " is_deleted boolean NOT NULL) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_category (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " category_id text NOT NULL, name text, parent_id text, is_deleted boolean NOT NULL)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_product (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " product_id text NOT NULL, sku text, name text, product_type text, category_id text,"
    " brand text, list_price " AMOUNT ", currency " CURRENCY ", created_at timestamptz,"
    " updated_at timestamptz, is_active boolean NOT NULL, is_deleted boolean NOT NULL)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_component (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " parent_id text NOT NULL, component_id text NOT NULL, slot text NOT NULL,"
    " quantity " AMOUNT ", special_price " AMOUNT ") ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_order (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " order_id text NOT NULL, order_number text, store_kind text, store_id text,"
    " customer_id text, ordered_at timestamptz, order_date date, status text,"
    " status_group text, currency " CURRENCY ", subtotal " AMOUNT ", discount_total " AMOUNT ","
    " tax_total " AMOUNT ", shipping_total " AMOUNT ", total " AMOUNT ", paid_total " AMOUNT ","
    " line_count integer, source_updated_at timestamptz, is_deleted boolean NOT NULL,"
    " lines_complete boolean NOT NULL, payments_complete boolean NOT NULL,"
    " tombstone boolean NOT NULL) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_order_line (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " order_id text NOT NULL, line_id text NOT NULL, product_id text, bundle_id text,"
    " quantity " AMOUNT ", unit_price " AMOUNT ", discount " AMOUNT ", tax " AMOUNT ","
    " line_total " AMOUNT ", cost " AMOUNT ", currency " CURRENCY ") ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_payment (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " payment_id text NOT NULL, order_id text, paid_at timestamptz, payment_date date,"
    " payment_type text, method text, amount " AMOUNT ", bonus_amount " AMOUNT ","
    " currency " CURRENCY ") ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_inventory (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " snapshot_date date NOT NULL, product_id text, store_kind text, store_id text,"
    " on_hand " AMOUNT ", available " AMOUNT ", reserved " AMOUNT ", on_order " AMOUNT ","
    " unit_cost " AMOUNT ", unit_price " AMOUNT ", inventory_value " AMOUNT ","
    " captured_at timestamptz) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE stg_reject (seq bigint GENERATED ALWAYS AS IDENTITY,"
    " record_id text, reason text NOT NULL, raw text, raw_length integer)"
    " ON COMMIT DELETE ROWS;"
    /* Records of the open checkpoint that PostgreSQL refused, whose other staged
     * rows the commit purges before merging (see purge_sqls). */
    "CREATE TEMP TABLE stg_drop (kind text NOT NULL, id text NOT NULL) ON COMMIT DELETE ROWS;"
    /* Natural keys staged by every checkpoint of the current stream (kept across
     * commits): a full read spread over several checkpoints compares the warehouse
     * with all of them. */
    "CREATE TEMP TABLE seen_store (kind text, store_id text);"
    "CREATE TEMP TABLE seen_customer (customer_id text);"
    "CREATE TEMP TABLE seen_category (category_id text);"
    "CREATE TEMP TABLE seen_product (product_id text);"
    "CREATE TEMP TABLE seen_component (parent_id text, component_id text, slot text)";

/* The warehouse table each staging table is merged into (NULL: none), whose
 * planner statistics the loader refreshes as the table grows (see
 * send_refresh_statistics in loader.c), with the columns the merges look rows up
 * by: what matters to their plans is the table's size (reltuples, relpages, which
 * any ANALYZE updates) and these columns. Analyzing them alone costs a fifth of a
 * whole-table ANALYZE (fact_order_line at 114,000 rows: 40 ms instead of 190 ms). */
static const char *const stage_targets[STG__COUNT] = {
    [STG_STORE] = "dw.dim_store (source_key, kind, store_id)",
    [STG_CUSTOMER] = "dw.dim_customer (source_key, customer_id)",
    [STG_CATEGORY] = "dw.dim_category (source_key, category_id)",
    [STG_PRODUCT] = "dw.dim_product (source_key, product_id)",
    [STG_COMPONENT] =
        "dw.bridge_product_component (parent_product_key, component_product_key, slot)",
    [STG_ORDER] = "dw.fact_order (source_key, order_id)",
    [STG_ORDER_LINE] = "dw.fact_order_line (source_key, order_id, line_id)",
    [STG_PAYMENT] = "dw.fact_payment (source_key, order_id, payment_id)",
    [STG_INVENTORY] = ("dw.fact_inventory_snapshot (source_key, product_key, store_key,"
                       " snapshot_date_key)"),
};

static const char seen_truncate_sql[] =
    "TRUNCATE seen_store, seen_customer, seen_category, seen_product, seen_component";

/* A full read's deletion: the rows of this source the stream owns ($3) that are
 * not deleted and whose key it did not stage (seen_*) are marked deleted, unless
 * they are more than $4 (max_delete_fraction, text) of those live rows: then
 * etl.full_read_guard (sql/005) fails the statement, before anything is marked,
 * with a message that says how many of how many and how to allow it. The guard
 * is a one-time filter of the UPDATE (an uncorrelated subquery), so it costs one
 * more pass over the stream's rows of the table, not a round trip. */
#define FULL_READ_DIM(tbl, seen, cols, match, key)                                                 \
    "WITH n AS (SELECT count(*) AS live, count(*) FILTER (WHERE s." key " IS NULL) AS gone"        \
    " FROM " tbl " t LEFT JOIN (SELECT DISTINCT " cols " FROM " seen ") s ON " match               \
    " WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted),"                     \
    " d AS (UPDATE " tbl " t SET is_deleted = true, loaded_at = now(), run_id = $2"                \
    " WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted"                       \
    " AND NOT EXISTS (SELECT 1 FROM " seen " s WHERE " match ")"                                   \
    " AND (SELECT etl.full_read_guard($1, '" tbl "', n.gone, n.live, $4::float8) FROM n)"          \
    " RETURNING 1) SELECT count(*) FROM d"

/* Per staging table: the COPY target (column order = the put function's field
 * order), the de-duplication (keep the last staged row per natural key), and for
 * dimensions the statements that record the staged keys and mark the rows a full
 * read no longer returned. */
typedef struct {
    const char *name;
    const char *copy_target;
    const char *dedupe;
    const char *seen;      /* NULL: table has no full-read semantics */
    const char *full_read; /* returns one row: rows marked deleted; $4 max_delete_fraction */
    const char *claim;     /* the stream that finished a full read owns what it saw */
    const char *seen_truncate;
} stage_sql;

#define DEDUPE(tbl, key)                                                                           \
    "DELETE FROM " tbl " WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER"             \
    " (PARTITION BY " key " ORDER BY seq DESC) AS n FROM " tbl ") AS d WHERE d.n > 1)"

static const stage_sql stage_sqls[STG__COUNT] = {
    [STG_STORE] =
        {
            .name = "stg_store",
            .copy_target =
                "stg_store (kind, store_id, name, address, currency, timezone, status, is_deleted)",
            .dedupe = DEDUPE("stg_store", "kind, store_id"),
            .seen = "INSERT INTO seen_store SELECT kind, store_id FROM stg_store",
            .full_read = FULL_READ_DIM("dw.dim_store", "seen_store", "kind, store_id",
                                       "s.kind = t.kind AND s.store_id = t.store_id", "store_id"),
            .claim = "UPDATE dw.dim_store t SET origin_stream = $3 FROM seen_store s WHERE"
                     " t.source_key = $1 AND t.kind = s.kind AND t.store_id = s.store_id AND"
                     " t.origin_stream IS DISTINCT FROM $3",
            .seen_truncate = "TRUNCATE seen_store",
        },
    [STG_CUSTOMER] =
        {
            .name = "stg_customer",
            .copy_target =
                "stg_customer (customer_id, name, phone, email, status, loyalty_points, created_at,"
                " updated_at, is_deleted)",
            .dedupe = DEDUPE("stg_customer", "customer_id"),
            .seen = "INSERT INTO seen_customer SELECT customer_id FROM stg_customer",
            .full_read = FULL_READ_DIM("dw.dim_customer", "seen_customer", "customer_id",
                                       "s.customer_id = t.customer_id", "customer_id"),
            .claim = "UPDATE dw.dim_customer t SET origin_stream = $3 FROM seen_customer s WHERE"
                     " t.source_key = $1 AND t.customer_id = s.customer_id AND t.origin_stream IS"
                     " DISTINCT FROM $3",
            .seen_truncate = "TRUNCATE seen_customer",
        },
    [STG_CATEGORY] =
        {
            .name = "stg_category",
            .copy_target = "stg_category (category_id, name, parent_id, is_deleted)",
            .dedupe = DEDUPE("stg_category", "category_id"),
            .seen = "INSERT INTO seen_category SELECT category_id FROM stg_category",
            .full_read = FULL_READ_DIM("dw.dim_category", "seen_category", "category_id",
                                       "s.category_id = t.category_id", "category_id"),
            .claim = "UPDATE dw.dim_category t SET origin_stream = $3 FROM seen_category s WHERE"
                     " t.source_key = $1 AND t.category_id = s.category_id AND t.origin_stream IS"
                     " DISTINCT FROM $3",
            .seen_truncate = "TRUNCATE seen_category",
        },
    [STG_PRODUCT] =
        {
            .name = "stg_product",
            .copy_target =
                "stg_product (product_id, sku, name, product_type, category_id, brand, list_price,"
                " currency, created_at, updated_at, is_active, is_deleted)",
            .dedupe = DEDUPE("stg_product", "product_id"),
            .seen = "INSERT INTO seen_product SELECT product_id FROM stg_product",
            .full_read = FULL_READ_DIM("dw.dim_product", "seen_product", "product_id",
                                       "s.product_id = t.product_id", "product_id"),
            .claim = "UPDATE dw.dim_product t SET origin_stream = $3 FROM seen_product s WHERE"
                     " t.source_key = $1 AND t.product_id = s.product_id AND t.origin_stream IS"
                     " DISTINCT FROM $3",
            .seen_truncate = "TRUNCATE seen_product",
        },
    [STG_COMPONENT] =
        {
            .name = "stg_component",
            .copy_target = "stg_component (parent_id, component_id, slot, quantity, special_price)",
            .dedupe = DEDUPE("stg_component", "parent_id, component_id, slot"),
            .seen = "INSERT INTO seen_component SELECT parent_id, component_id, slot FROM"
                    " stg_component",
            .full_read =
                "WITH n AS (SELECT count(*) AS live,"
                " count(*) FILTER (WHERE s.parent_id IS NULL) AS gone"
                " FROM dw.bridge_product_component t"
                " JOIN dw.dim_product pp ON pp.product_key = t.parent_product_key"
                " JOIN dw.dim_product cp ON cp.product_key = t.component_product_key"
                " LEFT JOIN (SELECT DISTINCT parent_id, component_id, slot FROM seen_component) s"
                " ON s.parent_id = pp.product_id AND s.component_id = cp.product_id"
                " AND s.slot = t.slot"
                " WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted),"
                " d AS (UPDATE dw.bridge_product_component t"
                " SET is_deleted = true, loaded_at = now(), run_id = $2"
                " FROM dw.dim_product pp, dw.dim_product cp"
                " WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted"
                " AND pp.product_key = t.parent_product_key"
                " AND cp.product_key = t.component_product_key"
                " AND NOT EXISTS (SELECT 1 FROM seen_component s WHERE s.parent_id = pp.product_id"
                "  AND s.component_id = cp.product_id AND s.slot = t.slot)"
                " AND (SELECT etl.full_read_guard($1, 'dw.bridge_product_component', n.gone,"
                " n.live, $4::float8) FROM n)"
                " RETURNING 1) SELECT count(*) FROM d",
            .claim = "UPDATE dw.bridge_product_component t SET origin_stream = $3 FROM"
                     " seen_component s, dw.dim_product pp, dw.dim_product cp WHERE t.source_key ="
                     " $1 AND pp.product_key = t.parent_product_key AND cp.product_key ="
                     " t.component_product_key AND s.parent_id = pp.product_id AND s.component_id"
                     " = cp.product_id AND s.slot = t.slot AND t.origin_stream IS DISTINCT FROM $3",
            .seen_truncate = "TRUNCATE seen_component",
        },
    [STG_ORDER] =
        {
            .name = "stg_order",
            .copy_target =
                "stg_order (order_id, order_number, store_kind, store_id, customer_id, ordered_at,"
                " order_date, status, status_group, currency, subtotal, discount_total, tax_total,"
                " shipping_total, total, paid_total, line_count, source_updated_at, is_deleted,"
                " lines_complete, payments_complete, tombstone)",
            .dedupe = DEDUPE("stg_order", "order_id"),
        },
    [STG_ORDER_LINE] =
        {
            .name = "stg_order_line",
            .copy_target =
                "stg_order_line (order_id, line_id, product_id, bundle_id, quantity, unit_price,"
                " discount, tax, line_total, cost, currency)",
            .dedupe = DEDUPE("stg_order_line", "order_id, line_id"),
        },
    [STG_PAYMENT] =
        {
            .name = "stg_payment",
            .copy_target =
                "stg_payment (payment_id, order_id, paid_at, payment_date, payment_type, method,"
                " amount, bonus_amount, currency)",
            .dedupe = DEDUPE("stg_payment", "payment_id"),
        },
    [STG_INVENTORY] =
        {
            .name = "stg_inventory",
            .copy_target =
                "stg_inventory (snapshot_date, product_id, store_kind, store_id, on_hand,"
                " available, reserved, on_order, unit_cost, unit_price, inventory_value,"
                " captured_at)",
            .dedupe = DEDUPE("stg_inventory", "snapshot_date, product_id, store_kind, store_id"),
        },
    /* Every reject is kept: no de-duplication. */
    [STG_REJECT] = {.name = "stg_reject",
                    .copy_target = "stg_reject (record_id, reason, raw, raw_length)"},
};

/* ---- merge steps ---------------------------------------------------------- */

typedef enum {
    STEP_PLAIN,  /* side effect only (inferred members, key repair) */
    STEP_UPSERT, /* returns (inserted, updated, staged) */
    STEP_DELETE, /* returns (rows marked is_deleted) */
} step_kind;

typedef struct {
    const char *name; /* for errors: "merge fact_order: <server message>" */
    step_kind kind;
    unsigned when; /* runs when any of these staging tables (1u << STG_x) has rows */
    const char *sql;
} merge_step;

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
static const char *const index_joins_on_sqls[] = {"SET LOCAL enable_hashjoin = off",
                                                  "SET LOCAL enable_mergejoin = off"};
static const char *const index_joins_off_sqls[] = {"RESET enable_hashjoin",
                                                   "RESET enable_mergejoin"};
/* A full read compares every row of a dimension with every key the stream saw:
 * hash joins, whatever the (stale, mid-load) statistics of the dimension say;
 * a nested loop over the unindexed seen_* table is quadratic. */
static const char full_read_joins_on_sql[] = "SET LOCAL enable_nestloop = off";
static const char full_read_joins_off_sql[] = "RESET enable_nestloop";

#define ST(t) (1u << (t))

/* The source's business time zone, for dates derived from timestamps. */
#define SOURCE_TZ "coalesce((SELECT timezone FROM dw.dim_source WHERE source_key = $1), 'UTC')"

#define COUNT_UPSERT(staged_from)                                                                  \
    " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),"              \
    " (SELECT count(*) FROM " staged_from ") FROM up"

static const merge_step merge_steps[] = {
    /* -- dimensions -- */
    {"merge dim_store", STEP_UPSERT, ST(STG_STORE),
     "WITH up AS (INSERT INTO dw.dim_store AS t (source_key, kind, store_id, name, address,"
     " currency, timezone, status, is_deleted, is_inferred, origin_stream, loaded_at, run_id)"
     " SELECT $1, s.kind, s.store_id, s.name, s.address, upper(s.currency), s.timezone, s.status,"
     " s.is_deleted, false, $3, now(), $2 FROM stg_store s"
     " ON CONFLICT (source_key, kind, store_id) DO UPDATE SET name = excluded.name,"
     " address = excluded.address, currency = excluded.currency, timezone = excluded.timezone,"
     " status = excluded.status, is_deleted = excluded.is_deleted, is_inferred = false,"
     " origin_stream = excluded.origin_stream, loaded_at = excluded.loaded_at,"
     " run_id = excluded.run_id"
     " WHERE (t.name, t.address, t.currency, t.timezone, t.status, t.is_deleted, t.is_inferred)"
     " IS DISTINCT FROM (excluded.name, excluded.address, excluded.currency, excluded.timezone,"
     " excluded.status, excluded.is_deleted, excluded.is_inferred)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_store")},

    /* Categories in three passes: upsert with the parent keys known now (a parent
     * staged in the same batch may not exist yet: its key is repaired below),
     * create inferred members for parents never seen, then point every category of
     * the source at its parent by id. The compared parent_category_id makes a move
     * count as an update even when the key is repaired later. */
    {"merge dim_category", STEP_UPSERT, ST(STG_CATEGORY),
     "WITH up AS (INSERT INTO dw.dim_category AS t (source_key, category_id, name,"
     " parent_category_id, parent_category_key, is_deleted, is_inferred, origin_stream,"
     " loaded_at, run_id)"
     " SELECT $1, s.category_id, s.name, s.parent_id, coalesce(p.category_key, 0), s.is_deleted,"
     " false, $3, now(), $2 FROM stg_category s"
     " LEFT JOIN dw.dim_category p ON p.source_key = $1 AND p.category_id = s.parent_id"
     " ON CONFLICT (source_key, category_id) DO UPDATE SET name = excluded.name,"
     " parent_category_id = excluded.parent_category_id,"
     " parent_category_key = excluded.parent_category_key, is_deleted = excluded.is_deleted,"
     " is_inferred = false, origin_stream = excluded.origin_stream,"
     " loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.name, t.parent_category_id, t.is_deleted, t.is_inferred)"
     " IS DISTINCT FROM (excluded.name, excluded.parent_category_id, excluded.is_deleted,"
     " excluded.is_inferred)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_category")},

    {"infer dim_category (parents)", STEP_PLAIN, ST(STG_CATEGORY),
     "INSERT INTO dw.dim_category (source_key, category_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, s.parent_id, true, now(), $2::bigint FROM stg_category s"
     " WHERE s.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_category c"
     "  WHERE c.source_key = $1 AND c.category_id = s.parent_id)"
     " ON CONFLICT DO NOTHING"},

    {"resolve dim_category parents", STEP_PLAIN, ST(STG_CATEGORY),
     "UPDATE dw.dim_category c SET parent_category_key = x.parent_key, loaded_at = now(),"
     " run_id = $2 FROM (SELECT c2.category_key, coalesce(p.category_key, 0) AS parent_key"
     "  FROM dw.dim_category c2 LEFT JOIN dw.dim_category p"
     "   ON p.source_key = $1 AND p.category_id = c2.parent_category_id"
     "  WHERE c2.source_key = $1) x"
     " WHERE c.category_key = x.category_key AND c.parent_category_key <> x.parent_key"},

    {"infer dim_category (products)", STEP_PLAIN, ST(STG_PRODUCT),
     "INSERT INTO dw.dim_category (source_key, category_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, s.category_id, true, now(), $2::bigint FROM stg_product s"
     " WHERE s.category_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_category c"
     "  WHERE c.source_key = $1 AND c.category_id = s.category_id)"
     " ON CONFLICT DO NOTHING"},

    /* Paths from the roots down; recomputed for the whole source (categories are
     * few) so renaming a parent reaches every descendant. Categories in a parent
     * cycle are never reached and keep their last path. */
    {"path dim_category", STEP_PLAIN, ST(STG_CATEGORY) | ST(STG_PRODUCT),
     "WITH RECURSIVE tree (category_key, path, depth) AS ("
     " SELECT c.category_key, coalesce(c.name, c.category_id), 1 FROM dw.dim_category c"
     "  WHERE c.source_key = $1 AND c.parent_category_key = 0 AND c.category_key <> 0"
     " UNION ALL"
     " SELECT c.category_key, tree.path || ' / ' || coalesce(c.name, c.category_id),"
     "  tree.depth + 1 FROM dw.dim_category c"
     "  JOIN tree ON c.parent_category_key = tree.category_key"
     "  WHERE tree.depth < 100 AND c.category_key <> 0)"
     " UPDATE dw.dim_category c SET path = tree.path, loaded_at = now(), run_id = $2 FROM tree"
     " WHERE c.category_key = tree.category_key AND c.path IS DISTINCT FROM tree.path"},

    {"merge dim_customer", STEP_UPSERT, ST(STG_CUSTOMER),
     "WITH up AS (INSERT INTO dw.dim_customer AS t (source_key, customer_id, name, phone, email,"
     " status, loyalty_points, created_at, updated_at, is_deleted, is_inferred, origin_stream,"
     " loaded_at, run_id)"
     " SELECT $1, s.customer_id, s.name, s.phone, s.email, s.status, s.loyalty_points,"
     " s.created_at, s.updated_at, s.is_deleted, false, $3, now(), $2 FROM stg_customer s"
     " ON CONFLICT (source_key, customer_id) DO UPDATE SET name = excluded.name,"
     " phone = excluded.phone, email = excluded.email, status = excluded.status,"
     " loyalty_points = excluded.loyalty_points, created_at = excluded.created_at,"
     " updated_at = excluded.updated_at, is_deleted = excluded.is_deleted, is_inferred = false,"
     " origin_stream = excluded.origin_stream, loaded_at = excluded.loaded_at,"
     " run_id = excluded.run_id"
     " WHERE (t.name, t.phone, t.email, t.status, t.loyalty_points, t.created_at, t.updated_at,"
     " t.is_deleted, t.is_inferred) IS DISTINCT FROM (excluded.name, excluded.phone,"
     " excluded.email, excluded.status, excluded.loyalty_points, excluded.created_at,"
     " excluded.updated_at, excluded.is_deleted, excluded.is_inferred)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_customer")},

    {"merge dim_product", STEP_UPSERT, ST(STG_PRODUCT),
     "WITH up AS (INSERT INTO dw.dim_product AS t (source_key, product_id, sku, name,"
     " product_type, category_key, brand, list_price, currency, is_active, is_deleted,"
     " is_inferred, origin_stream, created_at, updated_at, loaded_at, run_id)"
     " SELECT $1, s.product_id, s.sku, s.name, s.product_type, coalesce(c.category_key, 0),"
     " s.brand, s.list_price, upper(s.currency), s.is_active, s.is_deleted, false, $3,"
     " s.created_at, s.updated_at, now(), $2 FROM stg_product s"
     " LEFT JOIN dw.dim_category c ON c.source_key = $1 AND c.category_id = s.category_id"
     " ON CONFLICT (source_key, product_id) DO UPDATE SET sku = excluded.sku,"
     " name = excluded.name, product_type = excluded.product_type,"
     " category_key = excluded.category_key, brand = excluded.brand,"
     " list_price = excluded.list_price, currency = excluded.currency,"
     " is_active = excluded.is_active, is_deleted = excluded.is_deleted, is_inferred = false,"
     " origin_stream = excluded.origin_stream, created_at = excluded.created_at,"
     " updated_at = excluded.updated_at, loaded_at = excluded.loaded_at,"
     " run_id = excluded.run_id"
     " WHERE (t.sku, t.name, t.product_type, t.category_key, t.brand, t.list_price, t.currency,"
     " t.is_active, t.is_deleted, t.is_inferred, t.created_at, t.updated_at)"
     " IS DISTINCT FROM (excluded.sku, excluded.name, excluded.product_type,"
     " excluded.category_key, excluded.brand, excluded.list_price, excluded.currency,"
     " excluded.is_active, excluded.is_deleted, excluded.is_inferred, excluded.created_at,"
     " excluded.updated_at)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_product")},

    {"infer dim_product (components)", STEP_PLAIN, ST(STG_COMPONENT),
     "INSERT INTO dw.dim_product (source_key, product_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, x.id, true, now(), $2::bigint FROM"
     " (SELECT parent_id AS id FROM stg_component UNION SELECT component_id FROM stg_component) x"
     " WHERE NOT EXISTS (SELECT 1 FROM dw.dim_product p"
     "  WHERE p.source_key = $1 AND p.product_id = x.id)"
     " ON CONFLICT DO NOTHING"},

    {"merge bridge_product_component", STEP_UPSERT, ST(STG_COMPONENT),
     "WITH k AS (SELECT pp.product_key AS parent_key, cp.product_key AS component_key, s.slot,"
     "  s.quantity, s.special_price, s.seq FROM stg_component s"
     "  JOIN dw.dim_product pp ON pp.source_key = $1 AND pp.product_id = s.parent_id"
     "  JOIN dw.dim_product cp ON cp.source_key = $1 AND cp.product_id = s.component_id),"
     " s AS (SELECT DISTINCT ON (parent_key, component_key, slot) * FROM k"
     "  ORDER BY parent_key, component_key, slot, seq DESC),"
     " up AS (INSERT INTO dw.bridge_product_component AS t (parent_product_key,"
     " component_product_key, slot, source_key, quantity, special_price, is_deleted,"
     " origin_stream, loaded_at, run_id)"
     " SELECT s.parent_key, s.component_key, s.slot, $1, s.quantity, s.special_price, false, $3,"
     " now(), $2 FROM s"
     " ON CONFLICT (parent_product_key, component_product_key, slot) DO UPDATE SET"
     " quantity = excluded.quantity, special_price = excluded.special_price,"
     " is_deleted = false, origin_stream = excluded.origin_stream,"
     " loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.quantity, t.special_price, t.is_deleted) IS DISTINCT FROM"
     " (excluded.quantity, excluded.special_price, excluded.is_deleted)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("s")},

    /* The components staged for a parent are its whole recipe. */
    {"complete bridge_product_component", STEP_DELETE, ST(STG_COMPONENT),
     "WITH d AS (UPDATE dw.bridge_product_component t"
     " SET is_deleted = true, loaded_at = now(), run_id = $2"
     " FROM dw.dim_product pp, dw.dim_product cp"
     " WHERE pp.product_key = t.parent_product_key AND cp.product_key = t.component_product_key"
     " AND pp.source_key = $1 AND NOT t.is_deleted"
     " AND pp.product_id IN (SELECT parent_id FROM stg_component)"
     " AND NOT EXISTS (SELECT 1 FROM stg_component s WHERE s.parent_id = pp.product_id"
     "  AND s.component_id = cp.product_id AND s.slot = t.slot)"
     " RETURNING 1) SELECT count(*) FROM d"},

    /* -- inferred members and dates for the facts -- */
    {"infer dim_store (facts)", STEP_PLAIN, ST(STG_ORDER) | ST(STG_INVENTORY),
     "INSERT INTO dw.dim_store (source_key, kind, store_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, x.kind, x.store_id, true, now(), $2::bigint FROM"
     " (SELECT store_kind AS kind, store_id FROM stg_order WHERE store_id IS NOT NULL"
     "  UNION SELECT store_kind, store_id FROM stg_inventory WHERE store_id IS NOT NULL) x"
     " WHERE NOT EXISTS (SELECT 1 FROM dw.dim_store d"
     "  WHERE d.source_key = $1 AND d.kind = x.kind AND d.store_id = x.store_id)"
     " ON CONFLICT DO NOTHING"},

    {"infer dim_customer (orders)", STEP_PLAIN, ST(STG_ORDER),
     "INSERT INTO dw.dim_customer (source_key, customer_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, s.customer_id, true, now(), $2::bigint FROM stg_order s"
     " WHERE s.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_customer c"
     "  WHERE c.source_key = $1 AND c.customer_id = s.customer_id)"
     " ON CONFLICT DO NOTHING"},

    {"infer dim_product (facts)", STEP_PLAIN, ST(STG_ORDER_LINE) | ST(STG_INVENTORY),
     "INSERT INTO dw.dim_product (source_key, product_id, is_inferred, loaded_at, run_id)"
     " SELECT DISTINCT $1::smallint, x.id, true, now(), $2::bigint FROM"
     " (SELECT product_id AS id FROM stg_order_line UNION SELECT bundle_id FROM stg_order_line"
     "  UNION SELECT product_id FROM stg_inventory) x"
     " WHERE x.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_product p"
     "  WHERE p.source_key = $1 AND p.product_id = x.id)"
     " ON CONFLICT DO NOTHING"},

    {"ensure dim_date", STEP_PLAIN, ST(STG_ORDER) | ST(STG_PAYMENT) | ST(STG_INVENTORY),
     "SELECT etl.ensure_dim_date(ARRAY("
     " SELECT coalesce(order_date, (ordered_at AT TIME ZONE " SOURCE_TZ ")::date) FROM stg_order"
     " UNION SELECT coalesce(payment_date, (paid_at AT TIME ZONE " SOURCE_TZ ")::date)"
     "  FROM stg_payment"
     " UNION SELECT snapshot_date FROM stg_inventory), $2)"},

    /* -- facts -- */
    /* A tombstone (a split order's original) marks the order deleted and keeps its
     * amounts for history; the upsert below skips tombstones. */
    {"tombstone fact_order", STEP_DELETE, ST(STG_ORDER),
     "WITH d AS (UPDATE dw.fact_order t SET is_deleted = true, loaded_at = now(), run_id = $2"
     " FROM stg_order s WHERE s.tombstone AND t.source_key = $1 AND t.order_id = s.order_id"
     " AND NOT t.is_deleted RETURNING 1) SELECT count(*) FROM d"},

    {"merge fact_order", STEP_UPSERT, ST(STG_ORDER),
     "WITH up AS (INSERT INTO dw.fact_order AS t (source_key, order_id, order_number, store_key,"
     " customer_key, order_date_key, ordered_at, status, status_group, currency, subtotal,"
     " discount_total, tax_total, shipping_total, total, paid_total, line_count,"
     " source_updated_at, is_deleted, loaded_at, run_id)"
     " SELECT $1, s.order_id, s.order_number, coalesce(st.store_key, 0),"
     " coalesce(c.customer_key, 0), coalesce(dw.date_key(coalesce(s.order_date,"
     " (s.ordered_at AT TIME ZONE " SOURCE_TZ ")::date)), 0), s.ordered_at, s.status,"
     " s.status_group, upper(s.currency), s.subtotal, s.discount_total, s.tax_total,"
     " s.shipping_total, s.total, s.paid_total, s.line_count, s.source_updated_at, s.is_deleted,"
     " now(), $2 FROM stg_order s"
     " LEFT JOIN dw.dim_store st ON st.source_key = $1 AND st.kind = s.store_kind"
     "  AND st.store_id = s.store_id"
     " LEFT JOIN dw.dim_customer c ON c.source_key = $1 AND c.customer_id = s.customer_id"
     " WHERE NOT s.tombstone"
     " ON CONFLICT (source_key, order_id) DO UPDATE SET order_number = excluded.order_number,"
     " store_key = excluded.store_key, customer_key = excluded.customer_key,"
     " order_date_key = excluded.order_date_key, ordered_at = excluded.ordered_at,"
     " status = excluded.status, status_group = excluded.status_group,"
     " currency = excluded.currency, subtotal = excluded.subtotal,"
     " discount_total = excluded.discount_total, tax_total = excluded.tax_total,"
     " shipping_total = excluded.shipping_total, total = excluded.total,"
     " paid_total = excluded.paid_total, line_count = excluded.line_count,"
     " source_updated_at = excluded.source_updated_at, is_deleted = excluded.is_deleted,"
     " loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.order_number, t.store_key, t.customer_key, t.order_date_key, t.ordered_at,"
     " t.status, t.status_group, t.currency, t.subtotal, t.discount_total, t.tax_total,"
     " t.shipping_total, t.total, t.paid_total, t.line_count, t.source_updated_at, t.is_deleted)"
     " IS DISTINCT FROM (excluded.order_number, excluded.store_key, excluded.customer_key,"
     " excluded.order_date_key, excluded.ordered_at, excluded.status, excluded.status_group,"
     " excluded.currency, excluded.subtotal, excluded.discount_total, excluded.tax_total,"
     " excluded.shipping_total, excluded.total, excluded.paid_total, excluded.line_count,"
     " excluded.source_updated_at, excluded.is_deleted)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_order WHERE NOT tombstone")},

    /* Store, customer and date of a line are its order's. */
    {"merge fact_order_line", STEP_UPSERT, ST(STG_ORDER_LINE),
     "WITH up AS (INSERT INTO dw.fact_order_line AS t (source_key, order_id, line_id, order_key,"
     " product_key, bundle_product_key, store_key, customer_key, order_date_key, quantity,"
     " unit_price, discount, tax, line_total, cost, currency, is_deleted, loaded_at, run_id)"
     " SELECT $1, s.order_id, s.line_id, coalesce(o.order_key, 0), coalesce(p.product_key, 0),"
     " coalesce(b.product_key, 0), coalesce(o.store_key, 0), coalesce(o.customer_key, 0),"
     " coalesce(o.order_date_key, 0), s.quantity, s.unit_price, s.discount, s.tax,"
     " s.line_total, s.cost, upper(coalesce(s.currency, o.currency)), false, now(), $2"
     " FROM stg_order_line s"
     " LEFT JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id"
     " LEFT JOIN dw.dim_product p ON p.source_key = $1 AND p.product_id = s.product_id"
     " LEFT JOIN dw.dim_product b ON b.source_key = $1 AND b.product_id = s.bundle_id"
     " ON CONFLICT (source_key, order_id, line_id) DO UPDATE SET order_key = excluded.order_key,"
     " product_key = excluded.product_key, bundle_product_key = excluded.bundle_product_key,"
     " store_key = excluded.store_key, customer_key = excluded.customer_key,"
     " order_date_key = excluded.order_date_key, quantity = excluded.quantity,"
     " unit_price = excluded.unit_price, discount = excluded.discount, tax = excluded.tax,"
     " line_total = excluded.line_total, cost = excluded.cost, currency = excluded.currency,"
     " is_deleted = false, loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.order_key, t.product_key, t.bundle_product_key, t.store_key, t.customer_key,"
     " t.order_date_key, t.quantity, t.unit_price, t.discount, t.tax, t.line_total, t.cost,"
     " t.currency, t.is_deleted) IS DISTINCT FROM (excluded.order_key, excluded.product_key,"
     " excluded.bundle_product_key, excluded.store_key, excluded.customer_key,"
     " excluded.order_date_key, excluded.quantity, excluded.unit_price, excluded.discount,"
     " excluded.tax, excluded.line_total, excluded.cost, excluded.currency, excluded.is_deleted)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_order_line")},

    /* Lines of staged orders that were not staged themselves (or were loaded
     * before their order, with order_key 0) follow the order's keys. */
    {"sync fact_order_line keys", STEP_PLAIN, ST(STG_ORDER),
     "UPDATE dw.fact_order_line l SET order_key = o.order_key, store_key = o.store_key,"
     " customer_key = o.customer_key, order_date_key = o.order_date_key, loaded_at = now(),"
     " run_id = $2"
     " FROM stg_order s JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id"
     " WHERE l.source_key = $1 AND l.order_id = s.order_id"
     " AND (l.order_key, l.store_key, l.customer_key, l.order_date_key) IS DISTINCT FROM"
     " (o.order_key, o.store_key, o.customer_key, o.order_date_key)"},

    /* Lines of an order staged with lines_complete that were not staged are gone
     * at the source; every line of a deleted order is deleted with it. */
    {"complete fact_order_line", STEP_DELETE, ST(STG_ORDER),
     "WITH d AS (UPDATE dw.fact_order_line l SET is_deleted = true, loaded_at = now(),"
     " run_id = $2 FROM stg_order s"
     " WHERE l.source_key = $1 AND l.order_id = s.order_id AND NOT l.is_deleted"
     " AND (s.is_deleted OR (s.lines_complete AND NOT EXISTS (SELECT 1 FROM stg_order_line sl"
     "  WHERE sl.order_id = l.order_id AND sl.line_id = l.line_id)))"
     " RETURNING 1) SELECT count(*) FROM d"},

    {"merge fact_payment", STEP_UPSERT, ST(STG_PAYMENT),
     "WITH up AS (INSERT INTO dw.fact_payment AS t (source_key, payment_id, order_id, order_key,"
     " store_key, customer_key, payment_date_key, paid_at, payment_type, method, amount,"
     " bonus_amount, currency, is_deleted, loaded_at, run_id)"
     " SELECT $1, s.payment_id, s.order_id, coalesce(o.order_key, 0), coalesce(o.store_key, 0),"
     " coalesce(o.customer_key, 0), coalesce(dw.date_key(coalesce(s.payment_date,"
     " (s.paid_at AT TIME ZONE " SOURCE_TZ ")::date)), 0), s.paid_at, s.payment_type, s.method,"
     " s.amount, s.bonus_amount, upper(coalesce(s.currency, o.currency)), false, now(), $2"
     " FROM stg_payment s"
     " LEFT JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id"
     " ON CONFLICT (source_key, payment_id) DO UPDATE SET order_id = excluded.order_id,"
     " order_key = excluded.order_key, store_key = excluded.store_key,"
     " customer_key = excluded.customer_key, payment_date_key = excluded.payment_date_key,"
     " paid_at = excluded.paid_at, payment_type = excluded.payment_type,"
     " method = excluded.method, amount = excluded.amount,"
     " bonus_amount = excluded.bonus_amount, currency = excluded.currency, is_deleted = false,"
     " loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.order_id, t.order_key, t.store_key, t.customer_key, t.payment_date_key,"
     " t.paid_at, t.payment_type, t.method, t.amount, t.bonus_amount, t.currency, t.is_deleted)"
     " IS DISTINCT FROM (excluded.order_id, excluded.order_key, excluded.store_key,"
     " excluded.customer_key, excluded.payment_date_key, excluded.paid_at,"
     " excluded.payment_type, excluded.method, excluded.amount, excluded.bonus_amount,"
     " excluded.currency, excluded.is_deleted)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("stg_payment")},

    {"sync fact_payment keys", STEP_PLAIN, ST(STG_ORDER),
     "UPDATE dw.fact_payment p SET order_key = o.order_key, store_key = o.store_key,"
     " customer_key = o.customer_key, loaded_at = now(), run_id = $2"
     " FROM stg_order s JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id"
     " WHERE p.source_key = $1 AND p.order_id = s.order_id"
     " AND (p.order_key, p.store_key, p.customer_key) IS DISTINCT FROM"
     " (o.order_key, o.store_key, o.customer_key)"},

    {"complete fact_payment", STEP_DELETE, ST(STG_ORDER),
     "WITH d AS (UPDATE dw.fact_payment p SET is_deleted = true, loaded_at = now(),"
     " run_id = $2 FROM stg_order s"
     " WHERE p.source_key = $1 AND p.order_id = s.order_id AND NOT p.is_deleted"
     " AND (s.is_deleted OR (s.payments_complete AND NOT EXISTS (SELECT 1 FROM stg_payment sp"
     "  WHERE sp.payment_id = p.payment_id)))"
     " RETURNING 1) SELECT count(*) FROM d"},

    /* captured_at is not compared: re-reading equal stock does not rewrite the row. */
    {"merge fact_inventory_snapshot", STEP_UPSERT, ST(STG_INVENTORY),
     "WITH k AS (SELECT dw.date_key(s.snapshot_date) AS date_key,"
     "  coalesce(p.product_key, 0) AS product_key, coalesce(st.store_key, 0) AS store_key,"
     "  s.on_hand, s.available, s.reserved, s.on_order, s.unit_cost, s.unit_price,"
     "  s.inventory_value, coalesce(s.captured_at, now()) AS captured_at, s.seq"
     "  FROM stg_inventory s"
     "  LEFT JOIN dw.dim_product p ON p.source_key = $1 AND p.product_id = s.product_id"
     "  LEFT JOIN dw.dim_store st ON st.source_key = $1 AND st.kind = s.store_kind"
     "   AND st.store_id = s.store_id),"
     " s AS (SELECT DISTINCT ON (date_key, product_key, store_key) * FROM k"
     "  ORDER BY date_key, product_key, store_key, seq DESC),"
     " up AS (INSERT INTO dw.fact_inventory_snapshot AS t (source_key, snapshot_date_key,"
     " product_key, store_key, on_hand, available, reserved, on_order, unit_cost, unit_price,"
     " inventory_value, captured_at, loaded_at, run_id)"
     " SELECT $1, s.date_key, s.product_key, s.store_key, s.on_hand, s.available, s.reserved,"
     " s.on_order, s.unit_cost, s.unit_price, s.inventory_value, s.captured_at, now(), $2 FROM s"
     " ON CONFLICT (source_key, product_key, store_key, snapshot_date_key) DO UPDATE SET"
     " on_hand = excluded.on_hand, available = excluded.available,"
     " reserved = excluded.reserved, on_order = excluded.on_order,"
     " unit_cost = excluded.unit_cost, unit_price = excluded.unit_price,"
     " inventory_value = excluded.inventory_value, captured_at = excluded.captured_at,"
     " loaded_at = excluded.loaded_at, run_id = excluded.run_id"
     " WHERE (t.on_hand, t.available, t.reserved, t.on_order, t.unit_cost, t.unit_price,"
     " t.inventory_value) IS DISTINCT FROM (excluded.on_hand, excluded.available,"
     " excluded.reserved, excluded.on_order, excluded.unit_cost, excluded.unit_price,"
     " excluded.inventory_value)"
     " RETURNING (t.xmax = 0) AS inserted)" COUNT_UPSERT("s")},
};

/* ---- cursor and rejects ----------------------------------------------------- */

/* $4: the cursor, JSON text. */
static const char cursor_upsert_sql[] =
    "INSERT INTO etl.sync_state (source_key, stream, cursor, updated_at, run_id)"
    " VALUES ($1, $3, $4::jsonb, now(), $2)"
    " ON CONFLICT (source_key, stream) DO UPDATE SET cursor = excluded.cursor,"
    " updated_at = excluded.updated_at, run_id = excluded.run_id";

static const char rejects_insert_sql[] =
    "INSERT INTO etl.reject (run_id, source_key, stream, record_id, reason, raw, raw_length,"
    " created_at) SELECT $2, $1, $3, record_id, reason, raw, raw_length, now()"
    " FROM stg_reject ORDER BY seq";

/* Rows of the records PostgreSQL refused (stg_drop), taken out of staging before
 * the merge, so one bad record is one reject and never half a record: an order
 * ('o') goes with its lines and payments, a payment without order ('p') with its
 * copies, a recipe ('c') with every component of its parent; that parent's
 * warehouse components join seen_component, so a full read keeps them. */
static const char *const purge_sqls[] = {
    "DELETE FROM stg_order WHERE order_id IN (SELECT id FROM stg_drop WHERE kind = 'o')",
    "DELETE FROM stg_order_line WHERE order_id IN (SELECT id FROM stg_drop WHERE kind = 'o')",
    "DELETE FROM stg_payment WHERE order_id IN (SELECT id FROM stg_drop WHERE kind = 'o')"
    " OR payment_id IN (SELECT id FROM stg_drop WHERE kind = 'p')",
    "INSERT INTO seen_component SELECT pp.product_id, cp.product_id, t.slot"
    " FROM dw.bridge_product_component t"
    " JOIN dw.dim_product pp ON pp.product_key = t.parent_product_key"
    " JOIN dw.dim_product cp ON cp.product_key = t.component_product_key"
    " WHERE pp.source_key = $1 AND NOT t.is_deleted"
    " AND pp.product_id IN (SELECT id FROM stg_drop WHERE kind = 'c')",
    "DELETE FROM stg_component WHERE parent_id IN (SELECT id FROM stg_drop WHERE kind = 'c')",
};

static const char drop_insert_sql[] = "INSERT INTO stg_drop (kind, id) VALUES ($1, $2)";

/* A refused dimension row keeps its key in the stream's full read (a row
 * PostgreSQL refused is not a row the source deleted). Parameters: the row's
 * first fields. */
static const char *const seen_keep_sqls[STG__COUNT] = {
    [STG_STORE] = "INSERT INTO seen_store VALUES ($1, $2)",
    [STG_CUSTOMER] = "INSERT INTO seen_customer VALUES ($1)",
    [STG_CATEGORY] = "INSERT INTO seen_category VALUES ($1)",
    [STG_PRODUCT] = "INSERT INTO seen_product VALUES ($1)",
};

static const char reject_insert_sql[] =
    "INSERT INTO stg_reject (record_id, reason, raw, raw_length) VALUES ($1, $2, $3, $4)";

#endif
