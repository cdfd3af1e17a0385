/* sb_time: the timestamps of the sandbox's data. Times are unix seconds (UTC);
 * they are written the way the vendors write them and parsed from the query
 * strings clients send. */
#ifndef SB_TIME_H
#define SB_TIME_H

#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"

/* 2026-01-01T00:00:00Z: where the sandbox clock starts. */
#define SB_CLOCK_START INT64_C(1767225600)
#define SB_DAY 86400
#define SB_HOUR 3600

/* Fills out (>= 26 bytes) with "YYYY-MM-DDTHH:MM:SS+00:00". */
void sb_time_iso(int64_t t, char *out);
/* Fills out (>= 11 bytes) with "YYYY-MM-DD". */
void sb_time_date(int64_t t, char *out);
/* Appends "YYYY-MM-DDTHH:MM:SSZ". */
void sb_time_put_z(sb_buf *b, int64_t t);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.frac]]" with "Z", "+HH:MM", "+HHMM",
 * or no zone (read as UTC); a space may replace the 'T' and the '+' of the zone
 * (an unencoded '+' reaches us as a space). Returns false on anything
 * else. */
bool sb_time_parse(const char *s, int64_t *out);

/* Milliseconds of the real (wall) clock: token lifetimes run on real time. */
int64_t sb_time_real_ms(void);

#endif
