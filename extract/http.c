#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <yajl/yajl_tree.h>

#include "../core/buf.h"

#ifndef FLOWETL_VERSION
#define FLOWETL_VERSION "dev"
#endif
#ifndef CURL_WRITEFUNC_ERROR /* libcurl < 7.87: any short count is an error */
#define CURL_WRITEFUNC_ERROR 0
#endif

#define HTTP_ERROR_BODY_MAX (16 * 1024) /* what is kept of a non-2xx body */
#define HTTP_SNIPPET_MAX 200            /* what of it goes into the error message */
#define HTTP_MAX_REDIRECTS 5L
/* A Retry-After longer than this is taken as this: a nightly run should not
 * sleep for hours on one request; the retry budget ends it instead. */
#define HTTP_RETRY_AFTER_MAX_US (600 * 1000000LL)
/* The loop wakes at least this often while it waits for tokens or retry times. */
#define HTTP_POLL_MAX_MS 1000
/* libcurl 7.83.0 is the first that drops custom Authorization and Cookie headers
 * on every redirect to another host, port or scheme (CVE-2022-27776). */
#define HTTP_MIN_CURL 0x075300

struct http_client {
    long connect_timeout_s, low_speed_time_s, total_timeout_s;
    int max_parallel;
    backoff_policy backoff;
    char *user_agent;
    char *ca_file;
    bool insecure;
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
    int64_t start_at_us; /* XF_WAITING: not before this */
    bool delivered;      /* the sink got bytes since its last reset */
    /* per attempt: */
    long status; /* of the last status line seen (redirects give several) */
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
        .total_timeout_s = 0,
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
    c->connect_timeout_s = opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 10;
    c->low_speed_time_s = opts->low_speed_time_s > 0 ? opts->low_speed_time_s : 60;
    c->total_timeout_s = opts->total_timeout_s > 0 ? opts->total_timeout_s : 0;
    c->max_parallel = opts->max_parallel > 0 ? opts->max_parallel : 1;
    c->backoff = opts->backoff;
    c->insecure = opts->insecure;
    c->rl = rl;
    c->user_agent = strdup(opts->user_agent ? opts->user_agent : def.user_agent);
    c->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
    c->idle = calloc((size_t)c->max_parallel, sizeof *c->idle);
    c->multi = curl_multi_init();
    if (!c->user_agent || (opts->ca_file && !c->ca_file) || !c->idle || !c->multi)
        goto nomem;
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
    free(c);
}

static CURL *easy_get(http_client *c)
{
    return c->nidle > 0 ? c->idle[--c->nidle] : curl_easy_init();
}

static void easy_put(http_client *c, CURL *e)
{
    if (!e)
        return;
    if (c->nidle < c->max_parallel)
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

static const char *method_of(const http_request *r)
{
    return r->method ? r->method : "GET";
}

#define SETOPT(e, opt, val) (ok = ok && curl_easy_setopt((e), (opt), (val)) == CURLE_OK)

/* Connection, TLS, redirect and timeout options: the same for every transfer. */
static bool set_transport(http_client *c, CURL *e)
{
    bool ok = true;
    SETOPT(e, CURLOPT_USERAGENT, c->user_agent);
    SETOPT(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl decodes */
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_FOLLOWLOCATION, 1L);
    SETOPT(e, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRECTS);
    /* Off: Authorization and Cookie headers are not sent to another host,
     * port or scheme after a redirect (this is what no_auth_on_redirect relies on). */
    SETOPT(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
    SETOPT(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(e, CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
    if (c->total_timeout_s > 0)
        SETOPT(e, CURLOPT_TIMEOUT, c->total_timeout_s);
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_file)
        SETOPT(e, CURLOPT_CAINFO, c->ca_file);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return ok;
}

/* GET, POST with a body, or another method (PATCH, PUT, DELETE) with or without one. */
static bool set_method(CURL *e, const http_request *r)
{
    bool ok = true;
    const char *m = method_of(r);
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

/* Sets up x->easy for a new attempt and forgets what the previous attempt saw.
 * Returns false when libcurl refused an option. */
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

    SETOPT(e, CURLOPT_URL, x->req->url);
    SETOPT(e, CURLOPT_PRIVATE, x);
    SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
    SETOPT(e, CURLOPT_WRITEDATA, x);
    SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(e, CURLOPT_HEADERDATA, x);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_HTTPHEADER, x->headers);
    return ok && set_transport(c, e) && set_method(e, x->req);
}

/* ---- results and messages ---- */

/* "path?query" of url for messages (tokens never travel in our URLs); the URL
 * as given when libcurl cannot parse it. */
static void url_for_message(const char *url, char *dst, size_t size)
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

/* First HTTP_SNIPPET_MAX bytes of the error body on one line, valid UTF-8. */
static void body_snippet(const buf *body, char *dst, size_t size)
{
    size_t n = body->len < HTTP_SNIPPET_MAX ? body->len : HTTP_SNIPPET_MAX;
    if (n > size - 1)
        n = size - 1;
    n = body->data ? buf_utf8_floor(body->data, n) : 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body->data[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[n] = '\0';
}

static void finish(http_client *c, xfer *x, fe_rc rc)
{
    x->res->rc = rc;
    if (rc != FE_OK)
        x->res->err.code = rc;
    if (x->errbody.len && !is_2xx(x->res->status))
        x->res->error_body = buf_take(&x->errbody, NULL);
    buf_term(&x->errbody);
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    easy_put(c, x->easy);
    x->easy = NULL;
    x->state = XF_DONE;
}

static void fail_http(http_client *c, xfer *x)
{
    char where[512], snippet[HTTP_SNIPPET_MAX + 1], tries[32] = "";
    url_for_message(x->req->url, where, sizeof where);
    body_snippet(&x->errbody, snippet, sizeof snippet);
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, " after %d attempts", x->res->attempts);
    fe_err_set(&x->res->err, FE_EHTTP, "%s %s: HTTP %ld%s%s%s", method_of(x->req), where,
               x->res->status, tries, snippet[0] ? ": " : "", snippet);
    finish(c, x, FE_EHTTP);
}

static void fail_transport(http_client *c, xfer *x, CURLcode cc)
{
    char where[512], tries[32] = "";
    url_for_message(x->req->url, where, sizeof where);
    if (x->res->attempts > 1)
        snprintf(tries, sizeof tries, " (after %d attempts)", x->res->attempts);
    fe_err_set(&x->res->err, FE_EHTTP, "%s %s: %s%s", method_of(x->req), where,
               x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc), tries);
    finish(c, x, FE_EHTTP);
}

static void fail_sink(http_client *c, xfer *x)
{
    char where[512];
    url_for_message(x->req->url, where, sizeof where);
    x->res->err = x->sink_err;
    fe_err_wrap(&x->res->err, "%s %s", method_of(x->req), where);
    if (x->res->attempts > 1) {
        size_t len = strlen(x->res->err.msg);
        snprintf(x->res->err.msg + len, sizeof x->res->err.msg - len, " (after %d attempts)",
                 x->res->attempts);
    }
    finish(c, x, x->sink_rc);
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

/* The server's own wait, from the header first, then the body; 0 when none. */
static int64_t server_delay_us(const xfer *x)
{
    int64_t d = 0;
    if (!(x->retry_after[0] &&
          backoff_parse_retry_after(x->retry_after, (int64_t)time(NULL), &d)) &&
        !body_retry_after(&x->errbody, &d))
        return 0;
    return d < HTTP_RETRY_AFTER_MAX_US ? d : HTTP_RETRY_AFTER_MAX_US;
}

static void schedule_retry(http_client *c, xfer *x, bool got_response)
{
    int64_t delay = backoff_delay_us(&c->backoff, x->res->attempts, backoff_rand_next(&c->rng));
    if (got_response) {
        int64_t server = server_delay_us(x);
        if (server > delay)
            delay = server;
    }
    if (x->res->status == 429 && c->rl)
        ratelimit_pause(c->rl, delay); /* every transfer of the source waits too */
    if (x->delivered && x->req->sink.on_reset)
        x->req->sink.on_reset(x->req->sink.ctx);
    x->delivered = false;
    if (x->stats)
        x->stats->retries++;
    x->state = XF_WAITING;
    x->start_at_us = ratelimit_now_us() + delay;
}

/* Decides what a finished attempt means: done, failed, or another try. */
static void attempt_done(http_client *c, xfer *x, CURLcode cc)
{
    long status = x->status;
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    x->res->status = status;
    if (status == 429 && x->stats)
        x->stats->http_429++;
    if (x->sink_rc != FE_OK) {
        fail_sink(c, x);
        return;
    }
    bool retryable = cc == CURLE_OK ? status_retryable(status) : curl_retryable(cc);
    if (cc == CURLE_OK && is_2xx(status) && x->req->sink.on_end) {
        fe_rc rc = x->req->sink.on_end(x->req->sink.ctx, &x->sink_err);
        if (rc != FE_OK) {
            x->delivered = true; /* the sink holds a document it judged bad */
            if (x->res->attempts <= c->backoff.max_retries) {
                schedule_retry(c, x, false);
                return;
            }
            x->sink_rc = rc;
            if (!x->sink_err.msg[0])
                fe_err_set(&x->sink_err, rc, "unexpected response");
            fail_sink(c, x);
            return;
        }
    }
    if (cc == CURLE_OK && is_2xx(status)) {
        finish(c, x, FE_OK);
    } else if (retryable && x->res->attempts <= c->backoff.max_retries) {
        schedule_retry(c, x, cc == CURLE_OK);
    } else if (cc == CURLE_OK) {
        fail_http(c, x);
    } else {
        fail_transport(c, x, cc);
    }
}

/* ---- the loop ---- */

/* Takes a slot for x: an easy handle and its header list. */
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
    return FE_OK;
nomem:
    fe_err_set(&x->res->err, FE_ENOMEM, "out of memory starting a request");
    finish(c, x, FE_ENOMEM);
    return FE_ENOMEM;
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
        int64_t wait = limited ? 1 : c->rl ? ratelimit_try_acquire(c->rl) : 0;
        if (wait > 0) {
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
        x->res->attempts++;
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

/* After a fatal multi error: every transfer not done yet fails with err. */
static void abandon_all(http_client *c, xfer *xs, size_t n, const fe_err *err)
{
    for (size_t i = 0; i < n; i++) {
        xfer *x = &xs[i];
        if (x->state == XF_RUNNING)
            curl_multi_remove_handle(c->multi, x->easy);
        if (x->state != XF_DONE) {
            x->res->err = *err;
            finish(c, x, err->code);
        }
    }
}

/* Runs the transfers of xs to completion. Returns FE_OK, or the code of a
 * libcurl multi failure (fatal filled), after which nothing can go on. */
static fe_rc drive(http_client *c, xfer *xs, size_t n, fe_err *fatal)
{
    fe_rc rc = FE_OK;
    size_t next = 0; /* requests before this one have been given a slot */
    for (;;) {
        size_t done = count_done(xs, next);
        while (next - done < (size_t)c->max_parallel && next < n) {
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
