/* goflow_map: Goflow v1 records -> unified rows (transform/rows.h).
 *
 * Each function takes one flat record from json_stream (paths relative to the
 * element of `data`: "id", "summary.total.amount", "lines.0.charges.1.type") and
 * hands the rows it makes to a row_sink (transform/rows.h). The extractor points the sink at
 * the loader; tests point it at a recorder. Nothing here knows HTTP or cursors.
 *
 * Result contract of every mapping function (the same as posiflora_map.h):
 *   FE_OK      the rows were handed to the sink;
 *   FE_EINVAL  the record cannot be mapped (missing id, bad decimal or timestamp,
 *              a value or a computed sum PostgreSQL would refuse:
 *              transform/value.h): err holds the reason and NO row reached the
 *              sink, so the caller rejects the record and goes on;
 *   other      the sink failed (its code; a sink's FE_EINVAL becomes FE_EABORT).
 * Row pointers handed to the sink live only for the call. Money is exact
 * (core/decimal.h); currency codes are upper-cased ("usd" -> "USD"; the
 * API's "unknown" becomes NULL). An id of 0 is an id (Goflow's own examples). */
#ifndef FE_GOFLOW_MAP_H
#define FE_GOFLOW_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "extract/json_stream.h"
#include "transform/rows.h"

typedef struct {
    /* The line `price` charge is per unit (true, config line_price_is_unit) or the
     * extended amount of the line (false: unit_price = price / quantity). */
    bool line_price_is_unit;
} goflow_map_opts;

/* Status -> status group: shipped, delivered, in_transit, completed -> completed;
 * canceled, cancelled -> canceled; everything else (awaiting_confirmation,
 * ready_to_pick, on_hold, ...) -> open. *known (may be NULL) is false for a status
 * that is not in Goflow's documented list (still "open"). */
const char *goflow_status_group(const char *status, bool *known);

/* A `stores` element -> dim_store kind channel: name, status, currency =
 * settings.currency. */
fe_rc goflow_map_store(const json_rec *rec, const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* A `warehouses` element -> dim_store kind warehouse (id is a UUID string): name,
 * address = "street1, city, state zip_code, COUNTRY" of the non-empty parts,
 * status = type. */
fe_rc goflow_map_warehouse(const json_rec *rec, const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* A `products` element -> dim_product: sku = item_number, name = details.name,
 * product_type = type (standard, kit, group), brand = details.brand, list_price =
 * pricing.default_price, is_active = (status == "active"). The `children` of a kit
 * or group become row_component rows (slot "", quantity), also an empty recipe
 * for none, so the loader retires components that were removed. */
fe_rc goflow_map_product(const json_rec *rec, const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* What goflow_map_order found. */
typedef struct {
    const char *order_id; /* NULL when the record had none; lives as long as rec */
    const char *status;
    bool unknown_status;
    const char *split_from; /* original_order_id when set (not 0): it was tombstoned */
    size_t lines;
} goflow_order_info;

/* An `orders` element -> fact_order + fact_order_line (lines_complete):
 *   total = summary.total.amount, subtotal = summary.subtotal.amount,
 *   discount_total = |sum of order charges of type discount|, shipping_total = sum
 *   of order charges of type shipping, tax_total = sum of the order's taxes plus
 *   the lines' taxes, currency = summary.total.currency.code, ordered_at = date,
 *   source_updated_at = status_updated_at, store = store.id (kind channel);
 *   line: quantity = quantity.amount, unit_price from the price charge(s) (see
 *   opts), discount = |sum of discount charges|, tax = sum of taxes, line_total =
 *   sum of all charges (price + negative discounts + shipping), cost = sum of costs.
 * A split piece (original_order_id set and not 0) also tombstones the original:
 * a row_order with only order_id and is_deleted = true (the loader marks its lines
 * deleted too). Nothing reaches the sink unless the whole order is valid. info is
 * always filled. */
fe_rc goflow_map_order(const json_rec *rec, const goflow_map_opts *o, const row_sink *out,
                       goflow_order_info *info, fe_err *err) FE_MUST_CHECK;

/* Inventory report row as named values (NULL = column absent). The mapping sees C
 * strings: a caller reading them from a json_rec must read them with field_text
 * (transform/field.h), which refuses a value holding a NUL byte; json_rec_str
 * would hand over the value cut at the NUL. */
typedef struct {
    const char *snapshot_date; /* "YYYY-MM-DD" */
    const char *captured_at;   /* ISO timestamp */
    const char *product_id, *warehouse_id;
    const char *on_hand, *available, *on_purchase_order;
    const char *inventory_value, *unit_cost; /* values report (NULL without it) */
} goflow_inventory_in;

/* One report row -> fact_inventory_snapshot (store kind warehouse): the numbers are
 * parsed exactly; a missing product_id or warehouse_id, a bad number, or a
 * snapshot date or capture time outside the ranges of transform/value.h is
 * FE_EINVAL. */
fe_rc goflow_map_inventory(const goflow_inventory_in *in, const row_sink *out,
                           fe_err *err) FE_MUST_CHECK;

#endif
