/* http_response: what comes back from an attempt and what it means: headers and
 * body (a 2xx body goes to the request's sink, another is kept, capped, for the
 * message), the verdict on a finished attempt (done, retried after the backoff or
 * the server's Retry-After, failed), and the one-line messages of results and
 * events. Part of the http module: extract/http.h is the contract,
 * extract/http_internal.h what its files share. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "core/buf.h"
#include "core/log.h"
#include "extract/backoff.h"
#include "extract/http.h"
#include "extract/http_internal.h"
#include "extract/ratelimit.h"

#ifndef CURL_WRITEFUNC_ERROR /* libcurl < 7.87: any short count is an error */
#define CURL_WRITEFUNC_ERROR 0
#endif

/* ---- callbacks ---- */

static bool is_2xx(long status)
{
    return status >= 200 && status <= 299;
}

/* Copies a header value (after "Name:"), trimmed, into dst. */
static void header_value(const char *v, size_t len, char *dst, size_t size)
{
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static long header_long(const char *v, size_t len)
{
    char text[32];
    header_value(v, len, text, sizeof text);
    char *end;
    long n = strtol(text, &end, 10);
    return end != text && *end == '\0' && n >= 0 ? n : -1;
}

static bool header_is(const char *line, size_t namelen, const char *name)
{
    return strlen(name) == namelen && strncasecmp(line, name, namelen) == 0;
}

/* Sees every header line of every response of the attempt (redirects and 1xx
 * included): a status line starts a new response and clears what the previous
 * one said. */
size_t http_on_header(char *line, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t len = size * n;
    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', len);
        x->status = sp ? header_long(sp + 1, 3) : 0;
        x->retry_after[0] = '\0';
        x->rl_remaining = x->rl_reset = -1;
        return len;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return len;
    size_t namelen = (size_t)(colon - line);
    const char *val = colon + 1;
    size_t vlen = len - namelen - 1;
    if (header_is(line, namelen, "Retry-After"))
        header_value(val, vlen, x->retry_after, sizeof x->retry_after);
    else if (header_is(line, namelen, "X-Rate-Limit-Remaining") ||
             header_is(line, namelen, "X-RateLimit-Remaining"))
        x->rl_remaining = header_long(val, vlen);
    else if (header_is(line, namelen, "X-Rate-Limit-Reset") ||
             header_is(line, namelen, "X-RateLimit-Reset"))
        x->rl_reset = header_long(val, vlen);
    return len;
}

/* 2xx bodies go to the sink as they arrive; others are kept (capped) for the
 * error message and the Retry-After body field. */
size_t http_on_write(char *data, size_t size, size_t n, void *ud)
{
    http_xfer *x = ud;
    size_t len = size * n;
    x->res->bytes += (int64_t)len;
    if (x->stats)
        x->stats->bytes += (int64_t)len;
    if (!is_2xx(x->status)) {
        size_t room = HTTP_ERROR_BODY_MAX - x->errbody.len;
        if (room > 0 && !buf_append(&x->errbody, data, len < room ? len : room))
            return CURL_WRITEFUNC_ERROR;
        return len;
    }
    if (!x->req->sink.on_data)
        return len;
    x->delivered = true;
    fe_rc rc = x->req->sink.on_data(x->req->sink.ctx, data, len, &x->sink_err);
    if (rc != FE_OK) {
        x->sink_rc = rc;
        if (!x->sink_err.msg[0])
            fe_err_set(&x->sink_err, rc, "response consumer failed");
        return CURL_WRITEFUNC_ERROR;
    }
    return len;
}

/* ---- results and messages ---- */

void http_fmt_wait(int64_t us, char *dst, size_t size)
{
    double s = (double)us / US_PER_S;
    snprintf(dst, size, s < 10 ? "%.1f s" : "%.0f s", s);
}

void http_fmt_span(int64_t us, char *dst, size_t size)
{
    if (us < 10 * US_PER_S && us % US_PER_S) {
        snprintf(dst, size, "%.1fs", (double)us / US_PER_S);
        return;
    }
    long long t = us / US_PER_S, h = t / 3600, m = t % 3600 / 60, sec = t % 60;
    size_t n = 0;
    dst[0] = '\0';
    if (h && n < size)
        n += (size_t)snprintf(dst + n, size - n, "%lldh", h);
    if (m && n < size)
        n += (size_t)snprintf(dst + n, size - n, "%lldm", m);
    if ((sec || t == 0) && n < size)
        snprintf(dst + n, size - n, "%llds", sec);
}

void http_fmt_rate(double rate, char *dst, size_t size)
{
    if (rate >= 1)
        snprintf(dst, size, "%.3g requests/s", rate);
    else if (rate * 60 >= 1)
        snprintf(dst, size, "%.3g requests/min", rate * 60);
    else
        snprintf(dst, size, "%.3g requests/hour", rate * 3600);
}

void http_notify(http_client *c, const http_xfer *x, http_event *ev, const char *fmt, ...)
{
    if (!c->opts.on_event)
        return;
    char text[1024], url[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_mask_url(http_xfer_url(x), url, sizeof url);
    ev->text = text;
    ev->method = http_xfer_method(x);
    ev->url = url;
    c->opts.on_event(c->opts.event_ctx, ev);
}

void http_notify_request(http_client *c, const http_xfer *x, CURLcode cc)
{
    if (!c->opts.on_event || !log_enabled(LOG_DEBUG))
        return;
    curl_off_t got = 0;
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    int64_t ms = (ratelimit_now_us() - x->attempt_start_us) / 1000;
    const char *reason = cc == CURLE_OK ? NULL : x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
    char url[1024], status[32];
    log_mask_url(http_xfer_url(x), url, sizeof url);
    if (cc == CURLE_OK)
        snprintf(status, sizeof status, "HTTP %ld", x->status);
    http_event ev = {.kind = HTTP_EV_REQUEST,
                     .level = LOG_DEBUG,
                     .name = "request",
                     .method = http_xfer_method(x),
                     .url = url,
                     .status = cc == CURLE_OK ? x->status : 0,
                     .bytes = (int64_t)got,
                     .ms = ms,
                     .attempt = x->res->attempts,
                     .reason = reason};
    char text[1400];
    snprintf(text, sizeof text, "%s %s -> %s, %" PRId64 " bytes, %" PRId64 " ms", ev.method, url,
             reason ? reason : status, ev.bytes, ms);
    ev.text = text;
    c->opts.on_event(c->opts.event_ctx, &ev);
}

/* Masks every registered secret in a kept error body, in place, before any of it
 * is cut for a message or handed to the caller: a server that echoes a token
 * must not leave a piece of it (a cut token no longer matches the secret).
 * Masking never lengthens the text. Out of memory: the body is dropped. */
static void errbody_redact(buf *body)
{
    if (!body->len)
        return;
    char *clean = log_redact_dup(buf_cstr(body));
    buf_reset(body);
    if (clean && !buf_puts(body, clean))
        buf_reset(body);
    free(clean);
}

/* First HTTP_SNIPPET_MAX bytes of the error body on one line, valid UTF-8: a
 * body in another charset (a gateway's page in windows-1251) has its bytes made
 * '?', or the message could not be stored in etl.run_stream nor sent as JSON. */
static void body_snippet(const buf *body, char *dst, size_t size)
{
    size_t n = body->len < HTTP_SNIPPET_MAX ? body->len : HTTP_SNIPPET_MAX;
    if (n > size - 1)
        n = size - 1;
    if (!body->data)
        n = 0;
    else if (n < body->len) /* a cut: not inside a character */
        n = buf_utf8_floor(body->data, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body->data[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[n] = '\0';
    buf_utf8_scrub(dst, n);
}

void http_xfer_finish(http_client *c, http_xfer *x, fe_rc rc)
{
    x->res->rc = rc;
    if (rc != FE_OK)
        x->res->err.code = rc;
    if (x->errbody.len && !is_2xx(x->res->status)) {
        errbody_redact(&x->errbody);
        x->res->error_body = buf_take(&x->errbody, NULL);
    }
    buf_term(&x->errbody);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    free(x->hop_url);
    x->hop_url = NULL;
    http_easy_put(c, x->easy);
    x->easy = NULL;
    x->state = XF_DONE;
}

void http_fail_status(http_client *c, http_xfer *x, const char *note)
{
    char what[600], snippet[HTTP_SNIPPET_MAX + 1], tries[32] = "";
    http_xfer_what(x, what, sizeof what);
    errbody_redact(&x->errbody);
    body_snippet(&x->errbody, snippet, sizeof snippet);
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, " after %d attempts", x->res->attempts);
    fe_err_set(&x->res->err, FE_EHTTP, "%s: HTTP %ld%s%s%s%s%s%s", what, x->res->status, tries,
               note ? " (" : "", note ? note : "", note ? ")" : "", snippet[0] ? ": " : "",
               snippet);
    http_xfer_finish(c, x, FE_EHTTP);
}

/* ", " or " (" ... ")" around the attempt count and note, for transport and sink
 * failures: " (after 3 attempts; retry_total 15m used up)". */
static void tries_suffix(const http_xfer *x, const char *note, char *dst, size_t size)
{
    char tries[32] = "";
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, "after %d attempts", x->res->attempts);
    if (!tries[0] && !note)
        dst[0] = '\0';
    else
        snprintf(dst, size, " (%s%s%s)", tries, tries[0] && note ? "; " : "", note ? note : "");
}

void http_fail_transport(http_client *c, http_xfer *x, CURLcode cc, const char *note)
{
    char what[600], tries[160];
    http_xfer_what(x, what, sizeof what);
    tries_suffix(x, note, tries, sizeof tries);
    fe_err_set(&x->res->err, FE_EHTTP, "%s: %s%s", what,
               x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), tries);
    http_xfer_finish(c, x, FE_EHTTP);
}

void http_fail_sink(http_client *c, http_xfer *x, const char *note)
{
    char what[600], tries[160];
    http_xfer_what(x, what, sizeof what);
    tries_suffix(x, note, tries, sizeof tries);
    x->res->err = x->sink_err;
    fe_err_wrap(&x->res->err, "%s", what);
    size_t len = strlen(x->res->err.msg);
    snprintf(x->res->err.msg + len, sizeof x->res->err.msg - len, "%s", tries);
    http_xfer_finish(c, x, x->sink_rc);
}

void http_fail_foreign(http_client *c, http_xfer *x, const http_origin *to, long redirect)
{
    char what[600], there[300], home[300];
    http_xfer_what(x, what, sizeof what);
    http_origin_text(&x->home, home, sizeof home);
    if (to)
        http_origin_text(to, there, sizeof there);
    else
        snprintf(there, sizeof there, "a URL that is not http(s)");
    x->res->foreign = true;
    if (redirect)
        fe_err_set(&x->res->err, FE_EHTTP,
                   "%s: HTTP %ld redirect to %s: refusing to send credentials there: they "
                   "belong to %s",
                   what, redirect, there, home);
    else
        fe_err_set(&x->res->err, FE_EHTTP,
                   "%s: refusing to send credentials to %s: they belong to %s (a `next` link or "
                   "redirect pointing elsewhere)",
                   what, there, home);
    http_xfer_finish(c, x, FE_EHTTP);
}

/* ---- retries ---- */

static bool status_retryable(long status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

static bool curl_retryable(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING: /* a gzip stream cut short */
        return true;
    default:
        return false;
    }
}

/* Retry-After from the JSON error body: {"retry_after_seconds": 7.88} or
 * {"retry_after": 3}. The body is at most 16 KiB, so a tree parse is bounded. */
static bool body_retry_after(const buf *body, int64_t *delay_us)
{
    if (!body->len)
        return false;
    const char *p = body->data;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p != '{')
        return false;
    yajl_val root = yajl_tree_parse(body->data, NULL, 0);
    if (!root)
        return false;
    static const char *const keys[] = {"retry_after_seconds", "retry_after"};
    bool found = false;
    for (size_t i = 0; i < 2 && !found; i++) {
        const char *path[] = {keys[i], NULL};
        yajl_val v = yajl_tree_get(root, path, yajl_t_any);
        if (YAJL_IS_NUMBER(v))
            found = backoff_parse_retry_after(YAJL_GET_NUMBER(v), (int64_t)time(NULL), delay_us);
        else if (YAJL_IS_STRING(v))
            found = backoff_parse_retry_after(YAJL_GET_STRING(v), (int64_t)time(NULL), delay_us);
    }
    yajl_tree_free(root);
    return found;
}

/* The server's own wait, from the header first, then the body; 0 when none. Not
 * capped here: retry_total judges it. */
static int64_t server_delay_us(const http_xfer *x)
{
    int64_t d = 0;
    if (!(x->retry_after[0] &&
          backoff_parse_retry_after(x->retry_after, (int64_t)time(NULL), &d)) &&
        !body_retry_after(&x->errbody, &d))
        return 0;
    return d;
}

/* What the last attempt ended with, for the retry line: "HTTP 503", the curl
 * error, or the sink's verdict on a 2xx body. */
static void attempt_reason(const http_xfer *x, CURLcode cc, bool judged, char *dst, size_t size)
{
    if (judged)
        snprintf(dst, size, "%s", x->sink_err.msg);
    else if (cc == CURLE_OK)
        snprintf(dst, size, "HTTP %ld", x->status);
    else
        snprintf(dst, size, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
}

/* Ends x because retry_total does not leave room for the next wait. */
static void fail_out_of_time(http_client *c, http_xfer *x, CURLcode cc, bool judged)
{
    char total[32], note[96];
    http_fmt_span(c->opts.retry_total_us, total, sizeof total);
    snprintf(note, sizeof note, "retry_total %s used up", total);
    if (judged)
        http_fail_sink(c, x, note);
    else if (cc == CURLE_OK)
        http_fail_status(c, x, note);
    else
        http_fail_transport(c, x, cc, note);
}

/* Schedules another attempt after the last one failed with cc (or, judged, with
 * a 2xx body the sink refused), or ends x when retry_total leaves no room. */
static void retry(http_client *c, http_xfer *x, CURLcode cc, bool judged)
{
    int64_t now = ratelimit_now_us();
    int64_t total = c->opts.retry_total_us;
    int64_t delay =
        backoff_delay_us(&c->opts.backoff, x->res->attempts, backoff_rand_next(&c->rng));
    int64_t server = cc == CURLE_OK && !judged ? server_delay_us(x) : 0;
    if (server > delay)
        delay = server;
    if (x->res->status == 429 && c->rl) /* every transfer of the source waits too */
        ratelimit_pause(c->rl, total > 0 && delay > total ? total : delay);
    int64_t left = total > 0 ? x->first_start_us + total - now : INT64_MAX;
    if (delay > left && server > 0 && server == delay) {
        char what[600], asked[32], rest[32], all[32];
        http_xfer_what(x, what, sizeof what);
        http_fmt_wait(server, asked, sizeof asked);
        http_fmt_span(left > 0 ? left : 0, rest, sizeof rest);
        http_fmt_span(total, all, sizeof all);
        fe_err_set(&x->res->err, FE_EHTTP,
                   "%s: HTTP %ld: server asked to wait %s (Retry-After) but only %s of "
                   "retry_total %s is left",
                   what, x->res->status, asked, rest, all);
        http_xfer_finish(c, x, FE_EHTTP);
        return;
    }
    if (delay > left) {
        fail_out_of_time(c, x, cc, judged);
        return;
    }
    char what[600], reason[sizeof x->sink_err.msg], wait[32];
    http_xfer_what(x, what, sizeof what);
    attempt_reason(x, cc, judged, reason, sizeof reason);
    http_fmt_wait(delay, wait, sizeof wait);
    http_event ev = {.kind = HTTP_EV_RETRY,
                     .level = LOG_INFO,
                     .name = "retry",
                     .status = cc == CURLE_OK ? x->status : 0,
                     .attempt = x->res->attempts,
                     .max_retries = c->opts.backoff.max_retries,
                     .delay_ms = delay / 1000,
                     .reason = reason};
    http_notify(c, x, &ev, "retry %d/%d in %s after %s on %s", x->res->attempts,
                c->opts.backoff.max_retries, wait, reason, what);
    if (x->delivered && x->req->sink.on_reset)
        x->req->sink.on_reset(x->req->sink.ctx);
    x->delivered = false;
    if (x->stats)
        x->stats->retries++;
    /* a retry starts the exchange again, from the URL as given */
    free(x->hop_url);
    x->hop_url = NULL;
    x->hop_as_get = x->hop_next = false;
    x->hops = 0;
    x->rl_logged = false;
    x->state = XF_WAITING;
    x->start_at_us = now + delay;
}

/* ---- the verdict on an attempt ---- */

/* The attempt reached request_timeout (not a low-speed or connect timeout): the
 * deadline was hit whatever libcurl's message says. libcurl judges it on its own
 * millisecond clock and may end the transfer a millisecond or so before ours says
 * the time is up: hence the tolerance. */
#define HTTP_DEADLINE_SLACK_US 20000
static bool deadline_hit(const http_client *c, const http_xfer *x, CURLcode cc)
{
    return cc == CURLE_OPERATION_TIMEDOUT && c->opts.request_timeout_us > 0 &&
           ratelimit_now_us() - x->attempt_start_us + HTTP_DEADLINE_SLACK_US >=
               c->opts.request_timeout_us;
}

static void fail_deadline(http_client *c, http_xfer *x)
{
    char what[600], limit[32], tries[160];
    curl_off_t got = 0;
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    http_xfer_what(x, what, sizeof what);
    http_fmt_span(c->opts.request_timeout_us, limit, sizeof limit);
    tries_suffix(x, NULL, tries, sizeof tries);
    fe_err_set(&x->res->err, FE_EHTTP,
               "%s: no complete answer within request_timeout %s (%" CURL_FORMAT_CURL_OFF_T
               " bytes received)%s",
               what, limit, got, tries);
    http_xfer_finish(c, x, FE_EHTTP);
}

/* An attempt the server did not act on: its limiter token goes back. */
static bool created_nothing(CURLcode cc, long status)
{
    return cc != CURLE_OK || status == 408 || status == 429 || status >= 500;
}

void http_attempt_done(http_client *c, http_xfer *x, CURLcode cc)
{
    long status = x->status;
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->status = status;
    http_notify_request(c, x, cc);
    x->res->status = status;
    if (status == 429 && x->stats)
        x->stats->http_429++;
    if (x->sink_rc != FE_OK) {
        http_fail_sink(c, x, NULL);
        return;
    }
    if (c->opts.refund_failed_attempts && c->rl && created_nothing(cc, status))
        ratelimit_refund(c->rl);
    bool retries_left = x->res->attempts <= c->opts.backoff.max_retries;
    if (cc == CURLE_OK && x->own_redirects && http_is_redirect(status) &&
        http_follow_redirect(c, x, status))
        return;
    if (cc == CURLE_OK && is_2xx(status)) {
        fe_rc rc =
            x->req->sink.on_end ? x->req->sink.on_end(x->req->sink.ctx, &x->sink_err) : FE_OK;
        if (rc == FE_OK) {
            http_xfer_finish(c, x, FE_OK);
            return;
        }
        x->delivered = true; /* the sink holds a document it judged bad */
        x->sink_rc = rc;
        if (!x->sink_err.msg[0])
            fe_err_set(&x->sink_err, rc, "unexpected response");
        if (retries_left) {
            retry(c, x, cc, true);
        } else {
            http_fail_sink(c, x, NULL);
        }
        return;
    }
    if (deadline_hit(c, x, cc)) {
        fail_deadline(c, x);
        return;
    }
    bool retryable = cc == CURLE_OK ? status_retryable(status) : curl_retryable(cc);
    if (retryable && retries_left)
        retry(c, x, cc, false);
    else if (cc == CURLE_OK)
        http_fail_status(c, x, NULL);
    else
        http_fail_transport(c, x, cc, NULL);
}
