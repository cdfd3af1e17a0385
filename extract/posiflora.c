/* posiflora: requests, paging, cursors and checkpoints of the Posiflora source.
 * Records are turned into rows by transform/posiflora_map.c; the session lives in
 * posiflora_session.c. See posiflora.h and README.md ("Streams and cursors"). */
#include "posiflora.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../transform/posiflora_map.h"
#include "../transform/timeutil.h"
#include "../transform/utf8.h"
#include "posiflora_session.h"

#define ACCEPT_HEADER "Accept: application/vnd.api+json"
/* One JSON:API resource of a list or detail: far below this in practice. */
#define RECORD_MAX ((size_t)4 << 20)
/* Without meta.total, a list longer than this many pages is taken for a server
 * that ignores page[number]; with it, meta.total + PAGES_SLACK pages. */
#define PAGES_MAX 1000000L
#define PAGES_SLACK 100L
#define PAGE_SIZE_MAX 100 /* more is answered with 422 */
#define DETAIL_INCLUDE "lines,payments,payments.method"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        fe_rc try_rc_ = (expr);                                                                    \
        if (try_rc_ != FE_OK)                                                                      \
            return try_rc_;                                                                        \
    } while (0)

static bool str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* ---- options (read once per stream from the config) ------------------------ */

typedef struct {
    char *base; /* base_url without trailing slashes */
    long page_size;
    char currency[4];
    int64_t lookback_us;
    const char *start_date;   /* "YYYY-MM-DD" or NULL */
    const char *cursor_field; /* updatedAt | modifiedAt */
    bool sort;
    long checkpoint_records; /* <= 0: one checkpoint at the end */
} posi_opts;

static fe_rc base_url_into(const source_conf *conf, buf *out, fe_err *err)
{
    const char *v = conf_str(conf, "base_url");
    if (!v || !*v)
        return fe_err_set(err, FE_ECONFIG,
                          "[source.%s] base_url is required for posiflora "
                          "(e.g. https://ACCOUNT.posiflora.com/api)",
                          conf->name);
    size_t len = strlen(v);
    while (len > 0 && v[len - 1] == '/')
        len--;
    if (!buf_append(out, v, len))
        return fe_err_set(err, FE_ENOMEM, "out of memory copying base_url");
    return FE_OK;
}

static long conf_long_or(const source_conf *conf, const char *key, long def)
{
    long v;
    return conf_int(conf, key, &v) ? v : def;
}

static fe_rc opts_currency(const source_conf *conf, posi_opts *o, fe_err *err)
{
    const char *c = conf_str(conf, "currency");
    if (!c)
        c = "RUB";
    for (int i = 0; i < 3; i++) {
        char ch = c[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            return fe_err_set(err, FE_ECONFIG,
                              "[source.%s] currency '%.8s' is not an ISO 4217 code", conf->name, c);
        o->currency[i] = ch;
    }
    if (c[3] != '\0')
        return fe_err_set(err, FE_ECONFIG, "[source.%s] currency '%.8s' is not an ISO 4217 code",
                          conf->name, c);
    o->currency[3] = '\0';
    return FE_OK;
}

static void opts_term(posi_opts *o)
{
    free(o->base);
    o->base = NULL;
}

static fe_rc opts_load(const source_conf *conf, posi_opts *o, fe_err *err)
{
    buf b;
    fe_rc rc;
    bool sort;

    memset(o, 0, sizeof *o);
    buf_init(&b, 0);
    if ((rc = base_url_into(conf, &b, err)) != FE_OK) {
        buf_term(&b);
        return rc;
    }
    o->base = buf_take(&b, NULL);
    o->page_size = conf_long_or(conf, "page_size", PAGE_SIZE_MAX);
    if (o->page_size < 1 || o->page_size > PAGE_SIZE_MAX)
        rc = fe_err_set(err, FE_ECONFIG,
                        "[source.%s] page_size must be 1..%d (Posiflora answers "
                        "422 above %d)",
                        conf->name, PAGE_SIZE_MAX, PAGE_SIZE_MAX);
    if (rc == FE_OK)
        rc = opts_currency(conf, o, err);
    if (!conf_duration(conf, "lookback", &o->lookback_us))
        o->lookback_us = 2 * 3600 * INT64_C(1000000);
    o->start_date = conf_str(conf, "start_date");
    if (o->start_date && !*o->start_date)
        o->start_date = NULL;
    o->cursor_field = conf_str(conf, "orders_cursor_field");
    if (!o->cursor_field)
        o->cursor_field = "updatedAt";
    if (rc == FE_OK && !str_eq(o->cursor_field, "updatedAt") &&
        !str_eq(o->cursor_field, "modifiedAt"))
        rc = fe_err_set(err, FE_ECONFIG,
                        "[source.%s] orders_cursor_field must be updatedAt or modifiedAt",
                        conf->name);
    o->sort = conf_bool(conf, "orders_sort", &sort) ? sort : true;
    o->checkpoint_records = conf_long_or(conf, "checkpoint_records", 5000);
    if (rc != FE_OK)
        opts_term(o);
    return rc;
}

/* ---- rows go to the loader ------------------------------------------------- */

static fe_rc put_store(void *c, const row_store *r, fe_err *e)
{
    return loader_put_store(c, r, e);
}
static fe_rc put_category(void *c, const row_category *r, fe_err *e)
{
    return loader_put_category(c, r, e);
}
static fe_rc put_product(void *c, const row_product *r, fe_err *e)
{
    return loader_put_product(c, r, e);
}
static fe_rc put_customer(void *c, const row_customer *r, fe_err *e)
{
    return loader_put_customer(c, r, e);
}
static fe_rc put_order(void *c, const row_order *r, fe_err *e)
{
    return loader_put_order(c, r, e);
}
static fe_rc put_order_line(void *c, const row_order_line *r, fe_err *e)
{
    return loader_put_order_line(c, r, e);
}
static fe_rc put_payment(void *c, const row_payment *r, fe_err *e)
{
    return loader_put_payment(c, r, e);
}

static posiflora_rows loader_rows(loader *ld)
{
    return (posiflora_rows){.ctx = ld,
                            .store = put_store,
                            .category = put_category,
                            .product = put_product,
                            .customer = put_customer,
                            .order = put_order,
                            .order_line = put_order_line,
                            .payment = put_payment};
}

/* A record the mapping refused (err holds the reason) goes to etl.reject. */
static fe_rc reject_record(stream_ctx *ctx, const json_rec *rec, fe_err *err)
{
    char reason[sizeof err->msg];
    const char *id = json_rec_str(rec, "id");
    snprintf(reason, sizeof reason, "%s", err->msg);
    if (id && !utf8_valid(id, strlen(id)))
        id = NULL;
    return stream_reject(ctx, rec, NULL, id, reason, err);
}

/* An order's records are gone by the time it is mapped: its raw text was kept. */
static fe_rc reject_order(stream_ctx *ctx, const char *order_id, const char *raw, fe_err *err)
{
    char reason[sizeof err->msg];
    snprintf(reason, sizeof reason, "%s", err->msg);
    return stream_reject(ctx, NULL, raw, order_id, reason, err);
}

/* ---- URLs ------------------------------------------------------------------- */

static bool url_param(buf *u, const char *name, const char *value)
{
    char last = u->len ? u->data[u->len - 1] : '?';
    return (last == '?' || buf_putc(u, '&')) && buf_put_urlenc(u, name) && buf_putc(u, '=') &&
           buf_put_urlenc(u, value);
}

static bool url_param_long(buf *u, const char *name, long value)
{
    char text[24];
    snprintf(text, sizeof text, "%ld", value);
    return url_param(u, name, text);
}

typedef struct {
    const char *path;                       /* "/v1/customers" */
    const char *include;                    /* or NULL */
    const char *filter_name, *filter_value; /* one filter, or NULL */
    const char *sort;                       /* or NULL */
} list_query;

static bool list_url(buf *u, const posi_opts *o, const list_query *q, long page)
{
    return buf_puts(u, o->base) && buf_puts(u, q->path) && buf_putc(u, '?') &&
           (!q->include || url_param(u, "include", q->include)) &&
           (!q->filter_name || url_param(u, q->filter_name, q->filter_value)) &&
           (!q->sort || url_param(u, "sort", q->sort)) && url_param_long(u, "page[number]", page) &&
           url_param_long(u, "page[size]", o->page_size);
}

/* ---- the page reader: one list page after another ------------------------ */

enum { REC_DATA = 0, REC_INCLUDED = 1, REC_ROOT = 2 };

typedef struct page_reader page_reader;
/* Called for each "data[]" and "included[]" record as it closes. */
typedef fe_rc (*page_record_fn)(page_reader *pr, int which, const json_rec *rec, fe_err *err);

struct page_reader {
    http_client *http;
    stream_stats *stats; /* may be NULL */
    posiflora_session *sess;
    json_stream *js;
    page_record_fn on_record;
    void (*on_reset)(page_reader *pr); /* a page starts (again): drop what it gave */
    void *user;
    /* the page being read */
    int64_t page_rows;
    int64_t meta_total; /* -1 when not given */
    char meta_revision[24];
    uint64_t ids_hash;
    /* over the whole list */
    char first_revision[24];
};

/* Digits only (meta.total and meta.revision are numbers, or numeric strings). */
static bool parse_count(const char *text, int64_t *out)
{
    char *end;
    if (!text || *text < '0' || *text > '9')
        return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static void read_meta(page_reader *pr, const json_rec *rec)
{
    int64_t v;
    if (parse_count(json_rec_str(rec, "meta.total"), &v))
        pr->meta_total = v;
    if (parse_count(json_rec_str(rec, "meta.revision"), &v))
        snprintf(pr->meta_revision, sizeof pr->meta_revision, "%" PRId64, v);
}

/* FNV-1a over the page's ids, to see a page that repeats the previous one. */
static void hash_id(page_reader *pr, const char *id)
{
    for (const char *p = id ? id : ""; *p; p++)
        pr->ids_hash = (pr->ids_hash ^ (unsigned char)*p) * UINT64_C(1099511628211);
    pr->ids_hash = (pr->ids_hash ^ 0xff) * UINT64_C(1099511628211);
}

static fe_rc on_page_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    page_reader *pr = ctx;
    if (which == REC_ROOT) {
        read_meta(pr, rec);
        return FE_OK;
    }
    if (which == REC_DATA) {
        pr->page_rows++;
        hash_id(pr, json_rec_str(rec, "id"));
    }
    return pr->on_record ? pr->on_record(pr, which, rec, err) : FE_OK;
}

static void page_start(page_reader *pr)
{
    json_stream_reset(pr->js);
    pr->page_rows = 0;
    pr->meta_total = -1;
    pr->meta_revision[0] = '\0';
    pr->ids_hash = UINT64_C(14695981039346656037);
    if (pr->on_reset)
        pr->on_reset(pr);
}

/* A parse or mapping failure aborts the transfer; http reports it with the URL. */
static fe_rc page_sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    page_reader *pr = ctx;
    return json_stream_feed(pr->js, data, len, err);
}

static void page_sink_reset(void *ctx)
{
    page_start(ctx);
}

static page_reader *page_reader_new(http_client *http, stream_stats *stats, posiflora_session *sess,
                                    page_record_fn fn, void *user)
{
    static const char *const paths[] = {"data[]", "included[]", "."};
    page_reader *pr = calloc(1, sizeof *pr);
    if (!pr)
        return NULL;
    *pr = (page_reader){.http = http, .stats = stats, .sess = sess, .on_record = fn, .user = user};
    pr->js = json_stream_new(paths, 3, false, RECORD_MAX, on_page_record, pr);
    if (!pr->js) {
        free(pr);
        return NULL;
    }
    return pr;
}

static void page_reader_free(page_reader *pr)
{
    if (!pr)
        return;
    json_stream_free(pr->js);
    free(pr);
}

/* GETs one page into the reader. A 401 renews the session and retries once. */
static fe_rc fetch_page(page_reader *pr, const char *url, const char *what, fe_err *err)
{
    for (int attempt = 0;; attempt++) {
        http_result res = {0};
        fe_rc rc = attempt == 0 ? posiflora_session_ensure(pr->sess, pr->http, pr->stats, err)
                                : posiflora_session_renew(pr->sess, pr->http, pr->stats, err);
        if (rc != FE_OK)
            return rc;
        const char *headers[] = {ACCEPT_HEADER, posiflora_session_auth_header(pr->sess)};
        http_request req = {
            .method = "GET",
            .url = url,
            .headers = headers,
            .nheaders = 2,
            .sink = {.on_data = page_sink_data, .on_reset = page_sink_reset, .ctx = pr},
        };
        page_start(pr);
        rc = http_run(pr->http, &req, &res, pr->stats, err);
        if (rc == FE_OK && res.status == 401 && attempt == 0) {
            http_result_term(&res);
            continue;
        } else if (rc == FE_OK && res.rc != FE_OK) {
            *err = res.err;
            rc = res.status == 401 ? FE_EAUTH : res.rc;
            if (res.status == 401)
                fe_err_set(err, FE_EAUTH, "GET %s: HTTP 401 again after a session renewal", what);
        } else if (rc == FE_OK && json_stream_finish(pr->js, err) != FE_OK) {
            fe_err_wrap(err, "GET %s", what);
            rc = FE_EJSON;
        }
        http_result_term(&res);
        return rc;
    }
}

/* Called after each non-empty page, before the next is requested. */
typedef fe_rc (*page_done_fn)(page_reader *pr, fe_err *err);

/* Pages through a list from page[number]=1: stops when the rows read reach
 * meta.total or a page is empty; fails on a page repeating the previous one (a
 * server ignoring page[number]) and on an absurd page count. */
static fe_rc read_list(page_reader *pr, const posi_opts *o, const list_query *q, page_done_fn done,
                       fe_err *err)
{
    buf url;
    int64_t read = 0;
    uint64_t prev_hash = 0;
    long max_pages = PAGES_MAX;
    fe_rc rc = FE_OK;

    buf_init(&url, 0);
    pr->first_revision[0] = '\0';
    for (long page = 1;; page++) {
        if (page > max_pages) {
            rc = fe_err_set(err, FE_EJSON,
                            "GET %s: still reading at page %ld with meta.total %" PRId64
                            "; stopping (does the server honour page[number]?)",
                            q->path, page, pr->meta_total);
            break;
        }
        buf_reset(&url);
        if (!list_url(&url, o, q, page)) {
            rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
            break;
        }
        if ((rc = fetch_page(pr, buf_cstr(&url), q->path, err)) != FE_OK)
            break;
        if (pr->stats) { /* counted once the page is whole: a cut page is read again */
            pr->stats->pages++;
            pr->stats->records += pr->page_rows;
        }
        if (page == 1)
            memcpy(pr->first_revision, pr->meta_revision, sizeof pr->first_revision);
        if (pr->page_rows == 0)
            break;
        if (page > 1 && pr->ids_hash == prev_hash) {
            rc = fe_err_set(err, FE_EJSON,
                            "GET %s: page %ld holds the same records as page %ld: the server "
                            "ignores page[number]; stopping",
                            q->path, page, page - 1);
            break;
        }
        prev_hash = pr->ids_hash;
        if (done && (rc = done(pr, err)) != FE_OK)
            break;
        read += pr->page_rows;
        if (pr->meta_total >= 0) {
            if (read >= pr->meta_total)
                break;
            max_pages =
                (long)(pr->meta_total < PAGES_MAX ? pr->meta_total : PAGES_MAX) + PAGES_SLACK;
        } else if (pr->page_rows < o->page_size) {
            break;
        }
    }
    buf_term(&url);
    return rc;
}

/* ---- cursors -------------------------------------------------------------- */

typedef struct {
    const char *key;
    char *out;
    size_t size;
} cursor_lookup;

static fe_rc on_cursor_root(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    cursor_lookup *l = ctx;
    const char *v = json_rec_str(rec, l->key);
    (void)which;
    (void)err;
    if (v)
        snprintf(l->out, l->size, "%s", v);
    return FE_OK;
}

/* The value of a top-level key of a cursor document ("" when absent). */
static fe_rc cursor_value(const char *cursor, const char *key, char *out, size_t size, fe_err *err)
{
    static const char *const paths[] = {"."};
    cursor_lookup l = {.key = key, .out = out, .size = size};
    json_stream *js = json_stream_new(paths, 1, false, 64 << 10, on_cursor_root, &l);
    fe_rc rc;
    out[0] = '\0';
    if (!js)
        return fe_err_set(err, FE_ENOMEM, "out of memory reading the cursor");
    rc = json_stream_feed(js, cursor, strlen(cursor), err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, err);
    json_stream_free(js);
    if (rc != FE_OK)
        fe_err_wrap(err, "stored cursor is not JSON (run with --full-refresh)");
    return rc;
}

/* {"read_at":"<now>"}: full reads keep no position, only when they ran. */
static const char *read_at_cursor(char *dst, size_t size)
{
    char now[TIME_TEXT_MAX];
    snprintf(dst, size, "{\"read_at\":\"%s\"}", time_format_iso(time_now_us(), now));
    return dst;
}

static fe_rc stream_session(stream_ctx *ctx, posiflora_session **sess, fe_err *err)
{
    *sess = ctx->state;
    if (!*sess)
        return fe_err_set(err, FE_EINVAL, "posiflora: no session (the source was not opened)");
    return FE_OK;
}

/* ---- dimension streams ------------------------------------------------------ */

typedef fe_rc (*map_fn)(const json_rec *rec, const posiflora_map_opts *o, const posiflora_rows *out,
                        fe_err *err);

typedef struct {
    const char *path;
    const char *include;       /* include= value, or NULL */
    const char *included_type; /* type of the included records mapped by map_included */
    map_fn map_data, map_included;
    bool by_revision;   /* filter[revision] cursor; otherwise a full read */
    unsigned full_read; /* 1u << STG_x of a full read */
} dim_spec;

typedef struct {
    stream_ctx *ctx;
    const dim_spec *spec;
    posiflora_rows rows;
    posiflora_map_opts mopts;
} dim_run;

static fe_rc on_dim_record(page_reader *pr, int which, const json_rec *rec, fe_err *err)
{
    dim_run *d = pr->user;
    map_fn fn = d->spec->map_data;
    fe_rc rc;
    if (which == REC_INCLUDED) {
        fn = d->spec->map_included;
        if (!fn || !str_eq(json_rec_str(rec, "type"), d->spec->included_type))
            return FE_OK;
    }
    rc = fn(rec, &d->mopts, &d->rows, err);
    if (rc == FE_EINVAL)
        rc = reject_record(d->ctx, rec, err);
    stream_progress(d->ctx);
    return rc;
}

/* The filter[revision] lower bound from a cursor {"revision":N}; "" for none. */
static fe_rc revision_from_cursor(const stream_ctx *ctx, char *out, size_t size, fe_err *err)
{
    int64_t v;
    out[0] = '\0';
    if (!ctx->cursor || ctx->full_refresh)
        return FE_OK;
    TRY(cursor_value(ctx->cursor, "revision", out, size, err));
    if (out[0] && !parse_count(out, &v))
        return fe_err_set(err, FE_EINVAL,
                          "stored cursor revision '%.24s' is not a number "
                          "(run with --full-refresh)",
                          out);
    return FE_OK;
}

/* One checkpoint for the whole stream: full reads mark what they did not see as
 * deleted; revision reads store meta.revision of their FIRST page, so writes
 * made while paging are read again next time rather than skipped. */
static fe_rc run_dim(stream_ctx *ctx, const dim_spec *spec, fe_err *err)
{
    posi_opts o;
    posiflora_session *sess;
    page_reader *pr = NULL;
    char revision[24], cursor[96];
    dim_run d = {.ctx = ctx, .spec = spec};
    load_commit commit = {0};
    fe_rc rc;

    TRY(stream_session(ctx, &sess, err));
    TRY(opts_load(ctx->conf, &o, err));
    d.rows = loader_rows(ctx->ld);
    d.mopts.currency = o.currency;
    list_query q = {.path = spec->path, .include = spec->include};
    if (spec->by_revision &&
        (rc = revision_from_cursor(ctx, revision, sizeof revision, err)) != FE_OK)
        goto done;
    if (spec->by_revision && revision[0]) {
        q.filter_name = "filter[revision]";
        q.filter_value = revision;
    }
    if (!(pr = page_reader_new(ctx->http, ctx->stats, sess, on_dim_record, &d))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = read_list(pr, &o, &q, NULL, err)) != FE_OK)
        goto done;
    if (!spec->by_revision) {
        commit.cursor = read_at_cursor(cursor, sizeof cursor);
        commit.full_read = spec->full_read;
    } else if (pr->first_revision[0]) {
        snprintf(cursor, sizeof cursor, "{\"revision\":%s}", pr->first_revision);
        commit.cursor = cursor;
    } else {
        log_warn(ctx->logctx, "the first page carried no meta.revision: cursor not advanced, "
                              "the next run reads the same range again");
    }
    rc = loader_commit(ctx->ld, &commit, ctx->stats, err);
done:
    page_reader_free(pr);
    opts_term(&o);
    return rc;
}

static fe_rc run_stores(stream_ctx *ctx, fe_err *err)
{
    static const dim_spec spec = {
        .path = "/v1/stores", .map_data = posiflora_map_store, .full_read = 1u << STG_STORE};
    return run_dim(ctx, &spec, err);
}

static fe_rc run_categories(stream_ctx *ctx, fe_err *err)
{
    static const dim_spec spec = {.path = "/v1/categories",
                                  .map_data = posiflora_map_category,
                                  .full_read = 1u << STG_CATEGORY};
    return run_dim(ctx, &spec, err);
}

/* Included categories are mapped too, so a product's category has its name even
 * when the categories stream is not run. */
static fe_rc run_inventory_items(stream_ctx *ctx, fe_err *err)
{
    static const dim_spec spec = {.path = "/v1/inventory-items",
                                  .include = "category",
                                  .included_type = "categories",
                                  .map_data = posiflora_map_item,
                                  .map_included = posiflora_map_category,
                                  .full_read = 1u << STG_PRODUCT};
    return run_dim(ctx, &spec, err);
}

static fe_rc run_bouquets(stream_ctx *ctx, fe_err *err)
{
    static const dim_spec spec = {
        .path = "/v1/bouquets", .map_data = posiflora_map_bouquet, .by_revision = true};
    return run_dim(ctx, &spec, err);
}

static fe_rc run_customers(stream_ctx *ctx, fe_err *err)
{
    static const dim_spec spec = {
        .path = "/v1/customers", .map_data = posiflora_map_customer, .by_revision = true};
    return run_dim(ctx, &spec, err);
}

/* ---- orders: list page -> concurrent details -> checkpoint ------------------- */

typedef struct {
    char *id;
    int64_t at; /* cursor field value; INT64_MIN when absent or not a date-time */
} order_ref;

typedef struct orders_run orders_run;

/* One detail transfer: its own parser and accumulator (reused page after page). */
typedef struct {
    orders_run *run;
    json_stream *js;
    posiflora_order_acc *acc;
    buf url;
    const char *headers[2];
} detail_slot;

struct orders_run {
    stream_ctx *ctx;
    const posi_opts *o;
    posiflora_session *sess;
    posiflora_rows rows;
    posiflora_map_opts mopts;
    char field_path[32]; /* "attributes.updatedAt" */
    order_ref *refs;     /* the current list page */
    size_t nrefs, cap_refs;
    detail_slot **slots; /* pointers: a slot is its parser's callback context */
    http_request *reqs;
    http_result *res;
    size_t *pending;
    size_t nslots;
    int64_t max_at; /* highest cursor value whose order is loaded; INT64_MIN: none */
    bool warned_status;
};

static void refs_clear(orders_run *run)
{
    for (size_t i = 0; i < run->nrefs; i++)
        free(run->refs[i].id);
    run->nrefs = 0;
}

static void on_orders_page_reset(page_reader *pr)
{
    refs_clear(pr->user);
}

/* A list record: keep its id and cursor value; the detail call does the rest. */
static fe_rc on_order_listed(page_reader *pr, int which, const json_rec *rec, fe_err *err)
{
    orders_run *run = pr->user;
    const char *id = json_rec_str(rec, "id"), *at = json_rec_str(rec, run->field_path);
    order_ref ref = {.at = INT64_MIN};

    if (which != REC_DATA)
        return FE_OK;
    if (!id || !*id || !utf8_valid(id, strlen(id))) {
        fe_err_set(err, FE_EINVAL, "order list record without a usable id");
        return reject_record(run->ctx, rec, err);
    }
    if (run->nrefs == run->cap_refs) {
        size_t cap = run->cap_refs ? run->cap_refs * 2 : 128;
        order_ref *p = realloc(run->refs, cap * sizeof *p);
        if (!p)
            return fe_err_set(err, FE_ENOMEM, "out of memory listing orders");
        run->refs = p;
        run->cap_refs = cap;
    }
    if (!(ref.id = strdup(id)))
        return fe_err_set(err, FE_ENOMEM, "out of memory listing orders");
    if (at && !time_parse_iso(at, strlen(at), &ref.at))
        ref.at = INT64_MIN;
    run->refs[run->nrefs++] = ref;
    return FE_OK;
}

static fe_rc on_detail_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    detail_slot *s = ctx;
    return posiflora_order_acc_add(s->acc, which == 0, rec, err);
}

static fe_rc detail_sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    detail_slot *s = ctx;
    return json_stream_feed(s->js, data, len, err);
}

static void detail_sink_reset(void *ctx)
{
    detail_slot *s = ctx;
    json_stream_reset(s->js);
    posiflora_order_acc_reset(s->acc);
}

static void slot_free(detail_slot *s)
{
    if (!s)
        return;
    json_stream_free(s->js);
    posiflora_order_acc_free(s->acc);
    buf_term(&s->url);
    free(s);
}

static detail_slot *slot_new(orders_run *run)
{
    static const char *const paths[] = {"data", "included[]"};
    detail_slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->run = run;
    buf_init(&s->url, 0);
    s->js = json_stream_new(paths, 2, false, RECORD_MAX, on_detail_record, s);
    s->acc = posiflora_order_acc_new();
    if (!s->js || !s->acc) {
        slot_free(s);
        return NULL;
    }
    return s;
}

/* Room for n concurrent details. */
static fe_rc slots_reserve(orders_run *run, size_t n, fe_err *err)
{
    if (n <= run->nslots)
        return FE_OK;
    detail_slot **slots = realloc(run->slots, n * sizeof *slots);
    if (slots)
        run->slots = slots;
    http_request *reqs = slots ? realloc(run->reqs, n * sizeof *reqs) : NULL;
    if (reqs)
        run->reqs = reqs;
    http_result *res = reqs ? realloc(run->res, n * sizeof *res) : NULL;
    if (res)
        run->res = res;
    size_t *pending = res ? realloc(run->pending, n * sizeof *pending) : NULL;
    if (pending)
        run->pending = pending;
    if (!pending)
        return fe_err_set(err, FE_ENOMEM, "out of memory for order details");
    for (; run->nslots < n; run->nslots++)
        if (!(run->slots[run->nslots] = slot_new(run)))
            return fe_err_set(err, FE_ENOMEM, "out of memory for order details");
    return FE_OK;
}

static void orders_run_term(orders_run *run)
{
    refs_clear(run);
    free(run->refs);
    for (size_t i = 0; i < run->nslots; i++)
        slot_free(run->slots[i]);
    free(run->slots);
    free(run->reqs);
    free(run->res);
    free(run->pending);
}

static fe_rc detail_request(orders_run *run, size_t i, http_request *req, fe_err *err)
{
    detail_slot *s = run->slots[i];
    buf_reset(&s->url);
    if (!buf_puts(&s->url, run->o->base) || !buf_puts(&s->url, "/v1/orders/") ||
        !buf_put_urlenc(&s->url, run->refs[i].id) || !buf_putc(&s->url, '?') ||
        !url_param(&s->url, "include", DETAIL_INCLUDE))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    detail_sink_reset(s);
    s->headers[0] = ACCEPT_HEADER;
    s->headers[1] = posiflora_session_auth_header(run->sess);
    *req = (http_request){
        .method = "GET",
        .url = buf_cstr(&s->url),
        .headers = s->headers,
        .nheaders = 2,
        .sink = {.on_data = detail_sink_data, .on_reset = detail_sink_reset, .ctx = s},
    };
    return FE_OK;
}

/* Maps one complete detail document; a refused order goes to etl.reject. */
static fe_rc flush_detail(orders_run *run, size_t i, fe_err *err)
{
    stream_ctx *ctx = run->ctx;
    posiflora_order_info info;
    fe_rc rc = posiflora_order_acc_flush(run->slots[i]->acc, &run->mopts, &run->rows, &info, err);
    if (rc == FE_EINVAL)
        return reject_order(ctx, info.reject_id ? info.reject_id : run->refs[i].id, info.reject_raw,
                            err);
    if (rc != FE_OK)
        return rc;
    if (info.unknown_status && !run->warned_status) {
        run->warned_status = true;
        log_warn(ctx->logctx,
                 "order %s has status '%s', not a known Posiflora status: mapped to status "
                 "group open (logged once per run)",
                 info.order_id, info.status ? info.status : "(none)");
    }
    stream_progress(ctx);
    return FE_OK;
}

/* Looks at one finished transfer: *retry for a 401 (the session is renewed and
 * the transfer run again). */
static fe_rc detail_result(orders_run *run, size_t i, const http_result *res, bool *retry,
                           fe_err *err)
{
    const char *id = run->refs[i].id;
    *retry = res->status == 401;
    if (*retry)
        return FE_OK;
    if (res->status == 404) {
        log_warn(run->ctx->logctx,
                 "order %s was listed but its detail answers 404 (deleted meanwhile?): skipped",
                 id);
        return FE_OK;
    }
    if (res->rc != FE_OK) {
        *err = res->err;
        return res->rc;
    }
    if (json_stream_finish(run->slots[i]->js, err) != FE_OK) {
        fe_err_wrap(err, "GET /v1/orders/%s", id);
        return FE_EJSON;
    }
    return flush_detail(run, i, err);
}

/* One round of detail transfers for the pending indices; keeps in pending (and
 * *npending) those that answered 401. */
static fe_rc detail_round(orders_run *run, size_t *npending, fe_err *err)
{
    size_t n = *npending, nretry = 0;
    fe_rc rc = FE_OK;
    for (size_t k = 0; k < n; k++) {
        memset(&run->res[k], 0, sizeof run->res[k]);
        TRY(detail_request(run, run->pending[k], &run->reqs[k], err));
    }
    rc = http_run_many(run->ctx->http, run->reqs, run->res, n, run->ctx->stats, err);
    for (size_t k = 0; k < n; k++) {
        bool retry = false;
        if (rc == FE_OK)
            rc = detail_result(run, run->pending[k], &run->res[k], &retry, err);
        if (retry)
            run->pending[nretry++] = run->pending[k]; /* nretry <= k: nothing unread is lost */
        http_result_term(&run->res[k]);
    }
    *npending = nretry;
    return rc;
}

/* The details of every order of the current list page, concurrently (the http
 * client runs max_parallel at once within the source's rate limit). Details that
 * answer 401 run again after a session renewal, round after round while each
 * round gets some through: a token that expires in the middle of a long batch
 * (short lifetimes) costs a renewal, not the stream. A renewal after which every
 * pending detail still answers 401 fails the stream. */
static fe_rc fetch_details(orders_run *run, fe_err *err)
{
    size_t npending = run->nrefs;
    stream_ctx *ctx = run->ctx;
    TRY(slots_reserve(run, npending, err));
    for (size_t i = 0; i < npending; i++)
        run->pending[i] = i;
    for (int round = 0; npending > 0; round++) {
        size_t before = npending;
        TRY(round == 0 ? posiflora_session_ensure(run->sess, ctx->http, ctx->stats, err)
                       : posiflora_session_renew(run->sess, ctx->http, ctx->stats, err));
        TRY(detail_round(run, &npending, err));
        if (round > 0 && npending == before)
            return fe_err_set(err, FE_EAUTH,
                              "GET /v1/orders/%s: HTTP 401 again after a session renewal",
                              run->refs[run->pending[0]].id);
    }
    return FE_OK;
}

/* Commits what is staged with the highest cursor value loaded so far (none yet:
 * the stored cursor stays), then opens the next checkpoint when again. */
static fe_rc orders_checkpoint(orders_run *run, bool again, fe_err *err)
{
    stream_ctx *ctx = run->ctx;
    char cursor[96], at[TIME_TEXT_MAX];
    load_commit commit = {0};
    if (run->max_at != INT64_MIN) {
        snprintf(cursor, sizeof cursor, "{\"%s\":\"%s\"}", run->o->cursor_field,
                 time_format_iso(run->max_at, at));
        commit.cursor = cursor;
    }
    TRY(loader_commit(ctx->ld, &commit, ctx->stats, err));
    if (again)
        TRY(loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err));
    return FE_OK;
}

/* After a list page: its details, then (when the list is sorted by the cursor
 * field, so every value below the page's highest has been read) a checkpoint
 * once enough rows are staged. */
static fe_rc on_orders_page(page_reader *pr, fe_err *err)
{
    orders_run *run = pr->user;
    TRY(fetch_details(run, err));
    for (size_t i = 0; i < run->nrefs; i++)
        if (run->refs[i].at > run->max_at)
            run->max_at = run->refs[i].at;
    if (run->o->sort && run->o->checkpoint_records > 0 &&
        loader_staged_rows(run->ctx->ld) >= run->o->checkpoint_records)
        TRY(orders_checkpoint(run, true, err));
    return FE_OK;
}

/* filter[<field>][from]: the stored cursor minus the look-back, else start_date,
 * else none ("" in out). */
static fe_rc orders_lower_bound(const stream_ctx *ctx, const posi_opts *o, char *out, fe_err *err)
{
    const char *other = str_eq(o->cursor_field, "updatedAt") ? "modifiedAt" : "updatedAt";
    char value[64];
    int64_t at;
    out[0] = '\0';
    if (ctx->cursor && !ctx->full_refresh) {
        TRY(cursor_value(ctx->cursor, o->cursor_field, value, sizeof value, err));
        if (!value[0]) /* the cursor field was changed in the config */
            TRY(cursor_value(ctx->cursor, other, value, sizeof value, err));
        if (value[0]) {
            if (!time_parse_iso(value, strlen(value), &at))
                return fe_err_set(err, FE_EINVAL,
                                  "stored cursor value '%.40s' is not a "
                                  "date-time (run with --full-refresh)",
                                  value);
            time_format_iso(at - o->lookback_us, out);
            return FE_OK;
        }
    }
    if (o->start_date) {
        if (!time_parse_iso(o->start_date, strlen(o->start_date), &at))
            return fe_err_set(err, FE_ECONFIG, "start_date '%.40s' is not a date (YYYY-MM-DD)",
                              o->start_date);
        time_format_iso(at, out);
    }
    return FE_OK;
}

static fe_rc run_orders(stream_ctx *ctx, fe_err *err)
{
    posi_opts o;
    posiflora_session *sess;
    orders_run run = {.ctx = ctx, .max_at = INT64_MIN};
    page_reader *pr = NULL;
    char lower[TIME_TEXT_MAX], filter[48];
    fe_rc rc;

    TRY(stream_session(ctx, &sess, err));
    TRY(opts_load(ctx->conf, &o, err));
    run.o = &o;
    run.sess = sess;
    run.rows = loader_rows(ctx->ld);
    run.mopts.currency = o.currency;
    snprintf(run.field_path, sizeof run.field_path, "attributes.%s", o.cursor_field);
    snprintf(filter, sizeof filter, "filter[%s][from]", o.cursor_field);
    if ((rc = orders_lower_bound(ctx, &o, lower, err)) != FE_OK)
        goto done;
    list_query q = {.path = "/v1/orders",
                    .filter_name = lower[0] ? filter : NULL,
                    .filter_value = lower,
                    .sort = o.sort ? o.cursor_field : NULL};
    if (!(pr = page_reader_new(ctx->http, ctx->stats, sess, on_order_listed, &run))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    pr->on_reset = on_orders_page_reset;
    if (lower[0])
        log_info(ctx->logctx, "reading orders with %s >= %s", o.cursor_field, lower);
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = read_list(pr, &o, &q, on_orders_page, err)) != FE_OK)
        goto done;
    rc = orders_checkpoint(&run, false, err);
done:
    page_reader_free(pr);
    orders_run_term(&run);
    opts_term(&o);
    return rc;
}

/* ---- source callbacks ------------------------------------------------------ */

static fe_rc posi_base_url(const source_conf *conf, buf *out, fe_err *err)
{
    return base_url_into(conf, out, err);
}

/* dim_source.account: the host (and port, when the URL names one) of base_url. */
static fe_rc posi_account(const source_conf *conf, buf *out, fe_err *err)
{
    buf base;
    CURLU *u = NULL;
    char *host = NULL, *port = NULL;
    fe_rc rc;

    buf_init(&base, 0);
    if ((rc = base_url_into(conf, &base, err)) != FE_OK)
        goto done;
    if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, buf_cstr(&base), 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = fe_err_set(err, FE_ECONFIG, "[source.%s] base_url '%s' is not a URL", conf->name,
                        buf_cstr(&base));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL; /* no explicit port */
    if (!buf_puts(out, host) || (port && (!buf_putc(out, ':') || !buf_puts(out, port))))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
done:
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    buf_term(&base);
    return rc;
}

static void posi_rate(const source_conf *conf, double *rate, double *burst)
{
    long l;
    if (!conf_double(conf, "rate_limit", rate))
        *rate = conf_int(conf, "rate_limit", &l) ? (double)l : 5.0;
    if (!conf_double(conf, "rate_burst", burst))
        *burst = conf_int(conf, "rate_burst", &l) ? (double)l : 5.0;
}

/* A session for conf (not logged in yet). */
static fe_rc session_for(const source_conf *conf, posiflora_session **out, fe_err *err)
{
    const char *user = conf_str(conf, "username"), *pass = conf_str(conf, "password");
    int64_t margin;
    buf base;
    fe_rc rc;

    *out = NULL;
    if (!user || !*user || !pass || !*pass)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] username and password are required",
                          conf->name);
    if (!conf_duration(conf, "refresh_margin", &margin))
        margin = 60 * INT64_C(1000000);
    buf_init(&base, 0);
    if ((rc = base_url_into(conf, &base, err)) == FE_OK &&
        !(*out = posiflora_session_new(buf_cstr(&base), user, pass, margin, conf->name)))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory creating a session");
    buf_term(&base);
    return rc;
}

static fe_rc posi_open(const source_conf *conf, http_client *http, stream_stats *stats,
                       void **state, fe_err *err)
{
    posiflora_session *s;
    *state = NULL;
    TRY(session_for(conf, &s, err));
    fe_rc rc = posiflora_session_login(s, http, stats, err);
    if (rc != FE_OK) {
        posiflora_session_free(s);
        return rc;
    }
    *state = s;
    return FE_OK;
}

static void posi_close(void *state)
{
    posiflora_session_free(state);
}

/* meta.total of GET {base}{path}?page[size]=1, or -1 when the answer has none. */
static fe_rc check_total(page_reader *pr, const char *base, const char *path, int64_t *total,
                         fe_err *err)
{
    buf url;
    fe_rc rc;
    buf_init(&url, 0);
    if (!buf_puts(&url, base) || !buf_puts(&url, path) || !buf_putc(&url, '?') ||
        !url_param_long(&url, "page[size]", 1))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    else
        rc = fetch_page(pr, buf_cstr(&url), path, err);
    *total = pr->meta_total;
    buf_term(&url);
    return rc;
}

static bool append_total(buf *out, const char *what, int64_t total, const char *note)
{
    if (total < 0)
        return buf_printf(out, "  %s: unknown (no meta.total in the answer)\n", what);
    return buf_printf(out, "  %s: %" PRId64 "%s\n", what, total, note);
}

/* Logs in, counts stores and orders, and prints the settings the API cannot
 * confirm (currency, time zone, the orders cursor) for the user to check. */
static fe_rc posi_check(const source_conf *conf, http_client *http, void *state, buf *out,
                        fe_err *err)
{
    posiflora_session *own = NULL, *sess = state;
    page_reader *pr = NULL;
    posi_opts o;
    char expires[TIME_TEXT_MAX];
    int64_t stores = -1, orders = -1;
    bool ok;
    fe_rc rc;

    TRY(opts_load(conf, &o, err));
    if (!sess && (rc = session_for(conf, &own, err)) != FE_OK)
        goto done;
    if (!sess)
        sess = own;
    if ((rc = posiflora_session_ensure(sess, http, NULL, err)) != FE_OK)
        goto done;
    if (!(pr = page_reader_new(http, NULL, sess, NULL, NULL))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    if (!buf_printf(out, "  login ok (token expires %s)\n",
                    time_format_iso(posiflora_session_expire_at(sess), expires))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = check_total(pr, o.base, "/v1/stores", &stores, err)) != FE_OK ||
        (rc = check_total(pr, o.base, "/v1/orders", &orders, err)) != FE_OK)
        goto done;
    const char *tz = conf_str(conf, "timezone");
    ok = append_total(out, "stores", stores, "") &&
         append_total(out, "orders", orders, " (meta.total)") &&
         buf_printf(out,
                    "  currency: %s (config `currency`: Posiflora sends none; confirm it is "
                    "the account's)\n",
                    o.currency) &&
         buf_printf(out, "  timezone: %s (config `timezone`)\n", tz && *tz ? tz : "UTC") &&
         buf_printf(out, "  orders cursor: %s, %s, look-back %" PRId64 " s\n", o.cursor_field,
                    o.sort ? "sorted (checkpoints during the read)" : "unsorted (one checkpoint)",
                    o.lookback_us / 1000000);
    if (!ok)
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
done:
    page_reader_free(pr);
    posiflora_session_free(own);
    opts_term(&o);
    return rc;
}

static const stream_def posiflora_streams[] = {
    {"stores", run_stores},
    {"categories", run_categories},
    {"inventory_items", run_inventory_items},
    {"bouquets", run_bouquets},
    {"customers", run_customers},
    {"orders", run_orders},
};

const source_def posiflora_source = {
    .type = "posiflora",
    .streams = posiflora_streams,
    .nstreams = (int)(sizeof posiflora_streams / sizeof posiflora_streams[0]),
    .base_url = posi_base_url,
    .account = posi_account,
    .rate = posi_rate,
    .open = posi_open,
    .close = posi_close,
    .check = posi_check,
};
