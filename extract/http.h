/* http: libcurl client for one source worker (not shared between threads).
 * Keep-alive reuse (one multi handle, its connection cache), gzip, redirects,
 * connect and low-speed timeouts, TLS verification on. Retries with exponential
 * backoff and jitter on 429, 5xx, timeouts and dropped or cut-off connections,
 * honouring Retry-After as a header or as a JSON body field (retry_after_seconds
 * or retry_after). Every transfer start takes a token from the rate limiter.
 * Response bodies of 2xx answers stream into the request's sink as they arrive;
 * other bodies are kept (capped) for the error message. */
#ifndef FE_HTTP_H
#define FE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/err.h"
#include "../core/stats.h"
#include "backoff.h"
#include "ratelimit.h"

typedef struct {
    long connect_timeout_s; /* default 10 */
    long low_speed_time_s;  /* abort when below 1 byte/s for this long; default 60 */
    long total_timeout_s;   /* 0 = none */
    int max_parallel;       /* transfers at once in http_run_many; default 4 */
    backoff_policy backoff; /* default base 500 ms, max 60 s, 8 retries */
    const char *user_agent; /* default "flowetl/VERSION" */
    const char *ca_file;    /* optional CA bundle */
    bool insecure;          /* never set by default; config `tls_verify = false` */
} http_opts;

/* Fills defaults. */
void http_opts_default(http_opts *o);

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
    /* Drop Authorization when a redirect changes host. Always holds: libcurl
     * (>= 7.83, checked by http_client_new, CURLOPT_UNRESTRICTED_AUTH off) never
     * sends Authorization or Cookie headers to another host, port or scheme;
     * redirects within the same host keep them. Set it to state the intent. */
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
} http_result;

void http_result_term(http_result *r);

typedef struct http_client http_client;

/* opts is copied (NULL = defaults). rl may be shared with other clients (it is
 * thread-safe), may be NULL (no limit), and is not owned.
 * Returns NULL on failure (err filled; also when the runtime libcurl is older than
 * 7.83). Free with http_client_free. */
http_client *http_client_new(const http_opts *opts, ratelimit *rl, fe_err *err);
void http_client_free(http_client *c);

/* Runs n requests, at most opts.max_parallel at once, each with its own retries.
 * Fills res[i] for each (caller calls http_result_term on each). Statuses that are
 * not retried (4xx but 408/429) are returned as they are, e.g. 401 for the caller's
 * session refresh. Retried: 408, 429, 500, 502, 503, 504, connect failures,
 * timeouts, dropped or cut-off connections, a broken gzip stream. The wait before
 * a retry is the larger of the backoff delay and the server's Retry-After (capped
 * at 10 minutes); a 429 also pauses the shared limiter for that long.
 * Adds requests (every attempt), retries, 429s and bytes to stats (may be NULL).
 * Returns FE_OK when every transfer was attempted (check each res[i].rc); another
 * code only when libcurl's multi interface itself failed (then every res[i] not
 * finished carries that error). */
fe_rc http_run_many(http_client *c, const http_request *reqs, http_result *res, size_t n,
                    stream_stats *stats, fe_err *err) FE_MUST_CHECK;

/* One request: http_run_many with n = 1. */
fe_rc http_run(http_client *c, const http_request *req, http_result *res, stream_stats *stats,
               fe_err *err) FE_MUST_CHECK;

/* Global libcurl init/cleanup: once in main, before and after threads. */
bool http_global_init(void);
void http_global_term(void);

#endif
