/* flowwow_verify: what `flowetl verify` compares for Flowwow (sources/source.h,
 * verify_def). orders/list answers `total` for one shop and one creation day
 * (createdDate, the business day of the source's zone), so the orders figure is a
 * count per shop and day, read with limit=1 (one request each). Flowwow
 * publishes no money aggregate, and its shops and products lists are full reads
 * that the load already compares with their `total`. */
#include "sources/flowwow/flowwow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "transform/field.h"
#include "sources/flowwow/flowwow_map.h"
#include "sources/flowwow/flowwow_pages.h"

static const char *const statuses[] = {"active", "moderation", "disabled"};

typedef struct {
    char id[32];
    char currency[8];
} vw_shop;

typedef struct {
    verify_query *q;
    char *base, *auth;
    long page_base;
    bool line_sum_is_total;
    vw_shop *shops;
    size_t n, cap;
    const char *status; /* shops list being read */
    /* the orders list being read */
    const vw_shop *shop;
    const char *day;
    long limit;
    verify_capture cap_deep;
    row_sink deep_sink;
    bool deep;
} vw_run;

static void vw_term(vw_run *r)
{
    free(r->base);
    free(r->auth);
    free(r->shops);
}

static fe_rc vw_init(vw_run *r, verify_query *q, fe_err *err)
{
    const char *token = config_str(q->conf, "token");
    buf b;
    bool v;
    memset(r, 0, sizeof *r);
    r->q = q;
    buf_init(&b, 0);
    if (source_base_url(q->conf, "https://apis.flowwow.com", NULL, &b, err) != FE_OK)
        return buf_term(&b), err->code;
    r->base = buf_take(&b, NULL);
    if (!buf_printf(&b, "Authorization: Bearer %s", token ? token : "") ||
        !(r->auth = buf_take(&b, NULL)) || !r->base)
        return buf_term(&b), fe_err_set(err, FE_ENOMEM, "out of memory");
    r->page_base = config_int_or(q->conf, "orders_page_base", 1);
    r->line_sum_is_total = config_bool(q->conf, "line_sum_is_total", &v) ? v : true;
    return FE_OK;
}

static fe_rc on_shop(void *user, int which, const json_rec *rec, fe_err *err)
{
    vw_run *r = user;
    const char *id = field_id_or_null(rec, "shopId"), *currency = NULL;
    fe_err ignored;
    (void)which;
    if (!id || strlen(id) >= sizeof r->shops->id || strspn(id, "0123456789") != strlen(id))
        return FE_OK;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->shops[i].id, id) == 0)
            return FE_OK;
    vw_shop *room = buf_array_room(r->shops, &r->cap, r->n, sizeof *room, 16);
    if (!room)
        return fe_err_set(err, FE_ENOMEM, "out of memory listing shops");
    r->shops = room;
    if (field_text(rec, "currency", &currency, &ignored) != FE_OK)
        currency = NULL;
    snprintf(r->shops[r->n].id, sizeof r->shops[r->n].id, "%s", id);
    snprintf(r->shops[r->n].currency, sizeof r->shops[r->n].currency, "%s",
             currency && strlen(currency) == 3 ? currency : "");
    r->n++;
    return FE_OK;
}

static fe_rc build_shops(void *user, long page, buf *url, buf *body, fe_err *err)
{
    vw_run *r = user;
    if (!buf_puts(url, r->base) || !buf_puts(url, "/apiseller/shops") ||
        !buf_puts(body, "{\"status\":") || !buf_put_jsonstr(body, r->status) ||
        !buf_printf(body, ",\"page\":%ld,\"limit\":%d}", page, FLOWWOW_SHOPS_LIMIT))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a request");
    return FE_OK;
}

/* The shops of every status configured (shop_statuses), or only q->store_id. */
static fe_rc list_shops(vw_run *r, fe_err *err)
{
    fe_rc rc = FE_OK;
    if (r->q->store_id) { /* one shop asked for: no list (its currency only matters to deep) */
        vw_shop *room = buf_array_room(r->shops, &r->cap, 0, sizeof *room, 16);
        if (!room)
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        r->shops = room;
        memset(&r->shops[0], 0, sizeof r->shops[0]);
        snprintf(r->shops[0].id, sizeof r->shops[0].id, "%s", r->q->store_id);
        r->n = 1;
        return FE_OK;
    }
    flowwow_pager *pg = flowwow_pager_new(r->q->http, r->q->stats, r->auth, on_shop, r);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    const char *item;
    size_t len;
    for (size_t k = 0; k < 3 && rc == FE_OK; k++) {
        bool wanted = !config_list_at(r->q->conf, "shop_statuses", 0, &item, &len);
        for (size_t i = 0; !wanted && config_list_at(r->q->conf, "shop_statuses", i, &item, &len);
             i++)
            wanted = strlen(statuses[k]) == len && memcmp(statuses[k], item, len) == 0;
        if (!wanted)
            continue;
        r->status = statuses[k];
        flowwow_list l = {.method = "POST",
                          .what = "POST /apiseller/shops",
                          .records = "shops",
                          .id_path = "shopId",
                          .page_base = 0,
                          .limit = FLOWWOW_SHOPS_LIMIT,
                          .build = build_shops,
                          .build_user = r};
        rc = flowwow_pages_read(pg, &l, NULL, err);
    }
    flowwow_pager_free(pg);
    return rc;
}

static fe_rc build_orders(void *user, long page, buf *url, buf *body, fe_err *err)
{
    vw_run *r = user;
    (void)body;
    if (!buf_puts(url, r->base) || !buf_puts(url, "/apiseller/orders/list?") ||
        !buf_put_query(url, "shopId", r->shop->id) || !buf_put_query(url, "createdDate", r->day) ||
        !buf_put_query_long(url, "page", page) || !buf_put_query_long(url, "limit", r->limit))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

static fe_rc on_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    vw_run *r = user;
    (void)which;
    if (r->deep) {
        flowwow_order_opts o = {.shop_id = r->shop->id,
                                .order_date = r->day,
                                .currency = r->shop->currency[0] ? r->shop->currency : NULL,
                                .line_sum_is_total = r->line_sum_is_total};
        flowwow_order_info info;
        fe_rc rc = flowwow_map_order(rec, &o, &r->deep_sink, &info, err);
        return rc == FE_EINVAL ? FE_OK : rc; /* a reject: the load rejected it too */
    }
    const char *id = field_id_or_null(rec, "id");
    return id ? r->q->id(r->q, id, NULL, err) : FE_OK;
}

static flowwow_list orders_list(vw_run *r, long limit, char *what, size_t size)
{
    snprintf(what, size, "orders/list shop %s day %s", r->shop->id, r->day);
    r->limit = limit;
    flowwow_list l = {.method = "GET",
                      .what = what,
                      .records = "items",
                      .id_path = "id",
                      .page_base = r->page_base,
                      .limit = limit,
                      .build = build_orders,
                      .build_user = r};
    return l;
}

/* Calls per_day for every shop and day of the window. */
static fe_rc each_shop_day(vw_run *r, fe_rc (*per_day)(vw_run *r, flowwow_pager *pg, fe_err *err),
                           fe_err *err)
{
    char day[16];
    if (!r->q->from || !r->q->to)
        return fe_err_set(err, FE_EINVAL, "Flowwow counts orders per creation day: give a window");
    FE_TRY(list_shops(r, err));
    flowwow_pager *pg = flowwow_pager_new(r->q->http, r->q->stats, r->auth, on_order, r);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    fe_rc rc = FE_OK;
    snprintf(day, sizeof day, "%s", r->q->from);
    r->day = day;
    while (rc == FE_OK && strcmp(day, r->q->to) <= 0) {
        for (size_t i = 0; i < r->n && rc == FE_OK; i++) {
            r->shop = &r->shops[i];
            rc = per_day(r, pg, err);
        }
        if (rc == FE_OK && !verify_day_add(day, 1, day))
            rc = fe_err_set(err, FE_EINVAL, "'%s' is not a day", day);
    }
    flowwow_pager_free(pg);
    return rc;
}

static fe_rc count_day(vw_run *r, flowwow_pager *pg, fe_err *err)
{
    char what[96], value[32];
    int64_t rows = 0, total = -1;
    flowwow_list l = orders_list(r, 1, what, sizeof what);
    FE_TRY(flowwow_pages_one(pg, &l, r->page_base, &rows, &total, err));
    if (total < 0)
        return fe_err_set(err, FE_EJSON, "%s: the answer has no `total`", what);
    rc_scope s = {.entity = RC_ORDERS,
                  .basis = RC_BY_LOCAL_DAY,
                  .measure = RC_COUNT,
                  .from = r->day,
                  .to = r->day,
                  .store_kind = "shop",
                  .store_id = r->shop->id};
    snprintf(value, sizeof value, "%lld", (long long)total);
    return r->q->figure(r->q, &s, value, err);
}

static fe_rc read_day(vw_run *r, flowwow_pager *pg, fe_err *err)
{
    char what[96];
    flowwow_list l = orders_list(r, FLOWWOW_ORDERS_LIMIT, what, sizeof what);
    return flowwow_pages_read(pg, &l, NULL, err);
}

static fe_rc vw_orders(verify_query *q, fe_rc (*per_day)(vw_run *, flowwow_pager *, fe_err *),
                       bool deep, fe_err *err)
{
    vw_run r;
    fe_rc rc = vw_init(&r, q, err);
    if (rc == FE_OK) {
        r.deep = deep;
        r.cap_deep.q = q;
        r.deep_sink = verify_order_sink(&r.cap_deep);
        rc = each_shop_day(&r, per_day, err);
    }
    vw_term(&r);
    return rc;
}

static fe_rc verify_figures(verify_query *q, fe_err *err)
{
    return vw_orders(q, count_day, false, err);
}

static fe_rc verify_ids(verify_query *q, fe_err *err)
{
    return vw_orders(q, read_day, false, err);
}

static fe_rc verify_deep(verify_query *q, fe_err *err)
{
    return vw_orders(q, read_day, true, err);
}

const verify_def flowwow_verify[FLOWWOW_NVERIFY] = {
    {.stream = "orders",
     .entity = RC_ORDERS,
     .basis = RC_BY_LOCAL_DAY,
     .store_kind = "shop",
     .figures = verify_figures,
     .ids = verify_ids,
     .deep = verify_deep,
     .run_days = 3},
};
