/* oracle: staged rows judged by the warehouse's column types. See oracle.h. */
#include "tests/fuzz/oracle.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* What a column holds, as the warehouse types it. */
typedef enum {
    K_TEXT,     /* text, NULL allowed */
    K_ID,       /* text, not NULL and not empty (the loader refuses the row otherwise) */
    K_SLOT,     /* text, not NULL (may be empty) */
    K_NUMERIC,  /* numeric(20,4) */
    K_TIME,     /* timestamptz */
    K_DATE,     /* date */
    K_DATE_REQ, /* date, not NULL */
    K_INT,      /* integer */
    K_BOOL,     /* boolean, not NULL */
    K_CHAR3,    /* char(3): at most 3 characters */
    K_KIND,     /* dim_store.kind CHECK list (NULL allowed: no store) */
    K_KIND_REQ, /* the same, not NULL */
    K_PTYPE,    /* dim_product.product_type CHECK list */
    K_GROUP,    /* fact_order.status_group CHECK list */
    K_PAYTYPE   /* fact_payment.payment_type CHECK list */
} kind;

typedef struct {
    const char *name;
    kind k;
} column;

#define NCOL_MAX 24

typedef struct {
    const char *table;
    int n;
    column c[NCOL_MAX];
} schema;

/* Column order = the column tables of transform/rows.h (the loader's COPY columns). */
static const schema SCHEMAS[STG__COUNT] = {
    [STG_STORE] = {"store",
                   8,
                   {{"kind", K_KIND_REQ},
                    {"store_id", K_ID},
                    {"name", K_TEXT},
                    {"address", K_TEXT},
                    {"currency", K_CHAR3},
                    {"timezone", K_TEXT},
                    {"status", K_TEXT},
                    {"is_deleted", K_BOOL}}},
    [STG_CUSTOMER] = {"customer",
                      9,
                      {{"customer_id", K_ID},
                       {"name", K_TEXT},
                       {"phone", K_TEXT},
                       {"email", K_TEXT},
                       {"status", K_TEXT},
                       {"loyalty_points", K_NUMERIC},
                       {"created_at", K_TIME},
                       {"updated_at", K_TIME},
                       {"is_deleted", K_BOOL}}},
    [STG_CATEGORY] =
        {"category",
         4,
         {{"category_id", K_ID}, {"name", K_TEXT}, {"parent_id", K_TEXT}, {"is_deleted", K_BOOL}}},
    [STG_PRODUCT] = {"product",
                     12,
                     {{"product_id", K_ID},
                      {"sku", K_TEXT},
                      {"name", K_TEXT},
                      {"product_type", K_PTYPE},
                      {"category_id", K_TEXT},
                      {"brand", K_TEXT},
                      {"list_price", K_NUMERIC},
                      {"currency", K_CHAR3},
                      {"created_at", K_TIME},
                      {"updated_at", K_TIME},
                      {"is_active", K_BOOL},
                      {"is_deleted", K_BOOL}}},
    [STG_COMPONENT] = {"component",
                       5,
                       {{"parent_id", K_ID},
                        {"component_id", K_ID},
                        {"slot", K_SLOT},
                        {"quantity", K_NUMERIC},
                        {"special_price", K_NUMERIC}}},
    [STG_ORDER] = {"order",
                   22,
                   {{"order_id", K_ID},
                    {"order_number", K_TEXT},
                    {"store_kind", K_KIND},
                    {"store_id", K_TEXT},
                    {"customer_id", K_TEXT},
                    {"ordered_at", K_TIME},
                    {"order_date", K_DATE},
                    {"status", K_TEXT},
                    {"status_group", K_GROUP},
                    {"currency", K_CHAR3},
                    {"subtotal", K_NUMERIC},
                    {"discount_total", K_NUMERIC},
                    {"tax_total", K_NUMERIC},
                    {"shipping_total", K_NUMERIC},
                    {"total", K_NUMERIC},
                    {"paid_total", K_NUMERIC},
                    {"line_count", K_INT},
                    {"source_updated_at", K_TIME},
                    {"is_deleted", K_BOOL},
                    {"lines_complete", K_BOOL},
                    {"payments_complete", K_BOOL},
                    {"tombstone", K_BOOL}}},
    [STG_ORDER_LINE] = {"order_line",
                        11,
                        {{"order_id", K_ID},
                         {"line_id", K_ID},
                         {"product_id", K_TEXT},
                         {"bundle_id", K_TEXT},
                         {"quantity", K_NUMERIC},
                         {"unit_price", K_NUMERIC},
                         {"discount", K_NUMERIC},
                         {"tax", K_NUMERIC},
                         {"line_total", K_NUMERIC},
                         {"cost", K_NUMERIC},
                         {"currency", K_CHAR3}}},
    [STG_PAYMENT] = {"payment",
                     9,
                     {{"payment_id", K_ID},
                      {"order_id", K_TEXT},
                      {"paid_at", K_TIME},
                      {"payment_date", K_DATE},
                      {"payment_type", K_PAYTYPE},
                      {"method", K_TEXT},
                      {"amount", K_NUMERIC},
                      {"bonus_amount", K_NUMERIC},
                      {"currency", K_CHAR3}}},
    [STG_INVENTORY] = {"inventory",
                       12,
                       {{"snapshot_date", K_DATE_REQ},
                        {"product_id", K_TEXT},
                        {"store_kind", K_KIND},
                        {"store_id", K_TEXT},
                        {"on_hand", K_NUMERIC},
                        {"available", K_NUMERIC},
                        {"reserved", K_NUMERIC},
                        {"on_order", K_NUMERIC},
                        {"unit_cost", K_NUMERIC},
                        {"unit_price", K_NUMERIC},
                        {"inventory_value", K_NUMERIC},
                        {"captured_at", K_TIME}}},
    [STG_REJECT] = {"reject", 0, {{NULL, K_TEXT}}},
};

const char *oracle_table_name(stage_table t)
{
    return t < STG__COUNT ? SCHEMAS[t].table : "?";
}

/* ---- text --------------------------------------------------------------- */

bool oracle_text_ok(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t need;
        if (p[i] == 0)
            return false;
        if (p[i] < 0x80) {
            i++;
            continue;
        } else if ((p[i] & 0xE0) == 0xC0) {
            cp = p[i] & 0x1F;
            need = 1;
        } else if ((p[i] & 0xF0) == 0xE0) {
            cp = p[i] & 0x0F;
            need = 2;
        } else if ((p[i] & 0xF8) == 0xF0) {
            cp = p[i] & 0x07;
            need = 3;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* the shortest form only, no surrogates, nothing past U+10FFFF */
        static const uint32_t min_for[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += need + 1;
    }
    return true;
}

static size_t char_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* ---- numbers and times -------------------------------------------------- */

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* numeric(20,4): [-]digits[.digits], at most 4 decimals (the staged form is
 * exact), at most 16 integer digits once leading zeros are gone. */
static const char *numeric_problem(const char *s, size_t len)
{
    size_t i = (len > 0 && s[0] == '-') ? 1 : 0;
    const char *dot = memchr(s + i, '.', len - i);
    size_t ilen = dot ? (size_t)(dot - (s + i)) : len - i;
    size_t flen = dot ? len - i - ilen - 1 : 0;
    if (!all_digits(s + i, ilen) || (dot && !all_digits(dot + 1, flen)))
        return "not a number";
    if (flen > 4)
        return "more than 4 decimals";
    while (ilen > 1 && s[i] == '0') {
        i++;
        ilen--;
    }
    if (ilen > 16)
        return "more than 16 integer digits (numeric(20,4) overflow)";
    return NULL;
}

static bool int_ok(const char *s, size_t len)
{
    size_t i = (len > 0 && s[0] == '-') ? 1 : 0;
    if (!all_digits(s + i, len - i) || len - i > 10)
        return false;
    long long v = 0;
    for (size_t k = i; k < len; k++)
        v = v * 10 + (s[k] - '0');
    return i ? -v >= INT32_MIN : v <= INT32_MAX;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD", a real day of years 1..9999. */
static bool date_ok(const char *s, size_t len)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (len != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
        !all_digits(s + 8, 2))
        return false;
    int y = num2(s) * 100 + num2(s + 2), m = num2(s + 5), d = num2(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

/* The staged form "YYYY-MM-DDTHH:MM:SS[.ffffff]Z". The day must leave a business
 * date in years 1..9999 in every time zone (offsets below a day): 0001-01-02 to
 * 9999-12-30. */
static const char *time_problem(const char *s, size_t len)
{
    if (len < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z' ||
        !date_ok(s, 10) || !all_digits(s + 11, 2) || !all_digits(s + 14, 2) ||
        !all_digits(s + 17, 2))
        return "not a timestamp";
    if (len != 20 && (len != 27 || s[19] != '.' || !all_digits(s + 20, 6)))
        return "not a timestamp";
    if (num2(s + 11) > 23 || num2(s + 14) > 59 || num2(s + 17) > 59)
        return "not a timestamp";
    if (memcmp(s, "0001-01-02", 10) < 0 || memcmp(s, "9999-12-30", 10) > 0)
        return "a business date outside years 1..9999";
    return NULL;
}

static bool in_list(const char *s, size_t len, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return true;
    return false;
}

/* ---- one field ---------------------------------------------------------- */

static const char *const KINDS[] = {"store", "shop", "channel", "warehouse", NULL};
static const char *const PTYPES[] = {"standard", "kit",     "group",   "bundle",
                                     "addon",    "service", "bouquet", NULL};
static const char *const GROUPS[] = {"open", "completed", "canceled", "returned", NULL};
static const char *const PAYTYPES[] = {"payment", "refund", "change", NULL};

/* NULL when the server takes value (NULL = SQL NULL) for a column of kind k. */
static const char *field_problem(kind k, const char *v, size_t len)
{
    if (!v) {
        bool required =
            k == K_ID || k == K_SLOT || k == K_DATE_REQ || k == K_BOOL || k == K_KIND_REQ;
        return required ? "NULL in a column that needs a value" : NULL;
    }
    if (!oracle_text_ok(v, len))
        return "not valid UTF-8 or holds a NUL byte";
    switch (k) {
    case K_TEXT:
    case K_SLOT:
        return NULL;
    case K_ID:
        return len ? NULL : "empty id";
    case K_NUMERIC:
        return numeric_problem(v, len);
    case K_TIME:
        return time_problem(v, len);
    case K_DATE:
    case K_DATE_REQ:
        return date_ok(v, len) ? NULL : "not a date of years 1..9999";
    case K_INT:
        return int_ok(v, len) ? NULL : "not an integer";
    case K_BOOL:
        return len == 1 && (v[0] == 't' || v[0] == 'f') ? NULL : "not a boolean";
    case K_CHAR3:
        return char_count(v, len) <= 3 ? NULL : "longer than char(3)";
    case K_KIND:
    case K_KIND_REQ:
        return in_list(v, len, KINDS) ? NULL : "not a store kind";
    case K_PTYPE:
        return in_list(v, len, PTYPES) ? NULL : "not a product type";
    case K_GROUP:
        return in_list(v, len, GROUPS) ? NULL : "not a status group";
    case K_PAYTYPE:
        return in_list(v, len, PAYTYPES) ? NULL : "not a payment type";
    }
    return "unknown column kind";
}

/* Undoes COPY text escaping of raw[0..len) into out (at least len bytes). Returns
 * the length, or -1 for an escape the encoder must not write (PostgreSQL would
 * read \b, \f, \v, octal and hex escapes as other bytes). */
static long unescape(const char *raw, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] != '\\') {
            out[o++] = raw[i];
            continue;
        }
        if (++i == len)
            return -1;
        switch (raw[i]) {
        case '\\':
            out[o++] = '\\';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        default:
            return -1;
        }
    }
    return (long)o;
}

bool oracle_row(stage_table t, const char *line, size_t len, char *why, size_t n)
{
    const schema *s = &SCHEMAS[t];
    static char value[1 << 20]; /* one field, unescaped (fuzz inputs are smaller) */
    size_t at = 0;
    if (memchr(line, '\n', len) || memchr(line, '\r', len) || memchr(line, '\0', len)) {
        snprintf(why, n, "%s: a raw newline or NUL in the row", s->table);
        return false;
    }
    for (int c = 0; c < s->n; c++) {
        const char *tab = memchr(line + at, '\t', len - at);
        size_t end = tab ? (size_t)(tab - line) : len;
        if ((c < s->n - 1) != (tab != NULL)) {
            snprintf(why, n, "%s: not %d fields", s->table, s->n);
            return false;
        }
        const char *problem;
        if (end - at == 2 && line[at] == '\\' && line[at + 1] == 'N') {
            problem = field_problem(s->c[c].k, NULL, 0);
        } else if (end - at > sizeof value) {
            problem = "a field too long for the oracle";
        } else {
            long vlen = unescape(line + at, end - at, value);
            problem = vlen < 0 ? "a backslash escape COPY would read otherwise"
                               : field_problem(s->c[c].k, value, (size_t)vlen);
        }
        if (problem) {
            snprintf(why, n, "%s.%s: %s ('%.60s')", s->table, s->c[c].name, problem, line + at);
            return false;
        }
        at = end + 1;
    }
    return true;
}
