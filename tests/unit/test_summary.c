/* test_summary: plurals, each stream's unit, one stream's block of the summary. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "app/summary.h"

static char *text_of(buf *b)
{
    char *t = buf_take(b, NULL);
    return t ? t : strdup("");
}

static void test_count(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(summary_count(&b, 1, "order", "orders"));
    CU_ASSERT_TRUE(buf_putc(&b, '|'));
    CU_ASSERT_TRUE(summary_count(&b, 2, "order", "orders"));
    CU_ASSERT_TRUE(buf_putc(&b, '|'));
    CU_ASSERT_TRUE(summary_count(&b, 0, "retry", "retries"));
    char *t = text_of(&b);
    CU_ASSERT_STRING_EQUAL(t, "1 order|2 orders|0 retries");
    free(t);
}

static void check_unit(const char *stream, const char *one, const char *many)
{
    char s[64], p[64];
    summary_unit(stream, s, sizeof s, p, sizeof p);
    CU_ASSERT_STRING_EQUAL(s, one);
    CU_ASSERT_STRING_EQUAL(p, many);
}

static void test_units(void)
{
    check_unit("orders", "order", "orders");
    check_unit("categories", "category", "categories");
    check_unit("inventory_items", "inventory item", "inventory items");
    check_unit("stock", "stock row", "stock rows");
    check_unit("inventory", "inventory row", "inventory rows");
    check_unit("ledger", "ledger row", "ledger rows");
}

static void test_stream_block(void)
{
    stream_stats st = {.pages = 1, .records = 1, .requests = 1, .rejects = 1, .bytes = 1500};
    table_rows order = {"fact_order", 1, 0, 0, 0}, line = {"fact_order_line", 3, 2, 0, 1};
    stats_add_rows(&st, &order);
    stats_add_rows(&st, &line);
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(summary_stream(&b, "shop.orders", "orders", "ok", 2.5, &st));
    char *t = text_of(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "1 order read in 1 page (1 request, 1.5 kB)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "    dw.fact_order: 1 row inserted\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(t, "    dw.fact_order_line: 3 rows inserted, 2 updated, 1 marked deleted\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "    rejected: 1 order (see etl.reject)\n"));
    CU_ASSERT_PTR_NULL(strstr(t, "other tables"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "ok              2.5 s  1 order"));
    free(t);

    /* Totals beyond the per-table entries, a stream that wrote nothing. */
    stream_stats more = {.records = 2, .requests = 3, .retries = 1, .http_429 = 2};
    more.inserted = 5;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(summary_stream(&b, "shop.stock", "stock", "FAILED", 0, &more));
    t = text_of(&b);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(t, "2 stock rows read (3 requests, 1 retry, 2 rate-limited (429))\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "    (other tables): 5 rows inserted\n"));
    free(t);
    stream_stats none = {.records = 4, .requests = 1};
    buf_init(&b, 0);
    CU_ASSERT_TRUE(summary_stream(&b, "shop.stores", "stores", "ok", 0, &none));
    t = text_of(&b);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "4 stores read (1 request)\n    no warehouse rows written\n"));
    free(t);
}

static void test_stats_tables_full(void)
{
    stream_stats st = {0};
    static const char *const names[STATS_TABLES + 1] = {"t0", "t1", "t2", "t3", "t4",
                                                        "t5", "t6", "t7", "t8"};
    for (int i = 0; i <= STATS_TABLES; i++) {
        table_rows r = {names[i], 1, 0, 0, 0};
        stats_add_rows(&st, &r);
    }
    CU_ASSERT_EQUAL(st.inserted, STATS_TABLES + 1);
    CU_ASSERT_STRING_EQUAL(st.tables[STATS_TABLES - 1].table, "t7");
    CU_ASSERT_PTR_NULL(stats_table(&st, "t8"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("summary", NULL, NULL);
    CU_add_test(s, "counts with plurals", test_count);
    CU_add_test(s, "each stream's unit", test_units);
    CU_add_test(s, "one stream's block", test_stream_block);
    CU_add_test(s, "more tables than slots: totals only", test_stats_tables_full);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
