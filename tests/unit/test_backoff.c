/* Unit tests for extract/backoff: delays, Retry-After parsing, the PRNG step. */
#include <CUnit/Basic.h>
#include <time.h>

#include "extract/backoff.h"

#define MS 1000LL
#define SEC 1000000LL

static const backoff_policy POLICY = {.base_us = 100 * MS, .max_us = SEC, .max_retries = 8};

static void test_delay_bounds_per_attempt(void)
{
    /* cap = min(max, base * 2^(attempt-1)); delay in [cap/2, cap] */
    const int64_t caps[] = {100 * MS, 200 * MS, 400 * MS, 800 * MS, SEC, SEC};
    uint64_t state = 42;
    for (int attempt = 1; attempt <= 6; attempt++) {
        int64_t cap = caps[attempt - 1], lo = INT64_MAX, hi = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t d = backoff_delay_us(&POLICY, attempt, backoff_rand_next(&state));
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        CU_ASSERT_TRUE(lo >= cap / 2);
        CU_ASSERT_TRUE(hi <= cap);
        /* jitter really spreads over the range */
        CU_ASSERT_TRUE(lo < cap / 2 + cap / 20);
        CU_ASSERT_TRUE(hi > cap - cap / 20);
    }
}

static void test_delay_extremes(void)
{
    CU_ASSERT_EQUAL(backoff_delay_us(&POLICY, 1, 0), 50 * MS);
    CU_ASSERT_EQUAL(backoff_delay_us(&POLICY, 1, 50 * MS), 100 * MS);
    CU_ASSERT_EQUAL(backoff_delay_us(&POLICY, 1, 50 * MS + 1), 50 * MS);
    CU_ASSERT_EQUAL(backoff_delay_us(&POLICY, 0, 0), 50 * MS);
    /* huge attempt numbers neither overflow nor pass the cap */
    CU_ASSERT_EQUAL(backoff_delay_us(&POLICY, 1000000, 500 * MS), SEC);
    backoff_policy big = {.base_us = INT64_MAX / 4, .max_us = INT64_MAX, .max_retries = 1};
    CU_ASSERT_TRUE(backoff_delay_us(&big, 70, 0) >= INT64_MAX / 4);
}

static void test_retry_after_seconds(void)
{
    int64_t d = -1;
    CU_ASSERT_TRUE(backoff_parse_retry_after("3", 0, &d));
    CU_ASSERT_EQUAL(d, 3 * SEC);
    CU_ASSERT_TRUE(backoff_parse_retry_after("1.5", 0, &d));
    CU_ASSERT_EQUAL(d, 1500 * MS);
    CU_ASSERT_TRUE(backoff_parse_retry_after("7.8832487", 0, &d));
    CU_ASSERT_EQUAL(d, 7883248);
    CU_ASSERT_TRUE(backoff_parse_retry_after(" 0 \r\n", 0, &d));
    CU_ASSERT_EQUAL(d, 0);
    CU_ASSERT_TRUE(backoff_parse_retry_after("120", 0, &d));
    CU_ASSERT_EQUAL(d, 120 * SEC);
}

static void test_retry_after_rejects(void)
{
    int64_t d = 77;
    CU_ASSERT_FALSE(backoff_parse_retry_after("", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("   ", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("-1", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("1.", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after(".5", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("1e3", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("soon", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after("99999999999999999999", 0, &d));
    CU_ASSERT_FALSE(backoff_parse_retry_after(NULL, 0, &d));
    CU_ASSERT_EQUAL(d, 77);
}

static void test_retry_after_http_date(void)
{
    struct tm tm = {.tm_year = 2015 - 1900, .tm_mon = 9, .tm_mday = 21, .tm_hour = 7, .tm_min = 28};
    int64_t when = (int64_t)timegm(&tm);
    int64_t d = -1;
    CU_ASSERT_TRUE(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when - 10, &d));
    CU_ASSERT_EQUAL(d, 10 * SEC);
    CU_ASSERT_TRUE(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT  ", when - 90, &d));
    CU_ASSERT_EQUAL(d, 90 * SEC);
    /* obsolete RFC 850 form */
    CU_ASSERT_TRUE(backoff_parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", when - 1, &d));
    CU_ASSERT_EQUAL(d, SEC);
    /* a date in the past means "now" */
    CU_ASSERT_TRUE(backoff_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when + 100, &d));
    CU_ASSERT_EQUAL(d, 0);
}

static void test_rand_step(void)
{
    uint64_t a = 1, b = 1;
    uint64_t first = backoff_rand_next(&a);
    CU_ASSERT_EQUAL(first, backoff_rand_next(&b)); /* deterministic */
    CU_ASSERT_NOT_EQUAL(backoff_rand_next(&a), first);
    uint64_t z = 0;
    uint64_t v = backoff_rand_next(&z);
    CU_ASSERT_NOT_EQUAL(z, 0); /* a zero state does not stick */
    CU_ASSERT_NOT_EQUAL(v, 0);
    /* the low bit, which rnd % range leans on, is not constant */
    uint64_t s = 7;
    int ones = 0;
    for (int i = 0; i < 1000; i++)
        ones += (int)(backoff_rand_next(&s) & 1);
    CU_ASSERT_TRUE(ones > 400 && ones < 600);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("backoff", NULL, NULL);
    CU_add_test(s, "delay bounds per attempt", test_delay_bounds_per_attempt);
    CU_add_test(s, "delay extremes", test_delay_extremes);
    CU_add_test(s, "retry-after delta seconds", test_retry_after_seconds);
    CU_add_test(s, "retry-after rejects", test_retry_after_rejects);
    CU_add_test(s, "retry-after http-date", test_retry_after_http_date);
    CU_add_test(s, "rand step", test_rand_step);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
