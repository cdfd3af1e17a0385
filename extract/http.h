/* http: libcurl client for one source worker (not shared between threads).
 * Keep-alive reuse (one multi handle, its connection cache), gzip, redirects,
 * connect, low-speed and total timeouts, TLS verification on. Retries with
 * exponential backoff and jitter on 429, 5xx, timeouts and dropped or cut-off
 * connections, honouring Retry-After as a header or as a JSON body field
 * (retry_after_seconds or retry_after), all within retry_total. Every transfer
 * start takes a token from the rate limiter. Response bodies of 2xx answers stream
 * into the request's sink as they arrive; other bodies are kept (capped) for the
 * error message.
 *
 * Credentials stay with their origin. A request "carries credentials" when it has
 * an Authorization header (any case) or sets body_has_credentials (a login). Such
 * a request goes only to the origin (scheme, host, port; default ports made
 * explicit) of opts.origin_url: one aimed elsewhere (a `next` link to another
 * host) fails at once, unsent and not retried; its redirects are followed by this
 * module, within the origin only (307/308 keep method and body, 303 and a POST's
 * 301/302 become a GET without body; at most 5 hops), and a redirect to another
 * origin fails the request without anything being sent there. The one exception
 * is no_auth_on_redirect (below). Requests without credentials have libcurl
 * follow their redirects.
 *
 * This module never prints: every finished attempt (at debug level only),
 * retries and long rate-limit waits are reported to opts.on_event, one event
 * each, for the caller to log. */
#ifndef FE_HTTP_H
#define FE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/stop.h"
#include "extract/backoff.h"
#include "extract/ratelimit.h"

/* A notification for the caller's log. Every string is valid only during the
 * call; none holds a secret: URLs go through log_mask_url (user information and
 * credential-like query values masked, registered secrets too), texts name the
 * path and query only. Called on the client's thread. */
typedef enum {
    /* LOG_DEBUG, one per attempt or redirect hop that ended, and only when
     * log_enabled(LOG_DEBUG) (nothing is built otherwise): "GET
     * https://api.example.com/v1/orders?page=2 -> HTTP 200, 5120 bytes, 35 ms";
     * status 0 and reason = the transport error when there was no answer. */
    HTTP_EV_REQUEST,
    /* LOG_INFO: "retry 3/8 in 4.0 s after HTTP 503 on GET /v1/orders?page=2";
     * attempt, max_retries, delay_ms, reason, status (0: no answer). */
    HTTP_EV_RETRY,
    /* LOG_INFO, a limiter wait over 1 s: "waiting 2.4 s for the rate limit (5
     * requests/s) before GET /v1/orders"; delay_ms, rate (requests/s). */
    HTTP_EV_RATE_WAIT
} http_event_kind;

typedef struct {
    http_event_kind kind;
    log_level level;
    const char *name; /* "request", "retry", "rate_limit_wait": a log event name */
    const char *text; /* the whole line, as above */
    const char *method;
    const char *url; /* absolute, masked */
    long status;
    int64_t bytes; /* HTTP_EV_REQUEST: body bytes of this attempt */
    int64_t ms;    /* HTTP_EV_REQUEST: duration of this attempt */
    int attempt, max_retries;
    int64_t delay_ms;
    double rate;
    const char *reason; /* NULL when none */
} http_event;

typedef void (*http_event_fn)(void *ctx, const http_event *ev);

typedef struct {
    long connect_timeout_s;     /* default 10 */
    long low_speed_time_s;      /* abort when below 1 byte/s for this long; default 60 */
    int64_t request_timeout_us; /* total deadline of one exchange (one attempt: connect,
                                   request, the whole answer); an attempt that reaches it
                                   is not retried. Default 5 min; 0 = none */
    int64_t retry_total_us;     /* bound of all attempts and waits of one request, from
                                   its first attempt, Retry-After included; default 15 min;
                                   0 = none */
    int max_parallel;           /* transfers at once in http_run_many; default 4 */
    backoff_policy backoff;     /* default base 500 ms, max 60 s, 8 retries */
    const char *user_agent;     /* default "flowetl/VERSION" */
    const char *ca_file;        /* optional CA bundle */
    bool insecure;              /* never set by default; config `tls_verify = false` */
    /* The configured base URL: credentials belong to its origin. NULL: to the
     * origin of each request's own URL (only the redirect rule applies). */
    const char *origin_url;
    /* An attempt the server did not act on (a transport error, a cut-off body, 408,
     * 429 or 5xx) gives its limiter token back (ratelimit_refund): for a limiter of
     * a budget the server spends only on what it did, e.g. a report generator's. */
    bool refund_failed_attempts;
    const fe_stop *stop;    /* checked at least once a second; NULL = never stopped */
    http_event_fn on_event; /* may be NULL */
    void *event_ctx;
} http_opts;

/* Fills defaults. */
void http_opts_default(http_opts *o);

/* "path?query" of url for messages, into dst (size bytes): no scheme, user
 * information or host (tokens never travel in our URLs); the URL as given when
 * libcurl cannot parse it. */
void http_url_for_message(const char *url, char *dst, size_t size);

/* Sink for a 2xx body. on_data gets the bytes in order; on_reset is called before
 * a retry of a transfer that already delivered bytes, so the sink discards the
 * partial document (e.g. json_stream_reset). on_data returning non-FE_OK aborts
 * that transfer (not retried) and the code is reported in the result.
 * on_end (may be NULL) is called once a 2xx body is complete, to judge it whole: a
 * 200 is not proof of a good answer (a gateway's `200 {}`, a page without its
 * list). Returning non-FE_OK (err filled, e.g. "unexpected response shape: no
 * `data` array") makes the attempt count as failed and it is retried like a 5xx
 * (on_reset first); when the retries run out the result carries that code and
 * message. */
typedef struct {
    fe_rc (*on_data)(void *ctx, const char *data, size_t len, fe_err *err);
    void (*on_reset)(void *ctx);
    fe_rc (*on_end)(void *ctx, fe_err *err);
    void *ctx;
} http_sink;

typedef struct {
    const char *method;         /* "GET" (default when NULL), "POST", "PATCH" */
    const char *url;            /* absolute */
    const char *const *headers; /* "Name: value" lines, may be NULL */
    int nheaders;
    const char *body; /* request body or NULL */
    size_t body_len;
    /* The body carries credentials (a login's password, a refresh token): the
     * request goes only to the origin, and its redirects too. */
    bool body_has_credentials;
    /* For an Authorization header that may be dropped on the way (a report file
     * on the API host that redirects to a CDN): a redirect to another origin is
     * followed by libcurl without the header (libcurl >= 7.83, checked by
     * http_client_new, CURLOPT_UNRESTRICTED_AUTH off, never sends Authorization
     * or Cookie headers to another host, port or scheme) instead of failing the
     * request. Ignored when body_has_credentials is set. */
    bool no_auth_on_redirect;
    http_sink sink;
} http_request;

typedef struct {
    long status;      /* final HTTP status, 0 when no response */
    int attempts;     /* 1 + retries */
    fe_rc rc;         /* FE_OK when status is 2xx and the sink accepted all bytes;
                         FE_EHTTP for a non-2xx answer or a transport failure that
                         survived its retries; the sink's code when it failed */
    fe_err err;       /* when rc != FE_OK: one line, "GET /v1/orders?page=2: HTTP 500
                         after 9 attempts: <first 200 bytes of the body>", or
                         "GET /v1/orders: <curl error> (after 9 attempts)", or
                         "GET /v1/orders: <the sink's message>" */
    char *error_body; /* non-2xx body (capped at 16 KiB) or NULL; owned by the result,
                         freed by http_result_term */
    int64_t bytes;    /* body bytes received over all attempts, error bodies included */
    bool foreign;     /* refused: credentials would have gone to another origin; err
                         names it (no body of any answer in it) */
} http_result;

void http_result_term(http_result *r);

typedef struct http_client http_client;

/* opts is copied, strings included (NULL = defaults). rl may be shared with other clients (it is
 * thread-safe), may be NULL (no limit), and is not owned.
 * Returns NULL on failure (err filled; also when the runtime libcurl is older than
 * 7.83). Free with http_client_free. */
http_client *http_client_new(const http_opts *opts, ratelimit *rl, fe_err *err);
void http_client_free(http_client *c);

/* The options c was made with, e.g. for a sibling client with its own limiter.
 * The strings point into c: valid while c lives. */
void http_client_opts(const http_client *c, http_opts *out);

/* Waits us microseconds, waking at least once a second to check the stop flag:
 * FE_EINTR ("interrupted") when it is set, else FE_OK. For callers that wait
 * between requests (report polling). */
fe_rc http_sleep(http_client *c, int64_t us, fe_err *err) FE_MUST_CHECK;

/* Runs n requests, at most opts.max_parallel at once, each with its own retries.
 * Fills res[i] for each (caller calls http_result_term on each). Statuses that are
 * not retried (4xx but 408/429) are returned as they are, e.g. 401 for the caller's
 * session refresh. Retried: 408, 429, 500, 502, 503, 504, connect failures,
 * low-speed timeouts, dropped or cut-off connections, a broken gzip stream; not
 * an attempt that reached request_timeout. The wait before a retry is the larger
 * of the backoff delay and the server's Retry-After; a 429 also pauses the shared
 * limiter for that long (at most retry_total). A wait that would end past the
 * request's retry_total fails it at once, saying so ("server asked to wait 3600 s
 * (Retry-After) but only 14m12s of retry_total 15m is left").
 * Adds requests (every transfer, redirect hops included), retries, 429s and bytes
 * to stats (may be NULL).
 * Returns FE_OK when every transfer was attempted (check each res[i].rc); FE_EINTR
 * ("interrupted") when the stop flag was set: every transfer still going was
 * abandoned and carries that code; another code when libcurl's multi interface
 * itself failed (every res[i] not finished carries that error). */
fe_rc http_run_many(http_client *c, const http_request *reqs, http_result *res, size_t n,
                    stream_stats *stats, fe_err *err) FE_MUST_CHECK;

/* One request: http_run_many with n = 1. */
fe_rc http_run(http_client *c, const http_request *req, http_result *res, stream_stats *stats,
               fe_err *err) FE_MUST_CHECK;

/* Global libcurl init/cleanup: once in main, before and after threads. */
bool http_global_init(void);
void http_global_term(void);

#endif
