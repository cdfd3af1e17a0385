/* posiflora_verify: what `flowetl verify` compares for Posiflora (sources/source.h,
 * verify_def). Every list answers meta.total for its filters, so the orders
 * figure is one request with page[size]=1: the whole list, or the orders created
 * in a window of UTC days (filter[createdAt][from] / [to]). The ids of a window
 * are its pages of 100. */
#include "sources/posiflora/posiflora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extract/json_fetch.h"
#include "transform/field.h"
#include "sources/posiflora/posiflora_order.h"
#include "sources/posiflora/posiflora_pages.h"
#include "sources/posiflora/posiflora_session.h"

typedef struct {
    verify_query *q;
    int64_t rows; /* data records of the page being read */
} pv_run;

static fe_rc on_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    pv_run *r = user;
    if (which != POSIFLORA_REC_DATA)
        return FE_OK;
    r->rows++;
    const char *id = field_id_or_null(rec, "id");
    return id && r->q->id ? r->q->id(r->q, id, NULL, err) : FE_OK;
}

/* The URL of page `page` (size `size`) of the orders of q's window. */
static fe_rc orders_url(const verify_query *q, long page, long size, buf *url, fe_err *err)
{
    char from[40], to[40];
    fe_rc rc = source_base_url(q->conf, NULL, "https://ACCOUNT.posiflora.com/api", url, err);
    if (rc != FE_OK)
        return rc;
    snprintf(from, sizeof from, "%sT00:00:00Z", q->from ? q->from : "");
    snprintf(to, sizeof to, "%sT23:59:59Z", q->to ? q->to : "");
    if (!buf_puts(url, "/v1/orders?") ||
        (q->from && !buf_put_query(url, "filter[createdAt][from]", from)) ||
        (q->to && !buf_put_query(url, "filter[createdAt][to]", to)) ||
        !buf_put_query_long(url, "page[number]", page) ||
        !buf_put_query_long(url, "page[size]", size))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

/* Reads pages of the window's orders (ids to q->id when want_ids) until the rows
 * reach meta.total; with size 1, only the first page (the count). */
static fe_rc read_orders(verify_query *q, long size, int64_t *total, fe_err *err)
{
    pv_run r = {.q = q};
    buf url;
    fe_rc rc = FE_OK;
    int64_t seen = 0;
    posiflora_pager *pg = posiflora_pager_new(q->http, q->stats, q->state, on_record, NULL, &r);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    buf_init(&url, 0);
    for (long page = 1; rc == FE_OK; page++) {
        buf_reset(&url);
        r.rows = 0;
        if ((rc = orders_url(q, page, size, &url, err)) != FE_OK ||
            (rc = posiflora_pager_fetch(pg, buf_cstr(&url), "GET /v1/orders", err)) != FE_OK)
            break;
        *total = posiflora_pager_total(pg);
        seen += r.rows;
        if (size == 1 || r.rows == 0 || seen >= *total)
            break;
    }
    buf_term(&url);
    posiflora_pager_free(pg);
    return rc;
}

/* --- order analytics: the money figure --------------------------------------- */

/* The orders whose totalAmount shipment-revenue's `revenue` sums: the status
 * groups open and completed (fullRevenue less the returned ones; canceled and
 * notAccepted bring no money). */
#define REVENUE_STATUSES "new,assembled,courier,done"

typedef struct {
    char revenue[48];
    bool seen;
} analytics_header;

static fe_rc on_header(void *user, int which, const json_rec *rec, fe_err *err)
{
    analytics_header *h = user;
    const char *v = json_rec_str(rec, "meta.analytic_header.revenue");
    (void)which;
    (void)err;
    if (v && strlen(v) < sizeof h->revenue) {
        snprintf(h->revenue, sizeof h->revenue, "%s", v);
        h->seen = true;
    }
    return FE_OK;
}

static fe_rc analytics_url(const verify_query *q, buf *url, fe_err *err)
{
    char from[40], to[40];
    FE_TRY(source_base_url(q->conf, NULL, "https://ACCOUNT.posiflora.com/api", url, err));
    snprintf(from, sizeof from, "%sT00:00:00Z", q->from ? q->from : "");
    snprintf(to, sizeof to, "%sT23:59:59Z", q->to ? q->to : "");
    if (!buf_puts(url, "/v1/orders/analytics/shipment-revenue?") ||
        (q->from && !buf_put_query(url, "filter[createdAt][from]", from)) ||
        (q->to && !buf_put_query(url, "filter[createdAt][to]", to)) ||
        !buf_put_query_long(url, "page[number]", 1) || !buf_put_query_long(url, "page[size]", 1))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

/* GETs url into jf with the session's headers (a 401 renews the session once).
 * A non-2xx answer (after its retries) is FE_EHTTP with the client's message. */
static fe_rc get_doc(verify_query *q, json_fetch *jf, const char *url, fe_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        http_result res = {0};
        fe_rc rc = attempt == 0 ? posiflora_session_ensure(q->state, q->http, q->stats, err)
                                : posiflora_session_renew(q->state, q->http, q->stats, err);
        if (rc != FE_OK)
            return rc;
        const char *headers[2] = {POSIFLORA_ACCEPT_HEADER, posiflora_session_auth_header(q->state)};
        http_request req = {.method = "GET", .url = url, .headers = headers, .nheaders = 2};
        rc = json_fetch_run(jf, q->http, &req, &res, q->stats, err);
        bool again = rc == FE_OK && res.status == 401 && attempt == 0;
        if (rc == FE_OK && !again && res.rc != FE_OK)
            rc = fe_err_set(err, res.rc, "%s", res.err.msg);
        http_result_term(&res);
        if (!again)
            return rc;
    }
    return FE_OK;
}

/* GET shipment-revenue with page[size]=1: meta.analytic_header.revenue. */
static fe_rc analytics_revenue(verify_query *q, analytics_header *h, fe_err *err)
{
    static const char *const paths[] = {"."};
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 1,
                            .max_record_bytes = POSIFLORA_RECORD_MAX,
                            .on_record = on_header,
                            .user = h};
    json_fetch *jf = json_fetch_new(&spec);
    buf url;
    fe_rc rc = jf ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
    buf_init(&url, 0);
    if (rc == FE_OK)
        rc = analytics_url(q, &url, err);
    if (rc == FE_OK)
        rc = get_doc(q, jf, buf_cstr(&url), err);
    if (rc == FE_OK && !h->seen)
        rc = fe_err_set(err, FE_EJSON,
                        "GET /v1/orders/analytics/shipment-revenue: no "
                        "meta.analytic_header.revenue");
    buf_term(&url);
    json_fetch_free(jf);
    return rc;
}

static fe_rc verify_figures(verify_query *q, fe_err *err)
{
    int64_t total = -1;
    char value[32];
    verify_query counting = *q;
    counting.id = NULL;
    FE_TRY(read_orders(&counting, 1, &total, err));
    if (total < 0)
        return fe_err_set(err, FE_EJSON, "GET /v1/orders: no meta.total");
    rc_scope s = {.entity = RC_ORDERS,
                  .basis = RC_BY_UTC_DAY,
                  .measure = RC_COUNT,
                  .from = q->from,
                  .to = q->to};
    snprintf(value, sizeof value, "%lld", (long long)total);
    FE_TRY(q->figure(q, &s, value, err));
    if (q->counts_only)
        return FE_OK;
    analytics_header h = {0};
    FE_TRY(analytics_revenue(q, &h, err));
    s.measure = RC_REVENUE;
    s.statuses = REVENUE_STATUSES;
    return q->figure(q, &s, h.revenue, err);
}

static fe_rc collect_id(verify_query *q, const char *id, const char *text, fe_err *err)
{
    (void)text;
    return rc_ids_add(q->user, id) ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
}

static fe_rc verify_ids(verify_query *q, fe_err *err)
{
    int64_t total = -1;
    return read_orders(q, POSIFLORA_PAGE_SIZE_MAX, &total, err);
}

/* --- deep: each order of the window through the stream's detail reader and
 * mapper (GET /v1/orders/{id}?include=lines,payments,payments.method, the order
 * accumulator), one request per order ---------------------------------------- */

typedef struct {
    posiflora_order_acc *acc;
} detail_doc;

static fe_rc on_detail(void *user, int which, const json_rec *rec, fe_err *err)
{
    detail_doc *d = user;
    return posiflora_order_acc_add(d->acc, which == 0, rec, err);
}

static void on_detail_reset(void *user)
{
    posiflora_order_acc_reset(((detail_doc *)user)->acc);
}

static fe_rc deep_order(verify_query *q, json_fetch *jf, detail_doc *d, const char *id,
                        const posiflora_map_opts *mo, const row_sink *sink, fe_err *err)
{
    buf url;
    posiflora_order_info info;
    buf_init(&url, 0);
    fe_rc rc = source_base_url(q->conf, NULL, "https://ACCOUNT.posiflora.com/api", &url, err);
    if (rc == FE_OK &&
        (!buf_puts(&url, "/v1/orders/") || !buf_put_urlenc(&url, id) || !buf_putc(&url, '?') ||
         !buf_put_query(&url, "include", "lines,payments,payments.method")))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    if (rc == FE_OK)
        rc = get_doc(q, jf, buf_cstr(&url), err);
    if (rc == FE_OK) {
        rc = posiflora_order_acc_flush(d->acc, mo, sink, &info, err);
        if (rc == FE_EINVAL) /* a reject: the load rejected it too */
            rc = FE_OK;
    }
    posiflora_order_acc_reset(d->acc);
    buf_term(&url);
    return rc;
}

static fe_rc verify_deep(verify_query *q, fe_err *err)
{
    static const char *const paths[] = {"data", "included[]"};
    char currency[4] = "RUB";
    const char *c = config_str(q->conf, "currency");
    rc_ids ids;
    detail_doc d = {.acc = posiflora_order_acc_new()};
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 2,
                            .max_record_bytes = POSIFLORA_RECORD_MAX,
                            .on_record = on_detail,
                            .on_reset = on_detail_reset,
                            .user = &d};
    json_fetch *jf = d.acc ? json_fetch_new(&spec) : NULL;
    verify_capture cap = {.q = q};
    row_sink sink = verify_order_sink(&cap);
    int64_t total = -1;
    fe_rc rc = jf ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
    for (int i = 0; c && i < 3 && c[i]; i++)
        currency[i] = (char)(c[i] >= 'a' && c[i] <= 'z' ? c[i] - 32 : c[i]);
    posiflora_map_opts mo = {.currency = currency};
    rc_ids_init(&ids);
    verify_query listing = *q;
    listing.user = &ids;
    listing.id = collect_id;
    if (rc == FE_OK)
        rc = read_orders(&listing, POSIFLORA_PAGE_SIZE_MAX, &total, err);
    rc_ids_sort(&ids);
    for (size_t i = 0; rc == FE_OK && i < ids.n; i++)
        rc = deep_order(q, jf, &d, ids.v[i], &mo, &sink, err);
    rc_ids_term(&ids);
    json_fetch_free(jf);
    posiflora_order_acc_free(d.acc);
    return rc;
}

/* --- the dimension lists: meta.total of the whole list --------------------------- */

typedef struct {
    const char *path;
    rc_entity entity;
    const char *types; /* RC_PRODUCTS: the product types the list's records become */
    bool with_deleted; /* the list keeps records it marks deleted (customers' status) */
} pv_list;

static const pv_list stores_list = {"/v1/stores", RC_STORES, NULL, false};
static const pv_list customers_list = {"/v1/customers", RC_CUSTOMERS, NULL, true};
static const pv_list items_list = {"/v1/inventory-items", RC_PRODUCTS, "standard,service", false};
static const pv_list bouquets_list = {"/v1/bouquets", RC_PRODUCTS, "bouquet", false};

static fe_rc list_figures(verify_query *q, const pv_list *l, fe_err *err)
{
    buf base;
    int64_t total = -1;
    char value[32];
    pv_run r = {.q = q};
    posiflora_pager *pg = posiflora_pager_new(q->http, q->stats, q->state, on_record, NULL, &r);
    buf_init(&base, 0);
    fe_rc rc = pg ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    verify_query counting = *q;
    counting.id = NULL;
    r.q = &counting;
    if (rc == FE_OK)
        rc = source_base_url(q->conf, NULL, "https://ACCOUNT.posiflora.com/api", &base, err);
    if (rc == FE_OK)
        rc = posiflora_pager_count(pg, buf_cstr(&base), l->path, &total, err);
    buf_term(&base);
    posiflora_pager_free(pg);
    if (rc != FE_OK)
        return rc;
    rc_scope s = {.entity = l->entity,
                  .basis = RC_BY_NONE,
                  .measure = RC_COUNT,
                  .store_kind = l->entity == RC_STORES ? "store" : NULL,
                  .statuses = l->types,
                  .with_deleted = l->with_deleted};
    snprintf(value, sizeof value, "%lld", (long long)total);
    return q->figure(q, &s, value, err);
}

static fe_rc list_ids(verify_query *q, const pv_list *l, fe_err *err)
{
    buf base;
    pv_run r = {.q = q};
    posiflora_pager *pg = posiflora_pager_new(q->http, q->stats, q->state, on_record, NULL, &r);
    buf_init(&base, 0);
    fe_rc rc = pg ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    if (rc == FE_OK)
        rc = source_base_url(q->conf, NULL, "https://ACCOUNT.posiflora.com/api", &base, err);
    if (rc == FE_OK) {
        posiflora_list_query lq = {
            .base = buf_cstr(&base), .path = l->path, .page_size = POSIFLORA_PAGE_SIZE_MAX};
        rc = posiflora_pages_read(pg, &lq, NULL, err);
    }
    buf_term(&base);
    posiflora_pager_free(pg);
    return rc;
}

#define PV_LIST_FNS(name, list)                                                                    \
    static fe_rc name##_figures(verify_query *q, fe_err *err)                                      \
    {                                                                                              \
        return list_figures(q, &list, err);                                                        \
    }                                                                                              \
    static fe_rc name##_ids(verify_query *q, fe_err *err)                                          \
    {                                                                                              \
        return list_ids(q, &list, err);                                                            \
    }
PV_LIST_FNS(stores, stores_list)
PV_LIST_FNS(customers, customers_list)
PV_LIST_FNS(items, items_list)
PV_LIST_FNS(bouquets, bouquets_list)

#define PV_LIST_DEF(name, stream_name, e)                                                          \
    {                                                                                              \
        .stream = stream_name, .entity = e, .basis = RC_BY_NONE, .store_kind = "store",            \
        .figures = name##_figures, .ids = name##_ids, .deep = NULL, .run_days = 0                  \
    }

const verify_def posiflora_verify[POSIFLORA_NVERIFY] = {
    PV_LIST_DEF(stores, "stores", RC_STORES),
    PV_LIST_DEF(items, "inventory_items", RC_PRODUCTS),
    PV_LIST_DEF(bouquets, "bouquets", RC_PRODUCTS),
    PV_LIST_DEF(customers, "customers", RC_CUSTOMERS),
    {.stream = "orders",
     .entity = RC_ORDERS,
     .basis = RC_BY_UTC_DAY,
     .store_kind = "store",
     .figures = verify_figures,
     .ids = verify_ids,
     .deep = verify_deep,
     .run_days = 0},
};
