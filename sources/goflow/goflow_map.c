/* goflow_map: Goflow records -> unified rows. See goflow_map.h. */
#include "sources/goflow/goflow_map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "transform/value.h"

/* Paths are built as "lines.N.charges.M.currency.code". */
#define PATH_MAX_LEN 96
#define ELEMS_MAX 10000 /* elements of one array of a record (lines, charges...) */

/* ---- record access ------------------------------------------------------ */

/* An amount at path; absent gives zero (and *present = false; present may be NULL). */
static fe_rc dec_at(const json_rec *r, const char *path, decimal *d, bool *present, fe_err *err)
{
    bool has;
    *d = decimal_zero();
    FE_TRY(field_decimal(r, path, 1, d, &has, err));
    if (present)
        *present = has;
    return FE_OK;
}

/* ---- statuses ------------------------------------------------------------- */

const char *goflow_status_group(const char *status, bool *known)
{
    static const char *const completed[] = {"shipped", "delivered", "in_transit", "completed"};
    static const char *const canceled[] = {"canceled", "cancelled"};
    static const char *const open[] = {"awaiting_confirmation",
                                       "backorder",
                                       "draft",
                                       "dropship",
                                       "ready_to_pick",
                                       "in_picking",
                                       "in_packing",
                                       "on_hold",
                                       "ready_for_pickup",
                                       "future_dated",
                                       "ready_to_fulfill",
                                       "ready_to_ship",
                                       "in_review"};
    if (known)
        *known = true;
    if (field_is_one_of(status, completed, sizeof completed / sizeof completed[0]))
        return "completed";
    if (field_is_one_of(status, canceled, sizeof canceled / sizeof canceled[0]))
        return "canceled";
    if (field_is_one_of(status, open, sizeof open / sizeof open[0]))
        return "open";
    if (known)
        *known = false;
    return "open";
}

/* ---- dimensions ----------------------------------------------------------- */

fe_rc goflow_map_store(const json_rec *rec, const row_sink *out, fe_err *err)
{
    row_store r = {.kind = "channel"};
    const char *cur;
    char code[4];
    FE_TRY(field_id(rec, "id", &r.store_id, err));
    FE_TRY(field_text(rec, "name", &r.name, err));
    FE_TRY(field_text(rec, "status", &r.status, err));
    FE_TRY(field_text(rec, "settings.currency", &cur, err));
    r.currency = value_currency_str(cur, code);
    return field_sink_rc(out->store(out->ctx, &r, err), err);
}

fe_rc goflow_map_warehouse(const json_rec *rec, const row_sink *out, fe_err *err)
{
    static const char *const parts[] = {"address.street1", "address.city", "address.state",
                                        "address.zip_code", "address.country_code"};
    static const char *const seps[] = {"", ", ", ", ", " ", ", "};
    row_store r = {.kind = "warehouse"};
    char address[1024];
    size_t len = 0;
    bool prev = false;
    FE_TRY(field_id(rec, "id", &r.store_id, err));
    FE_TRY(field_text(rec, "name", &r.name, err));
    FE_TRY(field_text(rec, "type", &r.status, err));
    address[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const char *v;
        FE_TRY(field_text(rec, parts[i], &v, err));
        if (!v || !*v)
            continue;
        int n = snprintf(address + len, sizeof address - len, "%s%s", prev ? seps[i] : "", v);
        if (n < 0 || (size_t)n >= sizeof address - len)
            return fe_err_set(err, FE_EINVAL, "warehouse address longer than %zu bytes",
                              sizeof address - 1);
        len += (size_t)n;
        prev = true;
    }
    r.address = len ? address : NULL;
    return field_sink_rc(out->store(out->ctx, &r, err), err);
}

/* The number of elements of the array at prefix, counted by any of their paths:
 * counted by the one field a loop needs, an element without it would end the array
 * there and drop the elements after it unseen. An element missing a field it needs
 * then refuses the record. More than ELEMS_MAX (or a malformed index) refuses it. */
static fe_rc array_len(const json_rec *rec, const char *prefix, size_t *n, fe_err *err)
{
    bool beyond = false;
    *n = field_array_len(rec, prefix, ELEMS_MAX, &beyond);
    if (beyond)
        return fe_err_set(err, FE_EINVAL, "%s: more than %d elements or a malformed index", prefix,
                          ELEMS_MAX);
    return FE_OK;
}

/* Checks every child of a product before any row goes out. */
static fe_rc check_children(const json_rec *rec, size_t *n, fe_err *err)
{
    char path[PATH_MAX_LEN];
    decimal q;
    FE_TRY(array_len(rec, "children", n, err));
    for (size_t i = 0; i < *n; i++) {
        const char *id;
        snprintf(path, sizeof path, "children.%zu.product_id", i);
        FE_TRY(field_id(rec, path, &id, err));
        snprintf(path, sizeof path, "children.%zu.quantity", i);
        FE_TRY(dec_at(rec, path, &q, NULL, err));
    }
    return FE_OK;
}

fe_rc goflow_map_product(const json_rec *rec, const row_sink *out, fe_err *err)
{
    static const char *const grouping[] = {"kit", "group"}; /* types with children */
    row_product r = {0};
    const char *status;
    char listp[DECIMAL_TEXT_MAX], path[PATH_MAX_LEN], qty[DECIMAL_TEXT_MAX];
    decimal d;
    size_t nchildren;

    FE_TRY(field_id(rec, "id", &r.product_id, err));
    FE_TRY(field_text(rec, "item_number", &r.sku, err));
    FE_TRY(field_text(rec, "details.name", &r.name, err));
    FE_TRY(field_text(rec, "type", &r.product_type, err));
    FE_TRY(field_text(rec, "details.brand", &r.brand, err));
    FE_TRY(field_text(rec, "status", &status, err));
    FE_TRY(field_decimal_text(rec, "pricing.default_price", 1, listp, &r.list_price, NULL, err));
    /* Goflow's types are standard, kit and group; anything new is stored as standard
     * rather than failing the merge (dim_product allows a fixed list). */
    if (!field_is_one_of(r.product_type, grouping, 2))
        r.product_type = "standard";
    r.is_active = field_is(status, "active");
    FE_TRY(check_children(rec, &nchildren, err));
    FE_TRY(field_sink_rc(out->product(out->ctx, &r, err), err));
    if (!field_is_one_of(r.product_type, grouping, 2))
        return FE_OK;
    for (size_t i = 0; i < nchildren; i++) {
        row_component c = {.parent_id = r.product_id, .slot = ""};
        snprintf(path, sizeof path, "children.%zu.product_id", i);
        FE_TRY(field_id(rec, path, &c.component_id, err)); /* checked before */
        snprintf(path, sizeof path, "children.%zu.quantity", i);
        FE_TRY(dec_at(rec, path, &d, NULL, err));
        c.quantity = decimal_format(d, qty);
        FE_TRY(field_sink_rc(out->component(out->ctx, &c, err), err));
    }
    return FE_OK;
}

/* ---- orders --------------------------------------------------------------- */

/* Sums of one typed money array ("charges", "lines.3.taxes", ...). */
typedef struct {
    decimal all, price, discount, shipping;
    decimal other; /* every type but price and discount (shipping included), signed */
    size_t price_count;
    const char *currency; /* first code seen (lower case as sent), or NULL */
} money_sums;

/* "PREFIX: sum out of range" for a money array whose sum leaves numeric(20,4). */
static fe_rc sum_overflow(const char *prefix, fe_err *err)
{
    return fe_err_set(err, FE_EINVAL, "%s: the sum is out of range (numeric(20,4))", prefix);
}

static fe_rc sum_array(const json_rec *rec, const char *prefix, money_sums *s, fe_err *err)
{
    char path[PATH_MAX_LEN];
    size_t n;
    memset(s, 0, sizeof *s);
    FE_TRY(array_len(rec, prefix, &n, err));
    for (size_t i = 0; i < n; i++) {
        decimal d;
        bool present, ok;
        const char *type, *code;
        snprintf(path, sizeof path, "%s.%zu.amount", prefix, i);
        if (!json_rec_get(rec, path)) /* null reads as 0, as it always did */
            return fe_err_set(err, FE_EINVAL, "%s is missing", path);
        FE_TRY(dec_at(rec, path, &d, &present, err));
        snprintf(path, sizeof path, "%s.%zu.type", prefix, i);
        FE_TRY(field_text(rec, path, &type, err));
        ok = decimal_add_checked(s->all, d, &s->all);
        if (field_is(type, "price")) {
            ok = ok && decimal_add_checked(s->price, d, &s->price);
            s->price_count++;
        } else if (field_is(type, "discount")) {
            ok = ok && decimal_add_checked(s->discount, decimal_abs(d), &s->discount);
        } else {
            ok = ok && decimal_add_checked(s->other, d, &s->other);
            if (field_is(type, "shipping"))
                ok = ok && decimal_add_checked(s->shipping, d, &s->shipping);
        }
        if (!ok)
            return sum_overflow(prefix, err);
        snprintf(path, sizeof path, "%s.%zu.currency.code", prefix, i);
        FE_TRY(field_text(rec, path, &code, err));
        if (!s->currency)
            s->currency = code;
    }
    return FE_OK;
}

/* One line's numbers, as text for row_order_line. */
typedef struct {
    const char *line_id, *product_id;
    char quantity[DECIMAL_TEXT_MAX], unit_price[DECIMAL_TEXT_MAX], discount[DECIMAL_TEXT_MAX];
    char tax[DECIMAL_TEXT_MAX], line_total[DECIMAL_TEXT_MAX], cost[DECIMAL_TEXT_MAX];
    decimal tax_d;
    const char *currency;
} line_vals;

static fe_rc map_line(const json_rec *rec, size_t i, const goflow_map_opts *o, line_vals *v,
                      fe_err *err)
{
    char path[PATH_MAX_LEN];
    money_sums ch, tx, co;
    decimal qty, unit, ext, total;

    snprintf(path, sizeof path, "lines.%zu.id", i);
    FE_TRY(field_id(rec, path, &v->line_id, err));
    snprintf(path, sizeof path, "lines.%zu.product.id", i);
    FE_TRY(field_text(rec, path, &v->product_id, err));
    snprintf(path, sizeof path, "lines.%zu.quantity.amount", i);
    FE_TRY(dec_at(rec, path, &qty, NULL, err));
    snprintf(path, sizeof path, "lines.%zu.charges", i);
    FE_TRY(sum_array(rec, path, &ch, err));
    snprintf(path, sizeof path, "lines.%zu.taxes", i);
    FE_TRY(sum_array(rec, path, &tx, err));
    snprintf(path, sizeof path, "lines.%zu.costs", i);
    FE_TRY(sum_array(rec, path, &co, err));
    if (o->line_price_is_unit) {
        unit = ch.price;
        if (!decimal_mul_checked(unit, qty, &ext))
            return fe_err_set(err, FE_EINVAL,
                              "lines.%zu: price x quantity is out of range (numeric(20,4))", i);
    } else {
        ext = ch.price;
        unit = ch.price;
        if (!decimal_is_zero(qty) && !decimal_div_checked(ext, qty, &unit))
            return fe_err_set(err, FE_EINVAL,
                              "lines.%zu: price / quantity is out of range (numeric(20,4))", i);
    }
    /* What the line is charged: the extended price, less its discounts (sent
     * negative, taken as |d| either way), plus shipping and any other charge. */
    if (!decimal_sub_checked(ext, ch.discount, &total) ||
        !decimal_add_checked(total, ch.other, &total))
        return fe_err_set(err, FE_EINVAL,
                          "lines.%zu: the line total is out of range (numeric(20,4))", i);
    decimal_format(qty, v->quantity);
    decimal_format(unit, v->unit_price);
    decimal_format(ch.discount, v->discount);
    decimal_format(tx.all, v->tax);
    decimal_format(co.all, v->cost);
    v->tax_d = tx.all;
    decimal_format(total, v->line_total);
    v->currency = ch.currency;
    return FE_OK;
}

/* The order row's numbers; tax_lines is the sum of the lines' taxes. */
typedef struct {
    char subtotal[DECIMAL_TEXT_MAX], discount[DECIMAL_TEXT_MAX], tax[DECIMAL_TEXT_MAX];
    char shipping[DECIMAL_TEXT_MAX], total[DECIMAL_TEXT_MAX], ordered_at[TIME_TEXT_MAX];
    char updated_at[TIME_TEXT_MAX], line_count[24], currency[4];
} order_vals;

static fe_rc map_order_row(const json_rec *rec, decimal tax_lines, size_t nlines, row_order *r,
                           order_vals *v, fe_err *err)
{
    money_sums ch, tx;
    decimal sub, tot;
    bool has_sub, has_tot;
    const char *cur;

    FE_TRY(field_text(rec, "order_number", &r->order_number, err));
    FE_TRY(field_text(rec, "store.id", &r->store_id, err));
    FE_TRY(field_text(rec, "status", &r->status, err));
    FE_TRY(field_time_text(rec, "date", v->ordered_at, &r->ordered_at, err));
    FE_TRY(field_time_text(rec, "status_updated_at", v->updated_at, &r->source_updated_at, err));
    FE_TRY(dec_at(rec, "summary.subtotal.amount", &sub, &has_sub, err));
    FE_TRY(dec_at(rec, "summary.total.amount", &tot, &has_tot, err));
    FE_TRY(sum_array(rec, "charges", &ch, err));
    FE_TRY(sum_array(rec, "taxes", &tx, err));
    FE_TRY(field_text(rec, "summary.total.currency.code", &cur, err));
    if (!cur)
        cur = ch.currency;
    r->store_kind = "channel";
    r->status_group = goflow_status_group(r->status, NULL);
    r->currency = value_currency_str(cur, v->currency);
    r->subtotal = has_sub ? decimal_format(sub, v->subtotal) : NULL;
    r->total = has_tot ? decimal_format(tot, v->total) : NULL;
    r->discount_total = decimal_format(ch.discount, v->discount);
    r->shipping_total = decimal_format(ch.shipping, v->shipping);
    decimal tax;
    if (!decimal_add_checked(tx.all, tax_lines, &tax))
        return fe_err_set(err, FE_EINVAL, "taxes: the sum is out of range (numeric(20,4))");
    r->tax_total = decimal_format(tax, v->tax);
    snprintf(v->line_count, sizeof v->line_count, "%zu", nlines);
    r->line_count = v->line_count;
    r->lines_complete = true;
    return FE_OK;
}

/* Checks and maps everything into lines[] and the order row, then hands them out. */
static fe_rc map_order_checked(const json_rec *rec, const goflow_map_opts *o, const row_sink *out,
                               goflow_order_info *info, line_vals *lines, size_t nlines,
                               fe_err *err)
{
    row_order r = {.order_id = info->order_id};
    order_vals v;
    decimal tax_lines = decimal_zero();
    const char *orig;
    char code[4];

    for (size_t i = 0; i < nlines; i++) {
        FE_TRY(map_line(rec, i, o, &lines[i], err));
        if (!decimal_add_checked(tax_lines, lines[i].tax_d, &tax_lines))
            return fe_err_set(err, FE_EINVAL,
                              "lines: the sum of taxes is out of range (numeric(20,4))");
    }
    FE_TRY(map_order_row(rec, tax_lines, nlines, &r, &v, err));
    FE_TRY(field_text(rec, "original_order_id", &orig, err));
    bool known;
    info->status = r.status;
    goflow_status_group(r.status, &known);
    info->unknown_status = !known;
    if (orig && *orig && !field_is(orig, "0") && !field_is(orig, info->order_id))
        info->split_from = orig;
    FE_TRY(field_sink_rc(out->order(out->ctx, &r, err), err));
    for (size_t i = 0; i < nlines; i++) {
        const line_vals *l = &lines[i];
        const char *lc = value_currency_str(l->currency, code);
        row_order_line ol = {.order_id = r.order_id,
                             .line_id = l->line_id,
                             .product_id = l->product_id,
                             .quantity = l->quantity,
                             .unit_price = l->unit_price,
                             .discount = l->discount,
                             .tax = l->tax,
                             .line_total = l->line_total,
                             .cost = l->cost,
                             .currency = lc ? lc : r.currency};
        FE_TRY(field_sink_rc(out->order_line(out->ctx, &ol, err), err));
    }
    info->lines = nlines;
    if (info->split_from) {
        row_order t = {.order_id = info->split_from, .is_deleted = true, .tombstone = true};
        FE_TRY(field_sink_rc(out->order(out->ctx, &t, err), err));
    }
    return FE_OK;
}

fe_rc goflow_map_order(const json_rec *rec, const goflow_map_opts *o, const row_sink *out,
                       goflow_order_info *info, fe_err *err)
{
    size_t nlines;
    line_vals *lines;
    fe_rc rc;

    memset(info, 0, sizeof *info);
    FE_TRY(field_id(rec, "id", &info->order_id, err));
    FE_TRY(array_len(rec, "lines", &nlines, err));
    lines = calloc(nlines ? nlines : 1, sizeof *lines);
    if (!lines)
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping an order");
    rc = map_order_checked(rec, o, out, info, lines, nlines, err);
    free(lines);
    return rc;
}

/* ---- inventory ------------------------------------------------------------ */

/* A report value: text checked, an amount; *out NULL when absent or "". */
static fe_rc inv_dec(const char *v, const char *what, char *dst, const char **out, fe_err *err)
{
    decimal d;
    *out = NULL;
    if (!v || !*v)
        return FE_OK;
    FE_TRY(field_check_text(what, v, strlen(v), err));
    FE_TRY(field_check_decimal(what, v, strlen(v), 1, &d, err));
    *out = decimal_format(d, dst);
    return FE_OK;
}

/* The report's snapshot day and capture time are the report's own: checked like
 * any value, so a bad one rejects the rows instead of failing the COPY. The capture
 * time is staged in the canonical form (time_format_iso into captured, at least
 * TIME_TEXT_MAX bytes; *out NULL when there is none): a date alone or an offset
 * is ISO 8601 that time_parse_iso takes, but not the staged form. */
static fe_rc inv_when(const goflow_inventory_in *in, char *captured, const char **out, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    int64_t us = 0;
    const char *d = in->snapshot_date, *t = in->captured_at;
    if (!d || !value_date_text_ok(d, strlen(d)))
        return fe_err_set(err, FE_EINVAL, "snapshot date '%s' is not a date within years %d..%d",
                          d ? field_show(d, strlen(d), shown, sizeof shown) : "", VALUE_YEAR_MIN,
                          VALUE_YEAR_MAX);
    if (t && (!time_parse_iso(t, strlen(t), &us) || !value_time_ok(us)))
        return fe_err_set(
            err, FE_EINVAL, "capture time '%s' is not a date-time within years %d..%d",
            field_show(t, strlen(t), shown, sizeof shown), VALUE_YEAR_MIN, VALUE_YEAR_MAX);
    *out = t ? time_format_iso(us, captured) : NULL;
    return FE_OK;
}

fe_rc goflow_map_inventory(const goflow_inventory_in *in, const row_sink *out, fe_err *err)
{
    char on_hand[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX], on_order[DECIMAL_TEXT_MAX];
    char value[DECIMAL_TEXT_MAX], cost[DECIMAL_TEXT_MAX], captured[TIME_TEXT_MAX];
    row_inventory r = {.snapshot_date = in->snapshot_date,
                       .product_id = in->product_id,
                       .store_kind = "warehouse",
                       .store_id = in->warehouse_id};
    if (!in->product_id || !*in->product_id)
        return fe_err_set(err, FE_EINVAL, "report row without product_id");
    FE_TRY(field_check_text("product_id", in->product_id, strlen(in->product_id), err));
    if (!in->warehouse_id || !*in->warehouse_id)
        return fe_err_set(err, FE_EINVAL, "report row whose warehouse is not known");
    FE_TRY(field_check_text("warehouse_id", in->warehouse_id, strlen(in->warehouse_id), err));
    FE_TRY(inv_when(in, captured, &r.captured_at, err));
    FE_TRY(inv_dec(in->on_hand, "on_hand", on_hand, &r.on_hand, err));
    FE_TRY(inv_dec(in->available, "available", avail, &r.available, err));
    FE_TRY(inv_dec(in->on_purchase_order, "on_purchase_order", on_order, &r.on_order, err));
    FE_TRY(inv_dec(in->inventory_value, "inventory_value_average", value, &r.inventory_value, err));
    FE_TRY(inv_dec(in->unit_cost, "available_value_average", cost, &r.unit_cost, err));
    return field_sink_rc(out->inventory(out->ctx, &r, err), err);
}
