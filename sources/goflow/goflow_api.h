/* goflow_api: what the Goflow streams share: the options read from the config,
 * the per-run state (report-generator limiters and clients), request headers,
 * URL resolution and the {data, next} list reader.
 *
 * Lists: GET the first URL, stream its `data[]` elements to a callback, then
 * follow `next` exactly as sent until it is null or empty (never built here). A
 * `next` that is not absolute is resolved against base_url the RFC 3986 way. A
 * `next` the value rules refuse (a NUL byte, invalid UTF-8) fails the read at once
 * ("unexpected response shape: next contains a NUL byte"): cut, it would end the
 * list early. A `next` leading back to any page of this list already read (A ->
 * B -> A) fails it too: "Goflow next link loops back to a page already read:
 * <path?query>". A page counts only with a `data` array and a `next` key (a
 * string or null); any other 2xx answer (a gateway's `200 {}`) is retried like
 * a 5xx and, when the retries run out, fails the read: "GET <path?query>:
 * unexpected response shape: no `data` array". Goflow sends no count, so none
 * is checked. */
#ifndef FE_GOFLOW_API_H
#define FE_GOFLOW_API_H

#include <stdbool.h>
#include <stdint.h>
#include "sources/goflow/goflow_map.h"
#include "sources/source.h"

/* One record (an order with its lines) is capped at this many bytes of text. */
#define GOFLOW_RECORD_MAX ((size_t)4 << 20)

typedef enum { GOFLOW_FMT_JSON = 0, GOFLOW_FMT_JSONL, GOFLOW_FMT_CSV } goflow_format;

typedef struct {
    char *base;        /* base_url (or https://SUBDOMAIN.api.goflow.com/v1), no trailing '/' */
    char *auth_header; /* "Authorization: Bearer TOKEN" */
    char *beta_header; /* "X-Beta-Contact: ..." or NULL */
    int64_t lookback_us;
    int64_t rescan_us; /* rescan_days */
    const char *start_date;
    bool line_price_is_unit;
    bool inventory_values;
    goflow_format report_format;
    int64_t report_poll_max_us;
    long checkpoint_records;
    double list_per_minute, report_per_hour;
} goflow_opts;

/* Reads and checks the source's options; goflow_opts_term frees them. */
fe_rc goflow_opts_load(const source_config *conf, goflow_opts *o, fe_err *err) FE_MUST_CHECK;
void goflow_opts_term(goflow_opts *o);

/* The base URL after defaults, into out (no trailing '/'). FE_ECONFIG naming the
 * section when neither base_url nor subdomain is set. */
fe_rc goflow_base_url(const source_config *conf, buf *out, fe_err *err) FE_MUST_CHECK;

/* A budget of n requests per period_s seconds as a token bucket: *burst = a sixth
 * of n (at least 1), *rate (per second) such that burst + rate * period = n, so no
 * window of one period ever holds more than n requests. */
void goflow_budget(double n, double period_s, double *rate, double *burst);

/* Per-run state: one limiter and client per report generator (6/hour each), so a
 * generator request never waits behind the list budget or the other generator.
 * The report clients take the options of `like` (the source's client: origin,
 * timeouts, retries, stop flag) and give a token back for every creation attempt
 * that created nothing (5xx, 408, 429, a cut or failed connection). */
typedef struct {
    ratelimit *counts_rl, *values_rl;
    http_client *counts_http, *values_http;
} goflow_state;

fe_rc goflow_state_new(const source_config *conf, const http_client *like, goflow_state **out,
                       fe_err *err) FE_MUST_CHECK;
void goflow_state_free(goflow_state *s);

/* Request headers: Accept, Authorization and X-Beta-Contact when configured.
 * with_auth = false leaves Authorization out (pre-signed download URLs). Fills
 * h (room for 4) and returns the count. */
int goflow_headers(const goflow_opts *o, bool with_auth, const char *h[4]);

/* url resolved against o->base into out (absolute URLs are kept as they are). */
fe_rc goflow_resolve(const goflow_opts *o, const char *url, buf *out, fe_err *err) FE_MUST_CHECK;

/* Called after each complete page (e.g. to checkpoint); may be NULL. */
typedef fe_rc (*goflow_page_fn)(void *ctx, fe_err *err);

/* Reads a whole list from first_url (absolute or relative to base), each element
 * of a page's `data` array to on_rec (which = 0): its failure stops the list
 * with that code, never retried (the page is not counted). Pages are
 * counted in stats->pages, records in stats->records. A page whose transfer is
 * retried after a partial body is re-read from the start: on_rec may see records
 * twice (the loader de-duplicates on natural keys). */
fe_rc goflow_list_read(stream_ctx *ctx, const goflow_opts *o, const char *first_url,
                       json_rec_fn on_rec, goflow_page_fn on_page, void *user,
                       fe_err *err) FE_MUST_CHECK;

/* Reads one JSON object document (GET or POST) into a flat record handed to fn
 * (path ".", which = 0). status gets the HTTP status (0: none); answers other than 2xx are
 * returned as FE_EHTTP with err set, except 404 which returns FE_OK with
 * *status = 404 and no callback. A 2xx body that is not a JSON object is retried
 * like a 5xx, then FE_EJSON. http may be a report client; stats may be NULL. */
fe_rc goflow_get_object(http_client *http, stream_stats *stats, const goflow_opts *o,
                        const char *method, const char *url, const char *body, json_rec_fn fn,
                        void *user, long *status, fe_err *err) FE_MUST_CHECK;

/* `flowetl check`: appends the counts (and values) report quota lines
 * (GET /reports/quotas/{type}) to out. */
fe_rc goflow_check_quotas(http_client *http, const goflow_opts *o, buf *out,
                          fe_err *err) FE_MUST_CHECK;

#endif
