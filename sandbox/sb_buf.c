#include "sb_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_buf_init(sb_buf *b, size_t reserve)
{
    memset(b, 0, sizeof *b);
    if (reserve == 0)
        return;
    b->data = malloc(reserve);
    if (b->data == NULL) {
        b->failed = true;
        return;
    }
    b->cap = reserve;
    b->data[0] = '\0';
}

void sb_buf_term(sb_buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void sb_buf_reset(sb_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data != NULL)
        b->data[0] = '\0';
}

/* Makes room for extra more bytes plus the NUL; false (and failed set) when it cannot. */
static bool grow(sb_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = true;
        return false;
    }
    b->data = data;
    b->cap = cap;
    return true;
}

void sb_buf_put(sb_buf *b, const void *data, size_t len)
{
    if (!grow(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sb_buf_puts(sb_buf *b, const char *s)
{
    sb_buf_put(b, s, strlen(s));
}

void sb_buf_putc(sb_buf *b, char c)
{
    if (!grow(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void sb_buf_printf(sb_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if (!grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_buf_put_i64(sb_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    sb_buf_put(b, tmp, (size_t)n);
}

void sb_buf_put_fixed4(sb_buf *b, int64_t v4)
{
    char tmp[32];
    uint64_t mag = v4 < 0 ? (uint64_t)0 - (uint64_t)v4 : (uint64_t)v4;
    int n = snprintf(tmp, sizeof tmp, "%s%llu.%04llu", v4 < 0 ? "-" : "",
                     (unsigned long long)(mag / 10000), (unsigned long long)(mag % 10000));
    sb_buf_put(b, tmp, (size_t)n);
}

bool sb_buf_failed(const sb_buf *b)
{
    return b->failed;
}

const char *sb_buf_cstr(const sb_buf *b)
{
    return b->data != NULL && !b->failed ? b->data : "";
}

char *sb_buf_take(sb_buf *b, size_t *len)
{
    if (b->failed) {
        sb_buf_term(b);
        *len = 0;
        return NULL;
    }
    if (b->data == NULL)
        sb_buf_put(b, "", 0);
    char *data = b->data;
    *len = b->len;
    if (data == NULL) {
        sb_buf_term(b);
        return NULL;
    }
    memset(b, 0, sizeof *b);
    return data;
}
