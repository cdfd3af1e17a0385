#include "sb_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Calendar fields of t, each reduced to its printed width (years 0..9999). */
typedef struct {
    unsigned y, mo, d, h, mi, s;
} fields;

static fields to_fields(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    fields f = {(unsigned)(tm.tm_year + 1900) % 10000u,
                (unsigned)(tm.tm_mon + 1) % 100u,
                (unsigned)tm.tm_mday % 100u,
                (unsigned)tm.tm_hour % 100u,
                (unsigned)tm.tm_min % 100u,
                (unsigned)tm.tm_sec % 100u};
    return f;
}

void sb_time_iso(int64_t t, char *out)
{
    fields f = to_fields(t);
    snprintf(out, 26, "%04u-%02u-%02uT%02u:%02u:%02u+00:00", f.y, f.mo, f.d, f.h, f.mi, f.s);
}

void sb_time_date(int64_t t, char *out)
{
    fields f = to_fields(t);
    snprintf(out, 11, "%04u-%02u-%02u", f.y, f.mo, f.d);
}

void sb_time_put_z(sb_buf *b, int64_t t)
{
    fields f = to_fields(t);
    sb_buf_printf(b, "%04u-%02u-%02uT%02u:%02u:%02uZ", f.y, f.mo, f.d, f.h, f.mi, f.s);
}

/* Reads exactly n digits at *s, advancing it. */
static bool digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

static bool expect(const char **s, char c)
{
    if (**s != c)
        return false;
    (*s)++;
    return true;
}

/* Parses the zone suffix into seconds east of UTC. */
static bool parse_zone(const char *s, int *offset)
{
    *offset = 0;
    if (*s == '\0' || strcmp(s, "Z") == 0 || strcmp(s, "z") == 0)
        return true;
    /* A space is a '+' that the client left unencoded in the query string. */
    int sign = (*s == '+' || *s == ' ') ? 1 : *s == '-' ? -1 : 0;
    if (sign == 0)
        return false;
    s++;
    int hh, mm;
    if (!digits(&s, 2, &hh))
        return false;
    if (*s == ':')
        s++;
    if (!digits(&s, 2, &mm) || *s != '\0' || hh > 23 || mm > 59)
        return false;
    *offset = sign * (hh * 3600 + mm * 60);
    return true;
}

bool sb_time_parse(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, sec = 0, offset = 0;
    if (!digits(&s, 4, &y) || !expect(&s, '-') || !digits(&s, 2, &mo) || !expect(&s, '-') ||
        !digits(&s, 2, &d))
        return false;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (!digits(&s, 2, &h) || !expect(&s, ':') || !digits(&s, 2, &mi))
            return false;
        if (*s == ':') {
            s++;
            if (!digits(&s, 2, &sec))
                return false;
            if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++)
                    ;
        }
        if (!parse_zone(s, &offset))
            return false;
    } else if (*s != '\0') {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - offset;
    return true;
}

int64_t sb_time_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
