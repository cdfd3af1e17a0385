#include "core/log.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inttypes.h>

#include "core/buf.h"

/* Shorter secrets would redact ordinary words; config validation warns about them. */
#define LOG_MIN_SECRET 4
/* One line's text after redaction; longer lines are cut. */
#define LOG_LINE_MAX 4096

/* The threshold is set once by log_init before threads start. The secrets are
 * the registry described in log.h: an append-only list under g_secrets_mu, with
 * the entries chained by their first byte so that a scan looks only at the
 * secrets that can start at a given byte. g_log_mu only orders writers so that
 * lines never interleave. */
static log_level g_level = LOG_INFO;
static struct {
    char **s;
    size_t *len;
    int *next;     /* next entry with the same first byte, -1 = none */
    int head[256]; /* first entry per first byte, -1 = none */
    int n, cap;
} g_sec = {.n = 0};
static pthread_mutex_t g_secrets_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
/* Set before threads (log.h): the format; the run id is atomic (see log.h). */
static log_format g_format = LOG_FORMAT_TEXT;
static _Atomic int64_t g_run_id = 0;
static _Thread_local const char *t_ctx = NULL;
/* The live block (log_live) and how many lines of it are on screen; g_log_mu. */
static char *g_live = NULL;
static int g_live_lines = 0;

/* g_secrets_mu held. */
static void free_secrets(void)
{
    for (int i = 0; i < g_sec.n; i++) {
        memset(g_sec.s[i], 0, g_sec.len[i]);
        free(g_sec.s[i]);
    }
    free(g_sec.s);
    free(g_sec.len);
    free(g_sec.next);
    g_sec.s = NULL;
    g_sec.len = NULL;
    g_sec.next = NULL;
    g_sec.n = g_sec.cap = 0;
    for (int i = 0; i < 256; i++)
        g_sec.head[i] = -1;
}

/* g_secrets_mu held. */
static bool known(const char *secret, size_t len)
{
    for (int i = g_sec.head[(unsigned char)secret[0]]; i >= 0; i = g_sec.next[i])
        if (g_sec.len[i] == len && memcmp(g_sec.s[i], secret, len) == 0)
            return true;
    return false;
}

/* g_secrets_mu held. Appends one secret unless too short or known; false on OOM. */
static bool add_locked(const char *secret)
{
    size_t len = secret ? strlen(secret) : 0;
    if (len < LOG_MIN_SECRET || (g_sec.n > 0 && known(secret, len)))
        return true;
    if (g_sec.n == 0 && g_sec.cap == 0)
        for (int i = 0; i < 256; i++)
            g_sec.head[i] = -1;
    if (g_sec.n == g_sec.cap) {
        int cap = g_sec.cap ? g_sec.cap * 2 : 16;
        char **s = realloc(g_sec.s, (size_t)cap * sizeof *s);
        if (s)
            g_sec.s = s;
        size_t *l = realloc(g_sec.len, (size_t)cap * sizeof *l);
        if (l)
            g_sec.len = l;
        int *nx = realloc(g_sec.next, (size_t)cap * sizeof *nx);
        if (nx)
            g_sec.next = nx;
        if (!s || !l || !nx)
            return false;
        g_sec.cap = cap;
    }
    char *copy = strdup(secret);
    if (!copy)
        return false;
    unsigned char first = (unsigned char)copy[0];
    g_sec.s[g_sec.n] = copy;
    g_sec.len[g_sec.n] = len;
    g_sec.next[g_sec.n] = g_sec.head[first];
    g_sec.head[first] = g_sec.n;
    g_sec.n++;
    return true;
}

void log_init(log_level level, const char *const *secrets, int nsecrets)
{
    bool ok = true;
    pthread_mutex_lock(&g_secrets_mu);
    free_secrets();
    g_level = level;
    for (int i = 0; i < nsecrets && ok; i++)
        ok = add_locked(secrets[i]);
    if (!ok) {
        /* Without the list nothing could be redacted: better to print nothing. */
        free_secrets();
        g_level = LOG_ERROR;
        fputs("flowetl: out of memory while setting up logging\n", stderr);
    }
    pthread_mutex_unlock(&g_secrets_mu);
}

void log_term(void)
{
    log_live(NULL);
    pthread_mutex_lock(&g_secrets_mu);
    free_secrets();
    pthread_mutex_unlock(&g_secrets_mu);
    g_format = LOG_FORMAT_TEXT;
    atomic_store(&g_run_id, 0);
}

void log_set_format(log_format format)
{
    g_format = format;
}

log_format log_get_format(void)
{
    return g_format;
}

bool log_format_parse(const char *name, log_format *out)
{
    if (name && strcmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (name && strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return false;
    return true;
}

void log_set_run_id(int64_t run_id)
{
    atomic_store(&g_run_id, run_id);
}

int64_t log_run_id(void)
{
    return atomic_load(&g_run_id);
}

void log_thread_ctx(const char *ctx)
{
    t_ctx = ctx;
}

bool log_add_secret(const char *secret)
{
    pthread_mutex_lock(&g_secrets_mu);
    bool ok = add_locked(secret);
    pthread_mutex_unlock(&g_secrets_mu);
    return ok;
}

bool log_enabled(log_level level)
{
    return level <= g_level;
}

/* g_secrets_mu held. Length of the longest registered secret that starts at s, or 0. */
static size_t secret_at(const char *s, size_t avail)
{
    size_t best = 0;
    if (g_sec.n == 0)
        return 0;
    for (int i = g_sec.head[(unsigned char)s[0]]; i >= 0; i = g_sec.next[i]) {
        size_t l = g_sec.len[i];
        if (l > best && l <= avail && memcmp(s, g_sec.s[i], l) == 0)
            best = l;
    }
    return best;
}

void log_redact(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return;
    size_t srclen = strlen(src), out = 0, i = 0;
    pthread_mutex_lock(&g_secrets_mu);
    while (i < srclen) {
        size_t hit = secret_at(src + i, srclen - i);
        const char *piece = hit ? "***" : src + i;
        size_t plen = hit ? 3 : 1;
        if (out + plen > n - 1)
            break;
        memcpy(dst + out, piece, plen);
        out += plen;
        i += hit ? hit : 1;
    }
    pthread_mutex_unlock(&g_secrets_mu);
    /* Only a cut can split a character; text that came whole stays whole (one
     * that is not UTF-8 would otherwise lose its last bytes here). */
    dst[i < srclen ? buf_utf8_floor(dst, out) : out] = '\0';
}

char *log_redact_dup(const char *src)
{
    if (!src)
        return NULL;
    /* A secret (at least 4 bytes) becomes 3: the result is never longer. */
    size_t n = strlen(src) + 1;
    char *dst = malloc(n);
    if (dst)
        log_redact(dst, n, src);
    return dst;
}

static const char *level_name(log_level level, bool json)
{
    switch (level) {
    case LOG_ERROR:
        return json ? "error" : "ERROR";
    case LOG_WARN:
        return json ? "warn" : "WARN";
    case LOG_INFO:
        return json ? "info" : "INFO";
    case LOG_DEBUG:
        return json ? "debug" : "DEBUG";
    }
    return "?";
}

/* Formats the message whole, so that redaction sees every secret complete
 * (cutting before redacting could leave the start of one), and redacts it into
 * clean (LOG_LINE_MAX bytes, cut between characters). Trailing newlines go. */
static void format_clean(char *clean, const char *fmt, va_list ap)
{
    char small[LOG_LINE_MAX];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *raw = n < 0 ? NULL : (size_t)n < sizeof small ? small : malloc((size_t)n + 1);
    if (raw)
        vsnprintf(raw, (size_t)n + 1, fmt, ap);
    log_redact(clean, LOG_LINE_MAX, raw ? raw : "(log line lost: out of memory)");
    if (raw != small)
        free(raw);
    size_t len = strlen(clean);
    while (len > 0 && (clean[len - 1] == '\n' || clean[len - 1] == '\r'))
        clean[--len] = '\0';
}

/* A JSON string of text: redacted, cut at LOG_LINE_MAX between characters,
 * invalid UTF-8 scrubbed, escaped. NULL gives null. */
static bool put_json_text(buf *b, const char *text, bool redact)
{
    if (!text)
        return buf_puts(b, "null");
    char clean[LOG_LINE_MAX];
    if (redact)
        log_redact(clean, sizeof clean, text);
    else
        buf_textf(clean, sizeof clean, "%s", text);
    buf_utf8_scrub(clean, strlen(clean));
    return buf_put_jsonstr(b, clean);
}

static bool put_json_field(buf *b, const log_field *f)
{
    if (!buf_putc(b, ',') || !put_json_text(b, f->key, false) || !buf_putc(b, ':'))
        return false;
    switch (f->type) {
    case LOG_F_STR:
        return put_json_text(b, f->s, true);
    case LOG_F_INT:
        return buf_printf(b, "%" PRId64, f->i);
    case LOG_F_NUM:
        return isfinite(f->d) ? buf_printf(b, "%.15g", f->d) : buf_puts(b, "null");
    case LOG_F_BOOL:
        return buf_puts(b, f->i ? "true" : "false");
    }
    return buf_puts(b, "null");
}

/* The source and stream of a JSON line: ctx split at its first '.', the thread's
 * ctx filling in what ctx leaves out (see log.h). */
static void split_ctx(const char *ctx, char *source, size_t ssize, const char **stream)
{
    const char *full = ctx;
    size_t clen = ctx ? strlen(ctx) : 0;
    if (t_ctx && (!ctx || (strchr(ctx, '.') == NULL && strncmp(t_ctx, ctx, clen) == 0 &&
                           t_ctx[clen] == '.')))
        full = t_ctx;
    *stream = NULL;
    source[0] = '\0';
    if (!full)
        return;
    const char *dot = strchr(full, '.');
    size_t slen = dot ? (size_t)(dot - full) : strlen(full);
    if (slen >= ssize)
        slen = ssize - 1;
    memcpy(source, full, slen);
    source[slen] = '\0';
    *stream = dot ? dot + 1 : NULL;
}

static void now_stamp(char *dst, size_t size, bool millis)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!gmtime_r(&ts.tv_sec, &tm) || strftime(dst, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(dst, size, "0000-00-00T00:00:00");
        ts.tv_nsec = 0;
    }
    size_t len = strlen(dst);
    if (millis)
        snprintf(dst + len, size - len, ".%03ldZ", ts.tv_nsec / 1000000L);
    else
        snprintf(dst + len, size - len, "Z");
}

static bool build_json(buf *b, log_level level, const char *ctx, const char *event,
                       const log_field *fields, size_t nfields, const char *msg)
{
    char stamp[40], source[256];
    const char *stream;
    int64_t run_id = log_run_id();
    now_stamp(stamp, sizeof stamp, true);
    split_ctx(ctx, source, sizeof source, &stream);
    bool ok = buf_printf(b, "{\"time\":\"%s\",\"level\":\"%s\",\"run_id\":", stamp,
                         level_name(level, true)) &&
              (run_id ? buf_printf(b, "%" PRId64, run_id) : buf_puts(b, "null")) &&
              buf_puts(b, ",\"source\":") && put_json_text(b, source[0] ? source : NULL, true) &&
              buf_puts(b, ",\"stream\":") && put_json_text(b, stream, true) &&
              buf_puts(b, ",\"event\":") && put_json_text(b, event ? event : "log", false) &&
              buf_puts(b, ",\"msg\":") && put_json_text(b, msg, false);
    for (size_t i = 0; ok && i < nfields; i++)
        ok = put_json_field(b, &fields[i]);
    return ok && buf_puts(b, "}\n");
}

static bool build_text(buf *b, log_level level, const char *ctx, const char *msg)
{
    char stamp[40], cctx[512];
    int64_t run_id = log_run_id();
    now_stamp(stamp, sizeof stamp, false);
    if (ctx)
        log_redact(cctx, sizeof cctx, ctx);
    return buf_printf(b, "%s %-5s ", stamp, level_name(level, false)) &&
           (!run_id || buf_printf(b, "run=%" PRId64 " ", run_id)) &&
           (!ctx || buf_printf(b, "%s: ", cctx)) && buf_puts(b, msg) && buf_putc(b, '\n');
}

/* g_log_mu held: erases the live block (the cursor is on the line below it). */
static void live_erase(void)
{
    for (; g_live_lines > 0; g_live_lines--)
        fputs("\r\033[1A\033[2K", stderr);
}

/* g_log_mu held: draws the live block, one '\n' after each line. */
static void live_draw(void)
{
    if (!g_live || !*g_live)
        return;
    fputs(g_live, stderr);
    fputc('\n', stderr);
    g_live_lines = 1;
    for (const char *p = g_live; *p; p++)
        g_live_lines += *p == '\n';
}

static void write_line(const char *line, size_t len)
{
    pthread_mutex_lock(&g_log_mu);
    live_erase();
    fwrite(line, 1, len, stderr);
    live_draw();
    fflush(stderr);
    pthread_mutex_unlock(&g_log_mu);
}

static void vevent(log_level level, const char *ctx, const char *event, const log_field *fields,
                   size_t nfields, const char *fmt, va_list ap)
{
    char *clean = malloc(LOG_LINE_MAX);
    buf line;
    buf_init(&line, 0);
    if (!clean) {
        write_line("flowetl: log line lost: out of memory\n", 38);
        return;
    }
    format_clean(clean, fmt, ap);
    bool ok = g_format == LOG_FORMAT_JSON
                  ? build_json(&line, level, ctx, event, fields, nfields, clean)
                  : build_text(&line, level, ctx, clean);
    if (ok)
        write_line(line.data, line.len);
    else
        write_line("flowetl: log line lost: out of memory\n", 38);
    buf_term(&line);
    free(clean);
}

void log_msg(log_level level, const char *ctx, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vevent(level, ctx, "log", NULL, 0, fmt, ap);
    va_end(ap);
}

void log_event(log_level level, const char *ctx, const char *event, const log_field *fields,
               size_t nfields, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vevent(level, ctx, event, fields, nfields, fmt, ap);
    va_end(ap);
}

void log_live(const char *text)
{
    char *copy = NULL;
    if (text && *text) {
        size_t n = strlen(text) + 1;
        copy = malloc(n);
        if (copy)
            log_redact(copy, n, text);
    }
    pthread_mutex_lock(&g_log_mu);
    live_erase();
    free(g_live);
    g_live = copy;
    live_draw();
    fflush(stderr);
    pthread_mutex_unlock(&g_log_mu);
}

/* ---- URLs ---- */

static bool name_is_secret(const char *name, size_t len)
{
    static const char *const words[] = {"token", "key", "secret",  "pass",      "pwd",
                                        "auth",  "sig", "session", "credential"};
    char low[128];
    if (len >= sizeof low)
        len = sizeof low - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

/* Appends the query (after '?', up to '#' or the end) with secret values masked. */
static bool put_masked_query(buf *b, const char *q)
{
    while (*q && *q != '#') {
        size_t plen = strcspn(q, "&#");
        const char *eq = memchr(q, '=', plen);
        size_t nlen = eq ? (size_t)(eq - q) : plen;
        bool ok = eq && name_is_secret(q, nlen) ? buf_append(b, q, nlen + 1) && buf_puts(b, "***")
                                                : buf_append(b, q, plen);
        if (!ok)
            return false;
        q += plen;
        if (*q == '&') {
            if (!buf_putc(b, '&'))
                return false;
            q++;
        }
    }
    return buf_puts(b, *q == '#' ? q : "");
}

void log_mask_url(const char *url, char *dst, size_t size)
{
    buf b;
    buf_init(&b, 0);
    const char *rest = url;
    const char *scheme = strstr(url, "://");
    bool ok = true;
    if (scheme && (size_t)(scheme - url) < strcspn(url, "/?#")) {
        const char *auth = scheme + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *p = auth; p < auth + alen; p++)
            if (*p == '@')
                at = p; /* the last '@' of the authority ends the user information */
        ok = buf_append(&b, url, (size_t)(auth - url));
        rest = at ? at + 1 : auth;
    }
    size_t before_query = strcspn(rest, "?#");
    ok = ok && buf_append(&b, rest, before_query);
    if (ok && rest[before_query] == '?')
        ok = buf_putc(&b, '?') && put_masked_query(&b, rest + before_query + 1);
    else if (ok)
        ok = buf_puts(&b, rest + before_query);
    log_redact(dst, size, ok ? buf_cstr(&b) : "(URL lost: out of memory)");
    buf_term(&b);
}
