/* sb_json: a JSON writer that appends to an sb_buf. It inserts the commas itself
 * (a small stack remembers whether the current container already has a member),
 * escapes strings correctly for any UTF-8 input, and renders exact money from
 * 1/10000 units in the number or string styles real APIs mix.
 *
 * Usage: sb_json_init(&j, &buf); sb_json_obj(&j); sb_json_key(&j, "a");
 * sb_json_int(&j, 1); sb_json_end(&j); ... Errors surface through the buffer's
 * sticky failure flag (sb_buf_failed); nesting deeper than SB_JSON_MAX_DEPTH also
 * marks the buffer failed. */
#ifndef SB_JSON_H
#define SB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"

#define SB_JSON_MAX_DEPTH 32

typedef struct {
    sb_buf *out;
    int depth;
    bool after_key;
    bool has_member[SB_JSON_MAX_DEPTH];
    char closer[SB_JSON_MAX_DEPTH]; /* '}' or ']' per open container */
} sb_json;

/* How a decimal amount (1/10000 units) is written. Values that need more decimals
 * than the style's minimum always get them, so no style ever loses precision. */
typedef enum {
    SB_MONEY_NUMBER,     /* 2090, 5142.5, 76.85 */
    SB_MONEY_NUMBER2,    /* 2090.00, 5142.50 */
    SB_MONEY_STRING2,    /* "1990.00" */
    SB_MONEY_STRING,     /* "1990", "76.85" */
    SB_MONEY_STYLE_COUNT /* not a style */
} sb_money_style;

void sb_json_init(sb_json *j, sb_buf *out);

void sb_json_obj(sb_json *j);
void sb_json_arr(sb_json *j);
/* Closes the innermost object or array. */
void sb_json_end(sb_json *j);
void sb_json_key(sb_json *j, const char *key);

void sb_json_str(sb_json *j, const char *s);
void sb_json_strn(sb_json *j, const char *s, size_t len);
void sb_json_int(sb_json *j, int64_t v);
void sb_json_bool(sb_json *j, bool v);
void sb_json_null(sb_json *j);
/* Writes text verbatim as one value (the caller guarantees it is valid JSON). */
void sb_json_raw(sb_json *j, const char *text);
void sb_json_money(sb_json *j, int64_t v4, sb_money_style style);

/* Shorthands for "key": value. */
void sb_json_kstr(sb_json *j, const char *key, const char *s);
void sb_json_kint(sb_json *j, const char *key, int64_t v);
void sb_json_kbool(sb_json *j, const char *key, bool v);
void sb_json_knull(sb_json *j, const char *key);
void sb_json_kmoney(sb_json *j, const char *key, int64_t v4, sb_money_style style);

/* Appends the JSON string literal of s[0..len) (quotes included) to b. */
void sb_json_escape(sb_buf *b, const char *s, size_t len);
/* Appends v4 (1/10000 units) as a plain decimal with at least min_decimals decimals
 * and no trailing zeros beyond them: "2090", "5142.5", "1152.775". */
void sb_json_put_decimal(sb_buf *b, int64_t v4, int min_decimals);

#endif
