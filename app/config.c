#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/buf.h"
#include "../transform/timeutil.h"

/* ---- the key table ---------------------------------------------------------------- */

#define DAY 86400.0
#define NO_LIMIT 1e9

static const conf_key KEYS[] = {
    {"run", NULL, "log_level", CK_STRING, "info",
     "Log verbosity on stderr: error, warn, info or debug.", false, "error|warn|info|debug", 0, 0,
     CR_NONE},
    {"run", NULL, "progress_interval", CK_DURATION, "10s",
     "How often a long-running stream logs a progress line.", false, NULL, 1, DAY, CR_NONE},

    {"source", NULL, "base_url", CK_STRING, NULL,
     "API root URL; its default depends on the type (see the type's own base_url); set it for "
     "sandboxes, proxies and tests.",
     false, NULL, 0, 0, CR_URL},
    {"source", NULL, "ca_file", CK_STRING, NULL,
     "CA bundle (PEM file) to verify the server's certificate with instead of the system store.",
     false, NULL, 0, 0, CR_NONE},
    {"source", NULL, "checkpoint_records", CK_INT, "5000",
     "Records per checkpoint (one committed transaction) on incremental streams.", false, NULL, 1,
     NO_LIMIT, CR_NONE},
    {"source", NULL, "connect_timeout", CK_DURATION, "10s",
     "Time allowed to establish a connection to the API.", false, NULL, 1, 3600, CR_NONE},
    {"source", NULL, "lookback", CK_DURATION, "2h",
     "Look-back window: each incremental read starts this long before the saved cursor, to catch "
     "late writes.",
     false, NULL, 0, 366 * DAY, CR_NONE},
    {"source", NULL, "low_speed_timeout", CK_DURATION, "60s",
     "A transfer that receives no data for this long is aborted and retried.", false, NULL, 1, DAY,
     CR_NONE},
    {"source", NULL, "max_parallel", CK_INT, "4",
     "Concurrent requests to this source (e.g. order detail calls), within the rate limit.", false,
     NULL, 1, 64, CR_NONE},
    {"source", NULL, "max_rejects", CK_INT, "100",
     "A stream that rejects more records than this fails and its open checkpoint rolls back.",
     false, NULL, 0, NO_LIMIT, CR_NONE},
    {"source", NULL, "rate_burst", CK_DOUBLE, "5",
     "Requests that may go out at once after an idle period (token bucket size).", false, NULL, 1,
     10000, CR_NONE},
    {"source", NULL, "rate_limit", CK_DOUBLE, "5", "Requests per second sent to the API at most.",
     false, NULL, 0.01, 10000, CR_NONE},
    {"source", NULL, "retries", CK_INT, "8",
     "Retries of a request that failed with 429, 5xx, a timeout or a dropped connection before "
     "its stream fails.",
     false, NULL, 0, 100, CR_NONE},
    {"source", NULL, "retry_base_ms", CK_INT, "500",
     "First retry delay in milliseconds; it doubles on each retry, with jitter.", false, NULL, 1,
     600000, CR_NONE},
    {"source", NULL, "retry_max", CK_DURATION, "60s", "Longest backoff delay between two retries.",
     false, NULL, 1, 3600, CR_NONE},
    {"source", NULL, "start_date", CK_STRING, NULL,
     "Lower bound (YYYY-MM-DD) of the first backfill; default: everything the API has.", false,
     NULL, 0, 0, CR_DATE},
    {"source", NULL, "streams", CK_LIST, NULL,
     "Comma list of the streams to read; default: all streams of the type.", false, NULL, 0, 0,
     CR_NONE},
    {"source", NULL, "timezone", CK_STRING, "UTC",
     "IANA time zone of the source's business dates, e.g. Europe/Moscow.", false, NULL, 0, 0,
     CR_TIMEZONE},
    {"source", NULL, "tls_verify", CK_BOOL, "true",
     "Verify the server's TLS certificate and host name (turn off only for test servers).", false,
     NULL, 0, 0, CR_NONE},
    {"source", NULL, "type", CK_STRING, NULL,
     "Source type: posiflora (goflow, flowwow and flowretail are not supported yet).", true, NULL,
     0, 0, CR_NONE},

    {"source", "posiflora", "base_url", CK_STRING, NULL,
     "Account API root, e.g. https://myshop.posiflora.com/api; required because every Posiflora "
     "account has its own host.",
     true, NULL, 0, 0, CR_URL},
    {"source", "posiflora", "currency", CK_STRING, "RUB",
     "ISO 4217 code stored with every amount (Posiflora sends no currency).", false, NULL, 0, 0,
     CR_CURRENCY},
    {"source", "posiflora", "orders_cursor_field", CK_STRING, "updatedAt",
     "Order timestamp the incremental orders read filters and sorts on: updatedAt or modifiedAt.",
     false, "updatedAt|modifiedAt", 0, 0, CR_NONE},
    {"source", "posiflora", "orders_sort", CK_BOOL, "true",
     "Send sort=<cursor field> so orders arrive in ascending cursor order, which allows "
     "mid-stream checkpoints.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "posiflora", "page_size", CK_INT, "100",
     "Records per page, 1 to 100 (the API answers 422 to more).", false, NULL, 1, 100, CR_NONE},
    {"source", "posiflora", "password", CK_SECRET, NULL, "Password of the Posiflora API user.",
     true, NULL, 0, 0, CR_NONE},
    {"source", "posiflora", "refresh_margin", CK_DURATION, "60s",
     "Refresh the session this long before its access token expires.", false, NULL, 0, DAY,
     CR_NONE},
    {"source", "posiflora", "username", CK_STRING, NULL, "Posiflora API user name.", true, NULL, 0,
     0, CR_NONE},

    {"warehouse", NULL, "dsn", CK_STRING, "",
     "libpq connection string or URI; empty = libpq defaults (PGHOST, PGDATABASE... from the "
     "environment).",
     false, NULL, 0, 0, CR_NONE},
};

#define NKEYS (sizeof KEYS / sizeof KEYS[0])

/* Source types this version reads, and the ones the design plans. */
static const char *const SUPPORTED_TYPES[] = {"posiflora"};
static const char *const PLANNED_TYPES[] = {"goflow", "flowwow", "flowretail"};

const conf_key *config_keys(size_t *n)
{
    *n = NKEYS;
    return KEYS;
}

const char *conf_type_name(conf_type t)
{
    switch (t) {
    case CK_STRING:
        return "string";
    case CK_SECRET:
        return "secret";
    case CK_INT:
        return "int";
    case CK_DOUBLE:
        return "number";
    case CK_BOOL:
        return "bool";
    case CK_DURATION:
        return "duration";
    case CK_LIST:
        return "list";
    }
    return "?";
}

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (streq(s, list[i]))
            return true;
    }
    return false;
}

/* The entry for key in section, preferring the one of source_type over the untyped one.
 * NULL when the key does not exist there. */
static const conf_key *key_entry(const char *section, const char *source_type, const char *key)
{
    const conf_key *untyped = NULL;
    for (size_t i = 0; i < NKEYS; i++) {
        const conf_key *e = &KEYS[i];
        if (!streq(e->section, section) || !streq(e->key, key))
            continue;
        if (!e->source_type)
            untyped = e;
        else if (streq(e->source_type, source_type))
            return e;
    }
    return untyped;
}

/* ---- value syntax ------------------------------------------------------------------ */

static bool parse_long(const char *v, long *out)
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

static bool parse_double(const char *v, double *out)
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

static bool parse_bool(const char *v, bool *out)
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

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Item `index` of a comma list, trimmed. */
static bool list_item(const char *v, size_t index, const char **item, size_t *len)
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
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    *item = p;
    *len = (size_t)(end - p);
    return true;
}

static bool list_ok(const char *v)
{
    const char *item;
    size_t len;
    for (size_t i = 0; list_item(v, i, &item, &len); i++) {
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

static bool rule_ok(conf_rule rule, const char *v)
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
               strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") == n;
    }
    return false;
}

static const char *rule_expectation(conf_rule rule)
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

static bool has_range(const conf_key *e)
{
    return e->min < e->max;
}

/* True when v is a valid value of e; otherwise describes what was expected in why. */
static bool value_ok(const conf_key *e, const char *v, char *why, size_t n)
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
        if (!parse_long(v, &l) || (has_range(e) && (l < e->min || l > e->max))) {
            if (e->max >= NO_LIMIT)
                snprintf(why, n, "an integer >= %.0f", e->min);
            else
                snprintf(why, n, "an integer from %.0f to %.0f", e->min, e->max);
            return false;
        }
        break;
    case CK_DOUBLE:
        if (!parse_double(v, &d) || (has_range(e) && (d < e->min || d > e->max))) {
            snprintf(why, n, "a number from %g to %g", e->min, e->max);
            return false;
        }
        break;
    case CK_BOOL:
        if (!parse_bool(v, &b)) {
            snprintf(why, n, "true or false (or yes/no, on/off, 1/0)");
            return false;
        }
        break;
    case CK_DURATION:
        if (!time_parse_duration(v, &us) ||
            (has_range(e) && ((double)us < e->min * 1e6 || (double)us > e->max * 1e6))) {
            format_seconds(e->min, lo, sizeof lo);
            format_seconds(e->max, hi, sizeof hi);
            snprintf(why, n, "a duration from %s to %s such as 90s, 10m, 2h, 1h30m or 7d", lo, hi);
            return false;
        }
        break;
    case CK_LIST:
        if (!list_ok(v)) {
            snprintf(why, n, "a comma-separated list of names");
            return false;
        }
        break;
    }
    if (e->choices && !in_choices(v, e->choices)) {
        snprintf(why, n, "one of %s", e->choices);
        return false;
    }
    if (!rule_ok(e->rule, v)) {
        snprintf(why, n, "%s", rule_expectation(e->rule));
        return false;
    }
    return true;
}

/* ---- loading ----------------------------------------------------------------------- */

typedef enum { SECT_BAD, SECT_WAREHOUSE, SECT_RUN, SECT_SOURCE } sect_kind;

/* A section as read, before validation. */
typedef struct {
    char *name; /* as written between [ ] */
    sect_kind kind;
    int line;      /* of the header */
    int last_line; /* of the last key line seen, stored or not */
    conf_kv *kv;
    size_t nkv, cap;
} raw_sect;

typedef struct {
    const char *file;
    const char *text; /* the whole file, NUL-terminated */
    size_t len, pos;
    int line;     /* of the line last handed to inih */
    bool stopped; /* the reader ended the parse early (line too long) */
    raw_sect *sects;
    size_t nsects, cap;
    raw_sect *cur; /* section the current line belongs to, NULL before the first */
    bool oom;
    /* The first error in file order: rank orders errors (see fail_ranked). */
    long err_rank;
    char msg[sizeof(((fe_err *)0)->msg)];
} loader;

/* Records an error at line unless one earlier in the file was recorded. rank is
 * 2 * line for errors on a line; errors about a whole section rank after its
 * last line (2 * last + 1), so a misspelt key is reported before the key it hides. */
static void fail_ranked(loader *ld, long rank, int line, const char *fmt, ...) FE_PRINTF(4, 5);
static void fail_ranked(loader *ld, long rank, int line, const char *fmt, ...)
{
    if (ld->err_rank && rank >= ld->err_rank)
        return;
    ld->err_rank = rank;
    int n = snprintf(ld->msg, sizeof ld->msg, "%s:%d: ", ld->file, line);
    if (n < 0 || (size_t)n >= sizeof ld->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->msg + n, sizeof ld->msg - (size_t)n, fmt, ap);
    va_end(ap);
}

#define fail_at(ld, line, ...) fail_ranked(ld, 2L * (line), line, __VA_ARGS__)

static bool valid_source_name(const char *s)
{
    return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                     strlen(s);
}

static sect_kind classify_section(loader *ld, const char *name)
{
    if (streq(name, "warehouse"))
        return SECT_WAREHOUSE;
    if (streq(name, "run"))
        return SECT_RUN;
    if (strncmp(name, "source.", 7) == 0) {
        if (valid_source_name(name + 7))
            return SECT_SOURCE;
        fail_at(ld, ld->line, "invalid source name '%s' in [%s]: use letters, digits and _",
                name + 7, name);
        return SECT_BAD;
    }
    fail_at(ld, ld->line, "unknown section [%s] (expected [warehouse], [run] or [source.NAME])",
            name);
    return SECT_BAD;
}

static void start_section(loader *ld, const char *name, size_t len)
{
    ld->cur = NULL;
    if (ld->nsects == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 8;
        raw_sect *p = realloc(ld->sects, cap * sizeof *p);
        if (!p) {
            ld->oom = true;
            return;
        }
        ld->sects = p;
        ld->cap = cap;
    }
    raw_sect *s = &ld->sects[ld->nsects];
    *s = (raw_sect){.name = strndup(name, len), .line = ld->line, .last_line = ld->line};
    if (!s->name) {
        ld->oom = true;
        return;
    }
    ld->nsects++;
    for (size_t i = 0; i + 1 < ld->nsects; i++) {
        if (streq(ld->sects[i].name, s->name)) {
            fail_at(ld, ld->line, "duplicate section [%s] (first at line %d)", s->name,
                    ld->sects[i].line);
            ld->cur = s; /* kind SECT_BAD: its keys are not checked again */
            return;
        }
    }
    s->kind = classify_section(ld, s->name);
    ld->cur = s;
}

/* Notes a "[name]" line the way inih reads it: the name ends at ']' unless an inline
 * comment (';' after white space) comes first, in which case inih reports the line. */
static void note_section(loader *ld, const char *line)
{
    if (line[0] != '[')
        return;
    const char *p = line + 1;
    bool was_space = false;
    while (*p && *p != ']' && !(was_space && *p == ';')) {
        was_space = is_blank(*p);
        p++;
    }
    if (*p != ']')
        return;
    const char *rest = p + 1 + strspn(p + 1, " \t\r\n");
    if (*rest && *rest != ';' && *rest != '#')
        fail_at(ld, ld->line, "unexpected text after [%.*s]", (int)(p - line - 1), line + 1);
    start_section(ld, line + 1, (size_t)(p - line - 1));
}

/* inih's fgets-style reader. Counting lines here gives the handler its line number
 * (the Debian build has no INI_HANDLER_LINENO). Leading white space is dropped so an
 * indented key is never read as a continuation of the previous value. */
static char *read_line(char *str, int num, void *stream)
{
    loader *ld = stream;
    if (ld->stopped || ld->pos >= ld->len)
        return NULL;
    const char *p = ld->text + ld->pos;
    const char *nl = memchr(p, '\n', ld->len - ld->pos);
    size_t n = nl ? (size_t)(nl - p) + 1 : ld->len - ld->pos;
    ld->pos += n;
    ld->line++;
    if (ld->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    while (n > 0 && is_blank(*p)) {
        p++;
        n--;
    }
    if (num < 3 || n + 1 > (size_t)num) {
        fail_at(ld, ld->line,
                "line longer than %d characters (put a long value in an environment variable "
                "and write ${NAME})",
                num - 2);
        ld->stopped = true;
        return NULL;
    }
    memcpy(str, p, n);
    str[n] = '\0';
    note_section(ld, str);
    return str;
}

/* Length of value without an inline comment (';' after white space) and the white
 * space before it. inih strips these itself when built with inline comments. */
static size_t value_length(const char *value)
{
    size_t n = strlen(value);
    for (size_t i = 1; i < n; i++) {
        if (value[i] == ';' && is_blank(value[i - 1])) {
            n = i;
            break;
        }
    }
    while (n > 0 && is_blank(value[n - 1]))
        n--;
    return n;
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

/* Appends the value of ${NAME} (s[0..n) is NAME) to b. False on error (recorded). */
static bool expand_one(loader *ld, const char *key, const char *s, size_t n, buf *b)
{
    char name[128];
    if (!env_name_ok(s, n) || n >= sizeof name) {
        fail_at(ld, ld->line, "invalid environment variable name '${%.*s}' in the value of '%s'",
                (int)n, s, key);
        return false;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    const char *v = getenv(name);
    if (!v) {
        fail_at(ld, ld->line, "environment variable %s is not set", name);
        return false;
    }
    if (!buf_puts(b, v)) {
        ld->oom = true;
        return false;
    }
    return true;
}

/* The value with its inline comment removed and every ${NAME} replaced. Returns a
 * string the caller frees, or NULL on error (recorded in ld). */
static char *expand_value(loader *ld, const char *key, const char *value)
{
    size_t n = value_length(value);
    buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        if (value[i] == '$' && i + 1 < n && value[i + 1] == '{') {
            const char *close = memchr(value + i + 2, '}', n - i - 2);
            if (!close) {
                fail_at(ld, ld->line, "unterminated ${ in the value of '%s'", key);
                goto fail;
            }
            if (!expand_one(ld, key, value + i + 2, (size_t)(close - value - i - 2), &b))
                goto fail;
            i = (size_t)(close - value);
        } else if (!buf_putc(&b, value[i])) {
            ld->oom = true;
            goto fail;
        }
    }
    char *out = buf_take(&b, NULL);
    if (!out && !(out = strdup("")))
        ld->oom = true;
    return out;
fail:
    buf_term(&b);
    return NULL;
}

static const conf_kv *kv_find(const conf_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (streq(kv[i].key, key))
            return &kv[i];
    }
    return NULL;
}

static bool kv_append(raw_sect *s, const char *key, char *value, int line)
{
    if (s->nkv == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        conf_kv *p = realloc(s->kv, cap * sizeof *p);
        if (!p)
            return false;
        s->kv = p;
        s->cap = cap;
    }
    char *k = strdup(key);
    if (!k)
        return false;
    s->kv[s->nkv++] = (conf_kv){k, value, line};
    return true;
}

/* inih's handler: stores one key of the current section. Errors are recorded in
 * ld and parsing goes on (returns 1), so inih's result only reports syntax errors. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
    (void)section; /* the reader tracks sections itself, with their lines */
    loader *ld = user;
    raw_sect *s = ld->cur;
    if (!s) {
        if (!ld->oom)
            fail_at(ld, ld->line, "key '%s' outside any section", key);
        return 1;
    }
    s->last_line = ld->line;
    if (!*key) {
        fail_at(ld, ld->line, "missing key name before '='");
        return 1;
    }
    const conf_kv *dup = kv_find(s->kv, s->nkv, key);
    if (dup) {
        fail_at(ld, ld->line, "duplicate key '%s' in [%s] (first at line %d)", key, s->name,
                dup->line);
        return 1;
    }
    char *v = expand_value(ld, key, value ? value : "");
    if (v && !kv_append(s, key, v, ld->line)) {
        free(v);
        ld->oom = true;
    }
    return 1;
}

/* ---- validation -------------------------------------------------------------------- */

static void check_kv(loader *ld, const raw_sect *s, const conf_kv *kv, const conf_key *e)
{
    char why[160];
    if (value_ok(e, kv->value, why, sizeof why))
        return;
    if (e->type == CK_SECRET)
        fail_at(ld, kv->line, "invalid value for '%s' in [%s]: expected %s", kv->key, s->name, why);
    else
        fail_at(ld, kv->line, "invalid value '%.80s' for '%s' in [%s]: expected %s", kv->value,
                kv->key, s->name, why);
}

/* Rank of an error about the section as a whole: after its last line. */
static long section_end_rank(const raw_sect *s)
{
    return 2L * s->last_line + 1;
}

static void validate_plain(loader *ld, const raw_sect *s)
{
    for (size_t i = 0; i < s->nkv; i++) {
        const conf_key *e = key_entry(s->name, NULL, s->kv[i].key);
        if (!e)
            fail_at(ld, s->kv[i].line, "unknown key '%s' in [%s]", s->kv[i].key, s->name);
        else
            check_kv(ld, s, &s->kv[i], e);
    }
}

/* Required keys of a source type, each checked once (a typed entry overrides). */
static void check_required(loader *ld, const raw_sect *s, const char *type)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const conf_key *e = &KEYS[i];
        if (!streq(e->section, "source") || key_entry("source", type, e->key) != e || !e->required)
            continue;
        const conf_kv *kv = kv_find(s->kv, s->nkv, e->key);
        if (!kv)
            fail_ranked(ld, section_end_rank(s), s->line,
                        "missing required key '%s' in [%s] (type %s)", e->key, s->name, type);
        else if (!*kv->value)
            fail_at(ld, kv->line, "key '%s' in [%s] must not be empty", e->key, s->name);
    }
}

static void validate_source(loader *ld, const raw_sect *s)
{
    const conf_kv *t = kv_find(s->kv, s->nkv, "type");
    if (!t) {
        fail_ranked(ld, section_end_rank(s), s->line, "missing required key 'type' in [%s]",
                    s->name);
        return;
    }
    const char *type = t->value;
    if (in_list(type, PLANNED_TYPES, sizeof PLANNED_TYPES / sizeof PLANNED_TYPES[0])) {
        fail_at(ld, t->line, "source type '%s' is not supported by this version yet", type);
        return;
    }
    if (!in_list(type, SUPPORTED_TYPES, sizeof SUPPORTED_TYPES / sizeof SUPPORTED_TYPES[0])) {
        fail_at(ld, t->line, "unknown source type '%.80s' (this version supports: posiflora)",
                type);
        return;
    }
    for (size_t i = 0; i < s->nkv; i++) {
        const conf_key *e = key_entry("source", type, s->kv[i].key);
        if (!e)
            fail_at(ld, s->kv[i].line, "unknown key '%s' in [%s] (type %s)", s->kv[i].key, s->name,
                    type);
        else
            check_kv(ld, s, &s->kv[i], e);
    }
    check_required(ld, s, type);
}

static void validate(loader *ld)
{
    for (size_t i = 0; i < ld->nsects; i++) {
        const raw_sect *s = &ld->sects[i];
        if (s->kind == SECT_SOURCE)
            validate_source(ld, s);
        else if (s->kind != SECT_BAD)
            validate_plain(ld, s);
    }
}

/* ---- DSN passwords ----------------------------------------------------------------- */

static void add_dsn_secret(config *c, const char *s, size_t n)
{
    if (n == 0 || c->ndsn_secrets >= (int)(sizeof c->dsn_secrets / sizeof c->dsn_secrets[0]))
        return;
    for (int i = 0; i < c->ndsn_secrets; i++) {
        if (strlen(c->dsn_secrets[i]) == n && memcmp(c->dsn_secrets[i], s, n) == 0)
            return;
    }
    char *copy = strndup(s, n);
    if (copy)
        c->dsn_secrets[c->ndsn_secrets++] = copy;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Adds s[0..n) as written and percent-decoded (URIs). */
static void add_uri_secret(config *c, const char *s, size_t n)
{
    add_dsn_secret(c, s, n);
    char dec[256];
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof dec; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            dec[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            dec[o++] = s[i];
        }
    }
    if (o < sizeof dec)
        add_dsn_secret(c, dec, o);
}

/* postgresql://[user[:password]@]host...[?password=...]: userinfo ends at the first
 * '@' before any '/', as libpq reads it. */
static void uri_passwords(config *c, const char *uri)
{
    const char *p = strstr(uri, "://") + 3;
    size_t info = strcspn(p, "@/");
    if (p[info] == '@') {
        const char *colon = memchr(p, ':', info);
        if (colon)
            add_uri_secret(c, colon + 1, (size_t)(p + info - colon - 1));
    }
    const char *q = strchr(uri, '?');
    while (q) {
        q++;
        size_t len = strcspn(q, "&");
        if (strncmp(q, "password=", 9) == 0 && len > 9)
            add_uri_secret(c, q + 9, len - 9);
        q = q[len] ? q + len : NULL;
    }
}

/* key=value conninfo: values bare or single-quoted, backslash escapes either way. */
static void conninfo_password(config *c, const char *s)
{
    char val[256];
    while (*s) {
        s += strspn(s, " \t\r\n");
        size_t klen = strcspn(s, "= \t\r\n");
        bool is_password = klen == 8 && strncmp(s, "password", 8) == 0;
        s += klen;
        s += strspn(s, " \t\r\n");
        if (*s != '=')
            return; /* not conninfo libpq would accept: nothing to find */
        s++;
        s += strspn(s, " \t\r\n");
        bool quoted = *s == '\'';
        s += quoted;
        size_t o = 0;
        while (*s && (quoted ? *s != '\'' : !strchr(" \t\r\n", *s))) {
            if (*s == '\\' && s[1])
                s++;
            if (o < sizeof val)
                val[o++] = *s;
            s++;
        }
        s += quoted && *s == '\'';
        if (is_password && o < sizeof val)
            add_dsn_secret(c, val, o);
    }
}

static void dsn_passwords(config *c)
{
    if (strncmp(c->dsn, "postgresql://", 13) == 0 || strncmp(c->dsn, "postgres://", 11) == 0)
        uri_passwords(c, c->dsn);
    else
        conninfo_password(c, c->dsn);
}

/* ---- building the result ----------------------------------------------------------- */

static void kv_free(conf_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static void loader_term(loader *ld)
{
    for (size_t i = 0; i < ld->nsects; i++) {
        free(ld->sects[i].name);
        kv_free(ld->sects[i].kv, ld->sects[i].nkv);
    }
    free(ld->sects);
}

static const char *plain_value(const loader *ld, const char *section, const char *key)
{
    for (size_t i = 0; i < ld->nsects; i++) {
        const raw_sect *s = &ld->sects[i];
        if (streq(s->name, section)) {
            const conf_kv *kv = kv_find(s->kv, s->nkv, key);
            if (kv)
                return kv->value;
        }
    }
    return key_entry(section, NULL, key)->def;
}

/* Moves the validated sections into c. False when memory runs out. */
static bool build(loader *ld, config *c)
{
    c->dsn = strdup(plain_value(ld, "warehouse", "dsn"));
    if (!c->dsn)
        return false;
    dsn_passwords(c);
    c->sources = calloc(ld->nsects ? ld->nsects : 1, sizeof *c->sources);
    if (!c->sources)
        return false;
    for (size_t i = 0; i < ld->nsects; i++) {
        raw_sect *s = &ld->sects[i];
        if (s->kind == SECT_RUN) {
            c->run = s->kv;
            c->nrun = s->nkv;
            s->kv = NULL;
            s->nkv = 0;
        }
        if (s->kind != SECT_SOURCE)
            continue;
        source_conf *sc = &c->sources[c->nsources++];
        sc->line = s->line;
        sc->name = strdup(s->name + 7);
        sc->type = strdup(kv_find(s->kv, s->nkv, "type")->value);
        sc->kv = s->kv;
        sc->nkv = s->nkv;
        s->kv = NULL;
        s->nkv = 0;
        if (!sc->name || !sc->type)
            return false;
    }
    return true;
}

fe_rc config_load_string(const char *text, const char *name, config **out, fe_err *err)
{
    fe_rc rc = FE_OK;
    config *c = NULL;
    loader ld = {.file = name, .text = text, .len = strlen(text)};
    *out = NULL;
    int bad_line = ini_parse_stream(read_line, &ld, on_key, &ld);
    if (bad_line > 0)
        fail_at(&ld, bad_line, "syntax error: expected [section], key = value or a comment");
    else if (bad_line < 0)
        ld.oom = true;
    if (!ld.oom)
        validate(&ld);
    if (ld.oom) {
        rc = fe_err_set(err, FE_ENOMEM, "%s: out of memory reading the configuration", name);
        goto done;
    }
    if (ld.err_rank) {
        rc = fe_err_set(err, FE_ECONFIG, "%s", ld.msg);
        goto done;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(name)) || !build(&ld, c)) {
        rc = fe_err_set(err, FE_ENOMEM, "%s: out of memory reading the configuration", name);
        goto done;
    }
    *out = c;
    c = NULL;
done:
    config_free(c);
    loader_term(&ld);
    return rc;
}

#define CONFIG_MAX_BYTES (1 << 20)

fe_rc config_load(const char *path, config **out, fe_err *err)
{
    fe_rc rc;
    char chunk[4096];
    buf text;
    buf_init(&text, CONFIG_MAX_BYTES);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[128];
        rc = fe_err_set(err, FE_ECONFIG, "%s: cannot open: %s", path,
                        strerror_r(errno, why, sizeof why));
        goto done;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!buf_append(&text, chunk, n)) {
            rc = fe_err_set(err, FE_ECONFIG, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
            goto done;
        }
    }
    if (ferror(f)) {
        char why[128];
        rc = fe_err_set(err, FE_ECONFIG, "%s: cannot read: %s", path,
                        strerror_r(errno, why, sizeof why));
        goto done;
    }
    if (memchr(buf_cstr(&text), '\0', text.len)) {
        rc = fe_err_set(err, FE_ECONFIG, "%s: contains a NUL byte (not a text file?)", path);
        goto done;
    }
    rc = config_load_string(buf_cstr(&text), path, out, err);
done:
    if (f)
        fclose(f);
    buf_term(&text);
    return rc;
}

void config_free(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].type);
        kv_free(c->sources[i].kv, c->sources[i].nkv);
    }
    for (int i = 0; i < c->ndsn_secrets; i++)
        free(c->dsn_secrets[i]);
    free(c->sources);
    free(c->path);
    free(c->dsn);
    kv_free(c->run, c->nrun);
    free(c);
}

/* ---- lookups ----------------------------------------------------------------------- */

const source_conf *config_source(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nsources; i++) {
        if (streq(c->sources[i].name, name))
            return &c->sources[i];
    }
    return NULL;
}

const char *conf_str(const source_conf *s, const char *key)
{
    const conf_kv *kv = kv_find(s->kv, s->nkv, key);
    if (kv)
        return kv->value;
    const conf_key *e = key_entry("source", s->type, key);
    return e ? e->def : NULL;
}

bool conf_int(const source_conf *s, const char *key, long *out)
{
    const char *v = conf_str(s, key);
    return v && parse_long(v, out);
}

bool conf_double(const source_conf *s, const char *key, double *out)
{
    const char *v = conf_str(s, key);
    return v && parse_double(v, out);
}

bool conf_bool(const source_conf *s, const char *key, bool *out)
{
    const char *v = conf_str(s, key);
    return v && parse_bool(v, out);
}

bool conf_duration(const source_conf *s, const char *key, int64_t *micros)
{
    const char *v = conf_str(s, key);
    return v && time_parse_duration(v, micros);
}

bool conf_list_at(const source_conf *s, const char *key, size_t index, const char **item,
                  size_t *len)
{
    const char *v = conf_str(s, key);
    return v && *v && list_item(v, index, item, len);
}

bool conf_list_has(const source_conf *s, const char *key, const char *item)
{
    const char *p;
    size_t len, n = strlen(item);
    for (size_t i = 0; conf_list_at(s, key, i, &p, &len); i++) {
        if (len == n && memcmp(p, item, n) == 0)
            return true;
    }
    return false;
}

const char *config_run_str(const config *c, const char *key)
{
    const conf_kv *kv = kv_find(c->run, c->nrun, key);
    if (kv)
        return kv->value;
    const conf_key *e = key_entry("run", NULL, key);
    return e ? e->def : NULL;
}

bool config_run_duration(const config *c, const char *key, int64_t *micros)
{
    const char *v = config_run_str(c, key);
    return v && time_parse_duration(v, micros);
}

int config_secrets(const config *c, const char **out, int max)
{
    int n = 0;
    for (size_t i = 0; i < c->nsources; i++) {
        const source_conf *s = &c->sources[i];
        for (size_t k = 0; k < s->nkv && n < max; k++) {
            const conf_key *e = key_entry("source", s->type, s->kv[k].key);
            if (e && e->type == CK_SECRET && *s->kv[k].value)
                out[n++] = s->kv[k].value;
        }
    }
    for (int i = 0; i < c->ndsn_secrets && n < max; i++)
        out[n++] = c->dsn_secrets[i];
    return n;
}
