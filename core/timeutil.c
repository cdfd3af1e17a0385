#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY INT64_C(86400)

/* Days 0000-03-01 .. 1970-01-01 in the proleptic Gregorian calendar. */
#define EPOCH_SHIFT_DAYS 719468
#define DAYS_PER_ERA 146097 /* 400 years */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Years are counted from March so that the leap day ends the year; a 400-year era
 * then has a fixed length and month lengths follow (153 * m + 2) / 5. */
int64_t time_days_from_civil(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * DAYS_PER_ERA + doe - EPOCH_SHIFT_DAYS;
}

static void civil_from_days(int64_t days, int *year, int *month, int *day)
{
    int64_t z = days + EPOCH_SHIFT_DAYS;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (*month <= 2));
}

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

bool time_valid_date(int year, int month, int day)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1)
        return false;
    int last = mdays[month - 1] + (month == 2 && is_leap(year));
    return day <= last;
}

/* A read position in text that is not necessarily NUL-terminated. */
typedef struct {
    const char *s;
    size_t len, i;
} cursor;

static bool at_end(const cursor *c)
{
    return c->i >= c->len;
}

static char peek(const cursor *c)
{
    return at_end(c) ? '\0' : c->s[c->i];
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool accept(cursor *c, char ch)
{
    if (at_end(c) || c->s[c->i] != ch)
        return false;
    c->i++;
    return true;
}

/* Exactly n digits. */
static bool read_digits(cursor *c, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (!is_digit(peek(c)))
            return false;
        v = v * 10 + (c->s[c->i++] - '0');
    }
    *out = v;
    return true;
}

/* One or more digits after the decimal mark; keeps the first 6 as microseconds. */
static bool read_fraction(cursor *c, int64_t *us)
{
    if (!is_digit(peek(c)))
        return false;
    int64_t v = 0;
    int n = 0;
    for (; is_digit(peek(c)); c->i++) {
        if (n < 6) {
            v = v * 10 + (c->s[c->i] - '0');
            n++;
        }
    }
    for (; n < 6; n++)
        v *= 10;
    *us = v;
    return true;
}

/* "Z", "+HH:MM", "+HHMM", "+HH" or nothing (UTC). Seconds east of UTC in *offset. */
static bool read_offset(cursor *c, int64_t *offset)
{
    *offset = 0;
    if (at_end(c) || accept(c, 'Z') || accept(c, 'z'))
        return true;
    int sign = accept(c, '+') ? 1 : accept(c, '-') ? -1 : 0;
    int hh, mm = 0;
    if (sign == 0 || !read_digits(c, 2, &hh))
        return false;
    if (!at_end(c)) {
        (void)accept(c, ':');
        if (!read_digits(c, 2, &mm))
            return false;
    }
    if (hh > 23 || mm > 59)
        return false;
    *offset = sign * (hh * 3600 + mm * 60);
    return true;
}

/* "HH:MM[:SS[.frac]]" into seconds of the day and microseconds. */
static bool read_time_of_day(cursor *c, int64_t *sod, int64_t *us)
{
    int hh, mi, ss = 0;
    *us = 0;
    if (!read_digits(c, 2, &hh) || !accept(c, ':') || !read_digits(c, 2, &mi))
        return false;
    if (accept(c, ':')) {
        if (!read_digits(c, 2, &ss))
            return false;
        if ((accept(c, '.') || accept(c, ',')) && !read_fraction(c, us))
            return false;
    }
    if (hh > 23 || mi > 59 || ss > 59)
        return false;
    *sod = hh * 3600 + mi * 60 + ss;
    return true;
}

bool time_parse_iso(const char *text, size_t len, int64_t *micros)
{
    cursor c = {text, len, 0};
    int y, mo, d;
    if (!read_digits(&c, 4, &y) || !accept(&c, '-') || !read_digits(&c, 2, &mo) ||
        !accept(&c, '-') || !read_digits(&c, 2, &d) || !time_valid_date(y, mo, d))
        return false;
    int64_t sod = 0, us = 0, offset = 0;
    if (!at_end(&c)) {
        if (!accept(&c, 'T') && !accept(&c, 't') && !accept(&c, ' '))
            return false;
        if (!read_time_of_day(&c, &sod, &us) || !read_offset(&c, &offset) || !at_end(&c))
            return false;
    }
    int64_t secs = time_days_from_civil(y, mo, d) * SECS_PER_DAY + sod - offset;
    *micros = secs * TIME_US_PER_SEC + us;
    return true;
}

bool time_parse_unix(const char *text, size_t len, int64_t *micros)
{
    cursor c = {text, len, 0};
    bool neg = accept(&c, '-');
    if (!neg)
        (void)accept(&c, '+');
    if (!is_digit(peek(&c)))
        return false;
    int64_t secs = 0, us = 0;
    for (; is_digit(peek(&c)); c.i++) {
        if (__builtin_mul_overflow(secs, 10, &secs) ||
            __builtin_add_overflow(secs, c.s[c.i] - '0', &secs))
            return false;
    }
    if (accept(&c, '.') && !read_fraction(&c, &us))
        return false;
    if (!at_end(&c))
        return false;
    int64_t total;
    if (__builtin_mul_overflow(secs, TIME_US_PER_SEC, &total) ||
        __builtin_add_overflow(total, us, &total))
        return false;
    *micros = neg ? -total : total;
    return true;
}

char *time_format_iso(int64_t micros, char *dst)
{
    int64_t secs = floor_div(micros, TIME_US_PER_SEC);
    int64_t us = micros - secs * TIME_US_PER_SEC;
    int64_t days = floor_div(secs, SECS_PER_DAY);
    int64_t sod = secs - days * SECS_PER_DAY;
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    int n = snprintf(dst, TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
    if (us != 0)
        n += snprintf(dst + n, TIME_TEXT_MAX - (size_t)n, ".%06d", (int)us);
    snprintf(dst + n, TIME_TEXT_MAX - (size_t)n, "Z");
    return dst;
}

char *time_format_date(int64_t micros, char *dst)
{
    int y, mo, d;
    civil_from_days(floor_div(floor_div(micros, TIME_US_PER_SEC), SECS_PER_DAY), &y, &mo, &d);
    /* The parsers accept 4-digit years only; the modulos let the compiler see the
     * text always fits in 11 bytes. */
    snprintf(dst, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)mo % 100u,
             (unsigned)d % 100u);
    return dst;
}

/* Unit suffix at c: its index in descending order of size and its length in
 * microseconds, or -1. "ms" is checked before "m". */
static int read_unit(cursor *c, int64_t *unit_us)
{
    if (accept(c, 'd')) {
        *unit_us = SECS_PER_DAY * TIME_US_PER_SEC;
        return 0;
    }
    if (accept(c, 'h')) {
        *unit_us = 3600 * TIME_US_PER_SEC;
        return 1;
    }
    if (accept(c, 'm')) {
        if (accept(c, 's')) {
            *unit_us = 1000;
            return 4;
        }
        *unit_us = 60 * TIME_US_PER_SEC;
        return 2;
    }
    if (accept(c, 's')) {
        *unit_us = TIME_US_PER_SEC;
        return 3;
    }
    return -1;
}

static bool read_count(cursor *c, int64_t *n)
{
    if (!is_digit(peek(c)))
        return false;
    *n = 0;
    for (; is_digit(peek(c)); c->i++) {
        if (__builtin_mul_overflow(*n, 10, n) || __builtin_add_overflow(*n, c->s[c->i] - '0', n))
            return false;
    }
    return true;
}

bool time_parse_duration(const char *text, int64_t *micros)
{
    cursor c = {text, strlen(text), 0};
    int64_t total = 0, n, unit_us, part;
    int last_unit = -1;
    if (!read_count(&c, &n))
        return false;
    if (at_end(&c)) { /* bare seconds */
        if (__builtin_mul_overflow(n, TIME_US_PER_SEC, &total))
            return false;
        *micros = total;
        return true;
    }
    for (;;) {
        int unit = read_unit(&c, &unit_us);
        if (unit <= last_unit || __builtin_mul_overflow(n, unit_us, &part) ||
            __builtin_add_overflow(total, part, &total))
            return false;
        last_unit = unit;
        if (at_end(&c))
            break;
        if (!read_count(&c, &n))
            return false;
    }
    *micros = total;
    return true;
}

int64_t time_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * TIME_US_PER_SEC + ts.tv_nsec / 1000;
}
