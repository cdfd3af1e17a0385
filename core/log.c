#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    pthread_mutex_lock(&g_secrets_mu);
    free_secrets();
    pthread_mutex_unlock(&g_secrets_mu);
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

static const char *level_name(log_level level)
{
    switch (level) {
    case LOG_ERROR:
        return "ERROR";
    case LOG_WARN:
        return "WARN";
    case LOG_INFO:
        return "INFO";
    case LOG_DEBUG:
        return "DEBUG";
    }
    return "?";
}

/* Formats "ctx: message" whole, so that redaction sees every secret complete
 * (cutting before redacting could leave the start of one). Returns a pointer to
 * small or to a heap copy (caller frees when it differs), or NULL. */
static char *format_raw(char *small, size_t size, const char *ctx, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    size_t prefix = ctx ? strlen(ctx) + 2 : 0;
    size_t need = prefix + (size_t)n + 1;
    char *raw = need <= size ? small : malloc(need);
    if (!raw)
        return NULL;
    if (ctx) {
        memcpy(raw, ctx, prefix - 2);
        memcpy(raw + prefix - 2, ": ", 2);
    }
    vsnprintf(raw + prefix, need - prefix, fmt, ap);
    size_t len = need - 1;
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
        raw[--len] = '\0';
    return raw;
}

void log_msg(log_level level, const char *ctx, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char small[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    char *raw = format_raw(small, sizeof small, ctx, fmt, ap);
    va_end(ap);
    char clean[LOG_LINE_MAX];
    log_redact(clean, sizeof clean, raw ? raw : "(log line lost: out of memory)");
    if (raw != small)
        free(raw);

    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        memcpy(stamp, "0000-00-00T00:00:00Z", sizeof "0000-00-00T00:00:00Z");

    pthread_mutex_lock(&g_log_mu);
    fprintf(stderr, "%s %-5s %s\n", stamp, level_name(level), clean);
    fflush(stderr);
    pthread_mutex_unlock(&g_log_mu);
}
