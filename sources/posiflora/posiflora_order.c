/* posiflora_order: one Posiflora order detail document -> order rows. See
 * posiflora_order.h. */
#include "sources/posiflora/posiflora_order.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/decimal.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "transform/value.h"

/* Dump of the record an order is rejected for (etl.reject keeps 8 KiB). */
#define RAW_MAX 8192
/* One order's copied text (ids, titles) cannot grow beyond this. */
#define ARENA_MAX ((size_t)64 << 20)
#define NONE SIZE_MAX

/* Text is copied into one arena and referred to by offset (the arena may move
 * when it grows); NONE stands for NULL. */
typedef struct {
    size_t id, item, bouquet;
    decimal qty, price, amount, total;
    decimal discount; /* max(amount - total, 0), computed by acc_derive */
} acc_line;

typedef struct {
    size_t id, type, method, date;
    decimal amount, bonus;
    bool has_bonus;
    int64_t paid_at;
} acc_payment;

typedef struct {
    size_t id, title;
    size_t seq; /* order of arrival: flush sorts methods by id, then by this */
} acc_method;

struct posiflora_order_acc {
    buf arena;
    bool have_order;
    size_t id, number, status, store, customer;
    char date[11];
    int64_t created_at, updated_at;
    bool has_updated, has_paid;
    decimal total, paid;
    long listed_lines, listed_payments; /* ids in the order's relationships; -1 = not given */

    acc_line *lines;
    size_t nlines, cap_lines;
    acc_payment *pays;
    size_t npays, cap_pays;
    acc_method *methods;
    size_t nmethods, cap_methods;

    bool failed; /* the first problem, kept for flush */
    char reason[sizeof(((fe_err *)0)->msg)];
    size_t fail_id;
    char *raw; /* RAW_MAX bytes, allocated on the first failure */
    char *doc; /* RAW_MAX bytes: dumps of the document's records, for rejects at flush */
    size_t doc_len;
};

posiflora_order_acc *posiflora_order_acc_new(void)
{
    posiflora_order_acc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    buf_init(&a->arena, ARENA_MAX);
    posiflora_order_acc_reset(a);
    return a;
}

void posiflora_order_acc_free(posiflora_order_acc *a)
{
    if (!a)
        return;
    buf_term(&a->arena);
    free(a->lines);
    free(a->pays);
    free(a->methods);
    free(a->raw);
    free(a->doc);
    free(a);
}

void posiflora_order_acc_reset(posiflora_order_acc *a)
{
    buf_reset(&a->arena);
    a->have_order = false;
    a->id = a->number = a->status = a->store = a->customer = NONE;
    a->date[0] = '\0';
    a->has_updated = a->has_paid = false;
    a->listed_lines = a->listed_payments = -1;
    a->nlines = a->npays = a->nmethods = 0;
    a->failed = false;
    a->reason[0] = '\0';
    a->fail_id = NONE;
    if (a->raw)
        a->raw[0] = '\0';
    a->doc_len = 0;
    if (a->doc)
        a->doc[0] = '\0';
}

static const char *acc_str(const posiflora_order_acc *a, size_t off)
{
    return off == NONE ? NULL : a->arena.data + off;
}

/* Copies s (NUL included) into the arena; s == NULL gives NONE. */
static fe_rc acc_keep(posiflora_order_acc *a, const char *s, size_t *off, fe_err *err)
{
    *off = NONE;
    if (!s)
        return FE_OK;
    size_t at = a->arena.len;
    if (!buf_append(&a->arena, s, strlen(s) + 1))
        return fe_err_set(err, FE_ENOMEM, "order detail text exceeds %zu bytes", ARENA_MAX);
    *off = at;
    return FE_OK;
}

/* Text at path, checked and copied. */
static fe_rc acc_text(posiflora_order_acc *a, const json_rec *r, const char *path, size_t *off,
                      fe_err *err)
{
    const char *s;
    *off = NONE;
    FE_TRY(field_text_opt(r, path, &s, err));
    return acc_keep(a, s, off, err);
}

/* Makes room for one more element of a growing array. */
static fe_rc grow(void **items, size_t *cap, size_t n, size_t size, fe_err *err)
{
    if (n < *cap)
        return FE_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, ncap * size);
    if (!p)
        return fe_err_set(err, FE_ENOMEM, "out of memory accumulating an order");
    *items = p;
    *cap = ncap;
    return FE_OK;
}

/* Number of entries of a to-many relationship: counts "relationships.NAME.data.N.id"
 * fields; 0 for an empty array; -1 when the relationship's data is not given. */
static long listed_count(const json_rec *r, const char *name)
{
    char prefix[64];
    int plen = snprintf(prefix, sizeof prefix, "relationships.%s.data.", name);
    long n = 0;
    for (size_t i = 0; i < json_rec_count(r); i++) {
        const json_field *f = json_rec_at(r, i);
        size_t len = strlen(f->path);
        if (strncmp(f->path, prefix, (size_t)plen) == 0 && len > 3 &&
            strcmp(f->path + len - 3, ".id") == 0)
            n++;
    }
    if (n > 0)
        return n;
    snprintf(prefix, sizeof prefix, "relationships.%s.data", name);
    const json_field *f = json_rec_get(r, prefix);
    return f && f->type == JV_EMPTY_ARRAY ? 0 : -1;
}

static fe_rc add_order(posiflora_order_acc *a, const json_rec *r, fe_err *err)
{
    bool present;
    if (a->have_order)
        return fe_err_set(err, FE_EINVAL, "the document holds two orders");
    FE_TRY(acc_text(a, r, "attributes.docNo", &a->number, err));
    FE_TRY(acc_text(a, r, "attributes.status", &a->status, err));
    FE_TRY(acc_text(a, r, "relationships.store.data.id", &a->store, err));
    FE_TRY(acc_text(a, r, "relationships.customer.data.id", &a->customer, err));
    FE_TRY(field_date(r, "attributes.date", a->date, err));
    FE_TRY(field_time(r, "attributes.createdAt", &a->created_at, &present, err));
    if (!present)
        return fe_err_set(err, FE_EINVAL, "attributes.createdAt is missing");
    FE_TRY(field_time(r, "attributes.updatedAt", &a->updated_at, &a->has_updated, err));
    FE_TRY(field_decimal_req(r, "attributes.totalAmount", 1, &a->total, err));
    FE_TRY(field_decimal(r, "attributes.paymentsAmount", 1, &a->paid, &a->has_paid, err));
    a->listed_lines = listed_count(r, "lines");
    a->listed_payments = listed_count(r, "payments");
    a->have_order = true;
    return FE_OK;
}

static fe_rc add_line(posiflora_order_acc *a, const json_rec *r, const char *id, fe_err *err)
{
    acc_line l;
    bool has_amount;
    FE_TRY(grow((void **)&a->lines, &a->cap_lines, a->nlines, sizeof l, err));
    FE_TRY(field_decimal_req(r, "attributes.qty", 1, &l.qty, err));
    FE_TRY(field_decimal_req(r, "attributes.price", 1, &l.price, err));
    FE_TRY(field_decimal_req(r, "attributes.totalAmount", 1, &l.total, err));
    FE_TRY(field_decimal(r, "attributes.amount", 1, &l.amount, &has_amount, err));
    if (!has_amount && !decimal_mul_checked(l.qty, l.price, &l.amount))
        return fe_err_set(err, FE_EINVAL,
                          "attributes.qty x attributes.price is out of range (numeric(20,4))");
    FE_TRY(acc_keep(a, id, &l.id, err));
    FE_TRY(acc_text(a, r, "relationships.item.data.id", &l.item, err));
    FE_TRY(acc_text(a, r, "relationships.bouquet.data.id", &l.bouquet, err));
    a->lines[a->nlines++] = l;
    return FE_OK;
}

static const char *payment_kind(const char *payment_type)
{
    if (field_is(payment_type, "payment"))
        return "payment";
    if (field_is(payment_type, "return"))
        return "refund";
    if (field_is(payment_type, "change"))
        return "change";
    return NULL;
}

static fe_rc add_payment(posiflora_order_acc *a, const json_rec *r, const char *id, fe_err *err)
{
    acc_payment p;
    const char *type;
    char date[11];
    bool has_created, has_posted;
    int64_t posted;

    FE_TRY(grow((void **)&a->pays, &a->cap_pays, a->npays, sizeof p, err));
    FE_TRY(field_text(r, "attributes.paymentType", &type, err));
    if (!payment_kind(type)) {
        char shown[FIELD_SHOW_MAX];
        return fe_err_set(err, FE_EINVAL, "unknown paymentType%s%s%s", type ? " '" : "",
                          type ? field_show(type, strlen(type), shown, sizeof shown) : " (missing)",
                          type ? "'" : "");
    }
    FE_TRY(field_decimal_req(r, "attributes.amount", 1, &p.amount, err));
    FE_TRY(field_decimal(r, "attributes.bonusAmount", 1, &p.bonus, &p.has_bonus, err));
    FE_TRY(field_time(r, "attributes.createdAt", &p.paid_at, &has_created, err));
    FE_TRY(field_time(r, "attributes.postedAt", &posted, &has_posted, err));
    if (!has_created && !has_posted)
        return fe_err_set(err, FE_EINVAL, "payment has neither createdAt nor postedAt");
    if (!has_created)
        p.paid_at = posted;
    FE_TRY(field_date(r, "attributes.date", date, err));
    FE_TRY(acc_keep(a, date[0] ? date : NULL, &p.date, err));
    FE_TRY(acc_keep(a, payment_kind(type), &p.type, err));
    FE_TRY(acc_keep(a, id, &p.id, err));
    FE_TRY(acc_text(a, r, "relationships.method.data.id", &p.method, err));
    a->pays[a->npays++] = p;
    return FE_OK;
}

static fe_rc add_method(posiflora_order_acc *a, const json_rec *r, const char *id, fe_err *err)
{
    acc_method m;
    FE_TRY(grow((void **)&a->methods, &a->cap_methods, a->nmethods, sizeof m, err));
    FE_TRY(acc_keep(a, id, &m.id, err));
    FE_TRY(acc_text(a, r, "attributes.title", &m.title, err));
    if (m.title == NONE)
        FE_TRY(acc_text(a, r, "attributes.name", &m.title, err));
    m.seq = a->nmethods;
    a->methods[a->nmethods++] = m;
    return FE_OK;
}

/* The raw text of a reject: RAW_MAX bytes, allocated on first use. */
static fe_rc raw_room(char **raw, fe_err *err)
{
    if (!*raw && !(*raw = malloc(RAW_MAX)))
        return fe_err_set(err, FE_ENOMEM, "out of memory recording a reject");
    return FE_OK;
}

/* Remembers the first problem: reason, the faulting record's id and a dump. */
static fe_rc acc_fail(posiflora_order_acc *a, const json_rec *r, const char *what, const char *id,
                      const fe_err *why, fe_err *err)
{
    if (a->failed)
        return FE_OK; /* a second "data" record refused too: the first problem stays */
    FE_TRY(raw_room(&a->raw, err));
    a->failed = true;
    /* Cut at character boundaries: the reason must stay valid UTF-8. */
    int what_len = (int)buf_utf8_floor(what, strnlen(what, 32));
    int id_len = id ? (int)buf_utf8_floor(id, strnlen(id, 128)) : 0;
    int why_len = (int)buf_utf8_floor(why->msg, strnlen(why->msg, 560));
    snprintf(a->reason, sizeof a->reason, "%.*s%s%.*s: %.*s", what_len, what, id ? " " : "", id_len,
             id ? id : "", why_len, why->msg);
    /* An id is any text without NUL: a control byte in it (a newline) would break
     * the reason's one line; single bytes, so UTF-8 stays valid. */
    for (char *c = a->reason; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    /* Whole, masked, then cut: a secret cut first would leave a piece unmasked. */
    char *whole = json_rec_dump_dup(r, NULL);
    if (!whole)
        return fe_err_set(err, FE_ENOMEM, "out of memory recording a reject");
    log_redact(a->raw, RAW_MAX, whole);
    free(whole);
    /* id was checked by field_id when non-NULL here, so it is UTF-8. */
    return acc_keep(a, id, &a->fail_id, err);
}

/* Appends the record's dump to the document's (records apart by a blank line), as
 * far as RAW_MAX allows: the raw text of a reject found only when the document is
 * complete, when the records themselves are gone. Only the order's own records
 * (the order, its lines, payments and methods) are kept. */
static fe_rc acc_keep_raw(posiflora_order_acc *a, const json_rec *r, fe_err *err)
{
    FE_TRY(raw_room(&a->doc, err));
    if (a->doc_len > 0 && a->doc_len + 3 < RAW_MAX) {
        memcpy(a->doc + a->doc_len, "\n\n", 2);
        a->doc_len += 2;
    }
    if (a->doc_len + 1 < RAW_MAX)
        a->doc_len += json_rec_dump(r, a->doc + a->doc_len, RAW_MAX - a->doc_len);
    a->doc[a->doc_len] = '\0';
    return FE_OK;
}

/* The record's type, or FE_EINVAL when it is not text (a NUL, bad UTF-8). */
static fe_rc record_type(const json_rec *rec, const char **type, fe_err *err)
{
    return field_text(rec, "type", type, err);
}

fe_rc posiflora_order_acc_add(posiflora_order_acc *a, bool is_data, const json_rec *rec,
                              fe_err *err)
{
    const char *type = NULL, *id = NULL;
    fe_err why = {.code = FE_OK};
    fe_rc rc;

    if (a->failed && !(is_data && a->id == NONE))
        return FE_OK;
    rc = record_type(rec, &type, &why);
    bool needed = rc != FE_OK || is_data || field_is(type, "order-lines") ||
                  field_is(type, "order-payments") || field_is(type, "payment-methods");
    /* The raw text keeps the order's own records; another record (a store, a
     * customer) only while nothing is kept yet, so that a document without its
     * order still has some text to show for its reject. */
    if (!a->failed && (needed || a->doc_len == 0)) {
        fe_rc kept = acc_keep_raw(a, rec, err);
        if (kept != FE_OK)
            return kept;
    }
    if (!needed)
        return FE_OK; /* stores, customers, workers ... are not needed */
    if (rc == FE_OK)
        rc = field_id(rec, "id", &id, &why);
    if (rc == FE_OK && is_data)
        rc = acc_keep(a, id, &a->id, &why);
    if (rc == FE_OK && a->failed)
        return FE_OK; /* only the order id was still wanted */
    if (rc == FE_OK) {
        if (is_data)
            rc = add_order(a, rec, &why);
        else if (field_is(type, "order-lines"))
            rc = add_line(a, rec, id, &why);
        else if (field_is(type, "order-payments"))
            rc = add_payment(a, rec, id, &why);
        else
            rc = add_method(a, rec, id, &why);
    }
    if (rc == FE_EINVAL)
        return acc_fail(a, rec, is_data ? "order" : type ? type : "record", id, &why, err);
    if (rc != FE_OK && err)
        *err = why;
    return rc;
}

static int method_cmp(const void *x, const void *y, void *arena)
{
    const acc_method *m = x, *n = y;
    int c = strcmp((const char *)arena + m->id, (const char *)arena + n->id);
    return c ? c : (m->seq > n->seq) - (m->seq < n->seq);
}

/* Sorts the methods by id (arrival order among equal ids), so that labelling a
 * document's payments costs O((P + M) log M), not P x M: a hostile document
 * may hold many of both. */
static void sort_methods(posiflora_order_acc *a)
{
    if (a->nmethods > 1)
        qsort_r(a->methods, a->nmethods, sizeof *a->methods, method_cmp, a->arena.data);
}

/* The title of the first method (in arrival order) with the payment's method id
 * that has one, else the id itself. Methods are sorted (sort_methods). */
static const char *method_label(const posiflora_order_acc *a, size_t method_id)
{
    const char *id = acc_str(a, method_id);
    size_t lo = 0, hi = a->nmethods;
    if (!id)
        return NULL;
    while (lo < hi) { /* the first method whose id is not below id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(acc_str(a, a->methods[mid].id), id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < a->nmethods && strcmp(acc_str(a, a->methods[lo].id), id) == 0; lo++)
        if (a->methods[lo].title != NONE)
            return acc_str(a, a->methods[lo].title);
    return id;
}

bool posiflora_order_acc_whole(const posiflora_order_acc *a)
{
    if (a->failed || !a->have_order || a->listed_lines < 0 || a->listed_payments < 0 ||
        (size_t)a->listed_lines != a->nlines || (size_t)a->listed_payments != a->npays)
        return false;
    for (size_t p = 0; p < a->npays; p++) {
        const char *method = acc_str(a, a->pays[p].method);
        bool found = method == NULL;
        for (size_t m = 0; m < a->nmethods && !found; m++)
            found = strcmp(acc_str(a, a->methods[m].id), method) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Checks what can only be checked once the document is complete. */
static fe_rc acc_check_complete(const posiflora_order_acc *a, fe_err *err)
{
    if (!a->have_order)
        return fe_err_set(err, FE_EINVAL, "order detail document has no order (data)");
    if (a->listed_lines >= 0 && (size_t)a->listed_lines != a->nlines)
        return fe_err_set(err, FE_EINVAL,
                          "order lists %ld lines but the document includes %zu (include=lines "
                          "not honoured?)",
                          a->listed_lines, a->nlines);
    if (a->listed_payments >= 0 && (size_t)a->listed_payments != a->npays)
        return fe_err_set(err, FE_EINVAL, "order lists %ld payments but the document includes %zu",
                          a->listed_payments, a->npays);
    return FE_OK;
}

/* The order's computed amounts. */
typedef struct {
    decimal subtotal, discount;
} acc_sums;

/* max(a - b, 0), or false when a - b leaves numeric(20,4). */
static bool discount_of(decimal a, decimal b, decimal *out)
{
    if (!decimal_sub_checked(a, b, out))
        return false;
    if (decimal_cmp(*out, decimal_zero()) < 0)
        *out = decimal_zero(); /* a markup (manualSetting) is not a negative discount */
    return true;
}

/* Computes every derived amount before a row goes out: each must fit
 * numeric(20,4) like the amounts it comes from. */
static fe_rc acc_derive(posiflora_order_acc *a, acc_sums *s, fe_err *err)
{
    s->subtotal = decimal_zero();
    for (size_t i = 0; i < a->nlines; i++) {
        acc_line *l = &a->lines[i];
        if (!discount_of(l->amount, l->total, &l->discount))
            return fe_err_set(err, FE_EINVAL,
                              "line %zu: discount (amount - totalAmount) is out of range "
                              "(numeric(20,4))",
                              i + 1);
        if (!decimal_add_checked(s->subtotal, l->amount, &s->subtotal))
            return fe_err_set(err, FE_EINVAL,
                              "subtotal (sum of the line amounts) is out of range (numeric(20,4))");
    }
    if (!discount_of(s->subtotal, a->total, &s->discount))
        return fe_err_set(err, FE_EINVAL,
                          "discount (subtotal - totalAmount) is out of range (numeric(20,4))");
    return FE_OK;
}

static fe_rc put_order(const posiflora_order_acc *a, const acc_sums *s, const posiflora_map_opts *o,
                       const row_sink *out, bool *known, fe_err *err)
{
    char currency[4];
    char subtotal[DECIMAL_TEXT_MAX], discount[DECIMAL_TEXT_MAX], zero[DECIMAL_TEXT_MAX],
        total[DECIMAL_TEXT_MAX], paid[DECIMAL_TEXT_MAX], count[24], ordered[TIME_TEXT_MAX],
        updated[TIME_TEXT_MAX];

    snprintf(count, sizeof count, "%zu", a->nlines);

    row_order row = {
        .order_id = acc_str(a, a->id),
        .order_number = acc_str(a, a->number),
        .store_kind = "store",
        .store_id = acc_str(a, a->store),
        .customer_id = acc_str(a, a->customer),
        .ordered_at = time_format_iso(a->created_at, ordered),
        .order_date = a->date[0] ? a->date : NULL,
        .status = acc_str(a, a->status),
        .status_group = posiflora_status_group(acc_str(a, a->status), known),
        .currency = value_currency_str(o->currency, currency),
        .subtotal = decimal_format(s->subtotal, subtotal),
        .discount_total = decimal_format(s->discount, discount),
        .tax_total = decimal_format(decimal_zero(), zero),
        .shipping_total = zero,
        .total = decimal_format(a->total, total),
        .paid_total = a->has_paid ? decimal_format(a->paid, paid) : NULL,
        .line_count = count,
        .source_updated_at = a->has_updated ? time_format_iso(a->updated_at, updated) : NULL,
        .lines_complete = true,
        .payments_complete = true,
    };
    return field_sink_rc(out->order(out->ctx, &row, err), err);
}

static fe_rc put_line(const posiflora_order_acc *a, const acc_line *l, const posiflora_map_opts *o,
                      const row_sink *out, fe_err *err)
{
    char currency[4];
    char qty[DECIMAL_TEXT_MAX], price[DECIMAL_TEXT_MAX], discount[DECIMAL_TEXT_MAX],
        zero[DECIMAL_TEXT_MAX], total[DECIMAL_TEXT_MAX];
    row_order_line row = {
        .order_id = acc_str(a, a->id),
        .line_id = acc_str(a, l->id),
        .product_id = acc_str(a, l->item),
        .bundle_id = acc_str(a, l->bouquet),
        .quantity = decimal_format(l->qty, qty),
        .unit_price = decimal_format(l->price, price),
        .discount = decimal_format(l->discount, discount),
        .tax = decimal_format(decimal_zero(), zero),
        .line_total = decimal_format(l->total, total),
        .cost = NULL,
        .currency = value_currency_str(o->currency, currency),
    };
    return field_sink_rc(out->order_line(out->ctx, &row, err), err);
}

static fe_rc put_payment(const posiflora_order_acc *a, const acc_payment *p,
                         const posiflora_map_opts *o, const row_sink *out, fe_err *err)
{
    char currency[4];
    char amount[DECIMAL_TEXT_MAX], bonus[DECIMAL_TEXT_MAX], paid_at[TIME_TEXT_MAX];
    const char *type = acc_str(a, p->type);
    /* The API's sign for returns and change is not documented: normalise. */
    decimal signed_amount = decimal_abs(p->amount);
    if (strcmp(type, "payment") != 0)
        signed_amount = decimal_neg(signed_amount);
    row_payment row = {
        .payment_id = acc_str(a, p->id),
        .order_id = acc_str(a, a->id),
        .paid_at = time_format_iso(p->paid_at, paid_at),
        .payment_date = acc_str(a, p->date),
        .payment_type = type,
        .method = method_label(a, p->method),
        .amount = decimal_format(signed_amount, amount),
        .bonus_amount = p->has_bonus ? decimal_format(p->bonus, bonus) : NULL,
        .currency = value_currency_str(o->currency, currency),
    };
    return field_sink_rc(out->payment(out->ctx, &row, err), err);
}

fe_rc posiflora_order_acc_flush(posiflora_order_acc *a, const posiflora_map_opts *o,
                                const row_sink *out, posiflora_order_info *info, fe_err *err)
{
    bool known = true;
    acc_sums sums;
    fe_rc rc;

    *info = (posiflora_order_info){.order_id = acc_str(a, a->id), .reject_raw = ""};
    info->status = acc_str(a, a->status);
    if (a->failed) {
        info->reject_id = info->order_id ? info->order_id : acc_str(a, a->fail_id);
        info->reject_raw = a->raw ? a->raw : "";
        return fe_err_set(err, FE_EINVAL, "%s", a->reason);
    }
    info->reject_id = info->order_id;
    info->reject_raw = a->doc ? a->doc : "";
    FE_TRY(acc_check_complete(a, err));
    FE_TRY(acc_derive(a, &sums, err));
    info->reject_raw = "";
    sort_methods(a);

    FE_TRY(put_order(a, &sums, o, out, &known, err));
    info->unknown_status = !known;
    for (size_t i = 0; i < a->nlines; i++) {
        if ((rc = put_line(a, &a->lines[i], o, out, err)) != FE_OK)
            return rc;
        info->lines++;
    }
    for (size_t i = 0; i < a->npays; i++) {
        if ((rc = put_payment(a, &a->pays[i], o, out, err)) != FE_OK)
            return rc;
        info->payments++;
    }
    return FE_OK;
}
