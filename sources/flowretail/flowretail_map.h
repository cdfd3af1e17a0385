/* flowretail_map: Flow Retail API v2 records -> unified rows (transform/rows.h).
 *
 * Each function takes one flat record from json_stream (paths relative to the
 * object: "productUid", "storeProductDetails.price", "warehouseStockDetails.0.
 * quantityStock") and hands its rows to a row_sink. It knows nothing of HTTP,
 * paging or cursors.
 *
 * Money and quantities: Flow Retail sends JSON integers, most likely minor units
 * and hundredths (see README "Flow Retail money and quantity scales"); every
 * amount is divided by opts.amount_scale and every quantity by
 * opts.quantity_scale, exactly (decimal_parse_scaled).
 *
 * Result contract of every mapping function (as posiflora_map.h):
 *   FE_OK      the rows were handed to the sink (or the record is skipped on
 *              purpose: *skipped, where the function has it, says so);
 *   FE_EINVAL  the record cannot be mapped (transform/value.h's rules included):
 *              err holds the reason, NO row was handed to the sink, the caller
 *              rejects the record and goes on;
 *   other      the sink failed (a sink's FE_EINVAL becomes FE_EABORT). */
#ifndef FE_FLOWRETAIL_MAP_H
#define FE_FLOWRETAIL_MAP_H

#include <stdbool.h>
#include "core/err.h"
#include "extract/json_stream.h"
#include "transform/rows.h"

typedef struct {
    const char *currency;      /* the tenant's ISO 4217 code, for list_price rows */
    long amount_scale;         /* 1, 10, 100, 1000 or 10000: minor units per major */
    long quantity_scale;       /* same set: API quantity units per unit */
    const char *snapshot_date; /* "YYYY-MM-DD" of inventory rows */
    const char *captured_at;   /* ISO time of inventory rows */
} flowretail_map_opts;

/* productType -> dim_product.product_type: STOCK -> standard, PACKAGE -> bundle,
 * SERVICE -> service, anything else (or NULL) -> standard. */
const char *flowretail_product_type(const char *product_type);

/* True when the product record says excludeFromStatistics: such products are
 * not exported (no dim_product row, no stock rows). */
bool flowretail_excluded(const json_rec *rec);

/* A category object (the list item or the detail's root, products[] left out)
 * -> dim_category: categoryUid, name, parentUid (NULL or "" for a root). */
fe_rc flowretail_map_category(const json_rec *rec, const flowretail_map_opts *o,
                              const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* A product (products list item, or a category's embedded product) -> dim_product:
 * product_id = productUid, sku, name, product_type (above), category_id = the
 * first of categoryUids (the same choice from both endpoints), brand = brandName,
 * list_price = recommendedRetailPrice / amount_scale, currency, created_at =
 * createdAt, updated_at = lastModifiedAt, is_active = allowSale is not "NO".
 * Excluded products are skipped (*skipped = true, nothing staged). */
fe_rc flowretail_map_product(const json_rec *rec, const flowretail_map_opts *o, const row_sink *out,
                             bool *skipped, fe_err *err) FE_MUST_CHECK;

/* The storeProductDetails of an embedded product read with storeUid=store_uid ->
 * one fact_inventory_snapshot row at (kind store, store_uid): on_hand =
 * quantityStock, reserved = quantityReserved, available = on_hand - reserved,
 * on_order = quantityOrdered (quantities / quantity_scale), unit_price = price,
 * unit_cost = costPrice, inventory_value = on_hand * costPrice (amounts /
 * amount_scale; value NULL without a cost). Only products of type STOCK carry
 * stock: others, excluded ones and records without storeProductDetails are
 * skipped (*skipped = true). */
fe_rc flowretail_map_store_stock(const json_rec *rec, const char *store_uid,
                                 const flowretail_map_opts *o, const row_sink *out, bool *skipped,
                                 fe_err *err) FE_MUST_CHECK;

/* An item of POST products/stock -> one fact_inventory_snapshot row per
 * warehouseStockDetails element at (kind warehouse, warehouseUid): on_hand =
 * quantityStock, reserved = quantityReserved, available = on_hand - reserved.
 * Every detail is checked before the first row goes out. */
fe_rc flowretail_map_stock_item(const json_rec *rec, const flowretail_map_opts *o,
                                const row_sink *out, fe_err *err) FE_MUST_CHECK;

/* A package slot (GET products/{parent}/packages/slots item) -> one
 * bridge_product_component row per components element: component_id =
 * product.productUid, slot = the slot's name, quantity / quantity_scale,
 * special_price = specialPrice / amount_scale (NULL when absent). */
fe_rc flowretail_map_slot(const json_rec *rec, const char *parent_uid, const flowretail_map_opts *o,
                          const row_sink *out, fe_err *err) FE_MUST_CHECK;

#endif
