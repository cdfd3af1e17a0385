/* posiflora_pages: the JSON:API list pager of the Posiflora source.
 *
 * A pager GETs list pages and streams what they hold: each "data[]" and
 * "included[]" record goes to its owner's callback as it closes, meta.total and
 * meta.revision are kept per page. Two page loops drive it:
 *
 * - posiflora_pages_read: page[number] 1, 2, ... until the rows read reach
 *   meta.total or a page is short. Safe only for lists whose order does not change
 *   while they are read (the default creation order, full reads, revision reads).
 *   In a list sorted by a field that writes change, a record already read that is
 *   updated mid-read moves to the end and every record behind it slides one place
 *   earlier: the first record of the next page lands on a page already read and is
 *   never seen.
 *
 * - posiflora_pages_read_keyset: keyset paging over a list sorted ascending by a
 *   date-time field (orders by updatedAt). Each request starts again at page 1 with
 *   filter[FIELD][from] = the newest value listed so far (inclusive), so writes
 *   before that point cannot shift what is still unread. Records listed again at
 *   exactly that value are recognised by id and skipped (posiflora_keyset keeps the
 *   ids seen at the newest value: as many as there are ties). When a whole page holds
 *   one value only (more than page_size records share it), page[number] advances
 *   for that value until a page brings a newer one. See posiflora_keyset below for
 *   why that fallback cannot lose a record unnoticed.
 *
 * Requests carry the session's bearer header; a 401 renews the session and runs
 * the request again once. A 2xx answer counts only when it has the shape of a
 * list page: a `data` array, a `meta` object, and, on a numbered page, at least
 * the records meta.total leaves for it (meta.total - (page - 1) x page[size], at
 * most a page). Any other answer (a gateway's `200 {}` or
 * `200 {"message":"Service temporarily unavailable"}`, a page that lost records)
 * is refused: retried like a 5xx, and when the retries run out the read fails
 * with FE_EJSON "GET <path?query>: unexpected response shape: no `data` array".
 * A page with more records than that is accepted (a list that grows while read);
 * a change of meta.total between pages is noted (posiflora_pager_total_changed).
 * Pages count into the stream's stats (pages, records) once they are whole: a
 * page cut off (or refused) and read again counts once. A keyset read
 * hands each next request to its page callback, to run beside the callback's own
 * (posiflora_next_page below). */
#ifndef FE_POSIFLORA_PAGES_H
#define FE_POSIFLORA_PAGES_H

#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"
#include "extract/http.h"
#include "extract/json_fetch.h"
#include "extract/json_stream.h"
#include "sources/posiflora/posiflora_keyset.h"
#include "sources/posiflora/posiflora_session.h"

#define POSIFLORA_ACCEPT_HEADER "Accept: application/vnd.api+json"
/* One JSON:API resource of a list or detail: far below this in practice. */
#define POSIFLORA_RECORD_MAX ((size_t)4 << 20)
#define POSIFLORA_PAGE_SIZE_MAX 100 /* more is answered with 422 */

/* One list: the path and its fixed parameters. All strings belong to the caller. */
typedef struct {
    const char *base;                       /* base_url without trailing slashes */
    const char *path;                       /* "/v1/customers" */
    long page_size;                         /* 1..POSIFLORA_PAGE_SIZE_MAX */
    const char *include;                    /* or NULL */
    const char *filter_name, *filter_value; /* one filter, or NULL */
    const char *upper_name, *upper_value;   /* a fixed second filter (an upper bound), or NULL */
    const char *sort;                       /* or NULL */
} posiflora_list_query;

enum { POSIFLORA_REC_DATA = 0, POSIFLORA_REC_INCLUDED = 1 };

/* After each whole non-empty page, before the next request (e.g. the details of
 * the page's orders, a checkpoint). */
typedef fe_rc (*posiflora_page_done_fn)(void *user, fe_err *err);

typedef struct posiflora_pager posiflora_pager;

/* http, sess and user are borrowed and must outlive the pager; stats may be NULL
 * (no counting). on_record (may be NULL) gets each "data[]" (POSIFLORA_REC_DATA)
 * or "included[]" record of the page being read; returning non-FE_OK (err filled)
 * aborts the page and the loop. on_reset (may be NULL) runs when a page starts,
 * or starts again after a cut transfer: drop what it gave so far. Returns NULL when out of
 * memory. Free with posiflora_pager_free. */
posiflora_pager *posiflora_pager_new(http_client *http, stream_stats *stats,
                                     posiflora_session *sess, json_rec_fn on_record,
                                     json_fetch_reset_fn on_reset, void *user);
void posiflora_pager_free(posiflora_pager *pg);

/* GETs one page (url is complete) into the pager; `what` names it in errors
 * (e.g. the path). FE_EAUTH on a 401 that survives a session renewal, the http
 * code of a failure that survived its retries, FE_EJSON for a page that is not
 * JSON or not a list page (see above; meta.total is not compared with the records
 * here), or the record callback's code. */
fe_rc posiflora_pager_fetch(posiflora_pager *pg, const char *url, const char *what,
                            fe_err *err) FE_MUST_CHECK;

/* meta.total of GET {base}{path}?page[size]=1 into *total (-1 when the answer has
 * none, or on failure); fails like posiflora_pager_fetch. For `flowetl check`. */
fe_rc posiflora_pager_count(posiflora_pager *pg, const char *base, const char *path, int64_t *total,
                            fe_err *err) FE_MUST_CHECK;

/* Of the page read last: meta.total (-1 when absent) and the number of data
 * records. */
int64_t posiflora_pager_total(const posiflora_pager *pg);
int64_t posiflora_pager_rows(const posiflora_pager *pg);
/* meta.revision of page 1 of the last posiflora_pages_read ("" when absent). */
const char *posiflora_pager_first_revision(const posiflora_pager *pg);
/* Whether meta.total differed between the pages of the last list read: the list
 * changed while it was read, so records may have slid from an unread page onto
 * one already read. A full read must not mark deletions from such a read. */
bool posiflora_pager_total_changed(const posiflora_pager *pg);

/* Reads a list by page numbers from page 1 (see the top of this file), calling
 * done (may be NULL) after each non-empty page. Stops when the rows read reach
 * meta.total, or without meta.total at a short or empty page. Fails (FE_EJSON) on
 * a page repeating the previous one (a server ignoring page[number]) and on an
 * absurd page count. */
fe_rc posiflora_pages_read(posiflora_pager *pg, const posiflora_list_query *q,
                           posiflora_page_done_fn done, fe_err *err) FE_MUST_CHECK;

/* ---- the next page in flight ----------------------------------------------------
 *
 * A keyset read knows its next request as soon as a page is parsed, before the
 * caller works on that page. The page callback gets that request as a
 * posiflora_next_page and may run it in the same http_run_many batch as its own
 * requests (the details of the page's orders), so that a page costs one round trip
 * instead of two. The next page's records then reach the pager's record and reset
 * callbacks while the callback is still working on the page before: the caller
 * keeps the two pages apart (a reset concerns the page being read only). */

typedef struct posiflora_next_page posiflora_next_page;

/* The page read last is whole (its records were handed over); next is the request
 * of the page after it, or NULL when there is none (the list ends here). The
 * callback may run next (posiflora_next_page_request, then _result) beside its own
 * requests; when it returns FE_OK without having run it to its end, the pager runs
 * it alone. Its failure is reported by the pager after the callback returns, so the
 * callback finishes its own work first; a callback failure wins. */
typedef fe_rc (*posiflora_keyset_page_fn)(void *user, posiflora_next_page *next, fe_err *err);

/* Fills *req: the GET of the next page with the session's current bearer header
 * (call it after posiflora_session_ensure or _renew, for every attempt), its body
 * streaming into the pager. The page starts again (the reset callback runs). *req
 * and its strings stay valid until the next call or the end of the page callback. */
void posiflora_next_page_request(posiflora_next_page *np, http_request *req);

/* The transfer of the last posiflora_next_page_request finished with res (the
 * caller still terms res). True when it answered 401 for the first time: renew the
 * session and run the request again. False: the page is judged (read whole and
 * counted in the stats, or failed: a second 401 is FE_EAUTH) and must not run
 * again. */
bool posiflora_next_page_result(posiflora_next_page *np, const http_result *res);

/* Reads a list sorted ascending by the keyset's field with keyset paging (see the
 * top of this file). q->sort must name that field; q->filter_name must be
 * "filter[FIELD][from]" and q->filter_value the first lower bound (NULL or "" for
 * none); the value is replaced on later requests. The pager's record callback gets
 * only the data records that are new (included[] records always); done (may be
 * NULL) runs after each non-empty page, with the next page's request (see above).
 * The loop ends at an empty or short page (the end of the list as of that
 * request), so a list whose last page is full costs one more request. Fails like
 * posiflora_pages_read and posiflora_keyset_page_end, or with done's code. */
fe_rc posiflora_pages_read_keyset(posiflora_pager *pg, const posiflora_list_query *q,
                                  posiflora_keyset *ks, posiflora_keyset_page_fn done,
                                  fe_err *err) FE_MUST_CHECK;

#endif
