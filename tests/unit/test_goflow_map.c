/* test_goflow_map: sources/goflow/goflow_map on fixture documents
 * (tests/data/goflow_*.json) read through json_stream as the extractor reads
 * them: exact rows for stores, warehouses, products with kit components, orders
 * with lines (money, discounts, taxes, costs, upper-cased currencies, 7-digit
 * timestamps, split tombstones), inventory rows, statuses, and rejects. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extract/json_stream.h"
#include "sources/goflow/goflow_map.h"
#include "transform/value.h"

/* ---- a recording sink ---------------------------------------------------------- */

#define MAX_ROWS 64
typedef struct {
    char text[MAX_ROWS][512];
    int n;
} recorder;

static recorder rec;

static const char *nz(const char *s)
{
    return s ? s : "NULL";
}

static fe_rc add(const char *line)
{
    if (rec.n < MAX_ROWS)
        snprintf(rec.text[rec.n++], sizeof rec.text[0], "%s", line);
    return FE_OK;
}

static fe_rc rec_store(void *c, const row_store *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b, "store %s %s|%s|%s|%s|%s", r->kind, r->store_id, nz(r->name),
             nz(r->address), nz(r->currency), nz(r->status));
    return add(b);
}

static fe_rc rec_product(void *c, const row_product *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b, "product %s %s|%s|%s|%s|%s|%d", r->product_id, nz(r->sku), nz(r->name),
             nz(r->product_type), nz(r->brand), nz(r->list_price), r->is_active);
    return add(b);
}

static fe_rc rec_component(void *c, const row_component *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b, "component %s>%s [%s] %s", r->parent_id, r->component_id, r->slot,
             nz(r->quantity));
    return add(b);
}

static fe_rc rec_order(void *c, const row_order *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b,
             "order %s %s|%s:%s|%s|%s/%s|%s|sub %s disc %s tax %s ship %s tot %s|%s|%s|%d%d%d",
             r->order_id, nz(r->order_number), nz(r->store_kind), nz(r->store_id),
             nz(r->ordered_at), nz(r->status), nz(r->status_group), nz(r->currency),
             nz(r->subtotal), nz(r->discount_total), nz(r->tax_total), nz(r->shipping_total),
             nz(r->total), nz(r->line_count), nz(r->source_updated_at), r->is_deleted,
             r->lines_complete, r->tombstone);
    return add(b);
}

static fe_rc rec_line(void *c, const row_order_line *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b, "line %s/%s p%s q%s u%s d%s t%s lt%s c%s %s", r->order_id, r->line_id,
             nz(r->product_id), nz(r->quantity), nz(r->unit_price), nz(r->discount), nz(r->tax),
             nz(r->line_total), nz(r->cost), nz(r->currency));
    return add(b);
}

static fe_rc rec_inventory(void *c, const row_inventory *r, fe_err *e)
{
    char b[512];
    (void)c;
    (void)e;
    snprintf(b, sizeof b, "inv %s %s@%s:%s h%s a%s o%s v%s c%s %s", r->snapshot_date, r->product_id,
             r->store_kind, r->store_id, nz(r->on_hand), nz(r->available), nz(r->on_order),
             nz(r->inventory_value), nz(r->unit_cost), nz(r->captured_at));
    return add(b);
}

static const row_sink sink = {.store = rec_store,
                              .product = rec_product,
                              .component = rec_component,
                              .order = rec_order,
                              .order_line = rec_line,
                              .inventory = rec_inventory};

/* ---- feeding fixtures ------------------------------------------------------------- */

static char *read_fixture(const char *name, size_t *len)
{
    char path[1024];
    const char *dir = getenv("FLOWETL_TEST_DATA");
    if (dir) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
    } else {
        const char *slash = strrchr(__FILE__, '/');
        int n = slash ? (int)(slash - __FILE__) : 1;
        snprintf(path, sizeof path, "%.*s/../data/%s", n, slash ? __FILE__ : ".", name);
    }
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    buf b;
    char chunk[4096];
    size_t got;
    buf_init(&b, 0);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        CU_ASSERT_FATAL(buf_append(&b, chunk, got));
    fclose(f);
    return buf_take(&b, len);
}

typedef enum { MAP_STORE, MAP_PRODUCT, MAP_ORDER } map_kind;

typedef struct {
    map_kind kind;
    int index; /* element of data[] */
    int rejects;
    char reason[8][sizeof(fe_err){0}.msg];
    goflow_order_info info[8]; /* its strings point into records: not kept */
    char split_from[8][32];    /* info.split_from, copied while the record lives */
    goflow_map_opts opts;
} page_run;

static fe_rc on_rec(void *ctx, int which, const json_rec *r, fe_err *err)
{
    page_run *p = ctx;
    fe_rc rc;
    int i = p->index++;
    (void)which;
    if (p->kind == MAP_STORE)
        rc = json_rec_get(r, "type") ? goflow_map_warehouse(r, &sink, err)
                                     : goflow_map_store(r, &sink, err);
    else if (p->kind == MAP_PRODUCT)
        rc = goflow_map_product(r, &sink, err);
    else
        rc = goflow_map_order(r, &p->opts, &sink, i < 8 ? &p->info[i] : &p->info[7], err);
    if (p->kind == MAP_ORDER && i < 8) {
        snprintf(p->split_from[i], sizeof p->split_from[i], "%s", nz(p->info[i].split_from));
        p->info[i].split_from = NULL;
        p->info[i].order_id = p->info[i].status = NULL;
    }
    if (rc == FE_EINVAL) {
        if (i < 8)
            snprintf(p->reason[i], sizeof p->reason[i], "%s", err->msg);
        p->rejects++;
        return FE_OK;
    }
    return rc;
}

static void run_text(const char *text, size_t len, page_run *p)
{
    static const char *const paths[] = {"data[]"};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 1 << 20, on_rec, p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    memset(&rec, 0, sizeof rec);
    for (size_t at = 0; at < len; at += 11)
        CU_ASSERT_EQUAL_FATAL(json_stream_feed(js, text + at, len - at < 11 ? len - at : 11, &err),
                              FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    json_stream_free(js);
}

static void run_page(const char *fixture, page_run *p)
{
    size_t len;
    char *text = read_fixture(fixture, &len);
    run_text(text, len, p);
    free(text);
}

static bool has_row(const char *want)
{
    for (int i = 0; i < rec.n; i++)
        if (strcmp(rec.text[i], want) == 0)
            return true;
    printf("\n  missing row: %s\n  rows:\n", want);
    for (int i = 0; i < rec.n; i++)
        printf("    %s\n", rec.text[i]);
    return false;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_status_groups(void)
{
    bool known;
    CU_ASSERT_STRING_EQUAL(goflow_status_group("shipped", &known), "completed");
    CU_ASSERT_TRUE(known);
    CU_ASSERT_STRING_EQUAL(goflow_status_group("canceled", &known), "canceled");
    CU_ASSERT_STRING_EQUAL(goflow_status_group("ready_to_pick", &known), "open");
    CU_ASSERT_TRUE(known);
    CU_ASSERT_STRING_EQUAL(goflow_status_group("teleported", &known), "open");
    CU_ASSERT_FALSE(known);
    CU_ASSERT_STRING_EQUAL(goflow_status_group(NULL, NULL), "open");
}

static void test_currency(void)
{
    char c[4];
    CU_ASSERT_STRING_EQUAL(value_currency_str("usd", c), "USD");
    CU_ASSERT_STRING_EQUAL(value_currency_str("EuR", c), "EUR");
    CU_ASSERT_PTR_NULL(value_currency_str("unknown", c));
    CU_ASSERT_PTR_NULL(value_currency_str("", c));
    CU_ASSERT_PTR_NULL(value_currency_str("u$d", c));
    CU_ASSERT_PTR_NULL(value_currency_str(NULL, c));
}

static void test_stores_and_warehouses(void)
{
    page_run p = {.kind = MAP_STORE};
    run_page("goflow_dims.json", &p);
    CU_ASSERT_EQUAL(p.rejects, 0);
    CU_ASSERT_EQUAL(rec.n, 3);
    CU_ASSERT_TRUE(has_row("store channel 1008|Shopify store|NULL|USD|active"));
    CU_ASSERT_TRUE(has_row("store warehouse 497f6eca-6276-4993-bfeb-53cbbbba6f08|East 3PL, "
                           "Reno|1 Commerce Way, Reno, NV 89501, us|NULL|third_party"));
    CU_ASSERT_TRUE(has_row("store channel 1009|No currency|NULL|NULL|NULL"));
}

static void test_products_and_components(void)
{
    page_run p = {.kind = MAP_PRODUCT};
    run_page("goflow_products.json", &p);
    CU_ASSERT_TRUE(has_row("product 50003 GF-1|Ваза \"Ромашка\"|standard|Acme|19.9900|1"));
    CU_ASSERT_TRUE(has_row("product 50030 KIT-1|Kit|kit|NULL|45.0000|0"));
    CU_ASSERT_TRUE(has_row("component 50030>50003 [] 2.0000"));
    CU_ASSERT_TRUE(has_row("component 50030>50006 [] 1.5000"));
    CU_ASSERT_TRUE(has_row("product 50033 GRP-1|Group|group|NULL|NULL|1"));
    CU_ASSERT_TRUE(has_row("product 50036 X|New|standard|NULL|NULL|1"));
    /* A kit whose child has no product id is rejected whole: no product row. */
    CU_ASSERT_EQUAL(p.rejects, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.reason[4], "children.0.product_id"));
    CU_ASSERT_EQUAL(rec.n, 6);
}

static void test_orders(void)
{
    page_run p = {.kind = MAP_ORDER, .opts = {.line_price_is_unit = true}};
    run_page("goflow_orders.json", &p);
    /* 3 x 19.99 = 59.97 - 5.50 = 54.47; tax 1.25 + 0.50 (order) = 1.75. */
    CU_ASSERT_TRUE(has_row("order 700001 GF700001|channel:1008|2025-12-01T10:00:00.123456Z|"
                           "shipped/completed|USD|sub 154.5700 disc 10.0000 tax 1.7500 ship "
                           "7.9500 tot 154.2700|2|2025-12-02T08:30:15.488968Z|010"));
    CU_ASSERT_TRUE(has_row("line 700001/a1b2c3d4-0000-4000-8000-000000000001 p50003 q3.0000 "
                           "u19.9900 d5.5000 t1.2500 lt54.4700 c20.3500 USD"));
    CU_ASSERT_TRUE(has_row("line 700001/a1b2c3d4-0000-4000-8000-000000000002 p50006 q1.0000 "
                           "u100.1000 d0.0000 t0.0000 lt100.1000 c0.0000 USD"));
    CU_ASSERT_FALSE(p.info[0].unknown_status);
    CU_ASSERT_STRING_EQUAL(p.split_from[0], "NULL");
    /* A split piece: its own rows, then the original's tombstone. */
    CU_ASSERT_TRUE(has_row("order 700002 GF700002|channel:1001|2025-12-03T00:00:00Z|"
                           "ready_to_pick/open|EUR|sub 6.0000 disc 0.0000 tax 0.0000 ship 0.0000 "
                           "tot 6.0000|1|2025-12-03T00:00:00Z|010"));
    CU_ASSERT_TRUE(has_row("order 600009 NULL|NULL:NULL|NULL|NULL/NULL|NULL|sub NULL disc NULL "
                           "tax NULL ship NULL tot NULL|NULL|NULL|101"));
    CU_ASSERT_STRING_EQUAL(p.split_from[1], "600009");
    /* Unknown status: open, flagged; currency "unknown" -> NULL; no lines. */
    CU_ASSERT_TRUE(p.info[2].unknown_status);
    CU_ASSERT_TRUE(has_row("order 700003 NULL|channel:NULL|2025-12-04T00:00:00Z|teleported/open|"
                           "NULL|sub NULL disc 0.0000 tax 0.0000 ship 0.0000 tot 0.0000|0|"
                           "2025-12-04T00:00:00Z|010"));
    /* A bad date and a bad quantity are rejects with nothing sent. */
    CU_ASSERT_EQUAL(p.rejects, 2);
    CU_ASSERT_STRING_EQUAL(p.reason[3], "date: 'yesterday' is not a date-time");
    CU_ASSERT_PTR_NOT_NULL(strstr(p.reason[4], "lines.0.quantity.amount"));
    CU_ASSERT_EQUAL(rec.n, 7);
}

static void test_orders_extended_price(void)
{
    page_run p = {.kind = MAP_ORDER, .opts = {.line_price_is_unit = false}};
    run_page("goflow_orders.json", &p);
    /* The price charge is the line amount: unit 19.99 / 3 = 6.6633 (rounded). */
    CU_ASSERT_TRUE(has_row("line 700001/a1b2c3d4-0000-4000-8000-000000000001 p50003 q3.0000 "
                           "u6.6633 d5.5000 t1.2500 lt14.4900 c20.3500 USD"));
}

static void test_inventory(void)
{
    goflow_inventory_in in = {.snapshot_date = "2026-11-23",
                              .captured_at = "2026-11-23T08:00:00Z",
                              .product_id = "50003",
                              .warehouse_id = "wh-1",
                              .on_hand = "12",
                              .available = "10",
                              .on_purchase_order = "0",
                              .inventory_value = "60.5",
                              .unit_cost = "5.0416666"};
    fe_err err = {0};
    memset(&rec, 0, sizeof rec);
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    CU_ASSERT_TRUE(has_row("inv 2026-11-23 50003@warehouse:wh-1 h12.0000 a10.0000 o0.0000 "
                           "v60.5000 c5.0417 2026-11-23T08:00:00Z"));
    in.on_hand = "lots";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    in.on_hand = "1";
    in.warehouse_id = NULL;
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 1);
}

/* ---- PostgreSQL's rules (transform/value.h) ------------------------------------ */

/* One order {"id":ID,...REST} alone: its reason ("" when mapped). */
static const char *order_reason(const char *record, page_run *p)
{
    char doc[1024];
    snprintf(doc, sizeof doc, "{\"data\":[{%s}]}", record);
    memset(p, 0, sizeof *p);
    p->kind = MAP_ORDER;
    p->opts.line_price_is_unit = true;
    run_text(doc, strlen(doc), p);
    return p->reason[0];
}

#define LINE(price, qty)                                                                           \
    "{\"id\":\"l1\",\"quantity\":{\"amount\":" qty "},\"charges\":[{\"amount\":" price             \
    ",\"type\":\"price\"}]}"

static void test_rules(void)
{
    static const struct {
        const char *record, *reason;
    } cases[] = {
        /* the vendor's own example order has id 0 */
        {"\"id\":0,\"date\":\"2025-12-01T10:00:00Z\"", ""},
        {"\"id\":\"0\",\"lines\":[" LINE("1", "1") "]", ""},
        {"\"id\":\"\"", "record without id"},
        {"\"date\":\"2025-12-01T10:00:00Z\"", "record without id"},
        /* a NUL in an id or a name: cut at it, 12 and 12\0003 would collide */
        {"\"id\":\"12\\u00003\"", "id contains a NUL byte"},
        {"\"id\":1,\"order_number\":\"GF\\u00001\"", "order_number contains a NUL byte"},
        {"\"id\":1,\"lines\":[{\"id\":\"l\\u0000\"}]", "lines.0.id contains a NUL byte"},
        {"\"id\":1,\"lines\":[{\"id\":\"l1\",\"charges\":[{\"amount\":1,\"type\":"
         "\"price\\u0000x\"}]}]",
         "lines.0.charges.0.type contains a NUL byte"},
        /* years PostgreSQL refuses, or that have no business date everywhere */
        {"\"id\":1,\"date\":\"0000-01-01T00:00:00.0000000Z\"",
         "date: '0000-01-01T00:00:00.0000000Z' is out of range (years 1..9999)"},
        {"\"id\":1,\"date\":\"10000-01-01T00:00:00Z\"",
         "date: '10000-01-01T00:00:00Z' is not a date-time"},
        {"\"id\":1,\"status_updated_at\":\"0001-01-01T05:00:00Z\"",
         "status_updated_at: '0001-01-01T05:00:00Z' is out of range (years 1..9999)"},
        /* sums: two legal factors, two legal terms */
        {"\"id\":1,\"lines\":[" LINE("100000000", "1000000000") "]",
         "lines.0: price x quantity is out of range (numeric(20,4))"},
        {"\"id\":1,\"charges\":[{\"amount\":9000000000000000,\"type\":\"shipping\"},"
         "{\"amount\":9000000000000000,\"type\":\"shipping\"}]",
         "charges: the sum is out of range (numeric(20,4))"},
        {"\"id\":1,\"summary\":{\"total\":{\"amount\":12345678901234567}}",
         "summary.total.amount: '12345678901234567' is out of range (numeric(20,4))"},
    };
    page_run p;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = order_reason(cases[i].record, &p);
        if (strcmp(got, cases[i].reason) != 0)
            fprintf(stderr, "\ncase %zu: '%s'\n", i, got);
        CU_ASSERT_STRING_EQUAL(got, cases[i].reason);
        CU_ASSERT_EQUAL(p.rejects, cases[i].reason[0] ? 1 : 0);
        CU_ASSERT_EQUAL(rec.n, cases[i].reason[0] ? 0 : i == 1 ? 2 : 1);
    }
    /* a line total beyond the range when the price is the extended amount */
    memset(&p, 0, sizeof p);
    p.kind = MAP_ORDER;
    const char *doc = "{\"data\":[{\"id\":1,\"lines\":[" LINE("1000000000000000", "0.0001") "]}]}";
    run_text(doc, strlen(doc), &p);
    CU_ASSERT_STRING_EQUAL(p.reason[0],
                           "lines.0: price / quantity is out of range (numeric(20,4))");
    /* dimensions: id 0 and a NUL in a name */
    memset(&p, 0, sizeof p);
    p.kind = MAP_STORE;
    doc = "{\"data\":[{\"id\":0,\"name\":\"Zero\"},{\"id\":2,\"name\":\"Sh\\u0000op\"}]}";
    run_text(doc, strlen(doc), &p);
    CU_ASSERT_EQUAL(p.rejects, 1);
    CU_ASSERT_STRING_EQUAL(p.reason[1], "name contains a NUL byte");
    CU_ASSERT_TRUE(has_row("store channel 0|Zero|NULL|NULL|NULL"));
    memset(&p, 0, sizeof p);
    p.kind = MAP_PRODUCT;
    doc =
        "{\"data\":[{\"id\":7,\"type\":\"kit\",\"children\":[{\"product_id\":0,\"quantity\":1}]}]}";
    run_text(doc, strlen(doc), &p);
    CU_ASSERT_EQUAL(p.rejects, 0);
    CU_ASSERT_TRUE(has_row("component 7>0 [] 1.0000"));
}

static void test_inventory_rules(void)
{
    goflow_inventory_in in = {.snapshot_date = "2026-11-23",
                              .captured_at = "2026-11-23T08:00:00Z",
                              .product_id = "0",
                              .warehouse_id = "wh-1",
                              .on_hand = "12345678901234567"};
    fe_err err = {0};
    memset(&rec, 0, sizeof rec);
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "on_hand: '12345678901234567' is out of range (numeric(20,4))");
    in.on_hand = "1";
    in.snapshot_date = "0000-01-01";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "snapshot date '0000-01-01' is not a date within years 1..9999");
    in.snapshot_date = "2026-11-23";
    in.product_id = "\xD0";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "product_id is not valid UTF-8");
    in.product_id = "0";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    CU_ASSERT_EQUAL(rec.n, 1);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("goflow_map", NULL, NULL);
    CU_add_test(s, "status groups", test_status_groups);
    CU_add_test(s, "currency codes", test_currency);
    CU_add_test(s, "stores and warehouses", test_stores_and_warehouses);
    CU_add_test(s, "products and kit components", test_products_and_components);
    CU_add_test(s, "orders and lines", test_orders);
    CU_add_test(s, "orders with extended line prices", test_orders_extended_price);
    CU_add_test(s, "inventory rows", test_inventory);
    CU_add_test(s, "rules: ids, NUL, years, sums", test_rules);
    CU_add_test(s, "rules: inventory rows", test_inventory_rules);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
