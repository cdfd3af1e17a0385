/* test_goflow_map: sources/goflow/goflow_map on fixture documents
 * (tests/data/goflow_*.json) read through json_stream as the extractor reads
 * them, into the shared row recorder (tests/unit/row_recorder.h): exact rows for
 * stores, warehouses, products with kit components, orders with lines (money,
 * discounts, taxes, costs, upper-cased currencies, 7-digit timestamps, split
 * tombstones), inventory rows, statuses, rejects under transform/value.h's rules,
 * and a sink failure passing with its code. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/json_stream.h"
#include "sources/goflow/goflow_map.h"
#include "tests/unit/row_recorder.h"

static recorder rec;
static row_sink sink;

/* ---- feeding fixtures ------------------------------------------------------------- */

typedef enum { MAP_STORE, MAP_PRODUCT, MAP_ORDER } map_kind;

typedef struct {
    map_kind kind;
    int index; /* element of data[] */
    int rejects;
    char reason[8][sizeof(fe_err){0}.msg];
    goflow_order_info info[8]; /* its strings point into records: not kept */
    char split_from[8][32];    /* info.split_from, copied while the record lives */
    goflow_map_opts opts;
    fe_rc sink_rc;   /* the first failure that is not a reject */
    fe_rc sink_code; /* err->code with it */
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
        const char *from = p->info[i].split_from;
        snprintf(p->split_from[i], sizeof p->split_from[i], "%s", from ? from : "NULL");
        p->info[i].split_from = NULL;
        p->info[i].order_id = p->info[i].status = NULL;
    }
    if (rc == FE_EINVAL) {
        if (i < 8)
            snprintf(p->reason[i], sizeof p->reason[i], "%s", err->msg);
        p->rejects++;
        return FE_OK;
    }
    if (rc != FE_OK && p->sink_rc == FE_OK) {
        p->sink_rc = rc;
        p->sink_code = err->code;
    }
    return FE_OK; /* the stream goes on: a later record must not reach the sink either */
}

/* Feeds text in 11-byte pieces into what the recorder already holds. */
static void run_text_kept(const char *text, size_t len, page_run *p)
{
    static const char *const paths[] = {"data[]"};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 1 << 20, on_rec, p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    for (size_t at = 0; at < len; at += 11)
        CU_ASSERT_EQUAL_FATAL(json_stream_feed(js, text + at, len - at < 11 ? len - at : 11, &err),
                              FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    json_stream_free(js);
}

static void run_text(const char *text, size_t len, page_run *p)
{
    recorder_clear(&rec);
    run_text_kept(text, len, p);
}

static void run_page(const char *fixture, page_run *p)
{
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    run_text(text, len, p);
    free(text);
}

/* run_page with the sink failing with code on rows of kind (recorder.fail_kind);
 * the rows that went through stay recorded. */
static void run_page_failing(const char *fixture, page_run *p, fe_rc code, const char *kind)
{
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    recorder_clear(&rec);
    rec.fail_with = code;
    rec.fail_kind = kind;
    run_text_kept(text, len, p);
    free(text);
}

static bool has_row(const char *want)
{
    for (int i = 0; i < rec.n; i++)
        if (strcmp(rec.rows[i], want) == 0)
            return true;
    printf("\n  missing row: %s\n  rows:\n", want);
    for (int i = 0; i < rec.n; i++)
        printf("    %s\n", rec.rows[i]);
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

static void test_stores_and_warehouses(void)
{
    static const char *const want[] = {
        "store|channel|1008|Shopify store|NULL|USD|NULL|active|f",
        "store|warehouse|497f6eca-6276-4993-bfeb-53cbbbba6f08|East 3PL, Reno|1 Commerce Way, "
        "Reno, NV 89501, us|NULL|NULL|third_party|f",
        "store|channel|1009|No currency|NULL|NULL|NULL|NULL|f",
    };
    page_run p = {.kind = MAP_STORE};
    run_page("goflow_dims.json", &p);
    CU_ASSERT_EQUAL(p.rejects, 0);
    recorder_assert_rows(&rec, want, 3);
}

static void test_products_and_components(void)
{
    static const char *const want[] = {
        "product|50003|GF-1|Ваза \"Ромашка\"|standard|NULL|Acme|19.9900|NULL|NULL|NULL|t|f",
        "product|50030|KIT-1|Kit|kit|NULL|NULL|45.0000|NULL|NULL|NULL|f|f",
        "component|50030|50003||2.0000|NULL",
        "component|50030|50006||1.5000|NULL",
        "product|50033|GRP-1|Group|group|NULL|NULL|NULL|NULL|NULL|NULL|t|f",
        "product|50036|X|New|standard|NULL|NULL|NULL|NULL|NULL|NULL|t|f",
    };
    page_run p = {.kind = MAP_PRODUCT};
    run_page("goflow_products.json", &p);
    recorder_assert_rows(&rec, want, 6);
    /* A kit whose child has no product id is rejected whole: no product row. */
    CU_ASSERT_EQUAL(p.rejects, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.reason[4], "children.0.product_id"));
}

static void test_orders(void)
{
    static const char *const want[] = {
        /* 3 x 19.99 = 59.97 - 5.50 = 54.47; tax 1.25 + 0.50 (order) = 1.75. */
        "order|700001|GF700001|channel|1008|NULL|2025-12-01T10:00:00.123456Z|NULL|shipped|"
        "completed|USD|154.5700|10.0000|1.7500|7.9500|154.2700|NULL|2|"
        "2025-12-02T08:30:15.488968Z|f|t|f",
        "line|700001|a1b2c3d4-0000-4000-8000-000000000001|50003|NULL|3.0000|19.9900|5.5000|"
        "1.2500|54.4700|20.3500|USD",
        "line|700001|a1b2c3d4-0000-4000-8000-000000000002|50006|NULL|1.0000|100.1000|0.0000|"
        "0.0000|100.1000|0.0000|USD",
        /* A split piece: its own rows, then the original's tombstone. */
        "order|700002|GF700002|channel|1001|NULL|2025-12-03T00:00:00Z|NULL|ready_to_pick|open|"
        "EUR|6.0000|0.0000|0.0000|0.0000|6.0000|NULL|1|2025-12-03T00:00:00Z|f|t|f",
        "line|700002|b1|50009|NULL|2.0000|3.0000|0.0000|0.0000|6.0000|0.0000|EUR",
        "tombstone|600009",
        /* Unknown status: open, flagged; currency "unknown" -> NULL; no lines. */
        "order|700003|NULL|channel|NULL|NULL|2025-12-04T00:00:00Z|NULL|teleported|open|NULL|"
        "NULL|0.0000|0.0000|0.0000|0.0000|NULL|0|2025-12-04T00:00:00Z|f|t|f",
    };
    page_run p = {.kind = MAP_ORDER, .opts = {.line_price_is_unit = true}};
    run_page("goflow_orders.json", &p);
    recorder_assert_rows(&rec, want, 7);
    CU_ASSERT_FALSE(p.info[0].unknown_status);
    CU_ASSERT_EQUAL(p.info[0].lines, 2);
    CU_ASSERT_STRING_EQUAL(p.split_from[0], "NULL");
    CU_ASSERT_STRING_EQUAL(p.split_from[1], "600009");
    CU_ASSERT_TRUE(p.info[2].unknown_status);
    /* A bad date and a bad quantity are rejects with nothing sent. */
    CU_ASSERT_EQUAL(p.rejects, 2);
    CU_ASSERT_STRING_EQUAL(p.reason[3], "date: 'yesterday' is not a date-time");
    CU_ASSERT_PTR_NOT_NULL(strstr(p.reason[4], "lines.0.quantity.amount"));
    CU_ASSERT_EQUAL(p.sink_rc, FE_OK);
}

static void test_orders_extended_price(void)
{
    page_run p = {.kind = MAP_ORDER, .opts = {.line_price_is_unit = false}};
    run_page("goflow_orders.json", &p);
    CU_ASSERT_EQUAL_FATAL(rec.n, 7);
    /* The price charge is the line amount: unit 19.99 / 3 = 6.6633 (rounded). */
    CU_ASSERT_STRING_EQUAL(rec.rows[1], "line|700001|a1b2c3d4-0000-4000-8000-000000000001|50003|"
                                        "NULL|3.0000|6.6633|5.5000|1.2500|14.4900|20.3500|USD");
    CU_ASSERT_STRING_EQUAL(
        rec.rows[4], "line|700002|b1|50009|NULL|2.0000|1.5000|0.0000|0.0000|3.0000|0.0000|EUR");
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
    static const char *const want[] = {
        "inventory|2026-11-23|50003|warehouse|wh-1|12.0000|10.0000|NULL|0.0000|5.0417|NULL|"
        "60.5000|2026-11-23T08:00:00Z",
        /* without the values report: no value, no cost; "" is absent */
        "inventory|2026-11-23|50003|warehouse|wh-1|1.0000|NULL|NULL|NULL|NULL|NULL|NULL|"
        "2026-11-23T08:00:00Z",
    };
    fe_err err = {0};
    recorder_clear(&rec);
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    in.on_hand = "lots";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "on_hand: 'lots' is not a decimal");
    in.on_hand = "1";
    in.warehouse_id = NULL;
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "report row whose warehouse is not known");
    in.warehouse_id = "wh-1";
    in.product_id = "";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "report row without product_id");
    in.product_id = "50003";
    in.available = "";
    in.on_purchase_order = in.inventory_value = in.unit_cost = NULL;
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    recorder_assert_rows(&rec, want, 2);
}

/* A sink failing on one kind of row stops the record with the sink's code, in
 * err->code too; a sink's FE_EINVAL comes back as FE_EABORT, so it never passes
 * for a reject (it would be counted and skipped): only the records bad by
 * themselves are refused. Every kind of row the mapping hands over is tried. */
static void test_sink_failure(void)
{
    static const fe_rc codes[][2] = {{FE_EINVAL, FE_EABORT}, {FE_EPG, FE_EPG}};
    static const struct {
        map_kind kind;
        const char *fixture, *row;
        int rejects;
    } pages[] = {
        {MAP_STORE, "goflow_dims.json", "store", 0},
        {MAP_PRODUCT, "goflow_products.json", "product", 1},
        {MAP_PRODUCT, "goflow_products.json", "component", 1},
        {MAP_ORDER, "goflow_orders.json", "order", 2},
        {MAP_ORDER, "goflow_orders.json", "line", 2},
        {MAP_ORDER, "goflow_orders.json", "tombstone", 2},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        for (size_t j = 0; j < sizeof pages / sizeof pages[0]; j++) {
            page_run p = {.kind = pages[j].kind, .opts = {.line_price_is_unit = true}};
            run_page_failing(pages[j].fixture, &p, codes[i][0], pages[j].row);
            CU_ASSERT_EQUAL(p.sink_rc, codes[i][1]);
            CU_ASSERT_EQUAL(p.sink_code, codes[i][1]);
            CU_ASSERT_EQUAL(p.rejects, pages[j].rejects);
            CU_ASSERT_FALSE(recorder_has_kind(&rec, pages[j].row));
            recorder_clear(&rec);
        }
        fe_err err = {0};
        goflow_inventory_in in = {.snapshot_date = "2026-11-23",
                                  .product_id = "1",
                                  .warehouse_id = "wh-1",
                                  .on_hand = "1"};
        rec.fail_with = codes[i][0];
        CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), codes[i][1]);
        CU_ASSERT_EQUAL(err.code, codes[i][1]);
        CU_ASSERT_EQUAL(rec.n, 0);
        recorder_clear(&rec);
    }
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
        /* an element without the field a loop looks for must not end its array there
         * (the lines, charges after it were dropped unseen): the record is refused */
        {"\"id\":1,\"lines\":[{\"product\":{\"id\":\"p\"}}," LINE("1", "1") "]",
         "record without lines.0.id"},
        {"\"id\":1,\"charges\":[{\"type\":\"shipping\"},{\"amount\":5,\"type\":\"shipping\"}]",
         "charges.0.amount is missing"},
        {"\"id\":1,\"lines\":[{\"id\":\"l1\",\"taxes\":[{\"type\":\"vat\"},{\"amount\":1}]}]",
         "lines.0.taxes.0.amount is missing"},
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
}

/* A line beyond the range when the price is the extended amount; id 0 and a NUL
 * in the dimensions. */
static void test_rules_extended_and_dimensions(void)
{
    page_run p;
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
    CU_ASSERT_TRUE(has_row("store|channel|0|Zero|NULL|NULL|NULL|NULL|f"));
    memset(&p, 0, sizeof p);
    p.kind = MAP_PRODUCT;
    doc =
        "{\"data\":[{\"id\":7,\"type\":\"kit\",\"children\":[{\"product_id\":0,\"quantity\":1}]}]}";
    run_text(doc, strlen(doc), &p);
    CU_ASSERT_EQUAL(p.rejects, 0);
    CU_ASSERT_TRUE(has_row("component|7|0||1.0000|NULL"));
}

static void test_inventory_rules(void)
{
    goflow_inventory_in in = {.snapshot_date = "2026-11-23",
                              .captured_at = "2026-11-23T08:00:00Z",
                              .product_id = "0",
                              .warehouse_id = "wh-1",
                              .on_hand = "12345678901234567"};
    fe_err err = {0};
    recorder_clear(&rec);
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
    /* A capture time that is a date alone, or has an offset, is staged in the
     * canonical UTC form (the fuzzer found '9999-12-30' staged as it came). */
    recorder_clear(&rec);
    in.captured_at = "9999-12-30";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    in.captured_at = "2026-11-23T10:00:00+02:00";
    CU_ASSERT_EQUAL(goflow_map_inventory(&in, &sink, &err), FE_OK);
    CU_ASSERT_TRUE(
        has_row("inventory|2026-11-23|0|warehouse|wh-1|1.0000|NULL|NULL|NULL|NULL|NULL|NULL|"
                "9999-12-30T00:00:00Z"));
    CU_ASSERT_TRUE(
        has_row("inventory|2026-11-23|0|warehouse|wh-1|1.0000|NULL|NULL|NULL|NULL|NULL|NULL|"
                "2026-11-23T08:00:00Z"));
}

int main(void)
{
    sink = recorder_sink(&rec);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("goflow_map", NULL, NULL);
    CU_add_test(s, "status groups", test_status_groups);
    CU_add_test(s, "stores and warehouses", test_stores_and_warehouses);
    CU_add_test(s, "products and kit components", test_products_and_components);
    CU_add_test(s, "orders and lines", test_orders);
    CU_add_test(s, "orders with extended line prices", test_orders_extended_price);
    CU_add_test(s, "inventory rows", test_inventory);
    CU_add_test(s, "sink failure", test_sink_failure);
    CU_add_test(s, "rules: ids, NUL, years, sums", test_rules);
    CU_add_test(s, "rules: extended prices, dimensions", test_rules_extended_and_dimensions);
    CU_add_test(s, "rules: inventory rows", test_inventory_rules);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    recorder_clear(&rec);
    CU_cleanup_registry();
    return failures != 0;
}
