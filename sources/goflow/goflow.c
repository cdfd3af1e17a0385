/* goflow: streams, requests, cursors and checkpoints of the Goflow source. Lists
 * are read by goflow_api.c, the inventory reports by goflow_report.c, records
 * become rows in sources/goflow/goflow_map.c. See goflow.h and README.md ("Goflow"). */
#include "sources/goflow/goflow.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sources/goflow/goflow_map.h"
#include "core/timeutil.h"
#include "transform/field.h"
#include "sources/goflow/goflow_api.h"
#include "sources/goflow/goflow_report.h"

/* ---- dimension streams: full reads, one checkpoint --------------------------- */

typedef fe_rc (*dim_map_fn)(const json_rec *rec, const row_sink *out, fe_err *err);

typedef struct {
    stream_ctx *ctx;
    dim_map_fn map;
    row_sink rows;
} dim_run;

static fe_rc on_dim_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    dim_run *d = user;
    fe_rc rc = d->map(rec, &d->rows, err);
    if (rc == FE_EINVAL)
        rc = stream_reject_mapped(d->ctx, rec, "id", err);
    return rc;
}

static fe_rc run_dim(stream_ctx *ctx, const char *path, dim_map_fn map, unsigned full_read,
                     fe_err *err)
{
    goflow_opts o;
    dim_run d = {.ctx = ctx, .map = map, .rows = loader_row_sink(ctx->ld)};
    char cursor[96];
    buf url;
    fe_rc rc;

    FE_TRY(goflow_opts_load(ctx->conf, &o, err));
    buf_init(&url, 0);
    if (!buf_printf(&url, "%s%s", o.base, path)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    load_commit commit = {.cursor = stream_read_at_cursor(cursor, sizeof cursor),
                          .full_read = full_read};
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = goflow_list_read(ctx, &o, buf_cstr(&url), on_dim_record, NULL, &d, err)) != FE_OK)
        goto done;
    rc = loader_commit(ctx->ld, &commit, ctx->stats, err);
done:
    buf_term(&url);
    goflow_opts_term(&o);
    return rc;
}

static fe_rc run_stores(stream_ctx *ctx, fe_err *err)
{
    return run_dim(ctx, "/stores?sort=id&sort_direction=asc", goflow_map_store, 1u << STG_STORE,
                   err);
}

static fe_rc run_warehouses(stream_ctx *ctx, fe_err *err)
{
    return run_dim(ctx, "/warehouses", goflow_map_warehouse, 1u << STG_STORE, err);
}

static fe_rc run_products(stream_ctx *ctx, fe_err *err)
{
    return run_dim(ctx, "/products?sort=id&sort_direction=asc", goflow_map_product,
                   (1u << STG_PRODUCT) | (1u << STG_COMPONENT), err);
}

/* ---- orders ------------------------------------------------------------------ */

typedef struct {
    stream_ctx *ctx;
    const goflow_opts *o;
    row_sink rows;
    goflow_map_opts mopts;
    int64_t max_at;  /* highest status_updated_at loaded by the cursor pass; INT64_MIN none */
    bool rescanning; /* the date re-scan pass: the cursor does not move */
    bool warned_status;
    int64_t splits;
} orders_run;

static fe_rc on_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    orders_run *run = user;
    goflow_order_info info;
    const char *at = json_rec_str(rec, "status_updated_at");
    int64_t us;
    fe_rc rc = goflow_map_order(rec, &run->mopts, &run->rows, &info, err);
    if (rc == FE_EINVAL)
        return stream_reject_mapped(run->ctx, rec, "id", err);
    if (rc != FE_OK)
        return rc;
    if (info.unknown_status && !run->warned_status) {
        run->warned_status = true;
        log_warn(run->ctx->logctx,
                 "order %s has status '%s', not a documented Goflow status: mapped to status "
                 "group open (logged once per run)",
                 info.order_id, info.status ? info.status : "(none)");
    }
    if (info.split_from)
        run->splits++;
    if (!run->rescanning && at && time_parse_iso(at, strlen(at), &us) && us > run->max_at)
        run->max_at = us;
    stream_progress(run->ctx);
    return FE_OK;
}

/* Commits what is staged, with the cursor at max_at when one is known. */
static fe_rc orders_checkpoint(orders_run *run, bool again, fe_err *err)
{
    stream_ctx *ctx = run->ctx;
    char cursor[96], at[TIME_TEXT_MAX];
    load_commit commit = {0};
    if (run->max_at != INT64_MIN) {
        snprintf(cursor, sizeof cursor, "{\"status_updated_at\":\"%s\"}",
                 time_format_iso(run->max_at, at));
        commit.cursor = cursor;
    }
    return stream_checkpoint(ctx, &commit, again, err);
}

/* Pages of the cursor pass arrive sorted by status_updated_at ascending, so every
 * value below the highest one read is complete: a checkpoint may store it (the
 * bound is inclusive, so ties at that value are read again next time). */
static fe_rc on_orders_page(void *user, fe_err *err)
{
    orders_run *run = user;
    if (!run->rescanning && run->o->checkpoint_records > 0 &&
        loader_staged_rows(run->ctx->ld) >= run->o->checkpoint_records)
        return orders_checkpoint(run, true, err);
    return FE_OK;
}

/* The stored cursor minus the look-back, else start_date, else INT64_MIN. */
static fe_rc orders_lower_bound(const stream_ctx *ctx, const goflow_opts *o, int64_t *lower,
                                fe_err *err)
{
    char value[64];
    *lower = INT64_MIN;
    if (ctx->cursor && !ctx->full_refresh) {
        FE_TRY(stream_cursor_value(ctx->cursor, "status_updated_at", value, sizeof value, err));
        if (value[0]) {
            if (!time_parse_iso(value, strlen(value), lower))
                return fe_err_set(err, FE_EINVAL,
                                  "stored cursor value '%.40s' is not a date-time "
                                  "(run with --full-refresh)",
                                  value);
            *lower -= o->lookback_us;
            return FE_OK;
        }
    }
    if (o->start_date && !time_parse_iso(o->start_date, strlen(o->start_date), lower))
        return fe_err_set(err, FE_ECONFIG, "start_date '%.40s' is not a date (YYYY-MM-DD)",
                          o->start_date);
    return FE_OK;
}

/* base/orders?filters[FIELD:gte]=AT&sort=FIELD&sort_direction=asc (no filter when
 * at is INT64_MIN). */
static fe_rc orders_url(const goflow_opts *o, const char *field, int64_t at, buf *url, fe_err *err)
{
    char t[TIME_TEXT_MAX];
    buf_reset(url);
    bool ok = buf_printf(url, "%s/orders?", o->base);
    if (ok && at != INT64_MIN)
        ok = buf_printf(url, "filters%%5B%s%%3Agte%%5D=", field) &&
             buf_put_urlenc(url, time_format_iso(at, t)) && buf_putc(url, '&');
    ok = ok && buf_printf(url, "sort=%s&sort_direction=asc", field);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
}

/* run --from/--to: the orders dated in the window (date >= its start and < its
 * end, in the source's zone), sorted by date. The cursor (status_updated_at) is
 * not a date, so a window read never moves it: it is read like the re-scan. */
static fe_rc run_orders_window(stream_ctx *ctx, orders_run *run, buf *url, fe_err *err)
{
    char t[TIME_TEXT_MAX];
    const stream_window *w = ctx->window;
    FE_TRY(orders_url(run->o, "date", w->from_us, url, err));
    if (!buf_printf(url, "&filters%%5Bdate%%3Alt%%5D=") ||
        !buf_put_urlenc(url, time_format_iso(w->end_us, t)))
        return fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
    log_info(ctx->logctx, "window %s .. %s: reading orders dated in it (the cursor stays)", w->from,
             w->to);
    run->rescanning = true;
    FE_TRY(loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err));
    return goflow_list_read(ctx, run->o, buf_cstr(url), on_order, NULL, run, err);
}

/* Pass 1 reads by status_updated_at from the cursor; pass 2 (incremental runs
 * only) re-reads orders dated in the rescan_days before the newest status change
 * seen, because edits that keep the status (charges, lines) do not move
 * status_updated_at. Anchoring the window at the data's newest change rather than
 * the wall clock keeps it meaningful for accounts that were idle. */
static fe_rc run_orders(stream_ctx *ctx, fe_err *err)
{
    goflow_opts o;
    orders_run run = {.ctx = ctx, .max_at = INT64_MIN};
    int64_t lower;
    char t[TIME_TEXT_MAX];
    buf url;
    fe_rc rc;

    FE_TRY(goflow_opts_load(ctx->conf, &o, err));
    buf_init(&url, 0);
    run.o = &o;
    run.rows = loader_row_sink(ctx->ld);
    run.mopts.line_price_is_unit = o.line_price_is_unit;
    if (ctx->window) {
        if ((rc = run_orders_window(ctx, &run, &url, err)) == FE_OK)
            rc = orders_checkpoint(&run, false, err);
        goto done;
    }
    if ((rc = orders_lower_bound(ctx, &o, &lower, err)) != FE_OK ||
        (rc = orders_url(&o, "status_updated_at", lower, &url, err)) != FE_OK)
        goto done;
    if (lower != INT64_MIN)
        log_info(ctx->logctx, "reading orders with status_updated_at >= %s",
                 time_format_iso(lower, t));
    if ((rc = loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err)) != FE_OK ||
        (rc = goflow_list_read(ctx, &o, buf_cstr(&url), on_order, on_orders_page, &run, err)) !=
            FE_OK)
        goto done;
    if (lower != INT64_MIN && o.rescan_us > 0) {
        int64_t anchor = run.max_at != INT64_MIN ? run.max_at : lower + o.lookback_us;
        run.rescanning = true;
        if ((rc = orders_url(&o, "date", anchor - o.rescan_us, &url, err)) != FE_OK)
            goto done;
        log_info(ctx->logctx, "re-scanning orders dated from %s",
                 time_format_iso(anchor - o.rescan_us, t));
        if ((rc = goflow_list_read(ctx, &o, buf_cstr(&url), on_order, NULL, &run, err)) != FE_OK)
            goto done;
    }
    rc = orders_checkpoint(&run, false, err);
    if (rc == FE_OK && run.splits > 0)
        log_info(ctx->logctx, "%" PRId64 " split orders: their originals are marked deleted",
                 run.splits);
done:
    buf_term(&url);
    goflow_opts_term(&o);
    return rc;
}

/* ---- source callbacks ------------------------------------------------------------ */

static fe_rc gf_base_url(const source_config *conf, buf *out, fe_err *err)
{
    return goflow_base_url(conf, out, err);
}

/* dim_source.account: the subdomain when given, else the host[:port] of base_url. */
static fe_rc gf_account(const source_config *conf, buf *out, fe_err *err)
{
    const char *sub = config_str(conf, "subdomain");
    if (sub && *sub && !config_str(conf, "base_url"))
        return buf_puts(out, sub) ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
    buf base;
    buf_init(&base, 0);
    fe_rc rc = goflow_base_url(conf, &base, err);
    if (rc == FE_OK)
        rc = source_url_host(conf, buf_cstr(&base), out, err);
    buf_term(&base);
    return rc;
}

/* The list budget (list_rate_per_minute, default 60 as documented): a bucket of a
 * sixth of it, refilled so that no 60-second window holds more than the budget. */
static void gf_rate(const source_config *conf, double *rate, double *burst)
{
    double n;
    long l;
    if (!config_double(conf, "list_rate_per_minute", &n))
        n = config_int(conf, "list_rate_per_minute", &l) ? (double)l : 60.0;
    goflow_budget(n, 60, rate, burst);
}

/* One light authenticated request (the first page of stores), so that a wrong
 * token, host or base_url fails the source here, before the runner registers it
 * in the warehouse. Only its status counts: the stores stream judges the list. */
static fe_rc first_request(const source_config *conf, http_client *http, stream_stats *stats,
                           fe_err *err)
{
    goflow_opts o;
    const char *h[4];
    buf url;
    fe_rc rc;
    FE_TRY(goflow_opts_load(conf, &o, err));
    int nh = goflow_headers(&o, true, h);
    buf_init(&url, 0);
    if (!buf_printf(&url, "%s/stores", o.base)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    } else {
        http_request req = {.url = buf_cstr(&url), .headers = h, .nheaders = nh};
        rc = source_probe(http, stats, &req, "GET /stores (first page)", "token", err);
    }
    buf_term(&url);
    goflow_opts_term(&o);
    return rc;
}

static fe_rc gf_open(const source_config *conf, http_client *http, stream_stats *stats,
                     void **state, fe_err *err)
{
    goflow_state *s;
    *state = NULL;
    FE_TRY(first_request(conf, http, stats, err));
    FE_TRY(goflow_state_new(conf, http, &s, err));
    *state = s;
    return FE_OK;
}

static void gf_close(void *state)
{
    goflow_state_free(state);
}

typedef struct {
    int64_t n;
    bool more;
} count_run;

static fe_rc count_rec(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    count_run *c = user;
    (void)rec;
    (void)err;
    c->n++;
    return FE_OK;
}

/* Reads the first page of stores (proves the token), then the report quotas. */
static fe_rc gf_check(const source_config *conf, http_client *http, void *state, buf *out,
                      fe_err *err)
{
    goflow_opts o;
    stream_stats st = {0};
    count_run c = {0};
    stream_ctx ctx = {
        .conf = conf, .stream = "check", .logctx = conf->name, .http = http, .stats = &st};
    buf url;
    fe_rc rc;
    (void)state;
    FE_TRY(goflow_opts_load(conf, &o, err));
    buf_init(&url, 0);
    if (!buf_printf(&url, "%s/stores", o.base)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = goflow_list_read(&ctx, &o, buf_cstr(&url), count_rec, NULL, &c, err)) != FE_OK)
        goto done;
    if (!buf_printf(out, "  token ok: %" PRId64 " stores\n", c.n) ||
        !buf_printf(out,
                    "  orders: status_updated_at ascending, look-back %" PRId64
                    " s, re-scan %" PRId64 " days by date\n",
                    o.lookback_us / TIME_US_PER_SEC, o.rescan_us / (86400 * TIME_US_PER_SEC)) ||
        !buf_printf(out, "  line price charge: %s (config line_price_is_unit)\n",
                    o.line_price_is_unit ? "per unit" : "extended line amount") ||
        !buf_printf(out,
                    "  budgets: %.0f list requests/min, %.0f report requests/hour per "
                    "generator\n",
                    o.list_per_minute, o.report_per_hour)) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    rc = goflow_check_quotas(http, &o, out, err);
done:
    buf_term(&url);
    goflow_opts_term(&o);
    return rc;
}

static const cursor_field orders_fields[] = {
    {"status_updated_at", CURSOR_TIME,
     "the highest status_updated_at of the orders loaded; the "
     "next run reads from it minus the look-back, then "
     "re-scans rescan_days of order dates"},
};
static const cursor_spec orders_cursor = {
    "Incremental by status change time, plus a re-scan of recent order dates.", orders_fields, 1};

static const cursor_field inventory_fields[] = {
    {"snapshot_date", CURSOR_DATE, "the day of the last inventory snapshot loaded"},
    {"report_id", CURSOR_INT, "the report that snapshot came from"},
    {"pending_report", CURSOR_OBJECT,
     "reports requested but not loaded yet ({\"counts\": ID, "
     "\"values\": ID, \"requested_at\": TIME}): the next run "
     "polls them instead of requesting new ones"},
};
static const cursor_spec inventory_cursor = {
    "A daily snapshot from an asynchronous report; the cursor says which report was loaded, or "
    "which are pending.",
    inventory_fields, 3};

static const stream_def goflow_streams[] = {
    {"stores", run_stores, NULL, NULL},
    {"warehouses", run_warehouses, NULL, NULL},
    {"products", run_products, NULL, NULL},
    {"orders", run_orders, &orders_cursor, "orders by order date (date)"},
    {"inventory", goflow_run_inventory, &inventory_cursor, NULL},
};

/* ---- config keys (besides those of every type, core/config_keys.c) --------- */

/* Sorted by key. */
static const config_key goflow_keys[] = {
    {"source", "base_url", CK_STRING, NULL,
     "API root; default https://SUBDOMAIN.api.goflow.com/v1 from subdomain (one of the two is "
     "required).",
     false, NULL, 0, 0, CR_URL},
    {"source", "beta_contact", CK_STRING, NULL,
     "E-mail address sent as X-Beta-Contact, which Goflow's beta endpoints (reports) require.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "inventory_values", CK_BOOL, "false",
     "Also request the inventory values report (its own 6/hour budget) for inventory_value and "
     "unit_cost of the snapshot.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "line_price_is_unit", CK_BOOL, "true",
     "The `price` charge of an order line is the unit price (false: it is the extended line "
     "amount, divided by the quantity).",
     false, NULL, 0, 0, CR_NONE},
    {"source", "list_rate_per_minute", CK_DOUBLE, "60",
     "Budget of list, poll and download requests per minute (Goflow documents 60 per endpoint).",
     false, NULL, 1, 100000, CR_NONE},
    {"source", "report_format", CK_STRING, "json",
     "File format requested for inventory reports: json, jsonl or csv.", false, "json|jsonl|csv", 0,
     0, CR_NONE},
    {"source", "report_max_bytes", CK_INT, "1073741824",
     "Largest inventory report file, in bytes after decompression (1 GiB); a bigger one fails "
     "the inventory stream with nothing committed from it.",
     false, NULL, 1048576, 1e15, CR_NONE},
    {"source", "report_max_ratio", CK_INT, "200",
     "Largest ratio of a gzip report file's decompressed size to its compressed size, judged "
     "once 8 MiB came out (a gzip bomb fails the stream in a moment, not after 1 GiB).",
     false, NULL, 2, 1000000, CR_NONE},
    {"source", "report_poll_max", CK_DURATION, "10m",
     "How long one run waits for a report; a report still pending then is resumed by the next "
     "run.",
     false, NULL, 1, CONFIG_DAY, CR_NONE},
    {"source", "report_rate_per_hour", CK_DOUBLE, "6",
     "Budget of requests per hour to each report generator (Goflow documents 6).", false, NULL, 1,
     100000, CR_NONE},
    {"source", "rescan_days", CK_INT, "7",
     "Each orders run also re-reads the orders dated in this many days before the newest status "
     "change, since edits that keep the status do not move status_updated_at; 0 = off.",
     false, NULL, 0, 366, CR_NONE},
    {"source", "subdomain", CK_STRING, NULL,
     "Account subdomain (SUBDOMAIN.api.goflow.com); it becomes dim_source.account.", false, NULL, 0,
     0, CR_NONE},
    {"source", "token", CK_SECRET, NULL, "Goflow API token (sent as a bearer token).", true, NULL,
     0, 0, CR_NONE},
};

static const char *const identity_keys[] = {"subdomain", NULL};

const source_def goflow_source = {
    .type = {"goflow", goflow_keys, sizeof goflow_keys / sizeof goflow_keys[0]},
    .streams = goflow_streams,
    .nstreams = (int)(sizeof goflow_streams / sizeof goflow_streams[0]),
    .base_url = gf_base_url,
    .identity_keys = identity_keys,
    .account = gf_account,
    .rate = gf_rate,
    .open = gf_open,
    .close = gf_close,
    .check = gf_check,
    .verify = goflow_verify,
    .nverify = GOFLOW_NVERIFY,
    /* Its state is the report generators' clients, which only the inventory
     * stream uses: concurrent streams may share it. */
    .share_state = true,
};
