/* posiflora: the Posiflora source: its config keys, its registration (source_def),
 * the dimension streams and the source callbacks (open, check). The orders stream is
 * posiflora_orders_stream.c, the options posiflora_opts.c; lists are paged by
 * posiflora_pages.c; records are turned into rows by posiflora_map.c; the session
 * lives in posiflora_session.c. See posiflora.h and README.md ("Streams and
 * cursors"). */
#include "sources/posiflora/posiflora.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "transform/field.h"
#include "sources/posiflora/posiflora_map.h"
#include "core/timeutil.h"
#include "sources/posiflora/posiflora_pages.h"
#include "sources/posiflora/posiflora_session.h"
#include "sources/posiflora/posiflora_opts.h"
#include "sources/posiflora/posiflora_orders_stream.h"

/* ---- dimension streams ------------------------------------------------------ */

typedef fe_rc (*map_fn)(const json_rec *rec, const posiflora_map_opts *o, const row_sink *out,
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
    row_sink rows;
    posiflora_map_opts mopts;
    int64_t max_revision; /* highest attributes.revision read (0: none) */
} dim_run;

static fe_rc on_dim_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    dim_run *d = user;
    map_fn fn = d->spec->map_data;
    fe_rc rc;
    if (which == POSIFLORA_REC_INCLUDED) {
        fn = d->spec->map_included;
        const char *type = json_rec_str(rec, "type");
        if (!fn || !type || strcmp(type, d->spec->included_type) != 0)
            return FE_OK;
    }
    if (which != POSIFLORA_REC_INCLUDED) {
        int64_t revision;
        if (json_parse_count(json_rec_str(rec, "attributes.revision"), &revision) &&
            revision > d->max_revision)
            d->max_revision = revision;
    }
    rc = fn(rec, &d->mopts, &d->rows, err);
    if (rc == FE_EINVAL)
        rc = stream_reject_mapped(d->ctx, rec, "id", err);
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
    FE_TRY(stream_cursor_value(ctx->cursor, "revision", out, size, err));
    if (out[0] && !json_parse_count(out, &v))
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
    posiflora_opts o;
    posiflora_session *sess;
    posiflora_pager *pg = NULL;
    char revision[24], cursor[96];
    dim_run d = {.ctx = ctx, .spec = spec};
    load_commit commit = {0};
    fe_rc rc;

    FE_TRY(posiflora_stream_session(ctx, &sess, err));
    FE_TRY(posiflora_opts_load(ctx->conf, &o, err));
    d.rows = loader_row_sink(ctx->ld);
    d.mopts.currency = o.currency;
    posiflora_list_query q = {
        .base = o.base, .path = spec->path, .page_size = o.page_size, .include = spec->include};
    if (spec->by_revision &&
        (rc = revision_from_cursor(ctx, revision, sizeof revision, err)) != FE_OK)
        goto done;
    if (spec->by_revision && revision[0]) {
        q.filter_name = "filter[revision]";
        q.filter_value = revision;
    }
    if (!(pg = posiflora_pager_new(ctx->http, ctx->stats, sess, on_dim_record, NULL, &d))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
        goto done;
    }
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = posiflora_pages_read(pg, &q, NULL, err)) != FE_OK)
        goto done;
    const char *first_revision = posiflora_pager_first_revision(pg);
    if (!spec->by_revision) {
        commit.cursor = stream_read_at_cursor(cursor, sizeof cursor);
        commit.full_read = posiflora_pager_total_changed(pg) ? 0 : spec->full_read;
        if (!commit.full_read)
            log_warn(ctx->logctx, "meta.total changed while the list was read: deleted "
                                  "members are not marked this time");
    } else if (first_revision[0]) {
        snprintf(cursor, sizeof cursor, "{\"revision\":%s}", first_revision);
        commit.cursor = cursor;
    } else if (d.max_revision > 0) {
        /* The reference documents no meta.revision on some lists (customers): the
         * highest revision read is the next lower bound. A record rewritten while
         * we paged gets a higher revision, so it is read next time either way. */
        snprintf(cursor, sizeof cursor, "{\"revision\":%" PRId64 "}", d.max_revision);
        commit.cursor = cursor;
        log_info(ctx->logctx,
                 "no meta.revision on the first page: cursor is the highest record "
                 "revision read (%" PRId64 ")",
                 d.max_revision);
    } else if (ctx->stats->records > 0) {
        log_warn(ctx->logctx, "neither meta.revision nor record revisions: cursor not advanced, "
                              "the next run reads the same range again");
    }
    rc = loader_commit(ctx->ld, &commit, ctx->stats, err);
done:
    posiflora_pager_free(pg);
    posiflora_opts_term(&o);
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

/* ---- source callbacks ------------------------------------------------------ */

/* A session for conf (not logged in yet). */
static fe_rc session_for(const source_config *conf, posiflora_session **out, fe_err *err)
{
    const char *user = config_str(conf, "username"), *pass = config_str(conf, "password");
    int64_t margin;
    buf base;
    fe_rc rc;

    *out = NULL;
    if (!user || !*user || !pass || !*pass)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] username and password are required",
                          conf->name);
    if (!config_duration(conf, "refresh_margin", &margin))
        margin = 60 * INT64_C(1000000);
    buf_init(&base, 0);
    if ((rc = posiflora_base_url_into(conf, &base, err)) == FE_OK &&
        !(*out = posiflora_session_new(buf_cstr(&base), user, pass, margin, conf->name)))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory creating a session");
    buf_term(&base);
    return rc;
}

static fe_rc posi_open(const source_config *conf, http_client *http, stream_stats *stats,
                       void **state, fe_err *err)
{
    posiflora_session *s;
    *state = NULL;
    FE_TRY(session_for(conf, &s, err));
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

static bool append_total(buf *out, const char *what, int64_t total, const char *note)
{
    if (total < 0)
        return buf_printf(out, "  %s: unknown (no meta.total in the answer)\n", what);
    return buf_printf(out, "  %s: %" PRId64 "%s\n", what, total, note);
}

/* Logs in, counts stores and orders, and prints the settings the API cannot
 * confirm (currency, time zone, the orders cursor) for the user to check. */
static fe_rc posi_check(const source_config *conf, http_client *http, void *state, buf *out,
                        fe_err *err)
{
    posiflora_session *own = NULL, *sess = state;
    posiflora_pager *pg = NULL;
    posiflora_opts o;
    char expires[TIME_TEXT_MAX];
    int64_t stores = -1, orders = -1;
    char probe[256];
    bool ok;
    fe_rc rc;

    FE_TRY(posiflora_opts_load(conf, &o, err));
    if (!sess && (rc = session_for(conf, &own, err)) != FE_OK)
        goto done;
    if (!sess)
        sess = own;
    if ((rc = posiflora_session_ensure(sess, http, NULL, err)) != FE_OK)
        goto done;
    if (!(pg = posiflora_pager_new(http, NULL, sess, NULL, NULL, NULL))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    if (!buf_printf(out, "  login ok (token expires %s)\n",
                    time_format_iso(posiflora_session_expire_at(sess), expires))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = posiflora_pager_count(pg, o.base, "/v1/stores", &stores, err)) != FE_OK ||
        (rc = posiflora_pager_count(pg, o.base, "/v1/orders", &orders, err)) != FE_OK)
        goto done;
    const char *tz = config_str(conf, "timezone");
    ok = append_total(out, "stores", stores, "") &&
         append_total(out, "orders", orders, " (meta.total)") &&
         buf_printf(out,
                    "  currency: %s (config `currency`: Posiflora sends none; confirm it is "
                    "the account's)\n",
                    o.currency) &&
         buf_printf(out, "  timezone: %s (config `timezone`)\n", tz && *tz ? tz : "UTC") &&
         buf_printf(out, "  orders cursor: %s, %s, look-back %" PRId64 " s\n", o.cursor_field,
                    o.sort ? "sorted, keyset paging (checkpoints during the read)"
                           : "unsorted, page numbers (one checkpoint)",
                    o.lookback_us / 1000000);
    if (!ok)
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    else
        rc = posiflora_orders_probe(http, sess, o.base, probe, sizeof probe, err);
done:
    posiflora_pager_free(pg);
    posiflora_session_free(own);
    posiflora_opts_term(&o);
    return rc;
}

static const cursor_field revision_fields[] = {
    {"revision", CURSOR_INT,
     "the list's revision when it was last read; the next run asks for "
     "records with filter[revision] >= it"},
};
static const cursor_spec revision_cursor = {
    "Incremental by revision: records changed since the stored revision are read.", revision_fields,
    1};

static const cursor_field orders_fields[] = {
    {"updatedAt", CURSOR_TIME,
     "the highest updatedAt of the orders loaded (orders_cursor_field "
     "= updatedAt); the next run reads from it minus the look-back"},
    {"modifiedAt", CURSOR_TIME, "the same for orders_cursor_field = modifiedAt"},
};
static const cursor_spec orders_cursor = {
    "Incremental by the orders' update time: every order changed at or after the stored time "
    "(less a look-back) is read again.",
    orders_fields, 2};

/* The orders method the probe of posi_check (or of a run's first page) found. */
static fe_rc posi_describe_methods(const source_config *conf, void *state, buf *out, fe_err *err)
{
    const char *method = state ? posiflora_session_orders_method(state) : "";
    (void)conf;
    if (!buf_printf(out, "  orders: %s\n", method[0] ? method : "not probed"))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return FE_OK;
}

static const stream_def posiflora_streams[] = {
    {"stores", run_stores, NULL, NULL},
    {"categories", run_categories, NULL, NULL},
    {"inventory_items", run_inventory_items, NULL, NULL},
    {"bouquets", run_bouquets, &revision_cursor, NULL},
    {"customers", run_customers, &revision_cursor, NULL},
    {"orders", posiflora_run_orders, &orders_cursor, "orders by their update time (updatedAt)"},
};

/* ---- config keys (besides those of every type, core/config_keys.c) --------- */

/* Sorted by key. */
static const config_key posiflora_keys[] = {
    {"source", "base_url", CK_STRING, NULL,
     "Account API root, e.g. https://myshop.posiflora.com/api; required because every Posiflora "
     "account has its own host.",
     true, NULL, 0, 0, CR_URL},
    {"source", "currency", CK_STRING, "RUB",
     "ISO 4217 code stored with every amount (Posiflora sends no currency).", false, NULL, 0, 0,
     CR_CURRENCY},
    {"source", "orders_cursor_field", CK_STRING, "updatedAt",
     "Order timestamp the incremental orders read filters and sorts on: updatedAt or modifiedAt.",
     false, "updatedAt|modifiedAt", 0, 0, CR_NONE},
    {"source", "orders_sort", CK_BOOL, "true",
     "Send sort=<cursor field> and read orders by keyset paging: no order is skipped when "
     "orders change during the read, and checkpoints are committed as it goes. false: page "
     "numbers in the server's order, one checkpoint at the end.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "page_size", CK_INT, "100",
     "Records per page, 1 to 100 (the API answers 422 to more).", false, NULL, 1, 100, CR_NONE},
    {"source", "password", CK_SECRET, NULL, "Password of the Posiflora API user.", true, NULL, 0, 0,
     CR_NONE},
    {"source", "refresh_margin", CK_DURATION, "60s",
     "Refresh the session this long before its access token expires.", false, NULL, 0, CONFIG_DAY,
     CR_NONE},
    {"source", "username", CK_STRING, NULL, "Posiflora API user name.", true, NULL, 0, 0, CR_NONE},
};

const source_def posiflora_source = {
    .type = {"posiflora", posiflora_keys, sizeof posiflora_keys / sizeof posiflora_keys[0]},
    .streams = posiflora_streams,
    .nstreams = (int)(sizeof posiflora_streams / sizeof posiflora_streams[0]),
    .base_url = posiflora_base_url_into,
    .rate = source_rate_from_conf,
    .open = posi_open,
    .close = posi_close,
    .check = posi_check,
    .describe_methods = posi_describe_methods,
    .verify = posiflora_verify,
    .nverify = POSIFLORA_NVERIFY,
};
