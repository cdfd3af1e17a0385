#include "extract/backoff.h"

#include <ctype.h>
#include <curl/curl.h>
#include <string.h>

#define US_PER_S 1000000LL
/* Larger delta-seconds are not a wait anyone means; treat them as malformed. */
#define RETRY_AFTER_MAX_S (100LL * 365 * 24 * 3600)

int64_t backoff_delay_us(const backoff_policy *p, int attempt, uint64_t rnd)
{
    if (p->base_us <= 0 || p->max_us <= 0)
        return 0;
    int64_t cap = p->base_us < p->max_us ? p->base_us : p->max_us;
    for (int i = 1; i < attempt && cap < p->max_us; i++)
        cap = cap > p->max_us / 2 ? p->max_us : cap * 2;
    int64_t low = cap / 2;
    return low + (int64_t)(rnd % (uint64_t)(cap - low + 1));
}

/* Parses "SECONDS" or "SECONDS.FRACTION" exactly (no double): digits only, at
 * most microsecond precision kept. Returns false on anything else. */
static bool parse_delta_seconds(const char *s, size_t len, int64_t *delay_us)
{
    int64_t secs = 0, frac = 0, scale = US_PER_S;
    size_t i = 0;
    for (; i < len && isdigit((unsigned char)s[i]); i++) {
        secs = secs * 10 + (s[i] - '0');
        if (secs > RETRY_AFTER_MAX_S)
            return false;
    }
    if (i == 0)
        return false;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        for (; i < len && isdigit((unsigned char)s[i]); i++) {
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
        }
        if (i == start)
            return false;
    }
    if (i != len)
        return false;
    *delay_us = secs * US_PER_S + frac;
    return true;
}

bool backoff_parse_retry_after(const char *value, int64_t now_epoch_s, int64_t *delay_us)
{
    if (!value)
        return false;
    while (isspace((unsigned char)*value))
        value++;
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len == 0)
        return false;
    if (parse_delta_seconds(value, len, delay_us))
        return true;

    /* HTTP-date (IMF-fixdate and the obsolete forms): curl_getdate needs a
     * NUL-terminated copy without the trailing blanks. */
    char date[128];
    if (len >= sizeof date)
        return false;
    memcpy(date, value, len);
    date[len] = '\0';
    time_t when = curl_getdate(date, NULL);
    if (when == (time_t)-1)
        return false;
    int64_t diff = (int64_t)when - now_epoch_s;
    if (diff > RETRY_AFTER_MAX_S)
        return false;
    *delay_us = diff > 0 ? diff * US_PER_S : 0;
    return true;
}

uint64_t backoff_rand_next(uint64_t *state)
{
    uint64_t x = *state;
    if (x == 0)
        x = 0x9E3779B97F4A7C15ULL; /* xorshift never leaves 0 */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}
