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
/* Longest text decimal_format writes, NUL included. */
#define DECIMAL_TEXT_MAX 48

typedef struct {
    __int128 units; /* value * 10^4 */
} decimal;

/* Accepts "-12", "1990.00", "5142.5", "1e3", "2.5E-2", "+7", " 12 " (outer spaces).
 * Rejects empty text, "NaN", "Infinity", "1,5", values with more than 20 integer digits.
 * Returns false on rejection (out untouched). */
bool decimal_parse(const char *text, size_t len, decimal *out);
/* Same, for minor units: "12345" with scale 100 -> 123.45. scale is 1, 10, 100, 1000 or 10000. */
bool decimal_parse_scaled(const char *text, size_t len, long scale, decimal *out);

decimal decimal_zero(void);
decimal decimal_add(decimal a, decimal b);
decimal decimal_sub(decimal a, decimal b);
decimal decimal_neg(decimal a);
decimal decimal_abs(decimal a);
int decimal_cmp(decimal a, decimal b);
bool decimal_is_zero(decimal a);
/* a * b, rounded to 4 decimals half away from zero. */
decimal decimal_mul(decimal a, decimal b);
/* a * pct / 100 (percent discounts), rounded. */
decimal decimal_percent(decimal a, decimal pct);

/* Writes canonical text with exactly 4 decimals: "-1990.5000". dst >= DECIMAL_TEXT_MAX.
 * Returns dst. */
char *decimal_format(decimal a, char *dst);

#endif
