/* decimal: exact money and quantities. A value is a signed integer count of
 * 1/10000 units (numeric(20,4) in the warehouse), parsed from the text the API
 * sent (a JSON number's raw text or a decimal string). No value passes through
 * a double. Digits beyond the 4th decimal are rounded half away from zero, the
 * way PostgreSQL rounds when it stores numeric(20,4). */
#ifndef FE_DECIMAL_H
#define FE_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

#define DECIMAL_SCALE 4
/* decimal_parse rejects values whose integer part has more digits than this. */
#define DECIMAL_MAX_INT_DIGITS 16 /* numeric(20,4) in the warehouse: 16 integer digits */
/* Longest text decimal_format writes, NUL included. */
#define DECIMAL_TEXT_MAX 48

typedef struct {
    __int128 units; /* value * 10^4 */
} decimal;

/* What decimal_read found. */
typedef enum {
    DECIMAL_OK = 0,
    DECIMAL_SYNTAX, /* not a decimal number */
    DECIMAL_RANGE   /* a number, but beyond numeric(20,4) (or its exponent beyond +-1000) */
} decimal_status;

/* Accepts "-12", "1990.00", "5142.5", ".5", "5.", "1e3", "2.5E-2", "+7", " 12 " (outer
 * white space). Rejects empty text, "NaN", "Infinity", "1,5", "1.2.3", "--1", inner
 * spaces, values with more than DECIMAL_MAX_INT_DIGITS integer digits (after rounding)
 * and exponents beyond +-1000. text need not be NUL-terminated; a NUL byte inside len
 * is rejected. Returns false on rejection (out untouched). */
bool decimal_parse(const char *text, size_t len, decimal *out);
/* Same, for minor units: "12345" with scale 100 -> 123.45. scale is 1, 10, 100, 1000 or
 * 10000 (anything else is rejected). Integer input is exact; digits that end up beyond
 * the 4th decimal are rounded as in decimal_parse. */
bool decimal_parse_scaled(const char *text, size_t len, long scale, decimal *out);
/* decimal_parse_scaled (scale 1 = decimal_parse) telling a malformed number from one
 * out of range. out is set only on DECIMAL_OK; a bad scale is DECIMAL_SYNTAX. */
decimal_status decimal_read(const char *text, size_t len, long scale, decimal *out);

decimal decimal_zero(void);
/* add/sub/neg/abs are exact and unchecked: __int128 leaves room for ~10^14 sums of
 * parsed values, but a sum can leave numeric(20,4): values that are staged use the
 * _checked forms below. */
decimal decimal_add(decimal a, decimal b);
decimal decimal_sub(decimal a, decimal b);
decimal decimal_neg(decimal a);
decimal decimal_abs(decimal a);
/* -1, 0 or 1. */
int decimal_cmp(decimal a, decimal b);
bool decimal_is_zero(decimal a);
/* True when |a| < 10^int_digits, i.e. the value fits a numeric(int_digits + 4, 4). */
bool decimal_fits(decimal a, int int_digits);
/* a * b, rounded to 4 decimals half away from zero. The intermediate product is exact
 * (256-bit); a result that does not fit __int128 saturates to the largest value of its
 * sign (use decimal_mul_checked to detect it). */
decimal decimal_mul(decimal a, decimal b);
/* a * pct / 100 (percent discounts), rounded; saturates like decimal_mul. */
decimal decimal_percent(decimal a, decimal pct);
/* Same as decimal_mul / decimal_percent, but return false (out untouched) when the
 * result has more than DECIMAL_MAX_INT_DIGITS integer digits. */
bool decimal_mul_checked(decimal a, decimal b, decimal *out);
bool decimal_percent_checked(decimal a, decimal pct, decimal *out);
/* a + b, a - b: false (out untouched) when the result has more than
 * DECIMAL_MAX_INT_DIGITS integer digits, or when __int128 itself overflows (operands
 * that did not come from decimal_parse). */
bool decimal_add_checked(decimal a, decimal b, decimal *out);
bool decimal_sub_checked(decimal a, decimal b, decimal *out);
/* a / b rounded to 4 decimals half away from zero; false (out untouched) when b is
 * zero or the quotient has more than DECIMAL_MAX_INT_DIGITS integer digits. */
bool decimal_div_checked(decimal a, decimal b, decimal *out);

/* Writes canonical text with exactly 4 decimals: "-1990.5000", "0.0000" (never
 * "-0.0000"). dst >= DECIMAL_TEXT_MAX. Returns dst. */
char *decimal_format(decimal a, char *dst);

#endif
