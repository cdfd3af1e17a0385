/* posiflora_map: Posiflora JSON:API records -> unified rows (transform/rows.h).
 *
 * Each function takes one flat record from json_stream (paths relative to the
 * resource: "id", "attributes.title", "relationships.store.data.id") and hands
 * the rows it makes to a row_sink (transform/rows.h). Orders, which come as a
 * document of several records, are mapped by posiflora_order.h. The extractor points the sink at
 * the loader; tests point it at a recorder. The module knows nothing of HTTP,
 * paging, cursors or the loader.
 *
 * Result contract of every mapping function:
 *   FE_OK      the rows were handed to the sink;
 *   FE_EINVAL  the record cannot be mapped (missing id, bad decimal or timestamp,
 *              a value PostgreSQL would refuse: transform/value.h): err holds the
 *              reason (one line, valid UTF-8, no raw bytes), and NO row was
 *              handed to the sink, so the caller rejects the record and goes on;
 *   other      the sink failed (its code; a sink's FE_EINVAL becomes FE_EABORT so
 *              it cannot pass for a reject): the stream fails.
 * Row pointers handed to the sink live only for the call. */
#ifndef FE_POSIFLORA_MAP_H
#define FE_POSIFLORA_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "extract/json_stream.h"
#include "transform/rows.h"

typedef struct {
    /* ISO 4217 code for every money row: Posiflora sends no currency, it is an
     * account setting (config `currency`, default RUB). */
    const char *currency;
} posiflora_map_opts;

/* Status -> status group: new, assembled, courier -> open; done -> completed;
 * canceled, notAccepted -> canceled; returned -> returned. Any other value
 * (or NULL) gives "open" with *known = false (known may be NULL). */
const char *posiflora_status_group(const char *status, bool *known);

/* A `stores` resource -> dim_store (kind store). name = title; address =
 * "address, addressCity" (either alone when the other is empty); timezone = NULL
 * (Posiflora's timezone relationship is an internal id with no documented name,
 * and dim_store.timezone holds IANA names only). */
fe_rc posiflora_map_store(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                          fe_err *err) FE_MUST_CHECK;

/* A `categories` resource (from the list or an include) -> dim_category.
 * parent from relationships.parent; attributes.deleted -> is_deleted. */
fe_rc posiflora_map_category(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                             fe_err *err) FE_MUST_CHECK;

/* An `inventory-items` resource -> dim_product. itemType service -> service,
 * anything else standard; list_price = priceMax, else priceMin; sku = the first
 * inline vendor code (relationships.vendorCodes.data[].attributes.vendorCode,
 * the article) that is not empty or blank, else NULL (globalId is a catalog
 * UUID, not an article); created_at =
 * added, updated_at = updatedAt; is_active = true (`public` is storefront
 * visibility, not activity). */
fe_rc posiflora_map_item(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                         fe_err *err) FE_MUST_CHECK;

/* A `bouquets` resource -> dim_product (type bouquet). list_price =
 * trueSaleAmount, else saleAmount, else amount; sku = docNo; is_active unless
 * status is off, deleted, disassembled or sold. */
fe_rc posiflora_map_bouquet(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                            fe_err *err) FE_MUST_CHECK;

/* A `customers` resource -> dim_customer. name = title; phone = "+<countryCode>
 * <phone>" without the space when both are set, else phone; email ("" -> NULL);
 * loyalty_points = currentPoints; is_deleted = (status == "deleted"). */
fe_rc posiflora_map_customer(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                             fe_err *err) FE_MUST_CHECK;

#endif
