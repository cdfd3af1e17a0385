/* stage_row: the COPY text of each staging table's rows. See stage_row.h. */
#include "load/stage_row.h"

#include "load/copy.h"

const char *stage_opt_id(const char *id)
{
    return id && *id ? id : NULL;
}

/* The kind of a referenced store: "store" when the row names none. */
static const char *store_kind(const char *kind, const char *store_id)
{
    if (!stage_opt_id(store_id))
        return NULL;
    return kind && *kind ? kind : "store";
}

bool stage_row_store(buf *b, const row_store *r)
{
    return copy_field(b, store_kind(r->kind, r->store_id), true) &&
           copy_field(b, r->store_id, false) && copy_field(b, r->name, false) &&
           copy_field(b, r->address, false) && copy_field(b, r->currency, false) &&
           copy_field(b, r->timezone, false) && copy_field(b, r->status, false) &&
           copy_field_bool(b, r->is_deleted, false);
}

bool stage_row_customer(buf *b, const row_customer *r)
{
    return copy_field(b, r->customer_id, true) && copy_field(b, r->name, false) &&
           copy_field(b, r->phone, false) && copy_field(b, r->email, false) &&
           copy_field(b, r->status, false) && copy_field(b, r->loyalty_points, false) &&
           copy_field(b, r->created_at, false) && copy_field(b, r->updated_at, false) &&
           copy_field_bool(b, r->is_deleted, false);
}

bool stage_row_category(buf *b, const row_category *r)
{
    return copy_field(b, r->category_id, true) && copy_field(b, r->name, false) &&
           copy_field(b, stage_opt_id(r->parent_id), false) &&
           copy_field_bool(b, r->is_deleted, false);
}

bool stage_row_product(buf *b, const row_product *r)
{
    return copy_field(b, r->product_id, true) && copy_field(b, r->sku, false) &&
           copy_field(b, r->name, false) && copy_field(b, r->product_type, false) &&
           copy_field(b, stage_opt_id(r->category_id), false) && copy_field(b, r->brand, false) &&
           copy_field(b, r->list_price, false) && copy_field(b, r->currency, false) &&
           copy_field(b, r->created_at, false) && copy_field(b, r->updated_at, false) &&
           copy_field_bool(b, r->is_active, false) && copy_field_bool(b, r->is_deleted, false);
}

bool stage_row_component(buf *b, const row_component *r)
{
    return copy_field(b, r->parent_id, true) && copy_field(b, r->component_id, false) &&
           copy_field(b, r->slot ? r->slot : "", false) && copy_field(b, r->quantity, false) &&
           copy_field(b, r->special_price, false);
}

bool stage_row_order(buf *b, const row_order *r)
{
    return copy_field(b, r->order_id, true) && copy_field(b, r->order_number, false) &&
           copy_field(b, store_kind(r->store_kind, r->store_id), false) &&
           copy_field(b, stage_opt_id(r->store_id), false) &&
           copy_field(b, stage_opt_id(r->customer_id), false) &&
           copy_field(b, r->ordered_at, false) && copy_field(b, r->order_date, false) &&
           copy_field(b, r->status, false) && copy_field(b, r->status_group, false) &&
           copy_field(b, r->currency, false) && copy_field(b, r->subtotal, false) &&
           copy_field(b, r->discount_total, false) && copy_field(b, r->tax_total, false) &&
           copy_field(b, r->shipping_total, false) && copy_field(b, r->total, false) &&
           copy_field(b, r->paid_total, false) && copy_field(b, r->line_count, false) &&
           copy_field(b, r->source_updated_at, false) && copy_field_bool(b, r->is_deleted, false) &&
           copy_field_bool(b, r->lines_complete, false) &&
           copy_field_bool(b, r->payments_complete, false) &&
           copy_field_bool(b, r->tombstone, false);
}

bool stage_row_order_line(buf *b, const row_order_line *r)
{
    return copy_field(b, r->order_id, true) && copy_field(b, r->line_id, false) &&
           copy_field(b, stage_opt_id(r->product_id), false) &&
           copy_field(b, stage_opt_id(r->bundle_id), false) && copy_field(b, r->quantity, false) &&
           copy_field(b, r->unit_price, false) && copy_field(b, r->discount, false) &&
           copy_field(b, r->tax, false) && copy_field(b, r->line_total, false) &&
           copy_field(b, r->cost, false) && copy_field(b, r->currency, false);
}

bool stage_row_payment(buf *b, const row_payment *r)
{
    return copy_field(b, r->payment_id, true) && copy_field(b, stage_opt_id(r->order_id), false) &&
           copy_field(b, r->paid_at, false) && copy_field(b, r->payment_date, false) &&
           copy_field(b, r->payment_type, false) && copy_field(b, r->method, false) &&
           copy_field(b, r->amount, false) && copy_field(b, r->bonus_amount, false) &&
           copy_field(b, r->currency, false);
}

bool stage_row_inventory(buf *b, const row_inventory *r)
{
    return copy_field(b, r->snapshot_date, true) &&
           copy_field(b, stage_opt_id(r->product_id), false) &&
           copy_field(b, store_kind(r->store_kind, r->store_id), false) &&
           copy_field(b, stage_opt_id(r->store_id), false) && copy_field(b, r->on_hand, false) &&
           copy_field(b, r->available, false) && copy_field(b, r->reserved, false) &&
           copy_field(b, r->on_order, false) && copy_field(b, r->unit_cost, false) &&
           copy_field(b, r->unit_price, false) && copy_field(b, r->inventory_value, false) &&
           copy_field(b, r->captured_at, false);
}
