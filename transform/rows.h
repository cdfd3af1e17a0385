/* rows: the unified rows a source mapping hands to the loader, one struct per
 * staging table. Every field is NUL-terminated text in the form PostgreSQL reads
 * for the column (decimals from decimal_format, times from time_format_iso) or
 * NULL for SQL NULL. The loader copies what it needs before returning, so the
 * pointers only have to live for the call. Natural keys are the source's own ids
 * as text; the loader resolves them to surrogate keys in the merge, creating
 * inferred dimension members for ids it has not seen. A NULL or empty foreign id
 * means "not provided" and resolves to the unknown member (key 0). */
#ifndef FE_ROWS_H
#define FE_ROWS_H

#include <stdbool.h>
#include "core/err.h"

typedef enum {
    STG_STORE = 0,
    STG_CUSTOMER,
    STG_CATEGORY,
    STG_PRODUCT,
    STG_COMPONENT,
    STG_ORDER,
    STG_ORDER_LINE,
    STG_PAYMENT,
    STG_INVENTORY,
    STG_REJECT,
    STG__COUNT
} stage_table;

/* Each staging row type is described once, by a column table: ROW_<TABLE>_COLUMNS(X)
 * calls X(KIND, field) for every column, in the staging table's column order. It
 * defines the row struct below (field names are the staging columns' names), and
 * load/ derives from it the COPY text of a row (load/stage_row), the COPY column
 * list and the staging table's DDL (load/loader_sql). A field's KIND says what it
 * holds (every field is const char * but BOOL's):
 *   ID       a natural id: a row without it (NULL or "") is refused by the loader
 *   DAY_ID   the same, a date "YYYY-MM-DD"
 *   KIND     the row's own store kind: store | shop | channel | warehouse;
 *            NULL or "" is "store"
 *   REF_KIND the kind of the store the row names in store_id (NULL or "": "store";
 *            none when store_id is not provided)
 *   REF      a foreign id; NULL or "" means not provided
 *   SLOT     text, NULL meaning ""
 *   TEXT     text
 *   AMOUNT   a decimal (decimal_format) that fits numeric(20,4)
 *   CURRENCY an ISO 4217 code
 *   TIME     a time (time_format_iso)
 *   DATE     a date "YYYY-MM-DD"
 *   INT      an integer
 *   BOOL     bool */
#define ROW_CTYPE_ID const char *
#define ROW_CTYPE_DAY_ID const char *
#define ROW_CTYPE_KIND const char *
#define ROW_CTYPE_REF_KIND const char *
#define ROW_CTYPE_REF const char *
#define ROW_CTYPE_SLOT const char *
#define ROW_CTYPE_TEXT const char *
#define ROW_CTYPE_AMOUNT const char *
#define ROW_CTYPE_CURRENCY const char *
#define ROW_CTYPE_TIME const char *
#define ROW_CTYPE_DATE const char *
#define ROW_CTYPE_INT const char *
#define ROW_CTYPE_BOOL bool
#define ROW_FIELD(kind, field) ROW_CTYPE_##kind field;

#define ROW_STORE_COLUMNS(X)                                                                       \
    X(KIND, kind)                                                                                  \
    X(ID, store_id)                                                                                \
    X(TEXT, name)                                                                                  \
    X(TEXT, address)                                                                               \
    X(CURRENCY, currency)                                                                          \
    X(TEXT, timezone)                                                                              \
    X(TEXT, status)                                                                                \
    X(BOOL, is_deleted)
typedef struct {
    ROW_STORE_COLUMNS(ROW_FIELD)
} row_store;

#define ROW_CUSTOMER_COLUMNS(X)                                                                    \
    X(ID, customer_id)                                                                             \
    X(TEXT, name)                                                                                  \
    X(TEXT, phone)                                                                                 \
    X(TEXT, email)                                                                                 \
    X(TEXT, status)                                                                                \
    X(AMOUNT, loyalty_points)                                                                      \
    X(TIME, created_at)                                                                            \
    X(TIME, updated_at)                                                                            \
    X(BOOL, is_deleted)
typedef struct {
    ROW_CUSTOMER_COLUMNS(ROW_FIELD)
} row_customer;

/* parent_id: NULL for a root. */
#define ROW_CATEGORY_COLUMNS(X)                                                                    \
    X(ID, category_id)                                                                             \
    X(TEXT, name)                                                                                  \
    X(REF, parent_id)                                                                              \
    X(BOOL, is_deleted)
typedef struct {
    ROW_CATEGORY_COLUMNS(ROW_FIELD)
} row_category;

/* product_type: standard kit group bundle addon service bouquet. */
#define ROW_PRODUCT_COLUMNS(X)                                                                     \
    X(ID, product_id)                                                                              \
    X(TEXT, sku)                                                                                   \
    X(TEXT, name)                                                                                  \
    X(TEXT, product_type)                                                                          \
    X(REF, category_id)                                                                            \
    X(TEXT, brand)                                                                                 \
    X(AMOUNT, list_price)                                                                          \
    X(CURRENCY, currency)                                                                          \
    X(TIME, created_at)                                                                            \
    X(TIME, updated_at)                                                                            \
    X(BOOL, is_active)                                                                             \
    X(BOOL, is_deleted)
typedef struct {
    ROW_PRODUCT_COLUMNS(ROW_FIELD)
} row_product;

/* The components staged for one parent in one checkpoint are its whole recipe:
 * the parent's other warehouse components are marked is_deleted. slot: "" (or
 * NULL) when the source has no slots. */
#define ROW_COMPONENT_COLUMNS(X)                                                                   \
    X(ID, parent_id)                                                                               \
    X(ID, component_id)                                                                            \
    X(SLOT, slot)                                                                                  \
    X(AMOUNT, quantity)                                                                            \
    X(AMOUNT, special_price)
typedef struct {
    ROW_COMPONENT_COLUMNS(ROW_FIELD)
} row_component;

/* order_date: the business date when the source gives one; NULL: the merge
 * takes ordered_at in the source's zone. status_group: open completed canceled
 * returned.
 * tombstone: only marks the warehouse's order deleted (with its lines and
 * payments), keeping what it held; every field but order_id is ignored, and an
 * order never loaded is not created.
 * lines_complete: the staged lines are all the order's lines: warehouse lines of
 * this order that were not staged are marked is_deleted.
 * payments_complete: likewise for payments. */
#define ROW_ORDER_COLUMNS(X)                                                                       \
    X(ID, order_id)                                                                                \
    X(TEXT, order_number)                                                                          \
    X(REF_KIND, store_kind)                                                                        \
    X(REF, store_id)                                                                               \
    X(REF, customer_id)                                                                            \
    X(TIME, ordered_at)                                                                            \
    X(DATE, order_date)                                                                            \
    X(TEXT, status)                                                                                \
    X(TEXT, status_group)                                                                          \
    X(CURRENCY, currency)                                                                          \
    X(AMOUNT, subtotal)                                                                            \
    X(AMOUNT, discount_total)                                                                      \
    X(AMOUNT, tax_total)                                                                           \
    X(AMOUNT, shipping_total)                                                                      \
    X(AMOUNT, total)                                                                               \
    X(AMOUNT, paid_total)                                                                          \
    X(INT, line_count)                                                                             \
    X(TIME, source_updated_at)                                                                     \
    X(BOOL, is_deleted)                                                                            \
    X(BOOL, lines_complete)                                                                        \
    X(BOOL, payments_complete)                                                                     \
    X(BOOL, tombstone)
typedef struct {
    ROW_ORDER_COLUMNS(ROW_FIELD)
} row_order;

/* bundle_id: the product this line is a component of (Posiflora bouquet), or NULL. */
#define ROW_ORDER_LINE_COLUMNS(X)                                                                  \
    X(ID, order_id)                                                                                \
    X(ID, line_id)                                                                                 \
    X(REF, product_id)                                                                             \
    X(REF, bundle_id)                                                                              \
    X(AMOUNT, quantity)                                                                            \
    X(AMOUNT, unit_price)                                                                          \
    X(AMOUNT, discount)                                                                            \
    X(AMOUNT, tax)                                                                                 \
    X(AMOUNT, line_total)                                                                          \
    X(AMOUNT, cost)                                                                                \
    X(CURRENCY, currency)
typedef struct {
    ROW_ORDER_LINE_COLUMNS(ROW_FIELD)
} row_order_line;

/* payment_date NULL: derived like order_date. payment_type: payment | refund | change. */
#define ROW_PAYMENT_COLUMNS(X)                                                                     \
    X(ID, payment_id)                                                                              \
    X(REF, order_id)                                                                               \
    X(TIME, paid_at)                                                                               \
    X(DATE, payment_date)                                                                          \
    X(TEXT, payment_type)                                                                          \
    X(TEXT, method)                                                                                \
    X(AMOUNT, amount)                                                                              \
    X(AMOUNT, bonus_amount)                                                                        \
    X(CURRENCY, currency)
typedef struct {
    ROW_PAYMENT_COLUMNS(ROW_FIELD)
} row_payment;

#define ROW_INVENTORY_COLUMNS(X)                                                                   \
    X(DAY_ID, snapshot_date)                                                                       \
    X(REF, product_id)                                                                             \
    X(REF_KIND, store_kind)                                                                        \
    X(REF, store_id)                                                                               \
    X(AMOUNT, on_hand)                                                                             \
    X(AMOUNT, available)                                                                           \
    X(AMOUNT, reserved)                                                                            \
    X(AMOUNT, on_order)                                                                            \
    X(AMOUNT, unit_cost)                                                                           \
    X(AMOUNT, unit_price)                                                                          \
    X(AMOUNT, inventory_value)                                                                     \
    X(TIME, captured_at)
typedef struct {
    ROW_INVENTORY_COLUMNS(ROW_FIELD)
} row_inventory;

/* The row types with a column table, as X(table, TABLE): row_<table>,
 * ROW_<TABLE>_COLUMNS, STG_<TABLE>. */
#define ROW_TABLES(X)                                                                              \
    X(store, STORE)                                                                                \
    X(customer, CUSTOMER)                                                                          \
    X(category, CATEGORY)                                                                          \
    X(product, PRODUCT)                                                                            \
    X(component, COMPONENT)                                                                        \
    X(order, ORDER)                                                                                \
    X(order_line, ORDER_LINE)                                                                      \
    X(payment, PAYMENT)                                                                            \
    X(inventory, INVENTORY)

typedef struct {
    const char *record_id; /* may be NULL */
    const char *reason;
    const char *raw; /* truncated by the loader to 8 KiB */
} row_reject;

/* Where a source mapping hands its rows: the loader (loader_row_sink) in
 * production, a recorder in unit tests, so mappings are tested without a
 * database. Every callback is called with ctx; all are set. A callback's
 * FE_EINVAL means the sink failed, never that the record was bad. */
typedef struct {
    void *ctx;
    fe_rc (*store)(void *ctx, const row_store *r, fe_err *err);
    fe_rc (*customer)(void *ctx, const row_customer *r, fe_err *err);
    fe_rc (*category)(void *ctx, const row_category *r, fe_err *err);
    fe_rc (*product)(void *ctx, const row_product *r, fe_err *err);
    fe_rc (*component)(void *ctx, const row_component *r, fe_err *err);
    fe_rc (*order)(void *ctx, const row_order *r, fe_err *err);
    fe_rc (*order_line)(void *ctx, const row_order_line *r, fe_err *err);
    fe_rc (*payment)(void *ctx, const row_payment *r, fe_err *err);
    fe_rc (*inventory)(void *ctx, const row_inventory *r, fe_err *err);
} row_sink;

#endif
