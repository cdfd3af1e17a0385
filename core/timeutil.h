/* timeutil: timestamps as microseconds since the Unix epoch, UTC.
 * Parses the ISO-8601 forms the APIs send and writes one canonical form that
 * PostgreSQL reads as timestamptz. Business dates in a source's time zone are
 * computed by PostgreSQL (AT TIME ZONE) in the merge, from the zone name.
 * All functions are pure and thread-safe (no TZ, no locale). */
#ifndef FE_TIMEUTIL_H
#define FE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_TEXT_MAX 40
#define TIME_US_PER_SEC INT64_C(1000000)

/* Accepts "2022-07-15T17:20:06+00:00", "...Z", "...+0300", "...+03", fractional seconds
 * of any length after '.' or ',' (truncated to microseconds: Goflow sends 7 digits),
 * "2022-07-18 10:25:01" (no offset: read as UTC), minutes without seconds
 * ("2022-07-15T17:20Z"), and a bare date "2022-07-15" (midnight UTC). 't' and 'z' may be
 * lower case. Years 0000-9999; hour 00-23; offsets up to +-23:59.
 * text need not be NUL-terminated. Returns false on anything else (impossible dates
 * such as 2023-02-29, trailing text, white space), *micros untouched. */
bool time_parse_iso(const char *text, size_t len, int64_t *micros);

/* Unix seconds, as text ("1700000000", "-5"), possibly with a fraction ("1700000000.25",
 * truncated to microseconds). Returns false on anything else or on overflow. */
bool time_parse_unix(const char *text, size_t len, int64_t *micros);

/* "2022-07-15T17:20:06.123456Z" (fraction only when non-zero). dst >= TIME_TEXT_MAX.
 * Returns dst. */
char *time_format_iso(int64_t micros, char *dst);
/* "2022-07-15" (UTC date of micros). dst >= 11. Returns dst. */
char *time_format_date(int64_t micros, char *dst);

/* Parses a duration such as "2h", "30m", "90s", "7d", "1h30m", "500ms", "0", or a bare
 * number of seconds ("3600"). Units: d, h, m, s, ms, each at most once and in that
 * order. Returns false on anything else ("", "h", "-1h", "5x", "1h30"), *micros
 * untouched. */
bool time_parse_duration(const char *text, int64_t *micros);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31; not
 * validated: callers check with time_valid_date first). */
int64_t time_days_from_civil(int year, int month, int day);
/* True when year-month-day exists in the proleptic Gregorian calendar. */
bool time_valid_date(int year, int month, int day);

/* Wall clock now, microseconds since the epoch. */
int64_t time_now_us(void);

#endif
