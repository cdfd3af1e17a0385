/* source: helpers every source module shares (progress lines, rejects). */
#include "sources/source.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "load/pg.h"
#include "transform/field.h"

void stream_progress(stream_ctx *ctx)
{
    int64_t now = ratelimit_now_us();
    if (ctx->on_progress && now - ctx->last_live_us >= ctx->live_every_us) {
        ctx->last_live_us = now;
        ctx->on_progress(ctx->progress_user, ctx->stats);
    }
    if (ctx->progress_every_us <= 0 || now - ctx->last_progress_us < ctx->progress_every_us)
        return;
    ctx->last_progress_us = now;
    const stream_stats *st = ctx->stats;
    double secs = (double)(now - ctx->started_us) / 1e6;
    double rate = secs > 0 ? (double)st->records / secs : 0.0;
    double eta =
        st->expected > st->records && rate > 0 ? (double)(st->expected - st->records) / rate : -1;
    char of[40] = "", eta_text[40] = "";
    if (st->expected > 0)
        snprintf(of, sizeof of, " of %" PRId64, st->expected);
    if (eta >= 0)
        snprintf(eta_text, sizeof eta_text, ", ETA %.0f s", eta);
    log_event(LOG_INFO, ctx->logctx, "progress",
              LOG_FIELDS(LOG_INT("pages", st->pages), LOG_INT("records", st->records),
                         LOG_INT("expected", st->expected), LOG_NUM("rate", rate),
                         LOG_NUM("eta_s", eta >= 0 ? eta : NAN), LOG_INT("requests", st->requests),
                         LOG_INT("retries", st->retries), LOG_INT("http_429", st->http_429)),
              "%" PRId64 " pages, %" PRId64 "%s records, %.0f rec/s, %" PRId64 " requests (%" PRId64
              " retries, %" PRId64 " 429s)%s",
              st->pages, st->records, of, rate, st->requests, st->retries, st->http_429, eta_text);
}

fe_rc stream_stop_check(const stream_ctx *ctx, fe_err *err)
{
    int sig = fe_stop_requested(ctx->stop);
    /* The streams of a source run concurrently: one that finds the warehouse gone
     * ends now rather than read the rest of its list for a commit that must fail. */
    if (!sig && ctx->ld && !pg_alive(loader_conn(ctx->ld)))
        return pg_error(err, loader_conn(ctx->ld), NULL, "the warehouse connection broke");
    if (!sig)
        return FE_OK;
    return fe_err_set(err, FE_EINTR, "stopped by %s",
                      sig == SIGTERM  ? "SIGTERM"
                      : sig == SIGINT ? "SIGINT"
                                      : "a signal");
}

fe_rc stream_checkpoint(stream_ctx *ctx, const load_commit *c, bool again, fe_err *err)
{
    FE_TRY(stream_stop_check(ctx, err));
    if (again)
        return loader_commit_send(ctx->ld, c, ctx->stats, err);
    return loader_commit(ctx->ld, c, ctx->stats, err);
}

fe_rc stream_reject_mapped(stream_ctx *ctx, const json_rec *rec, const char *id_path, fe_err *err)
{
    char reason[sizeof err->msg];
    const char *id = field_id_or_null(rec, id_path);
    snprintf(reason, sizeof reason, "%s", err->msg);
    return stream_reject(ctx, rec, NULL, id, reason, err);
}

const char *stream_read_at_cursor(char *dst, size_t size)
{
    char now[TIME_TEXT_MAX];
    snprintf(dst, size, "{\"read_at\":\"%s\"}", time_format_iso(time_now_us(), now));
    return dst;
}

fe_rc stream_reject(stream_ctx *ctx, const json_rec *rec, const char *raw, const char *record_id,
                    const char *reason, fe_err *err)
{
    /* The whole record: the loader masks secrets, then cuts (a cut first could
     * leave a piece of a secret the mask no longer knows). */
    char *dump = !raw && rec ? json_rec_dump_dup(rec, NULL) : NULL;
    if (!raw && rec && !dump)
        return fe_err_set(err, FE_ENOMEM, "out of memory dumping a rejected record");
    row_reject r = {.record_id = record_id, .reason = reason, .raw = raw ? raw : dump ? dump : ""};
    fe_rc rc = loader_put_reject(ctx->ld, &r, err);
    free(dump);
    if (rc != FE_OK)
        return rc;
    ctx->stats->rejects++;
    log_event(LOG_WARN, ctx->logctx, "reject",
              LOG_FIELDS(LOG_STR("record_id", record_id), LOG_STR("reason", reason),
                         LOG_INT("rejected", ctx->stats->rejects)),
              "rejected record %s: %s", record_id ? record_id : "(no id)", reason);
    if (ctx->stats->rejects > ctx->max_rejects)
        return fe_err_set(err, FE_EREJECTS,
                          "%" PRId64
                          " records rejected, more than max_rejects = %ld; see etl.reject",
                          ctx->stats->rejects, ctx->max_rejects);
    return FE_OK;
}

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

fe_rc stream_cursor_value(const char *cursor, const char *key, char *out, size_t size, fe_err *err)
{
    static const char *const paths[] = {"."};
    cursor_lookup l = {.key = key, .out = out, .size = size};
    json_stream *js;
    fe_rc rc;

    out[0] = '\0';
    if (!cursor)
        return FE_OK;
    if (!(js = json_stream_new(paths, 1, false, 64 << 10, on_cursor_root, &l)))
        return fe_err_set(err, FE_ENOMEM, "out of memory reading the cursor");
    rc = json_stream_feed(js, cursor, strlen(cursor), err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, err);
    json_stream_free(js);
    if (rc != FE_OK)
        fe_err_wrap(err, "stored cursor is not JSON (run with --full-refresh)");
    return rc;
}

fe_rc source_base_url(const source_config *conf, const char *default_url, const char *example,
                      buf *out, fe_err *err)
{
    const char *v = config_str(conf, "base_url");
    if (!v || !*v)
        v = default_url;
    if (!v || !*v)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] base_url is required for %s (e.g. %s)",
                          conf->name, conf->type, example ? example : "https://HOST/api");
    size_t len = strlen(v);
    while (len > 0 && v[len - 1] == '/')
        len--;
    if (!buf_append(out, v, len))
        return fe_err_set(err, FE_ENOMEM, "out of memory copying base_url");
    return FE_OK;
}

fe_rc source_url_host(const source_config *conf, const char *url, buf *out, fe_err *err)
{
    CURLU *u = NULL;
    char *host = NULL, *port = NULL;
    fe_rc rc = FE_OK;

    if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = fe_err_set(err, FE_ECONFIG, "[source.%s] base_url '%s' is not a URL", conf->name, url);
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
    return rc;
}

static fe_rc probe_drop(void *ctx, const char *data, size_t len, fe_err *err)
{
    (void)ctx;
    (void)data;
    (void)len;
    (void)err;
    return FE_OK;
}

fe_rc source_probe(http_client *http, stream_stats *stats, const http_request *req,
                   const char *what, const char *cred_key, fe_err *err)
{
    http_result res = {0};
    http_request r = *req;
    r.sink = (http_sink){.on_data = probe_drop};
    fe_rc rc = http_run(http, &r, &res, stats, err);
    if (rc == FE_OK && (res.status == 401 || res.status == 403))
        rc = fe_err_set(err, FE_EAUTH, "%s: HTTP %ld (the credentials were refused: check `%s`)",
                        what, res.status, cred_key);
    else if (rc == FE_OK && res.rc != FE_OK) {
        *err = res.err;
        rc = res.rc;
    }
    http_result_term(&res);
    return rc;
}

void source_rate_from_conf(const source_config *conf, double *rate, double *burst)
{
    if (!config_double(conf, "rate_limit", rate))
        *rate = 5.0;
    if (!config_double(conf, "rate_burst", burst))
        *burst = 5.0;
}

fe_rc source_account(const source_def *def, const source_config *conf, buf *out, fe_err *err)
{
    if (def->account)
        return def->account(conf, out, err);
    buf base;
    buf_init(&base, 0);
    fe_rc rc = def->base_url(conf, &base, err);
    if (rc == FE_OK)
        rc = source_url_host(conf, buf_cstr(&base), out, err);
    buf_term(&base);
    return rc;
}

size_t source_identity_keys(const source_def *def, const char **keys, size_t max)
{
    static const char *const always[] = {"account", "base_url"};
    size_t n = 0;
    for (size_t i = 0; i < 2 && n < max; i++)
        keys[n++] = always[i];
    for (const char *const *k = def ? def->identity_keys : NULL; k && *k && n < max; k++)
        keys[n++] = *k;
    return n;
}

/* ---- cursor shapes ------------------------------------------------------------ */

static const cursor_field read_at_fields[] = {
    {"read_at", CURSOR_TIME, "when the stream last read everything (UTC)"},
};

const cursor_spec stream_cursor_read_at = {
    "The stream reads everything every run; the cursor only records when it last did.",
    read_at_fields, 1};

const cursor_spec *stream_cursor_spec(const stream_def *s)
{
    return s->cursor ? s->cursor : &stream_cursor_read_at;
}

static const char *cursor_kind_text(cursor_kind k)
{
    static const char *const names[] = {"\"<date-time, ISO 8601>\"", "\"<YYYY-MM-DD>\"",
                                        "<integer>", "{...}"};
    return names[k];
}

bool stream_cursor_shape(const stream_def *s, buf *out)
{
    const cursor_spec *c = stream_cursor_spec(s);
    bool ok = buf_putc(out, '{');
    for (int i = 0; ok && i < c->nfields; i++)
        ok = buf_printf(out, "%s\"%s\": %s", i ? ", " : "", c->fields[i].key,
                        cursor_kind_text(c->fields[i].kind));
    return ok && buf_puts(out, c->nfields > 1 ? "} (any of these keys, at least one)" : "}");
}

static const cursor_field *cursor_field_of(const cursor_spec *c, const char *key)
{
    for (int i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i].key, key) == 0)
            return &c->fields[i];
    return NULL;
}

static bool cursor_date_valid(const char *t)
{
    int64_t us;
    return strlen(t) == 10 && time_parse_iso(t, 10, &us);
}

/* True when v is of kind k. */
static bool cursor_value_fits(const yajl_val v, cursor_kind k)
{
    const char *t = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    switch (k) {
    case CURSOR_TIME: {
        int64_t us;
        return t && time_parse_iso(t, strlen(t), &us);
    }
    case CURSOR_DATE:
        return t && cursor_date_valid(t);
    case CURSOR_INT:
        return YAJL_IS_INTEGER(v);
    case CURSOR_OBJECT:
        return YAJL_IS_OBJECT(v);
    }
    return false;
}

static fe_rc cursor_check_object(const cursor_spec *c, yajl_val root, fe_err *err)
{
    if (!YAJL_IS_OBJECT(root))
        return fe_err_set(err, FE_EINVAL, "the cursor is not a JSON object");
    size_t n = YAJL_GET_OBJECT(root)->len;
    if (n == 0)
        return fe_err_set(err, FE_EINVAL, "the cursor has none of the stream's keys");
    for (size_t i = 0; i < n; i++) {
        const char *key = YAJL_GET_OBJECT(root)->keys[i];
        const cursor_field *f = cursor_field_of(c, key);
        if (!f)
            return fe_err_set(err, FE_EINVAL, "the stream's cursor has no key \"%.60s\"", key);
        if (!cursor_value_fits(YAJL_GET_OBJECT(root)->values[i], f->kind))
            return fe_err_set(err, FE_EINVAL, "\"%s\" must be %s", key, cursor_kind_text(f->kind));
    }
    return FE_OK;
}

fe_rc stream_cursor_check(const stream_def *s, const char *cursor, fe_err *err)
{
    char why[sizeof err->msg];
    buf shape;
    fe_rc rc;
    yajl_val root = yajl_tree_parse(cursor, why, sizeof why);
    if (!root) {
        char *nl = strchr(why, '\n');
        if (nl)
            *nl = '\0';
        rc = fe_err_set(err, FE_EINVAL, "not JSON (%s)", why);
    } else {
        rc = cursor_check_object(stream_cursor_spec(s), root, err);
        yajl_tree_free(root);
    }
    if (rc == FE_OK)
        return FE_OK;
    memcpy(why, err->msg, sizeof why);
    buf_init(&shape, 4096);
    rc = fe_err_set(err, FE_EINVAL, "invalid cursor for stream %s: %s; expected %s", s->name, why,
                    stream_cursor_shape(s, &shape) ? buf_cstr(&shape) : "?");
    buf_term(&shape);
    return rc;
}

bool stream_window_advances(const stream_window *w, int64_t stored, int64_t reached)
{
    return w && stored != INT64_MIN && w->from_us <= stored && reached != INT64_MIN &&
           reached > stored;
}

/* --- verification helpers ------------------------------------------------- */

static fe_rc capture_order(void *ctx, const row_order *r, fe_err *err)
{
    verify_capture *c = ctx;
    char text[512];
    const char *amounts[6] = {r->subtotal,       r->discount_total, r->tax_total,
                              r->shipping_total, r->total,          r->paid_total};
    if (r->tombstone)
        return FE_OK;
    if (!reconcile_order_text(r->status, r->status_group, r->currency, amounts, text, sizeof text))
        return fe_err_set(err, FE_EINVAL, "order %s: an amount is not a decimal", r->order_id);
    c->last = c->q->id(c->q, r->order_id, text, err);
    /* FE_EINVAL from a sink means "the sink failed" (rows.h): say it as FE_EABORT. */
    return c->last == FE_EINVAL ? FE_EABORT : c->last;
}

#define CAPTURE_DROP(name, type)                                                                   \
    static fe_rc capture_drop_##name(void *ctx, const type *r, fe_err *err)                        \
    {                                                                                              \
        (void)ctx;                                                                                 \
        (void)r;                                                                                   \
        (void)err;                                                                                 \
        return FE_OK;                                                                              \
    }
CAPTURE_DROP(store, row_store)
CAPTURE_DROP(customer, row_customer)
CAPTURE_DROP(category, row_category)
CAPTURE_DROP(product, row_product)
CAPTURE_DROP(component, row_component)
CAPTURE_DROP(order_line, row_order_line)
CAPTURE_DROP(payment, row_payment)
CAPTURE_DROP(inventory, row_inventory)

row_sink verify_order_sink(verify_capture *c)
{
    row_sink s = {.ctx = c,
                  .store = capture_drop_store,
                  .customer = capture_drop_customer,
                  .category = capture_drop_category,
                  .product = capture_drop_product,
                  .component = capture_drop_component,
                  .order = capture_order,
                  .order_line = capture_drop_order_line,
                  .payment = capture_drop_payment,
                  .inventory = capture_drop_inventory};
    return s;
}

bool verify_day_add(const char *day, long delta, char *dst)
{
    int y, m, d;
    char tail, tmp[32];
    if (!day || strlen(day) != 10 || sscanf(day, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        !time_valid_date(y, m, d))
        return false;
    int64_t days = time_days_from_civil(y, m, d) + delta;
    time_format_date(days * 86400LL * 1000000LL, tmp);
    memcpy(dst, tmp, 10);
    dst[10] = '\0';
    return true;
}
