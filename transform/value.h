/* value: PostgreSQL's rules for the values flowetl stages, one rule set for every
 * source. A mapping checks each value it takes from a record against them (through
 * transform/field.h, or directly for values that do not come from a json_rec)
 * before it hands a row over, so a value the warehouse would refuse becomes one
 * reject of its record, never a failed COPY or merge that blocks the stream. The
 * rules, also in the README ("Data rules"):
 *   text       valid UTF-8 without NUL bytes: PostgreSQL text cannot hold U+0000, and
 *              a value cut at a NUL could make two ids collide;
 *   ids        text as above and not empty; "0" is an id like any other;
 *   amounts    numeric(20,4): at most 16 integer digits after rounding to 4
 *              decimals; the same for every sum, difference, product and quotient
 *              computed from them (the _checked forms of decimal.h);
 *   instants   from 0001-01-02T00:00:00Z up to (not including) 9999-12-31T00:00:00Z.
 *              timestamptz itself goes further, but the loader turns an instant
 *              into a business date, (t AT TIME ZONE zone)::date, and that date
 *              into a dim_date key YYYYMMDD; a day of margin at both ends keeps the
 *              date within years 1..9999 in every time zone;
 *   dates      0001-01-01..9999-12-31, real calendar days (there is no year 0);
 *   currencies three ASCII letters (the warehouse's char(3)), upper-cased; any
 *              other code is stored as NULL (unknown), the record is kept.
 * All functions are pure. */
#ifndef FE_VALUE_H
#define FE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/decimal.h"

#define VALUE_YEAR_MIN 1
#define VALUE_YEAR_MAX 9999

/* NULL when s[0..len) is text PostgreSQL stores as it is; otherwise what is wrong
 * with it, for a reason after the field's name: "contains a NUL byte" or "is not
 * valid UTF-8" (a static string). */
const char *value_text_problem(const char *s, size_t len);

/* True when the instant (microseconds since the epoch, UTC) is in the range above. */
bool value_time_ok(int64_t micros);

/* True when year-month-day is a calendar day of years VALUE_YEAR_MIN..MAX. */
bool value_date_ok(int year, int month, int day);

/* True when s[0..len) is exactly "YYYY-MM-DD" naming such a day. */
bool value_date_text_ok(const char *s, size_t len);

/* True when the amount fits numeric(20,4). */
bool value_amount_ok(decimal d);

/* The upper-cased ISO 4217 code of s[0..len) written into dst (4 bytes), or NULL
 * when s is NULL, empty or not three ASCII letters (e.g. Goflow's "unknown"). */
const char *value_currency(const char *s, size_t len, char dst[4]);
/* The same for a C string (NULL gives NULL): a configured code, a parsed column. */
const char *value_currency_str(const char *s, char dst[4]);

#endif
