/* timeutil: timestamps as microseconds since the Unix epoch, UTC.
 * Parses the ISO-8601 forms the APIs send and writes one canonical form that
 * PostgreSQL reads as timestamptz. Business dates in a source's time zone are
 * computed by PostgreSQL (AT TIME ZONE) in the merge, from the zone name. */
#ifndef FE_TIMEUTIL_H
#define FE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_TEXT_MAX 40

/* Accepts "2022-07-15T17:20:06+00:00", "...Z", "...+0300", fractional seconds of any
 * length (truncated to microseconds: Goflow sends 7 digits), "2022-07-18 10:25:01"
 * (no offset: read as UTC), and a bare date "2022-07-15" (midnight UTC).
 * Returns false on anything else, including impossible dates. */
bool time_parse_iso(const char *text, size_t len, int64_t *micros);

/* Unix seconds, as text ("1700000000"), possibly with a fraction. */
bool time_parse_unix(const char *text, size_t len, int64_t *micros);

/* "2022-07-15T17:20:06.123456Z" (fraction only when non-zero). dst >= TIME_TEXT_MAX. */
char *time_format_iso(int64_t micros, char *dst);
/* "2022-07-15" (UTC date of micros). dst >= 11. */
char *time_format_date(int64_t micros, char *dst);

/* Parses a duration such as "2h", "30m", "90s", "7d", "1h30m", or a bare number of
 * seconds. Returns false on anything else. */
bool time_parse_duration(const char *text, int64_t *micros);

/* Wall clock now, microseconds since the epoch. */
int64_t time_now_us(void);

#endif
