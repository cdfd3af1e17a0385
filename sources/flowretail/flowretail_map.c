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

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

const char *flowretail_product_type(const char *t)
{
    if (str_eq(t, "PACKAGE"))
        return "bundle";
    if (str_eq(t, "SERVICE"))
        return "service";
    return "standard";
}

bool flowretail_excluded(const json_rec *rec)
{
    return field_true(rec, "excludeFromStatistics");
}

/* A scaled number at path into dst (DECIMAL_TEXT_MAX) and *val; *present false
 * (dst untouched) when absent or null. FE_EINVAL when not a number. */
static fe_rc scaled_field(const json_rec *rec, const char *path, long scale, char *dst,
                          decimal *val, bool *present, fe_err *err)
{
    decimal d;
    FE_TRY(field_decimal(rec, path, scale, &d, present, err));
    if (!*present)
        return FE_OK;
    decimal_format(d, dst);
    if (val)
        *val = d;
    return FE_OK;
}

/* An ISO time at path normalised into dst (TIME_TEXT_MAX); *out NULL when absent. */
static fe_rc time_field(const json_rec *rec, const char *path, char *dst, const char **out,
                        fe_err *err)
{
    int64_t us;
    bool present;
    *out = NULL;
    FE_TRY(field_time(rec, path, &us, &present, err));
    if (present)
        *out = time_format_iso(us, dst);
    return FE_OK;
}

/* Elements of the array at prefix ("components"): 1 + the highest index seen in
 * the record's field paths "prefix.N...". 0 when none. */
static int count_elems(const json_rec *rec, const char *prefix)
{
    size_t plen = strlen(prefix);
    int n = 0;
    for (size_t i = 0; i < json_rec_count(rec); i++) {
        const char *p = json_rec_at(rec, i)->path;
        char *end;
        if (strncmp(p, prefix, plen) != 0 || p[plen] != '.' || p[plen + 1] < '0' ||
            p[plen + 1] > '9')
            continue;
        long idx = strtol(p + plen + 1, &end, 10);
        if ((*end == '.' || *end == '\0') && idx >= 0 && idx < MAX_ELEMS && idx + 1 > n)
            n = (int)idx + 1;
    }
    return n;
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
    bool has_price;

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
    FE_TRY(
        scaled_field(rec, "recommendedRetailPrice", o->amount_scale, price, NULL, &has_price, err));
    FE_TRY(time_field(rec, "createdAt", created, &r.created_at, err));
    FE_TRY(time_field(rec, "lastModifiedAt", updated, &r.updated_at, err));
    FE_TRY(field_text(rec, "productType", &type, err));
    FE_TRY(field_text(rec, "allowSale", &allow_sale, err));
    r.product_type = flowretail_product_type(type);
    r.list_price = has_price ? price : NULL;
    r.currency = o->currency ? value_currency(o->currency, strlen(o->currency), currency) : NULL;
    r.is_active = !str_eq(allow_sale, "NO");
    return field_sink_rc(out->product(out->ctx, &r, err), err);
}

/* on_hand - reserved, formatted into dst; FE_EINVAL when it leaves numeric(20,4). */
static fe_rc available_of(const char *what, decimal on_hand, bool has_reserved, decimal reserved,
                          char *dst, fe_err *err)
{
    decimal avail = on_hand;
    if (has_reserved && !decimal_sub_checked(on_hand, reserved, &avail))
        return fe_err_set(err, FE_EINVAL,
                          "%s: quantityStock - quantityReserved is out of range (numeric(20,4))",
                          what);
    decimal_format(avail, dst);
    return FE_OK;
}

fe_rc flowretail_map_store_stock(const json_rec *rec, const char *store_uid,
                                 const flowretail_map_opts *o, const row_sink *out, bool *skipped,
                                 fe_err *err)
{
    row_inventory r = {0};
    char on_hand[DECIMAL_TEXT_MAX], reserved[DECIMAL_TEXT_MAX], ordered[DECIMAL_TEXT_MAX],
        price[DECIMAL_TEXT_MAX], cost[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX],
        value[DECIMAL_TEXT_MAX];
    decimal d_on_hand = decimal_zero(), d_reserved = decimal_zero(), d_cost = decimal_zero(),
            d_value;
    bool has_on_hand, has_reserved, has_ordered, has_price, has_cost;
    const char *type;

    *skipped = true;
    FE_TRY(field_id(rec, "productUid", &r.product_id, err));
    FE_TRY(field_text(rec, "productType", &type, err));
    if (flowretail_excluded(rec) || !str_eq(type, "STOCK"))
        return FE_OK;
    FE_TRY(scaled_field(rec, "storeProductDetails.quantityStock", o->quantity_scale, on_hand,
                        &d_on_hand, &has_on_hand, err));
    if (!has_on_hand)
        return FE_OK;
    FE_TRY(scaled_field(rec, "storeProductDetails.quantityReserved", o->quantity_scale, reserved,
                        &d_reserved, &has_reserved, err));
    FE_TRY(scaled_field(rec, "storeProductDetails.quantityOrdered", o->quantity_scale, ordered,
                        NULL, &has_ordered, err));
    FE_TRY(scaled_field(rec, "storeProductDetails.price", o->amount_scale, price, NULL, &has_price,
                        err));
    FE_TRY(scaled_field(rec, "storeProductDetails.costPrice", o->amount_scale, cost, &d_cost,
                        &has_cost, err));
    if (has_cost && !decimal_mul_checked(d_on_hand, d_cost, &d_value))
        return fe_err_set(err, FE_EINVAL,
                          "storeProductDetails: quantityStock x costPrice is out of range "
                          "(numeric(20,4))");
    FE_TRY(available_of("storeProductDetails", d_on_hand, has_reserved, d_reserved, avail, err));
    *skipped = false;
    r.snapshot_date = o->snapshot_date;
    r.captured_at = o->captured_at;
    r.store_kind = "store";
    r.store_id = store_uid;
    r.on_hand = on_hand;
    r.reserved = has_reserved ? reserved : NULL;
    r.available = avail;
    r.on_order = has_ordered ? ordered : NULL;
    r.unit_price = has_price ? price : NULL;
    r.unit_cost = has_cost ? cost : NULL;
    r.inventory_value = has_cost ? decimal_format(d_value, value) : NULL;
    return field_sink_rc(out->inventory(out->ctx, &r, err), err);
}

/* One warehouseStockDetails element, parsed and checked. */
typedef struct {
    const char *warehouse;
    char on_hand[DECIMAL_TEXT_MAX], reserved[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX];
    bool has_reserved;
} stock_detail;

static fe_rc parse_detail(const json_rec *rec, int i, const flowretail_map_opts *o, stock_detail *d,
                          fe_err *err)
{
    char path[96];
    decimal on_hand = decimal_zero(), reserved = decimal_zero();
    bool has_on_hand;
    snprintf(path, sizeof path, "warehouseStockDetails.%d.warehouseUid", i);
    FE_TRY(field_id(rec, path, &d->warehouse, err));
    snprintf(path, sizeof path, "warehouseStockDetails.%d.quantityStock", i);
    FE_TRY(scaled_field(rec, path, o->quantity_scale, d->on_hand, &on_hand, &has_on_hand, err));
    if (!has_on_hand)
        decimal_format(on_hand, d->on_hand);
    snprintf(path, sizeof path, "warehouseStockDetails.%d.quantityReserved", i);
    FE_TRY(
        scaled_field(rec, path, o->quantity_scale, d->reserved, &reserved, &d->has_reserved, err));
    snprintf(path, sizeof path, "warehouseStockDetails.%d", i);
    return available_of(path, on_hand, d->has_reserved, reserved, d->avail, err);
}

fe_rc flowretail_map_stock_item(const json_rec *rec, const flowretail_map_opts *o,
                                const row_sink *out, fe_err *err)
{
    const char *product;
    int n = count_elems(rec, "warehouseStockDetails");
    stock_detail *details = NULL;
    fe_rc rc = FE_OK;

    FE_TRY(field_id(rec, "productUid", &product, err));
    if (n == 0)
        return FE_OK;
    if (!(details = calloc((size_t)n, sizeof *details)))
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping stock");
    for (int i = 0; i < n && rc == FE_OK; i++)
        rc = parse_detail(rec, i, o, &details[i], err);
    for (int i = 0; i < n && rc == FE_OK; i++) {
        row_inventory r = {.snapshot_date = o->snapshot_date,
                           .captured_at = o->captured_at,
                           .product_id = product,
                           .store_kind = "warehouse",
                           .store_id = details[i].warehouse,
                           .on_hand = details[i].on_hand,
                           .reserved = details[i].has_reserved ? details[i].reserved : NULL,
                           .available = details[i].avail};
        rc = field_sink_rc(out->inventory(out->ctx, &r, err), err);
    }
    free(details);
    return rc;
}

/* One component of a slot, parsed and checked. */
typedef struct {
    const char *product;
    char quantity[DECIMAL_TEXT_MAX], special[DECIMAL_TEXT_MAX];
    bool has_quantity, has_special;
} slot_component;

static fe_rc parse_component(const json_rec *rec, int i, const flowretail_map_opts *o,
                             slot_component *c, fe_err *err)
{
    char path[96];
    snprintf(path, sizeof path, "components.%d.product.productUid", i);
    FE_TRY(field_id(rec, path, &c->product, err));
    snprintf(path, sizeof path, "components.%d.quantity", i);
    FE_TRY(scaled_field(rec, path, o->quantity_scale, c->quantity, NULL, &c->has_quantity, err));
    snprintf(path, sizeof path, "components.%d.specialPrice", i);
    return scaled_field(rec, path, o->amount_scale, c->special, NULL, &c->has_special, err);
}

fe_rc flowretail_map_slot(const json_rec *rec, const char *parent_uid, const flowretail_map_opts *o,
                          const row_sink *out, fe_err *err)
{
    const char *name;
    int n = count_elems(rec, "components");
    slot_component *comps = NULL;
    fe_rc rc = FE_OK;

    FE_TRY(field_text_opt(rec, "name", &name, err));
    if (!name) /* the slot's uid names it when it has no name */
        FE_TRY(field_id(rec, "productPackageSlotUid", &name, err));
    if (n == 0)
        return FE_OK;
    if (!(comps = calloc((size_t)n, sizeof *comps)))
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping a package slot");
    for (int i = 0; i < n && rc == FE_OK; i++)
        rc = parse_component(rec, i, o, &comps[i], err);
    for (int i = 0; i < n && rc == FE_OK; i++) {
        row_component r = {.parent_id = parent_uid,
                           .component_id = comps[i].product,
                           .slot = name,
                           .quantity = comps[i].has_quantity ? comps[i].quantity : NULL,
                           .special_price = comps[i].has_special ? comps[i].special : NULL};
        rc = field_sink_rc(out->component(out->ctx, &r, err), err);
    }
    free(comps);
    return rc;
}
