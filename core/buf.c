#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_term(buf *b)
{
    if (!b)
        return;
    free(b->data);
    buf_init(b, b->max);
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for `extra` more bytes plus the NUL. Capacity doubles so a long run
 * of small appends costs amortized O(1) each. */
static bool buf_reserve(buf *b, size_t extra)
{
    if (extra > SIZE_MAX - 1 - b->len)
        return false;
    size_t need = b->len + extra;
    if (b->max && need > b->max)
        return false;
    if (need + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need + 1) {
        if (cap > SIZE_MAX / 2) {
            cap = need + 1;
            break;
        }
        cap *= 2;
    }
    if (b->max && cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool buf_append(buf *b, const void *data, size_t len)
{
    if (!buf_reserve(b, len))
        return false;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool buf_puts(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_putc(buf *b, char c)
{
    return buf_append(b, &c, 1);
}

bool buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static const char HEX[] = "0123456789ABCDEF";

bool buf_put_urlenc(buf *b, const char *s)
{
    size_t start = b->len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool ok;
        if (is_unreserved(*p)) {
            ok = buf_putc(b, (char)*p);
        } else {
            char esc[3] = {'%', HEX[*p >> 4], HEX[*p & 15]};
            ok = buf_append(b, esc, 3);
        }
        if (!ok)
            goto fail;
    }
    return true;
fail:
    b->len = start;
    if (b->data)
        b->data[start] = '\0';
    return false;
}

/* Appends the run s[from..to) of bytes that need no escaping. */
static bool put_plain(buf *b, const char *s, size_t from, size_t to)
{
    return to == from || buf_append(b, s + from, to - from);
}

bool buf_put_jsonstr(buf *b, const char *s)
{
    size_t start = b->len;
    size_t plain = 0, i = 0;
    if (!buf_putc(b, '"'))
        goto fail;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (!put_plain(b, s, plain, i))
            goto fail;
        plain = i + 1;
        bool ok;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            ok = buf_append(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
            ok = buf_append(b, esc, 6);
        }
        if (!ok)
            goto fail;
    }
    if (!put_plain(b, s, plain, i) || !buf_putc(b, '"'))
        goto fail;
    return true;
fail:
    b->len = start;
    if (b->data)
        b->data[start] = '\0';
    return false;
}

const char *buf_cstr(buf *b)
{
    return b->data ? b->data : "";
}

char *buf_take(buf *b, size_t *len)
{
    char *p = b->data;
    if (len)
        *len = p ? b->len : 0;
    buf_init(b, b->max);
    return p;
}

size_t buf_utf8_floor(const char *s, size_t n)
{
    size_t i = n;
    /* Walk back over at most 3 continuation bytes to the lead byte of the last
     * sequence, then keep that sequence only when it is complete. */
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n - i >= 4 ? n : 0;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want;
    if (lead < 0x80)
        return n;
    else if ((lead & 0xE0) == 0xC0)
        want = 2;
    else if ((lead & 0xF0) == 0xE0)
        want = 3;
    else if ((lead & 0xF8) == 0xF0)
        want = 4;
    else
        return n; /* not UTF-8 anyway: nothing to protect */
    size_t have = n - (i - 1);
    return have >= want ? n : i - 1;
}

size_t buf_utf8_seq_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0], lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
        hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* overlong */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* past U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

size_t buf_utf8_scrub(char *s, size_t n)
{
    size_t replaced = 0;
    for (size_t i = 0; i < n;) {
        size_t len = buf_utf8_seq_len(s + i, n - i);
        if (len == 0) {
            s[i] = '?';
            replaced++;
            len = 1;
        }
        i += len;
    }
    return replaced;
}

bool buf_put_query(buf *b, const char *name, const char *value)
{
    char last = b->len ? b->data[b->len - 1] : '?';
    return (last == '?' || buf_putc(b, '&')) && buf_put_urlenc(b, name) && buf_putc(b, '=') &&
           buf_put_urlenc(b, value);
}

bool buf_put_query_long(buf *b, const char *name, long value)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", value);
    return buf_put_query(b, name, text);
}

void buf_vtextf(char *dst, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(dst, size, fmt, ap);
    if (n >= 0 && (size_t)n >= size)
        dst[buf_utf8_floor(dst, size - 1)] = '\0';
}

void buf_textf(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vtextf(dst, size, fmt, ap);
    va_end(ap);
}

void *buf_array_room(void *items, size_t *cap, size_t n, size_t elsize, size_t first)
{
    if (n < *cap)
        return items;
    size_t want = *cap ? *cap * 2 : first;
    if (want <= n || elsize == 0 || want > SIZE_MAX / elsize)
        return NULL;
    void *p = realloc(items, want * elsize);
    if (p)
        *cap = want;
    return p;
}

bool buf_str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

uint64_t buf_fnv1a(uint64_t h, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}
