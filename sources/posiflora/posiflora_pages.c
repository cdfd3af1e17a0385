/* posiflora_pages: list URLs, the page reader, page-number and keyset page loops.
 * See posiflora_pages.h. */
#include "sources/posiflora/posiflora_pages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/json_fetch.h"
#include "extract/pager.h"
#include "transform/field.h"
#include "core/timeutil.h"

/* Without meta.total, a list longer than this many pages is taken for a server
 * that ignores page[number]; with it, meta.total + PAGES_SLACK pages. Keyset reads
 * stop at PAGES_MAX requests. */
#define PAGES_MAX 1000000L
#define PAGES_SLACK 100L

/* ---- URLs ------------------------------------------------------------------- */

static bool list_url(buf *u, const posiflora_list_query *q, long page)
{
    bool filter = q->filter_name && q->filter_value && *q->filter_value;
    bool upper = q->upper_name && q->upper_value && *q->upper_value;
    return buf_puts(u, q->base) && buf_puts(u, q->path) && buf_putc(u, '?') &&
           (!q->include || buf_put_query(u, "include", q->include)) &&
           (!filter || buf_put_query(u, q->filter_name, q->filter_value)) &&
           (!upper || buf_put_query(u, q->upper_name, q->upper_value)) &&
           (!q->sort || buf_put_query(u, "sort", q->sort)) &&
           buf_put_query_long(u, "page[number]", page) &&
           buf_put_query_long(u, "page[size]", q->page_size);
}

/* ---- the page reader ------------------------------------------------------- */

enum { REC_ROOT = 2 }; /* after POSIFLORA_REC_DATA and POSIFLORA_REC_INCLUDED */

struct posiflora_pager {
    http_client *http;
    stream_stats *stats; /* may be NULL */
    posiflora_session *sess;
    json_fetch *doc;
    json_rec_fn on_record;
    json_fetch_reset_fn on_reset;
    void *user;
    posiflora_keyset *ks; /* during a keyset read: filters the data records */
    /* the page being read */
    long page_number, page_size; /* as asked for; 0 when not a numbered list page */
    int64_t page_rows;
    int64_t meta_total; /* -1 when not given */
    bool meta_seen;     /* the answer has a `meta` object */
    char meta_revision[24];
    uint64_t ids_hash; /* FNV-1a over the page's ids: a page repeating the last one */
    /* over the whole list */
    char first_revision[24];
    int64_t first_total; /* meta.total of the first page read (-1: none) */
    bool total_changed;  /* a later page's meta.total differed from it */
};

static void read_meta(posiflora_pager *pg, const json_rec *rec)
{
    int64_t v;
    if (json_parse_count(json_rec_str(rec, "meta.total"), &v))
        pg->meta_total = v;
    if (json_parse_count(json_rec_str(rec, "meta.revision"), &v))
        snprintf(pg->meta_revision, sizeof pg->meta_revision, "%" PRId64, v);
    const json_field *m = json_rec_get(rec, "meta");
    if (m && m->type == JV_EMPTY_OBJECT)
        pg->meta_seen = true;
    for (size_t i = 0; i < json_rec_count(rec) && !pg->meta_seen; i++)
        pg->meta_seen = strncmp(json_rec_at(rec, i)->path, "meta.", 5) == 0;
}

/* Over the id's true length: "100\u0000x" and "100" hash apart. */
static void hash_id(posiflora_pager *pg, const json_field *id)
{
    pg->ids_hash = pager_hash_add(pg->ids_hash, id ? id->value : "", id ? id->len : 0);
}

/* In a keyset read, a data record already listed stops here. */
static fe_rc keyset_filter(posiflora_pager *pg, const json_rec *rec, bool *is_new, fe_err *err)
{
    const char *at_text = json_rec_str(rec, posiflora_keyset_field_path(pg->ks));
    int64_t at = INT64_MIN;
    if (at_text && !time_parse_iso(at_text, strlen(at_text), &at))
        at = INT64_MIN;
    /* A refused id (a NUL, invalid UTF-8) is no id here: the record is new and
     * reaches the mapping, which rejects it. Cut at the NUL it could tie with a
     * listed id and be skipped unseen. */
    return posiflora_keyset_see(pg->ks, field_id_or_null(rec, "id"), at, is_new, err);
}

static fe_rc on_page_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    posiflora_pager *pg = ctx;
    bool is_new = true;
    if (which == REC_ROOT) {
        read_meta(pg, rec);
        return FE_OK;
    }
    if (which == POSIFLORA_REC_DATA) {
        pg->page_rows++;
        hash_id(pg, json_rec_get(rec, "id"));
        if (pg->ks) {
            fe_rc rc = keyset_filter(pg, rec, &is_new, err);
            if (rc != FE_OK)
                return rc;
        }
    }
    return pg->on_record && is_new ? pg->on_record(pg->user, which, rec, err) : FE_OK;
}

/* The page starts (again, after a cut transfer): json_fetch_reset's hook. */
static void page_start(void *ctx)
{
    posiflora_pager *pg = ctx;
    pg->page_rows = 0;
    pg->meta_total = -1;
    pg->meta_seen = false;
    pg->meta_revision[0] = '\0';
    pg->ids_hash = PAGER_HASH_INIT;
    if (pg->ks)
        posiflora_keyset_page_reset(pg->ks);
    if (pg->on_reset)
        pg->on_reset(pg->user);
}

/* The records a whole page must hold when meta.total is right: the rest of the
 * list after the pages before it, at most a page. -1 when unknown. */
static int64_t page_expected_rows(const posiflora_pager *pg)
{
    if (pg->page_number < 1)
        return -1;
    return pager_expected_rows(pg->meta_total, pg->page_number - 1, pg->page_size);
}

/* A whole 2xx body counts only when it is a list page: a `data` array and a
 * `meta` object, and as many records as meta.total leaves for the page (fewer:
 * records were lost on the way, or a gateway answered for the API). Anything
 * else is refused and the request retried like a 5xx (http_sink.on_end). More
 * records than that are let through: a list that grows while it is read. */
static fe_rc page_end(void *ctx, const json_stream *js, fe_err *err)
{
    posiflora_pager *pg = ctx;
    FE_TRY(json_fetch_require(js, POSIFLORA_REC_DATA, JSON_AS_ARRAY,
                              "unexpected response shape: no `data` array", err));
    if (!pg->meta_seen)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `meta` object");
    int64_t want = page_expected_rows(pg);
    if (want >= 0 && pg->page_rows < want)
        return fe_err_set(err, FE_EJSON,
                          "unexpected response: meta.total is %" PRId64
                          ", so page %ld of %ld records should hold %" PRId64 ", it holds %" PRId64,
                          pg->meta_total, pg->page_number, pg->page_size, want, pg->page_rows);
    return FE_OK;
}

posiflora_pager *posiflora_pager_new(http_client *http, stream_stats *stats,
                                     posiflora_session *sess, json_rec_fn on_record,
                                     json_fetch_reset_fn on_reset, void *user)
{
    static const char *const paths[] = {"data[]", "included[]", "."};
    posiflora_pager *pg = calloc(1, sizeof *pg);
    if (!pg)
        return NULL;
    *pg = (posiflora_pager){.http = http,
                            .stats = stats,
                            .sess = sess,
                            .on_record = on_record,
                            .on_reset = on_reset,
                            .user = user,
                            .meta_total = -1,
                            .first_total = -1};
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 3,
                            .max_record_bytes = POSIFLORA_RECORD_MAX,
                            .on_record = on_page_record,
                            .on_reset = page_start,
                            .on_end = page_end,
                            .user = pg};
    if (!(pg->doc = json_fetch_new(&spec))) {
        free(pg);
        return NULL;
    }
    return pg;
}

void posiflora_pager_free(posiflora_pager *pg)
{
    if (!pg)
        return;
    json_fetch_free(pg->doc);
    free(pg);
}

int64_t posiflora_pager_total(const posiflora_pager *pg)
{
    return pg->meta_total;
}

int64_t posiflora_pager_rows(const posiflora_pager *pg)
{
    return pg->page_rows;
}

const char *posiflora_pager_first_revision(const posiflora_pager *pg)
{
    return pg->first_revision;
}

bool posiflora_pager_total_changed(const posiflora_pager *pg)
{
    return pg->total_changed;
}

/* The GET of one list page into pg, with the session's bearer header (headers[2]
 * is the caller's, valid as long as *req): page number and size as asked for (0:
 * not a numbered page, meta.total is not checked against it). The page starts
 * again: what an earlier attempt gave is forgotten. */
static void page_request(posiflora_pager *pg, const char *url, long page, long size,
                         const char *headers[2], http_request *req)
{
    headers[0] = POSIFLORA_ACCEPT_HEADER;
    headers[1] = posiflora_session_auth_header(pg->sess);
    *req = (http_request){
        .method = "GET",
        .url = url,
        .headers = headers,
        .nheaders = 2,
        .sink = json_fetch_sink(pg->doc),
    };
    pg->page_number = page;
    pg->page_size = size;
    json_fetch_reset(pg->doc);
}

/* Judges a finished list transfer. *retry for a 401 when the session was not
 * renewed for this request yet (renew, then run it again). Otherwise FE_OK when
 * the page is whole, or the failure with err filled. */
static fe_rc page_result(const http_result *res, bool renewed, const char *what, bool *retry,
                         fe_err *err)
{
    *retry = res->status == 401 && !renewed;
    if (*retry)
        return FE_OK;
    if (res->status == 401)
        return fe_err_set(err, FE_EAUTH, "GET %s: HTTP 401 again after a session renewal", what);
    if (res->rc != FE_OK) {
        *err = res->err;
        return res->rc;
    }
    return FE_OK; /* whole and judged by page_end */
}

/* posiflora_pager_fetch of a numbered list page (page and size as asked for). */
static fe_rc pager_fetch(posiflora_pager *pg, const char *url, const char *what, long page,
                         long size, fe_err *err)
{
    for (int attempt = 0;; attempt++) {
        http_result res = {0};
        http_request req;
        const char *headers[2];
        bool retry = false;
        fe_rc rc = attempt == 0 ? posiflora_session_ensure(pg->sess, pg->http, pg->stats, err)
                                : posiflora_session_renew(pg->sess, pg->http, pg->stats, err);
        if (rc != FE_OK)
            return rc;
        page_request(pg, url, page, size, headers, &req);
        rc = http_run(pg->http, &req, &res, pg->stats, err);
        if (rc == FE_OK)
            rc = page_result(&res, attempt > 0, what, &retry, err);
        http_result_term(&res);
        if (rc != FE_OK || !retry)
            return rc;
    }
}

fe_rc posiflora_pager_fetch(posiflora_pager *pg, const char *url, const char *what, fe_err *err)
{
    return pager_fetch(pg, url, what, 0, 0, err);
}

fe_rc posiflora_pager_count(posiflora_pager *pg, const char *base, const char *path, int64_t *total,
                            fe_err *err)
{
    buf url;
    fe_rc rc;
    buf_init(&url, 0);
    if (!buf_puts(&url, base) || !buf_puts(&url, path) || !buf_putc(&url, '?') ||
        !buf_put_query_long(&url, "page[size]", 1))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    else
        rc = posiflora_pager_fetch(pg, buf_cstr(&url), path, err);
    *total = rc == FE_OK ? pg->meta_total : -1;
    buf_term(&url);
    return rc;
}

/* A whole list page counts into the stream's stats, and its meta.total is
 * compared with the first page's. */
static void count_page(posiflora_pager *pg)
{
    if (pg->stats) {
        stats_note_total(pg->stats, pg->meta_total);
        pg->stats->pages++;
        pg->stats->records += pg->page_rows;
    }
    if (pg->first_total < 0)
        pg->first_total = pg->meta_total;
    else if (pg->meta_total != pg->first_total)
        pg->total_changed = true;
}

/* A list read starts: forgets what the last one saw. */
static void list_start(posiflora_pager *pg)
{
    pg->first_revision[0] = '\0';
    pg->first_total = -1;
    pg->total_changed = false;
}

/* Builds the URL of one page and GETs it; counts it once it is whole. */
static fe_rc fetch_list_page(posiflora_pager *pg, const posiflora_list_query *q, long page,
                             buf *url, fe_err *err)
{
    buf_reset(url);
    if (!list_url(url, q, page))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    fe_rc rc = pager_fetch(pg, buf_cstr(url), q->path, page, q->page_size, err);
    if (rc == FE_OK)
        count_page(pg);
    return rc;
}

static fe_rc repeated_page(const posiflora_list_query *q, long page, fe_err *err)
{
    return fe_err_set(err, FE_EJSON,
                      "GET %s: page %ld holds the same records as page %ld: the server "
                      "ignores page[number]; stopping",
                      q->path, page, page - 1);
}

/* ---- the page-number read: the shared page loop with Posiflora's rules ------------- */

typedef struct {
    posiflora_pager *pg;
    const posiflora_list_query *q;
    posiflora_page_done_fn done;
    buf url;
} numbered_read;

static fe_rc numbered_fetch(void *user, const pager_at *at, pager_page *page, fe_err *err)
{
    numbered_read *nr = user;
    posiflora_pager *pg = nr->pg;
    FE_TRY(fetch_list_page(pg, nr->q, at->page, &nr->url, err));
    if (at->index == 0)
        memcpy(pg->first_revision, pg->meta_revision, sizeof pg->first_revision);
    *page = (pager_page){.rows = pg->page_rows, .total = pg->meta_total, .ids_hash = pg->ids_hash};
    return FE_OK;
}

static fe_rc numbered_done(void *user, const pager_page *page, bool *stop, fe_err *err)
{
    numbered_read *nr = user;
    (void)page;
    (void)stop;
    return nr->done ? nr->done(nr->pg->user, err) : FE_OK;
}

static fe_rc numbered_refuse(void *user, pager_refusal why, const pager_at *at,
                             const pager_page *last, fe_err *err)
{
    const posiflora_list_query *q = ((numbered_read *)user)->q;
    if (why == PAGER_REPEATED)
        return repeated_page(q, at->page, err);
    return fe_err_set(err, FE_EJSON,
                      "GET %s: still reading at page %ld with meta.total %" PRId64
                      "; stopping (does the server honour page[number]?)",
                      q->path, at->page, last->total);
}

fe_rc posiflora_pages_read(posiflora_pager *pg, const posiflora_list_query *q,
                           posiflora_page_done_fn done, fe_err *err)
{
    /* meta.total ends the list; without it a short page does; an empty page always.
     * The page bound with meta.total is that many pages (+ slack), not total /
     * size: a bound, not an estimate. */
    pager_rules rules = {.first_page = 1,
                         .page_size = q->page_size,
                         .count = true,
                         .short_page = true,
                         .short_needs_no_count = true,
                         .empty_ends = true,
                         .refuse_repeat = true,
                         .max_pages = PAGES_MAX,
                         .slack = PAGES_SLACK,
                         .cap_count_pages = true};
    pager_hooks hooks = {
        .fetch = numbered_fetch, .page_done = numbered_done, .refuse = numbered_refuse};
    numbered_read nr = {.pg = pg, .q = q, .done = done};

    buf_init(&nr.url, 0);
    list_start(pg);
    fe_rc rc = pager_run(&rules, &hooks, &nr, NULL, NULL, err);
    buf_term(&nr.url);
    return rc;
}

/* ---- the next page of a keyset read, run by the page callback ------------------ */

struct posiflora_next_page {
    posiflora_pager *pg;
    const char *url, *what; /* the loop's: valid during the page callback */
    long page, size;        /* page[number] and page[size] of the request */
    const char *headers[2];
    bool renewed; /* it answered 401 once: the caller renewed the session since */
    bool done;    /* judged: rc and err hold the outcome */
    fe_rc rc;
    fe_err err;
};

void posiflora_next_page_request(posiflora_next_page *np, http_request *req)
{
    page_request(np->pg, np->url, np->page, np->size, np->headers, req);
}

bool posiflora_next_page_result(posiflora_next_page *np, const http_result *res)
{
    bool retry = false;
    np->rc = page_result(res, np->renewed, np->what, &retry, &np->err);
    if (retry) {
        np->renewed = true;
        return true;
    }
    np->done = true;
    if (np->rc == FE_OK)
        count_page(np->pg);
    return false;
}

/* The request of the next page (url holds its URL) is ready to hand over. */
static void next_page_init(posiflora_next_page *np, posiflora_pager *pg, buf *url, const char *what,
                           long page, long size)
{
    *np = (posiflora_next_page){
        .pg = pg, .url = buf_cstr(url), .what = what, .page = page, .size = size};
}

/* After the page callback: the next page is read, by the callback or now. */
static fe_rc next_page_finish(posiflora_next_page *np, fe_err *err)
{
    if (np->done) {
        if (np->rc != FE_OK)
            *err = np->err;
        return np->rc;
    }
    fe_rc rc = pager_fetch(np->pg, np->url, np->what, np->page, np->size, err);
    if (rc == FE_OK)
        count_page(np->pg);
    return rc;
}

fe_rc posiflora_pages_read_keyset(posiflora_pager *pg, const posiflora_list_query *q,
                                  posiflora_keyset *ks, posiflora_keyset_page_fn done, fe_err *err)
{
    posiflora_list_query cur = *q;
    posiflora_keyset_next at = {.from = INT64_MIN, .page = 1}, next;
    posiflora_next_page np;
    char from_text[TIME_TEXT_MAX];
    uint64_t prev_hash = 0;
    buf url;
    fe_rc rc;

    buf_init(&url, 0);
    list_start(pg);
    pg->ks = ks;
    rc = fetch_list_page(pg, &cur, at.page, &url, err);
    for (long requests = 1; rc == FE_OK; requests++) {
        if ((rc = posiflora_keyset_page_end(ks, q->page_size, &next, err)) != FE_OK) {
            fe_err_wrap(err, "GET %s", buf_cstr(&url));
            break;
        }
        if (requests == 1)
            memcpy(pg->first_revision, pg->meta_revision, sizeof pg->first_revision);
        if (pg->page_rows == 0)
            break;
        if (at.page > 1 && pg->ids_hash == prev_hash) {
            rc = repeated_page(q, at.page, err);
            break;
        }
        prev_hash = pg->ids_hash;
        /* The next request is known before the page is worked on: the callback
         * may run it beside its own. */
        bool more = !next.stop && requests < PAGES_MAX;
        if (more) {
            if (next.from != INT64_MIN)
                cur.filter_value = time_format_iso(next.from, from_text);
            buf_reset(&url);
            if (!list_url(&url, &cur, next.page)) {
                rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
                break;
            }
            next_page_init(&np, pg, &url, q->path, next.page, q->page_size);
        }
        if (done && (rc = done(pg->user, more ? &np : NULL, err)) != FE_OK)
            break;
        if (next.stop)
            break;
        if (!more) {
            rc = fe_err_set(err, FE_EJSON, "GET %s: still reading after %ld requests; stopping",
                            q->path, PAGES_MAX);
            break;
        }
        rc = next_page_finish(&np, err);
        at = next;
    }
    pg->ks = NULL;
    buf_term(&url);
    return rc;
}
