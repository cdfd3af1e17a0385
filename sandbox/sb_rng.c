#include "sb_rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sb_rng_seed(sb_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t sb_rng_next(sb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sb_rng_below(sb_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Lemire's multiply-shift with rejection: unbiased for every n. */
    unsigned __int128 m = (unsigned __int128)sb_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)sb_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t sb_rng_range(sb_rng *r, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)sb_rng_below(r, (uint64_t)(hi - lo) + 1);
}

bool sb_rng_permille(sb_rng *r, unsigned permille)
{
    return sb_rng_below(r, 1000) < permille;
}

bool sb_rng_chance(sb_rng *r, double p)
{
    if (p <= 0)
        return false;
    double u = (double)(sb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return u < p;
}

uint64_t sb_hash64(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ rotl(b, 23) ^ 0x2545f4914f6cdd1dULL;
    uint64_t h = splitmix64(&x);
    x ^= b;
    return h ^ splitmix64(&x);
}

uint64_t sb_hash3(uint64_t a, uint64_t b, uint64_t c)
{
    return sb_hash64(sb_hash64(a, b), c);
}
