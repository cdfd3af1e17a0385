/* json_stream_scan: the byte scanner of json_stream_feed and json_stream_finish
 * (extract/json_stream.h is the contract). yajl re-reads an incomplete token from
 * its start on every yajl_parse call, so complete tokens go to yajl straight from
 * the feed and a token cut by the end of a feed is held (capped by
 * max_record_bytes) until its last byte arrives. Part of the json_stream module
 * (json_stream_internal.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/buf.h"
#include "extract/json_stream.h"
#include "extract/json_stream_internal.h"

/* A token buffer that grew beyond this is freed once its token is parsed. */
#define JS_HOLD_KEEP ((size_t)1 << 20)

/* Turns a yajl failure into "invalid JSON at byte N: message"; data[0..len) is what
 * the failing yajl_parse call was given (NULL for yajl_complete_parse). */
static fe_rc js_syntax_error(json_stream *js, const unsigned char *data, size_t len, fe_err *err)
{
    size_t at = js->parsed + (data ? yajl_get_bytes_consumed(js->h) : 0);
    unsigned char *msg = yajl_get_error(js->h, 0, data, len);
    const char *text = msg ? (const char *)msg : "parse error";
    size_t tl = strlen(text);
    while (tl > 0 && (text[tl - 1] == '\n' || text[tl - 1] == ' '))
        tl--;
    js->rc = fe_err_set(&js->err, FE_EJSON, "invalid JSON at byte %zu: %.*s", at, (int)tl, text);
    if (msg)
        yajl_free_error(js->h, msg);
    if (err)
        *err = js->err;
    return js->rc;
}

static fe_rc js_sticky(json_stream *js, fe_err *err)
{
    if (err)
        *err = js->err;
    return js->rc;
}

/* Gives yajl data[0..len), whole tokens (feed_tokens and continue_token see to it:
 * yajl would re-read a token it got in part from its start on every later call). */
static fe_rc js_parse(json_stream *js, const char *data, size_t len, fe_err *err)
{
    if (len == 0)
        return FE_OK;
    yajl_status st = yajl_parse(js->h, (const unsigned char *)data, len);
    if (st == yajl_status_client_canceled)
        return js_sticky(js, err);
    if (st != yajl_status_ok)
        return js_syntax_error(js, (const unsigned char *)data, len, err);
    js->parsed += len;
    return FE_OK;
}

/* Refuses the document: the token starting at document offset start passed the cap. */
static fe_rc js_token_too_long(json_stream *js, js_tok tok, size_t start, fe_err *err)
{
    js->rc = fe_err_set(&js->err, FE_EJSON, "%s longer than %zu bytes at byte %zu",
                        tok == TOK_STRING ? "string" : "number", js->max_record_bytes, start);
    return js_sticky(js, err);
}

/* Bytes of a number or a literal (and of some invalid tokens, which yajl refuses). */
static bool is_bare(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

/* Looks for the closing quote of a string in p[i..len), its opening quote already
 * read; *escape: the byte before p[i] was an escaping backslash (updated for the
 * next feed when the string goes on). True with *end just past the closing quote,
 * or false (*end = len) when the string does not end here. A quote closes the
 * string unless an odd run of backslashes precedes it (each pair is one escaped
 * backslash), so only quotes are searched (memchr): linear, whatever the input. */
static inline bool string_end(const char *p, size_t i, size_t len, bool *escape, size_t *end)
{
    size_t from; /* backslash runs are counted back to here at most */
    *end = len;
    if (*escape) {
        if (i >= len)
            return false;
        i++; /* the escaped byte */
        *escape = false;
    }
    from = i;
    while (i < len) {
        const char *quote = memchr(p + i, '"', len - i);
        size_t at = quote ? (size_t)(quote - p) : len, k = at;
        while (k > from && p[k - 1] == '\\')
            k--;
        if (!quote) {
            *escape = (at - k) % 2 == 1; /* the chunk ends inside an escape */
            return false;
        }
        if ((at - k) % 2 == 0) {
            *end = at + 1;
            return true;
        }
        i = at + 1; /* an escaped quote */
    }
    return false;
}

/* End of a number or literal in p[i..len): the first byte that cannot belong to it,
 * or len. */
static size_t bare_end(const char *p, size_t i, size_t len)
{
    while (i < len && is_bare(p[i]))
        i++;
    return i;
}

/* The start of the first number or literal in p[from..to) longer than the cap, or
 * to. Regions between strings are short: only one longer than the cap is read. */
static size_t long_bare_run(const json_stream *js, const char *p, size_t from, size_t to)
{
    size_t cap = js->max_record_bytes;
    for (size_t i = from; i < to;) {
        if (!is_bare(p[i])) {
            i++;
            continue;
        }
        size_t end = bare_end(p, i, to);
        if (end - i > cap)
            return i;
        i = end;
    }
    return to;
}

/* Gives yajl p[0..at) and refuses the number starting at p[at]. */
static fe_rc refuse_bare_run(json_stream *js, const char *p, size_t at, fe_err *err)
{
    FE_TRY(js_parse(js, p, at, err));
    return js_token_too_long(js, TOK_BARE, js->fed + at, err);
}

/* Adds p[0..n) to the held token; refuses it once it passes the cap. */
static fe_rc hold_add(json_stream *js, const char *p, size_t n, fe_err *err)
{
    size_t open = js->hold.len - js->tok_from; /* bytes of the open token held */
    if (js->max_record_bytes && n > js->max_record_bytes - open) {
        /* yajl sees what comes before the token first, as when fed at once. */
        FE_TRY(js_parse(js, js->hold.data, js->tok_from, err));
        return js_token_too_long(js, js->tok, js->tok_start, err);
    }
    if (!buf_append(&js->hold, p, n)) {
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    return FE_OK;
}

/* Hands the completed held token to yajl in one call, then forgets it. */
static fe_rc hold_flush(json_stream *js, fe_err *err)
{
    fe_rc rc = js_parse(js, js->hold.data, js->hold.len, err);
    js->tok = TOK_NONE;
    js->tok_from = 0;
    if (js->hold.cap > JS_HOLD_KEEP) {
        size_t max = js->hold.max;
        buf_term(&js->hold);
        buf_init(&js->hold, max);
    }
    buf_reset(&js->hold);
    return rc;
}

/* Continues the held token with p[0..len); *used: how many bytes it took (all of
 * them while it goes on). */
static fe_rc continue_token(json_stream *js, const char *p, size_t len, size_t *used, fe_err *err)
{
    size_t end;
    if (js->tok == TOK_STRING) {
        bool done = string_end(p, 0, len, &js->tok_escape, &end);
        *used = end;
        FE_TRY(hold_add(js, p, end, err));
        return done ? hold_flush(js, err) : FE_OK;
    }
    end = bare_end(p, 0, len);
    *used = end;
    FE_TRY(hold_add(js, p, end, err));
    if (end == len)
        return FE_OK;
    /* The number ends here. yajl gets it with the byte after it, so that it need
     * not keep the number in a buffer of its own across calls, which would move
     * where it reports an error (invalid JSON) with the cuts between feeds. That
     * byte is a one-byte token, or the quote of a string (invalid there, but the
     * string is then held with the number and given whole). */
    size_t next = end + 1;
    if (!buf_append(&js->hold, p + end, 1)) {
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    *used = next;
    if (p[end] != '"')
        return hold_flush(js, err);
    js->tok = TOK_STRING;
    js->tok_escape = false;
    js->tok_from = js->hold.len - 1;
    js->tok_start = js->fed + end;
    size_t rest;
    bool done = string_end(p, next, len, &js->tok_escape, &rest);
    *used = rest;
    FE_TRY(hold_add(js, p + next, rest - next, err));
    return done ? hold_flush(js, err) : FE_OK;
}

/* Reads one chunk from p[0..len), no token open: every complete token goes to
 * yajl straight from p; a token still open at the end is held. Tokens are
 * measured against the cap as they are found, so the outcome does not depend on
 * where the feeds cut the document. */
static fe_rc feed_tokens(json_stream *js, const char *p, size_t len, fe_err *err)
{
    const size_t cap = js->max_record_bytes;
    size_t i = 0, tail = len; /* p[tail..len) is the open token, if any */
    while (i < len) {
        const char *quote = memchr(p + i, '"', len - i);
        if (!quote) {
            size_t t = len;
            while (t > i && is_bare(p[t - 1]))
                t--;
            size_t run = cap && t - i > cap ? long_bare_run(js, p, i, t) : t;
            if (run < t)
                return refuse_bare_run(js, p, run, err);
            if (t < len) {
                js->tok = TOK_BARE;
                tail = t;
            }
            break;
        }
        size_t q = (size_t)(quote - p);
        size_t run = cap && q - i > cap ? long_bare_run(js, p, i, q) : q;
        if (run < q)
            return refuse_bare_run(js, p, run, err);
        bool escape = false;
        size_t end;
        bool closed = string_end(p, q + 1, len, &escape, &end);
        if (cap && end - q > cap) {
            FE_TRY(js_parse(js, p, q, err));
            return js_token_too_long(js, TOK_STRING, js->fed + q, err);
        }
        if (!closed) {
            js->tok = TOK_STRING;
            js->tok_escape = escape;
            tail = q;
            break;
        }
        i = end;
    }
    /* A number right before the open string (invalid JSON) is held with it: cut
     * from its end, yajl would keep it across calls (see continue_token). */
    size_t from = tail;
    while (js->tok == TOK_STRING && from > i && is_bare(p[from - 1]))
        from--;
    FE_TRY(js_parse(js, p, from, err));
    if (js->tok == TOK_NONE)
        return FE_OK;
    js->tok_start = js->fed + tail;
    if (!buf_append(&js->hold, p + from, tail - from)) { /* shorter than the cap */
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    js->tok_from = js->hold.len;
    return hold_add(js, p + tail, len - tail, err);
}

fe_rc json_stream_feed(json_stream *js, const void *data, size_t len, fe_err *err)
{
    const char *p = data;
    size_t used = 0;
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    if (js->tok != TOK_NONE)
        FE_TRY(continue_token(js, p, len, &used, err));
    if (js->tok == TOK_NONE) {
        js->fed += used;
        FE_TRY(feed_tokens(js, p + used, len - used, err));
        js->fed += len - used;
    } else {
        js->fed += len;
    }
    return FE_OK;
}

fe_rc json_stream_finish(json_stream *js, fe_err *err)
{
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    if (js->tok != TOK_NONE)
        FE_TRY(hold_flush(js, err)); /* a number at the very end, or a cut-off token */
    yajl_status st = yajl_complete_parse(js->h);
    if (st == yajl_status_client_canceled)
        return js_sticky(js, err);
    if (st != yajl_status_ok)
        return js_syntax_error(js, NULL, 0, err);
    return FE_OK;
}
