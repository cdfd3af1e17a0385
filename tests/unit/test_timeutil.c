#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeutil.h"

#define SEC TIME_US_PER_SEC

/* Parses text as ISO; returns its canonical form or "REJECTED". */
static const char *iso(const char *text)
{
    static char out[TIME_TEXT_MAX];
    int64_t us;
    if (!time_parse_iso(text, strlen(text), &us))
        return "REJECTED";
    return time_format_iso(us, out);
}

static int64_t iso_us(const char *text)
{
    int64_t us = 0;
    CU_ASSERT_FATAL(time_parse_iso(text, strlen(text), &us));
    return us;
}

static void test_iso_forms(void)
{
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06+00:00"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06Z"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15t17:20:06z"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15 17:20:06"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20Z"), 1657905600 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15"), 1657843200 * SEC);
    CU_ASSERT_STRING_EQUAL(iso("2022-07-18 10:25:01"), "2022-07-18T10:25:01Z");
    CU_ASSERT_STRING_EQUAL(iso("2022-07-15"), "2022-07-15T00:00:00Z");
}

static void test_iso_offsets(void)
{
    int64_t utc = iso_us("2022-07-14T21:30:00Z");
    CU_ASSERT_EQUAL(utc, 1657834200 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T00:30:00+03:00"), utc);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T00:30:00+0300"), utc);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T00:30:00+03"), utc);
    CU_ASSERT_EQUAL(iso_us("2022-07-14T16:00:00-05:30"), utc);
    CU_ASSERT_EQUAL(iso_us("2022-07-14T21:30:00-00:00"), utc);
    CU_ASSERT_EQUAL(iso_us("2000-02-29T12:00:00-05:30"), INT64_C(951845400) * SEC);
    /* An offset can move the instant across a day, month and year boundary. */
    CU_ASSERT_STRING_EQUAL(iso("2023-01-01T01:00:00+03:00"), "2022-12-31T22:00:00Z");
    CU_ASSERT_STRING_EQUAL(iso("2022-12-31T22:00:00-03:00"), "2023-01-01T01:00:00Z");
    CU_ASSERT_STRING_EQUAL(iso("2022-07-15T12:00:00+23:59"), "2022-07-14T12:01:00Z");
}

static void test_iso_fraction(void)
{
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06.1234567Z"), 1657905606 * SEC + 123456);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06.5+03:00"), (1657905606 - 3 * 3600) * SEC + 500000);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06,25Z"), 1657905606 * SEC + 250000);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06.000001Z"), 1657905606 * SEC + 1);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06.0000009Z"), 1657905606 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-07-15T17:20:06.999999999999Z"), 1657905606 * SEC + 999999);
    CU_ASSERT_STRING_EQUAL(iso("2022-07-15T17:20:06.1234567Z"), "2022-07-15T17:20:06.123456Z");
    CU_ASSERT_STRING_EQUAL(iso("2022-07-15T17:20:06.000Z"), "2022-07-15T17:20:06Z");
    CU_ASSERT_STRING_EQUAL(iso("2022-07-15T17:20:06.01Z"), "2022-07-15T17:20:06.010000Z");
}

static void test_iso_calendar(void)
{
    CU_ASSERT_STRING_EQUAL(iso("2024-02-29"), "2024-02-29T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(iso("2000-02-29"), "2000-02-29T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(iso("2023-02-29"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(iso("1900-02-29"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(iso("2100-02-29"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(iso("2022-04-31"), "REJECTED");
    CU_ASSERT_STRING_EQUAL(iso("2022-12-31T23:59:59Z"), "2022-12-31T23:59:59Z");
    CU_ASSERT_EQUAL(iso_us("2024-02-29"), INT64_C(1709164800) * SEC);
    CU_ASSERT_EQUAL(iso_us("9999-12-31T23:59:59"), INT64_C(253402300799) * SEC);
    CU_ASSERT_STRING_EQUAL(iso("0000-03-01"), "0000-03-01T00:00:00Z");
    CU_ASSERT_STRING_EQUAL(iso("0000-02-29"), "0000-02-29T00:00:00Z"); /* year 0 is leap */
}

static void test_iso_before_epoch(void)
{
    CU_ASSERT_EQUAL(iso_us("1969-12-31T23:59:59Z"), -SEC);
    CU_ASSERT_EQUAL(iso_us("1969-12-31T23:59:59.9999999Z"), -1);
    CU_ASSERT_EQUAL(iso_us("1970-01-01T02:00:00+03:00"), -3600 * SEC);
    CU_ASSERT_EQUAL(iso_us("1900-01-01"), INT64_C(-2208988800) * SEC);
    CU_ASSERT_STRING_EQUAL(iso("1969-07-20T20:17:40.5Z"), "1969-07-20T20:17:40.500000Z");
    char out[TIME_TEXT_MAX];
    CU_ASSERT_STRING_EQUAL(time_format_iso(-1, out), "1969-12-31T23:59:59.999999Z");
    CU_ASSERT_STRING_EQUAL(time_format_iso(-SEC, out), "1969-12-31T23:59:59Z");
    CU_ASSERT_STRING_EQUAL(time_format_date(-1, out), "1969-12-31");
    CU_ASSERT_STRING_EQUAL(time_format_date(0, out), "1970-01-01");
    CU_ASSERT_STRING_EQUAL(time_format_iso(0, out), "1970-01-01T00:00:00Z");
}

static void test_iso_rejects(void)
{
    const char *bad[] = {"",
                         "garbage",
                         "2022",
                         "2022-07",
                         "2022-7-15",
                         "22-07-15",
                         "2022-13-01",
                         "2022-00-10",
                         "2022-07-00",
                         "2022-07-32",
                         "2022/07/15",
                         " 2022-07-15",
                         "2022-07-15 ",
                         "2022-07-15T",
                         "2022-07-15T24:00:00Z",
                         "2022-07-15T23:60:00Z",
                         "2022-07-15T23:59:60Z",
                         "2022-07-15T7:20:06Z",
                         "2022-07-15T17:20:06Zjunk",
                         "2022-07-15T17:20:06+03:00junk",
                         "2022-07-15T17:20:06.Z",
                         "2022-07-15T17:20:06.",
                         "2022-07-15T17:20:06+3",
                         "2022-07-15T17:20:06+030",
                         "2022-07-15T17:20:06+03:",
                         "2022-07-15T17:20:06+03:0",
                         "2022-07-15T17:20:06+24:00",
                         "2022-07-15T17:20:06+03:60",
                         "2022-07-15T17:20:06 +03:00",
                         "2022-07-15T17:20:",
                         "2022-07-15T17",
                         "2022-07-15X17:20:06",
                         "2022-07-15junk"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        if (time_parse_iso(bad[i], strlen(bad[i]), &us))
            CU_FAIL(bad[i]);
        CU_ASSERT_EQUAL(us, 42);
    }
    /* len bounds the text: the NUL-free prefix is parsed, a NUL inside is junk. */
    int64_t us;
    CU_ASSERT_TRUE(time_parse_iso("2022-07-15T17:20:06Zjunk", 20, &us));
    CU_ASSERT_EQUAL(us, 1657905606 * SEC);
    CU_ASSERT_FALSE(time_parse_iso("2022-07-15\0", 11, &us));
}

/* Every day from 1600 to 2400 formats back to the date it was parsed from, and
 * consecutive dates are consecutive day numbers: the calendar math has no gaps. */
static void test_calendar_exhaustive(void)
{
    int64_t prev = time_days_from_civil(1599, 12, 31);
    int failures = 0;
    for (int y = 1600; y <= 2400; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d++) {
                if (!time_valid_date(y, m, d))
                    continue;
                int64_t days = time_days_from_civil(y, m, d);
                char want[16], got[16];
                snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
                time_format_date(days * 86400 * SEC + 86399 * SEC, got);
                if (days != prev + 1 || strcmp(want, got) != 0)
                    failures++;
                prev = days;
            }
        }
    }
    CU_ASSERT_EQUAL(failures, 0);
    CU_ASSERT_EQUAL(time_days_from_civil(1970, 1, 1), 0);
    CU_ASSERT_EQUAL(time_days_from_civil(1969, 12, 31), -1);
    CU_ASSERT_EQUAL(time_days_from_civil(2000, 3, 1), 11017);
}

/* Parsing ignores TZ: a local time that does not exist in New York (DST gap) is a
 * normal UTC instant, and an hour later is exactly 3600 s later. */
static void test_independent_of_tz(void)
{
    setenv("TZ", "America/New_York", 1);
    tzset();
    int64_t a = iso_us("2022-03-13T02:30:00");
    int64_t b = iso_us("2022-03-13T03:30:00");
    CU_ASSERT_EQUAL(b - a, 3600 * SEC);
    CU_ASSERT_EQUAL(iso_us("2022-11-06T01:30:00") + 3600 * SEC, iso_us("2022-11-06T02:30:00"));
    char out[TIME_TEXT_MAX];
    CU_ASSERT_STRING_EQUAL(time_format_iso(a, out), "2022-03-13T02:30:00Z");
    unsetenv("TZ");
    tzset();
}

static void test_unix(void)
{
    int64_t us = 0;
    CU_ASSERT_TRUE(time_parse_unix("1700000000", 10, &us));
    CU_ASSERT_EQUAL(us, INT64_C(1700000000) * SEC);
    CU_ASSERT_TRUE(time_parse_unix("1700000000.25", 13, &us));
    CU_ASSERT_EQUAL(us, INT64_C(1700000000) * SEC + 250000);
    CU_ASSERT_TRUE(time_parse_unix("1.1234569", 9, &us));
    CU_ASSERT_EQUAL(us, SEC + 123456);
    CU_ASSERT_TRUE(time_parse_unix("-5", 2, &us));
    CU_ASSERT_EQUAL(us, -5 * SEC);
    CU_ASSERT_TRUE(time_parse_unix("-1.5", 4, &us));
    CU_ASSERT_EQUAL(us, -1500000);
    CU_ASSERT_TRUE(time_parse_unix("0", 1, &us));
    CU_ASSERT_EQUAL(us, 0);
    const char *bad[] = {"",    "-",   "abc",           "1.",
                         ".5",  "1e5", "12 ",           " 12",
                         "1,5", "--1", "9223372036855", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        us = 42;
        CU_ASSERT_FALSE(time_parse_unix(bad[i], strlen(bad[i]), &us));
        CU_ASSERT_EQUAL(us, 42);
    }
    CU_ASSERT_TRUE(time_parse_unix("9223372036854", 13, &us));
}

static int64_t dur(const char *text)
{
    int64_t us = -42;
    if (!time_parse_duration(text, &us))
        return -1;
    return us;
}

static void test_duration(void)
{
    CU_ASSERT_EQUAL(dur("2h"), 7200 * SEC);
    CU_ASSERT_EQUAL(dur("30m"), 1800 * SEC);
    CU_ASSERT_EQUAL(dur("90s"), 90 * SEC);
    CU_ASSERT_EQUAL(dur("7d"), 7 * 86400 * SEC);
    CU_ASSERT_EQUAL(dur("1h30m"), 5400 * SEC);
    CU_ASSERT_EQUAL(dur("1d2h3m4s"), (86400 + 7200 + 180 + 4) * SEC);
    CU_ASSERT_EQUAL(dur("500ms"), 500000);
    CU_ASSERT_EQUAL(dur("1m30s500ms"), 90 * SEC + 500000);
    CU_ASSERT_EQUAL(dur("0"), 0);
    CU_ASSERT_EQUAL(dur("0s"), 0);
    CU_ASSERT_EQUAL(dur("3600"), 3600 * SEC);
    CU_ASSERT_EQUAL(dur("90m"), 5400 * SEC);
    const char *bad[] = {"",
                         "h",
                         "-1h",
                         "5x",
                         "1h30",
                         "30m1h",
                         "1h1h",
                         "1.5h",
                         " 2h",
                         "2h ",
                         "2 h",
                         "2H",
                         "+5",
                         "ms",
                         "1hm",
                         "1s1s",
                         "99999999999999999999",
                         "9999999999999999d",
                         "106751991167d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        if (time_parse_duration(bad[i], &us))
            CU_FAIL(bad[i]);
        CU_ASSERT_EQUAL(us, 42);
    }
    CU_ASSERT_EQUAL(dur("106751991d"), INT64_C(106751991) * 86400 * SEC);
}

static void test_now(void)
{
    int64_t now = time_now_us();
    CU_ASSERT(now > iso_us("2024-01-01"));
    CU_ASSERT(now < iso_us("2100-01-01"));
    CU_ASSERT(time_now_us() >= now);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("timeutil", NULL, NULL);
    CU_add_test(s, "iso forms", test_iso_forms);
    CU_add_test(s, "iso offsets", test_iso_offsets);
    CU_add_test(s, "iso fraction", test_iso_fraction);
    CU_add_test(s, "iso calendar", test_iso_calendar);
    CU_add_test(s, "iso before epoch", test_iso_before_epoch);
    CU_add_test(s, "iso rejects", test_iso_rejects);
    CU_add_test(s, "calendar exhaustive", test_calendar_exhaustive);
    CU_add_test(s, "independent of TZ", test_independent_of_tz);
    CU_add_test(s, "unix", test_unix);
    CU_add_test(s, "duration", test_duration);
    CU_add_test(s, "now", test_now);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
