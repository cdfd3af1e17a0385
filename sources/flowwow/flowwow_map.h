/* flowwow_map: Flowwow Seller API records -> unified rows (transform/rows.h).
 *
 * Each function takes one flat record from json_stream (an element of "shops[]"
 * or "items[]": paths like "shopId", "user.phone", "products.0.count") and hands
 * the rows it makes to a row_sink (transform/rows.h). The extractor points the sink at the
 * loader; tests point it at a recorder. No HTTP, paging or cursors here.
 *
 * Money arrives as decimal strings ("1990.00"), discounts as integer percent
 * strings ("10"); both are parsed exactly (core/decimal.h). Order times are
 * unix seconds.
 *
 * Result contract of every mapping function (as in posiflora_map.h):
 *   FE_OK      the rows were handed to the sink;
 *   FE_EINVAL  the record cannot be mapped (transform/value.h's rules included):
 *              err holds the reason (one line, valid UTF-8) and NO row was handed
 *              to the sink (the caller rejects the record and goes on);
 *   other      the sink failed (a sink's FE_EINVAL becomes FE_EABORT).
 * Row pointers handed to the sink live only for the call. */
#ifndef FE_FLOWWOW_MAP_H
#define FE_FLOWWOW_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "extract/json_stream.h"
#include "transform/rows.h"

/* Longest text flowwow_phone_id writes, NUL included. */
#define FLOWWOW_PHONE_MAX 40

/* Normalises a buyer's phone to "+<digits>": every non-digit is dropped; a
 * number written without '+' as 11 digits starting with 8 is the Russian trunk
 * form and becomes 7...; anything else keeps its digits as they are. Fewer than
 * 5 or more than 20 digits (or NULL) is no phone: returns false. out holds at
 * least FLOWWOW_PHONE_MAX bytes. */
bool flowwow_phone_normalise(const char *phone, char *out);

/* Status number -> status group: 1 new, 2 accepted, 4 handed to delivery, 5 photo
 * before delivery, 7 waiting for pickup, 10-12 post (CDEK) states -> open;
 * 3 finished -> completed. No number is documented as canceled or returned: any
 * other value (or NULL) gives "open" with *known = false (known may be NULL). */
const char *flowwow_status_group(const char *status, bool *known);

/* A "shops[]" record -> dim_store (kind shop): store_id = shopId, name, address,
 * currency, status; timezone NULL (the API gives none). */
fe_rc flowwow_map_shop(const json_rec *rec, const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* The product id of a record with productId / offerId at the given paths:
 * productId as text, else "offer:<offerId>" when offerId is non-empty, else ""
 * (out >= 80 bytes). Flowwow documents productId >= 1: a productId of 0 beside a
 * non-empty offerId gives the offer's id; alone, 0 is the id. FE_EINVAL for a
 * non-integer productId or text the rules of transform/value.h refuse. Products
 * and order lines use the same rule so they meet in dim_product. */
fe_rc flowwow_product_id(const json_rec *rec, const char *product_path, const char *offer_path,
                         char *out, size_t size, fe_err *err) FE_MUST_CHECK;

typedef struct {
    const char *shop_id;       /* the shop the products were read for */
    const char *snapshot_date; /* "YYYY-MM-DD": today in the source's time zone */
    const char *captured_at;   /* ISO time of the read */
} flowwow_product_opts;

/* An "items[]" record of POST /apiseller/products -> dim_product (sku = offerId,
 * "" -> NULL; product_type from type: 1 standard, 2 bouquet (ready-made), 3 addon;
 * list_price = price (before discount); currency = currencyCode; category_id =
 * categoryId; is_active = isActive) and one fact_inventory_snapshot row (on_hand =
 * stock, available = available, unit_price = price, store = the shop). */
fe_rc flowwow_map_product(const json_rec *rec, const flowwow_product_opts *o, const row_sink *out,
                          fe_err *err) FE_MUST_CHECK;

typedef struct {
    const char *shop_id;    /* the shop the list was read for (when shopId is absent) */
    const char *order_date; /* createdDate asked for: the business date */
    const char *currency;   /* shop currency, used when a line has no currencyCode; may be NULL */
    bool line_sum_is_total; /* config line_sum_is_total (see flowwow_map_order) */
} flowwow_order_opts;

typedef struct {
    const char *order_id; /* NULL when the record had none */
    bool unknown_status;  /* status not in the documented list: mapped to open */
    const char *status;
    bool no_customer; /* no user or no usable phone: unknown member */
    size_t lines;     /* line rows handed to the sink */
} flowwow_order_info;

/* An "items[]" record of GET /apiseller/orders/list -> the buyer (dim_customer
 * "phone:+<digits>", when user.phone normalises), one fact_order row and one
 * fact_order_line per element of products[] (line_id = its position, 1-based).
 * Lines: quantity = count; unit_price = cost (else price); gross = count x
 * unit_price; line_total = sum when line_sum_is_total and sum is given, else gross
 * less the discount percent; discount = max(gross - line_total, 0). Order: total =
 * sum of line totals, subtotal = sum of gross, discount_total = subtotal - total
 * (>= 0), tax and shipping 0, paid_total NULL, ordered_at = createdDate (unix s),
 * order_date = o->order_date, lines_complete. Nothing reaches the sink unless the
 * whole order is valid. info is always filled; its strings live as long as rec. */
fe_rc flowwow_map_order(const json_rec *rec, const flowwow_order_opts *o, const row_sink *out,
                        flowwow_order_info *info, fe_err *err) FE_MUST_CHECK;

#endif
