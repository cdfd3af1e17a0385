/* row_recorder: the recording row_sink shared by the mapping unit tests. */
#include "tests/unit/row_recorder.h"

#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void recorder_clear(recorder *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->rows[i]);
    r->n = 0;
    r->fail_with = FE_OK;
    r->fail_kind = NULL;
}

/* Appends "kind|f1|f2|..." with NULL fields spelled NULL. */
static fe_rc record_row(void *ctx, fe_err *err, const char *kind, int n, ...)
{
    recorder *r = ctx;
    buf b;
    va_list ap;
    if (r->fail_with != FE_OK && (!r->fail_kind || strcmp(r->fail_kind, kind) == 0))
        return fe_err_set(err, r->fail_with, "recorder told to fail");
    CU_ASSERT_FATAL(r->n < RECORDER_MAX_ROWS);
    buf_init(&b, 0);
    CU_ASSERT_FATAL(buf_puts(&b, kind));
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *v = va_arg(ap, const char *);
        CU_ASSERT_FATAL(buf_putc(&b, '|') && buf_puts(&b, v ? v : "NULL"));
    }
    va_end(ap);
    r->rows[r->n++] = buf_take(&b, NULL);
    return FE_OK;
}

static const char *tf(bool v)
{
    return v ? "t" : "f";
}

static fe_rc rec_store(void *c, const row_store *r, fe_err *e)
{
    return record_row(c, e, "store", 8, r->kind, r->store_id, r->name, r->address, r->currency,
                      r->timezone, r->status, tf(r->is_deleted));
}
static fe_rc rec_customer(void *c, const row_customer *r, fe_err *e)
{
    return record_row(c, e, "customer", 9, r->customer_id, r->name, r->phone, r->email, r->status,
                      r->loyalty_points, r->created_at, r->updated_at, tf(r->is_deleted));
}
static fe_rc rec_category(void *c, const row_category *r, fe_err *e)
{
    return record_row(c, e, "category", 4, r->category_id, r->name, r->parent_id,
                      tf(r->is_deleted));
}
static fe_rc rec_product(void *c, const row_product *r, fe_err *e)
{
    return record_row(c, e, "product", 12, r->product_id, r->sku, r->name, r->product_type,
                      r->category_id, r->brand, r->list_price, r->currency, r->created_at,
                      r->updated_at, tf(r->is_active), tf(r->is_deleted));
}
static fe_rc rec_component(void *c, const row_component *r, fe_err *e)
{
    return record_row(c, e, "component", 5, r->parent_id, r->component_id, r->slot, r->quantity,
                      r->special_price);
}
static fe_rc rec_order(void *c, const row_order *r, fe_err *e)
{
    if (r->tombstone) /* the loader reads only its order_id */
        return record_row(c, e, "tombstone", 1, r->order_id);
    return record_row(c, e, "order", 21, r->order_id, r->order_number, r->store_kind, r->store_id,
                      r->customer_id, r->ordered_at, r->order_date, r->status, r->status_group,
                      r->currency, r->subtotal, r->discount_total, r->tax_total, r->shipping_total,
                      r->total, r->paid_total, r->line_count, r->source_updated_at,
                      tf(r->is_deleted), tf(r->lines_complete), tf(r->payments_complete));
}
static fe_rc rec_line(void *c, const row_order_line *r, fe_err *e)
{
    return record_row(c, e, "line", 11, r->order_id, r->line_id, r->product_id, r->bundle_id,
                      r->quantity, r->unit_price, r->discount, r->tax, r->line_total, r->cost,
                      r->currency);
}
static fe_rc rec_payment(void *c, const row_payment *r, fe_err *e)
{
    return record_row(c, e, "payment", 9, r->payment_id, r->order_id, r->paid_at, r->payment_date,
                      r->payment_type, r->method, r->amount, r->bonus_amount, r->currency);
}
static fe_rc rec_inventory(void *c, const row_inventory *r, fe_err *e)
{
    return record_row(c, e, "inventory", 12, r->snapshot_date, r->product_id, r->store_kind,
                      r->store_id, r->on_hand, r->available, r->reserved, r->on_order, r->unit_cost,
                      r->unit_price, r->inventory_value, r->captured_at);
}

row_sink recorder_sink(recorder *r)
{
    return (row_sink){.ctx = r,
                      .store = rec_store,
                      .customer = rec_customer,
                      .category = rec_category,
                      .product = rec_product,
                      .component = rec_component,
                      .order = rec_order,
                      .order_line = rec_line,
                      .payment = rec_payment,
                      .inventory = rec_inventory};
}

void recorder_assert_rows(const recorder *r, const char *const *want, int n)
{
    CU_ASSERT_EQUAL(r->n, n);
    for (int i = 0; i < n && i < r->n; i++) {
        if (strcmp(r->rows[i], want[i]) != 0)
            fprintf(stderr, "\nrow %d\n  want %s\n  got  %s\n", i, want[i], r->rows[i]);
        CU_ASSERT_STRING_EQUAL(r->rows[i], want[i]);
    }
    for (int i = n; i < r->n; i++)
        fprintf(stderr, "\nrow %d not wanted: %s\n", i, r->rows[i]);
}

bool recorder_has_kind(const recorder *r, const char *kind)
{
    size_t len = strlen(kind);
    for (int i = 0; i < r->n; i++)
        if (strncmp(r->rows[i], kind, len) == 0 && r->rows[i][len] == '|')
            return true;
    return false;
}

char *recorder_fixture(const char *name, size_t *len)
{
    char path[1024];
    const char *dir = getenv("FLOWETL_TEST_DATA");
    if (dir) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
    } else {
        const char *slash = strrchr(__FILE__, '/'); /* .../tests/unit/x.c -> .../tests/data */
        int n = slash ? (int)(slash - __FILE__) : 1;
        snprintf(path, sizeof path, "%.*s/../data/%s", n, slash ? __FILE__ : ".", name);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fprintf(stderr, "\ncannot read %s\n", path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    buf b;
    char chunk[4096];
    size_t got;
    buf_init(&b, 0);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        CU_ASSERT_FATAL(buf_append(&b, chunk, got));
    fclose(f);
    return buf_take(&b, len);
}
