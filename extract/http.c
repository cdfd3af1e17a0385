#include "extract/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "core/buf.h"
#include "core/log.h"

#ifndef FLOWETL_VERSION
#define FLOWETL_VERSION "dev"
#endif
#ifndef CURL_WRITEFUNC_ERROR /* libcurl < 7.87: any short count is an error */
#define CURL_WRITEFUNC_ERROR 0
#endif

#define HTTP_ERROR_BODY_MAX (16 * 1024) /* what is kept of a non-2xx body */
#define HTTP_SNIPPET_MAX 200            /* what of it goes into the error message */
#define HTTP_MAX_REDIRECTS 5L
#define US_PER_S 1000000LL
/* The loop wakes at least this often while it waits for tokens or retry times. */
#define HTTP_POLL_MAX_MS 1000
/* libcurl 7.83.0 is the first that drops custom Authorization and Cookie headers
 * on every redirect to another host, port or scheme (CVE-2022-27776). */
#define HTTP_MIN_CURL 0x075300

/* Where credentials may go: scheme and host lower-cased, the port explicit. */
typedef struct {
    char scheme[16];
    char host[256];
    long port;
} origin;

struct http_client {
    http_opts opts; /* as given; the strings point at the copies below */
    char *user_agent;
    char *ca_file;
    char *origin_url;
    origin home; /* of origin_url, when set */
    ratelimit *rl;
    CURLM *multi;
    CURL **idle; /* easy handles between transfers, reused (their caches survive) */
    int nidle;
    uint64_t rng;
};

typedef enum { XF_IDLE, XF_WAITING, XF_RUNNING, XF_DONE } xf_state;

/* One request of http_run_many, across its attempts. */
typedef struct {
    const http_request *req;
    http_result *res;
    stream_stats *stats;
    CURL *easy;
    struct curl_slist *headers;
    xf_state state;
    int64_t start_at_us;    /* XF_WAITING: not before this */
    bool delivered;         /* the sink got bytes since its last reset */
    bool credentialed;      /* Authorization header or body_has_credentials */
    bool own_redirects;     /* redirects are followed here, within `home` */
    origin home;            /* where the credentials may go */
    int64_t first_start_us; /* start of the first attempt, 0 before it */
    /* the redirect hop under way (own_redirects), or the request as given: */
    char *hop_url;   /* malloc'd target of the last redirect, NULL = req->url */
    bool hop_as_get; /* a 303 (or a POST's 301/302) made it a GET without body */
    bool hop_next;   /* the next transfer is a hop, not a new attempt */
    int hops;
    /* per attempt: */
    int64_t attempt_start_us;
    bool rl_logged;   /* a long rate-limit wait was reported */
    CURLcode last_cc; /* how the last transfer ended */
    long status;      /* of the last status line seen (redirects give several) */
    fe_rc sink_rc;
    fe_err sink_err;
    buf errbody;
    char retry_after[64];
    long rl_remaining; /* X-Rate-Limit-Remaining, -1 when absent; kept for a later
                          per-source rate correction */
    long rl_reset;     /* X-Rate-Limit-Reset, -1 when absent */
    char errbuf[CURL_ERROR_SIZE];
} xfer;

void http_opts_default(http_opts *o)
{
    *o = (http_opts){
        .connect_timeout_s = 10,
        .low_speed_time_s = 60,
        .request_timeout_us = 300 * US_PER_S,
        .retry_total_us = 900 * US_PER_S,
        .max_parallel = 4,
        .backoff = {.base_us = 500000, .max_us = 60000000, .max_retries = 8},
        .user_agent = "flowetl/" FLOWETL_VERSION,
        .ca_file = NULL,
        .insecure = false,
    };
}

void http_result_term(http_result *r)
{
    if (!r)
        return;
    free(r->error_body);
    r->error_body = NULL;
}

bool http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void http_global_term(void)
{
    curl_global_cleanup();
}

/* ---- origins ---- */

/* The origin of an absolute http(s) URL; false when it is not one. */
static bool origin_of(const char *url, origin *o)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              strlen(scheme) < sizeof o->scheme && strlen(host) < sizeof o->host;
    if (ok) {
        char *end;
        memset(o, 0, sizeof *o);
        for (size_t i = 0; scheme[i]; i++)
            o->scheme[i] = (char)tolower((unsigned char)scheme[i]);
        for (size_t i = 0; host[i]; i++)
            o->host[i] = (char)tolower((unsigned char)host[i]);
        o->port = strtol(port, &end, 10);
        ok = *end == '\0' && (strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

static bool origin_eq(const origin *a, const origin *b)
{
    return a->port == b->port && strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0;
}

/* "https://shop.example.com", with ":port" when it is not the scheme's default. */
static void origin_text(const origin *o, char *dst, size_t size)
{
    long def = strcmp(o->scheme, "https") == 0 ? 443 : 80;
    if (o->port == def)
        snprintf(dst, size, "%s://%s", o->scheme, o->host);
    else
        snprintf(dst, size, "%s://%s:%ld", o->scheme, o->host, o->port);
}

/* ---- client ---- */

http_client *http_client_new(const http_opts *opts, ratelimit *rl, fe_err *err)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v->version_num < HTTP_MIN_CURL) {
        fe_err_set(err, FE_ECONFIG, "libcurl %s is too old: 7.83.0 or newer is required",
                   v->version);
        return NULL;
    }
    http_opts def;
    http_opts_default(&def);
    if (!opts)
        opts = &def;
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        goto nomem;
    c->opts = *opts;
    http_opts *o = &c->opts;
    if (o->connect_timeout_s <= 0)
        o->connect_timeout_s = 10;
    if (o->low_speed_time_s <= 0)
        o->low_speed_time_s = 60;
    if (o->request_timeout_us < 0)
        o->request_timeout_us = 0;
    if (o->retry_total_us < 0)
        o->retry_total_us = 0;
    if (o->max_parallel <= 0)
        o->max_parallel = 1;
    c->rl = rl;
    c->user_agent = strdup(opts->user_agent ? opts->user_agent : def.user_agent);
    c->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
    c->origin_url = opts->origin_url ? strdup(opts->origin_url) : NULL;
    c->idle = calloc((size_t)o->max_parallel, sizeof *c->idle);
    c->multi = curl_multi_init();
    if (!c->user_agent || (opts->ca_file && !c->ca_file) || (opts->origin_url && !c->origin_url) ||
        !c->idle || !c->multi)
        goto nomem;
    o->user_agent = c->user_agent;
    o->ca_file = c->ca_file;
    o->origin_url = c->origin_url;
    if (c->origin_url && !origin_of(c->origin_url, &c->home)) {
        fe_err_set(err, FE_ECONFIG, "base URL '%.200s' is not an http or https URL", c->origin_url);
        http_client_free(c);
        return NULL;
    }
    /* Seeded per client from the clock and its address: jitter differs between
     * workers without any shared state. */
    c->rng = (uint64_t)ratelimit_now_us() ^ (uint64_t)(uintptr_t)c;
    return c;
nomem:
    http_client_free(c);
    fe_err_set(err, FE_ENOMEM, "out of memory creating the HTTP client");
    return NULL;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c->idle);
    free(c->user_agent);
    free(c->ca_file);
    free(c->origin_url);
    free(c);
}

void http_client_opts(const http_client *c, http_opts *out)
{
    *out = c->opts;
}

fe_rc http_sleep(http_client *c, int64_t us, fe_err *err)
{
    int64_t end = ratelimit_now_us() + us;
    for (;;) {
        if (fe_stop_requested(c->opts.stop))
            return fe_err_set(err, FE_EINTR, "interrupted");
        int64_t left = end - ratelimit_now_us();
        if (left <= 0)
            return FE_OK;
        if (left > US_PER_S)
            left = US_PER_S;
        struct timespec ts = {.tv_sec = (time_t)(left / US_PER_S),
                              .tv_nsec = (long)(left % US_PER_S) * 1000};
        nanosleep(&ts, NULL); /* woken early by a signal: the loop looks again */
    }
}

static CURL *easy_get(http_client *c)
{
    return c->nidle > 0 ? c->idle[--c->nidle] : curl_easy_init();
}

static void easy_put(http_client *c, CURL *e)
{
    if (!e)
        return;
    if (c->nidle < c->opts.max_parallel)
        c->idle[c->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

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
static size_t on_header(char *line, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
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
static size_t on_write(char *data, size_t size, size_t n, void *ud)
{
    xfer *x = ud;
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

/* ---- one attempt ---- */

/* The method of the transfer under way: GET after a redirect that made it one. */
static const char *method_of_x(const xfer *x)
{
    if (x->hop_as_get)
        return "GET";
    return x->req->method ? x->req->method : "GET";
}

static const char *url_of_x(const xfer *x)
{
    return x->hop_url ? x->hop_url : x->req->url;
}

#define SETOPT(e, opt, val) (ok = ok && curl_easy_setopt((e), (opt), (val)) == CURLE_OK)

/* Connection, TLS, redirect and timeout options. follow: libcurl follows
 * redirects (requests without credentials, or whose credential may be dropped). */
static bool set_transport(http_client *c, CURL *e, bool follow)
{
    bool ok = true;
    const http_opts *o = &c->opts;
    SETOPT(e, CURLOPT_USERAGENT, c->user_agent);
    SETOPT(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl decodes */
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    SETOPT(e, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRECTS);
    /* Off: Authorization and Cookie headers are not sent to another host,
     * port or scheme after a redirect (this is what no_auth_on_redirect relies on). */
    SETOPT(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
    SETOPT(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    if (o->request_timeout_us > 0) {
        int64_t ms = (o->request_timeout_us + 999) / 1000;
        SETOPT(e, CURLOPT_TIMEOUT_MS, (long)(ms < LONG_MAX ? ms : LONG_MAX));
    }
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (c->ca_file)
        SETOPT(e, CURLOPT_CAINFO, c->ca_file);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return ok;
}

/* GET, POST with a body, or another method (PATCH, PUT, DELETE) with or without one. */
static bool set_method(CURL *e, const xfer *x)
{
    bool ok = true;
    const http_request *r = x->req;
    const char *m = method_of_x(x);
    if (strcmp(m, "GET") == 0)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    if (strcmp(m, "POST") != 0)
        SETOPT(e, CURLOPT_CUSTOMREQUEST, m);
    if (r->body || strcmp(m, "POST") == 0) {
        SETOPT(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
    }
    return ok;
}

/* Sets up x->easy for a new attempt (or redirect hop) and forgets what the
 * previous one saw. Returns false when libcurl refused an option. */
static bool attempt_setup(http_client *c, xfer *x)
{
    CURL *e = x->easy;
    bool ok = true;
    curl_easy_reset(e);
    x->status = 0;
    x->sink_rc = FE_OK;
    fe_err_clear(&x->sink_err);
    buf_reset(&x->errbody);
    x->retry_after[0] = '\0';
    x->rl_remaining = x->rl_reset = -1;
    x->errbuf[0] = '\0';

    SETOPT(e, CURLOPT_URL, url_of_x(x));
    SETOPT(e, CURLOPT_PRIVATE, x);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(e, CURLOPT_WRITEDATA, x);
    SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(e, CURLOPT_HEADERDATA, x);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_HTTPHEADER, x->headers);
    return ok && set_transport(c, e, !x->own_redirects) && set_method(e, x);
}

/* ---- results and messages ---- */

void http_url_for_message(const char *url, char *dst, size_t size)
{
    CURLU *u = curl_url();
    char *path = NULL, *query = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        snprintf(dst, size, "%s%s%s", path, query ? "?" : "", query ? query : "");
    } else {
        snprintf(dst, size, "%s", url);
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
}

/* "GET /v1/orders?page=2": the transfer under way, for messages. */
static void what_of(const xfer *x, char *dst, size_t size)
{
    char where[512];
    http_url_for_message(url_of_x(x), where, sizeof where);
    snprintf(dst, size, "%s %s", method_of_x(x), where);
}

/* A wait for messages: "4.0 s", "3600 s". */
static void fmt_wait(int64_t us, char *dst, size_t size)
{
    double s = (double)us / US_PER_S;
    snprintf(dst, size, s < 10 ? "%.1f s" : "%.0f s", s);
}

/* A budget for messages, as config durations are written: "15m", "14m12s", "10s",
 * "1h5m", "0.5s". */
static void fmt_span(int64_t us, char *dst, size_t size)
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

/* Requests per second as people say it: "5 requests/s", "5 requests/hour". */
static void fmt_rate(double rate, char *dst, size_t size)
{
    if (rate >= 1)
        snprintf(dst, size, "%.3g requests/s", rate);
    else if (rate * 60 >= 1)
        snprintf(dst, size, "%.3g requests/min", rate * 60);
    else
        snprintf(dst, size, "%.3g requests/hour", rate * 3600);
}

static void notify(http_client *c, log_level level, const char *fmt, ...) FE_PRINTF(3, 4);

/* One line for the caller's log (opts.on_event). */
static void notify(http_client *c, log_level level, const char *fmt, ...)
{
    if (!c->opts.on_event)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    c->opts.on_event(c->opts.event_ctx, level, text);
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

static void finish(http_client *c, xfer *x, fe_rc rc)
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
    easy_put(c, x->easy);
    x->easy = NULL;
    x->state = XF_DONE;
}

/* note (may be NULL): why it ended before the retries ran out. */
static void fail_http(http_client *c, xfer *x, const char *note)
{
    char what[600], snippet[HTTP_SNIPPET_MAX + 1], tries[32] = "";
    what_of(x, what, sizeof what);
    errbody_redact(&x->errbody);
    body_snippet(&x->errbody, snippet, sizeof snippet);
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, " after %d attempts", x->res->attempts);
    fe_err_set(&x->res->err, FE_EHTTP, "%s: HTTP %ld%s%s%s%s%s%s", what, x->res->status, tries,
               note ? " (" : "", note ? note : "", note ? ")" : "", snippet[0] ? ": " : "",
               snippet);
    finish(c, x, FE_EHTTP);
}

/* ", " or " (" ... ")" around the attempt count and note, for transport and sink
 * failures: " (after 3 attempts; retry_total 15m used up)". */
static void tries_suffix(const xfer *x, const char *note, char *dst, size_t size)
{
    char tries[32] = "";
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, "after %d attempts", x->res->attempts);
    if (!tries[0] && !note)
        dst[0] = '\0';
    else
        snprintf(dst, size, " (%s%s%s)", tries, tries[0] && note ? "; " : "", note ? note : "");
}

static void fail_transport(http_client *c, xfer *x, CURLcode cc, const char *note)
{
    char what[600], tries[160];
    what_of(x, what, sizeof what);
    tries_suffix(x, note, tries, sizeof tries);
    fe_err_set(&x->res->err, FE_EHTTP, "%s: %s%s", what,
               x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), tries);
    finish(c, x, FE_EHTTP);
}

static void fail_sink(http_client *c, xfer *x, const char *note)
{
    char what[600], tries[160];
    what_of(x, what, sizeof what);
    tries_suffix(x, note, tries, sizeof tries);
    x->res->err = x->sink_err;
    fe_err_wrap(&x->res->err, "%s", what);
    size_t len = strlen(x->res->err.msg);
    snprintf(x->res->err.msg + len, sizeof x->res->err.msg - len, "%s", tries);
    finish(c, x, x->sink_rc);
}

/* Credentials would go to `to` (NULL: not an http(s) URL): the request ends here,
 * unsent. redirect: the status of the redirect that pointed there, 0 when it is
 * the request's own URL (a `next` link). */
static void fail_foreign(http_client *c, xfer *x, const origin *to, long redirect)
{
    char what[600], there[300], home[300];
    what_of(x, what, sizeof what);
    origin_text(&x->home, home, sizeof home);
    if (to)
        origin_text(to, there, sizeof there);
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
    finish(c, x, FE_EHTTP);
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
static int64_t server_delay_us(const xfer *x)
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
static void attempt_reason(const xfer *x, CURLcode cc, bool judged, char *dst, size_t size)
{
    if (judged)
        snprintf(dst, size, "%s", x->sink_err.msg);
    else if (cc == CURLE_OK)
        snprintf(dst, size, "HTTP %ld", x->status);
    else
        snprintf(dst, size, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc));
}

/* Ends x because retry_total does not leave room for the next wait. */
static void fail_out_of_time(http_client *c, xfer *x, CURLcode cc, bool judged)
{
    char total[32], note[96];
    fmt_span(c->opts.retry_total_us, total, sizeof total);
    snprintf(note, sizeof note, "retry_total %s used up", total);
    if (judged)
        fail_sink(c, x, note);
    else if (cc == CURLE_OK)
        fail_http(c, x, note);
    else
        fail_transport(c, x, cc, note);
}

/* Schedules another attempt after the last one failed with cc (or, judged, with
 * a 2xx body the sink refused), or ends x when retry_total leaves no room. */
static void retry(http_client *c, xfer *x, CURLcode cc, bool judged)
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
        what_of(x, what, sizeof what);
        fmt_wait(server, asked, sizeof asked);
        fmt_span(left > 0 ? left : 0, rest, sizeof rest);
        fmt_span(total, all, sizeof all);
        fe_err_set(&x->res->err, FE_EHTTP,
                   "%s: HTTP %ld: server asked to wait %s (Retry-After) but only %s of "
                   "retry_total %s is left",
                   what, x->res->status, asked, rest, all);
        finish(c, x, FE_EHTTP);
        return;
    }
    if (delay > left) {
        fail_out_of_time(c, x, cc, judged);
        return;
    }
    char what[600], reason[sizeof x->sink_err.msg], wait[32];
    what_of(x, what, sizeof what);
    attempt_reason(x, cc, judged, reason, sizeof reason);
    fmt_wait(delay, wait, sizeof wait);
    notify(c, LOG_INFO, "retry %d/%d in %s after %s on %s", x->res->attempts,
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

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* A redirect of a request that carries credentials, followed here: within the
 * origin only. Returns false when the answer has no Location (it is then an
 * ordinary answer); true when x was scheduled for the hop or failed. */
static bool follow_redirect(http_client *c, xfer *x, long status)
{
    char *loc = NULL;
    origin to;
    if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
        return false;
    if (!origin_of(loc, &to)) {
        fail_foreign(c, x, NULL, status);
        return true;
    }
    if (!origin_eq(&to, &x->home)) {
        fail_foreign(c, x, &to, status);
        return true;
    }
    if (x->hops >= HTTP_MAX_REDIRECTS) {
        char what[600];
        what_of(x, what, sizeof what);
        fe_err_set(&x->res->err, FE_EHTTP, "%s: more than %ld redirects", what, HTTP_MAX_REDIRECTS);
        finish(c, x, FE_EHTTP);
        return true;
    }
    char *next = strdup(loc);
    if (!next) {
        fe_err_set(&x->res->err, FE_ENOMEM, "out of memory following a redirect");
        finish(c, x, FE_ENOMEM);
        return true;
    }
    /* RFC 9110 15.4: 303 means "GET it there"; 301/302 turn a POST into a GET
     * (what every client does); 307/308 repeat the request as it was. */
    if (status == 303 || ((status == 301 || status == 302) && strcmp(method_of_x(x), "POST") == 0))
        x->hop_as_get = true;
    free(x->hop_url);
    x->hop_url = next;
    x->hops++;
    x->hop_next = true;
    x->state = XF_WAITING;
    x->start_at_us = 0;
    return true;
}

/* The attempt reached request_timeout (not a low-speed or connect timeout): the
 * deadline was hit whatever libcurl's message says. libcurl judges it on its own
 * millisecond clock and may end the transfer a millisecond or so before ours says
 * the time is up: hence the tolerance. */
#define HTTP_DEADLINE_SLACK_US 20000
static bool deadline_hit(const http_client *c, const xfer *x, CURLcode cc)
{
    return cc == CURLE_OPERATION_TIMEDOUT && c->opts.request_timeout_us > 0 &&
           ratelimit_now_us() - x->attempt_start_us + HTTP_DEADLINE_SLACK_US >=
               c->opts.request_timeout_us;
}

static void fail_deadline(http_client *c, xfer *x)
{
    char what[600], limit[32], tries[160];
    curl_off_t got = 0;
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &got);
    what_of(x, what, sizeof what);
    fmt_span(c->opts.request_timeout_us, limit, sizeof limit);
    tries_suffix(x, NULL, tries, sizeof tries);
    fe_err_set(&x->res->err, FE_EHTTP,
               "%s: no complete answer within request_timeout %s (%" CURL_FORMAT_CURL_OFF_T
               " bytes received)%s",
               what, limit, got, tries);
    finish(c, x, FE_EHTTP);
}

/* An attempt the server did not act on: its limiter token goes back. */
static bool created_nothing(CURLcode cc, long status)
{
    return cc != CURLE_OK || status == 408 || status == 429 || status >= 500;
}

/* Decides what a finished attempt means: done, failed, a redirect hop, or
 * another try. */
static void attempt_done(http_client *c, xfer *x, CURLcode cc)
{
    long status = x->status;
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->status = status;
    x->res->status = status;
    if (status == 429 && x->stats)
        x->stats->http_429++;
    if (x->sink_rc != FE_OK) {
        fail_sink(c, x, NULL);
        return;
    }
    if (c->opts.refund_failed_attempts && c->rl && created_nothing(cc, status))
        ratelimit_refund(c->rl);
    bool retries_left = x->res->attempts <= c->opts.backoff.max_retries;
    if (cc == CURLE_OK && x->own_redirects && is_redirect(status) && follow_redirect(c, x, status))
        return;
    if (cc == CURLE_OK && is_2xx(status)) {
        fe_rc rc =
            x->req->sink.on_end ? x->req->sink.on_end(x->req->sink.ctx, &x->sink_err) : FE_OK;
        if (rc == FE_OK) {
            finish(c, x, FE_OK);
            return;
        }
        x->delivered = true; /* the sink holds a document it judged bad */
        x->sink_rc = rc;
        if (!x->sink_err.msg[0])
            fe_err_set(&x->sink_err, rc, "unexpected response");
        if (retries_left) {
            retry(c, x, cc, true);
        } else {
            fail_sink(c, x, NULL);
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
        fail_http(c, x, NULL);
    else
        fail_transport(c, x, cc, NULL);
}

/* ---- the loop ---- */

/* True when one of the request's headers is Authorization (any case). */
static bool has_authorization(const http_request *r)
{
    static const char name[] = "authorization:";
    for (int i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i];
        if (h && strncasecmp(h, name, sizeof name - 1) == 0)
            return true;
    }
    return false;
}

/* Takes a slot for x: an easy handle and its header list. A request with
 * credentials aimed outside their origin ends here, unsent. */
static fe_rc xfer_open(http_client *c, xfer *x)
{
    x->easy = easy_get(c);
    if (!x->easy)
        goto nomem;
    for (int i = 0; i < x->req->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, x->req->headers[i]);
        if (!l)
            goto nomem;
        x->headers = l;
    }
    x->state = XF_WAITING;
    x->start_at_us = 0;
    x->credentialed = x->req->body_has_credentials || has_authorization(x->req);
    x->own_redirects =
        x->credentialed && (x->req->body_has_credentials || !x->req->no_auth_on_redirect);
    if (x->credentialed) {
        origin to;
        bool parsed = origin_of(x->req->url, &to);
        if (c->origin_url)
            x->home = c->home;
        else if (parsed)
            x->home = to;
        /* without a configured origin, an unusable URL is libcurl's to refuse */
        if ((parsed || c->origin_url) && (!parsed || !origin_eq(&to, &x->home))) {
            fail_foreign(c, x, parsed ? &to : NULL, 0);
            return FE_EHTTP;
        }
    }
    return FE_OK;
nomem:
    fe_err_set(&x->res->err, FE_ENOMEM, "out of memory starting a request");
    finish(c, x, FE_ENOMEM);
    return FE_ENOMEM;
}

/* A retry whose rate-limit wait would pass retry_total ends here. */
static bool out_of_time_waiting(http_client *c, xfer *x, int64_t now)
{
    int64_t total = c->opts.retry_total_us;
    if (total <= 0 || x->first_start_us == 0 || now < x->first_start_us + total)
        return false;
    char total_text[32], note[128];
    fmt_span(total, total_text, sizeof total_text);
    snprintf(note, sizeof note, "retry_total %s used up waiting for the rate limit", total_text);
    if (x->status)
        fail_http(c, x, note);
    else
        fail_transport(c, x, x->last_cc, note);
    return true;
}

/* Starts the waiting transfers whose time has come, while the limiter grants
 * tokens. Returns how long the loop may sleep before something can start. */
static int64_t start_due(http_client *c, xfer *xs, size_t n, fe_err *err, fe_rc *fatal)
{
    int64_t sleep_us = HTTP_POLL_MAX_MS * 1000LL;
    int64_t now = ratelimit_now_us();
    bool limited = false;
    for (size_t i = 0; i < n; i++) {
        xfer *x = &xs[i];
        if (x->state != XF_WAITING)
            continue;
        if (x->start_at_us > now) {
            if (x->start_at_us - now < sleep_us)
                sleep_us = x->start_at_us - now;
            continue;
        }
        if (out_of_time_waiting(c, x, now)) {
            sleep_us = 0;
            continue;
        }
        int64_t wait = limited ? 1 : c->rl ? ratelimit_try_acquire(c->rl) : 0;
        if (wait > 0) {
            if (!limited && wait > US_PER_S && !x->rl_logged) {
                char what[600], w[32], rate[48];
                what_of(x, what, sizeof what);
                fmt_wait(wait, w, sizeof w);
                fmt_rate(ratelimit_rate(c->rl), rate, sizeof rate);
                notify(c, LOG_INFO, "waiting %s for the rate limit (%s) before %s", w, rate, what);
                x->rl_logged = true;
            }
            /* first come, first served: later transfers do not overtake */
            limited = true;
            if (wait < sleep_us)
                sleep_us = wait;
            continue;
        }
        if (!attempt_setup(c, x)) {
            fe_err_set(&x->res->err, FE_ENOMEM, "libcurl refused a transfer option");
            finish(c, x, FE_ENOMEM);
            sleep_us = 0;
            continue;
        }
        CURLMcode mc = curl_multi_add_handle(c->multi, x->easy);
        if (mc != CURLM_OK) {
            *fatal =
                fe_err_set(err, FE_EHTTP, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
            return 0;
        }
        x->state = XF_RUNNING;
        x->attempt_start_us = now;
        if (x->first_start_us == 0)
            x->first_start_us = now;
        if (!x->hop_next)
            x->res->attempts++;
        x->hop_next = false;
        if (x->stats)
            x->stats->requests++;
    }
    return sleep_us;
}

/* Hands finished attempts to attempt_done. Returns how many finished. */
static int collect_done(http_client *c)
{
    int finished = 0, left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode cc = m->data.result;
        xfer *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, e);
        x->last_cc = cc;
        attempt_done(c, x, cc);
        finished++;
    }
    return finished;
}

static size_t count_done(const xfer *xs, size_t n)
{
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += xs[i].state == XF_DONE;
    return done;
}

/* After a stop or a fatal multi error: every transfer not done yet fails with
 * err, prefixed with its method and URL; running ones are abandoned. */
static void abandon_all(http_client *c, xfer *xs, size_t n, const fe_err *err)
{
    for (size_t i = 0; i < n; i++) {
        xfer *x = &xs[i];
        if (x->state == XF_DONE)
            continue;
        if (x->state == XF_RUNNING)
            curl_multi_remove_handle(c->multi, x->easy);
        char what[600];
        what_of(x, what, sizeof what);
        fe_err_set(&x->res->err, err->code, "%s: %s", what, err->msg);
        finish(c, x, err->code);
    }
}

/* Runs the transfers of xs to completion. Returns FE_OK, FE_EINTR when the stop
 * flag was set, or the code of a libcurl multi failure (fatal filled), after
 * which nothing can go on. */
static fe_rc drive(http_client *c, xfer *xs, size_t n, fe_err *fatal)
{
    fe_rc rc = FE_OK;
    size_t next = 0; /* requests before this one have been given a slot */
    for (;;) {
        if (fe_stop_requested(c->opts.stop))
            return fe_err_set(fatal, FE_EINTR, "interrupted");
        size_t done = count_done(xs, next);
        while (next - done < (size_t)c->opts.max_parallel && next < n) {
            if (xfer_open(c, &xs[next++]) != FE_OK)
                done++;
        }
        if (done == n)
            return FE_OK;
        int64_t sleep_us = start_due(c, xs, next, fatal, &rc);
        if (rc != FE_OK)
            return rc;
        int running = 0;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK)
            return fe_err_set(fatal, FE_EHTTP, "curl_multi_perform: %s", curl_multi_strerror(mc));
        if (collect_done(c) > 0)
            continue; /* retries and free slots: look again before sleeping */
        int timeout_ms = (int)((sleep_us + 999) / 1000);
        mc = curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
        if (mc != CURLM_OK)
            return fe_err_set(fatal, FE_EHTTP, "curl_multi_poll: %s", curl_multi_strerror(mc));
    }
}

fe_rc http_run_many(http_client *c, const http_request *reqs, http_result *res, size_t n,
                    stream_stats *stats, fe_err *err)
{
    for (size_t i = 0; i < n; i++)
        memset(&res[i], 0, sizeof res[i]);
    if (n == 0)
        return FE_OK;
    xfer *xs = calloc(n, sizeof *xs);
    if (!xs) {
        for (size_t i = 0; i < n; i++)
            res[i].rc = fe_err_set(&res[i].err, FE_ENOMEM, "out of memory");
        return fe_err_set(err, FE_ENOMEM, "out of memory starting %zu requests", n);
    }
    for (size_t i = 0; i < n; i++) {
        xs[i] = (xfer){.req = &reqs[i], .res = &res[i], .stats = stats, .state = XF_IDLE};
        buf_init(&xs[i].errbody, HTTP_ERROR_BODY_MAX);
    }
    fe_err fatal = {0};
    fe_rc rc = drive(c, xs, n, &fatal);
    if (rc != FE_OK) {
        abandon_all(c, xs, n, &fatal);
        if (err)
            *err = fatal;
    }
    for (size_t i = 0; i < n; i++)
        buf_term(&xs[i].errbody);
    free(xs);
    return rc;
}

fe_rc http_run(http_client *c, const http_request *req, http_result *res, stream_stats *stats,
               fe_err *err)
{
    return http_run_many(c, req, res, 1, stats, err);
}
