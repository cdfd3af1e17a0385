/* flowretail_api: URLs, the bearer header, one-document reads and the page loop
 * of the Flow Retail API v2. See flowretail_api.h. */
#include "sources/flowretail/flowretail_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/pager.h"

/* Without paging.totalCount a list longer than this many pages is taken for a
 * server that ignores pageNumber; with it, totalCount / pageSize + PAGES_SLACK. */
#define PAGES_MAX 1000000L
#define PAGES_SLACK 100L
/* A served paging.pageSize above this is refused as absurd: the API allows 1000,
 * and a size this large would end the list after one page (fewer rows than it). */
#define SERVED_PAGE_SIZE_MAX 1000000L

struct flowretail_api {
    char *base;   /* without trailing slashes */
    char *tenant; /* as configured */
    char *auth;   /* "Authorization: Bearer ..." */
    char currency[4];
    char timezone[64];
    char name[128];
    long last_status;
    flowretail_page_probe probe;
};

static char *dup_or_null(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

fe_rc flowretail_api_new(const source_config *conf, flowretail_api **out, fe_err *err)
{
    const char *base = config_str(conf, "base_url"), *tenant = config_str(conf, "tenant"),
               *token = config_str(conf, "token");
    flowretail_api *a;
    buf auth;
    size_t blen;

    *out = NULL;
    if (!tenant || !*tenant || !token || !*token)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] tenant and token are required", conf->name);
    if (!base || !*base)
        base = FLOWRETAIL_DEFAULT_BASE;
    blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    if (!(a = calloc(1, sizeof *a)))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    buf_init(&auth, 0);
    if (!buf_puts(&auth, "Authorization: Bearer ") || !buf_puts(&auth, token) ||
        !(a->auth = buf_take(&auth, NULL)) || !(a->base = dup_or_null(base, blen)) ||
        !(a->tenant = dup_or_null(tenant, strlen(tenant)))) {
        buf_term(&auth);
        flowretail_api_free(a);
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    *out = a;
    return FE_OK;
}

void flowretail_api_free(flowretail_api *a)
{
    if (!a)
        return;
    free(a->base);
    free(a->tenant);
    free(a->auth);
    free(a);
}

const char *flowretail_api_currency(const flowretail_api *a)
{
    return a->currency[0] ? a->currency : NULL;
}

const char *flowretail_api_timezone(const flowretail_api *a)
{
    return a->timezone;
}

const char *flowretail_api_tenant_name(const flowretail_api *a)
{
    return a->name;
}

long flowretail_api_last_status(const flowretail_api *a)
{
    return a->last_status;
}

void flowretail_api_set_page_probe(flowretail_api *a, const flowretail_page_probe *p)
{
    a->probe = *p;
}

const flowretail_page_probe *flowretail_api_page_probe(const flowretail_api *a)
{
    return &a->probe;
}

/* ---- one document ------------------------------------------------------------ */

static bool doc_url(const flowretail_api *a, const flowretail_doc *d, buf *url)
{
    return buf_puts(url, a->base) && buf_puts(url, "/tenants/") && buf_put_urlenc(url, a->tenant) &&
           buf_puts(url, d->path ? d->path : "") &&
           (!d->query || !*d->query || (buf_putc(url, '?') && buf_puts(url, d->query)));
}

/* The answer of a finished transfer as a return code. */
static fe_rc result_rc(const flowretail_doc *d, http_result *res, fe_err *err)
{
    if (res->rc != FE_OK) {
        *err = res->err;
        if (res->status == 401 || res->status == 403)
            return fe_err_set(err, FE_EAUTH,
                              "%s %s: HTTP %ld: the integration token was refused (check "
                              "`token` and that its user may read tenant data)",
                              d->method, d->path ? d->path : "/", res->status);
        return res->rc;
    }
    return FE_OK; /* whole and judged by d->on_end */
}

fe_rc flowretail_fetch(flowretail_api *a, http_client *http, stream_stats *stats,
                       const flowretail_doc *d, long *status, fe_err *err)
{
    json_fetch_spec spec = {.paths = d->paths,
                            .npaths = d->npaths,
                            .max_record_bytes = FLOWRETAIL_RECORD_MAX,
                            .on_record = d->on_record,
                            .on_reset = d->on_reset,
                            .on_end = d->on_end,
                            .user = d->user};
    json_fetch *doc = json_fetch_new(&spec);
    http_result res = {0};
    buf url;
    fe_rc rc;
    const char *headers[3] = {a->auth, "Accept: application/json",
                              "Content-Type: application/json"};

    if (status)
        *status = 0;
    buf_init(&url, 0);
    if (!doc || !doc_url(a, d, &url)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building a request");
        goto done;
    }
    http_request req = {
        .method = d->method,
        .url = buf_cstr(&url),
        .headers = headers,
        .nheaders = d->body ? 3 : 2,
        .body = d->body,
        .body_len = d->body ? strlen(d->body) : 0,
        .no_auth_on_redirect = true,
    };
    rc = json_fetch_run(doc, http, &req, &res, stats, err);
    a->last_status = res.status;
    if (status)
        *status = res.status;
    if (rc == FE_OK)
        rc = result_rc(d, &res, err);
done:
    http_result_term(&res);
    json_fetch_free(doc);
    buf_term(&url);
    return rc;
}

/* ---- tenant ---------------------------------------------------------------- */

static fe_rc on_tenant(void *user, int which, const json_rec *rec, fe_err *err)
{
    flowretail_api *a = user;
    const char *cur = json_rec_str(rec, "currency.code"), *tz = json_rec_str(rec, "timezone"),
               *name = json_rec_str(rec, "name");
    (void)which;
    (void)err;
    a->currency[0] = '\0';
    if (cur && strlen(cur) == 3) {
        for (int i = 0; i < 3; i++)
            a->currency[i] = (char)(cur[i] >= 'a' && cur[i] <= 'z' ? cur[i] - 'a' + 'A' : cur[i]);
        a->currency[3] = '\0';
        for (int i = 0; i < 3; i++)
            if (a->currency[i] < 'A' || a->currency[i] > 'Z')
                a->currency[0] = '\0';
    }
    snprintf(a->timezone, sizeof a->timezone, "%s", tz ? tz : "");
    snprintf(a->name, sizeof a->name, "%s", name ? name : "");
    return FE_OK;
}

fe_rc flowretail_api_read_tenant(flowretail_api *a, http_client *http, stream_stats *stats,
                                 fe_err *err)
{
    static const char *const paths[] = {"."};
    flowretail_doc d = {.method = "GET",
                        .path = "",
                        .paths = paths,
                        .npaths = 1,
                        .on_record = on_tenant,
                        .user = a};
    return flowretail_fetch(a, http, stats, &d, NULL, err);
}

/* ---- the page loop ------------------------------------------------------------ */

typedef struct {
    const flowretail_doc *d;
    long page, asked_size; /* the request's pageNumber and pageSize */
    int64_t rows, total, page_size;
    bool paging_seen; /* the answer has a `paging` object */
    uint64_t hash;    /* over the page's items (paths and values), in order */
    bool hash_only;   /* a page read to confirm a silent cap: items are not handed on */
    bool suspect_cap; /* page 1 is short of totalCount and says no smaller pageSize */
} page_ctx;

static fe_rc on_page_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    page_ctx *p = user;
    if (which == 1) {
        const json_field *f = json_rec_get(rec, "paging");
        if (!json_parse_count(json_rec_str(rec, "paging.totalCount"), &p->total))
            p->total = -1;
        if (!json_parse_count(json_rec_str(rec, "paging.pageSize"), &p->page_size))
            p->page_size = -1;
        p->paging_seen = f && f->type == JV_EMPTY_OBJECT;
        for (size_t i = 0; i < json_rec_count(rec) && !p->paging_seen; i++)
            p->paging_seen = strncmp(json_rec_at(rec, i)->path, "paging.", 7) == 0;
        return FE_OK;
    }
    p->rows++;
    for (size_t i = 0; i < json_rec_count(rec); i++) {
        const json_field *f = json_rec_at(rec, i);
        p->hash = pager_hash_add(p->hash, f->path, strlen(f->path) + 1);
        p->hash = pager_hash_add(p->hash, f->value ? f->value : "", f->value ? f->len + 1 : 0);
    }
    if (p->hash_only)
        return FE_OK;
    return p->d->on_record ? p->d->on_record(p->d->user, 0, rec, err) : FE_OK;
}

static void on_page_reset(void *user)
{
    page_ctx *p = user;
    p->rows = 0;
    p->total = p->page_size = -1;
    p->paging_seen = false;
    p->hash = PAGER_HASH_INIT;
    p->suspect_cap = false;
    if (p->d->on_reset)
        p->d->on_reset(p->d->user);
}

/* The refusal of a page holding fewer items than totalCount leaves for it. */
static fe_rc short_page_refused(const page_ctx *p, int64_t size, int64_t want, fe_err *err)
{
    return fe_err_set(err, FE_EJSON,
                      "unexpected response: paging.totalCount is %" PRId64
                      ", so page %ld of %" PRId64 " items should hold %" PRId64
                      ", it holds %" PRId64,
                      p->total, p->page, size, want, p->rows);
}

/* A list page: an `items` array, a `paging` object, and as many items as
 * paging.totalCount leaves for the page (see flowretail_list). */
static fe_rc on_page_end(void *user, const json_stream *js, fe_err *err)
{
    page_ctx *p = user;
    if (json_stream_shape(js, 0) != JSON_AS_ARRAY)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `items` array");
    if (!p->paging_seen)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `paging` object");
    if (p->page_size > SERVED_PAGE_SIZE_MAX)
        return fe_err_set(err, FE_EJSON,
                          "unexpected response shape: paging.pageSize %" PRId64 " is absurd",
                          p->page_size);
    if (p->total < 0 || p->hash_only)
        return FE_OK;
    int64_t size = p->page_size > 0 ? p->page_size : p->asked_size, before;
    /* pageSize is the server's: the product is checked, never left to overflow. */
    if (__builtin_mul_overflow((int64_t)(p->page - 1), size, &before))
        return fe_err_set(err, FE_EJSON,
                          "unexpected response shape: page %ld of %" PRId64
                          " items is out of range",
                          p->page, size);
    int64_t left = p->total > before ? p->total - before : 0;
    int64_t want = left < size ? left : size;
    if (p->rows < want) {
        /* Page 1 short while its pageSize says nothing smaller: a silent cap that
         * repeats the size asked, or a page that lost its last items;
         * flowretail_list tells them apart (confirm_cap). */
        if (p->page == 1 && p->rows > 0 && !(p->page_size > 0 && p->page_size < p->asked_size)) {
            p->suspect_cap = true;
            return FE_OK;
        }
        return short_page_refused(p, size, want, err);
    }
    return FE_OK;
}

static fe_rc page_query(buf *q, const flowretail_doc *d, long page, long page_size, fe_err *err)
{
    buf_reset(q);
    if ((d->query && *d->query && (!buf_puts(q, d->query) || !buf_putc(q, '&'))) ||
        !buf_printf(q, "pageNumber=%ld&pageSize=%ld", page, page_size))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

/* One list read: the shared page loop's hooks. */
typedef struct {
    flowretail_api *a;
    http_client *http;
    stream_stats *stats;
    const flowretail_doc *d;
    flowretail_doc pd; /* d with the page's own paths, query and callbacks */
    page_ctx p;
    buf query;
    flowretail_page_fn page_done;
} list_read;

/* Page 1 came short of totalCount (p.suspect_cap): page 1 is asked again at the
 * size it served, its items only hashed. The same items, in the same order, mean
 * the server serves pages of that size (a silent cap): the list goes on at it,
 * exact whatever the cause, since every later page asks for that size. Anything
 * else is a page that lost items: refused as before. One request more, only for
 * a server that caps without saying so in paging.pageSize. */
static fe_rc confirm_cap(list_read *lr, fe_err *err)
{
    page_ctx first = lr->p;
    int64_t size = first.page_size > 0 ? first.page_size : first.asked_size;
    int64_t want = first.total < size ? first.total : size;
    lr->p = (page_ctx){.d = first.d,
                       .page = 1,
                       .asked_size = (long)first.rows,
                       .total = -1,
                       .page_size = -1,
                       .hash = PAGER_HASH_INIT,
                       .hash_only = true};
    FE_TRY(page_query(&lr->query, lr->d, 1, lr->p.asked_size, err));
    lr->pd.query = buf_cstr(&lr->query);
    fe_rc rc = flowretail_fetch(lr->a, lr->http, lr->stats, &lr->pd, NULL, err);
    bool same = rc == FE_OK && lr->p.rows == first.rows && lr->p.hash == first.hash;
    long capped = lr->p.asked_size;
    lr->p = first;
    lr->p.suspect_cap = false;
    if (rc != FE_OK)
        return rc;
    if (!same)
        return short_page_refused(&first, size, want, err);
    lr->p.asked_size = capped;
    return FE_OK;
}

static fe_rc list_fetch(void *user, const pager_at *at, pager_page *page, fe_err *err)
{
    list_read *lr = user;
    long asked = lr->p.asked_size;
    FE_TRY(page_query(&lr->query, lr->d, at->page, lr->p.asked_size, err));
    lr->pd.query = buf_cstr(&lr->query);
    lr->p.page = at->page;
    FE_TRY(flowretail_fetch(lr->a, lr->http, lr->stats, &lr->pd, NULL, err));
    if (lr->p.suspect_cap)
        FE_TRY(confirm_cap(lr, err));
    /* A cap the server reports (paging.pageSize below the size asked, page 1
     * holding it whole) is asked for explicitly from page 2 on as well. */
    else if (at->page == 1 && lr->p.page_size > 0 && lr->p.page_size < asked && lr->p.rows > 0 &&
             lr->p.total > lr->p.rows)
        lr->p.asked_size = (long)lr->p.page_size;
    if (lr->stats) {
        stats_note_total(lr->stats, lr->p.total);
        lr->stats->pages++;
        lr->stats->records += lr->p.rows;
    }
    bool capped = lr->p.asked_size < asked;
    if (capped && lr->d->capped_to)
        *lr->d->capped_to = lr->p.asked_size;
    /* The size pages now have (a short page ends the list): the cap when one was
     * found, else the server's page size when it reports one. */
    *page = (pager_page){.rows = lr->p.rows,
                         .total = lr->p.total,
                         .size = capped                ? lr->p.asked_size
                                 : lr->p.page_size > 0 ? lr->p.page_size
                                                       : 0};
    return FE_OK;
}

static fe_rc list_page_done(void *user, const pager_page *page, bool *stop, fe_err *err)
{
    list_read *lr = user;
    if (!lr->page_done)
        return FE_OK;
    return lr->page_done(lr->d->user, page->rows, page->total, stop, err);
}

/* Flow Retail lists send no ids to compare: the one refusal is the page bound. */
static fe_rc list_refuse(void *user, pager_refusal why, const pager_at *at, const pager_page *last,
                         fe_err *err)
{
    const flowretail_doc *d = ((list_read *)user)->d;
    (void)why;
    (void)last;
    return fe_err_set(err, FE_EJSON,
                      "%s %s: still reading at page %ld; stopping (does the server "
                      "honour pageNumber?)",
                      d->method, d->path, at->page);
}

fe_rc flowretail_list(flowretail_api *a, http_client *http, stream_stats *stats,
                      const flowretail_doc *d, long page_size, flowretail_page_fn page_done,
                      bool *total_changed, fe_err *err)
{
    static const char *const paths[] = {"items[]", "."};
    /* paging.totalCount ends the list, and so does a short or empty page. */
    static const pager_rules rules = {.first_page = 1,
                                      .count = true,
                                      .short_page = true,
                                      .empty_ends = true,
                                      .max_pages = PAGES_MAX,
                                      .slack = PAGES_SLACK,
                                      .count_per_page = true,
                                      .cap_count_pages = true};
    pager_rules r = rules;
    pager_hooks hooks = {.fetch = list_fetch, .page_done = list_page_done, .refuse = list_refuse};
    list_read lr = {.a = a, .http = http, .stats = stats, .d = d, .pd = *d, .page_done = page_done};
    pager_result res;

    r.page_size = page_size;
    lr.p = (page_ctx){.d = d, .asked_size = page_size, .hash = PAGER_HASH_INIT};
    lr.pd.paths = paths;
    lr.pd.npaths = 2;
    lr.pd.on_record = on_page_record;
    lr.pd.on_reset = on_page_reset;
    lr.pd.on_end = on_page_end;
    lr.pd.user = &lr.p;
    buf_init(&lr.query, 0);
    fe_rc rc = pager_run(&r, &hooks, &lr, NULL, &res, err);
    if (total_changed)
        *total_changed = res.total_changed;
    buf_term(&lr.query);
    return rc;
}
