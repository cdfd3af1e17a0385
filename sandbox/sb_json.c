#include "sb_json.h"

#include <stdio.h>
#include <string.h>

void sb_json_init(sb_json *j, sb_buf *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
}

/* Writes the separator a new value needs: nothing after a key, a comma after a
 * sibling. */
static void before_value(sb_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (j->has_member[j->depth - 1])
            sb_buf_putc(j->out, ',');
        j->has_member[j->depth - 1] = true;
    }
}

static void open_container(sb_json *j, char open, char close)
{
    before_value(j);
    if (j->depth >= SB_JSON_MAX_DEPTH) {
        j->out->failed = true;
        return;
    }
    sb_buf_putc(j->out, open);
    j->has_member[j->depth] = false;
    j->closer[j->depth++] = close;
}

void sb_json_obj(sb_json *j)
{
    open_container(j, '{', '}');
}

void sb_json_arr(sb_json *j)
{
    open_container(j, '[', ']');
}

void sb_json_end(sb_json *j)
{
    if (j->depth == 0) {
        j->out->failed = true;
        return;
    }
    j->depth--;
    sb_buf_putc(j->out, j->closer[j->depth]);
}

void sb_json_escape(sb_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    sb_buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escape */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            sb_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            sb_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            sb_buf_put(b, "\\n", 2);
            break;
        case '\t':
            sb_buf_put(b, "\\t", 2);
            break;
        case '\r':
            sb_buf_put(b, "\\r", 2);
            break;
        case '\b':
            sb_buf_put(b, "\\b", 2);
            break;
        case '\f':
            sb_buf_put(b, "\\f", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sb_buf_put(b, u, sizeof u);
        }
        }
    }
    sb_buf_put(b, s + run, len - run);
    sb_buf_putc(b, '"');
}

void sb_json_put_decimal(sb_buf *b, int64_t v4, int min_decimals)
{
    uint64_t mag = v4 < 0 ? (uint64_t)0 - (uint64_t)v4 : (uint64_t)v4;
    unsigned frac = (unsigned)(mag % 10000);
    int decimals = 4;
    while (decimals > 0 && decimals > min_decimals && frac % 10 == 0) {
        frac /= 10;
        decimals--;
    }
    char tmp[40];
    int n;
    if (decimals == 0)
        n = snprintf(tmp, sizeof tmp, "%s%llu", v4 < 0 ? "-" : "",
                     (unsigned long long)(mag / 10000));
    else
        n = snprintf(tmp, sizeof tmp, "%s%llu.%0*u", v4 < 0 ? "-" : "",
                     (unsigned long long)(mag / 10000), decimals, frac);
    sb_buf_put(b, tmp, (size_t)n);
}

void sb_json_key(sb_json *j, const char *key)
{
    before_value(j);
    sb_json_escape(j->out, key, strlen(key));
    sb_buf_putc(j->out, ':');
    j->after_key = true;
}

void sb_json_str(sb_json *j, const char *s)
{
    sb_json_strn(j, s, strlen(s));
}

void sb_json_strn(sb_json *j, const char *s, size_t len)
{
    before_value(j);
    sb_json_escape(j->out, s, len);
}

void sb_json_int(sb_json *j, int64_t v)
{
    before_value(j);
    sb_buf_put_i64(j->out, v);
}

void sb_json_bool(sb_json *j, bool v)
{
    sb_json_raw(j, v ? "true" : "false");
}

void sb_json_null(sb_json *j)
{
    sb_json_raw(j, "null");
}

void sb_json_raw(sb_json *j, const char *text)
{
    before_value(j);
    sb_buf_puts(j->out, text);
}

void sb_json_money(sb_json *j, int64_t v4, sb_money_style style)
{
    before_value(j);
    switch (style) {
    case SB_MONEY_NUMBER2:
        sb_json_put_decimal(j->out, v4, 2);
        break;
    case SB_MONEY_STRING2:
        sb_buf_putc(j->out, '"');
        sb_json_put_decimal(j->out, v4, 2);
        sb_buf_putc(j->out, '"');
        break;
    case SB_MONEY_STRING:
        sb_buf_putc(j->out, '"');
        sb_json_put_decimal(j->out, v4, 0);
        sb_buf_putc(j->out, '"');
        break;
    default:
        sb_json_put_decimal(j->out, v4, 0);
        break;
    }
}

void sb_json_kstr(sb_json *j, const char *key, const char *s)
{
    sb_json_key(j, key);
    sb_json_str(j, s);
}

void sb_json_kint(sb_json *j, const char *key, int64_t v)
{
    sb_json_key(j, key);
    sb_json_int(j, v);
}

void sb_json_kbool(sb_json *j, const char *key, bool v)
{
    sb_json_key(j, key);
    sb_json_bool(j, v);
}

void sb_json_knull(sb_json *j, const char *key)
{
    sb_json_key(j, key);
    sb_json_null(j);
}

void sb_json_kmoney(sb_json *j, const char *key, int64_t v4, sb_money_style style)
{
    sb_json_key(j, key);
    sb_json_money(j, v4, style);
}
