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

typedef struct {
    const char *kind; /* store | shop | channel | warehouse */
    const char *store_id, *name, *address, *currency, *timezone, *status;
    bool is_deleted;
} row_store;

typedef struct {
    const char *customer_id, *name, *phone, *email, *status;
    const char *loyalty_points; /* decimal */
    const char *created_at, *updated_at;
    bool is_deleted;
} row_customer;

typedef struct {
    const char *category_id, *name, *parent_id; /* parent_id NULL for a root */
    bool is_deleted;
} row_category;

typedef struct {
    const char *product_id, *sku, *name;
    const char *product_type; /* standard kit group bundle addon service bouquet */
    const char *category_id, *brand;
    const char *list_price, *currency;
    const char *created_at, *updated_at;
    bool is_active, is_deleted;
} row_product;

/* The components staged for one parent in one checkpoint are its whole recipe:
 * the parent's other warehouse components are marked is_deleted. */
typedef struct {
    const char *parent_id, *component_id;
    const char *slot; /* "" when the source has no slots */
    const char *quantity, *special_price;
} row_component;

typedef struct {
    const char *order_id, *order_number;
    const char *store_kind, *store_id, *customer_id; /* store_kind NULL = "store" */
    const char *ordered_at;
    const char *order_date;            /* business date "YYYY-MM-DD" when the source gives one;
                                          NULL: the merge takes ordered_at in the source's zone */
    const char *status, *status_group; /* open completed canceled returned */
    const char *currency;
    const char *subtotal, *discount_total, *tax_total, *shipping_total, *total, *paid_total;
    const char *line_count; /* integer text */
    const char *source_updated_at;
    bool is_deleted;
    bool tombstone;         /* only marks the warehouse's order deleted (with its lines and
                               payments), keeping what it held; every field but order_id
                               is ignored, and an order never loaded is not created */
    bool lines_complete;    /* the staged lines are all the order's lines: warehouse lines
                               of this order that were not staged are marked is_deleted */
    bool payments_complete; /* likewise for payments */
} row_order;

typedef struct {
    const char *order_id, *line_id, *product_id;
    const char *bundle_id; /* product this line is a component of (Posiflora bouquet), or NULL */
    const char *quantity, *unit_price, *discount, *tax, *line_total, *cost, *currency;
} row_order_line;

typedef struct {
    const char *payment_id, *order_id;
    const char *paid_at, *payment_date; /* payment_date NULL: derived like order_date */
    const char *payment_type;           /* payment | refund | change */
    const char *method, *amount, *bonus_amount, *currency;
} row_payment;

typedef struct {
    const char *snapshot_date; /* "YYYY-MM-DD" */
    const char *product_id, *store_kind, *store_id;
    const char *on_hand, *available, *reserved, *on_order;
    const char *unit_cost, *unit_price, *inventory_value;
    const char *captured_at;
} row_inventory;

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
