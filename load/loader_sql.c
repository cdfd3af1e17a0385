/* loader_sql: the loader's tables of SQL. See loader_sql.h. */
#include "load/loader_sql.h"

#include <stdio.h>
#include <string.h>

#include "load/sql_embed.h"

/* ---- staging ------------------------------------------------------------- */

/* A staging column's type, by the field's kind (transform/rows.h): the warehouse
 * columns' own (numeric(20,4), varchar(3) for the char(3) currencies,
 * timestamptz, date, integer), so a value PostgreSQL refuses fails the COPY,
 * where the error names the row, not a merge: the loader turns such a row into a
 * reject (see stage_flush). */
#define STAGE_TYPE_ID "text NOT NULL"
#define STAGE_TYPE_DAY_ID "date NOT NULL"
#define STAGE_TYPE_KIND "text NOT NULL"
#define STAGE_TYPE_REF_KIND "text"
#define STAGE_TYPE_REF "text"
#define STAGE_TYPE_SLOT "text NOT NULL"
#define STAGE_TYPE_TEXT "text"
#define STAGE_TYPE_AMOUNT "numeric(20,4)"
#define STAGE_TYPE_CURRENCY "varchar(3)"
#define STAGE_TYPE_TIME "timestamptz"
#define STAGE_TYPE_DATE "date"
#define STAGE_TYPE_INT "integer"
#define STAGE_TYPE_BOOL "boolean NOT NULL"

/* stg_reject's columns (loader_put_reject and the refused rows write them). */
#define STAGE_REJECT_COLUMNS(X) X(TEXT, record_id) X(ID, reason) X(TEXT, raw) X(INT, raw_length)

#define DDL_COLUMN(kind, field) ", " #field " " STAGE_TYPE_##kind
#define DDL_TABLE(name, COLUMNS)                                                                   \
    "CREATE TEMP TABLE " name                                                                      \
    " (seq bigint GENERATED ALWAYS AS IDENTITY" COLUMNS(DDL_COLUMN) ") ON COMMIT DELETE ROWS;"

/* clang-format off: one table a line */
const char stage_ddl_sql[] = DDL_TABLE("stg_store", ROW_STORE_COLUMNS)
    DDL_TABLE("stg_customer", ROW_CUSTOMER_COLUMNS) DDL_TABLE("stg_category", ROW_CATEGORY_COLUMNS)
        DDL_TABLE("stg_product", ROW_PRODUCT_COLUMNS)
            DDL_TABLE("stg_component", ROW_COMPONENT_COLUMNS)
                DDL_TABLE("stg_order", ROW_ORDER_COLUMNS)
                    DDL_TABLE("stg_order_line", ROW_ORDER_LINE_COLUMNS)
                        DDL_TABLE("stg_payment", ROW_PAYMENT_COLUMNS)
                            DDL_TABLE("stg_inventory", ROW_INVENTORY_COLUMNS)
                                DDL_TABLE("stg_reject", STAGE_REJECT_COLUMNS)
    /* Records of the open checkpoint that PostgreSQL refused, whose other staged
     * rows the commit purges before merging (see purge_files). */
    "CREATE TEMP TABLE stg_drop (kind text NOT NULL, id text NOT NULL) ON COMMIT DELETE ROWS;"
    /* Natural keys staged by every checkpoint of the current stream (kept across
     * commits): a full read spread over several checkpoints compares the warehouse
     * with all of them. */
    "CREATE TEMP TABLE seen_store (kind text, store_id text);"
    "CREATE TEMP TABLE seen_customer (customer_id text);"
    "CREATE TEMP TABLE seen_category (category_id text);"
    "CREATE TEMP TABLE seen_product (product_id text);"
    "CREATE TEMP TABLE seen_component (parent_id text, component_id text, slot text)";
/* clang-format on */

/* The COPY column list of a column table: ", a, b, ..." from its third byte on
 * (the first ", " skipped). */
#define COPY_COLUMN(kind, field) ", " #field
#define COPY_COLUMNS(COLUMNS) (&(COLUMNS(COPY_COLUMN))[2])

#define DEDUPE(tbl, key)                                                                           \
    "DELETE FROM " tbl " WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER"             \
    " (PARTITION BY " key " ORDER BY seq DESC) AS n FROM " tbl ") AS d WHERE d.n > 1)"

/* A dimension: its key columns (keys) and the name of its table (dim_x). */
#define DIMENSION(tbl, COLUMNS, keys, dim)                                                         \
    .name = "stg_" tbl, .columns = COPY_COLUMNS(COLUMNS), .dedupe = DEDUPE("stg_" tbl, keys),      \
    .seen = "INSERT INTO seen_" tbl " SELECT " keys " FROM stg_" tbl,                              \
    .full_read = "full_read_" dim ".sql", .claim = "claim_" dim ".sql",                            \
    .seen_truncate = "TRUNCATE seen_" tbl, .target = dim

const stage_sql stage_sqls[STG__COUNT] = {
    [STG_STORE] = {DIMENSION("store", ROW_STORE_COLUMNS, "kind, store_id", "dim_store"),
                   .seen_keep = "INSERT INTO seen_store VALUES ($1, $2)",
                   .analyze = "dw.dim_store (source_key, kind, store_id)"},
    [STG_CUSTOMER] = {DIMENSION("customer", ROW_CUSTOMER_COLUMNS, "customer_id", "dim_customer"),
                      .seen_keep = "INSERT INTO seen_customer VALUES ($1)",
                      .analyze = "dw.dim_customer (source_key, customer_id)"},
    [STG_CATEGORY] = {DIMENSION("category", ROW_CATEGORY_COLUMNS, "category_id", "dim_category"),
                      .seen_keep = "INSERT INTO seen_category VALUES ($1)",
                      .analyze = "dw.dim_category (source_key, category_id)"},
    [STG_PRODUCT] = {DIMENSION("product", ROW_PRODUCT_COLUMNS, "product_id", "dim_product"),
                     .seen_keep = "INSERT INTO seen_product VALUES ($1)",
                     .analyze = "dw.dim_product (source_key, product_id)"},
    /* A refused component takes its parent's whole recipe instead (purge_files). */
    [STG_COMPONENT] = {DIMENSION("component", ROW_COMPONENT_COLUMNS,
                                 "parent_id, component_id, slot", "bridge_product_component"),
                       .analyze = "dw.bridge_product_component (parent_product_key,"
                                  " component_product_key, slot)"},
    [STG_ORDER] = {.name = "stg_order",
                   .columns = COPY_COLUMNS(ROW_ORDER_COLUMNS),
                   .dedupe = DEDUPE("stg_order", "order_id"),
                   .analyze = "dw.fact_order (source_key, order_id)"},
    [STG_ORDER_LINE] = {.name = "stg_order_line",
                        .columns = COPY_COLUMNS(ROW_ORDER_LINE_COLUMNS),
                        .dedupe = DEDUPE("stg_order_line", "order_id, line_id"),
                        .analyze = "dw.fact_order_line (source_key, order_id, line_id)"},
    [STG_PAYMENT] = {.name = "stg_payment",
                     .columns = COPY_COLUMNS(ROW_PAYMENT_COLUMNS),
                     .dedupe = DEDUPE("stg_payment", "payment_id"),
                     .analyze = "dw.fact_payment (source_key, order_id, payment_id)"},
    [STG_INVENTORY] = {.name = "stg_inventory",
                       .columns = COPY_COLUMNS(ROW_INVENTORY_COLUMNS),
                       .dedupe = DEDUPE("stg_inventory",
                                        "snapshot_date, product_id, store_kind, store_id"),
                       .analyze = "dw.fact_inventory_snapshot (source_key, product_key,"
                                  " store_key, snapshot_date_key)"},
    /* Every reject is kept: no de-duplication. */
    [STG_REJECT] = {.name = "stg_reject", .columns = COPY_COLUMNS(STAGE_REJECT_COLUMNS)},
};

bool stage_copy_target(stage_table t, char *dst, size_t size)
{
    int n = snprintf(dst, size, "%s (%s)", stage_sqls[t].name, stage_sqls[t].columns);
    return n >= 0 && (size_t)n < size;
}

/* ---- merge steps ---------------------------------------------------------- */

const char *const index_joins_on_sqls[INDEX_JOINS_SQLS] = {"SET LOCAL enable_hashjoin = off",
                                                           "SET LOCAL enable_mergejoin = off"};
const char *const index_joins_off_sqls[INDEX_JOINS_SQLS] = {"RESET enable_hashjoin",
                                                            "RESET enable_mergejoin"};
const char full_read_joins_on_sql[] = "SET LOCAL enable_nestloop = off";
const char full_read_joins_off_sql[] = "RESET enable_nestloop";

/* In the order they run; what each does is said at the top of its file. */
const merge_step merge_steps[MERGE_STEPS] = {
    /* -- dimensions -- */
    {"merge dim_store", STEP_UPSERT, ST(STG_STORE), "merge_dim_store.sql"},
    {"merge dim_category", STEP_UPSERT, ST(STG_CATEGORY), "merge_dim_category.sql"},
    {"infer dim_category (parents)", STEP_PLAIN, ST(STG_CATEGORY),
     "infer_dim_category_parents.sql"},
    {"resolve dim_category parents", STEP_PLAIN, ST(STG_CATEGORY),
     "resolve_dim_category_parents.sql"},
    {"infer dim_category (products)", STEP_PLAIN, ST(STG_PRODUCT),
     "infer_dim_category_products.sql"},
    {"path dim_category", STEP_PLAIN, ST(STG_CATEGORY) | ST(STG_PRODUCT), "path_dim_category.sql"},
    {"merge dim_customer", STEP_UPSERT, ST(STG_CUSTOMER), "merge_dim_customer.sql"},
    {"merge dim_product", STEP_UPSERT, ST(STG_PRODUCT), "merge_dim_product.sql"},
    {"infer dim_product (components)", STEP_PLAIN, ST(STG_COMPONENT),
     "infer_dim_product_components.sql"},
    {"merge bridge_product_component", STEP_UPSERT, ST(STG_COMPONENT),
     "merge_bridge_product_component.sql"},
    {"complete bridge_product_component", STEP_DELETE, ST(STG_COMPONENT),
     "complete_bridge_product_component.sql"},
    /* -- inferred members and dates for the facts -- */
    {"infer dim_store (facts)", STEP_PLAIN, ST(STG_ORDER) | ST(STG_INVENTORY),
     "infer_dim_store_facts.sql"},
    {"infer dim_customer (orders)", STEP_PLAIN, ST(STG_ORDER), "infer_dim_customer_orders.sql"},
    {"infer dim_product (facts)", STEP_PLAIN, ST(STG_ORDER_LINE) | ST(STG_INVENTORY),
     "infer_dim_product_facts.sql"},
    {"ensure dim_date", STEP_PLAIN, ST(STG_ORDER) | ST(STG_PAYMENT) | ST(STG_INVENTORY),
     "ensure_dim_date.sql"},
    /* -- facts -- */
    {"tombstone fact_order", STEP_DELETE, ST(STG_ORDER), "tombstone_fact_order.sql"},
    {"merge fact_order", STEP_UPSERT, ST(STG_ORDER), "merge_fact_order.sql"},
    {"merge fact_order_line", STEP_UPSERT, ST(STG_ORDER_LINE), "merge_fact_order_line.sql"},
    {"sync fact_order_line keys", STEP_PLAIN, ST(STG_ORDER), "sync_fact_order_line_keys.sql"},
    {"complete fact_order_line", STEP_DELETE, ST(STG_ORDER), "complete_fact_order_line.sql"},
    {"merge fact_payment", STEP_UPSERT, ST(STG_PAYMENT), "merge_fact_payment.sql"},
    {"sync fact_payment keys", STEP_PLAIN, ST(STG_ORDER), "sync_fact_payment_keys.sql"},
    {"complete fact_payment", STEP_DELETE, ST(STG_ORDER), "complete_fact_payment.sql"},
    {"merge fact_inventory_snapshot", STEP_UPSERT, ST(STG_INVENTORY),
     "merge_fact_inventory_snapshot.sql"},
};

/* ---- cursor, rejects, refused records -------------------------------------- */

const char seen_truncate_sql[] =
    "TRUNCATE seen_store, seen_customer, seen_category, seen_product, seen_component";
const char cursor_upsert_file[] = "write_cursor.sql";
const char rejects_insert_file[] = "write_rejects.sql";
const char reject_insert_sql[] =
    "INSERT INTO stg_reject (record_id, reason, raw, raw_length) VALUES ($1, $2, $3, $4)";
const char drop_insert_sql[] = "INSERT INTO stg_drop (kind, id) VALUES ($1, $2)";
/* In this order: a refused recipe's warehouse components join seen_component
 * before its staged components leave. */
const char *const purge_files[PURGE_STEPS] = {"purge_orders.sql", "purge_order_lines.sql",
                                              "purge_payments.sql", "purge_keep_recipes.sql",
                                              "purge_components.sql"};

const char *loader_sql_text(const char *file)
{
    for (int i = 0; i < sql_merge_files_count; i++)
        if (strcmp(sql_merge_files[i].name, file) == 0)
            return sql_merge_files[i].text;
    return NULL;
}

/* file (NULL: none, when optional) names a compiled-in statement. */
static fe_rc sql_present(const char *file, bool optional, fe_err *err)
{
    if (!file && !optional)
        return fe_err_set(err, FE_EINVAL, "a loader statement has no sql/merge file");
    if (file && !loader_sql_text(file))
        return fe_err_set(err, FE_EINVAL, "sql/merge/%s is not compiled in", file);
    return FE_OK;
}

fe_rc loader_sql_check(fe_err *err)
{
    for (int t = 0; t < STG__COUNT; t++) {
        FE_TRY(sql_present(stage_sqls[t].full_read, true, err));
        FE_TRY(sql_present(stage_sqls[t].claim, !stage_sqls[t].full_read, err));
    }
    for (int i = 0; i < MERGE_STEPS; i++)
        FE_TRY(sql_present(merge_steps[i].name ? merge_steps[i].file : NULL, false, err));
    for (int i = 0; i < PURGE_STEPS; i++)
        FE_TRY(sql_present(purge_files[i], false, err));
    FE_TRY(sql_present(cursor_upsert_file, false, err));
    return sql_present(rejects_insert_file, false, err);
}
