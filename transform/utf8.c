#include "utf8.h"

/* Allowed range of the second byte of a sequence, by lead byte. Narrower ranges
 * than 80..BF exclude overlongs (E0, F0), surrogates U+D800..DFFF (ED) and code
 * points above U+10FFFF (F4). Returns the sequence length, 0 for a byte that
 * cannot start a sequence (continuation bytes, C0, C1, F5..FF). */
static int lead_info(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0)
            *lo = 0xA0;
        else if (c == 0xED)
            *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0)
            *lo = 0x90;
        else if (c == 0xF4)
            *hi = 0x8F;
        return 4;
    }
    return 0;
}

static bool is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        }
        unsigned char lo, hi;
        int n = lead_info(c, &lo, &hi);
        if (n == 0 || len - i < (size_t)n || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (int k = 2; k < n; k++) {
            if (!is_cont(p[i + (size_t)k]))
                return false;
        }
        i += (size_t)n;
    }
    return true;
}
