/* Tests for sources/flowretail/flowretail_map: fixture documents (tests/data/flowretail_*.json)
 * are fed through json_stream in small chunks, each record mapped into a recorder
 * sink, and the rows compared as text ("NULL" for SQL NULL, t/f for booleans).
 * Rejects are counted as the extractor would count them. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/unit/row_recorder.h"
#include "extract/json_stream.h"
#include "sources/flowretail/flowretail_map.h"

/* ---- the recorder sink ------------------------------------------------------ */

static recorder rec;
static row_sink sink;

static flowretail_map_opts opts;

static void opts_default(void)
{
    opts = (flowretail_map_opts){.currency = "NOK",
                                 .amount_scale = 100,
                                 .quantity_scale = 100,
                                 .snapshot_date = "2026-01-02",
                                 .captured_at = "2026-01-02T08:00:00Z"};
}

/* ---- feeding documents ------------------------------------------------------ */

typedef enum { MAP_CATEGORY_DOC, MAP_PRODUCTS, MAP_STOCK, MAP_SLOTS } map_kind;

typedef struct {
    map_kind kind;
    int rejects, skipped;
    char last_reason[768];
    fe_rc sink_rc;   /* the first non-OK, non-reject code */
    fe_rc sink_code; /* err->code with it */
    int failures;    /* records that came back with such a code */
} doc_run;

static fe_rc map_one(doc_run *d, int which, const json_rec *r, fe_err *err)
{
    bool skipped = false, skipped2 = false;
    fe_rc rc = FE_OK;
    switch (d->kind) {
    case MAP_CATEGORY_DOC:
        if (which == 1)
            return flowretail_map_category(r, &opts, &sink, err);
        rc = flowretail_map_product(r, &opts, &sink, &skipped, err);
        if (rc == FE_OK)
            rc = flowretail_map_store_stock(r, "store-oslo", &opts, &sink, &skipped2, err);
        d->skipped += skipped + skipped2;
        return rc;
    case MAP_PRODUCTS:
        rc = flowretail_map_product(r, &opts, &sink, &skipped, err);
        d->skipped += skipped;
        return rc;
    case MAP_STOCK:
        return flowretail_map_stock_item(r, &opts, &sink, err);
    case MAP_SLOTS:
        return flowretail_map_slot(r, "prd-3", &opts, &sink, err);
    }
    return FE_OK;
}

static fe_rc on_record(void *ctx, int which, const json_rec *r, fe_err *err)
{
    doc_run *d = ctx;
    fe_rc rc = map_one(d, which, r, err);
    if (rc == FE_EINVAL) {
        d->rejects++;
        snprintf(d->last_reason, sizeof d->last_reason, "%s", err->msg);
        return FE_OK;
    }
    if (rc != FE_OK && d->sink_rc == FE_OK) {
        d->sink_rc = rc;
        d->sink_code = err->code;
    }
    d->failures += rc != FE_OK;
    return FE_OK;
}

/* Feeds text in 7-byte pieces (records straddle chunk borders). */
static void run_text(const char *text, size_t len, doc_run *d)
{
    static const char *const cat_paths[] = {"products[]", "."};
    static const char *const list_paths[] = {"items[]"};
    bool cat = d->kind == MAP_CATEGORY_DOC;
    fe_err err = {0};
    fe_rc rc = FE_OK;
    json_stream *js =
        json_stream_new(cat ? cat_paths : list_paths, cat ? 2 : 1, false, 0, on_record, d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    for (size_t at = 0; at < len && rc == FE_OK; at += 7)
        rc = json_stream_feed(js, text + at, len - at < 7 ? len - at : 7, &err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, &err);
    if (rc != FE_OK)
        fprintf(stderr, "\n%s\n", err.msg);
    CU_ASSERT_EQUAL(rc, FE_OK);
    json_stream_free(js);
}

static void run_doc(const char *fixture, doc_run *d)
{
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    run_text(text, len, d);
    free(text);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_product_type(void)
{
    CU_ASSERT_STRING_EQUAL(flowretail_product_type("STOCK"), "standard");
    CU_ASSERT_STRING_EQUAL(flowretail_product_type("PACKAGE"), "bundle");
    CU_ASSERT_STRING_EQUAL(flowretail_product_type("SERVICE"), "service");
    CU_ASSERT_STRING_EQUAL(flowretail_product_type("NON_STOCK"), "standard");
    CU_ASSERT_STRING_EQUAL(flowretail_product_type(NULL), "standard");
}

/* The category detail with storeUid: the category, its products (the excluded
 * one skipped), store stock for the STOCK product only. */
static void test_category_doc(void)
{
    static const char *const want[] = {
        "product|prd-1|SKU-1|Rose «Freedom» 60 cm|standard|cat-010|Mester Grønn|199.0000|NOK|"
        "2025-03-01T10:00:00Z|2025-04-18T01:27:37.225000Z|t|f",
        "inventory|2026-01-02|prd-1|store|store-oslo|12.7500|10.2500|2.5000|3.0000|99.5000|"
        "199.0000|1268.6250|2026-01-02T08:00:00Z",
        "product|prd-3|PKG-3|Bukett Sommerfryd|bundle|NULL|NULL|499.5000|NOK|"
        "2025-03-02T10:00:00Z|2025-03-02T10:00:00Z|f|f",
        "category|cat-010|Blomster og grønt|cat-001|f",
    };
    doc_run d = {.kind = MAP_CATEGORY_DOC};
    opts_default();
    recorder_clear(&rec);
    run_doc("flowretail_category.json", &d);
    recorder_assert_rows(&rec, want, 4);
    CU_ASSERT_EQUAL(d.rejects, 0);
    CU_ASSERT_EQUAL(d.skipped, 3); /* prd-2 twice (excluded), prd-3's stock (a package) */
}

static void test_products_list(void)
{
    static const char *const want[] = {
        "product|prd-1|SKU-1|Rose «Freedom» 60 cm|standard|cat-010|Mester Grønn|199.0000|NOK|"
        "2025-03-01T10:00:00Z|2025-04-18T01:27:37.225000Z|t|f",
        "product|prd-4|NULL|Роза кустовая|standard|NULL|NULL|NULL|NOK|NULL|"
        "2025-04-17T00:00:00Z|t|f",
    };
    doc_run d = {.kind = MAP_PRODUCTS};
    opts_default();
    recorder_clear(&rec);
    run_doc("flowretail_products.json", &d);
    recorder_assert_rows(&rec, want, 2);
    CU_ASSERT_EQUAL(d.rejects, 3);
    CU_ASSERT_STRING_EQUAL(d.last_reason, "lastModifiedAt: 'yesterday' is not a date-time");
}

/* The scale keys: amounts and quantities as they are (scale 1), or in tenths. */
static void test_scales(void)
{
    doc_run d = {.kind = MAP_CATEGORY_DOC};
    opts_default();
    opts.amount_scale = 1;
    opts.quantity_scale = 10;
    recorder_clear(&rec);
    run_doc("flowretail_category.json", &d);
    CU_ASSERT_FATAL(rec.n == 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.rows[0], "|19900.0000|NOK|"));
    CU_ASSERT_STRING_EQUAL(rec.rows[1], "inventory|2026-01-02|prd-1|store|store-oslo|127.5000|"
                                        "102.5000|25.0000|30.0000|9950.0000|19900.0000|"
                                        "1268625.0000|2026-01-02T08:00:00Z");
}

static void test_stock(void)
{
    static const char *const want[] = {
        "inventory|2026-01-02|prd-1|warehouse|wh-oslo-main|12.7500|10.2500|2.5000|NULL|NULL|NULL|"
        "NULL|2026-01-02T08:00:00Z",
        "inventory|2026-01-02|prd-1|warehouse|wh-oslo-back|2.5000|2.0000|0.5000|NULL|NULL|NULL|"
        "NULL|2026-01-02T08:00:00Z",
    };
    doc_run d = {.kind = MAP_STOCK};
    opts_default();
    recorder_clear(&rec);
    run_doc("flowretail_stock.json", &d);
    recorder_assert_rows(&rec, want,
                         2); /* prd-8 has a detail without warehouseUid: no row of it at all */
    CU_ASSERT_EQUAL(d.rejects, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.last_reason, "warehouseStockDetails.1.warehouseUid"));
}

static void test_slots(void)
{
    static const char *const want[] = {
        "component|prd-3|prd-1|Hovedblomst|3.0000|150.0000",
        "component|prd-3|prd-9|Hovedblomst|0.5000|NULL",
        "component|prd-3|prd-10|slot-2|1.0000|NULL",
    };
    doc_run d = {.kind = MAP_SLOTS};
    opts_default();
    recorder_clear(&rec);
    run_doc("flowretail_slots.json", &d);
    recorder_assert_rows(&rec, want,
                         3); /* slot-3 has a component without a product uid: rejected whole */
    CU_ASSERT_EQUAL(d.rejects, 1);
}

/* A sink failing on one kind of row stops each record that hands over such a row
 * with the sink's code, in err->code too; a sink's FE_EINVAL comes back as
 * FE_EABORT, so it never passes for a reject: only the records bad by themselves
 * are refused. Every kind of row the mapping hands over is tried. */
static void test_sink_failure(void)
{
    static const fe_rc codes[][2] = {{FE_EINVAL, FE_EABORT}, {FE_EPG, FE_EPG}};
    static const struct {
        map_kind kind;
        const char *fixture, *row;
    } docs[] = {
        {MAP_CATEGORY_DOC, "flowretail_category.json", "category"},
        {MAP_CATEGORY_DOC, "flowretail_category.json", "product"},
        {MAP_CATEGORY_DOC, "flowretail_category.json", "inventory"},
        {MAP_PRODUCTS, "flowretail_products.json", "product"},
        {MAP_STOCK, "flowretail_stock.json", "inventory"},
        {MAP_SLOTS, "flowretail_slots.json", "component"},
    };
    for (size_t j = 0; j < sizeof docs / sizeof docs[0]; j++) {
        doc_run good = {.kind = docs[j].kind};
        opts_default();
        recorder_clear(&rec);
        run_doc(docs[j].fixture, &good);
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            doc_run d = {.kind = docs[j].kind};
            recorder_clear(&rec);
            rec.fail_with = codes[i][0];
            rec.fail_kind = docs[j].row;
            run_doc(docs[j].fixture, &d);
            CU_ASSERT_EQUAL(d.sink_rc, codes[i][1]);
            CU_ASSERT_EQUAL(d.sink_code, codes[i][1]);
            CU_ASSERT_TRUE(d.failures > 0);
            CU_ASSERT_EQUAL(d.rejects, good.rejects);
            CU_ASSERT_FALSE(recorder_has_kind(&rec, docs[j].row)); /* none went through */
        }
    }
    recorder_clear(&rec);
}

/* ---- PostgreSQL's rules (transform/value.h) ------------------------------------ */

/* An array longer than the mapper looks at refuses the record: the elements past
 * the limit were dropped unseen before. */
static void test_too_many_elements(void)
{
    static const char head[] = "{\"items\":[{\"productUid\":\"p1\",\"warehouseStockDetails\":[";
    static const char tail[] = "{\"warehouseUid\":\"w\",\"quantityStock\":1}]}]}";
    buf doc;
    buf_init(&doc, 0);
    bool ok = buf_puts(&doc, head);
    for (int i = 0; i < 10000; i++) /* element 10000 is the first with a field */
        ok = ok && buf_puts(&doc, "{},");
    CU_ASSERT_FATAL(ok && buf_puts(&doc, tail));
    doc_run d = {.kind = MAP_STOCK};
    opts_default();
    recorder_clear(&rec);
    run_text(buf_cstr(&doc), doc.len, &d);
    CU_ASSERT_EQUAL(d.rejects, 1);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(d.last_reason,
                           "warehouseStockDetails: more than 10000 elements or a malformed index");
    buf_term(&doc);
}

static void test_rules(void)
{
    static const struct {
        map_kind kind;
        const char *record, *reason;
    } cases[] = {
        {MAP_PRODUCTS, "\"productUid\":\"0\",\"name\":\"Zero\"", ""},
        {MAP_PRODUCTS, "\"productUid\":\"\",\"name\":\"none\"", "record without productUid"},
        {MAP_PRODUCTS, "\"productUid\":\"p\\u00001\"", "productUid contains a NUL byte"},
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"name\":\"Ro\\u0000se\"",
         "name contains a NUL byte"},
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"productType\":\"STOCK\\u0000\"",
         "productType contains a NUL byte"},
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"createdAt\":\"0000-02-29T00:00:00Z\"",
         "createdAt: '0000-02-29T00:00:00Z' is out of range (years 1..9999)"},
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"createdAt\":\"10000-01-01T00:00:00Z\"",
         "createdAt: '10000-01-01T00:00:00Z' is not a date-time"},
        /* 12345678901234567 minor units are 123456789012345.67: in range */
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"recommendedRetailPrice\":12345678901234567", ""},
        {MAP_PRODUCTS, "\"productUid\":\"p1\",\"recommendedRetailPrice\":1234567890123456789",
         "recommendedRetailPrice: '1234567890123456789' is out of range (numeric(20,4))"},
        {MAP_STOCK,
         "\"productUid\":\"p1\",\"warehouseStockDetails\":[{\"warehouseUid\":\"0\","
         "\"quantityStock\":900000000000000000,\"quantityReserved\":-900000000000000000}]",
         "warehouseStockDetails.0: quantityStock - quantityReserved is out of range "
         "(numeric(20,4))"},
        {MAP_STOCK,
         "\"productUid\":\"p1\",\"warehouseStockDetails\":[{\"warehouseUid\":\"w\\u0000\"}]",
         "warehouseStockDetails.0.warehouseUid contains a NUL byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[1024];
        doc_run d = {.kind = cases[i].kind};
        snprintf(doc, sizeof doc, "{\"items\":[{%s}]}", cases[i].record);
        opts_default();
        recorder_clear(&rec);
        run_text(doc, strlen(doc), &d);
        CU_ASSERT_EQUAL(d.rejects, cases[i].reason[0] ? 1 : 0);
        CU_ASSERT_EQUAL(rec.n, cases[i].reason[0] ? 0 : 1);
        if (strcmp(d.last_reason, cases[i].reason) != 0)
            fprintf(stderr, "\ncase %zu: '%s'\n", i, d.last_reason);
        CU_ASSERT_STRING_EQUAL(d.last_reason, cases[i].reason);
    }
    /* A store's stock whose value (quantity x cost) passes 10^16 from two legal
     * factors: the product row is kept, its stock row rejected. */
    static const char category[] =
        "{\"categoryUid\":\"c\",\"products\":[{\"productUid\":\"p1\",\"productType\":\"STOCK\","
        "\"storeProductDetails\":{\"quantityStock\":100000000000,\"costPrice\":10000000000000}}]}";
    doc_run d = {.kind = MAP_CATEGORY_DOC};
    opts_default();
    recorder_clear(&rec);
    run_text(category, strlen(category), &d);
    CU_ASSERT_EQUAL(d.rejects, 1);
    CU_ASSERT_STRING_EQUAL(d.last_reason, "storeProductDetails: quantityStock x costPrice is out "
                                          "of range (numeric(20,4))");
    recorder_clear(&rec);
}

int main(void)
{
    sink = recorder_sink(&rec);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("flowretail_map", NULL, NULL);
    if (!s || !CU_add_test(s, "product type", test_product_type) ||
        !CU_add_test(s, "category document", test_category_doc) ||
        !CU_add_test(s, "products list and rejects", test_products_list) ||
        !CU_add_test(s, "amount and quantity scales", test_scales) ||
        !CU_add_test(s, "stock items", test_stock) ||
        !CU_add_test(s, "package slots", test_slots) ||
        !CU_add_test(s, "sink failure", test_sink_failure) ||
        !CU_add_test(s, "too many array elements", test_too_many_elements) ||
        !CU_add_test(s, "rules: ids, NUL, years, sums", test_rules)) {
        CU_cleanup_registry();
        return 1;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    recorder_clear(&rec);
    CU_cleanup_registry();
    return failures != 0;
}
