/* flowwow_pages: the list pager of the Flowwow source.
 *
 * Every Flowwow list answers {<records>: [...], total}: "shops[]" for
 * POST /apiseller/shops, "items[]" for products and orders/list. A pager sends
 * the requests one page at a time (POST with a JSON body, or GET), streams the
 * records to its owner's callback as each one closes, and keeps the page's
 * `total` and a hash of its record ids.
 *
 * flowwow_pages_read runs one list from its first page (the list's page base)
 * and stops when the records read reach `total`, at an empty page, or, when the
 * answer has no `total`, at a short page. A 2xx answer counts as a page only
 * when it has the list's records array ("shops" or "items") and, when it sends
 * `total`, at least the records `total` leaves for that page
 * (total - (page - base) x limit, at most limit); any other answer (a gateway's
 * `200 {}` or `{"message": ...}`, a page short of records) is retried like a 5xx
 * and then fails the read: "<request>: unexpected response shape: no `items`
 * array". It fails (FE_EJSON, with the shop, day and page in the message) rather
 * than load an incomplete list silently:
 * - a page that repeats the previous one (same ids): the server ignores `page`
 *   (or clamps a page number below its base to the first page);
 * - a page short of what `total` leaves for it: records lost, or the wrong page
 *   base (a 0-based server read from page 1 never shows its first page);
 * - more pages than `total` allows.
 * More records than `total` leaves are accepted (a list growing while read); a
 * `total` that changes between pages of a list is noted
 * (flowwow_pager_total_changed): a full read then marks no deletions.
 * A 401 is FE_EAUTH ("check `token`"). Requests carry the bearer header; the
 * http client retries 429 (Retry-After), 5xx and cut transfers. */
#ifndef FE_FLOWWOW_PAGES_H
#define FE_FLOWWOW_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"
#include "extract/http.h"
#include "extract/json_stream.h"

#define FLOWWOW_SHOPS_LIMIT 50      /* POST /apiseller/shops: limit 1..50 */
#define FLOWWOW_PRODUCTS_LIMIT 1000 /* POST /apiseller/products: limit 1..1000 */
#define FLOWWOW_ORDERS_LIMIT 100    /* GET /apiseller/orders/list: limit 1..100 */
/* One record (an order with its lines, a product with its description). */
#define FLOWWOW_RECORD_MAX ((size_t)4 << 20)

typedef struct flowwow_pager flowwow_pager;

/* Builds the request of one page: the full URL into url and, for POST, the JSON
 * body into body (left empty for GET). Both come empty. FE_ENOMEM only. */
typedef fe_rc (*flowwow_build_fn)(void *user, long page, buf *url, buf *body, fe_err *err);

/* One list to read. Strings belong to the caller. */
typedef struct {
    const char *method;  /* "GET" or "POST" */
    const char *what;    /* for messages: "orders/list shop 1001 day 2025-12-31" */
    const char *records; /* the array that holds the records: "shops" or "items" */
    const char *id_path; /* record field that identifies it ("shopId", "productId", "id") */
    long page_base;      /* 0 or 1: the number of the first page */
    long limit;          /* records per page asked for */
    flowwow_build_fn build;
    void *build_user;
    /* May be NULL. After each page with records that flowwow_pages_read accepted:
     * rows and total (-1 when none) of that page; *stop = true ends the list there
     * (FE_OK); a failure ends the read with that code. build_user is its user. */
    fe_rc (*page_done)(void *user, long page, int64_t rows, int64_t total, bool *stop, fe_err *err);
} flowwow_list;

/* http and user are borrowed; auth_header ("Authorization: Bearer ...") is
 * copied. stats may be NULL; on_record may be NULL: it gets each record of the
 * page being read (a "shops[]" or "items[]" element; which is 0 or 1), and
 * returning non-FE_OK (err filled) aborts the page and the list. NULL when out of memory.
 * Free with flowwow_pager_free (accepts NULL). */
flowwow_pager *flowwow_pager_new(http_client *http, stream_stats *stats, const char *auth_header,
                                 json_rec_fn on_record, void *user);
void flowwow_pager_free(flowwow_pager *pg);

/* start (may be NULL) is called with the pager's user whenever a page's document
 * starts, a retried transfer's included: an owner that judges records across
 * pages forgets there what the page gave so far. */
void flowwow_pager_on_page_start(flowwow_pager *pg, void (*start)(void *user));

/* Reads a whole list (see the top of this file). *read (may be NULL) gets the
 * number of records read. */
fe_rc flowwow_pages_read(flowwow_pager *pg, const flowwow_list *l, int64_t *read,
                         fe_err *err) FE_MUST_CHECK;

/* Fetches one page only (for `flowetl check`): *rows and *total (-1 when the
 * answer has none) of that page. */
fe_rc flowwow_pages_one(flowwow_pager *pg, const flowwow_list *l, long page, int64_t *rows,
                        int64_t *total, fe_err *err) FE_MUST_CHECK;

/* The value of id_path of the first record of the page read last ("" when none),
 * for `flowetl check`'s page-base probe. */
const char *flowwow_pager_first_id(const flowwow_pager *pg);

/* Whether `total` changed between the pages of one list in any read of this
 * pager: records may have slid from an unread page onto one already read. */
bool flowwow_pager_total_changed(const flowwow_pager *pg);

#endif
