/* flowwow: streams, requests, cursors and checkpoints of the Flowwow source.
 * See flowwow.h and README.md ("Flowwow"). */
#include "sources/flowwow/flowwow.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "load/pg.h"
#include "sources/flowwow/flowwow_map.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "sources/flowwow/flowwow_pages.h"

#define DEFAULT_BASE_URL "https://apis.flowwow.com"
/* Days the first orders read goes back when start_date is not set. */
#define DEFAULT_BACKFILL_DAYS 365
#define DAY_US (86400 * TIME_US_PER_SEC)
#define DATE_LEN 11

static const char *const shop_status_names[] = {"active", "moderation", "disabled"};
#define NSTATUS 3

/* ---- options (read once per stream from the config) ------------------------ */

typedef struct {
    char *base;        /* base_url without trailing slashes */
    char *auth_header; /* "Authorization: Bearer <token>": secret, never logged */
    long rescan_days;
    long page_base;                    /* of orders/list */
    long orders_limit, products_limit; /* page sizes asked for */
    bool orders_paged; /* orders_method = auto: a long read may page the whole list */
    bool line_sum_is_total;
    const char *statuses[NSTATUS]; /* shop_statuses, in the order given */
    int nstatuses;
    const char *start_date, *end_date; /* "YYYY-MM-DD" or NULL */
    const char *timezone;
    long checkpoint_records;
} fw_opts;

static const char *config_date(const source_config *conf, const char *key)
{
    const char *v = config_str(conf, key);
    return v && *v ? v : NULL;
}

static fe_rc base_url_into(const source_config *conf, buf *out, fe_err *err)
{
    return source_base_url(conf, DEFAULT_BASE_URL, NULL, out, err);
}

static fe_rc opts_statuses(const source_config *conf, fw_opts *o, fe_err *err)
{
    const char *item;
    size_t len;
    o->nstatuses = 0;
    for (size_t i = 0; config_list_at(conf, "shop_statuses", i, &item, &len); i++) {
        int k = 0;
        while (k < NSTATUS && (strlen(shop_status_names[k]) != len ||
                               memcmp(shop_status_names[k], item, len) != 0))
            k++;
        if (k == NSTATUS)
            return fe_err_set(err, FE_ECONFIG,
                              "[source.%s] shop_statuses: '%.*s' is not active, moderation or "
                              "disabled",
                              conf->name, (int)(len < 40 ? len : 40), item);
        bool dup = false;
        for (int j = 0; j < o->nstatuses; j++)
            dup = dup || o->statuses[j] == shop_status_names[k];
        if (!dup)
            o->statuses[o->nstatuses++] = shop_status_names[k];
    }
    if (o->nstatuses == 0)
        for (; o->nstatuses < NSTATUS; o->nstatuses++)
            o->statuses[o->nstatuses] = shop_status_names[o->nstatuses];
    return FE_OK;
}

static void opts_term(fw_opts *o)
{
    free(o->base);
    free(o->auth_header);
    o->base = o->auth_header = NULL;
}

static fe_rc opts_load(const source_config *conf, fw_opts *o, fe_err *err)
{
    const char *token = config_str(conf, "token");
    buf b;
    bool v;
    fe_rc rc;

    memset(o, 0, sizeof *o);
    buf_init(&b, 0);
    if (!token || !*token) {
        rc = fe_err_set(err, FE_ECONFIG, "[source.%s] token is required for flowwow", conf->name);
        goto fail;
    }
    if ((rc = base_url_into(conf, &b, err)) != FE_OK)
        goto fail;
    o->base = buf_take(&b, NULL);
    if (!buf_printf(&b, "Authorization: Bearer %s", token) ||
        !(o->auth_header = buf_take(&b, NULL))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto fail;
    }
    o->rescan_days = config_int_or(conf, "rescan_days", 14);
    o->page_base = config_int_or(conf, "orders_page_base", 1);
    o->orders_limit = config_int_or(conf, "orders_page_size", FLOWWOW_ORDERS_LIMIT);
    o->products_limit = config_int_or(conf, "products_page_size", FLOWWOW_PRODUCTS_LIMIT);
    const char *method = config_str(conf, "orders_method");
    o->orders_paged = !method || !*method || strcmp(method, "auto") == 0;
    if (!o->orders_paged && strcmp(method, "per_day") != 0) {
        rc = fe_err_set(err, FE_ECONFIG, "[source.%s] orders_method must be auto or per_day",
                        conf->name);
        goto fail;
    }
    if (o->orders_limit < 1 || o->orders_limit > FLOWWOW_ORDERS_LIMIT || o->products_limit < 1 ||
        o->products_limit > FLOWWOW_PRODUCTS_LIMIT) {
        rc = fe_err_set(err, FE_ECONFIG,
                        "[source.%s] orders_page_size must be 1..%d, products_page_size 1..%d",
                        conf->name, FLOWWOW_ORDERS_LIMIT, FLOWWOW_PRODUCTS_LIMIT);
        goto fail;
    }
    o->line_sum_is_total = config_bool(conf, "line_sum_is_total", &v) ? v : true;
    o->start_date = config_date(conf, "start_date");
    o->end_date = config_date(conf, "end_date");
    o->timezone = config_str(conf, "timezone");
    if (!o->timezone || !*o->timezone)
        o->timezone = "UTC";
    o->checkpoint_records = config_int_or(conf, "checkpoint_records", 5000);
    if (o->page_base != 0 && o->page_base != 1) {
        rc = fe_err_set(err, FE_ECONFIG, "[source.%s] orders_page_base must be 0 or 1", conf->name);
        goto fail;
    }
    if ((rc = opts_statuses(conf, o, err)) != FE_OK)
        goto fail;
    return FE_OK;
fail:
    buf_term(&b);
    opts_term(o);
    return rc;
}

/* ---- dates ------------------------------------------------------------------ */

/* Days since 1970-01-01 of "YYYY-MM-DD"; false when it is not a date. */
static bool date_days(const char *text, int64_t *days)
{
    int64_t us;
    if (!text || strlen(text) != 10 || !time_parse_iso(text, 10, &us))
        return false;
    *days = us / DAY_US;
    return true;
}

static char *days_text(int64_t days, char out[DATE_LEN])
{
    return time_format_date(days * DAY_US, out);
}

/* Today in the source's time zone, as PostgreSQL (which knows every IANA zone)
 * sees it on the stream's connection. Called outside a checkpoint. */
static fe_rc today_in_zone(loader *ld, const char *tz, int64_t *days, fe_err *err)
{
    char date[11];
    FE_TRY(loader_local_date(ld, tz, date, err));
    if (!date_days(date, days))
        return fe_err_set(err, FE_EPG, "today in time zone '%.60s': unexpected answer", tz);
    return FE_OK;
}

/* ---- the shop list ------------------------------------------------------------ */

typedef struct {
    char id[24];
    char currency[8]; /* "" when not given */
} fw_shop;

typedef struct {
    stream_ctx *ctx; /* NULL: only collect (no rows, no rejects) */
    const fw_opts *o;
    row_sink rows;
    const char *status; /* being read */
    fw_shop *shops;
    size_t n, cap;
    bool total_changed; /* a list's `total` changed while it was read */
    size_t dropped;     /* shops left out (an id that is not usable): no full read */
} shops_run;

static fe_rc shop_add(shops_run *s, const char *id, const char *currency, fe_err *err)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->shops[i].id, id) == 0)
            return FE_OK;
    fw_shop *shops = buf_array_room(s->shops, &s->cap, s->n, sizeof *shops, 16);
    if (!shops)
        return fe_err_set(err, FE_ENOMEM, "out of memory listing shops");
    s->shops = shops;
    fw_shop *sh = &s->shops[s->n++];
    snprintf(sh->id, sizeof sh->id, "%s", id);
    snprintf(sh->currency, sizeof sh->currency, "%s",
             currency && strlen(currency) == 3 ? currency : "");
    return FE_OK;
}

/* The shop id, when it can go into a request: digits only, checked on the
 * value's true length ("12\u000034" is refused, not read as shop 12). */
static const char *usable_shop_id(const json_rec *rec)
{
    const char *id = field_id_or_null(rec, "shopId");
    if (!id || strlen(id) >= sizeof((fw_shop *)0)->id || strspn(id, "0123456789") != strlen(id))
        return NULL;
    return id;
}

static fe_rc on_shop(void *user, int which, const json_rec *rec, fe_err *err)
{
    shops_run *s = user;
    (void)which; /* one records array per list */
    const char *id = usable_shop_id(rec), *currency = NULL;
    fe_err ignored;
    if (s->ctx) {
        fe_rc rc = flowwow_map_shop(rec, &s->rows, err);
        if (rc == FE_EINVAL)
            rc = stream_reject_mapped(s->ctx, rec, "shopId", err);
        stream_progress(s->ctx);
        if (rc != FE_OK || !id)
            return rc;
    }
    if (!id) {
        s->dropped++;
        return FE_OK;
    }
    if (field_text(rec, "currency", &currency, &ignored) != FE_OK)
        currency = NULL; /* unknown: the orders mapping refuses what it needs */
    return shop_add(s, id, currency, err);
}

static fe_rc build_shops(void *user, long page, buf *url, buf *body, fe_err *err)
{
    shops_run *s = user;
    if (!buf_puts(url, s->o->base) || !buf_puts(url, "/apiseller/shops") ||
        !buf_puts(body, "{\"status\":") || !buf_put_jsonstr(body, s->status) ||
        !buf_printf(body, ",\"page\":%ld,\"limit\":%d}", page, FLOWWOW_SHOPS_LIMIT))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a request");
    return FE_OK;
}

/* Lists the shops of every configured status into s (ids once each), mapping
 * them to rows when s->ctx is set. */
static fe_rc list_shops(http_client *http, stream_stats *stats, shops_run *s, fe_err *err)
{
    char what[64];
    fe_rc rc = FE_OK;
    flowwow_pager *pg = flowwow_pager_new(http, stats, s->o->auth_header, on_shop, s);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    for (int i = 0; i < s->o->nstatuses && rc == FE_OK; i++) {
        s->status = s->o->statuses[i];
        snprintf(what, sizeof what, "POST /apiseller/shops status %s", s->status);
        flowwow_list l = {.method = "POST",
                          .what = what,
                          .records = "shops",
                          .id_path = "shopId",
                          .page_base = 0,
                          .limit = FLOWWOW_SHOPS_LIMIT,
                          .build = build_shops,
                          .build_user = s};
        rc = flowwow_pages_read(pg, &l, NULL, err);
    }
    s->total_changed = flowwow_pager_total_changed(pg);
    flowwow_pager_free(pg);
    return rc;
}

/* A full read marks deletions only when no list changed while it was read: a
 * record removed mid-read slides the next one onto a page already read, and that
 * one would be marked deleted. */
static unsigned full_read_unless_changed(stream_ctx *ctx, unsigned bits, bool changed)
{
    if (changed)
        log_warn(ctx->logctx, "a list's `total` changed while it was read: deleted members "
                              "are not marked this time");
    return changed ? 0 : bits;
}

static void shops_term(shops_run *s)
{
    free(s->shops);
    s->shops = NULL;
    s->n = s->cap = 0;
}

static fe_rc run_shops(stream_ctx *ctx, fe_err *err)
{
    fw_opts o;
    char cursor[96];
    shops_run s = {.ctx = ctx, .o = &o, .rows = loader_row_sink(ctx->ld)};
    load_commit commit = {.full_read = 1u << STG_STORE};
    fe_rc rc;

    FE_TRY(opts_load(ctx->conf, &o, err));
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) == FE_OK &&
        (rc = list_shops(ctx->http, ctx->stats, &s, err)) == FE_OK) {
        commit.cursor = stream_read_at_cursor(cursor, sizeof cursor);
        commit.full_read = full_read_unless_changed(ctx, commit.full_read, s.total_changed);
        rc = loader_commit(ctx->ld, &commit, ctx->stats, err);
    }
    shops_term(&s);
    opts_term(&o);
    return rc;
}

/* The shop ids of the configured statuses, without rows (products, orders). */
static fe_rc collect_shops(stream_ctx *ctx, const fw_opts *o, shops_run *s, fe_err *err)
{
    *s = (shops_run){.o = o};
    fe_rc rc = list_shops(ctx->http, ctx->stats, s, err);
    if (rc == FE_OK && s->dropped)
        log_warn(ctx->logctx,
                 "%zu shops left out: their shopId is not a usable id (digits only, no NUL "
                 "byte); their records are not read and none is marked deleted this time",
                 s->dropped);
    if (rc == FE_OK && s->n == 0)
        log_warn(ctx->logctx,
                 "the token sees no shop (shop_statuses: %d statuses): nothing to read",
                 o->nstatuses);
    return rc;
}

/* ---- products ------------------------------------------------------------------ */

typedef struct {
    stream_ctx *ctx;
    const fw_opts *o;
    row_sink rows;
    flowwow_product_opts popts;
} products_run;

static fe_rc on_product(void *user, int which, const json_rec *rec, fe_err *err)
{
    products_run *p = user;
    (void)which; /* one records array per list */
    fe_rc rc = flowwow_map_product(rec, &p->popts, &p->rows, err);
    if (rc == FE_EINVAL)
        rc = stream_reject_mapped(p->ctx, rec, "productId", err);
    stream_progress(p->ctx);
    return rc;
}

static fe_rc build_products(void *user, long page, buf *url, buf *body, fe_err *err)
{
    products_run *p = user;
    if (!buf_puts(url, p->o->base) || !buf_puts(url, "/apiseller/products?") ||
        !buf_put_query(url, "shopId", p->popts.shop_id) ||
        !buf_printf(body, "{\"page\":%ld,\"limit\":%ld}", page, p->o->products_limit))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a request");
    return FE_OK;
}

/* One checkpoint over every shop: a product no shop returns any more is marked
 * deleted. Today's stock goes to the snapshot of today (source time zone). */
static fe_rc run_products(stream_ctx *ctx, fe_err *err)
{
    fw_opts o;
    shops_run s = {0};
    products_run p = {.ctx = ctx, .o = &o, .rows = loader_row_sink(ctx->ld)};
    flowwow_pager *pg = NULL;
    char today[DATE_LEN], now[TIME_TEXT_MAX], what[96], cursor[96];
    int64_t today_days = 0;
    load_commit commit = {.full_read = 1u << STG_PRODUCT};
    fe_rc rc;

    FE_TRY(opts_load(ctx->conf, &o, err));
    if ((rc = today_in_zone(ctx->ld, o.timezone, &today_days, err)) != FE_OK ||
        (rc = collect_shops(ctx, &o, &s, err)) != FE_OK)
        goto done;
    p.popts.snapshot_date = days_text(today_days, today);
    p.popts.captured_at = time_format_iso(time_now_us(), now);
    if (!(pg = flowwow_pager_new(ctx->http, ctx->stats, o.auth_header, on_product, &p))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK)
        goto done;
    for (size_t i = 0; i < s.n && rc == FE_OK; i++) {
        p.popts.shop_id = s.shops[i].id;
        snprintf(what, sizeof what, "POST /apiseller/products shop %s", s.shops[i].id);
        flowwow_list l = {.method = "POST",
                          .what = what,
                          .records = "items",
                          .id_path = "productId",
                          .page_base = 0,
                          .limit = o.products_limit,
                          .build = build_products,
                          .build_user = &p};
        rc = flowwow_pages_read(pg, &l, NULL, err);
    }
    if (rc == FE_OK) {
        commit.cursor = stream_read_at_cursor(cursor, sizeof cursor);
        commit.full_read = full_read_unless_changed(
            ctx, commit.full_read, s.total_changed || flowwow_pager_total_changed(pg));
        if (s.dropped) /* their products were not read: not a full read */
            commit.full_read = 0;
        rc = loader_commit(ctx->ld, &commit, ctx->stats, err);
    }
done:
    flowwow_pager_free(pg);
    shops_term(&s);
    opts_term(&o);
    return rc;
}

/* ---- orders -------------------------------------------------------------------- */

/* The paged read of one shop's whole list (no createdDate): what it keeps to
 * judge the list as it goes. The order of the list is its id order: every id
 * must pass the one before in one direction (ascending or descending), pages
 * included, so a page can neither repeat nor skip what another held. */
typedef struct {
    int64_t lo, hi;       /* unix seconds: orders created in [lo, hi) are loaded */
    int64_t prev_id;      /* last id seen, -1 before the first */
    int dir;              /* +1 ids ascend, -1 descend, 0 not known yet */
    int64_t page_prev_id; /* prev_id and dir as the page being read started */
    int page_dir;
    long max_pages;   /* more pages than this: per day is cheaper */
    char unsafe[200]; /* why the list cannot be paged ("" while it can) */
    char first_id[32];
} paged_read;

typedef struct {
    stream_ctx *ctx;
    const fw_opts *o;
    row_sink rows;
    flowwow_order_opts mopts;
    bool warned_status;
    paged_read *paged; /* NULL: a per-day read */
    int base_ok;       /* page base probed this run: -1 not yet, 0 unclear, 1 confirmed */
    http_client *http;
} orders_run;

/* Judges a record of a paged read: false (r->paged->unsafe set) when its id
 * breaks the list's order; *keep false when it was created outside the window.
 * A createdDate that is no unix time goes to the mapping, which rejects it. */
static bool paged_judge(paged_read *p, const json_rec *rec, bool *keep)
{
    int64_t id, created;
    const char *text = json_rec_str(rec, "createdDate");
    *keep = true;
    if (!json_parse_count(json_rec_str(rec, "id"), &id)) {
        snprintf(p->unsafe, sizeof p->unsafe, "an order without a numeric id");
        return false;
    }
    if (p->prev_id < 0 && !p->first_id[0])
        snprintf(p->first_id, sizeof p->first_id, "%" PRId64, id);
    if (p->prev_id >= 0) {
        int dir = id > p->prev_id ? 1 : -1;
        if (id == p->prev_id || (p->dir && dir != p->dir)) {
            snprintf(p->unsafe, sizeof p->unsafe,
                     "order not stable: id %" PRId64 " after %" PRId64 " in a list that %s", id,
                     p->prev_id, p->dir > 0 ? "ascends" : "descends");
            return false;
        }
        p->dir = dir;
    }
    p->prev_id = id;
    if (json_parse_count(text, &created) && (created < p->lo || created >= p->hi))
        *keep = false;
    return true;
}

static fe_rc on_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    orders_run *r = user;
    (void)which; /* one records array per list */
    flowwow_order_info info;
    bool keep = true;
    if (r->paged && !paged_judge(r->paged, rec, &keep))
        return fe_err_set(err, FE_EABORT, "%s", r->paged->unsafe);
    if (!keep) {
        stream_progress(r->ctx);
        return FE_OK;
    }
    fe_rc rc = flowwow_map_order(rec, &r->mopts, &r->rows, &info, err);
    if (rc == FE_EINVAL)
        return stream_reject_mapped(r->ctx, rec, "id", err);
    if (rc == FE_OK && info.unknown_status && !r->warned_status) {
        r->warned_status = true;
        log_warn(r->ctx->logctx,
                 "order %s has status %s, not a documented Flowwow status: mapped to status "
                 "group open (logged once per run)",
                 info.order_id, info.status ? info.status : "(none)");
    }
    stream_progress(r->ctx);
    return rc;
}

/* A page (or its retry) starts: the order is judged again from the page before. */
static void on_order_page_start(void *user)
{
    orders_run *r = user;
    if (r->paged) {
        r->paged->prev_id = r->paged->page_prev_id;
        r->paged->dir = r->paged->page_dir;
    }
}

/* orders/list of the shop in r->mopts, of the day r->mopts.order_date (none: the
 * whole list), limit records a page. */
static fe_rc orders_url(const orders_run *r, long page, long limit, buf *url, fe_err *err)
{
    if (!buf_puts(url, r->o->base) || !buf_puts(url, "/apiseller/orders/list?") ||
        !buf_put_query(url, "shopId", r->mopts.shop_id) ||
        (r->mopts.order_date && !buf_put_query(url, "createdDate", r->mopts.order_date)) ||
        !buf_put_query_long(url, "page", page) || !buf_put_query_long(url, "limit", limit))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

static fe_rc build_orders(void *user, long page, buf *url, buf *body, fe_err *err)
{
    orders_run *r = user;
    (void)body;
    return orders_url(r, page, r->o->orders_limit, url, err);
}

static fe_rc build_probe_one(void *user, long page, buf *url, buf *body, fe_err *err)
{
    (void)body;
    return orders_url(user, page, 1, url, err);
}

/* The page base of the whole list, from one request of one record: the page
 * below the configured base (0 for 1) must come back as the first page (a
 * 1-based server serves page 0 as page 1), the page above it (1 for 0) as
 * another one. first_id is the first id of the configured first page. */
static fe_rc probe_page_base(orders_run *r, const char *first_id, bool *ok, fe_err *err)
{
    int64_t rows, total;
    long base = r->o->page_base;
    flowwow_pager *pg =
        flowwow_pager_new(r->http, r->ctx ? r->ctx->stats : NULL, r->o->auth_header, NULL, NULL);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    flowwow_list l = {.method = "GET",
                      .what = "GET /apiseller/orders/list (page base probe)",
                      .records = "items",
                      .id_path = "id",
                      .page_base = base,
                      .limit = 1,
                      .build = build_probe_one,
                      .build_user = r};
    fe_err ignored;
    fe_rc rc = flowwow_pages_one(pg, &l, base == 1 ? 0 : 1, &rows, &total, &ignored);
    bool same = rc == FE_OK && rows > 0 && strcmp(flowwow_pager_first_id(pg), first_id) == 0;
    *ok = rc == FE_OK && rows > 0 && (base == 1 ? same : !same);
    flowwow_pager_free(pg);
    (void)err;
    return FE_OK;
}

/* After each page of a paged read: the first page must carry `total`, and the
 * list must take no more pages than per-day reads would; a list of more than one
 * page needs its page base confirmed (once a run). The order of the ids is then
 * remembered for the next page. */
static fe_rc paged_page_done(void *user, long page, int64_t rows, int64_t total, bool *stop,
                             fe_err *err)
{
    orders_run *r = user;
    paged_read *p = r->paged;
    if (page == r->o->page_base) {
        long pages = total < 0 ? 0 : (long)((total + r->o->orders_limit - 1) / r->o->orders_limit);
        if (total < 0)
            snprintf(p->unsafe, sizeof p->unsafe, "the list sends no `total`");
        else if (pages > p->max_pages)
            snprintf(p->unsafe, sizeof p->unsafe,
                     "%ld pages are more than the %ld days to read per day", pages, p->max_pages);
        if (!p->unsafe[0] && pages > 1 && r->base_ok < 0) {
            bool ok;
            FE_TRY(probe_page_base(r, p->first_id, &ok, err));
            r->base_ok = ok;
        }
        if (!p->unsafe[0] && pages > 1 && !r->base_ok)
            snprintf(p->unsafe, sizeof p->unsafe,
                     "page base unclear (page %d is not the page orders_page_base = %ld says)",
                     r->o->page_base == 1 ? 0 : 1, r->o->page_base);
        *stop = p->unsafe[0] != '\0';
    }
    (void)rows;
    p->page_prev_id = p->prev_id;
    p->page_dir = p->dir;
    return FE_OK;
}

/* The orders list as both reads page it (the whole list, or one day): what names
 * the request in messages. */
static flowwow_list orders_list(orders_run *r, const char *what)
{
    return (flowwow_list){.method = "GET",
                          .what = what,
                          .records = "items",
                          .id_path = "id",
                          .page_base = r->o->page_base,
                          .limit = r->o->orders_limit,
                          .build = build_orders,
                          .build_user = r};
}

/* Reads the whole list of shop sh without the day filter, keeping the orders
 * created in [lo, hi). *paged false (reason in why) when the list turned out
 * unsafe or dearer than max_pages: the caller reads that shop per day (rows
 * staged meanwhile are whole orders, which the per-day read stages again). */
static fe_rc orders_shop_paged(orders_run *r, flowwow_pager *pg, const fw_shop *sh,
                               const paged_read *tmpl, bool *paged, char *why, size_t whylen,
                               fe_err *err)
{
    char what[96];
    paged_read p = *tmpl;
    p.prev_id = p.page_prev_id = -1;
    p.dir = p.page_dir = 0;
    p.unsafe[0] = p.first_id[0] = '\0';
    r->paged = &p;
    r->mopts.order_date = NULL; /* the business date comes from createdDate */
    r->mopts.shop_id = sh->id;
    r->mopts.currency = sh->currency[0] ? sh->currency : NULL;
    snprintf(what, sizeof what, "GET /apiseller/orders/list shop %s (all days)", sh->id);
    flowwow_list l = orders_list(r, what);
    l.page_done = paged_page_done;
    fe_rc rc = flowwow_pages_read(pg, &l, NULL, err);
    r->paged = NULL;
    if (rc == FE_OK && !p.unsafe[0]) {
        *paged = true;
        return FE_OK;
    }
    /* The list's own refusals (a short or repeated page, a bad shape) and the
     * judge's say the list is not safe to page: per day then. */
    if (rc != FE_OK && rc != FE_EJSON && rc != FE_EABORT)
        return rc;
    *paged = false;
    /* Cut to fit (a log line's reason; core/log replaces a cut character). */
    const char *reason = p.unsafe[0] ? p.unsafe : err->msg;
    size_t n = strnlen(reason, whylen - 1);
    memcpy(why, reason, n);
    why[n] = '\0';
    return FE_OK;
}

/* The "day" of a stored cursor {"day":"YYYY-MM-DD"} as days; INT64_MIN when
 * there is none (first run, --full-refresh). */
static fe_rc cursor_day(const stream_ctx *ctx, int64_t *days, fe_err *err)
{
    char text[32];
    *days = INT64_MIN;
    if (!ctx->cursor || ctx->full_refresh)
        return FE_OK;
    fe_rc rc = stream_cursor_value(ctx->cursor, "day", text, sizeof text, err);
    if (rc != FE_OK || strlen(text) != 10 || !date_days(text, days))
        return fe_err_set(err, FE_EINVAL,
                          "stored cursor '%.60s' has no \"day\" date (run with --full-refresh)",
                          ctx->cursor);
    return FE_OK;
}

/* The first day to read: the day after the cursor, but at least rescan_days
 * before the last day; without a cursor start_date, else a year back. */
static fe_rc orders_first_day(const stream_ctx *ctx, const fw_opts *o, int64_t last, int64_t *first,
                              fe_err *err)
{
    int64_t cur;
    FE_TRY(cursor_day(ctx, &cur, err));
    if (cur != INT64_MIN) {
        *first = cur + 1 < last - o->rescan_days ? cur + 1 : last - o->rescan_days;
        return FE_OK;
    }
    if (o->start_date) {
        if (!date_days(o->start_date, first))
            return fe_err_set(err, FE_ECONFIG, "start_date '%.40s' is not a date (YYYY-MM-DD)",
                              o->start_date);
        return FE_OK;
    }
    *first = last - DEFAULT_BACKFILL_DAYS;
    return FE_OK;
}

/* [*lo, *hi): the unix seconds of local midnight of day first and of the day
 * after last in zone tz, as PostgreSQL (which the merge's order dates follow)
 * sees them. Called outside a checkpoint. */
static fe_rc window_seconds(loader *ld, const char *tz, int64_t first, int64_t last, int64_t *lo,
                            int64_t *hi, fe_err *err)
{
    char a[DATE_LEN], b[DATE_LEN];
    const char *params[3] = {days_text(first, a), days_text(last + 1, b), tz};
    PGresult *res = pg_query(loader_conn(ld),
                             "SELECT extract(epoch FROM $1::date::timestamp AT TIME ZONE $3)"
                             "::bigint, extract(epoch FROM $2::date::timestamp AT TIME ZONE $3)"
                             "::bigint",
                             3, params, err);
    if (!res)
        return FE_EPG;
    bool ok = PQntuples(res) == 1 && json_parse_count(PQgetvalue(res, 0, 0), lo) &&
              json_parse_count(PQgetvalue(res, 0, 1), hi);
    PQclear(res);
    return ok ? FE_OK
              : fe_err_set(err, FE_EPG,
                           "the days %s .. %s in time zone '%.60s': "
                           "unexpected answer",
                           a, b, tz);
}

/* Commits what is staged; the cursor moves to `done` (the last day read in full
 * and over) unless that is not past the stored one. */
static fe_rc orders_checkpoint(stream_ctx *ctx, int64_t done, int64_t *stored, bool again,
                               fe_err *err)
{
    char cursor[64], day[DATE_LEN];
    load_commit commit = {0};
    if (done != INT64_MIN && (*stored == INT64_MIN || done > *stored)) {
        snprintf(cursor, sizeof cursor, "{\"day\":\"%s\"}", days_text(done, day));
        commit.cursor = cursor;
        *stored = done;
    }
    return stream_checkpoint(ctx, &commit, again, err);
}

/* Reads one day for every shop not read whole (paged[i] false). */
static fe_rc orders_day(orders_run *r, flowwow_pager *pg, const shops_run *s, const bool *paged,
                        const char *day, fe_err *err)
{
    char what[128];
    for (size_t i = 0; i < s->n; i++) {
        if (paged[i])
            continue;
        r->mopts.order_date = day;
        r->mopts.shop_id = s->shops[i].id;
        r->mopts.currency = s->shops[i].currency[0] ? s->shops[i].currency : NULL;
        snprintf(what, sizeof what, "GET /apiseller/orders/list shop %s day %s", s->shops[i].id,
                 day);
        flowwow_list l = orders_list(r, what);
        FE_TRY(flowwow_pages_read(pg, &l, NULL, err));
    }
    return FE_OK;
}

/* Pages each shop's whole list (orders_shop_paged) into the open checkpoint;
 * paged[i] says which shops were read so. One info line says the method and why.
 * Checkpoints between shops (the cursor stays). */
static fe_rc orders_paged_phase(orders_run *r, flowwow_pager *pg, const shops_run *s,
                                const paged_read *tmpl, bool *paged, int64_t *stored, fe_err *err)
{
    stream_ctx *ctx = r->ctx;
    char why[240] = "", shop_why[200];
    size_t npaged = 0;
    for (size_t i = 0; i < s->n; i++) {
        FE_TRY(orders_shop_paged(r, pg, &s->shops[i], tmpl, &paged[i], shop_why, sizeof shop_why,
                                 err));
        if (paged[i])
            npaged++;
        else if (!why[0])
            snprintf(why, sizeof why, "shop %.24s: %.200s", s->shops[i].id, shop_why);
        if (!paged[i])
            log_info(ctx->logctx, "orders of shop %s: per day (probe failed: %s)", s->shops[i].id,
                     shop_why);
        if (r->o->checkpoint_records > 0 && loader_staged_rows(ctx->ld) >= r->o->checkpoint_records)
            FE_TRY(orders_checkpoint(ctx, INT64_MIN, stored, true, err));
    }
    if (npaged == s->n)
        log_info(ctx->logctx,
                 "orders: paged list for %zu shops (probed: total and order stable, page base "
                 "%ld)",
                 npaged, r->o->page_base);
    else
        log_info(ctx->logctx,
                 "orders: paged list for %zu of %zu shops, per day for the rest "
                 "(probe failed: %s)",
                 npaged, s->n, why);
    return FE_OK;
}

/* Days first..last (last = end_date, else today in the source's zone): the whole
 * lists of the shops the paged phase could read, then every other shop per day;
 * a checkpoint at a day boundary once checkpoint_records rows are staged. The
 * cursor never passes yesterday: today is not over. */
static fe_rc run_orders(stream_ctx *ctx, fe_err *err)
{
    fw_opts o;
    shops_run s = {0};
    orders_run r = {
        .ctx = ctx, .o = &o, .rows = loader_row_sink(ctx->ld), .base_ok = -1, .http = ctx->http};
    flowwow_pager *pg = NULL;
    bool *paged = NULL;
    int64_t today = 0, last = 0, first = 0, stored = INT64_MIN, done = INT64_MIN;
    char day[DATE_LEN], from[DATE_LEN];
    fe_rc rc;

    FE_TRY(opts_load(ctx->conf, &o, err));
    r.mopts.line_sum_is_total = o.line_sum_is_total;
    if ((rc = today_in_zone(ctx->ld, o.timezone, &today, err)) != FE_OK)
        goto done;
    last = today;
    if (o.end_date && !date_days(o.end_date, &last)) {
        rc = fe_err_set(err, FE_ECONFIG, "end_date '%.40s' is not a date", o.end_date);
        goto done;
    }
    if ((rc = orders_first_day(ctx, &o, last, &first, err)) != FE_OK ||
        (rc = cursor_day(ctx, &stored, err)) != FE_OK ||
        (rc = collect_shops(ctx, &o, &s, err)) != FE_OK)
        goto done;
    /* run --from/--to: exactly those days; the cursor only moves forward from a
     * stored day the window reaches back to (no gap, never backwards). */
    bool may_advance = true;
    if (ctx->window) {
        (void)date_days(ctx->window->from, &first);
        (void)date_days(ctx->window->to, &last);
        may_advance = stored != INT64_MIN && first <= stored + 1;
    }
    if (!(pg = flowwow_pager_new(ctx->http, ctx->stats, o.auth_header, on_order, &r)) ||
        !(paged = calloc(s.n + 1, sizeof *paged))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    flowwow_pager_on_page_start(pg, on_order_page_start);
    log_info(ctx->logctx, "reading orders created %s .. %s (%zu shops)", days_text(first, from),
             days_text(last, day), s.n);
    /* A read longer than the re-scan window (a first load, a backfill) pages the
     * whole lists, unless orders_method = per_day or run --from/--to names the days. */
    paged_read tmpl = {.max_pages = (long)(last - first + 1)};
    bool try_paged = o.orders_paged && !ctx->window && last - first + 1 > o.rescan_days + 1;
    if (!try_paged)
        log_info(ctx->logctx, "orders: per day (%s)",
                 !o.orders_paged ? "orders_method = per_day"
                 : ctx->window   ? "run --from/--to names the days"
                                 : "the re-scan window");
    if ((try_paged && (rc = window_seconds(ctx->ld, o.timezone, first, last, &tmpl.lo, &tmpl.hi,
                                           err)) != FE_OK) ||
        (rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (try_paged && (rc = orders_paged_phase(&r, pg, &s, &tmpl, paged, &stored, err)) != FE_OK))
        goto done;
    size_t nday = 0;
    for (size_t i = 0; i < s.n; i++)
        nday += !paged[i];
    for (int64_t d = first; d <= last && rc == FE_OK; d++) {
        if (nday && (rc = orders_day(&r, pg, &s, paged, days_text(d, day), err)) != FE_OK)
            break;
        if (d < today && may_advance)
            done = d;
        if (nday && d < last && o.checkpoint_records > 0 &&
            loader_staged_rows(ctx->ld) >= o.checkpoint_records)
            rc = orders_checkpoint(ctx, done, &stored, true, err);
    }
    if (rc == FE_OK)
        rc = orders_checkpoint(ctx, done, &stored, false, err);
done:
    free(paged);
    flowwow_pager_free(pg);
    shops_term(&s);
    opts_term(&o);
    return rc;
}

/* ---- source callbacks ------------------------------------------------------ */

/* One light authenticated request (the first shop of the first status), so that
 * a wrong token, host or base_url fails the source here, before the runner
 * registers it in the warehouse. (ping/check would not do: it needs no token.)
 * Only its status counts: the shops stream judges the list itself. */
static fe_rc fw_open(const source_config *conf, http_client *http, stream_stats *stats,
                     void **state, fe_err *err)
{
    fw_opts o;
    buf url, body;
    fe_rc rc;
    *state = NULL;
    FE_TRY(opts_load(conf, &o, err));
    buf_init(&url, 0);
    buf_init(&body, 0);
    const char *headers[3] = {o.auth_header, "Accept: application/json",
                              "Content-Type: application/json"};
    if (!buf_puts(&url, o.base) || !buf_puts(&url, "/apiseller/shops") ||
        !buf_puts(&body, "{\"status\":") || !buf_put_jsonstr(&body, o.statuses[0]) ||
        !buf_puts(&body, ",\"page\":0,\"limit\":1}")) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building a request");
    } else {
        http_request req = {.method = "POST",
                            .url = buf_cstr(&url),
                            .headers = headers,
                            .nheaders = 3,
                            .body = buf_cstr(&body),
                            .body_len = body.len,
                            .no_auth_on_redirect = true};
        rc = source_probe(http, stats, &req, "POST /apiseller/shops (first shop)", "token", err);
    }
    buf_term(&url);
    buf_term(&body);
    opts_term(&o);
    return rc;
}

static void fw_close(void *state)
{
    (void)state;
}

typedef struct {
    const fw_opts *o;
    const char *shop, *day;
} probe_req;

static fe_rc build_probe(void *user, long page, buf *url, buf *body, fe_err *err)
{
    probe_req *p = user;
    (void)body;
    if (!buf_puts(url, p->o->base) || !buf_puts(url, "/apiseller/orders/list?") ||
        !buf_put_query(url, "shopId", p->shop) || !buf_put_query(url, "createdDate", p->day) ||
        !buf_put_query_long(url, "page", page) || !buf_put_query_long(url, "limit", 1))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    return FE_OK;
}

/* Asks orders/list for page 0 and page 1 of one order each, for a shop and day
 * with at least two orders, and says which page base the answers suggest. */
static fe_rc check_page_base(http_client *http, const fw_opts *o, const shops_run *s, buf *out,
                             fe_err *err)
{
    char day[DATE_LEN], first0[32];
    int64_t rows, total;
    bool ok = true;
    fe_rc rc = FE_OK;
    flowwow_pager *pg = flowwow_pager_new(http, NULL, o->auth_header, NULL, NULL);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    days_text(time_now_us() / DAY_US - 1, day);
    for (size_t i = 0; i < s->n && rc == FE_OK; i++) {
        probe_req p = {.o = o, .shop = s->shops[i].id, .day = day};
        flowwow_list l = {.method = "GET",
                          .what = "GET /apiseller/orders/list",
                          .records = "items",
                          .id_path = "id",
                          .limit = 1,
                          .build = build_probe,
                          .build_user = &p};
        if ((rc = flowwow_pages_one(pg, &l, 0, &rows, &total, err)) != FE_OK || total < 2)
            continue;
        snprintf(first0, sizeof first0, "%s", flowwow_pager_first_id(pg));
        if ((rc = flowwow_pages_one(pg, &l, 1, &rows, &total, err)) != FE_OK)
            break;
        bool same = strcmp(first0, flowwow_pager_first_id(pg)) == 0;
        ok = buf_printf(out,
                        "  orders/list shop %s, %s: page 0 and page 1 give %s first order: the "
                        "server looks %s-based (orders_page_base = %ld)\n",
                        s->shops[i].id, day, same ? "the same" : "different", same ? "1" : "0",
                        o->page_base);
        break;
    }
    if (rc == FE_OK && ok && out->len == 0)
        ok = buf_printf(out,
                        "  orders/list page base: no shop has two orders on %s to probe it "
                        "(orders_page_base = %ld)\n",
                        day, o->page_base);
    flowwow_pager_free(pg);
    if (rc == FE_OK && !ok)
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    return rc;
}

static fe_rc on_probe_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    orders_run *r = user;
    bool keep;
    (void)which;
    if (!paged_judge(r->paged, rec, &keep))
        return fe_err_set(err, FE_EABORT, "%s", r->paged->unsafe);
    return FE_OK;
}

/* The probe of check reads one page only. */
static fe_rc probe_page_done(void *user, long page, int64_t rows, int64_t total, bool *stop,
                             fe_err *err)
{
    FE_TRY(paged_page_done(user, page, rows, total, stop, err));
    *stop = true;
    return FE_OK;
}

/* The line of `flowetl check` on how a long orders read goes: the first page of
 * the whole list of the first shop with two orders or more, judged as a run
 * judges it (a `total`, ids in one order, the page base). */
static fe_rc check_orders_method(http_client *http, const fw_opts *o, const shops_run *s, buf *out,
                                 fe_err *err)
{
    orders_run r = {.o = o, .base_ok = -1, .http = http};
    paged_read p = {.hi = INT64_MAX, .max_pages = LONG_MAX};
    char why[240] = "";
    size_t len0 = out->len;
    fe_rc rc = FE_OK;
    if (!o->orders_paged)
        return buf_puts(out, "  orders: per day (orders_method = per_day)\n")
                   ? FE_OK
                   : fe_err_set(err, FE_ENOMEM, "out of memory");
    flowwow_pager *pg = flowwow_pager_new(http, NULL, o->auth_header, on_probe_order, &r);
    if (!pg)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    flowwow_pager_on_page_start(pg, on_order_page_start);
    for (size_t i = 0; i < s->n && !why[0]; i++) {
        int64_t read = 0;
        p.prev_id = p.page_prev_id = -1;
        p.dir = p.page_dir = 0;
        p.unsafe[0] = p.first_id[0] = '\0';
        r.paged = &p;
        r.mopts.shop_id = s->shops[i].id;
        flowwow_list l = {.method = "GET",
                          .what = "GET /apiseller/orders/list (all days)",
                          .records = "items",
                          .id_path = "id",
                          .page_base = o->page_base,
                          .limit = o->orders_limit,
                          .build = build_orders,
                          .build_user = &r,
                          .page_done = probe_page_done};
        rc = flowwow_pages_read(pg, &l, &read, err);
        if (rc != FE_OK && rc != FE_EJSON && rc != FE_EABORT)
            break;
        if (rc != FE_OK || p.unsafe[0]) {
            snprintf(why, sizeof why, "shop %.24s: %.200s", s->shops[i].id,
                     p.unsafe[0] ? p.unsafe : err->msg);
            rc = FE_OK;
            break;
        }
        if (read < 2)
            continue;
        bool ok = r.base_ok > 0;
        if (r.base_ok < 0 && (rc = probe_page_base(&r, p.first_id, &ok, err)) != FE_OK)
            break;
        if (!ok)
            snprintf(why, sizeof why,
                     "page base unclear (page %d is not the page "
                     "orders_page_base = %ld says)",
                     o->page_base == 1 ? 0 : 1, o->page_base);
        else if (!buf_printf(out,
                             "  orders: paged list (probed on shop %s: total and order "
                             "stable, ids %s, page base %ld); per day for the last %ld "
                             "days of each run\n",
                             s->shops[i].id, p.dir > 0 ? "ascending" : "descending", o->page_base,
                             o->rescan_days))
            rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        break;
    }
    r.paged = NULL;
    flowwow_pager_free(pg);
    if (rc == FE_OK && why[0] && !buf_printf(out, "  orders: per day (probe failed: %s)\n", why))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    if (rc == FE_OK && out->len == len0 &&
        !buf_puts(out, "  orders: decided at run time (no shop has two orders to probe)\n"))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    return rc;
}

/* Lists the shops (per status), probes the page base of orders/list, and prints
 * the settings the API cannot confirm (line money, time zone, re-scan). */
static fe_rc fw_check(const source_config *conf, http_client *http, void *state, buf *out,
                      fe_err *err)
{
    fw_opts o;
    shops_run s = {0};
    buf probe;
    fe_rc rc;
    (void)state;

    FE_TRY(opts_load(conf, &o, err));
    s.o = &o;
    buf_init(&probe, 0);
    if ((rc = list_shops(http, NULL, &s, err)) != FE_OK)
        goto done;
    if (!buf_printf(out, "  token ok: %zu shops (statuses:", s.n)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < o.nstatuses; i++)
        if (!buf_printf(out, " %s", o.statuses[i]))
            rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    if (rc == FE_OK && ((rc = check_page_base(http, &o, &s, &probe, err)) != FE_OK ||
                        (rc = check_orders_method(http, &o, &s, &probe, err)) != FE_OK))
        goto done;
    if (!buf_puts(out, ")\n") || !buf_puts(out, buf_cstr(&probe)) ||
        !buf_printf(out, "  line money: %s (config `line_sum_is_total`)\n",
                    o.line_sum_is_total ? "line total = `sum`, unit price = `cost`"
                                        : "line total = count x `cost` less `discount` %") ||
        !buf_printf(out, "  timezone: %s (config `timezone`); orders re-scan %ld days\n",
                    o.timezone, o.rescan_days))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
done:
    buf_term(&probe);
    shops_term(&s);
    opts_term(&o);
    return rc;
}

static const cursor_field orders_fields[] = {
    {"day", CURSOR_DATE,
     "the last creation day (source time zone) read in full and over; the "
     "next run reads from the day after, but at least rescan_days back"},
};
static const cursor_spec orders_cursor = {
    "Orders are read per creation day; the cursor is the last finished day read.", orders_fields,
    1};

static const stream_def flowwow_streams[] = {
    {"shops", run_shops, NULL, NULL},
    {"products", run_products, NULL, NULL},
    {"orders", run_orders, &orders_cursor, "orders by creation day (createdDate)"},
};

/* ---- config keys (besides those of every type, core/config_keys.c) --------- */

/* Sorted by key. */
static const config_key flowwow_keys[] = {
    {"source", "base_url", CK_STRING, "https://apis.flowwow.com",
     "Seller API root (note the s in apis); set it for sandboxes and proxies.", false, NULL, 0, 0,
     CR_URL},
    {"source", "end_date", CK_STRING, NULL,
     "Last order creation day (YYYY-MM-DD) the orders stream reads; default: today in the "
     "source's time zone (set it to replay a past window).",
     false, NULL, 0, 0, CR_DATE},
    {"source", "line_sum_is_total", CK_BOOL, "true",
     "An order line's `sum` is its total after discount (unit price = `cost`); false: the line "
     "total is count x `cost` less the `discount` percent.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "orders_method", CK_STRING, "auto",
     "How a read longer than the re-scan window (a first load, a backfill) gets the orders: "
     "auto pages each shop's whole orders/list when a probe finds it safe (a `total`, ids in "
     "one order, the page base), else per day; per_day always reads one request per shop and "
     "day.",
     false, "auto|per_day", 0, 0, CR_NONE},
    {"source", "orders_page_base", CK_INT, "1",
     "Number of the first page of orders/list (0 or 1; undocumented, most clients send 1).", false,
     NULL, 0, 1, CR_NONE},
    {"source", "orders_page_size", CK_INT, "100",
     "Orders asked per orders/list page (1..100; 100 is the largest clients send).", false, NULL, 1,
     100, CR_NONE},
    {"source", "products_page_size", CK_INT, "1000",
     "Products asked per products page (1..1000; 1000 is the documented maximum).", false, NULL, 1,
     1000, CR_NONE},
    {"source", "rescan_days", CK_INT, "14",
     "Each orders run reads the orders created in this many days before the last day again, "
     "because their statuses change after creation.",
     false, NULL, 0, 366, CR_NONE},
    {"source", "shop_statuses", CK_LIST, "active,moderation,disabled",
     "Shop statuses whose shops are listed and read (active, moderation, disabled).", false, NULL,
     0, 0, CR_NONE},
    {"source", "token", CK_SECRET, NULL,
     "Seller API token (Bearer), issued by Flowwow support or in the seller cabinet.", true, NULL,
     0, 0, CR_NONE},
};

const source_def flowwow_source = {
    .type = {"flowwow", flowwow_keys, sizeof flowwow_keys / sizeof flowwow_keys[0]},
    .streams = flowwow_streams,
    .nstreams = (int)(sizeof flowwow_streams / sizeof flowwow_streams[0]),
    .base_url = base_url_into,
    .rate = source_rate_from_conf,
    .open = fw_open,
    .close = fw_close,
    .check = fw_check,
    .verify = flowwow_verify,
    .nverify = FLOWWOW_NVERIFY,
    .share_state = true, /* its open keeps no state: nothing to share or to open again */
};
