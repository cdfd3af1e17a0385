#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "core/decimal.h"

/* Parses text and returns its canonical form, or "REJECTED". */
static const char *canon(const char *text)
{
    static char out[DECIMAL_TEXT_MAX];
    decimal d;
    if (!decimal_parse(text, strlen(text), &d))
        return "REJECTED";
    return decimal_format(d, out);
}

static const char *canon_scaled(const char *text, long scale)
{
    static char out[DECIMAL_TEXT_MAX];
    decimal d;
    if (!decimal_parse_scaled(text, strlen(text), scale, &d))
        return "REJECTED";
    return decimal_format(d, out);
}

static decimal dec(const char *text)
{
    decimal d = {0};
    CU_ASSERT_FATAL(decimal_parse(text, strlen(text), &d));
    return d;
}

static const char *fmt(decimal d)
{
    static char out[DECIMAL_TEXT_MAX];
    return decimal_format(d, out);
}

static void test_parse_plain(void)
{
    CU_ASSERT_STRING_EQUAL(canon("0"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("-12"), "-12.0000");
    CU_ASSERT_STRING_EQUAL(canon("1990.00"), "1990.0000");
    CU_ASSERT_STRING_EQUAL(canon("5142.5"), "5142.5000");
    CU_ASSERT_STRING_EQUAL(canon("-0.5"), "-0.5000");
    CU_ASSERT_STRING_EQUAL(canon("+7"), "7.0000");
    CU_ASSERT_STRING_EQUAL(canon(" 12 "), "12.0000");
    CU_ASSERT_STRING_EQUAL(canon("\t-3.25\n"), "-3.2500");
    CU_ASSERT_STRING_EQUAL(canon(".5"), "0.5000");
    CU_ASSERT_STRING_EQUAL(canon("5."), "5.0000");
    CU_ASSERT_STRING_EQUAL(canon("007.10"), "7.1000");
    CU_ASSERT_STRING_EQUAL(canon("0.0001"), "0.0001");
    CU_ASSERT_STRING_EQUAL(canon("123456.7891"), "123456.7891");
}

static void test_parse_exponent(void)
{
    CU_ASSERT_STRING_EQUAL(canon("1e3"), "1000.0000");
    CU_ASSERT_STRING_EQUAL(canon("2.5E-2"), "0.0250");
    CU_ASSERT_STRING_EQUAL(canon("1E+2"), "100.0000");
    CU_ASSERT_STRING_EQUAL(canon("-1.5e1"), "-15.0000");
    CU_ASSERT_STRING_EQUAL(canon("12345e-4"), "1.2345");
    CU_ASSERT_STRING_EQUAL(canon("5e-5"), "0.0001");
    CU_ASSERT_STRING_EQUAL(canon("4e-5"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("1e-1000"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("0e1000"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("1e15"), "1000000000000000.0000");
    CU_ASSERT_STRING_EQUAL(canon("1e16"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e1001"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e-1001"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e99999999999999999999"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e+"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("e5"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("1e5.5"), "REJECTED");
}

static void test_parse_rounding(void)
{
    CU_ASSERT_STRING_EQUAL(canon("0.00005"), "0.0001");
    CU_ASSERT_STRING_EQUAL(canon("-0.00005"), "-0.0001");
    CU_ASSERT_STRING_EQUAL(canon("0.00004999"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("-0.00004999"), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon("1.23455"), "1.2346");
    CU_ASSERT_STRING_EQUAL(canon("1.23454999999999999999"), "1.2345");
    CU_ASSERT_STRING_EQUAL(canon("2.99995"), "3.0000");
    CU_ASSERT_STRING_EQUAL(canon("-2.99995"), "-3.0000");
    CU_ASSERT_STRING_EQUAL(canon("0.000000000000000000000000000000000000000000000000009"),
                           "0.0000");
}

static void test_parse_limits(void)
{
    CU_ASSERT_STRING_EQUAL(canon("9999999999999999.9999"), "9999999999999999.9999");
    CU_ASSERT_STRING_EQUAL(canon("-9999999999999999.9999"), "-9999999999999999.9999");
    /* Rounds up into a 17th integer digit: numeric(20,4) holds 16. */
    CU_ASSERT_STRING_EQUAL(canon("9999999999999999.99995"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("9999999999999999.99994"), "9999999999999999.9999");
    CU_ASSERT_STRING_EQUAL(canon("10000000000000000"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon("00000000000000000000000000001"), "1.0000");
    CU_ASSERT_STRING_EQUAL(canon("123456789012345678901234567890"), "REJECTED");
}

static void test_parse_rejects(void)
{
    const char *bad[] = {"",      " ",   "NaN", "nan", "Infinity", "-Infinity", "inf",  "1,5",
                         "1.2.3", "--1", "+-1", "-",   "+",        ".",         "1 2",  "0x10",
                         "1a",    "a1",  "1-",  "1e-", "- 1",      "12$",       "1_000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        decimal d = {42};
        CU_ASSERT_FALSE(decimal_parse(bad[i], strlen(bad[i]), &d));
        CU_ASSERT(d.units == 42); /* untouched on rejection */
    }
    /* An embedded NUL within len is rejected; len bounds the text otherwise. */
    decimal d;
    CU_ASSERT_FALSE(decimal_parse("1\0002", 3, &d));
    CU_ASSERT_TRUE(decimal_parse("12345", 2, &d));
    CU_ASSERT_STRING_EQUAL(fmt(d), "12.0000");
}

static void test_parse_scaled(void)
{
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 100), "123.4500");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 1), "12345.0000");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 10), "1234.5000");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 1000), "12.3450");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 10000), "1.2345");
    CU_ASSERT_STRING_EQUAL(canon_scaled("-5", 100), "-0.0500");
    CU_ASSERT_STRING_EQUAL(canon_scaled("123.4", 100), "1.2340");
    CU_ASSERT_STRING_EQUAL(canon_scaled("1.5", 10000), "0.0002");
    CU_ASSERT_STRING_EQUAL(canon_scaled("0", 100), "0.0000");
    CU_ASSERT_STRING_EQUAL(canon_scaled("99999999999999999999", 10000), "9999999999999999.9999");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 0), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 50), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", 100000), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon_scaled("12345", -100), "REJECTED");
    CU_ASSERT_STRING_EQUAL(canon_scaled("abc", 100), "REJECTED");
}

static void test_arithmetic(void)
{
    decimal a = dec("1990.50"), b = dec("-0.75");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_add(a, b)), "1989.7500");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_sub(a, b)), "1991.2500");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_neg(a)), "-1990.5000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_abs(b)), "0.7500");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_abs(a)), "1990.5000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_zero()), "0.0000");
    CU_ASSERT_TRUE(decimal_is_zero(decimal_zero()));
    CU_ASSERT_FALSE(decimal_is_zero(b));
    CU_ASSERT_TRUE(decimal_is_zero(decimal_add(b, decimal_neg(b))));
    CU_ASSERT_EQUAL(decimal_cmp(a, b), 1);
    CU_ASSERT_EQUAL(decimal_cmp(b, a), -1);
    CU_ASSERT_EQUAL(decimal_cmp(a, dec("1990.5")), 0);
    CU_ASSERT_STRING_EQUAL(fmt(decimal_neg(decimal_zero())), "0.0000");
}

static void test_mul_percent(void)
{
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("1990.00"), dec("3"))), "5970.0000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("0.5"), dec("0.5"))), "0.2500");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("0.0001"), dec("0.5"))), "0.0001");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("-0.0001"), dec("0.5"))), "-0.0001");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("0.0001"), dec("0.4999"))), "0.0000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("-12.5"), dec("-2"))), "25.0000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_mul(dec("1.2345"), dec("1.2345"))), "1.5240");
    /* 16-digit operands: the product needs more than 128 bits before the division. */
    decimal big = dec("9999999999999999.9999"), r;
    CU_ASSERT_TRUE(decimal_mul_checked(big, dec("0.0001"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "1000000000000.0000");
    CU_ASSERT_TRUE(decimal_mul_checked(dec("99999999.9999"), dec("99999999.9999"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "9999999999980000.0000");
    r = dec("7");
    CU_ASSERT_FALSE(decimal_mul_checked(big, dec("10"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "7.0000");
    /* Beyond __int128: saturates instead of wrapping around. */
    decimal sat = decimal_mul(big, big);
    CU_ASSERT(sat.units > 0);
    CU_ASSERT(decimal_mul(big, decimal_neg(big)).units < 0);

    CU_ASSERT_STRING_EQUAL(fmt(decimal_percent(dec("1990"), dec("10"))), "199.0000");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_percent(dec("100"), dec("33.33333"))), "33.3333");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_percent(dec("0.01"), dec("0.5"))), "0.0001");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_percent(dec("-0.01"), dec("0.5"))), "-0.0001");
    CU_ASSERT_STRING_EQUAL(fmt(decimal_percent(dec("0.01"), dec("0.4999"))), "0.0000");
    CU_ASSERT_TRUE(decimal_percent_checked(dec("250"), dec("-20"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "-50.0000");
    CU_ASSERT_FALSE(decimal_percent_checked(big, dec("200"), &r));
}

/* decimal_read tells a malformed number from one beyond numeric(20,4). */
static void test_read_status(void)
{
    static const struct {
        const char *text;
        long scale;
        decimal_status want;
    } cases[] = {
        {"1990.00", 1, DECIMAL_OK},
        {"9999999999999999.9999", 1, DECIMAL_OK},
        {"9999999999999999.99995", 1, DECIMAL_RANGE}, /* rounds up to 17 digits */
        {"12345678901234567", 1, DECIMAL_RANGE},
        {"1e16", 1, DECIMAL_RANGE},
        {"1e1001", 1, DECIMAL_RANGE},
        {"1e-1001", 1, DECIMAL_RANGE},
        {"12345678901234567800", 100, DECIMAL_RANGE},
        {"12345678901234567", 100, DECIMAL_OK}, /* 123456789012345.67 */
        {"1e", 1, DECIMAL_SYNTAX},
        {"1,5", 1, DECIMAL_SYNTAX},
        {"", 1, DECIMAL_SYNTAX},
        {"12", 7, DECIMAL_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        decimal d;
        decimal_status st = decimal_read(cases[i].text, strlen(cases[i].text), cases[i].scale, &d);
        if (st != cases[i].want)
            fprintf(stderr, "\n%s: %d\n", cases[i].text, st);
        CU_ASSERT_EQUAL(st, cases[i].want);
    }
    CU_ASSERT_EQUAL(decimal_read("12\0", 3, 1, &(decimal){0}), DECIMAL_SYNTAX);
}

/* Sums, differences and quotients that leave numeric(20,4) are caught, and so
 * is an __int128 overflow of operands that were never parsed. */
static void test_checked_arithmetic(void)
{
    decimal max = dec("9999999999999999.9999"), r = dec("7");
    CU_ASSERT_TRUE(decimal_add_checked(max, dec("-1"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "9999999999999998.9999");
    r = dec("7");
    CU_ASSERT_FALSE(decimal_add_checked(max, dec("0.0001"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "7.0000"); /* untouched */
    CU_ASSERT_FALSE(decimal_add_checked(dec("9000000000000000"), dec("9000000000000000"), &r));
    CU_ASSERT_FALSE(decimal_sub_checked(decimal_neg(max), dec("1"), &r));
    CU_ASSERT_TRUE(decimal_sub_checked(dec("5"), dec("7.5"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "-2.5000");
    decimal huge = {.units = ((__int128)1 << 126)};
    CU_ASSERT_FALSE(decimal_add_checked(huge, huge, &r));
    CU_ASSERT_FALSE(decimal_sub_checked(decimal_neg(huge), huge, &r));
    /* quotients: rounded half away from zero; by zero, or too large, refused */
    CU_ASSERT_TRUE(decimal_div_checked(dec("19.99"), dec("3"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "6.6633");
    CU_ASSERT_TRUE(decimal_div_checked(dec("-1"), dec("8"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "-0.1250");
    CU_ASSERT_TRUE(decimal_div_checked(dec("2"), dec("-3"), &r));
    CU_ASSERT_STRING_EQUAL(fmt(r), "-0.6667");
    CU_ASSERT_FALSE(decimal_div_checked(dec("1"), decimal_zero(), &r));
    CU_ASSERT_FALSE(decimal_div_checked(dec("1000000000000000"), dec("0.0001"), &r));
    CU_ASSERT_FALSE(decimal_div_checked(huge, dec("1"), &r));
}

static void test_fits_format(void)
{
    CU_ASSERT_TRUE(decimal_fits(dec("9999999999999999.9999"), 16));
    CU_ASSERT_FALSE(decimal_fits(decimal_add(dec("9999999999999999.9999"), dec("0.0001")), 16));
    CU_ASSERT_FALSE(decimal_fits(decimal_sub(dec("-9999999999999999.9999"), dec("0.0001")), 16));
    CU_ASSERT_TRUE(decimal_fits(dec("0.9999"), 0));
    CU_ASSERT_FALSE(decimal_fits(dec("1"), 0));
    CU_ASSERT_FALSE(decimal_fits(dec("0"), -1));
    CU_ASSERT_TRUE(decimal_fits(dec("1"), 40));

    char out[DECIMAL_TEXT_MAX];
    decimal extreme = {-(__int128)(((unsigned __int128)1 << 127) - 1) - 1};
    CU_ASSERT_STRING_EQUAL(decimal_format(extreme, out),
                           "-17014118346046923173168730371588410.5728");
    CU_ASSERT_PTR_EQUAL(decimal_format(decimal_zero(), out), out);
    CU_ASSERT_STRING_EQUAL(out, "0.0000");
    decimal tiny = {-1};
    CU_ASSERT_STRING_EQUAL(decimal_format(tiny, out), "-0.0001");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("decimal", NULL, NULL);
    CU_add_test(s, "parse plain", test_parse_plain);
    CU_add_test(s, "parse exponent", test_parse_exponent);
    CU_add_test(s, "parse rounding", test_parse_rounding);
    CU_add_test(s, "parse limits", test_parse_limits);
    CU_add_test(s, "parse rejects", test_parse_rejects);
    CU_add_test(s, "parse scaled", test_parse_scaled);
    CU_add_test(s, "add sub neg abs cmp", test_arithmetic);
    CU_add_test(s, "mul percent", test_mul_percent);
    CU_add_test(s, "fits format", test_fits_format);
    CU_add_test(s, "read: syntax or range", test_read_status);
    CU_add_test(s, "checked add, sub, div", test_checked_arithmetic);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
