/* value: PostgreSQL's rules for staged values. See value.h. */
#include "transform/value.h"

#include <string.h>

#include "core/timeutil.h"
#include "core/utf8.h"

#define US_PER_DAY (INT64_C(86400) * TIME_US_PER_SEC)

const char *value_text_problem(const char *s, size_t len)
{
    if (len > 0 && memchr(s, '\0', len))
        return "contains a NUL byte";
    if (!utf8_valid(s, len))
        return "is not valid UTF-8";
    return NULL;
}

bool value_time_ok(int64_t micros)
{
    /* Both bounds are whole days: the first and the last day of the date range are
     * the margin. */
    int64_t lo = (time_days_from_civil(VALUE_YEAR_MIN, 1, 1) + 1) * US_PER_DAY;
    int64_t hi = time_days_from_civil(VALUE_YEAR_MAX, 12, 31) * US_PER_DAY;
    return micros >= lo && micros < hi;
}

bool value_date_ok(int year, int month, int day)
{
    return year >= VALUE_YEAR_MIN && year <= VALUE_YEAR_MAX && time_valid_date(year, month, day);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

bool value_date_text_ok(const char *s, size_t len)
{
    if (!s || len != 10 || s[4] != '-' || s[7] != '-')
        return false;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    return y >= 0 && m >= 0 && d >= 0 && value_date_ok(y, m, d);
}

bool value_amount_ok(decimal d)
{
    return decimal_fits(d, DECIMAL_MAX_INT_DIGITS);
}

const char *value_currency(const char *s, size_t len, char dst[4])
{
    if (!s || len != 3)
        return NULL;
    for (size_t i = 0; i < 3; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return NULL;
        dst[i] = c;
    }
    dst[3] = '\0';
    return dst;
}

const char *value_currency_str(const char *s, char dst[4])
{
    return s ? value_currency(s, strlen(s), dst) : NULL;
}
