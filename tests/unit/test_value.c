/* Tests for transform/value (PostgreSQL's rules): the range bounds exactly, text
 * with NUL bytes and bad UTF-8, amounts, currency codes. Reading a record's values
 * under these rules is tested in test_field. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "core/timeutil.h"
#include "transform/value.h"

static int64_t at(const char *iso)
{
    int64_t us = 0;
    CU_ASSERT_FATAL(time_parse_iso(iso, strlen(iso), &us));
    return us;
}

static void test_time_range(void)
{
    CU_ASSERT_FALSE(value_time_ok(at("0000-12-31T23:59:59Z")));
    CU_ASSERT_FALSE(value_time_ok(at("0001-01-01T23:59:59.999999Z")));
    CU_ASSERT_TRUE(value_time_ok(at("0001-01-02T00:00:00Z")));
    CU_ASSERT_TRUE(value_time_ok(at("2026-01-01T00:00:00Z")));
    CU_ASSERT_TRUE(value_time_ok(at("1969-12-31T23:59:59Z")));
    CU_ASSERT_TRUE(value_time_ok(at("9999-12-30T23:59:59.999999Z")));
    CU_ASSERT_FALSE(value_time_ok(at("9999-12-31T00:00:00Z")));
    CU_ASSERT_FALSE(value_time_ok(INT64_MAX));
    CU_ASSERT_FALSE(value_time_ok(INT64_MIN));
}

static void test_date_range(void)
{
    CU_ASSERT_TRUE(value_date_text_ok("0001-01-01", 10));
    CU_ASSERT_TRUE(value_date_text_ok("9999-12-31", 10));
    CU_ASSERT_TRUE(value_date_text_ok("2024-02-29", 10));
    CU_ASSERT_FALSE(value_date_text_ok("0000-01-01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-02-29", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-13-01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-1-01", 9));
    CU_ASSERT_FALSE(value_date_text_ok("2023/01/01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-01-01T", 11));
    CU_ASSERT_FALSE(value_date_text_ok(NULL, 10));
    CU_ASSERT_FALSE(value_date_ok(10000, 1, 1));
    CU_ASSERT_TRUE(value_date_ok(1, 1, 1));
}

static void test_text_and_currency(void)
{
    char c[4];
    CU_ASSERT_PTR_NULL(value_text_problem("Роза", strlen("Роза")));
    CU_ASSERT_PTR_NULL(value_text_problem("", 0));
    CU_ASSERT_STRING_EQUAL(value_text_problem("a\0b", 3), "contains a NUL byte");
    CU_ASSERT_STRING_EQUAL(value_text_problem("\xD0", 1), "is not valid UTF-8");
    CU_ASSERT_STRING_EQUAL(value_currency("rub", 3, c), "RUB");
    CU_ASSERT_PTR_NULL(value_currency("RUBL", 4, c));
    CU_ASSERT_PTR_NULL(value_currency("R1B", 3, c));
    CU_ASSERT_PTR_NULL(value_currency("R\0B", 3, c));
    CU_ASSERT_PTR_NULL(value_currency(NULL, 0, c));
    /* the C-string form: "unknown" (Goflow's word for none) and NULL are no code */
    CU_ASSERT_STRING_EQUAL(value_currency_str("usd", c), "USD");
    CU_ASSERT_STRING_EQUAL(value_currency_str("EuR", c), "EUR");
    CU_ASSERT_PTR_NULL(value_currency_str("unknown", c));
    CU_ASSERT_PTR_NULL(value_currency_str("", c));
    CU_ASSERT_PTR_NULL(value_currency_str("u$d", c));
    CU_ASSERT_PTR_NULL(value_currency_str(NULL, c));
    decimal d;
    CU_ASSERT_TRUE(decimal_parse("-9999999999999999.9999", 22, &d) && value_amount_ok(d));
    CU_ASSERT_FALSE(value_amount_ok((decimal){.units = (__int128)10000000000000000 * 10000}));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("value", NULL, NULL);
    CU_add_test(s, "instants: years 1..9999 with a day of margin", test_time_range);
    CU_add_test(s, "dates: years 1..9999", test_date_range);
    CU_add_test(s, "text and currency codes", test_text_and_currency);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
