#include "core/decimal.h"

#include <stdint.h>

typedef unsigned __int128 u128;

#define U128_INT_MAX (((u128)1 << 127) - 1)
/* Largest |exponent| accepted, as PostgreSQL's numeric input does. */
#define EXPONENT_MAX 1000

/* 10^n for 0 <= n <= 38. */
static u128 pow10_u128(int n)
{
    u128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

/* Magnitude bound of parsed values in units: 10^(20 + 4). */
static u128 units_limit(void)
{
    return pow10_u128(DECIMAL_MAX_INT_DIGITS + DECIMAL_SCALE);
}

static u128 magnitude(__int128 v)
{
    return v < 0 ? -(u128)v : (u128)v;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The mantissa's digits, split by the decimal point. */
typedef struct {
    const char *ip; /* integer part digits */
    size_t nint;
    const char *fp; /* fraction digits */
    size_t nfrac;
} mantissa;

static int mantissa_digit(const mantissa *m, size_t k)
{
    return k < m->nint ? m->ip[k] - '0' : m->fp[k - m->nint] - '0';
}

/* Reads "[eE][+-]digits" at s[*i..len). DECIMAL_SYNTAX on a malformed exponent,
 * DECIMAL_RANGE on one beyond +-EXPONENT_MAX (all its digits are read). Leaves *exp
 * at 0 when there is no exponent. */
static decimal_status read_exponent(const char *s, size_t len, size_t *i, long *exp)
{
    *exp = 0;
    if (*i >= len || (s[*i] != 'e' && s[*i] != 'E'))
        return DECIMAL_OK;
    (*i)++;
    bool neg = false, too_big = false;
    if (*i < len && (s[*i] == '+' || s[*i] == '-'))
        neg = s[(*i)++] == '-';
    if (*i >= len || !is_digit(s[*i]))
        return DECIMAL_SYNTAX;
    long v = 0;
    for (; *i < len && is_digit(s[*i]); (*i)++) {
        if (!too_big)
            v = v * 10 + (s[*i] - '0');
        too_big = too_big || v > EXPONENT_MAX;
    }
    *exp = neg ? -v : v;
    return too_big ? DECIMAL_RANGE : DECIMAL_OK;
}

/* Turns the mantissa scaled by 10^shift into an integer magnitude, rounding half
 * away from zero on the first dropped digit. False when it reaches units_limit(). */
static bool mantissa_to_units(const mantissa *m, long shift, u128 *units)
{
    const u128 limit = units_limit();
    size_t ndigits = m->nint + m->nfrac;
    /* Mantissa digits that land left of the units' decimal point. */
    long keep = (long)ndigits + shift;
    u128 u = 0;
    bool round_up = false;
    for (size_t k = 0; k < ndigits; k++) {
        int d = mantissa_digit(m, k);
        if ((long)k == keep) {
            round_up = d >= 5;
            break;
        }
        if ((long)k > keep)
            break;
        u = u * 10 + (u128)d;
        if (u >= limit)
            return false;
    }
    for (long k = (long)ndigits; k < keep && u != 0; k++) {
        u *= 10;
        if (u >= limit)
            return false;
    }
    if (round_up)
        u++;
    if (u >= limit)
        return false;
    *units = u;
    return true;
}

/* decimal_read with the value divided by 10^minor_digits. */
static decimal_status parse_shifted(const char *text, size_t len, int minor_digits, decimal *out)
{
    while (len > 0 && is_space(*text)) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1]))
        len--;
    size_t i = 0;
    bool neg = false;
    if (i < len && (text[i] == '+' || text[i] == '-'))
        neg = text[i++] == '-';
    mantissa m = {.ip = text + i};
    while (i < len && is_digit(text[i]))
        i++;
    m.nint = (size_t)(text + i - m.ip);
    m.fp = text + i;
    if (i < len && text[i] == '.') {
        m.fp = text + ++i;
        while (i < len && is_digit(text[i]))
            i++;
        m.nfrac = (size_t)(text + i - m.fp);
    }
    if (m.nint + m.nfrac == 0)
        return DECIMAL_SYNTAX;
    long exp;
    decimal_status st = read_exponent(text, len, &i, &exp);
    if (st == DECIMAL_SYNTAX || i != len)
        return DECIMAL_SYNTAX;
    if (st == DECIMAL_RANGE)
        return DECIMAL_RANGE;
    u128 u;
    if (!mantissa_to_units(&m, exp - (long)m.nfrac + DECIMAL_SCALE - minor_digits, &u))
        return DECIMAL_RANGE;
    out->units = neg ? -(__int128)u : (__int128)u;
    return DECIMAL_OK;
}

decimal_status decimal_read(const char *text, size_t len, long scale, decimal *out)
{
    int digits = 0;
    long s = 1;
    while (s < scale && digits < DECIMAL_SCALE) {
        s *= 10;
        digits++;
    }
    if (s != scale)
        return DECIMAL_SYNTAX;
    return parse_shifted(text, len, digits, out);
}

bool decimal_parse(const char *text, size_t len, decimal *out)
{
    return decimal_read(text, len, 1, out) == DECIMAL_OK;
}

bool decimal_parse_scaled(const char *text, size_t len, long scale, decimal *out)
{
    return decimal_read(text, len, scale, out) == DECIMAL_OK;
}

decimal decimal_zero(void)
{
    return (decimal){0};
}

decimal decimal_add(decimal a, decimal b)
{
    return (decimal){a.units + b.units};
}

decimal decimal_sub(decimal a, decimal b)
{
    return (decimal){a.units - b.units};
}

decimal decimal_neg(decimal a)
{
    return (decimal){-a.units};
}

decimal decimal_abs(decimal a)
{
    return (decimal){a.units < 0 ? -a.units : a.units};
}

int decimal_cmp(decimal a, decimal b)
{
    return (a.units > b.units) - (a.units < b.units);
}

bool decimal_is_zero(decimal a)
{
    return a.units == 0;
}

bool decimal_fits(decimal a, int int_digits)
{
    if (int_digits < 0)
        return false;
    if (int_digits + DECIMAL_SCALE > 38)
        return true;
    return magnitude(a.units) < pow10_u128(int_digits + DECIMAL_SCALE);
}

/* 256-bit unsigned integer, least significant 64-bit limb first. */
typedef struct {
    uint64_t w[4];
} u256;

static u256 mul_wide(u128 x, u128 y)
{
    uint64_t a[2] = {(uint64_t)x, (uint64_t)(x >> 64)};
    uint64_t b[2] = {(uint64_t)y, (uint64_t)(y >> 64)};
    u256 r = {{0, 0, 0, 0}};
    for (int i = 0; i < 2; i++) {
        u128 carry = 0;
        for (int j = 0; j < 2; j++) {
            u128 t = (u128)a[i] * b[j] + r.w[i + j] + carry;
            r.w[i + j] = (uint64_t)t;
            carry = t >> 64;
        }
        r.w[i + 2] = (uint64_t)carry;
    }
    return r;
}

/* x /= d in place; returns the remainder. */
static uint64_t div_small(u256 *x, uint64_t d)
{
    u128 rem = 0;
    for (int i = 3; i >= 0; i--) {
        u128 cur = (rem << 64) | x->w[i];
        x->w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    return (uint64_t)rem;
}

static void inc_wide(u256 *x)
{
    for (int i = 0; i < 4 && ++x->w[i] == 0; i++)
        ;
}

/* round(a * b / divisor) half away from zero. False (with a saturated *out) when the
 * magnitude does not fit __int128. */
static bool mul_div_round(__int128 a, __int128 b, uint64_t divisor, __int128 *out)
{
    bool neg = (a < 0) != (b < 0);
    u256 p = mul_wide(magnitude(a), magnitude(b));
    uint64_t rem = div_small(&p, divisor);
    if (rem >= divisor - rem)
        inc_wide(&p);
    u128 q = ((u128)p.w[1] << 64) | p.w[0];
    if (p.w[3] != 0 || p.w[2] != 0 || q > U128_INT_MAX) {
        *out = neg ? -(__int128)U128_INT_MAX - 1 : (__int128)U128_INT_MAX;
        return false;
    }
    *out = neg ? -(__int128)q : (__int128)q;
    return true;
}

decimal decimal_mul(decimal a, decimal b)
{
    decimal r;
    (void)mul_div_round(a.units, b.units, 10000, &r.units);
    return r;
}

decimal decimal_percent(decimal a, decimal pct)
{
    decimal r;
    (void)mul_div_round(a.units, pct.units, 1000000, &r.units);
    return r;
}

bool decimal_mul_checked(decimal a, decimal b, decimal *out)
{
    decimal r;
    if (!mul_div_round(a.units, b.units, 10000, &r.units) ||
        !decimal_fits(r, DECIMAL_MAX_INT_DIGITS))
        return false;
    *out = r;
    return true;
}

bool decimal_percent_checked(decimal a, decimal pct, decimal *out)
{
    decimal r;
    if (!mul_div_round(a.units, pct.units, 1000000, &r.units) ||
        !decimal_fits(r, DECIMAL_MAX_INT_DIGITS))
        return false;
    *out = r;
    return true;
}

bool decimal_add_checked(decimal a, decimal b, decimal *out)
{
    decimal r;
    if (__builtin_add_overflow(a.units, b.units, &r.units) ||
        !decimal_fits(r, DECIMAL_MAX_INT_DIGITS))
        return false;
    *out = r;
    return true;
}

bool decimal_sub_checked(decimal a, decimal b, decimal *out)
{
    decimal r;
    if (__builtin_sub_overflow(a.units, b.units, &r.units) ||
        !decimal_fits(r, DECIMAL_MAX_INT_DIGITS))
        return false;
    *out = r;
    return true;
}

bool decimal_div_checked(decimal a, decimal b, decimal *out)
{
    __int128 num;
    if (b.units == 0 || __builtin_mul_overflow(a.units, (__int128)10000, &num))
        return false;
    /* The quotient of magnitudes, rounded half away from zero. */
    u128 n = magnitude(num), d = magnitude(b.units), q = n / d, r = n % d;
    if (r >= d - r)
        q++;
    if (q >= units_limit())
        return false;
    bool neg = (num < 0) != (b.units < 0);
    out->units = neg ? -(__int128)q : (__int128)q;
    return true;
}

char *decimal_format(decimal a, char *dst)
{
    u128 u = magnitude(a.units);
    char rev[DECIMAL_TEXT_MAX];
    size_t n = 0;
    /* Digits least significant first; at least one integer digit. */
    for (int k = 0; k < DECIMAL_SCALE || u != 0 || k == DECIMAL_SCALE; k++) {
        if (k == DECIMAL_SCALE)
            rev[n++] = '.';
        rev[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    }
    size_t o = 0;
    if (a.units < 0)
        dst[o++] = '-';
    while (n > 0)
        dst[o++] = rev[--n];
    dst[o] = '\0';
    return dst;
}
