/* The pure pieces of load/reconcile: the tolerance rule, halving a window of days,
 * id sets and their differences, the canonical text of an order and the words of a
 * scope. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "load/reconcile.h"

static decimal dec(const char *text)
{
    decimal d = {0};
    CU_ASSERT_FATAL(decimal_parse(text, strlen(text), &d));
    return d;
}

static void test_within(void)
{
    CU_ASSERT_TRUE(reconcile_within(dec("100"), dec("100"), dec("0")));
    CU_ASSERT_FALSE(reconcile_within(dec("100"), dec("99"), dec("0")));
    CU_ASSERT_FALSE(reconcile_within(dec("100.00"), dec("100.01"), dec("0")));
    CU_ASSERT_TRUE(reconcile_within(dec("100.00"), dec("100.01"), dec("0.01")));
    CU_ASSERT_TRUE(reconcile_within(dec("100"), dec("99"), dec("1")));
    CU_ASSERT_TRUE(reconcile_within(dec("99"), dec("100"), dec("1")));
    CU_ASSERT_FALSE(reconcile_within(dec("98"), dec("100"), dec("1")));
    /* a negative tolerance counts as its size, never as "nothing allowed below 0" */
    CU_ASSERT_TRUE(reconcile_within(dec("5"), dec("6"), dec("-1")));
}

static void test_split(void)
{
    char left[11], right[11];
    CU_ASSERT_TRUE(reconcile_split("2025-11-01", "2025-11-30", left, right));
    CU_ASSERT_STRING_EQUAL(left, "2025-11-15");
    CU_ASSERT_STRING_EQUAL(right, "2025-11-16");
    CU_ASSERT_TRUE(reconcile_split("2025-12-31", "2026-01-01", left, right));
    CU_ASSERT_STRING_EQUAL(left, "2025-12-31");
    CU_ASSERT_STRING_EQUAL(right, "2026-01-01");
    CU_ASSERT_TRUE(reconcile_split("2024-02-28", "2024-03-01", left, right));
    CU_ASSERT_STRING_EQUAL(left, "2024-02-29");
    CU_ASSERT_STRING_EQUAL(right, "2024-03-01");
    CU_ASSERT_FALSE(reconcile_split("2025-11-01", "2025-11-01", left, right)); /* one day */
    CU_ASSERT_FALSE(reconcile_split("2025-11-02", "2025-11-01", left, right)); /* reversed */
    CU_ASSERT_FALSE(reconcile_split("2025-13-01", "2025-12-01", left, right));
    CU_ASSERT_FALSE(reconcile_split(NULL, "2025-12-01", left, right));
    CU_ASSERT_FALSE(reconcile_split("2025-11-1", "2025-12-01", left, right));
}

/* Halving a window down to its days reaches any day in about log2(days) steps. */
static void test_split_narrows_to_a_day(void)
{
    char from[11] = "2025-01-01", to[11] = "2025-12-31", left[11], right[11];
    const char *target = "2025-08-17";
    int steps = 0;
    while (reconcile_split(from, to, left, right)) {
        if (strcmp(target, left) <= 0)
            memcpy(to, left, 11);
        else
            memcpy(from, right, 11);
        steps++;
    }
    CU_ASSERT_STRING_EQUAL(from, target);
    CU_ASSERT_STRING_EQUAL(to, target);
    CU_ASSERT_TRUE(steps <= 9);
}

static void test_days(void)
{
    CU_ASSERT_EQUAL(reconcile_days("2025-11-01", "2025-11-01"), 1);
    CU_ASSERT_EQUAL(reconcile_days("2025-11-01", "2025-11-30"), 30);
    CU_ASSERT_EQUAL(reconcile_days("2025-12-01", "2025-11-30"), 0);
    CU_ASSERT_EQUAL(reconcile_days("2025-02-30", "2025-03-01"), 0);
    CU_ASSERT_EQUAL(reconcile_days("tomorrow", "2025-03-01"), 0);
}

static void test_ids(void)
{
    rc_ids a, b;
    char out[256] = "";
    rc_ids_init(&a);
    rc_ids_init(&b);
    const char *src[] = {"7", "3", "10", "3", "5"};
    const char *wh[] = {"10", "5", "11"};
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_TRUE(rc_ids_add(&a, src[i]));
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_TRUE(rc_ids_add(&b, wh[i]));
    CU_ASSERT_EQUAL(rc_ids_minus(&a, &b, out, sizeof out, 10), 2); /* 3 and 7; duplicates once */
    CU_ASSERT_STRING_EQUAL(out, "3,7");
    CU_ASSERT_EQUAL(a.n, 4);
    out[0] = '\0';
    CU_ASSERT_EQUAL(rc_ids_minus(&b, &a, out, sizeof out, 10), 1);
    CU_ASSERT_STRING_EQUAL(out, "11");
    out[0] = '\0';
    CU_ASSERT_EQUAL(rc_ids_minus(&a, &b, out, sizeof out, 1), 2);
    CU_ASSERT_STRING_EQUAL(out, "3 ... (1 more)");
    CU_ASSERT_TRUE(rc_ids_has(&a, "10"));
    CU_ASSERT_FALSE(rc_ids_has(&a, "1"));
    rc_ids_term(&a);
    rc_ids_term(&b);
    rc_ids empty;
    rc_ids_init(&empty);
    out[0] = '\0';
    CU_ASSERT_EQUAL(rc_ids_minus(&empty, &empty, out, sizeof out, 5), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    rc_ids_term(&empty);
}

/* The text a mapped order makes equals what the warehouse prints for the same
 * values (numeric(20,4)), and an amount 0.01 off makes another text. */
static void test_order_text(void)
{
    char t1[256], t2[256];
    const char *a1[6] = {"100", "0", "0", NULL, "99.5", "99.50"};
    const char *a2[6] = {"100.0000", "0.0000", "0.0000", NULL, "99.5000", "99.5000"};
    const char *a3[6] = {"100", "0", "0", NULL, "99.51", "99.50"};
    CU_ASSERT_TRUE(reconcile_order_text("done", "completed", "RUB", a1, t1, sizeof t1));
    CU_ASSERT_STRING_EQUAL(t1, "done|completed|RUB|100.0000|0.0000|0.0000||99.5000|99.5000");
    CU_ASSERT_TRUE(reconcile_order_text("done", "completed", "RUB", a2, t2, sizeof t2));
    CU_ASSERT_STRING_EQUAL(t1, t2);
    CU_ASSERT_TRUE(reconcile_order_text("done", "completed", "RUB", a3, t2, sizeof t2));
    CU_ASSERT_STRING_NOT_EQUAL(t1, t2);
    const char *bad[6] = {"1,5", NULL, NULL, NULL, NULL, NULL};
    CU_ASSERT_FALSE(reconcile_order_text(NULL, NULL, NULL, bad, t2, sizeof t2));
}

static void test_scope_text(void)
{
    char out[256];
    rc_scope s = {.entity = RC_ORDERS,
                  .basis = RC_BY_LOCAL_DAY,
                  .from = "2025-11-03",
                  .to = "2025-11-03",
                  .store_kind = "shop",
                  .store_id = "1001"};
    reconcile_scope_text(&s, "orders", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "orders on business days day 2025-11-03 shop 1001");
    rc_scope w = {
        .entity = RC_ORDERS, .basis = RC_BY_UTC_DAY, .from = "2025-11-01", .to = "2025-11-30"};
    reconcile_scope_text(&w, "orders", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "orders created (UTC days) 2025-11-01..2025-11-30");
    rc_scope all = {.entity = RC_PRODUCTS, .basis = RC_BY_NONE};
    reconcile_scope_text(&all, "products", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "products");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("reconcile", NULL, NULL);
    CU_add_test(s, "tolerance", test_within);
    CU_add_test(s, "window halves", test_split);
    CU_add_test(s, "halving narrows to a day", test_split_narrows_to_a_day);
    CU_add_test(s, "days of a window", test_days);
    CU_add_test(s, "id sets and their differences", test_ids);
    CU_add_test(s, "canonical order text", test_order_text);
    CU_add_test(s, "scope words", test_scope_text);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
