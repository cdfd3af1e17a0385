/* flowwow_pages: requests, page loop and repeated-page detection of the Flowwow
 * source. See flowwow_pages.h. */
#include "sources/flowwow/flowwow_pages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/json_fetch.h"
#include "extract/pager.h"

/* Pages beyond total / limit before the list is taken for a loop. */
#define PAGES_SLACK 10L
/* Without `total`, a list longer than this many pages is taken for a loop. */
#define PAGES_MAX 100000L

enum { REC_SHOPS = 0, REC_ITEMS = 1, REC_ROOT = 2 };

struct flowwow_pager {
    http_client *http;
    stream_stats *stats;
    char *auth_header;
    json_fetch *doc;
    json_rec_fn on_record;
    void (*on_start)(void *user);
    void *user;
    const flowwow_list *list; /* being read */
    long page;                /* being read */
    /* the page being read */
    int64_t rows;
    int64_t total; /* -1 when absent */
    uint64_t ids_hash;
    char first_id[32];
    /* over the pager's life */
    bool total_changed; /* `total` differed between two pages of one list */
};

/* Hashes the text of the field at path over its whole length (a NUL inside it
 * must not make two ids hash alike). */
static void hash_field(uint64_t *h, const json_rec *rec, const char *path)
{
    const json_field *f = json_rec_get(rec, path);
    bool text = f && (f->type == JV_STRING || f->type == JV_NUMBER);
    *h = pager_hash_add(*h, text ? f->value : "", text ? f->len : 0);
}

static fe_rc on_page_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    flowwow_pager *pg = ctx;
    if (which == REC_ROOT) {
        int64_t v;
        if (json_parse_count(json_rec_str(rec, "total"), &v))
            pg->total = v;
        return FE_OK;
    }
    const char *id = json_rec_str(rec, pg->list->id_path);
    if (pg->rows == 0)
        snprintf(pg->first_id, sizeof pg->first_id, "%s", id ? id : "");
    pg->rows++;
    hash_field(&pg->ids_hash, rec, pg->list->id_path);
    hash_field(&pg->ids_hash, rec, "offerId");
    return pg->on_record ? pg->on_record(pg->user, which, rec, err) : FE_OK;
}

/* A cut transfer is read again: records it gave reach the sink twice, which the
 * loader's de-duplication on natural keys absorbs; the counters start over. */
static void page_start(void *ctx)
{
    flowwow_pager *pg = ctx;
    pg->rows = 0;
    pg->total = -1;
    pg->ids_hash = PAGER_HASH_INIT;
    pg->first_id[0] = '\0';
    if (pg->on_start)
        pg->on_start(pg->user);
}

/* A whole 2xx body counts only when it is a page of the list: its records array
 * ("shops" or "items") and, when it sends `total`, at least the records that
 * leaves for the page. Anything else (a gateway's `200 {}`, a maintenance
 * message, a page short of records) is refused: retried like a 5xx
 * (http_sink.on_end). More records are let through (a list growing meanwhile). */
static fe_rc page_end(void *ctx, const json_stream *js, fe_err *err)
{
    flowwow_pager *pg = ctx;
    const flowwow_list *l = pg->list;
    int which = strcmp(l->records, "shops") == 0 ? REC_SHOPS : REC_ITEMS;
    if (json_stream_shape(js, which) != JSON_AS_ARRAY)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `%s` array", l->records);
    int64_t want = pager_expected_rows(pg->total, pg->page - l->page_base, l->limit);
    /* Only orders/list (the one GET list) has a configurable page base. */
    bool base_hint = strcmp(l->method, "GET") == 0;
    if (want >= 0 && pg->rows < want)
        return fe_err_set(err, FE_EJSON,
                          "unexpected response: `total` is %" PRId64
                          ", so page %ld of %ld records (first page %ld) should hold %" PRId64
                          ", it holds %" PRId64 " (records lost on the way%s)",
                          pg->total, pg->page, l->limit, l->page_base, want, pg->rows,
                          base_hint ? ", or is the page base right? orders_page_base" : "");
    return FE_OK;
}

flowwow_pager *flowwow_pager_new(http_client *http, stream_stats *stats, const char *auth_header,
                                 json_rec_fn on_record, void *user)
{
    static const char *const paths[] = {"shops[]", "items[]", "."};
    flowwow_pager *pg = calloc(1, sizeof *pg);
    if (!pg)
        return NULL;
    pg->http = http;
    pg->stats = stats;
    pg->on_record = on_record;
    pg->user = user;
    pg->auth_header = strdup(auth_header);
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 3,
                            .max_record_bytes = FLOWWOW_RECORD_MAX,
                            .on_record = on_page_record,
                            .on_reset = page_start,
                            .on_end = page_end,
                            .user = pg};
    pg->doc = json_fetch_new(&spec);
    if (!pg->auth_header || !pg->doc) {
        flowwow_pager_free(pg);
        return NULL;
    }
    return pg;
}

void flowwow_pager_free(flowwow_pager *pg)
{
    if (!pg)
        return;
    json_fetch_free(pg->doc);
    free(pg->auth_header);
    free(pg);
}

void flowwow_pager_on_page_start(flowwow_pager *pg, void (*start)(void *user))
{
    pg->on_start = start;
}

const char *flowwow_pager_first_id(const flowwow_pager *pg)
{
    return pg->first_id;
}

/* Sends one page request and parses the answer into the pager. */
static fe_rc fetch_page(flowwow_pager *pg, const flowwow_list *l, long page, fe_err *err)
{
    static const char json_ct[] = "Content-Type: application/json";
    buf url, body;
    http_result res = {0};
    fe_rc rc;
    const char *headers[3] = {pg->auth_header, "Accept: application/json", json_ct};
    bool post = strcmp(l->method, "POST") == 0;

    buf_init(&url, 0);
    buf_init(&body, 0);
    pg->list = l;
    pg->page = page;
    if ((rc = l->build(l->build_user, page, &url, &body, err)) != FE_OK)
        goto done;
    http_request req = {
        .method = l->method,
        .url = buf_cstr(&url),
        .headers = headers,
        .nheaders = post ? 3 : 2,
        .body = post ? buf_cstr(&body) : NULL,
        .body_len = post ? body.len : 0,
        .no_auth_on_redirect = true,
    };
    if ((rc = json_fetch_run(pg->doc, pg->http, &req, &res, pg->stats, err)) != FE_OK)
        goto done;
    if (res.status == 401) {
        rc = fe_err_set(err, FE_EAUTH,
                        "%s: HTTP 401 (the token was refused: check `token` of the source)",
                        l->what);
    } else if (res.rc != FE_OK) {
        *err = res.err;
        rc = res.rc;
        fe_err_wrap(err, "%s page %ld", l->what, page);
    } else if (pg->stats) { /* whole and judged by page_end */
        stats_note_total(pg->stats, pg->total);
        pg->stats->pages++;
        pg->stats->records += pg->rows;
    }
done:
    http_result_term(&res);
    buf_term(&url);
    buf_term(&body);
    return rc;
}

fe_rc flowwow_pages_one(flowwow_pager *pg, const flowwow_list *l, long page, int64_t *rows,
                        int64_t *total, fe_err *err)
{
    fe_rc rc = fetch_page(pg, l, page, err);
    *rows = rc == FE_OK ? pg->rows : 0;
    *total = rc == FE_OK ? pg->total : -1;
    return rc;
}

bool flowwow_pager_total_changed(const flowwow_pager *pg)
{
    return pg->total_changed;
}

/* ---- the list: the shared page loop with Flowwow's rules ------------------------ */

typedef struct {
    flowwow_pager *pg;
    const flowwow_list *l;
} list_read;

static fe_rc list_fetch(void *user, const pager_at *at, pager_page *page, fe_err *err)
{
    list_read *lr = user;
    flowwow_pager *pg = lr->pg;
    FE_TRY(fetch_page(pg, lr->l, at->page, err));
    *page = (pager_page){.rows = pg->rows, .total = pg->total, .ids_hash = pg->ids_hash};
    return FE_OK;
}

static fe_rc list_page_done(void *user, const pager_page *page, bool *stop, fe_err *err)
{
    list_read *lr = user;
    const flowwow_list *l = lr->l;
    *stop = false;
    return l->page_done
               ? l->page_done(l->build_user, lr->pg->page, page->rows, page->total, stop, err)
               : FE_OK;
}

static fe_rc list_refuse(void *user, pager_refusal why, const pager_at *at, const pager_page *last,
                         fe_err *err)
{
    const flowwow_list *l = ((list_read *)user)->l;
    if (why == PAGER_REPEATED)
        return fe_err_set(err, FE_EJSON,
                          "%s: page %ld holds the same records as page %ld: the server "
                          "ignores `page` (or the page base is wrong: orders_page_base); "
                          "stopping rather than loading part of the list",
                          l->what, at->page, at->page - 1);
    return fe_err_set(err, FE_EJSON,
                      "%s: still reading at page %ld with total %" PRId64
                      "; stopping (does the server honour `page`?)",
                      l->what, at->page, last->total);
}

fe_rc flowwow_pages_read(flowwow_pager *pg, const flowwow_list *l, int64_t *read, fe_err *err)
{
    /* `total` ends the list; without it a short page does; an empty page always
     * (fewer than `total` said was refused by page_end). */
    pager_rules rules = {.first_page = l->page_base,
                         .page_size = l->limit,
                         .count = true,
                         .short_page = true,
                         .short_needs_no_count = true,
                         .empty_ends = true,
                         .refuse_repeat = true,
                         .max_pages = PAGES_MAX,
                         .slack = PAGES_SLACK,
                         .count_per_page = true};
    pager_hooks hooks = {.fetch = list_fetch, .page_done = list_page_done, .refuse = list_refuse};
    list_read lr = {.pg = pg, .l = l};
    pager_result res;
    fe_rc rc = pager_run(&rules, &hooks, &lr, NULL, &res, err);
    if (res.total_changed)
        pg->total_changed = true;
    if (read)
        *read = res.rows;
    return rc;
}
