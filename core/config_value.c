/* config_value: the syntax of config values (see core/config_value.h). */
#include "core/config_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_zone.h"
#include "core/timeutil.h"

bool config_parse_long(const char *v, long *out)
{
    if (!*v || (*v != '-' && *v != '+' && (*v < '0' || *v > '9')))
        return false;
    char *end;
    errno = 0;
    long l = strtol(v, &end, 10);
    if (errno || *end)
        return false;
    *out = l;
    return true;
}

bool config_parse_double(const char *v, double *out)
{
    if (!*v || *v == ' ' || *v == '\t')
        return false;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || *end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

bool config_parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool config_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Item `index` of a comma list, trimmed. */
bool config_list_item(const char *v, size_t index, const char **item, size_t *len)
{
    const char *p = v;
    for (size_t i = 0; i < index; i++) {
        p = strchr(p, ',');
        if (!p)
            return false;
        p++;
    }
    const char *end = strchr(p, ',');
    if (!end)
        end = p + strlen(p);
    while (p < end && config_is_blank(*p))
        p++;
    while (end > p && config_is_blank(end[-1]))
        end--;
    *item = p;
    *len = (size_t)(end - p);
    return true;
}

static bool list_ok(const char *v)
{
    const char *item;
    size_t len;
    for (size_t i = 0; config_list_item(v, i, &item, &len); i++) {
        if (len == 0)
            return false;
    }
    return true;
}

static bool in_choices(const char *v, const char *choices)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, v, n) == 0)
            return true;
        p += len + (bar != NULL);
    }
    return false;
}

static bool rule_ok(config_rule rule, const char *v)
{
    size_t n = strlen(v);
    switch (rule) {
    case CR_NONE:
        return true;
    case CR_URL: {
        size_t skip = strncmp(v, "https://", 8) == 0 ? 8 : strncmp(v, "http://", 7) == 0 ? 7 : 0;
        return skip > 0 && n > skip && strpbrk(v, " \t") == NULL;
    }
    case CR_DATE: {
        int64_t us;
        return n == 10 && time_parse_iso(v, n, &us);
    }
    case CR_CURRENCY:
        return n == 3 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3;
    case CR_TIMEZONE:
        return n > 0 && n <= 64 && v[0] != '/' && strstr(v, "..") == NULL &&
               strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-:") ==
                   n;
    }
    return false;
}

static const char *rule_expectation(config_rule rule)
{
    switch (rule) {
    case CR_URL:
        return "an http:// or https:// URL";
    case CR_DATE:
        return "a date YYYY-MM-DD";
    case CR_CURRENCY:
        return "3 upper-case letters (ISO 4217), e.g. RUB";
    case CR_TIMEZONE:
        return "an IANA time zone name, e.g. Europe/Moscow";
    case CR_NONE:
        break;
    }
    return "";
}

/* A zone name of the right characters against the zone database. Without a database
 * the name is left to the server (the CLI says so once). */
static bool zone_ok(config_zone_ctx *z, const char *v, char *why, size_t n)
{
    char detail[384];
    switch (config_zone_check(z->dir, v, detail, sizeof detail)) {
    case ZONE_OK:
        return true;
    case ZONE_NO_DB:
        z->missing = true;
        return true;
    case ZONE_POSIX:
        snprintf(why, n, "%s", detail);
        return false;
    case ZONE_UNKNOWN:
        break;
    }
    snprintf(why, n, "unknown time zone (not in the zone database %s)%s%s", z->dir,
             detail[0] ? "; " : "", detail);
    return false;
}

/* Seconds as the shortest duration text ("90s", "2h", "1d"). */
static void format_seconds(double secs, char *dst, size_t n)
{
    long s = (long)secs;
    if (s != 0 && s % 86400 == 0)
        snprintf(dst, n, "%ldd", s / 86400);
    else if (s != 0 && s % 3600 == 0)
        snprintf(dst, n, "%ldh", s / 3600);
    else if (s != 0 && s % 60 == 0)
        snprintf(dst, n, "%ldm", s / 60);
    else
        snprintf(dst, n, "%lds", s);
}

static bool has_range(const config_key *e)
{
    return e->min < e->max;
}

/* True when v is a valid value of e; otherwise why says what is wrong ("expected ..."). */
bool config_value_ok(const config_key *e, const char *v, config_zone_ctx *z, char *why, size_t n)
{
    long l;
    double d;
    bool b;
    int64_t us;
    char lo[32], hi[32];
    switch (e->type) {
    case CK_STRING:
    case CK_SECRET:
        break;
    case CK_INT:
        if (!config_parse_long(v, &l) || (has_range(e) && (l < e->min || l > e->max))) {
            if (e->max >= CONFIG_NO_LIMIT)
                snprintf(why, n, "expected an integer >= %.0f", e->min);
            else
                snprintf(why, n, "expected an integer from %.0f to %.0f", e->min, e->max);
            return false;
        }
        break;
    case CK_DOUBLE:
        if (!config_parse_double(v, &d) || (has_range(e) && (d < e->min || d > e->max))) {
            snprintf(why, n, "expected a number from %g to %g", e->min, e->max);
            return false;
        }
        break;
    case CK_BOOL:
        if (!config_parse_bool(v, &b)) {
            snprintf(why, n, "expected true or false (or yes/no, on/off, 1/0)");
            return false;
        }
        break;
    case CK_DURATION:
        if (!time_parse_duration(v, &us) ||
            (has_range(e) && ((double)us < e->min * 1e6 || (double)us > e->max * 1e6))) {
            format_seconds(e->min, lo, sizeof lo);
            format_seconds(e->max, hi, sizeof hi);
            snprintf(why, n, "expected a duration from %s to %s such as 90s, 10m, 2h, 1h30m or 7d",
                     lo, hi);
            return false;
        }
        break;
    case CK_LIST:
        if (!list_ok(v)) {
            snprintf(why, n, "expected a comma-separated list of names");
            return false;
        }
        break;
    }
    if (e->choices && !in_choices(v, e->choices)) {
        snprintf(why, n, "expected one of %s", e->choices);
        return false;
    }
    if (!rule_ok(e->rule, v)) {
        snprintf(why, n, "expected %s", rule_expectation(e->rule));
        return false;
    }
    return e->rule != CR_TIMEZONE || zone_ok(z, v, why, n);
}

static bool env_name_ok(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
              (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

/* Reads text[0..n) of key's value. With out NULL it only checks the ${NAME} syntax and
 * counts the references in *refs; otherwise it also appends the text to out with
 * every ${NAME} replaced by the environment variable's value. On an error why says
 * what is wrong (without FILE:LINE). */
config_expand_rc config_expand_text(const char *key, const char *text, size_t n, buf *out,
                                    int *refs, char *why, size_t whyn)
{
    char name[128];
    *refs = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '$' || i + 1 >= n || text[i + 1] != '{') {
            if (out && !buf_putc(out, text[i]))
                return CONFIG_EXPAND_NOMEM;
            continue;
        }
        const char *start = text + i + 2;
        const char *close = memchr(start, '}', n - i - 2);
        if (!close) {
            snprintf(why, whyn, "unterminated ${ in the value of '%s'", key);
            return CONFIG_EXPAND_SYNTAX;
        }
        size_t len = (size_t)(close - start);
        if (!env_name_ok(start, len) || len >= sizeof name) {
            snprintf(why, whyn, "invalid environment variable name '${%.*s}' in the value of '%s'",
                     (int)len, start, key);
            return CONFIG_EXPAND_SYNTAX;
        }
        (*refs)++;
        i = (size_t)(close - text);
        if (!out)
            continue;
        memcpy(name, start, len);
        name[len] = '\0';
        const char *v = getenv(name);
        if (!v) {
            snprintf(why, whyn, "environment variable %s is not set", name);
            return CONFIG_EXPAND_UNSET;
        }
        if (!buf_puts(out, v))
            return CONFIG_EXPAND_NOMEM;
    }
    return CONFIG_EXPAND_OK;
}

/* text[0..n) with every ${NAME} replaced, as a string the caller frees. NULL on an
 * error, described in why (*oom set when memory ran out). */
char *config_expand_alloc(const char *key, const char *text, size_t n, char *why, size_t whyn,
                          bool *oom)
{
    buf b;
    int refs;
    buf_init(&b, 0);
    config_expand_rc rc = config_expand_text(key, text, n, &b, &refs, why, whyn);
    char *out = rc == CONFIG_EXPAND_OK ? buf_take(&b, NULL) : NULL;
    if (rc == CONFIG_EXPAND_OK && !out)
        out = strdup("");
    if (!out)
        buf_term(&b);
    *oom = rc == CONFIG_EXPAND_NOMEM || (rc == CONFIG_EXPAND_OK && !out);
    return out;
}
