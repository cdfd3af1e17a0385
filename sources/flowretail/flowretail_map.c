/* flowretail_map: Flow Retail records -> rows. See flowretail_map.h. */
#include "sources/flowretail/flowretail_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "transform/value.h"

#define MAX_ELEMS 10000 /* array elements of one record we look at (components, stock) */

/* The elements of the array at prefix; more than MAX_ELEMS (or a malformed index)
 * refuses the record rather than dropping the elements beyond unseen. */
static fe_rc elems(const json_rec *rec, const char *prefix, size_t *n, fe_err *err)
{
    bool beyond = false;
    *n = field_array_len(rec, prefix, MAX_ELEMS, &beyond);
    if (beyond)
        return fe_err_set(err, FE_EINVAL, "%s: more than %d elements or a malformed index", prefix,
                          MAX_ELEMS);
    return FE_OK;
}

const char *flowretail_product_type(const char *t)
{
    if (field_is(t, "PACKAGE"))
        return "bundle";
    if (field_is(t, "SERVICE"))
        return "service";
    return "standard";
}

bool flowretail_excluded(const json_rec *rec)
{
    return field_true(rec, "excludeFromStatistics");
}

fe_rc flowretail_map_category(const json_rec *rec, const flowretail_map_opts *o,
                              const row_sink *out, fe_err *err)
{
    row_category r = {0};
    (void)o;
    FE_TRY(field_id(rec, "categoryUid", &r.category_id, err));
    FE_TRY(field_text_opt(rec, "name", &r.name, err));
    FE_TRY(field_text_opt(rec, "parentUid", &r.parent_id, err));
    return field_sink_rc(out->category(out->ctx, &r, err), err);
}

fe_rc flowretail_map_product(const json_rec *rec, const flowretail_map_opts *o, const row_sink *out,
                             bool *skipped, fe_err *err)
{
    row_product r = {0};
    char price[DECIMAL_TEXT_MAX], created[TIME_TEXT_MAX], updated[TIME_TEXT_MAX];
    const char *type, *allow_sale;
    char currency[4];

    *skipped = false;
    FE_TRY(field_id(rec, "productUid", &r.product_id, err));
    if (flowretail_excluded(rec)) {
        *skipped = true;
        return FE_OK;
    }
    FE_TRY(field_text_opt(rec, "sku", &r.sku, err));
    FE_TRY(field_text_opt(rec, "name", &r.name, err));
    FE_TRY(field_text_opt(rec, "categoryUids.0", &r.category_id, err));
    FE_TRY(field_text_opt(rec, "brandName", &r.brand, err));
    FE_TRY(field_decimal_text(rec, "recommendedRetailPrice", o->amount_scale, price, &r.list_price,
                              NULL, err));
    FE_TRY(field_time_text(rec, "createdAt", created, &r.created_at, err));
    FE_TRY(field_time_text(rec, "lastModifiedAt", updated, &r.updated_at, err));
    FE_TRY(field_text(rec, "productType", &type, err));
    FE_TRY(field_text(rec, "allowSale", &allow_sale, err));
    r.product_type = flowretail_product_type(type);
    r.currency = value_currency_str(o->currency, currency);
    r.is_active = !field_is(allow_sale, "NO");
    return field_sink_rc(out->product(out->ctx, &r, err), err);
}

/* on_hand - reserved (reserved NULL: none), formatted into dst; FE_EINVAL when it
 * leaves numeric(20,4). */
static fe_rc available_of(const char *what, decimal on_hand, const char *reserved_text,
                          decimal reserved, char *dst, fe_err *err)
{
    decimal avail = on_hand;
    if (reserved_text && !decimal_sub_checked(on_hand, reserved, &avail))
        return fe_err_set(err, FE_EINVAL,
                          "%s: quantityStock - quantityReserved is out of range (numeric(20,4))",
                          what);
    decimal_format(avail, dst);
    return FE_OK;
}

/* The texts of a store stock row, each NULL when absent. */
typedef struct {
    char on_hand[DECIMAL_TEXT_MAX], reserved[DECIMAL_TEXT_MAX], ordered[DECIMAL_TEXT_MAX],
        price[DECIMAL_TEXT_MAX], cost[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX],
        value[DECIMAL_TEXT_MAX];
} stock_texts;

/* storeProductDetails into r (pointing into t): on_hand is present. */
static fe_rc store_details(const json_rec *rec, const flowretail_map_opts *o, decimal d_on_hand,
                           row_inventory *r, stock_texts *t, fe_err *err)
{
    decimal d_reserved = decimal_zero(), d_cost = decimal_zero(), d_value;
    long qs = o->quantity_scale, as = o->amount_scale;
    FE_TRY(field_decimal_text(rec, "storeProductDetails.quantityReserved", qs, t->reserved,
                              &r->reserved, &d_reserved, err));
    FE_TRY(field_decimal_text(rec, "storeProductDetails.quantityOrdered", qs, t->ordered,
                              &r->on_order, NULL, err));
    FE_TRY(field_decimal_text(rec, "storeProductDetails.price", as, t->price, &r->unit_price, NULL,
                              err));
    FE_TRY(field_decimal_text(rec, "storeProductDetails.costPrice", as, t->cost, &r->unit_cost,
                              &d_cost, err));
    if (r->unit_cost && !decimal_mul_checked(d_on_hand, d_cost, &d_value))
        return fe_err_set(err, FE_EINVAL,
                          "storeProductDetails: quantityStock x costPrice is out of range "
                          "(numeric(20,4))");
    FE_TRY(available_of("storeProductDetails", d_on_hand, r->reserved, d_reserved, t->avail, err));
    r->available = t->avail;
    r->inventory_value = r->unit_cost ? decimal_format(d_value, t->value) : NULL;
    return FE_OK;
}

fe_rc flowretail_map_store_stock(const json_rec *rec, const char *store_uid,
                                 const flowretail_map_opts *o, const row_sink *out, bool *skipped,
                                 fe_err *err)
{
    row_inventory r = {.snapshot_date = o->snapshot_date,
                       .captured_at = o->captured_at,
                       .store_kind = "store",
                       .store_id = store_uid};
    stock_texts t;
    decimal d_on_hand = decimal_zero();
    const char *type;

    *skipped = true;
    FE_TRY(field_id(rec, "productUid", &r.product_id, err));
    FE_TRY(field_text(rec, "productType", &type, err));
    if (flowretail_excluded(rec) || !field_is(type, "STOCK"))
        return FE_OK;
    FE_TRY(field_decimal_text(rec, "storeProductDetails.quantityStock", o->quantity_scale,
                              t.on_hand, &r.on_hand, &d_on_hand, err));
    if (!r.on_hand)
        return FE_OK;
    FE_TRY(store_details(rec, o, d_on_hand, &r, &t, err));
    *skipped = false;
    return field_sink_rc(out->inventory(out->ctx, &r, err), err);
}

/* One warehouseStockDetails element, parsed and checked. */
typedef struct {
    const char *warehouse;
    char on_hand[DECIMAL_TEXT_MAX], reserved[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX];
    const char *reserved_text; /* reserved, or NULL when absent */
} stock_detail;

static fe_rc parse_detail(const json_rec *rec, size_t i, const flowretail_map_opts *o,
                          stock_detail *d, fe_err *err)
{
    char path[96];
    decimal on_hand = decimal_zero(), reserved = decimal_zero();
    const char *on_hand_text;
    snprintf(path, sizeof path, "warehouseStockDetails.%zu.warehouseUid", i);
    FE_TRY(field_id(rec, path, &d->warehouse, err));
    snprintf(path, sizeof path, "warehouseStockDetails.%zu.quantityStock", i);
    FE_TRY(
        field_decimal_text(rec, path, o->quantity_scale, d->on_hand, &on_hand_text, &on_hand, err));
    if (!on_hand_text)
        decimal_format(on_hand, d->on_hand);
    snprintf(path, sizeof path, "warehouseStockDetails.%zu.quantityReserved", i);
    FE_TRY(field_decimal_text(rec, path, o->quantity_scale, d->reserved, &d->reserved_text,
                              &reserved, err));
    snprintf(path, sizeof path, "warehouseStockDetails.%zu", i);
    return available_of(path, on_hand, d->reserved_text, reserved, d->avail, err);
}

fe_rc flowretail_map_stock_item(const json_rec *rec, const flowretail_map_opts *o,
                                const row_sink *out, fe_err *err)
{
    const char *product;
    size_t n;
    stock_detail *details = NULL;
    fe_rc rc = FE_OK;

    FE_TRY(field_id(rec, "productUid", &product, err));
    FE_TRY(elems(rec, "warehouseStockDetails", &n, err));
    if (n == 0)
        return FE_OK;
    if (!(details = calloc(n, sizeof *details)))
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping stock");
    for (size_t i = 0; i < n && rc == FE_OK; i++)
        rc = parse_detail(rec, i, o, &details[i], err);
    for (size_t i = 0; i < n && rc == FE_OK; i++) {
        row_inventory r = {.snapshot_date = o->snapshot_date,
                           .captured_at = o->captured_at,
                           .product_id = product,
                           .store_kind = "warehouse",
                           .store_id = details[i].warehouse,
                           .on_hand = details[i].on_hand,
                           .reserved = details[i].reserved_text,
                           .available = details[i].avail};
        rc = field_sink_rc(out->inventory(out->ctx, &r, err), err);
    }
    free(details);
    return rc;
}

/* One component of a slot, parsed and checked; quantity_text and special_text
 * point into it, or are NULL when absent. */
typedef struct {
    const char *product;
    char quantity[DECIMAL_TEXT_MAX], special[DECIMAL_TEXT_MAX];
    const char *quantity_text, *special_text;
} slot_component;

static fe_rc parse_component(const json_rec *rec, size_t i, const flowretail_map_opts *o,
                             slot_component *c, fe_err *err)
{
    char path[96];
    snprintf(path, sizeof path, "components.%zu.product.productUid", i);
    FE_TRY(field_id(rec, path, &c->product, err));
    snprintf(path, sizeof path, "components.%zu.quantity", i);
    FE_TRY(field_decimal_text(rec, path, o->quantity_scale, c->quantity, &c->quantity_text, NULL,
                              err));
    snprintf(path, sizeof path, "components.%zu.specialPrice", i);
    return field_decimal_text(rec, path, o->amount_scale, c->special, &c->special_text, NULL, err);
}

fe_rc flowretail_map_slot(const json_rec *rec, const char *parent_uid, const flowretail_map_opts *o,
                          const row_sink *out, fe_err *err)
{
    const char *name;
    size_t n;
    slot_component *comps = NULL;
    fe_rc rc = FE_OK;

    FE_TRY(elems(rec, "components", &n, err));
    FE_TRY(field_text_opt(rec, "name", &name, err));
    if (!name) /* the slot's uid names it when it has no name */
        FE_TRY(field_id(rec, "productPackageSlotUid", &name, err));
    if (n == 0)
        return FE_OK;
    if (!(comps = calloc(n, sizeof *comps)))
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping a package slot");
    for (size_t i = 0; i < n && rc == FE_OK; i++)
        rc = parse_component(rec, i, o, &comps[i], err);
    for (size_t i = 0; i < n && rc == FE_OK; i++) {
        row_component r = {.parent_id = parent_uid,
                           .component_id = comps[i].product,
                           .slot = name,
                           .quantity = comps[i].quantity_text,
                           .special_price = comps[i].special_text};
        rc = field_sink_rc(out->component(out->ctx, &r, err), err);
    }
    free(comps);
    return rc;
}
