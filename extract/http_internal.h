/* http_internal: what the files of the http module share (PRIVATE: include it only
 * from extract/http*.c; callers use extract/http.h).
 *
 * The module is split by concern:
 *   http.c          the client (options, easy-handle cache) and the multi loop that
 *                   starts attempts as the limiter allows and collects them;
 *   http_request.c  building one attempt (libcurl options, method, body) and the
 *                   credential rules (origins, redirects followed within one);
 *   http_response.c what comes back: headers and body (2xx to the sink, others kept
 *                   capped), the verdict on a finished attempt (done, retry, fail),
 *                   and the one-line messages of results and events.
 * Every function here takes the client and one transfer (http_xfer) of an
 * http_run_many call, on the client's thread. */
#ifndef FE_HTTP_INTERNAL_H
#define FE_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "extract/http.h"

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
} http_origin;

struct http_client {
    http_opts opts; /* as given; the strings point at the copies below */
    char *user_agent;
    char *ca_file;
    char *origin_url;
    http_origin home; /* of origin_url, when set */
    ratelimit *rl;
    CURLM *multi;
    CURL **idle; /* easy handles between transfers, reused (their caches survive) */
    int nidle;
    uint64_t rng;
};

typedef enum { XF_IDLE, XF_WAITING, XF_RUNNING, XF_DONE } http_xfer_state;

/* One request of http_run_many, across its attempts. */
typedef struct {
    const http_request *req;
    http_result *res;
    stream_stats *stats;
    CURL *easy;
    struct curl_slist *headers;
    http_xfer_state state;
    int64_t start_at_us;    /* XF_WAITING: not before this */
    bool delivered;         /* the sink got bytes since its last reset */
    bool credentialed;      /* Authorization header or body_has_credentials */
    bool own_redirects;     /* redirects are followed here, within `home` */
    http_origin home;       /* where the credentials may go */
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
} http_xfer;

/* ---- http_request.c: origins and attempts ---- */

/* The origin of an absolute http(s) URL; false when it is not one. */
bool http_origin_of(const char *url, http_origin *o);
bool http_origin_eq(const http_origin *a, const http_origin *b);
/* "https://shop.example.com", with ":port" when it is not the scheme's default. */
void http_origin_text(const http_origin *o, char *dst, size_t size);

/* The method and URL of the transfer under way (a redirect hop's, or the request's). */
const char *http_xfer_method(const http_xfer *x);
const char *http_xfer_url(const http_xfer *x);
/* "GET /v1/orders?page=2": the transfer under way, for messages. */
void http_xfer_what(const http_xfer *x, char *dst, size_t size);

/* Sets x->credentialed, x->own_redirects and x->home for a new transfer. False
 * when the request carries credentials aimed outside their origin: x is then
 * finished (http_fail_foreign), unsent. */
bool http_xfer_aim(http_client *c, http_xfer *x);

/* Sets up x->easy for a new attempt (or redirect hop) and forgets what the
 * previous one saw. Returns false when libcurl refused an option. */
bool http_attempt_setup(http_client *c, http_xfer *x);

bool http_is_redirect(long status);
/* A redirect of a request that carries credentials, followed here: within the
 * origin only. Returns false when the answer has no Location (it is then an
 * ordinary answer); true when x was scheduled for the hop or failed. */
bool http_follow_redirect(http_client *c, http_xfer *x, long status);

/* ---- http_response.c: answers, verdicts, messages ---- */

/* libcurl's header and write callbacks of an attempt (userdata: the http_xfer). */
size_t http_on_header(char *line, size_t size, size_t n, void *ud);
size_t http_on_write(char *data, size_t size, size_t n, void *ud);

/* Decides what a finished attempt means: done, failed, a redirect hop, or
 * another try. */
void http_attempt_done(http_client *c, http_xfer *x, CURLcode cc);

/* Ends x with rc: fills the result (the error body, masked), frees what the
 * transfer held and gives its easy handle back to the client. */
void http_xfer_finish(http_client *c, http_xfer *x, fe_rc rc);
/* Ends x with its last HTTP status, the curl error cc, or the sink's error; note
 * (may be NULL): why it ended before the retries ran out. */
void http_fail_status(http_client *c, http_xfer *x, const char *note);
void http_fail_transport(http_client *c, http_xfer *x, CURLcode cc, const char *note);
void http_fail_sink(http_client *c, http_xfer *x, const char *note);
/* Credentials would go to `to` (NULL: not an http(s) URL): the request ends here,
 * unsent. redirect: the status of the redirect that pointed there, 0 when it is
 * the request's own URL (a `next` link). */
void http_fail_foreign(http_client *c, http_xfer *x, const http_origin *to, long redirect);

/* For messages: a wait ("4.0 s", "3600 s"), a budget as config durations are
 * written ("15m", "14m12s", "0.5s"), a rate ("5 requests/s", "5 requests/hour"). */
void http_fmt_wait(int64_t us, char *dst, size_t size);
void http_fmt_span(int64_t us, char *dst, size_t size);
void http_fmt_rate(double rate, char *dst, size_t size);
/* One event for the caller's log (opts.on_event): ev with its text formatted
 * from fmt, and method and url (masked) from x. */
void http_notify(http_client *c, const http_xfer *x, http_event *ev, const char *fmt, ...)
    FE_PRINTF(4, 5);
/* HTTP_EV_REQUEST for the attempt of x that just ended with cc (see http.h):
 * nothing at all unless on_event is set and log_enabled(LOG_DEBUG). */
void http_notify_request(http_client *c, const http_xfer *x, CURLcode cc);

/* ---- http.c: the client ---- */

/* Gives an easy handle back to the client's cache (or frees it); NULL is ignored. */
void http_easy_put(http_client *c, CURL *e);

#endif
