/* flowwow: streams, requests, cursors and checkpoints of the Flowwow source.
 * See flowwow.h and README.md ("Flowwow"). */
#include "sources/flowwow/flowwow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
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
    long page_base; /* of orders/list */
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
        !buf_printf(body, "{\"page\":%ld,\"limit\":%d}", page, FLOWWOW_PRODUCTS_LIMIT))
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
                          .limit = FLOWWOW_PRODUCTS_LIMIT,
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

typedef struct {
    stream_ctx *ctx;
    const fw_opts *o;
    row_sink rows;
    flowwow_order_opts mopts;
    bool warned_status;
} orders_run;

static fe_rc on_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    orders_run *r = user;
    (void)which; /* one records array per list */
    flowwow_order_info info;
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

static fe_rc build_orders(void *user, long page, buf *url, buf *body, fe_err *err)
{
    orders_run *r = user;
    (void)body;
    if (!buf_puts(url, r->o->base) || !buf_puts(url, "/apiseller/orders/list?") ||
        !buf_put_query(url, "shopId", r->mopts.shop_id) ||
        !buf_put_query(url, "createdDate", r->mopts.order_date) ||
        !buf_put_query_long(url, "page", page) ||
        !buf_put_query_long(url, "limit", FLOWWOW_ORDERS_LIMIT))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
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

/* Reads one day for every shop. */
static fe_rc orders_day(orders_run *r, flowwow_pager *pg, const shops_run *s, const char *day,
                        fe_err *err)
{
    char what[128];
    r->mopts.order_date = day;
    for (size_t i = 0; i < s->n; i++) {
        r->mopts.shop_id = s->shops[i].id;
        r->mopts.currency = s->shops[i].currency[0] ? s->shops[i].currency : NULL;
        snprintf(what, sizeof what, "GET /apiseller/orders/list shop %s day %s", s->shops[i].id,
                 day);
        flowwow_list l = {.method = "GET",
                          .what = what,
                          .records = "items",
                          .id_path = "id",
                          .page_base = r->o->page_base,
                          .limit = FLOWWOW_ORDERS_LIMIT,
                          .build = build_orders,
                          .build_user = r};
        FE_TRY(flowwow_pages_read(pg, &l, NULL, err));
    }
    return FE_OK;
}

/* Days first..last (last = end_date, else today in the source's zone), every shop
 * per day; a checkpoint at a day boundary once checkpoint_records rows are staged.
 * The cursor never passes yesterday: today is not over. */
static fe_rc run_orders(stream_ctx *ctx, fe_err *err)
{
    fw_opts o;
    shops_run s = {0};
    orders_run r = {.ctx = ctx, .o = &o, .rows = loader_row_sink(ctx->ld)};
    flowwow_pager *pg = NULL;
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
    if (!(pg = flowwow_pager_new(ctx->http, ctx->stats, o.auth_header, on_order, &r))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    log_info(ctx->logctx, "reading orders created %s .. %s (%zu shops)", days_text(first, from),
             days_text(last, day), s.n);
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK)
        goto done;
    for (int64_t d = first; d <= last && rc == FE_OK; d++) {
        if ((rc = orders_day(&r, pg, &s, days_text(d, day), err)) != FE_OK)
            break;
        if (d < today && may_advance)
            done = d;
        if (d < last && o.checkpoint_records > 0 &&
            loader_staged_rows(ctx->ld) >= o.checkpoint_records)
            rc = orders_checkpoint(ctx, done, &stored, true, err);
    }
    if (rc == FE_OK)
        rc = orders_checkpoint(ctx, done, &stored, false, err);
done:
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
    if (rc == FE_OK && (rc = check_page_base(http, &o, &s, &probe, err)) != FE_OK)
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
    {"source", "orders_page_base", CK_INT, "1",
     "Number of the first page of orders/list (0 or 1; undocumented, most clients send 1).", false,
     NULL, 0, 1, CR_NONE},
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
};
