/* flowretail_api: URLs, the bearer header, one-document reads and the page loop
 * of the Flow Retail API v2. See flowretail_api.h. */
#include "sources/flowretail/flowretail_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- one document ------------------------------------------------------------ */

typedef struct {
    json_stream *js;
    const flowretail_doc *d;
} fetch_ctx;

static fe_rc sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    fetch_ctx *f = ctx;
    return json_stream_feed(f->js, data, len, err);
}

static void sink_reset(void *ctx)
{
    fetch_ctx *f = ctx;
    json_stream_reset(f->js);
    if (f->d->on_reset)
        f->d->on_reset(f->d->user);
}

/* The whole 2xx body: complete JSON, then the document's own judge. */
static fe_rc sink_end(void *ctx, fe_err *err)
{
    fetch_ctx *f = ctx;
    if (json_stream_finish(f->js, err) != FE_OK)
        return FE_EJSON;
    return f->d->on_end ? f->d->on_end(f->d->user, f->js, err) : FE_OK;
}

static fe_rc on_doc_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    const flowretail_doc *d = ctx;
    return d->on_record ? d->on_record(d->user, which, rec, err) : FE_OK;
}

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
    return FE_OK; /* whole and judged by sink_end */
}

fe_rc flowretail_fetch(flowretail_api *a, http_client *http, stream_stats *stats,
                       const flowretail_doc *d, long *status, fe_err *err)
{
    fetch_ctx f = {.d = d};
    http_result res = {0};
    buf url;
    fe_rc rc;
    const char *headers[3] = {a->auth, "Accept: application/json",
                              "Content-Type: application/json"};

    if (status)
        *status = 0;
    buf_init(&url, 0);
    f.js = json_stream_new(d->paths, d->npaths, false, FLOWRETAIL_RECORD_MAX, on_doc_record,
                           (void *)d);
    if (!f.js || !doc_url(a, d, &url)) {
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
        .sink = {.on_data = sink_data, .on_reset = sink_reset, .on_end = sink_end, .ctx = &f},
    };
    if (d->on_reset)
        d->on_reset(d->user);
    rc = http_run(http, &req, &res, stats, err);
    a->last_status = res.status;
    if (status)
        *status = res.status;
    if (rc == FE_OK)
        rc = result_rc(d, &res, err);
done:
    http_result_term(&res);
    json_stream_free(f.js);
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
    return p->d->on_record ? p->d->on_record(p->d->user, 0, rec, err) : FE_OK;
}

static void on_page_reset(void *user)
{
    page_ctx *p = user;
    p->rows = 0;
    p->total = p->page_size = -1;
    p->paging_seen = false;
    if (p->d->on_reset)
        p->d->on_reset(p->d->user);
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
    if (p->total < 0)
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
    if (p->rows < want)
        return fe_err_set(err, FE_EJSON,
                          "unexpected response: paging.totalCount is %" PRId64
                          ", so page %ld of %" PRId64 " items should hold %" PRId64
                          ", it holds %" PRId64,
                          p->total, p->page, size, want, p->rows);
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

fe_rc flowretail_list(flowretail_api *a, http_client *http, stream_stats *stats,
                      const flowretail_doc *d, long page_size, flowretail_page_fn page_done,
                      bool *total_changed, fe_err *err)
{
    static const char *const paths[] = {"items[]", "."};
    page_ctx p = {.d = d, .asked_size = page_size};
    flowretail_doc pd = *d;
    int64_t read = 0, first_total = -2;
    long max_pages = PAGES_MAX;
    buf query;
    fe_rc rc = FE_OK;

    if (total_changed)
        *total_changed = false;
    pd.paths = paths;
    pd.npaths = 2;
    pd.on_record = on_page_record;
    pd.on_reset = on_page_reset;
    pd.on_end = on_page_end;
    pd.user = &p;
    buf_init(&query, 0);
    for (long page = 1;; page++) {
        bool stop = false;
        if (page > max_pages) {
            rc = fe_err_set(err, FE_EJSON,
                            "%s %s: still reading at page %ld; stopping (does the server "
                            "honour pageNumber?)",
                            d->method, d->path, page);
            break;
        }
        if ((rc = page_query(&query, d, page, page_size, err)) != FE_OK)
            break;
        pd.query = buf_cstr(&query);
        p.page = page;
        if ((rc = flowretail_fetch(a, http, stats, &pd, NULL, err)) != FE_OK)
            break;
        if (stats) {
            stats->pages++;
            stats->records += p.rows;
        }
        if (first_total == -2)
            first_total = p.total;
        else if (p.total != first_total && total_changed)
            *total_changed = true;
        if (p.rows == 0)
            break;
        if (page_done && (rc = page_done(d->user, p.rows, p.total, &stop, err)) != FE_OK)
            break;
        read += p.rows;
        int64_t size = p.page_size > 0 ? p.page_size : page_size;
        if (stop || (p.total >= 0 && read >= p.total) || p.rows < size)
            break;
        if (p.total >= 0)
            max_pages =
                (long)(p.total / size < PAGES_MAX ? p.total / size : PAGES_MAX) + PAGES_SLACK;
    }
    buf_term(&query);
    return rc;
}
