/* flowretail: the Flow Retail source: its config keys, its registration (source_def),
 * the streams, their cursors and checkpoints, open and close. The options are
 * flowretail_opts.c, `flowetl check` flowretail_check.c, the API client
 * flowretail_api.c. See flowretail.h and README.md ("Flow Retail"). */
#include "sources/flowretail/flowretail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/decimal.h"
#include "sources/flowretail/flowretail_map.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "sources/flowretail/flowretail_api.h"
#include "sources/flowretail/flowretail_check.h"
#include "sources/flowretail/flowretail_opts.h"

/* ---- per-stream context ------------------------------------------------------ */

typedef struct {
    stream_ctx *ctx;
    flowretail_api *api;
    flowretail_opts o;
    row_sink rows;
    flowretail_map_opts mopts;
    char snapshot_date[16];
    char captured_at[TIME_TEXT_MAX];
    long capped_to; /* the page size a list's silent cap imposed; 0 none seen */
} fr_run;

/* Today's date in the source's time zone (config `timezone`), as PostgreSQL
 * sees it: the same zone rules the merge uses for every other business date. */
static fe_rc snapshot_date(fr_run *r, fe_err *err)
{
    char date[11];
    FE_TRY(loader_local_date(r->ctx->ld, config_str(r->ctx->conf, "timezone"), date, err));
    snprintf(r->snapshot_date, sizeof r->snapshot_date, "%s", date);
    return FE_OK;
}

static fe_rc run_init(fr_run *r, stream_ctx *ctx, bool with_date, fe_err *err)
{
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->api = ctx->state;
    if (!r->api)
        return fe_err_set(err, FE_EINVAL, "flowretail: the source was not opened");
    FE_TRY(flowretail_opts_load(ctx->conf, &r->o, err));
    r->rows = loader_row_sink(ctx->ld);
    time_format_iso(time_now_us(), r->captured_at);
    if (with_date)
        FE_TRY(snapshot_date(r, err));
    r->mopts = (flowretail_map_opts){.currency = flowretail_api_currency(r->api),
                                     .amount_scale = r->o.amount_scale,
                                     .quantity_scale = r->o.quantity_scale,
                                     .snapshot_date = r->snapshot_date,
                                     .captured_at = r->captured_at};
    return FE_OK;
}

/* One info line when a list of the stream was capped silently (flowretail_list
 * adapted its page size to what the server served). */
static void log_page_cap(const fr_run *r)
{
    if (r->capped_to > 0)
        log_info(r->ctx->logctx,
                 "the server served %ld items a page of the %ld asked without an error (a "
                 "silent cap; paging.totalCount said more exist): read at %ld a page",
                 r->capped_to, r->o.page_size, r->capped_to);
}

/* A mapping result: rejects go to etl.reject, anything else through. */
static fe_rc mapped(fr_run *r, fe_rc rc, const json_rec *rec, const char *id_path, fe_err *err)
{
    if (rc == FE_EINVAL)
        rc = stream_reject_mapped(r->ctx, rec, id_path, err);
    stream_progress(r->ctx);
    return rc;
}

static fe_rc commit(fr_run *r, const char *cursor, unsigned full_read, fe_err *err)
{
    load_commit c = {.cursor = cursor, .full_read = full_read};
    return loader_commit(r->ctx->ld, &c, r->ctx->stats, err);
}

/* ---- cursors -------------------------------------------------------------- */

/* The time at a top-level key of the cursor document; INT64_MIN when absent. */
static fe_rc cursor_time(const char *cursor, const char *key, int64_t *at, fe_err *err)
{
    char value[64];

    *at = INT64_MIN;
    FE_TRY(stream_cursor_value(cursor, key, value, sizeof value, err));
    if (value[0] && !time_parse_iso(value, strlen(value), at))
        return fe_err_set(err, FE_EINVAL,
                          "stored cursor %s '%.40s' is not a date-time (run with --full-refresh)",
                          key, value);
    return FE_OK;
}

/* ---- products ---------------------------------------------------------------- */

typedef struct {
    fr_run *r;
    bool full;
    int64_t lower;  /* incremental: rows older than this end the read */
    int64_t max_at; /* newest lastModifiedAt seen; INT64_MIN: none */
    int64_t prev_at;
    bool older_seen, unsorted;
} products_run;

static fe_rc on_product(void *user, int which, const json_rec *rec, fe_err *err)
{
    products_run *p = user;
    const char *at_text = json_rec_str(rec, "lastModifiedAt");
    int64_t at = INT64_MIN;
    bool skipped;
    (void)which;
    if (at_text && !time_parse_iso(at_text, strlen(at_text), &at))
        at = INT64_MIN;
    if (at != INT64_MIN) {
        if (p->prev_at != INT64_MIN && at > p->prev_at)
            p->unsorted = true;
        p->prev_at = at;
        if (at > p->max_at)
            p->max_at = at;
        if (!p->full && at < p->lower) {
            p->older_seen = true;
            return FE_OK;
        }
    }
    fe_rc rc = flowretail_map_product(rec, &p->r->mopts, &p->r->rows, &skipped, err);
    return mapped(p->r, rc, rec, "productUid", err);
}

static void on_product_page_reset(void *user)
{
    products_run *p = user;
    p->prev_at = INT64_MIN;
}

static fe_rc on_products_page(void *user, int64_t rows, int64_t total, bool *stop, fe_err *err)
{
    products_run *p = user;
    (void)rows;
    (void)total;
    if (p->unsorted && !p->full)
        return fe_err_set(err, FE_EJSON,
                          "GET /products: the list is not in descending lastModifiedAt order "
                          "(does the server ignore sortBy?); run with --full-refresh");
    *stop = p->older_seen;
    return FE_OK;
}

/* Full when there is no cursor, with --full-refresh, or when the last full read
 * is older than full_read_every. */
static fe_rc products_mode(products_run *p, int64_t *last_full, fe_err *err)
{
    const stream_ctx *ctx = p->r->ctx;
    int64_t cur;
    FE_TRY(cursor_time(ctx->cursor, "lastModifiedAt", &cur, err));
    FE_TRY(cursor_time(ctx->cursor, "full_read_at", last_full, err));
    p->full = ctx->full_refresh || cur == INT64_MIN || *last_full == INT64_MIN ||
              time_now_us() - *last_full >= p->r->o.full_read_every_us;
    p->lower = cur == INT64_MIN ? INT64_MIN : cur - p->r->o.lookback_us;
    if (cur != INT64_MIN)
        p->max_at = cur;
    return FE_OK;
}

/* Newest first: an incremental read stops at the first page that reaches rows
 * older than the cursor minus the look-back. A full read stages every product and
 * marks the ones it no longer lists as deleted, unless paging.totalCount changed
 * while it read (a product removed mid-read shifts the rest one place up, so one
 * could be missed and wrongly marked). */
static fe_rc run_products(stream_ctx *ctx, fe_err *err)
{
    fr_run r;
    products_run p = {.r = &r, .max_at = INT64_MIN, .prev_at = INT64_MIN};
    int64_t last_full;
    bool changed = false;
    char cursor[160], max_at[TIME_TEXT_MAX], full_at[TIME_TEXT_MAX], lower[TIME_TEXT_MAX];

    FE_TRY(run_init(&r, ctx, false, err));
    FE_TRY(products_mode(&p, &last_full, err));
    if (p.full)
        log_info(ctx->logctx, "full read of products (deleted products are marked)");
    else
        log_info(ctx->logctx, "reading products with lastModifiedAt >= %s",
                 time_format_iso(p.lower, lower));
    flowretail_doc d = {.method = "GET",
                        .path = "/products",
                        .query = "sortBy=lastModifiedAt&sortDirection=DESC",
                        .on_record = on_product,
                        .on_reset = on_product_page_reset,
                        .user = &p,
                        .capped_to = &r.capped_to};
    FE_TRY(loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err));
    FE_TRY(flowretail_list(r.api, ctx->http, ctx->stats, &d, r.o.page_size, on_products_page,
                           &changed, err));
    log_page_cap(&r);
    if (p.full && changed)
        log_warn(ctx->logctx, "the product count changed while the list was read: deleted "
                              "products are not marked this time");
    if (p.full)
        last_full = time_now_us();
    if (p.max_at == INT64_MIN)
        return commit(&r, NULL, 0, err);
    snprintf(cursor, sizeof cursor, "{\"lastModifiedAt\":\"%s\",\"full_read_at\":\"%s\"}",
             time_format_iso(p.max_at, max_at), time_format_iso(last_full, full_at));
    return commit(&r, cursor, p.full && !changed ? 1u << STG_PRODUCT : 0, err);
}

/* ---- categories ---------------------------------------------------------------- */

typedef struct {
    char **uids;
    size_t n, cap;
} uid_list;

static bool uids_has(const uid_list *l, const char *uid)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->uids[i], uid) == 0)
            return true;
    return false;
}

/* Appends a copy of uid unless present. False when out of memory. */
static bool uids_add(uid_list *l, const char *uid)
{
    if (uids_has(l, uid))
        return true;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->uids, cap * sizeof *p);
        if (!p)
            return false;
        l->uids = p;
        l->cap = cap;
    }
    if (!(l->uids[l->n] = strdup(uid)))
        return false;
    l->n++;
    return true;
}

static void uids_term(uid_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->uids[i]);
    free(l->uids);
    *l = (uid_list){0};
}

/* A uid goes into a URL path as it is: the API allows [A-Za-z0-9-_] only. */
static bool uid_safe(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

/* The uid at path, checked on its true length (field_id: "abc\u0000zzz" is refused,
 * not read as "abc") and then by uid_safe. FE_EINVAL with the reason otherwise. */
static fe_rc read_uid(const json_rec *rec, const char *path, const char **uid, fe_err *err)
{
    FE_TRY(field_id(rec, path, uid, err));
    if (!uid_safe(*uid))
        return fe_err_set(err, FE_EINVAL, "%s is not a usable uid ([A-Za-z0-9_-] only)", path);
    return FE_OK;
}

typedef struct {
    fr_run *r;
    uid_list queue;     /* every category uid met, in walk order */
    const char *store;  /* storeUid of the request, or NULL */
    const char *uid;    /* the category being read */
    bool uid_seen;      /* its document names it (categoryUid) */
    bool first_pass;    /* the first request of this category: map it and its products */
    bool gone;          /* a listed category answered 404: the walk is not complete */
    bool skipped;       /* a category was left out (unusable uid): the walk is not complete */
    int64_t categories; /* read */
} cat_run;

static fe_rc enqueue_children(cat_run *c, const json_rec *rec, fe_err *err)
{
    for (int i = 0;; i++) {
        char path[64];
        snprintf(path, sizeof path, "categories.%d.categoryUid", i);
        const char *uid;
        fe_err why;
        if (!json_rec_get(rec, path))
            return FE_OK;
        if (read_uid(rec, path, &uid, &why) != FE_OK) {
            log_warn(c->r->ctx->logctx, "skipping a child category: %s", why.msg);
            c->skipped = true;
            continue;
        }
        if (!uids_add(&c->queue, uid))
            return fe_err_set(err, FE_ENOMEM, "out of memory walking categories");
    }
}

static fe_rc on_root_listed(void *user, int which, const json_rec *rec, fe_err *err)
{
    cat_run *c = user;
    const char *uid;
    (void)which;
    if (read_uid(rec, "categoryUid", &uid, err) != FE_OK) {
        c->skipped = true;
        return stream_reject_mapped(c->r->ctx, rec, "categoryUid", err);
    }
    if (!uids_add(&c->queue, uid))
        return fe_err_set(err, FE_ENOMEM, "out of memory walking categories");
    return FE_OK;
}

/* which 0: an embedded product; 1: the category itself (its root, products left out). */
static fe_rc on_category_doc(void *user, int which, const json_rec *rec, fe_err *err)
{
    cat_run *c = user;
    fr_run *r = c->r;
    bool skipped;
    fe_rc rc = FE_OK;
    if (which == 1) {
        const char *uid = field_id_or_null(rec, "categoryUid");
        /* The root closes last: the document's products are already mapped and
         * staged. Another document (a gateway's {}, another category's) is refused
         * by on_category_end, then read again or the stream fails (nothing
         * committed). Its staged products are ones the API sent under their own
         * uids, so they can keep a product from being marked deleted, never mark
         * one; only the category itself is held back here. Deferring the products
         * would mean holding a whole document: they come before its root closes. */
        c->uid_seen = uid && strcmp(uid, c->uid) == 0;
        if (!c->first_pass || !c->uid_seen)
            return FE_OK;
        c->categories++;
        rc = mapped(r, flowretail_map_category(rec, &r->mopts, &r->rows, err), rec, "categoryUid",
                    err);
        return rc == FE_OK ? enqueue_children(c, rec, err) : rc;
    }
    if (c->first_pass) {
        rc = flowretail_map_product(rec, &r->mopts, &r->rows, &skipped, err);
        if (rc != FE_OK) /* a rejected product gets no stock row either */
            return mapped(r, rc, rec, "productUid", err);
    }
    if (c->store)
        rc =
            mapped(r, flowretail_map_store_stock(rec, c->store, &r->mopts, &r->rows, &skipped, err),
                   rec, "productUid", err);
    return rc;
}

static void on_category_reset(void *user)
{
    cat_run *c = user;
    c->uid_seen = false;
}

/* A category document counts only when it is the category asked for, with its
 * `products` array; else it is retried like a 5xx (flowretail_doc.on_end). */
static fe_rc on_category_end(void *user, const json_stream *js, fe_err *err)
{
    cat_run *c = user;
    if (json_stream_shape(js, 0) != JSON_AS_ARRAY)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `products` array");
    if (!c->uid_seen)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: `categoryUid` is not %s",
                          c->uid);
    return FE_OK;
}

/* GET categories/{uid}, once per configured store (storeUid=...) or once without
 * a store. A category deleted since it was listed (404) is skipped. */
static fe_rc read_category(cat_run *c, const char *uid, fe_err *err)
{
    static const char *const paths[] = {"products[]", "."};
    fr_run *r = c->r;
    const source_config *conf = r->ctx->conf;
    char path[256];
    buf query;
    fe_rc rc = FE_OK;
    size_t nstores = 0;
    const char *item;
    size_t len;

    while (config_list_at(conf, "stores", nstores, &item, &len))
        nstores++;
    snprintf(path, sizeof path, "/categories/%s", uid);
    buf_init(&query, 0);
    for (size_t s = 0; s < (nstores ? nstores : 1) && rc == FE_OK; s++) {
        char store[128] = "";
        long status = 0;
        buf_reset(&query);
        if (nstores) {
            (void)config_list_at(conf, "stores", s, &item, &len);
            snprintf(store, sizeof store, "%.*s", (int)len, item);
            if (!buf_puts(&query, "storeUid=") || !buf_put_urlenc(&query, store)) {
                rc = fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
                break;
            }
        }
        c->store = nstores ? store : NULL;
        c->uid = uid;
        c->first_pass = s == 0;
        flowretail_doc d = {.method = "GET",
                            .path = path,
                            .query = buf_cstr(&query),
                            .paths = paths,
                            .npaths = 2,
                            .on_record = on_category_doc,
                            .on_reset = on_category_reset,
                            .on_end = on_category_end,
                            .user = c};
        rc = flowretail_fetch(r->api, r->ctx->http, r->ctx->stats, &d, &status, err);
        if (rc == FE_OK)
            r->ctx->stats->pages++;
        if (rc == FE_EHTTP && status == 404) {
            log_info(r->ctx->logctx, "category %s is gone (404): skipped", uid);
            c->gone = true;
            rc = FE_OK;
            break;
        }
    }
    c->store = NULL;
    buf_term(&query);
    return rc;
}

/* The roots (paged), then every category of the tree by uid: one checkpoint, a
 * full read of categories and of the products they list. */
static fe_rc run_categories(stream_ctx *ctx, fe_err *err)
{
    fr_run r;
    cat_run c = {.r = &r};
    char cursor[96];
    bool changed = false;
    fe_rc rc;

    FE_TRY(run_init(&r, ctx, true, err));
    flowretail_doc d = {.method = "GET",
                        .path = "/categories",
                        .on_record = on_root_listed,
                        .user = &c,
                        .capped_to = &r.capped_to};
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = flowretail_list(r.api, ctx->http, ctx->stats, &d, r.o.page_size, NULL, &changed,
                              err)) != FE_OK)
        goto done;
    log_page_cap(&r);
    for (size_t i = 0; i < c.queue.n && rc == FE_OK; i++)
        rc = read_category(&c, c.queue.uids[i], err);
    if (rc == FE_OK) {
        log_info(ctx->logctx, "%" PRId64 " categories walked", c.categories);
        bool partial = c.gone || c.skipped || changed;
        if (partial)
            log_warn(ctx->logctx, "%s: deleted categories and products are not marked this time",
                     c.gone      ? "a category disappeared during the walk"
                     : c.skipped ? "a category was left out of the walk"
                                 : "the root count changed while the roots were read");
        rc = commit(&r, stream_read_at_cursor(cursor, sizeof cursor),
                    partial ? 0 : (1u << STG_CATEGORY) | (1u << STG_PRODUCT), err);
    }
done:
    uids_term(&c.queue);
    return rc;
}

/* ---- packages ----------------------------------------------------------------- */

typedef struct {
    fr_run *r;
    uid_list packages;
    const char *parent;
    bool skipped; /* a package was left out (unusable uid): its recipe is unknown */
} pkg_run;

static fe_rc on_package_candidate(void *user, int which, const json_rec *rec, fe_err *err)
{
    pkg_run *p = user;
    const char *uid, *type = json_rec_str(rec, "productType");
    fe_err why;
    (void)which;
    if (!type || strcmp(type, "PACKAGE") != 0 || flowretail_excluded(rec))
        return FE_OK;
    if (read_uid(rec, "productUid", &uid, &why) != FE_OK) {
        log_warn(p->r->ctx->logctx, "skipping a package product: %s", why.msg);
        p->skipped = true;
        return FE_OK;
    }
    if (!uids_add(&p->packages, uid))
        return fe_err_set(err, FE_ENOMEM, "out of memory listing packages");
    return FE_OK;
}

static fe_rc on_slot(void *user, int which, const json_rec *rec, fe_err *err)
{
    pkg_run *p = user;
    (void)which;
    fe_rc rc = flowretail_map_slot(rec, p->parent, &p->r->mopts, &p->r->rows, err);
    return mapped(p->r, rc, rec, "productPackageSlotUid", err);
}

/* The slots (components embedded) of one package; a product deleted since it was
 * listed (404) has none. */
static fe_rc read_slots(pkg_run *p, const char *uid, fe_err *err)
{
    fr_run *r = p->r;
    char path[256];
    snprintf(path, sizeof path, "/products/%s/packages/slots", uid);
    p->parent = uid;
    flowretail_doc d = {
        .method = "GET", .path = path, .on_record = on_slot, .user = p, .capped_to = &r->capped_to};
    fe_rc rc =
        flowretail_list(r->api, r->ctx->http, r->ctx->stats, &d, r->o.page_size, NULL, NULL, err);
    if (rc == FE_EHTTP && flowretail_api_last_status(r->api) == 404) {
        log_info(r->ctx->logctx, "package %s is gone (404): skipped", uid);
        rc = FE_OK;
    }
    return rc;
}

/* Every product of type PACKAGE (from the product list), then its slots: one
 * checkpoint, a full read of the components (a package's staged components are
 * its whole recipe; packages no longer listed lose theirs). */
static fe_rc run_packages(stream_ctx *ctx, fe_err *err)
{
    fr_run r;
    pkg_run p = {.r = &r};
    char cursor[96];
    bool changed = false;
    fe_rc rc;

    FE_TRY(run_init(&r, ctx, false, err));
    flowretail_doc d = {.method = "GET",
                        .path = "/products",
                        .on_record = on_package_candidate,
                        .user = &p,
                        .capped_to = &r.capped_to};
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = flowretail_list(r.api, ctx->http, ctx->stats, &d, r.o.page_size, NULL, &changed,
                              err)) != FE_OK)
        goto done;
    log_page_cap(&r);
    log_info(ctx->logctx, "%zu package products", p.packages.n);
    if (changed || p.skipped)
        log_warn(ctx->logctx,
                 "%s: components of packages no longer listed are not marked "
                 "deleted this time",
                 changed ? "the product count changed while the list was read"
                         : "a package was left out");
    for (size_t i = 0; i < p.packages.n && rc == FE_OK; i++)
        rc = read_slots(&p, p.packages.uids[i], err);
    if (rc == FE_OK)
        rc = commit(&r, stream_read_at_cursor(cursor, sizeof cursor),
                    changed || p.skipped ? 0 : 1u << STG_COMPONENT, err);
done:
    uids_term(&p.packages);
    return rc;
}

/* ---- stock ---------------------------------------------------------------------- */

static fe_rc on_stock_item(void *user, int which, const json_rec *rec, fe_err *err)
{
    fr_run *r = user;
    (void)which;
    return mapped(r, flowretail_map_stock_item(rec, &r->mopts, &r->rows, err), rec, "productUid",
                  err);
}

/* {"storeUids":[...]} of the configured stores; {} without any (every store the
 * token may see). */
static fe_rc stock_body(const source_config *conf, buf *body, fe_err *err)
{
    const char *item;
    size_t len;
    bool ok = buf_putc(body, '{');
    for (size_t i = 0; ok && config_list_at(conf, "stores", i, &item, &len); i++) {
        char store[128];
        snprintf(store, sizeof store, "%.*s", (int)len, item);
        ok = buf_puts(body, i == 0 ? "\"storeUids\":[" : ",") && buf_put_jsonstr(body, store);
    }
    ok = ok && (body->len == 1 || buf_putc(body, ']')) && buf_putc(body, '}');
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory building the stock filter");
}

/* POST products/stock, paged: today's snapshot per product and warehouse. */
static fe_rc run_stock(stream_ctx *ctx, fe_err *err)
{
    fr_run r;
    buf body;
    char cursor[96];
    fe_rc rc;

    FE_TRY(run_init(&r, ctx, true, err));
    buf_init(&body, 0);
    if ((rc = stock_body(ctx->conf, &body, err)) != FE_OK)
        goto done;
    flowretail_doc d = {.method = "POST",
                        .path = "/products/stock",
                        .body = buf_cstr(&body),
                        .on_record = on_stock_item,
                        .user = &r,
                        .capped_to = &r.capped_to};
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) == FE_OK &&
        (rc = flowretail_list(r.api, ctx->http, ctx->stats, &d, r.o.page_size, NULL, NULL, err)) ==
            FE_OK) {
        log_page_cap(&r);
        rc = commit(&r, stream_read_at_cursor(cursor, sizeof cursor), 0, err);
    }
done:
    buf_term(&body);
    return rc;
}

/* ---- source callbacks ------------------------------------------------------ */

static fe_rc fr_base_url(const source_config *conf, buf *out, fe_err *err)
{
    return source_base_url(conf, FLOWRETAIL_DEFAULT_BASE, NULL, out, err);
}

/* dim_source.account: the tenant uid. */
static fe_rc fr_account(const source_config *conf, buf *out, fe_err *err)
{
    const char *t = config_str(conf, "tenant");
    if (!t || !*t)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] tenant is required", conf->name);
    if (!buf_puts(out, t))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return FE_OK;
}

/* Reads the tenant (currency, time zone) for the whole run; being an
 * authenticated request, it also proves the token, host and tenant before the
 * runner registers the source in the warehouse. */
static fe_rc fr_open(const source_config *conf, http_client *http, stream_stats *stats,
                     void **state, fe_err *err)
{
    flowretail_api *a;
    char ctx[160];
    *state = NULL;
    FE_TRY(flowretail_api_new(conf, &a, err));
    fe_rc rc = flowretail_api_read_tenant(a, http, stats, err);
    if (rc != FE_OK) {
        flowretail_api_free(a);
        return rc;
    }
    snprintf(ctx, sizeof ctx, "%s", conf->name);
    if (!flowretail_api_currency(a))
        log_warn(ctx, "the tenant reports no currency: list prices are stored without one");
    if (!flowretail_timezone_configured(conf))
        log_info(ctx,
                 "config `timezone` is unset: business dates use UTC; the tenant reports "
                 "time zone '%s' (set timezone = that to use it)",
                 flowretail_api_timezone(a));
    *state = a;
    return FE_OK;
}

static void fr_close(void *state)
{
    flowretail_api_free(state);
}

static const cursor_field products_fields[] = {
    {"lastModifiedAt", CURSOR_TIME,
     "the highest lastModifiedAt of the products read; the next "
     "run reads from it minus the look-back"},
    {"full_read_at", CURSOR_TIME, "when the whole list was last read (full_read_every)"},
};
static const cursor_spec products_cursor = {
    "Incremental by modification time, with a full read of the list every full_read_every.",
    products_fields, 2};

static const stream_def flowretail_streams[] = {
    {"products", run_products, &products_cursor, NULL},
    {"categories", run_categories, NULL, NULL},
    {"packages", run_packages, NULL, NULL},
    {"stock", run_stock, NULL, NULL},
};

/* ---- config keys (besides those of every type, core/config_keys.c) --------- */

/* Sorted by key. */
static const config_key flowretail_keys[] = {
    {"source", "amount_scale", CK_INT, "100",
     "Minor units per currency unit of Flow Retail amounts (prices arrive as integers, 19900 = "
     "199.00); check it with `flowetl check`.",
     false, NULL, 1, 10000, CR_NONE},
    {"source", "base_url", CK_STRING, "https://api.flowretail.com/v2",
     "Flow Retail API root (staging: https://api.stage.flowretail.com/v2).", false, NULL, 0, 0,
     CR_URL},
    {"source", "full_read_every", CK_DURATION, "1d",
     "The products stream reads the whole list (and marks deleted products) when its last full "
     "read is older than this; 0 = every run.",
     false, NULL, 0, 366 * CONFIG_DAY, CR_NONE},
    {"source", "page_size", CK_INT, "1000",
     "Records per page, 1 to 1000 (the largest size seen in use; not documented).", false, NULL, 1,
     1000, CR_NONE},
    {"source", "quantity_scale", CK_INT, "100",
     "API quantity units per unit of Flow Retail quantities (stock arrives in hundredths, 250 = "
     "2.5); check it with `flowetl check`.",
     false, NULL, 1, 10000, CR_NONE},
    {"source", "stores", CK_LIST, NULL,
     "Comma list of store uids whose prices and stock are read (categories once per store, stock "
     "filtered to them); empty = no store prices, stock of every store the token sees.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "tenant", CK_STRING, NULL,
     "Tenant uid (the {tenantUid} of every path); it becomes dim_source.account.", true, NULL, 0, 0,
     CR_NONE},
    {"source", "token", CK_SECRET, NULL,
     "Integration token of a Flow Retail API user (sent as a bearer token).", true, NULL, 0, 0,
     CR_NONE},
};

static const char *const identity_keys[] = {"tenant", NULL};

const source_def flowretail_source = {
    .type = {"flowretail", flowretail_keys, sizeof flowretail_keys / sizeof flowretail_keys[0]},
    .streams = flowretail_streams,
    .nstreams = (int)(sizeof flowretail_streams / sizeof flowretail_streams[0]),
    .base_url = fr_base_url,
    .identity_keys = identity_keys,
    .account = fr_account,
    .rate = source_rate_from_conf,
    .open = fr_open,
    .close = fr_close,
    .check = flowretail_check,
    .describe_methods = flowretail_describe_methods,
    .verify = flowretail_verify,
    .nverify = FLOWRETAIL_NVERIFY,
};
