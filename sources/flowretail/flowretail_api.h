/* flowretail_api: requests and paging of the Flow Retail API v2.
 *
 * Everything lives under {base}/tenants/{tenant}; requests carry
 * "Authorization: Bearer <integration token>". Lists are paged with pageNumber
 * (1-based) and pageSize and answer {items[], paging{pageNumber, pageSize,
 * totalCount}}; search endpoints (products/stock) are POSTs with a JSON filter
 * body and the same query parameters. A 401 or 403 is FE_EAUTH (an integration
 * token does not expire: there is nothing to renew).
 *
 * The state (flowretail_api) is the source's per-run state: the tenant's
 * currency and time zone are read once when it is opened. */
#ifndef FE_FLOWRETAIL_API_H
#define FE_FLOWRETAIL_API_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"
#include "extract/http.h"
#include "extract/json_fetch.h"
#include "extract/json_stream.h"

#define FLOWRETAIL_DEFAULT_BASE "https://api.flowretail.com/v2"
/* Not documented; the one real client asks for 1000, the sandbox refuses more. */
#define FLOWRETAIL_PAGE_SIZE_MAX 1000
/* One product with its arrays: far below this in practice. */
#define FLOWRETAIL_RECORD_MAX ((size_t)4 << 20)

typedef struct flowretail_api flowretail_api;

/* Reads base_url (default FLOWRETAIL_DEFAULT_BASE), tenant and token from conf.
 * FE_ECONFIG when tenant or token is missing. No request is made. Free with
 * flowretail_api_free (accepts NULL). */
fe_rc flowretail_api_new(const source_config *conf, flowretail_api **out,
                         fe_err *err) FE_MUST_CHECK;
void flowretail_api_free(flowretail_api *a);

/* GET /tenants/{tenant}: keeps currency.code (upper-cased; "" when absent),
 * timezone and name. Fails like flowretail_fetch. */
fe_rc flowretail_api_read_tenant(flowretail_api *a, http_client *http, stream_stats *stats,
                                 fe_err *err) FE_MUST_CHECK;
const char *flowretail_api_currency(const flowretail_api *a); /* NULL when unknown */
const char *flowretail_api_timezone(const flowretail_api *a); /* "" when unknown */
const char *flowretail_api_tenant_name(const flowretail_api *a);
/* HTTP status of the last request made through a (0 without an answer): tells a
 * 404 from other failures after flowretail_list. */
long flowretail_api_last_status(const flowretail_api *a);

/* What `flowetl check` saw of the page size: page 1 of products at the configured
 * page_size (flowretail_check records it, flowretail_describe_methods prints it). */
typedef struct {
    bool probed;
    long asked, capped_to; /* capped_to: the silent cap seen, 0 none */
    int64_t rows, total;   /* items on page 1, paging.totalCount (-1 absent) */
} flowretail_page_probe;
void flowretail_api_set_page_probe(flowretail_api *a, const flowretail_page_probe *p);
const flowretail_page_probe *flowretail_api_page_probe(const flowretail_api *a);

/* One document: METHOD {base}/tenants/{tenant}{path}[?query] with body (NULL for
 * none), records at the json_stream paths given. *status gets the HTTP status
 * (0 without an answer; may be NULL). FE_EAUTH on 401/403, FE_EHTTP on another
 * failure that survived its retries (err names the request), FE_EJSON for a body
 * that is not JSON, or the callback's code. */
typedef struct {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* below the tenant, e.g. "/categories/abc" (URL-safe) */
    const char *query;  /* "storeUid=x" (already encoded) or NULL */
    const char *body;   /* JSON or NULL */
    const char *const *paths;
    int npaths;
    /* which = index of the record path; non-FE_OK stops the read. */
    json_rec_fn on_record;
    /* A transfer starts again after a cut: forget what this document gave so far
     * (rows already staged are staged again and de-duplicated by the loader). May
     * be NULL. */
    json_fetch_reset_fn on_reset;
    /* Judges a whole 2xx document once its records were handed over (js tells
     * what stood where, json_stream_shape): non-FE_OK (err filled, "unexpected
     * response shape: ...") refuses it, and the request is retried like a 5xx;
     * when the retries run out flowretail_fetch fails with that code and message.
     * May be NULL: any complete JSON document counts. */
    json_fetch_end_fn on_end;
    void *user;
    /* flowretail_list only (may be NULL): set to the page size the server served
     * when it silently capped the pages below the size asked (see flowretail_list);
     * left alone otherwise. */
    long *capped_to;
} flowretail_doc;

fe_rc flowretail_fetch(flowretail_api *a, http_client *http, stream_stats *stats,
                       const flowretail_doc *d, long *status, fe_err *err) FE_MUST_CHECK;

/* After each whole page: rows = items on it, total = paging.totalCount (-1 when
 * absent). Set *stop to end the read early. */
typedef fe_rc (*flowretail_page_fn)(void *user, int64_t rows, int64_t total, bool *stop,
                                    fe_err *err);

/* A paged list: every items[] element goes to on_item (which = 0) as it closes.
 * d->paths and d->on_end are ignored (the list's own are used); d->query holds
 * the fixed parameters (sortBy...) or NULL.
 *
 * The silent cap: Flow Retail does not document its largest pageSize (reference
 * B2 advises detecting a silent cap). When page 1 holds fewer items than asked
 * (at least one) while paging.totalCount says more exist, the server may have
 * served its cap. With paging.pageSize below the size asked (and page 1 holding
 * it), that size is the cap. With paging.pageSize repeating the size asked (or
 * absent), page 1 is asked once more at the size it served and only hashed: the
 * same items in the same order confirm a cap (a page that lost its last items
 * reads exactly the same way from then on), anything else refuses the list as a
 * page that lost items. The cap is asked explicitly from page 2 on, counts as the
 * page size for the end-of-list rules, and *d->capped_to says so.
 *
 * Pages 1, 2, ... until the items read
 * reach paging.totalCount, a page is empty or short of the page size the server
 * reports (paging.pageSize, else page_size), or page_done sets stop. A 2xx answer
 * counts as a page only with an `items` array, a `paging` object and, when
 * paging.totalCount is given, at least the items it leaves for the page
 * (totalCount - (pageNumber - 1) x pageSize, at most pageSize); any other answer
 * (a gateway's `200 {}`, a maintenance message, a page that lost items) is
 * retried like a 5xx and then fails the list ("GET <path?query>: unexpected
 * response shape: no `items` array"). More items than that are accepted (a list
 * that grows while read). Counts pages and records into stats. *total_changed
 * (may be NULL) becomes true when paging.totalCount differed between pages (the
 * list changed while read): a full read then must not mark deletions. */
fe_rc flowretail_list(flowretail_api *a, http_client *http, stream_stats *stats,
                      const flowretail_doc *d, long page_size, flowretail_page_fn page_done,
                      bool *total_changed, fe_err *err) FE_MUST_CHECK;

#endif
