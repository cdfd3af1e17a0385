/* posiflora_map: Posiflora records -> unified rows. See posiflora_map.h. */
#include "sources/posiflora/posiflora_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/decimal.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "transform/value.h"

/* ---- dimensions ---------------------------------------------------------- */

const char *posiflora_status_group(const char *status, bool *known)
{
    static const struct {
        const char *status, *group;
    } map[] = {
        {"new", "open"},          {"assembled", "open"},    {"courier", "open"},
        {"done", "completed"},    {"canceled", "canceled"}, {"notAccepted", "canceled"},
        {"returned", "returned"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (field_is(status, map[i].status)) {
            if (known)
                *known = true;
            return map[i].group;
        }
    }
    if (known)
        *known = false;
    return "open";
}

/* "a, b", or whichever of the two is non-empty, or NULL; built in scratch. */
static fe_rc join_address(buf *scratch, const char *street, const char *city, const char **out,
                          fe_err *err)
{
    bool has_street = street && *street, has_city = city && *city;
    *out = NULL;
    if (!has_street && !has_city)
        return FE_OK;
    buf_reset(scratch);
    if ((has_street && !buf_puts(scratch, street)) ||
        (has_street && has_city && !buf_puts(scratch, ", ")) ||
        (has_city && !buf_puts(scratch, city)))
        return fe_err_set(err, FE_ENOMEM, "out of memory joining an address");
    *out = buf_cstr(scratch);
    return FE_OK;
}

fe_rc posiflora_map_store(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                          fe_err *err)
{
    char currency[4];
    /* timezone stays NULL: Posiflora sends only the id of its own timezones record
     * ("7"), and its API documents no names for those ids (dim_store.timezone holds
     * IANA names only). */
    row_store row = {.kind = "store", .currency = value_currency_str(o->currency, currency)};
    const char *street, *city;
    buf scratch;
    fe_rc rc;

    buf_init(&scratch, 0);
    if ((rc = field_id(rec, "id", &row.store_id, err)) != FE_OK ||
        (rc = field_text(rec, "attributes.title", &row.name, err)) != FE_OK ||
        (rc = field_text(rec, "attributes.address", &street, err)) != FE_OK ||
        (rc = field_text(rec, "attributes.addressCity", &city, err)) != FE_OK ||
        (rc = join_address(&scratch, street, city, &row.address, err)) != FE_OK)
        goto done;
    rc = field_sink_rc(out->store(out->ctx, &row, err), err);
done:
    buf_term(&scratch);
    return rc;
}

fe_rc posiflora_map_category(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                             fe_err *err)
{
    row_category row = {0};
    (void)o;
    FE_TRY(field_id(rec, "id", &row.category_id, err));
    FE_TRY(field_text(rec, "attributes.title", &row.name, err));
    FE_TRY(field_text_opt(rec, "relationships.parent.data.id", &row.parent_id, err));
    row.is_deleted = field_bool(rec, "attributes.deleted", false);
    return field_sink_rc(out->category(out->ctx, &row, err), err);
}

/* The first present decimal among paths, formatted into dst; NULL when none is. */
static fe_rc first_decimal(const json_rec *rec, const char *const *paths, size_t n,
                           char dst[DECIMAL_TEXT_MAX], const char **out, fe_err *err)
{
    *out = NULL;
    for (size_t i = 0; i < n && !*out; i++)
        FE_TRY(field_decimal_text(rec, paths[i], 1, dst, out, NULL, err));
    return FE_OK;
}

/* Vendor codes (articles) an item may carry; more are not looked at. */
#define VENDOR_CODES_MAX 64

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* The first vendor code (article) of an item that is neither absent nor blank, or
 * NULL: an item's first code may be empty while a later one is the real article. */
static fe_rc first_vendor_code(const json_rec *rec, const char **out, fe_err *err)
{
    size_t n = field_array_len(rec, "relationships.vendorCodes.data", VENDOR_CODES_MAX, NULL);
    char path[96];
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *code;
        snprintf(path, sizeof path, "relationships.vendorCodes.data.%zu.attributes.vendorCode", i);
        FE_TRY(field_text_opt(rec, path, &code, err));
        if (code && !is_blank(code)) {
            *out = code;
            return FE_OK;
        }
    }
    return FE_OK;
}

fe_rc posiflora_map_item(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                         fe_err *err)
{
    char currency[4];
    static const char *const price_paths[] = {"attributes.priceMax", "attributes.priceMin"};
    char price[DECIMAL_TEXT_MAX], created[TIME_TEXT_MAX], updated[TIME_TEXT_MAX];
    row_product row = {.currency = value_currency_str(o->currency, currency), .is_active = true};
    const char *item_type;

    FE_TRY(field_id(rec, "id", &row.product_id, err));
    FE_TRY(field_text(rec, "attributes.title", &row.name, err));
    FE_TRY(field_text(rec, "attributes.itemType", &item_type, err));
    FE_TRY(field_text_opt(rec, "relationships.category.data.id", &row.category_id, err));
    FE_TRY(first_vendor_code(rec, &row.sku, err));
    FE_TRY(first_decimal(rec, price_paths, 2, price, &row.list_price, err));
    FE_TRY(field_time_text(rec, "attributes.added", created, &row.created_at, err));
    FE_TRY(field_time_text(rec, "attributes.updatedAt", updated, &row.updated_at, err));
    row.product_type = field_is(item_type, "service") ? "service" : "standard";
    return field_sink_rc(out->product(out->ctx, &row, err), err);
}

static bool bouquet_active(const char *status)
{
    static const char *const inactive[] = {"off", "deleted", "disassembled", "sold"};
    return !field_is_one_of(status, inactive, sizeof inactive / sizeof inactive[0]);
}

fe_rc posiflora_map_bouquet(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                            fe_err *err)
{
    char currency[4];
    static const char *const price_paths[] = {"attributes.trueSaleAmount", "attributes.saleAmount",
                                              "attributes.amount"};
    char price[DECIMAL_TEXT_MAX], created[TIME_TEXT_MAX], updated[TIME_TEXT_MAX];
    row_product row = {.product_type = "bouquet",
                       .currency = value_currency_str(o->currency, currency)};
    const char *status;

    FE_TRY(field_id(rec, "id", &row.product_id, err));
    FE_TRY(field_text(rec, "attributes.title", &row.name, err));
    FE_TRY(field_text_opt(rec, "attributes.docNo", &row.sku, err));
    FE_TRY(field_text(rec, "attributes.status", &status, err));
    FE_TRY(first_decimal(rec, price_paths, 3, price, &row.list_price, err));
    FE_TRY(field_time_text(rec, "attributes.createdAt", created, &row.created_at, err));
    FE_TRY(field_time_text(rec, "attributes.updatedAt", updated, &row.updated_at, err));
    row.is_active = bouquet_active(status);
    return field_sink_rc(out->product(out->ctx, &row, err), err);
}

/* "+<code><number>" when both are set and the number has no '+' of its own. */
static fe_rc customer_phone(buf *scratch, const char *code, const char *number, const char **out,
                            fe_err *err)
{
    *out = number;
    if (!number || !code || !*code || number[0] == '+')
        return FE_OK;
    buf_reset(scratch);
    if (!buf_putc(scratch, '+') || !buf_puts(scratch, code) || !buf_puts(scratch, number))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a phone number");
    *out = buf_cstr(scratch);
    return FE_OK;
}

fe_rc posiflora_map_customer(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
                             fe_err *err)
{
    char points[DECIMAL_TEXT_MAX], created[TIME_TEXT_MAX], updated[TIME_TEXT_MAX];
    row_customer row = {0};
    const char *number, *code;
    buf scratch;
    fe_rc rc;

    (void)o;
    buf_init(&scratch, 0);
    if ((rc = field_id(rec, "id", &row.customer_id, err)) != FE_OK ||
        (rc = field_text(rec, "attributes.title", &row.name, err)) != FE_OK ||
        (rc = field_text_opt(rec, "attributes.phone", &number, err)) != FE_OK ||
        (rc = field_text_opt(rec, "attributes.countryCode", &code, err)) != FE_OK ||
        (rc = field_text_opt(rec, "attributes.email", &row.email, err)) != FE_OK ||
        (rc = field_text(rec, "attributes.status", &row.status, err)) != FE_OK ||
        (rc = field_decimal_text(rec, "attributes.currentPoints", 1, points, &row.loyalty_points,
                                 NULL, err)) != FE_OK ||
        (rc = field_time_text(rec, "attributes.createdAt", created, &row.created_at, err)) !=
            FE_OK ||
        (rc = field_time_text(rec, "attributes.updatedAt", updated, &row.updated_at, err)) !=
            FE_OK ||
        (rc = customer_phone(&scratch, code, number, &row.phone, err)) != FE_OK)
        goto done;
    row.is_deleted = field_is(row.status, "deleted");
    rc = field_sink_rc(out->customer(out->ctx, &row, err), err);
done:
    buf_term(&scratch);
    return rc;
}
