/* field: reading one value of a record (extract/json_stream.h) under the rules of
 * transform/value.h. Every mapping reads its records through these, so the four
 * sources refuse the same things with the same reasons.
 *
 * Each function reads the field at path ("attributes.title", "lines.0.id") and
 * returns FE_OK, or FE_EINVAL with err holding a one-line reason that names the
 * path and quotes at most FIELD_SHOW_MAX printable ASCII bytes of the value (never
 * raw bytes, so the reason stays valid UTF-8):
 *   "PATH contains a NUL byte", "PATH is not valid UTF-8", "record without PATH",
 *   "PATH is missing", "PATH: 'v' is not a decimal", "PATH: 'v' is out of range
 *   (numeric(20,4))", "PATH: 'v' is not a date-time", "PATH: 'v' is not unix
 *   seconds", "PATH: 'v' is out of range (years 1..9999)", "PATH: 'v' is not a date
 *   (YYYY-MM-DD)".
 * "Absent" means no such field or JSON null. Text is a JSON string or a number's
 * text; booleans and containers read as absent. Strings returned point into the
 * record (json_field.value) and live as long as it. */
#ifndef FE_FIELD_H
#define FE_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/decimal.h"
#include "core/err.h"
#include "core/timeutil.h"
#include "extract/json_stream.h"

/* Longest piece of a bad value quoted in a reason. */
#define FIELD_SHOW_MAX 40

/* Writes a printable-ASCII excerpt of v[0..len) into dst (n bytes): other bytes
 * (and quotes) become '?', a cut value ends with "...". Every registered secret
 * (core/log.h) is masked in the whole value before the cut, so no piece of one
 * shows. Returns dst. */
const char *field_show(const char *v, size_t len, char *dst, size_t n);

/* Text at path, checked: *out NULL when absent; "" is kept. */
fe_rc field_text(const json_rec *r, const char *path, const char **out, fe_err *err) FE_MUST_CHECK;
/* Like field_text, but "" gives NULL too (optional values). */
fe_rc field_text_opt(const json_rec *r, const char *path, const char **out,
                     fe_err *err) FE_MUST_CHECK;
/* Same check for text that does not come from a record (a report's CSV column):
 * what names it in the reason. len is the text's true length. */
fe_rc field_check_text(const char *what, const char *s, size_t len, fe_err *err) FE_MUST_CHECK;

/* A required id: text as above; absent or "" is "record without PATH". "0" is an id. */
fe_rc field_id(const json_rec *r, const char *path, const char **out, fe_err *err) FE_MUST_CHECK;
/* The id at path when field_id accepts it, else NULL (absent, "", a NUL byte,
 * invalid UTF-8), without a reason: for a reject's record_id, which must never be
 * an id cut at a NUL, and for filters that let a refused id through to the mapping
 * that rejects its record. */
const char *field_id_or_null(const json_rec *r, const char *path);

/* An amount from a JSON number or a decimal string, divided by scale (1, 10, 100,
 * 1000 or 10000: minor units). *present = false and out untouched when absent or "". */
fe_rc field_decimal(const json_rec *r, const char *path, long scale, decimal *out, bool *present,
                    fe_err *err) FE_MUST_CHECK;
/* Same, required: absent is "PATH is missing". */
fe_rc field_decimal_req(const json_rec *r, const char *path, long scale, decimal *out,
                        fe_err *err) FE_MUST_CHECK;
/* Same check for decimal text that does not come from a record; what names it. */
fe_rc field_check_decimal(const char *what, const char *s, size_t len, long scale, decimal *out,
                          fe_err *err) FE_MUST_CHECK;

/* An optional amount as the warehouse's text: field_decimal, then *text = the
 * amount formatted into dst (DECIMAL_TEXT_MAX bytes), or NULL when absent; *value
 * (may be NULL) gets the amount when present and is untouched otherwise. */
fe_rc field_decimal_text(const json_rec *r, const char *path, long scale,
                         char dst[DECIMAL_TEXT_MAX], const char **text, decimal *value,
                         fe_err *err) FE_MUST_CHECK;

/* An ISO 8601 date-time string (timeutil's forms), as microseconds UTC within the
 * instant range of value.h. *present = false when absent or "". */
fe_rc field_time(const json_rec *r, const char *path, int64_t *out, bool *present,
                 fe_err *err) FE_MUST_CHECK;
/* An optional date-time as the warehouse's text: field_time, then *text = the
 * canonical form (time_format_iso) written into dst (TIME_TEXT_MAX bytes), or NULL
 * when absent. */
fe_rc field_time_text(const json_rec *r, const char *path, char dst[TIME_TEXT_MAX],
                      const char **text, fe_err *err) FE_MUST_CHECK;
/* Unix seconds (a number or a string of one), same range and conventions. */
fe_rc field_unix_time(const json_rec *r, const char *path, int64_t *out, bool *present,
                      fe_err *err) FE_MUST_CHECK;
/* A date "YYYY-MM-DD" within the date range, copied into out (11 bytes); "" when
 * absent or "". */
fe_rc field_date(const json_rec *r, const char *path, char out[11], fe_err *err) FE_MUST_CHECK;

/* True when the field is JSON true or the exact string "true". */
bool field_true(const json_rec *r, const char *path);
/* JSON true / false; def when absent or of another type. */
bool field_bool(const json_rec *r, const char *path, bool def);

/* True when text (a value read by the functions above; NULL = absent) is exactly
 * literal. */
bool field_is(const char *text, const char *literal);
/* True when text (NULL = absent) is exactly one of the n literals of list. */
bool field_is_one_of(const char *text, const char *const *list, size_t n);

/* The length of the array at prefix ("products") as the record's flat paths show
 * it: 1 + the highest index N of a path "prefix.N" or "prefix.N.<rest>" with N
 * below max; 0 when there is none. *beyond (may be NULL) is set true when some
 * path "prefix.<digit>..." has no such index (N >= max, or not all digits up to
 * the next '.'): the caller decides whether that refuses the record. */
size_t field_array_len(const json_rec *r, const char *prefix, size_t max, bool *beyond);

/* A currency code at path: the text is checked as above, then *out = the upper-cased
 * code written into dst (4 bytes), or NULL (absent, "", or not three letters). */
fe_rc field_currency(const json_rec *r, const char *path, char dst[4], const char **out,
                     fe_err *err) FE_MUST_CHECK;

/* A sink's failure must not read as a reject of the record (the mappings' contract):
 * FE_EINVAL becomes FE_EABORT (in err too). */
fe_rc field_sink_rc(fe_rc rc, fe_err *err);

#endif
