/* flowwow_map: Flowwow records -> unified rows. See flowwow_map.h. */
#include "sources/flowwow/flowwow_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "transform/value.h"

/* More lines than this in one order is taken for a broken record. */
#define LINES_MAX 10000
#define ID_MAX 80

/* ---- record access ------------------------------------------------------ */

/* A non-negative integer id (a number, or a string of digits) at path, as text;
 * *out = NULL when absent. "0" is an id. */
static fe_rc int_text_at(const json_rec *r, const char *path, const char **out, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = json_rec_get(r, path);
    *out = NULL;
    if (!f || f->type == JV_NULL)
        return FE_OK;
    bool digits = f->len > 0 && f->len <= 19 && (f->type == JV_NUMBER || f->type == JV_STRING);
    for (size_t i = 0; digits && i < f->len; i++)
        digits = f->value[i] >= '0' && f->value[i] <= '9';
    if (!digits)
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not an integer id", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    *out = f->value;
    return FE_OK;
}

/* An integer percent 0..100 ("10" or 10); absent gives 0. */
static fe_rc percent_at(const json_rec *r, const char *path, decimal *out, fe_err *err)
{
    char shown[FIELD_SHOW_MAX];
    const json_field *f = json_rec_get(r, path);
    bool ok;
    *out = decimal_zero();
    if (!f || f->type == JV_NULL || (f->type == JV_STRING && f->len == 0))
        return FE_OK;
    ok = (f->type == JV_NUMBER || f->type == JV_STRING) && f->len <= 3;
    for (size_t i = 0; ok && i < f->len; i++)
        ok = f->value[i] >= '0' && f->value[i] <= '9';
    ok = ok && decimal_parse(f->value, f->len, out) &&
         decimal_cmp(*out, (decimal){.units = 100 * 10000}) <= 0;
    if (!ok)
        return fe_err_set(err, FE_EINVAL, "%s: '%s' is not a percent (0..100)", path,
                          field_show(f->value, f->len, shown, sizeof shown));
    return FE_OK;
}

/* ---- small rules ------------------------------------------------------------ */

bool flowwow_phone_normalise(const char *phone, char *out)
{
    char digits[FLOWWOW_PHONE_MAX];
    size_t n = 0;
    bool plus = false, seen_digit = false;
    if (!phone)
        return false;
    for (const char *p = phone; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n + 1 >= 21)
                return false;
            digits[n++] = *p;
            seen_digit = true;
        } else if (*p == '+' && !seen_digit) {
            plus = true;
        }
    }
    if (n < 5)
        return false;
    if (!plus && n == 11 && digits[0] == '8')
        digits[0] = '7';
    out[0] = '+';
    memcpy(out + 1, digits, n);
    out[n + 1] = '\0';
    return true;
}

const char *flowwow_status_group(const char *status, bool *known)
{
    static const char *const open[] = {"1", "2", "4", "5", "7", "10", "11", "12"};
    const char *group = NULL;
    if (field_is_one_of(status, open, sizeof open / sizeof open[0]))
        group = "open";
    if (field_is(status, "3"))
        group = "completed";
    if (known)
        *known = group != NULL;
    return group ? group : "open";
}

fe_rc flowwow_product_id(const json_rec *rec, const char *product_path, const char *offer_path,
                         char *out, size_t size, fe_err *err)
{
    const char *pid, *offer;
    out[0] = '\0';
    FE_TRY(int_text_at(rec, product_path, &pid, err));
    FE_TRY(field_text_opt(rec, offer_path, &offer, err));
    /* Flowwow documents productId >= 1: a 0 beside an offerId marks an offer not
     * linked to a Flowwow item, which its offer identifies. Alone, 0 is an id. */
    if (pid && (!field_is(pid, "0") || !offer))
        snprintf(out, size, "%s", pid);
    else if (offer && (size_t)snprintf(out, size, "offer:%s", offer) >= size)
        return fe_err_set(err, FE_EINVAL, "%s is longer than %zu bytes", offer_path, size - 7);
    return FE_OK;
}

/* ---- shops and products -------------------------------------------------------- */

fe_rc flowwow_map_shop(const json_rec *rec, const row_sink *out, fe_err *err)
{
    row_store row = {.kind = "shop"};
    char currency[4];
    FE_TRY(int_text_at(rec, "shopId", &row.store_id, err));
    if (!row.store_id)
        return fe_err_set(err, FE_EINVAL, "record without shopId");
    FE_TRY(field_text_opt(rec, "name", &row.name, err));
    FE_TRY(field_text_opt(rec, "address", &row.address, err));
    FE_TRY(field_currency(rec, "currency", currency, &row.currency, err));
    FE_TRY(field_text_opt(rec, "status", &row.status, err));
    return field_sink_rc(out->store(out->ctx, &row, err), err);
}

static const char *product_type(const char *type)
{
    if (field_is(type, "2"))
        return "bouquet";
    if (field_is(type, "3"))
        return "addon";
    return "standard";
}

fe_rc flowwow_map_product(const json_rec *rec, const flowwow_product_opts *o, const row_sink *out,
                          fe_err *err)
{
    char id[ID_MAX], price[DECIMAL_TEXT_MAX], stock[DECIMAL_TEXT_MAX], avail[DECIMAL_TEXT_MAX],
        currency[4];
    row_product p = {0};
    row_inventory inv = {.snapshot_date = o->snapshot_date,
                         .store_kind = "shop",
                         .store_id = o->shop_id,
                         .captured_at = o->captured_at};
    const char *type;

    FE_TRY(flowwow_product_id(rec, "productId", "offerId", id, sizeof id, err));
    if (!id[0])
        return fe_err_set(err, FE_EINVAL, "product has neither productId nor offerId");
    FE_TRY(field_text_opt(rec, "offerId", &p.sku, err));
    FE_TRY(field_text_opt(rec, "name", &p.name, err));
    FE_TRY(int_text_at(rec, "type", &type, err));
    FE_TRY(int_text_at(rec, "categoryId", &p.category_id, err));
    FE_TRY(field_currency(rec, "currencyCode", currency, &p.currency, err));
    FE_TRY(field_decimal_text(rec, "price", 1, price, &p.list_price, NULL, err));
    FE_TRY(field_decimal_text(rec, "stock", 1, stock, &inv.on_hand, NULL, err));
    FE_TRY(field_decimal_text(rec, "available", 1, avail, &inv.available, NULL, err));
    p.product_id = id;
    p.product_type = product_type(type);
    p.is_active = field_bool(rec, "isActive", true);
    FE_TRY(field_sink_rc(out->product(out->ctx, &p, err), err));
    if (!inv.on_hand && !inv.available)
        return FE_OK;
    inv.product_id = id;
    inv.unit_price = p.list_price;
    return field_sink_rc(out->inventory(out->ctx, &inv, err), err);
}

/* ---- orders --------------------------------------------------------------------- */

typedef struct {
    char product_id[ID_MAX];
    char currency_code[4];
    const char *currency;
    decimal count, unit, gross, total, discount;
} fw_line;

/* The order's computed amounts. */
typedef struct {
    decimal subtotal, total, discount;
} fw_sums;

/* Number of elements of products[]; more than LINES_MAX is a broken record. */
static fe_rc count_lines(const json_rec *rec, size_t *n, fe_err *err)
{
    bool beyond;
    *n = field_array_len(rec, "products", LINES_MAX, &beyond);
    if (beyond)
        return fe_err_set(err, FE_EINVAL, "order has more than %d products", LINES_MAX);
    return FE_OK;
}

static fe_rc parse_line(const json_rec *rec, size_t k, const flowwow_order_opts *o, fw_line *l,
                        fe_err *err)
{
    char p_pid[40], p_offer[40], p_count[40], p_cost[40], p_price[40], p_sum[40], p_disc[40],
        p_cur[48];
    decimal pct, cost, price, sum;
    bool has_count, has_cost, has_price, has_sum;
    snprintf(p_pid, sizeof p_pid, "products.%zu.productId", k);
    snprintf(p_offer, sizeof p_offer, "products.%zu.offerId", k);
    snprintf(p_count, sizeof p_count, "products.%zu.count", k);
    snprintf(p_cost, sizeof p_cost, "products.%zu.cost", k);
    snprintf(p_price, sizeof p_price, "products.%zu.price", k);
    snprintf(p_sum, sizeof p_sum, "products.%zu.sum", k);
    snprintf(p_disc, sizeof p_disc, "products.%zu.discount", k);
    snprintf(p_cur, sizeof p_cur, "products.%zu.currencyCode", k);

    FE_TRY(flowwow_product_id(rec, p_pid, p_offer, l->product_id, sizeof l->product_id, err));
    FE_TRY(field_currency(rec, p_cur, l->currency_code, &l->currency, err));
    FE_TRY(field_decimal(rec, p_count, 1, &l->count, &has_count, err));
    FE_TRY(field_decimal(rec, p_cost, 1, &cost, &has_cost, err));
    FE_TRY(field_decimal(rec, p_price, 1, &price, &has_price, err));
    FE_TRY(field_decimal(rec, p_sum, 1, &sum, &has_sum, err));
    FE_TRY(percent_at(rec, p_disc, &pct, err));
    if (!has_count)
        return fe_err_set(err, FE_EINVAL, "%s is missing", p_count);
    if (!has_cost && !has_price)
        return fe_err_set(err, FE_EINVAL, "products.%zu has neither cost nor price", k);
    if (!l->currency)
        l->currency = value_currency_str(o->currency, l->currency_code);
    l->unit = has_cost ? cost : price;
    if (!decimal_mul_checked(l->count, l->unit, &l->gross))
        return fe_err_set(err, FE_EINVAL,
                          "products.%zu: count x %s is out of range (numeric(20,4))", k,
                          has_cost ? "cost" : "price");
    decimal off;
    if (o->line_sum_is_total && has_sum)
        l->total = sum;
    else if (!decimal_percent_checked(l->gross, pct, &off) ||
             !decimal_sub_checked(l->gross, off, &l->total))
        return fe_err_set(err, FE_EINVAL,
                          "products.%zu: the discounted amount is out of range "
                          "(numeric(20,4))",
                          k);
    if (!decimal_sub_checked(l->gross, l->total, &l->discount))
        return fe_err_set(err, FE_EINVAL,
                          "products.%zu: discount (gross - sum) is out of range (numeric(20,4))",
                          k);
    if (decimal_cmp(l->discount, decimal_zero()) < 0)
        l->discount = decimal_zero();
    return FE_OK;
}

/* The buyer: a customer row for a usable phone; *customer_id = "" otherwise. */
static fe_rc put_customer(const json_rec *rec, const row_sink *out, char *customer_id, size_t size,
                          fe_err *err)
{
    char phone[FLOWWOW_PHONE_MAX];
    const char *raw, *name;
    customer_id[0] = '\0';
    FE_TRY(field_text_opt(rec, "user.phone", &raw, err));
    FE_TRY(field_text_opt(rec, "user.name", &name, err));
    if (!flowwow_phone_normalise(raw, phone))
        return FE_OK;
    snprintf(customer_id, size, "phone:%s", phone);
    row_customer c = {.customer_id = customer_id, .name = name, .phone = phone};
    return field_sink_rc(out->customer(out->ctx, &c, err), err);
}

static fe_rc parse_order_head(const json_rec *rec, const flowwow_order_opts *o, row_order *row,
                              int64_t *created, fe_err *err)
{
    bool present;
    FE_TRY(int_text_at(rec, "id", &row->order_id, err));
    if (!row->order_id)
        return fe_err_set(err, FE_EINVAL, "record without id");
    FE_TRY(int_text_at(rec, "shopId", &row->store_id, err));
    if (!row->store_id)
        row->store_id = o->shop_id;
    FE_TRY(int_text_at(rec, "status", &row->status, err));
    FE_TRY(field_unix_time(rec, "createdDate", created, &present, err));
    if (!present)
        return fe_err_set(err, FE_EINVAL, "createdDate is missing");
    return FE_OK;
}

/* Parses every line and sums them: all of it must fit numeric(20,4). */
static fe_rc map_order_lines(const json_rec *rec, const flowwow_order_opts *o, fw_line *lines,
                             size_t n, fw_sums *s, fe_err *err)
{
    s->subtotal = s->total = decimal_zero();
    for (size_t k = 0; k < n; k++) {
        FE_TRY(parse_line(rec, k, o, &lines[k], err));
        if (!decimal_add_checked(s->subtotal, lines[k].gross, &s->subtotal) ||
            !decimal_add_checked(s->total, lines[k].total, &s->total))
            return fe_err_set(err, FE_EINVAL,
                              "the order's sum of lines is out of range (numeric(20,4))");
    }
    if (!decimal_sub_checked(s->subtotal, s->total, &s->discount))
        return fe_err_set(err, FE_EINVAL,
                          "the order's discount (subtotal - total) is out of range "
                          "(numeric(20,4))");
    if (decimal_cmp(s->discount, decimal_zero()) < 0)
        s->discount = decimal_zero();
    return FE_OK;
}

static fe_rc emit_order(const json_rec *rec, const flowwow_order_opts *o, const row_sink *out,
                        row_order *row, const fw_line *lines, size_t n, const fw_sums *s,
                        flowwow_order_info *info, fe_err *err)
{
    char customer_id[FLOWWOW_PHONE_MAX + 8], subtotal[DECIMAL_TEXT_MAX], discount[DECIMAL_TEXT_MAX],
        total[DECIMAL_TEXT_MAX], zero[DECIMAL_TEXT_MAX], count[24], currency[4];

    snprintf(count, sizeof count, "%zu", n);
    FE_TRY(put_customer(rec, out, customer_id, sizeof customer_id, err));
    info->no_customer = customer_id[0] == '\0';
    row->customer_id = customer_id[0] ? customer_id : NULL;
    row->currency =
        n > 0 && lines[0].currency ? lines[0].currency : value_currency_str(o->currency, currency);
    row->subtotal = decimal_format(s->subtotal, subtotal);
    row->discount_total = decimal_format(s->discount, discount);
    row->tax_total = row->shipping_total = decimal_format(decimal_zero(), zero);
    row->total = decimal_format(s->total, total);
    row->line_count = count;
    FE_TRY(field_sink_rc(out->order(out->ctx, row, err), err));
    for (size_t k = 0; k < n; k++) {
        char line_id[24], qty[DECIMAL_TEXT_MAX], unit[DECIMAL_TEXT_MAX], ldisc[DECIMAL_TEXT_MAX],
            ltotal[DECIMAL_TEXT_MAX];
        snprintf(line_id, sizeof line_id, "%zu", k + 1);
        row_order_line l = {
            .order_id = row->order_id,
            .line_id = line_id,
            .product_id = lines[k].product_id[0] ? lines[k].product_id : NULL,
            .quantity = decimal_format(lines[k].count, qty),
            .unit_price = decimal_format(lines[k].unit, unit),
            .discount = decimal_format(lines[k].discount, ldisc),
            .tax = zero,
            .line_total = decimal_format(lines[k].total, ltotal),
            .currency = lines[k].currency,
        };
        FE_TRY(field_sink_rc(out->order_line(out->ctx, &l, err), err));
        info->lines++;
    }
    return FE_OK;
}

fe_rc flowwow_map_order(const json_rec *rec, const flowwow_order_opts *o, const row_sink *out,
                        flowwow_order_info *info, fe_err *err)
{
    char ordered[TIME_TEXT_MAX];
    row_order row = {.store_kind = "shop", .order_date = o->order_date, .lines_complete = true};
    int64_t created;
    bool known;
    fw_line *lines = NULL;
    fw_sums sums;
    size_t n;
    fe_rc rc;

    *info = (flowwow_order_info){0};
    FE_TRY(parse_order_head(rec, o, &row, &created, err));
    info->order_id = row.order_id;
    info->status = row.status;
    row.order_number = row.order_id;
    row.ordered_at = time_format_iso(created, ordered);
    row.status_group = flowwow_status_group(row.status, &known);
    info->unknown_status = !known;
    FE_TRY(count_lines(rec, &n, err));
    if (n > 0 && !(lines = calloc(n, sizeof *lines)))
        return fe_err_set(err, FE_ENOMEM, "out of memory mapping an order");
    rc = map_order_lines(rec, o, lines, n, &sums, err);
    if (rc == FE_OK)
        rc = emit_order(rec, o, out, &row, lines, n, &sums, info, err);
    free(lines);
    return rc;
}
