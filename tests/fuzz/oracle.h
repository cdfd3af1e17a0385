/* oracle: an independent judge of staged rows, for the fuzzers and the corpus
 * replay test. It parses one row in the COPY text form the loader sends to
 * PostgreSQL (fields apart by tabs, \N for NULL, backslash escapes) and checks
 * every field against the type of the warehouse column it ends in, the way the
 * server would: text valid UTF-8 without NUL, numeric(20,4), timestamptz and
 * date within the warehouse's range (business dates in years 1..9999 in every
 * time zone), int, boolean, char(3), the CHECK lists, and the NOT NULL or
 * non-empty ids the loader requires.
 *
 * It shares no code with transform/ (decimal, timeutil, utf8, value, field):
 * what it verifies must not be the helpers it verifies with. */
#ifndef FE_FUZZ_ORACLE_H
#define FE_FUZZ_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include "transform/rows.h"

/* Checks the row line[0..len) (no trailing newline) of staging table t. True when
 * PostgreSQL would take every field; otherwise false with why (size n) naming the
 * column and the problem. */
bool oracle_row(stage_table t, const char *line, size_t len, char *why, size_t n);

/* Name of a staging table ("order_line"), for messages. */
const char *oracle_table_name(stage_table t);

/* True when s[0..len) is valid UTF-8 without a NUL byte (decoded independently of
 * core/utf8). */
bool oracle_text_ok(const char *s, size_t len);

#endif
