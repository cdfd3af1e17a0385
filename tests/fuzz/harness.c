/* harness: one fuzz input through one target, with every check. See harness.h. */
#include "tests/fuzz/harness.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extract/json_stream.h"
#include "transform/rows.h"
#include "load/stage_row.h"
#include "transform/field.h"
#include "sources/flowretail/flowretail_map.h"
#include "sources/flowwow/flowwow_map.h"
#include "sources/goflow/goflow_map.h"
#include "sources/posiflora/posiflora_map.h"
#include "sources/posiflora/posiflora_order.h"
#include "tests/fuzz/oracle.h"

/* The mapper targets' record cap (production uses 4 MiB; inputs are smaller). */
#define RECORD_CAP ((size_t)1 << 20)

static const char *const NAMES[FUZZ__COUNT] = {
    [FUZZ_JSON_STREAM] = "json_stream",
    [FUZZ_POSIFLORA] = "posiflora",
    [FUZZ_POSIFLORA_ORDER] = "posiflora_order",
    [FUZZ_FLOWWOW] = "flowwow",
    [FUZZ_GOFLOW] = "goflow",
    [FUZZ_FLOWRETAIL] = "flowretail",
};

const char *fuzz_target_name(fuzz_target t)
{
    return t < FUZZ__COUNT ? NAMES[t] : NULL;
}

int fuzz_target_find(const char *name)
{
    for (int t = 0; t < FUZZ__COUNT; t++)
        if (strcmp(NAMES[t], name) == 0)
            return t;
    return -1;
}

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz check failed: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static void need(bool ok)
{
    if (!ok)
        fail("out of memory in the harness");
}

/* ---- the staging sink: rows as the loader would COPY them ----------------- */

/* One mapping call's outcome, kept for the second pass. */
typedef struct {
    fe_rc rc;
    size_t off, len; /* its rows' text in the pass's log */
} call_out;

typedef struct {
    buf log;  /* rows of every call, one "table<TAB>line" per line */
    int rows; /* rows of the current call */
    call_out *calls;
    size_t ncalls, cap;
    size_t call_start;
    const char *what; /* the current call, for messages */
} pass;

static void pass_init(pass *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->log, 0);
}

static void pass_term(pass *p)
{
    buf_term(&p->log);
    free(p->calls);
}

static void call_begin(pass *p, const char *what)
{
    p->rows = 0;
    p->call_start = p->log.len;
    p->what = what;
}

/* Ends a mapping call: its code, and for a refusal the reason and no row. */
static void call_end(pass *p, fe_rc rc, const fe_err *err)
{
    if (rc != FE_OK && rc != FE_EINVAL)
        fail("%s: code %d (%s) from a sink that never fails", p->what, rc, err->msg);
    if (rc == FE_EINVAL) {
        size_t n = strlen(err->msg);
        if (p->rows)
            fail("%s: refused after handing over %d rows: %s", p->what, p->rows, err->msg);
        if (n == 0 || memchr(err->msg, '\n', n) || !oracle_text_ok(err->msg, n))
            fail("%s: the reason is empty, not one line or not UTF-8: '%s'", p->what, err->msg);
    }
    if (p->ncalls == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        need((p->calls = realloc(p->calls, p->cap * sizeof *p->calls)) != NULL);
    }
    p->calls[p->ncalls++] = (call_out){rc, p->call_start, p->log.len - p->call_start};
}

/* Checks one staged row with the oracle and logs it. */
static fe_rc put_row(pass *p, stage_table t, buf *row, bool ok)
{
    char why[512];
    need(ok);
    if (!oracle_row(t, row->data, row->len, why, sizeof why))
        fail("%s: PostgreSQL would refuse a staged row: %s\n  row: %.*s", p->what, why,
             (int)row->len, row->data);
    need(buf_puts(&p->log, oracle_table_name(t)) && buf_putc(&p->log, '\t') &&
         buf_append(&p->log, row->data, row->len) && buf_putc(&p->log, '\n'));
    p->rows++;
    buf_term(row);
    return FE_OK;
}

/* Each row is encoded by the loader's own encoder (load/stage_row), so the
 * oracle judges exactly the COPY text the server would be sent. */
#define SINK_FN(table, TABLE)                                                                      \
    static fe_rc s_##table(void *ctx, const row_##table *r, fe_err *e)                             \
    {                                                                                              \
        (void)e;                                                                                   \
        buf row;                                                                                   \
        buf_init(&row, 0);                                                                         \
        bool ok = stage_row_##table(&row, r);                                                      \
        return put_row(ctx, STG_##TABLE, &row, ok);                                                \
    }

SINK_FN(store, STORE)
SINK_FN(customer, CUSTOMER)
SINK_FN(category, CATEGORY)
SINK_FN(product, PRODUCT)
SINK_FN(component, COMPONENT)
SINK_FN(order, ORDER)
SINK_FN(order_line, ORDER_LINE)
SINK_FN(payment, PAYMENT)
SINK_FN(inventory, INVENTORY)

static row_sink sink_of(pass *p)
{
    return (row_sink){.ctx = p,
                      .store = s_store,
                      .customer = s_customer,
                      .category = s_category,
                      .product = s_product,
                      .component = s_component,
                      .order = s_order,
                      .order_line = s_order_line,
                      .payment = s_payment,
                      .inventory = s_inventory};
}

/* ---- the mapper targets ----------------------------------------------------- */

/* A small hash of the input: picks options (scales, modes) deterministically. */
static unsigned input_hash(const uint8_t *data, size_t size)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    return h;
}

typedef struct {
    fuzz_target target;
    pass *p;
    row_sink sink;
    unsigned hash;
    posiflora_order_acc *acc;
    size_t records;
} map_run;

#define CALL(r, what, expr)                                                                        \
    do {                                                                                           \
        fe_err e_ = {0};                                                                           \
        call_begin((r)->p, what);                                                                  \
        fe_rc rc_ = (expr);                                                                        \
        call_end((r)->p, rc_, &e_);                                                                \
    } while (0)

static void map_posiflora(map_run *r, const json_rec *rec)
{
    static const posiflora_map_opts o = {.currency = "RUB"};
    const row_sink *s = &r->sink;
    CALL(r, "posiflora_map_store", posiflora_map_store(rec, &o, s, &e_));
    CALL(r, "posiflora_map_category", posiflora_map_category(rec, &o, s, &e_));
    CALL(r, "posiflora_map_item", posiflora_map_item(rec, &o, s, &e_));
    CALL(r, "posiflora_map_bouquet", posiflora_map_bouquet(rec, &o, s, &e_));
    CALL(r, "posiflora_map_customer", posiflora_map_customer(rec, &o, s, &e_));
}

static void map_flowwow(map_run *r, int which, const json_rec *rec)
{
    static const flowwow_product_opts po = {
        .shop_id = "101", .snapshot_date = "2026-01-02", .captured_at = "2026-01-02T08:00:00Z"};
    flowwow_order_opts oo = {.shop_id = "101",
                             .order_date = "2026-01-02",
                             .currency = (r->hash & 2) ? "RUB" : NULL,
                             .line_sum_is_total = r->hash & 1};
    flowwow_order_info info;
    const row_sink *s = &r->sink;
    if (which == 0) {
        CALL(r, "flowwow_map_shop", flowwow_map_shop(rec, s, &e_));
        return;
    }
    CALL(r, "flowwow_map_product", flowwow_map_product(rec, &po, s, &e_));
    CALL(r, "flowwow_map_order", flowwow_map_order(rec, &oo, s, &info, &e_));
}

/* A report row as the Goflow report reader should build it: columns read as
 * checked text (a column holding a NUL is refused, not cut at it). */
static fe_rc goflow_report_row(const json_rec *rec, const row_sink *s, fe_err *err)
{
    static const char *const cols[] = {"product_id",
                                       "warehouse_id",
                                       "on_hand",
                                       "available",
                                       "on_purchase_order",
                                       "inventory_value_average",
                                       "available_value_average",
                                       "snapshot_date",
                                       "captured_at"};
    const char *v[9];
    for (int i = 0; i < 9; i++)
        FE_TRY(field_text(rec, cols[i], &v[i], err));
    goflow_inventory_in in = {.snapshot_date = v[7] ? v[7] : "2026-01-02",
                              .captured_at = v[8] ? v[8] : "2026-01-02T08:00:00Z",
                              .product_id = v[0],
                              .warehouse_id = v[1],
                              .on_hand = v[2],
                              .available = v[3],
                              .on_purchase_order = v[4],
                              .inventory_value = v[5],
                              .unit_cost = v[6]};
    return goflow_map_inventory(&in, s, err);
}

static void map_goflow(map_run *r, const json_rec *rec)
{
    goflow_map_opts unit = {.line_price_is_unit = true}, ext = {.line_price_is_unit = false};
    goflow_order_info info;
    const row_sink *s = &r->sink;
    CALL(r, "goflow_map_store", goflow_map_store(rec, s, &e_));
    CALL(r, "goflow_map_warehouse", goflow_map_warehouse(rec, s, &e_));
    CALL(r, "goflow_map_product", goflow_map_product(rec, s, &e_));
    CALL(r, "goflow_map_order (unit)", goflow_map_order(rec, &unit, s, &info, &e_));
    CALL(r, "goflow_map_order (extended)", goflow_map_order(rec, &ext, s, &info, &e_));
    CALL(r, "goflow_map_inventory", goflow_report_row(rec, s, &e_));
}

static void map_flowretail(map_run *r, int which, const json_rec *rec)
{
    static const long scales[] = {1, 10, 100, 1000, 10000};
    static const char *const currencies[] = {"NOK", "nok", "EURO", NULL};
    flowretail_map_opts o = {.currency = currencies[(r->hash >> 8) % 4],
                             .amount_scale = scales[r->hash % 5],
                             .quantity_scale = scales[(r->hash >> 4) % 5],
                             .snapshot_date = "2026-01-02",
                             .captured_at = "2026-01-02T08:00:00Z"};
    const row_sink *s = &r->sink;
    bool skipped;
    if (which == 2) {
        CALL(r, "flowretail_map_category", flowretail_map_category(rec, &o, s, &e_));
        return;
    }
    CALL(r, "flowretail_map_product", flowretail_map_product(rec, &o, s, &skipped, &e_));
    CALL(r, "flowretail_map_store_stock",
         flowretail_map_store_stock(rec, "store-1", &o, s, &skipped, &e_));
    CALL(r, "flowretail_map_stock_item", flowretail_map_stock_item(rec, &o, s, &e_));
    CALL(r, "flowretail_map_slot", flowretail_map_slot(rec, "p0", &o, s, &e_));
}

static fe_rc on_map_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    map_run *r = ctx;
    r->records++;
    switch (r->target) {
    case FUZZ_POSIFLORA:
        map_posiflora(r, rec);
        break;
    case FUZZ_POSIFLORA_ORDER:
        return posiflora_order_acc_add(r->acc, which == 0, rec, err);
    case FUZZ_FLOWWOW:
        map_flowwow(r, which, rec);
        break;
    case FUZZ_GOFLOW:
        map_goflow(r, rec);
        break;
    case FUZZ_FLOWRETAIL:
        map_flowretail(r, which, rec);
        break;
    default:
        break;
    }
    return FE_OK;
}

/* The record paths each source's extractor reads with. */
static const char *const *paths_of(fuzz_target t, int *n)
{
    static const char *const posiflora[] = {"data[]", "included[]"};
    static const char *const detail[] = {"data", "included[]"};
    static const char *const flowwow[] = {"shops[]", "items[]"};
    static const char *const goflow[] = {"data[]"};
    static const char *const flowretail[] = {"items[]", "products[]", "."};
    switch (t) {
    case FUZZ_POSIFLORA:
        *n = 2;
        return posiflora;
    case FUZZ_POSIFLORA_ORDER:
        *n = 2;
        return detail;
    case FUZZ_FLOWWOW:
        *n = 2;
        return flowwow;
    case FUZZ_GOFLOW:
        *n = 1;
        return goflow;
    default:
        *n = 3;
        return flowretail;
    }
}

/* The order accumulator's flush, once the document is complete. */
static void flush_order(map_run *r)
{
    static const posiflora_map_opts o = {.currency = "RUB"};
    posiflora_order_info info;
    fe_err e = {0};
    call_begin(r->p, "posiflora_order_acc_flush");
    fe_rc rc = posiflora_order_acc_flush(r->acc, &o, &r->sink, &info, &e);
    call_end(r->p, rc, &e);
    if (rc == FE_EINVAL && (!info.reject_raw || (r->records > 0 && !info.reject_raw[0])))
        fail("posiflora_order_acc_flush: a reject of a document with %zu records keeps no raw "
             "text (%s)",
             r->records, e.msg);
}

/* One pass of a mapper target over doc[0..len). */
static void map_pass(fuzz_target t, const char *doc, size_t len, unsigned hash, pass *p)
{
    int npaths;
    const char *const *paths = paths_of(t, &npaths);
    map_run r = {.target = t, .p = p, .sink = sink_of(p), .hash = hash};
    fe_err err = {0};
    if (t == FUZZ_POSIFLORA_ORDER)
        need((r.acc = posiflora_order_acc_new()) != NULL);
    json_stream *js = json_stream_new(paths, npaths, false, RECORD_CAP, on_map_record, &r);
    need(js != NULL);
    /* In pieces of varying size, as libcurl hands a body over. */
    fe_rc rc = FE_OK;
    for (size_t at = 0, step = 1 + hash % 97; at < len && rc == FE_OK; at += step)
        rc = json_stream_feed(js, doc + at, len - at < step ? len - at : step, &err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, &err);
    if (rc != FE_OK && rc != FE_EJSON && rc != FE_ENOMEM)
        fail("json_stream: code %d (%s)", rc, err.msg);
    if (rc == FE_OK && t == FUZZ_POSIFLORA_ORDER)
        flush_order(&r);
    json_stream_free(js);
    posiflora_order_acc_free(r.acc);
}

/* doc with every \u0000 escape inside a JSON string made \u0001 (caller frees),
 * or NULL when it has none. */
static char *without_nul_escapes(const char *doc, size_t len)
{
    char *out = NULL;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_string) {
            in_string = doc[i] == '"';
            continue;
        }
        if (doc[i] == '"') {
            in_string = false;
        } else if (doc[i] == '\\' && i + 1 < len) {
            if (len - i >= 6 && memcmp(doc + i + 1, "u0000", 5) == 0) {
                if (!out) {
                    need((out = malloc(len)) != NULL);
                    memcpy(out, doc, len);
                }
                out[i + 5] = '1';
            }
            i++;
        }
    }
    return out;
}

static void run_mapper(fuzz_target t, const uint8_t *data, size_t size)
{
    const char *doc = (const char *)data;
    unsigned hash = input_hash(data, size);
    pass a, b;
    pass_init(&a);
    map_pass(t, doc, size, hash, &a);
    char *mutated = without_nul_escapes(doc, size);
    if (mutated) {
        pass_init(&b);
        map_pass(t, mutated, size, hash, &b);
        if (a.ncalls != b.ncalls)
            fail("%zu mapping calls, %zu once \\u0000 became \\u0001", a.ncalls, b.ncalls);
        for (size_t i = 0; i < a.ncalls; i++) {
            const call_out *x = &a.calls[i], *y = &b.calls[i];
            if (x->rc != FE_OK)
                continue;
            if (y->rc != FE_OK || x->len != y->len ||
                (x->len && memcmp(a.log.data + x->off, b.log.data + y->off, x->len) != 0))
                fail("call %zu mapped a record holding a NUL byte: it came out otherwise once "
                     "\\u0000 became \\u0001 (a value was cut at the NUL)\n  rows: %.*s",
                     i, (int)x->len, a.log.data ? a.log.data + x->off : "");
        }
        pass_term(&b);
        free(mutated);
    }
    pass_term(&a);
}

/* ---- the json_stream target --------------------------------------------------- */

typedef struct {
    buf out;
    size_t cap;
} js_render;

static fe_rc on_js_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    js_render *r = ctx;
    size_t total = 0;
    char small[37], big[8192];
    (void)err;
    need(buf_printf(&r->out, "%d|", which));
    for (size_t i = 0; i < json_rec_count(rec); i++) {
        const json_field *f = json_rec_at(rec, i);
        size_t plen = strlen(f->path);
        total += plen + f->len + 2;
        need(buf_printf(&r->out, "%zu:", plen) && buf_append(&r->out, f->path, plen) &&
             buf_printf(&r->out, "=%d:%zu:", (int)f->type, f->len) &&
             buf_append(&r->out, f->value, f->len) && buf_putc(&r->out, ';'));
        if (f->value[f->len] != '\0')
            fail("json_stream: a value not NUL-terminated at its length");
    }
    if (r->cap && total > r->cap)
        fail("json_stream: a record of %zu bytes passed the cap of %zu", total, r->cap);
    size_t n = json_rec_dump(rec, small, sizeof small);
    if (n != strlen(small) || n >= sizeof small)
        fail("json_rec_dump: length %zu for %zu bytes", n, strlen(small));
    n = json_rec_dump(rec, big, sizeof big);
    if (n != strlen(big) || n >= sizeof big)
        fail("json_rec_dump: length %zu for %zu bytes", n, strlen(big));
    need(buf_putc(&r->out, '\n'));
    return FE_OK;
}

static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Feeds doc whole (chunk seed 0) or in pieces; returns the outcome. */
static fe_rc js_feed(json_stream *js, const char *doc, size_t len, uint32_t seed, fe_err *err)
{
    fe_rc rc = FE_OK;
    size_t at = 0;
    while (at < len && rc == FE_OK) {
        size_t n = len - at;
        if (seed) {
            uint32_t r = next_rand(&seed);
            size_t want = (r & 7) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 16;
            n = n < want ? n : want;
        }
        rc = json_stream_feed(js, doc + at, n, err);
        at += n;
    }
    if (rc == FE_OK) {
        rc = json_stream_finish(js, err);
        if (rc == FE_OK && json_stream_bytes(js) != len)
            fail("json_stream_bytes: %zu for %zu bytes fed", json_stream_bytes(js), len);
    }
    return rc;
}

static void run_json_stream(const uint8_t *data, size_t size)
{
    static const char *const sets[4][3] = {{"data[]", "included[]", "."},
                                           {"[]", NULL, NULL},
                                           {"data", "included[]", NULL},
                                           {".", NULL, NULL}};
    static const int nset[4] = {3, 1, 2, 1};
    static const size_t caps[4] = {0, 64, 1024, (size_t)1 << 20};
    if (size < 5)
        return;
    int set = data[0] & 3;
    bool multi = data[0] & 4;
    size_t cap = caps[(data[0] >> 3) & 3];
    uint32_t seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                    (uint32_t)data[4] << 24 | 1u;
    const char *doc = (const char *)data + 5;
    size_t len = size - 5;
    js_render whole = {.cap = cap}, pieces = {.cap = cap};
    fe_err e1 = {0}, e2 = {0};
    buf_init(&whole.out, 0);
    buf_init(&pieces.out, 0);
    json_stream *js = json_stream_new(sets[set], nset[set], multi, cap, on_js_record, &whole);
    need(js != NULL);
    fe_rc rc1 = js_feed(js, doc, len, 0, &e1);
    /* The same stream again after a reset, in pieces. */
    json_stream_reset(js);
    json_stream_free(js);
    js = json_stream_new(sets[set], nset[set], multi, cap, on_js_record, &pieces);
    need(js != NULL);
    /* Part of the document first, then a reset: nothing of it may stay. */
    fe_rc ignored = json_stream_feed(js, doc, len / 2, &e2);
    (void)ignored;
    json_stream_reset(js);
    buf_reset(&pieces.out);
    fe_rc rc2 = js_feed(js, doc, len, seed, &e2);
    if (rc1 != rc2 || (rc1 != FE_OK && strcmp(e1.msg, e2.msg) != 0))
        fail("json_stream: fed whole: %d '%s'; in pieces: %d '%s'", rc1, e1.msg, rc2, e2.msg);
    if (whole.out.len != pieces.out.len ||
        (whole.out.len && memcmp(whole.out.data, pieces.out.data, whole.out.len) != 0))
        fail("json_stream: other records fed whole than in pieces");
    json_stream_free(js);
    buf_term(&whole.out);
    buf_term(&pieces.out);
}

void fuzz_run(fuzz_target t, const uint8_t *data, size_t size)
{
    if (t == FUZZ_JSON_STREAM)
        run_json_stream(data, size);
    else if (t < FUZZ__COUNT)
        run_mapper(t, data, size);
}
