/* Tests for sources/flowwow/flowwow_map: fixture pages (tests/data/flowwow_*.json) are
 * fed through json_stream in small chunks, each record is mapped into a recorder
 * sink as the extractor would, and the rows are compared as text ("NULL" for SQL
 * NULL, t/f for booleans); refused records must hand over no row. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/row_recorder.h"
#include "extract/json_stream.h"
#include "sources/flowwow/flowwow_map.h"

#define MAX_RECS 16

/* ---- the recorder sink ------------------------------------------------------ */

static recorder rec;
static row_sink sink;

/* ---- feeding fixtures --------------------------------------------------------- */

enum { MAP_SHOP, MAP_PRODUCT, MAP_ORDER };

/* What each record of a page gave: its code, the reason of a refusal, the rows
 * recorded before and after it, and (orders) the info flags. */
typedef struct {
    int what;
    bool line_sum_is_total;
    int n;
    fe_rc rc[MAX_RECS];
    fe_rc code[MAX_RECS]; /* err->code of a failure */
    char reason[MAX_RECS][sizeof(((fe_err *)0)->msg)];
    int rows_before[MAX_RECS], rows_after[MAX_RECS];
    bool unknown_status[MAX_RECS], no_customer[MAX_RECS];
} page_result;

static const flowwow_product_opts product_opts = {
    .shop_id = "101", .snapshot_date = "2026-11-23", .captured_at = "2026-11-23T08:00:00Z"};

static fe_rc on_record(void *ctx, int which, const json_rec *r, fe_err *err)
{
    page_result *p = ctx;
    fe_err why = {0};
    flowwow_order_info info = {0};
    flowwow_order_opts oo = {.shop_id = "101",
                             .order_date = "2025-12-31",
                             .currency = "RUB",
                             .line_sum_is_total = p->line_sum_is_total};
    (void)which;
    (void)err;
    CU_ASSERT_FATAL(p->n < MAX_RECS);
    p->rows_before[p->n] = rec.n;
    if (p->what == MAP_SHOP)
        p->rc[p->n] = flowwow_map_shop(r, &sink, &why);
    else if (p->what == MAP_PRODUCT)
        p->rc[p->n] = flowwow_map_product(r, &product_opts, &sink, &why);
    else
        p->rc[p->n] = flowwow_map_order(r, &oo, &sink, &info, &why);
    snprintf(p->reason[p->n], sizeof p->reason[0], "%s", p->rc[p->n] == FE_OK ? "" : why.msg);
    p->code[p->n] = p->rc[p->n] == FE_OK ? FE_OK : why.code;
    p->unknown_status[p->n] = info.unknown_status;
    p->no_customer[p->n] = info.no_customer;
    p->rows_after[p->n] = rec.n;
    p->n++;
    return FE_OK;
}

static void feed_text(const char *text, size_t len, const char *records, page_result *p)
{
    const char *paths[] = {records};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 0, on_record, p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    fe_rc rc = FE_OK;
    for (size_t at = 0; at < len && rc == FE_OK; at += 7)
        rc = json_stream_feed(js, text + at, len - at < 7 ? len - at : 7, &err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, &err);
    CU_ASSERT_EQUAL(rc, FE_OK);
    json_stream_free(js);
}

static void feed_page(const char *fixture, const char *records, page_result *p)
{
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    feed_text(text, len, records, p);
    free(text);
}

/* A refused record handed over no row and says why. */
static void assert_refused(const page_result *p, int i, const char *reason)
{
    CU_ASSERT_EQUAL(p->rc[i], FE_EINVAL);
    CU_ASSERT_EQUAL(p->rows_before[i], p->rows_after[i]);
    if (strcmp(p->reason[i], reason) != 0)
        fprintf(stderr, "\nreason %d: got '%s' want '%s'\n", i, p->reason[i], reason);
    CU_ASSERT_STRING_EQUAL(p->reason[i], reason);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_shops(void)
{
    static const char *const want[] = {
        "store|shop|101|Мой магазин \"Весна\"|г. Москва, ул. Ленина, д. 1|RUB|NULL|moderation|f",
        "store|shop|4294967295|Tbilisi cakes|NULL|NULL|NULL|active|f",
    };
    page_result p = {.what = MAP_SHOP};
    recorder_clear(&rec);
    feed_page("flowwow_shops.json", "shops[]", &p);
    CU_ASSERT_EQUAL(p.n, 3);
    CU_ASSERT_EQUAL(p.rc[0], FE_OK);
    CU_ASSERT_EQUAL(p.rc[1], FE_OK);
    assert_refused(&p, 2, "shopId: 'x1' is not an integer id");
    recorder_assert_rows(&rec, want, 2);
}

static void test_products(void)
{
    static const char *const want[] = {
        "product|500001|SKU-1|Пионы «микс»|standard|16|NULL|1990.0000|RUB|NULL|NULL|t|f",
        "inventory|2026-11-23|500001|shop|101|100.0000|99999.0000|NULL|NULL|NULL|1990.0000|NULL|"
        "2026-11-23T08:00:00Z",
        "product|offer:SKU-2|SKU-2|Букет\tготовый|bouquet|17|NULL|76.8500|RUB|NULL|NULL|f|f",
        "inventory|2026-11-23|offer:SKU-2|shop|101|0.0000|0.0000|NULL|NULL|NULL|76.8500|NULL|"
        "2026-11-23T08:00:00Z",
        "product|500003|NULL|Открытка|addon|NULL|NULL|50.0000|GEL|NULL|NULL|t|f",
    };
    page_result p = {.what = MAP_PRODUCT};
    recorder_clear(&rec);
    feed_page("flowwow_products.json", "items[]", &p);
    CU_ASSERT_EQUAL(p.n, 5);
    assert_refused(&p, 3, "price: '12,5' is not a decimal");
    assert_refused(&p, 4, "product has neither productId nor offerId");
    recorder_assert_rows(&rec, want, 5);
}

static const char *const order1_customer =
    "customer|phone:+79261234567|Анна \"Иванова\"|+79261234567|NULL|NULL|NULL|NULL|NULL|f";

static void test_orders_sum_is_total(void)
{
    static const char *const want[] = {
        order1_customer,
        "order|7000001|7000001|shop|101|phone:+79261234567|2025-12-30T21:03:01Z|2025-12-31|3|"
        "completed|RUB|4210.5500|480.0000|0.0000|0.0000|3730.5500|NULL|2|NULL|f|t|f",
        "line|7000001|1|500001|NULL|2.0000|1990.0000|480.0000|0.0000|3500.0000|NULL|RUB",
        "line|7000001|2|offer:SKU-2|NULL|3.0000|76.8500|0.0000|0.0000|230.5500|NULL|RUB",
        "order|7000002|7000002|shop|101|NULL|2025-12-30T21:26:40Z|2025-12-31|1|open|RUB|45.0000|"
        "0.0000|0.0000|0.0000|45.0000|NULL|1|NULL|f|t|f",
        "line|7000002|1|500003|NULL|1.0000|45.0000|0.0000|0.0000|45.0000|NULL|RUB",
        "order|7000003|7000003|shop|101|NULL|2025-12-30T21:43:20Z|2025-12-31|6|open|RUB|0.0000|"
        "0.0000|0.0000|0.0000|0.0000|NULL|0|NULL|f|t|f",
    };
    page_result p = {.what = MAP_ORDER, .line_sum_is_total = true};
    recorder_clear(&rec);
    feed_page("flowwow_orders.json", "items[]", &p);
    CU_ASSERT_EQUAL(p.n, 5);
    CU_ASSERT_FALSE(p.unknown_status[0]);
    CU_ASSERT_FALSE(p.no_customer[0]);
    CU_ASSERT_TRUE(p.no_customer[1]);    /* user: null */
    CU_ASSERT_TRUE(p.no_customer[2]);    /* phone "" */
    CU_ASSERT_TRUE(p.unknown_status[2]); /* status 6 */
    assert_refused(&p, 3, "products.0.discount: 'abc' is not a percent (0..100)");
    assert_refused(&p, 4, "createdDate: 'yesterday' is not unix seconds");
    recorder_assert_rows(&rec, want, 7);
}

/* line_sum_is_total = false: the line total is count x cost less the percent. */
static void test_orders_cost_times_count(void)
{
    static const char *const want[] = {
        order1_customer,
        "order|7000001|7000001|shop|101|phone:+79261234567|2025-12-30T21:03:01Z|2025-12-31|3|"
        "completed|RUB|4210.5500|398.0000|0.0000|0.0000|3812.5500|NULL|2|NULL|f|t|f",
        "line|7000001|1|500001|NULL|2.0000|1990.0000|398.0000|0.0000|3582.0000|NULL|RUB",
    };
    page_result p = {.what = MAP_ORDER, .line_sum_is_total = false};
    recorder_clear(&rec);
    feed_page("flowwow_orders.json", "items[]", &p);
    CU_ASSERT_TRUE_FATAL(rec.n >= 3);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_STRING_EQUAL(rec.rows[i], want[i]);
    recorder_clear(&rec);
}

static void test_phone_normalise(void)
{
    static const struct {
        const char *in, *out; /* out NULL: no phone */
    } cases[] = {
        {"+7 (926) 123-45-67", "+79261234567"},
        {"89261234567", "+79261234567"},
        {"8 (926) 123-45-67", "+79261234567"},
        {"7 926 123 45 67", "+79261234567"},
        {"tel: 7-926-123-45-67", "+79261234567"},
        {"+84912345678", "+84912345678"}, /* Vietnam: the + keeps the 8 */
        {"+995 555 12 34 56", "+995555123456"},
        {"9261234567", "+9261234567"},
        {"", NULL},
        {"1234", NULL},
        {"-", NULL},
        {"123456789012345678901", NULL},
        {NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[FLOWWOW_PHONE_MAX];
        bool ok = flowwow_phone_normalise(cases[i].in, out);
        CU_ASSERT_EQUAL(ok, cases[i].out != NULL);
        if (ok && cases[i].out)
            CU_ASSERT_STRING_EQUAL(out, cases[i].out);
    }
}

static void test_status_groups(void)
{
    static const struct {
        const char *status, *group;
        bool known;
    } cases[] = {
        {"1", "open", true},  {"2", "open", true},  {"3", "completed", true}, {"4", "open", true},
        {"5", "open", true},  {"7", "open", true},  {"10", "open", true},     {"11", "open", true},
        {"12", "open", true}, {"6", "open", false}, {"13", "open", false},    {NULL, "open", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool known = !cases[i].known;
        CU_ASSERT_STRING_EQUAL(flowwow_status_group(cases[i].status, &known), cases[i].group);
        CU_ASSERT_EQUAL(known, cases[i].known);
    }
}

/* Records of a page that came back with rc. */
static int count_rc(const page_result *p, fe_rc rc)
{
    int n = 0;
    for (int i = 0; i < p->n; i++)
        n += p->rc[i] == rc;
    return n;
}

/* A sink failing on one kind of row stops each record that hands over such a row
 * with the sink's code, in err->code too; a sink's FE_EINVAL comes back as
 * FE_EABORT, so it never looks like a reject: only the records bad by themselves
 * are refused. Every kind of row the mapping hands over is tried. */
static void test_sink_failure(void)
{
    static const fe_rc codes[][2] = {{FE_EINVAL, FE_EABORT}, {FE_EPG, FE_EPG}};
    static const struct {
        int what;
        const char *fixture, *records, *kind;
    } pages[] = {
        {MAP_SHOP, "flowwow_shops.json", "shops[]", "store"},
        {MAP_PRODUCT, "flowwow_products.json", "items[]", "product"},
        {MAP_PRODUCT, "flowwow_products.json", "items[]", "inventory"},
        {MAP_ORDER, "flowwow_orders.json", "items[]", "customer"},
        {MAP_ORDER, "flowwow_orders.json", "items[]", "order"},
        {MAP_ORDER, "flowwow_orders.json", "items[]", "line"},
    };
    for (size_t j = 0; j < sizeof pages / sizeof pages[0]; j++) {
        page_result good = {.what = pages[j].what};
        recorder_clear(&rec);
        feed_page(pages[j].fixture, pages[j].records, &good);
        int bad = count_rc(&good, FE_EINVAL);
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            page_result p = {.what = pages[j].what};
            recorder_clear(&rec);
            rec.fail_with = codes[i][0];
            rec.fail_kind = pages[j].kind;
            feed_page(pages[j].fixture, pages[j].records, &p);
            CU_ASSERT_EQUAL(count_rc(&p, FE_EINVAL), bad);
            CU_ASSERT_TRUE(count_rc(&p, codes[i][1]) > 0);
            CU_ASSERT_EQUAL(count_rc(&p, FE_OK) + count_rc(&p, codes[i][1]), p.n - bad);
            for (int k = 0; k < p.n; k++)
                if (p.rc[k] != FE_EINVAL && p.rc[k] != FE_OK)
                    CU_ASSERT_EQUAL(p.code[k], codes[i][1]);
            CU_ASSERT_FALSE(recorder_has_kind(&rec, pages[j].kind)); /* none went through */
        }
    }
    recorder_clear(&rec);
}

/* ---- PostgreSQL's rules (transform/value.h) ------------------------------------ */

#define LINE(count, cost) "{\"productId\":5,\"count\":" count ",\"cost\":\"" cost "\"}"

static void test_rules_orders(void)
{
    static const struct {
        const char *record, *reason;
    } cases[] = {
        /* 0 is an id */
        {"\"id\":0,\"createdDate\":1767128581,\"products\":[" LINE("1", "2") "]", ""},
        {"\"createdDate\":1767128581", "record without id"},
        /* a NUL in a name or an offer id (which becomes a product id) */
        {"\"id\":1,\"createdDate\":1767128581,\"user\":{\"name\":\"A\\u0000nna\","
         "\"phone\":\"+79261234567\"}",
         "user.name contains a NUL byte"},
        {"\"id\":1,\"createdDate\":1767128581,\"products\":[{\"offerId\":\"SKU\\u00001\","
         "\"count\":1,\"cost\":\"1\"}]",
         "products.0.offerId contains a NUL byte"},
        {"\"id\":\"1\\u0000\",\"createdDate\":1767128581", "id: '1?' is not an integer id"},
        /* createdDate in year 0 (before year 1) and in year 10000 */
        {"\"id\":1,\"createdDate\":-62151408000",
         "createdDate: '-62151408000' is out of range (years 1..9999)"},
        {"\"id\":1,\"createdDate\":253402300800",
         "createdDate: '253402300800' is out of range (years 1..9999)"},
        {"\"id\":1,\"createdDate\":99999999999999999999", "createdDate: '99999999999999999999' is "
                                                          "not unix seconds"},
        /* two legal factors, two legal lines */
        {"\"id\":1,\"createdDate\":1767128581,\"products\":[" LINE("1000000000", "100000000") "]",
         "products.0: count x cost is out of range (numeric(20,4))"},
        {"\"id\":1,\"createdDate\":1767128581,\"products\":[" LINE(
             "1", "9000000000000000") "," LINE("1", "9000000000000000") "]",
         "the order's sum of lines is out of range (numeric(20,4))"},
        {"\"id\":1,\"createdDate\":1767128581,\"products\":[" LINE("1", "12345678901234567") "]",
         "products.0.cost: '12345678901234567' is out of range (numeric(20,4))"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[1024];
        page_result p = {.what = MAP_ORDER};
        snprintf(doc, sizeof doc, "{\"items\":[{%s}]}", cases[i].record);
        recorder_clear(&rec);
        feed_text(doc, strlen(doc), "items[]", &p);
        CU_ASSERT_EQUAL(p.n, 1);
        if (cases[i].reason[0]) {
            assert_refused(&p, 0, cases[i].reason);
        } else {
            CU_ASSERT_EQUAL(p.rc[0], FE_OK);
            CU_ASSERT_EQUAL(rec.n, 2);
        }
    }
    recorder_clear(&rec);
}

static void test_rules_shops_and_products(void)
{
    static const char shops[] = "{\"shops\":[{\"shopId\":0,\"name\":\"Zero\",\"currency\":\"rub\"},"
                                "{\"shopId\":2,\"name\":\"Sh\\u0000op\"},"
                                "{\"shopId\":3,\"name\":\"Odd currency\",\"currency\":\"RUBLE\"}]}";
    static const char *const want[] = {
        "store|shop|0|Zero|NULL|RUB|NULL|NULL|f",
        "store|shop|3|Odd currency|NULL|NULL|NULL|NULL|f",
    };
    page_result p = {.what = MAP_SHOP};
    recorder_clear(&rec);
    feed_text(shops, strlen(shops), "shops[]", &p);
    assert_refused(&p, 1, "name contains a NUL byte");
    recorder_assert_rows(&rec, want, 2);
    static const char products[] = "{\"items\":[{\"productId\":0,\"name\":\"Zero\"},"
                                   "{\"productId\":1,\"price\":\"12345678901234567.5\"}]}";
    page_result q = {.what = MAP_PRODUCT};
    recorder_clear(&rec);
    feed_text(products, strlen(products), "items[]", &q);
    CU_ASSERT_EQUAL(q.rc[0], FE_OK);
    CU_ASSERT_TRUE(rec.n == 1 && strncmp(rec.rows[0], "product|0|", 10) == 0);
    assert_refused(&q, 1, "price: '12345678901234567.5' is out of range (numeric(20,4))");
    recorder_clear(&rec);
}

int main(void)
{
    sink = recorder_sink(&rec);
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"shops", test_shops},
        {"products and today's stock", test_products},
        {"orders: sum is the line total", test_orders_sum_is_total},
        {"orders: count x cost less discount", test_orders_cost_times_count},
        {"phone normalisation", test_phone_normalise},
        {"status groups", test_status_groups},
        {"sink failure", test_sink_failure},
        {"rules: orders", test_rules_orders},
        {"rules: shops and products", test_rules_shops_and_products},
    };
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite suite = CU_add_suite("flowwow_map", NULL, NULL);
    for (size_t i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failures = (int)CU_get_number_of_failures();
    recorder_clear(&rec);
    CU_cleanup_registry();
    return failures != 0;
}
