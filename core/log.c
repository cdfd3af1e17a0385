#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"

/* Shorter secrets would redact ordinary words; config validation warns about them. */
#define LOG_MIN_SECRET 4
/* One line's text after redaction; longer lines are cut. */
#define LOG_LINE_MAX 4096

/* Set once by log_init before threads start, read-only afterwards (the project's
 * "config read once" exception to no global state). The mutex only orders
 * writers so lines never interleave. */
static struct {
    log_level level;
    char **secrets;
    size_t *lens;
    int n;
} g_log = {LOG_INFO, NULL, NULL, 0};
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static void free_secrets(void)
{
    for (int i = 0; i < g_log.n; i++)
        free(g_log.secrets[i]);
    free(g_log.secrets);
    free(g_log.lens);
    g_log.secrets = NULL;
    g_log.lens = NULL;
    g_log.n = 0;
}

void log_init(log_level level, const char *const *secrets, int nsecrets)
{
    free_secrets();
    g_log.level = level;
    if (nsecrets <= 0)
        return;
    g_log.secrets = calloc((size_t)nsecrets, sizeof *g_log.secrets);
    g_log.lens = calloc((size_t)nsecrets, sizeof *g_log.lens);
    if (!g_log.secrets || !g_log.lens)
        goto fail;
    for (int i = 0; i < nsecrets; i++) {
        if (!secrets[i] || strlen(secrets[i]) < LOG_MIN_SECRET)
            continue;
        g_log.secrets[g_log.n] = strdup(secrets[i]);
        if (!g_log.secrets[g_log.n])
            goto fail;
        g_log.lens[g_log.n] = strlen(secrets[i]);
        g_log.n++;
    }
    return;
fail:
    /* Without the list nothing could be redacted: better to print nothing. */
    free_secrets();
    g_log.level = LOG_ERROR;
    fputs("flowetl: out of memory while setting up logging\n", stderr);
}

void log_term(void)
{
    free_secrets();
}

bool log_enabled(log_level level)
{
    return level <= g_log.level;
}

/* Length of the longest registered secret that starts at s, or 0. */
static size_t secret_at(const char *s, size_t avail)
{
    size_t best = 0;
    for (int i = 0; i < g_log.n; i++) {
        size_t l = g_log.lens[i];
        if (l > best && l <= avail && s[0] == g_log.secrets[i][0] &&
            memcmp(s, g_log.secrets[i], l) == 0)
            best = l;
    }
    return best;
}

void log_redact(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return;
    size_t srclen = strlen(src), out = 0, i = 0;
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
    dst[buf_utf8_floor(dst, out)] = '\0';
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
