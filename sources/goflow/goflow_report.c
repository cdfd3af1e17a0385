/* goflow_report: the inventory stream from Goflow's asynchronous reports. See
 * goflow_report.h for the flow and the cursor. */
#include "sources/goflow/goflow_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "core/log.h"
#include "core/decimal.h"
#include "transform/field.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "extract/json_fetch.h"
#include "sources/goflow/goflow_csv.h"
#include "sources/goflow/goflow_unzip.h"

#define POLL_FIRST_US (500 * INT64_C(1000))
#define POLL_MAX_US (10 * TIME_US_PER_SEC)
#define FIELD_MAX 256

enum { KIND_COUNTS = 0, KIND_VALUES, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"counts", "values"};
static const char *const kind_columns[KIND_COUNT] = {
    "\"product_id\",\"warehouse_id\",\"warehouse_name\",\"on_hand\",\"available\","
    "\"on_purchase_order\"",
    "\"product_id\",\"warehouse_id\",\"warehouse_name\",\"inventory_value_average\","
    "\"available_value_average\""};
static const char *const format_names[] = {"json", "jsonl", "csv"};

/* ---- warehouses by name ---------------------------------------------------------- */

typedef struct {
    char *name, *id;
} wh_entry;

typedef struct {
    wh_entry *v;
    size_t n, cap;
} wh_map;

static void wh_map_term(wh_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].id);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}

static fe_rc wh_add(wh_map *m, const char *id, const char *name, fe_err *err)
{
    wh_entry *v = buf_array_room(m->v, &m->cap, m->n, sizeof *v, 16);
    if (!v)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    m->v = v;
    wh_entry e = {strdup(name), strdup(id)};
    if (!e.name || !e.id) {
        free(e.name);
        free(e.id);
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    m->v[m->n++] = e;
    return FE_OK;
}

static const char *wh_lookup(const wh_map *m, const char *name)
{
    for (size_t i = 0; name && i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return m->v[i].id;
    return NULL;
}

/* ---- values report rows, joined to the counts by (product, warehouse) ------------ */

typedef struct {
    char *key; /* "product_id\twarehouse_id" */
    char *value, *cost;
} val_entry;

typedef struct {
    val_entry *v;
    size_t n, cap;
    bool sorted;
} val_map;

static void val_map_term(val_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].value);
        free(m->v[i].cost);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static fe_rc val_add(val_map *m, const char *product, const char *wh, const char *value,
                     const char *cost, fe_err *err)
{
    buf k;
    val_entry *v = buf_array_room(m->v, &m->cap, m->n, sizeof *v, 256);
    if (!v)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    m->v = v;
    buf_init(&k, 0);
    if (!buf_printf(&k, "%s\t%s", product, wh))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    val_entry e = {buf_take(&k, NULL), dup_or_null(value), dup_or_null(cost)};
    m->v[m->n++] = e;
    if (!e.key || (value && !e.value) || (cost && !e.cost))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return FE_OK;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const val_entry *)a)->key, ((const val_entry *)b)->key);
}

static const val_entry *val_find(val_map *m, const char *product, const char *wh)
{
    char key[FIELD_MAX * 2 + 2];
    if (!m->sorted) {
        qsort(m->v, m->n, sizeof *m->v, by_key);
        m->sorted = true;
    }
    snprintf(key, sizeof key, "%s\t%s", product, wh);
    val_entry probe = {.key = key};
    return m->n ? bsearch(&probe, m->v, m->n, sizeof *m->v, by_key) : NULL;
}

/* ---- the run --------------------------------------------------------------------- */

typedef struct {
    stream_ctx *ctx;
    const goflow_opts *o;
    goflow_state *st;
    row_sink rows;
    wh_map wh;
    val_map values;
    int64_t ids[KIND_COUNT]; /* pending or completed report ids, 0 = none */
    /* completed.records_count of each report, -1 when it sent none */
    int64_t records_count[KIND_COUNT];
    char requested_at[TIME_TEXT_MAX];
    char file_url[KIND_COUNT][2048];
    char completed_at[64];
    char snapshot_date[16];
    int kinds; /* 1 (counts) or 2 (counts and values) */
} inv_run;

/* One warehouse for the name lookup, its id and name read under the value rules:
 * a NUL byte would cut the id short, and report rows that name the warehouse
 * would then load under that cut id. A refused one is left out with a warning,
 * so its report rows reject as naming a warehouse not among those read. user is
 * the inv_run. */
static fe_rc on_warehouse(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    inv_run *r = user;
    const char *id, *name;
    fe_err why = {0};
    if (field_id(rec, "id", &id, &why) != FE_OK || field_text(rec, "name", &name, &why) != FE_OK) {
        log_warn(r->ctx->logctx, "a warehouse is left out of the lookup by name: %s", why.msg);
        return FE_OK;
    }
    if (!name)
        return FE_OK;
    return wh_add(&r->wh, id, name, err);
}

/* One report row by column name (NULL = absent); strings live for the call. */
typedef struct {
    const char *product_id, *warehouse_id, *warehouse_name;
    const char *on_hand, *available, *on_purchase_order, *value, *cost;
} inv_cols;

/* A CSV row as the parser gave it (fields end at their first NUL byte here). */
typedef struct {
    const char *const *f;
    size_t n;
} csv_row;

/* The raw text of a CSV row for etl.reject, whole: the loader masks secrets
 * before it cuts (a cut first could leave a piece of a secret unmasked). Text
 * that is not UTF-8 is stored as a note instead. */
static fe_rc csv_raw(const csv_row *row, buf *out, fe_err *err)
{
    for (size_t i = 0; i < row->n; i++)
        if ((i && !buf_putc(out, ',')) || !buf_puts(out, row->f[i]))
            return fe_err_set(err, FE_ENOMEM, "out of memory");
    if (!utf8_valid(buf_cstr(out), out->len)) {
        buf_reset(out);
        if (!buf_puts(out, "(row is not valid UTF-8)"))
            return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    return FE_OK;
}

/* Rejects a row with the reason in err: rec for json, row for csv. */
static fe_rc reject_row(inv_run *r, const json_rec *rec, const csv_row *row, const inv_cols *c,
                        fe_err *err)
{
    char reason[sizeof err->msg];
    buf raw;
    fe_rc rc = FE_OK;
    snprintf(reason, sizeof reason, "%s", err->msg);
    const char *id =
        c->product_id && utf8_valid(c->product_id, strlen(c->product_id)) ? c->product_id : NULL;
    buf_init(&raw, 0);
    if (row)
        rc = csv_raw(row, &raw, err);
    if (rc == FE_OK)
        rc = stream_reject(r->ctx, rec, row ? buf_cstr(&raw) : NULL, id, reason, err);
    buf_term(&raw);
    return rc;
}

/* A row of either report: values rows are kept for the join, counts rows become
 * snapshot rows. */
static fe_rc handle_row(inv_run *r, int kind, const inv_cols *c, const json_rec *rec,
                        const csv_row *row, fe_err *err)
{
    const char *wh = c->warehouse_id && *c->warehouse_id ? c->warehouse_id
                                                         : wh_lookup(&r->wh, c->warehouse_name);
    r->ctx->stats->records++;
    if (kind == KIND_VALUES) {
        if (!c->product_id || !wh)
            return FE_OK; /* the counts row of the same pair reports the problem */
        if (strlen(c->product_id) >= FIELD_MAX || strlen(wh) >= FIELD_MAX)
            return FE_OK;
        return val_add(&r->values, c->product_id, wh, c->value, c->cost, err);
    }
    goflow_inventory_in in = {.snapshot_date = r->snapshot_date,
                              .captured_at = r->completed_at,
                              .product_id = c->product_id,
                              .warehouse_id = wh,
                              .on_hand = c->on_hand,
                              .available = c->available,
                              .on_purchase_order = c->on_purchase_order};
    if (r->kinds > 1 && c->product_id && wh && strlen(c->product_id) < FIELD_MAX &&
        strlen(wh) < FIELD_MAX) {
        const val_entry *v = val_find(&r->values, c->product_id, wh);
        if (v) {
            in.inventory_value = v->value;
            in.unit_cost = v->cost;
        }
    }
    fe_rc rc;
    if (wh)
        rc = goflow_map_inventory(&in, &r->rows, err);
    else if (c->warehouse_name)
        rc = fe_err_set(err, FE_EINVAL, "warehouse '%.60s' is not among the warehouses read",
                        c->warehouse_name);
    else
        rc = fe_err_set(err, FE_EINVAL, "report row without warehouse_id or warehouse_name");
    if (rc == FE_EINVAL)
        rc = reject_row(r, rec, row, c, err);
    stream_progress(r->ctx);
    return rc;
}

/* ---- download: the format's parser behind the decoder ----------------------------- */

typedef struct {
    inv_run *run;
    int kind;
    goflow_unzip *unzip;
    json_fetch *doc; /* json and jsonl */
    goflow_csv *csv;
    int col[8]; /* csv: index of each inv_cols member, -1 absent */
    bool header_seen;
    int64_t rows; /* data rows of this attempt, refused ones included */
} download;

static const char *const col_names[8] = {
    "product_id", "warehouse_id",      "warehouse_name",          "on_hand",
    "available",  "on_purchase_order", "inventory_value_average", "available_value_average"};

/* A row with a column the value rules refuse: a reject of the counts report (the
 * values report's row of the same pair is only left out, as handle_row does, so
 * one bad pair is one reject). */
static fe_rc refuse_row(download *d, const json_rec *rec, const csv_row *row, fe_err *err)
{
    inv_cols none = {0};
    d->run->ctx->stats->records++;
    if (d->kind == KIND_VALUES)
        return FE_OK;
    return reject_row(d->run, rec, row, &none, err);
}

/* A JSON report row: each column read under the value rules (transform/field.h),
 * so a NUL byte or bad UTF-8 in any of them rejects the row instead of cutting an
 * id short. */
static fe_rc on_json_row(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    download *d = ctx;
    const char *v[8] = {0};
    (void)which;
    d->rows++;
    for (int k = 0; k < 8; k++)
        if (field_text(rec, col_names[k], &v[k], err) != FE_OK)
            return refuse_row(d, rec, NULL, err);
    inv_cols c = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    return handle_row(d->run, d->kind, &c, rec, NULL, err);
}

/* The first CSV row names the columns. One that names no product or no warehouse
 * is not a report's header (a gateway's page, a file of another kind): every row
 * would reject, so the file is refused whole. */
static fe_rc csv_header(download *d, const char *const *f, size_t n, fe_err *err)
{
    d->header_seen = true;
    for (int k = 0; k < 8; k++) {
        d->col[k] = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i], col_names[k]) == 0)
                d->col[k] = (int)i;
    }
    if (d->col[0] < 0)
        return fe_err_set(err, FE_EJSON, "report file: the header row names no product_id column");
    if (d->col[1] < 0 && d->col[2] < 0)
        return fe_err_set(err, FE_EJSON,
                          "report file: the header row names no warehouse_id or warehouse_name "
                          "column");
    return FE_OK;
}

static fe_rc on_csv_row(void *ctx, const char *const *f, const size_t *lens, size_t n, fe_err *err)
{
    download *d = ctx;
    const char *v[8] = {0};
    csv_row row = {f, n};
    if (!d->header_seen)
        return csv_header(d, f, n, err);
    d->rows++;
    for (int k = 0; k < 8; k++)
        if (d->col[k] >= 0 && (size_t)d->col[k] < n && lens[d->col[k]] > 0)
            v[k] = f[d->col[k]];
    /* The value rules of transform/field.h, on the column's true length: a NUL
     * byte in the file must reject the row, not cut an id short. */
    for (int k = 0; k < 8; k++)
        if (v[k] && field_check_text(col_names[k], v[k], lens[d->col[k]], err) != FE_OK)
            return refuse_row(d, NULL, &row, err);
    inv_cols c = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    return handle_row(d->run, d->kind, &c, NULL, &row, err);
}

static fe_rc parse_plain(void *ctx, const char *data, size_t len, fe_err *err)
{
    download *d = ctx;
    if (d->csv)
        return goflow_csv_feed(d->csv, data, len, err);
    return json_fetch_feed(d->doc, data, len, err);
}

static fe_rc dl_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    download *d = ctx;
    return goflow_unzip_feed(d->unzip, data, len, err);
}

static void dl_reset(void *ctx)
{
    download *d = ctx;
    goflow_unzip_reset(d->unzip);
    d->header_seen = false;
    d->rows = 0;
    if (d->doc)
        json_fetch_reset(d->doc);
    if (d->csv)
        goflow_csv_reset(d->csv);
}

static fe_rc dl_finish(download *d, fe_err *err)
{
    FE_TRY(goflow_unzip_finish(d->unzip, err));
    if (d->csv)
        return goflow_csv_finish(d->csv, err);
    /* An empty JSON Lines file is zero records, not a syntax error (yajl calls it
     * a premature EOF): whether zero rows will do is dl_end's call. */
    if (d->run->o->report_format == GOFLOW_FMT_JSONL &&
        json_stream_bytes(json_fetch_stream(d->doc)) == 0)
        return FE_OK;
    return json_fetch_finish(d->doc, err);
}

/* The whole file counts only when it has the shape of a report (http_sink.on_end):
 * a CSV with its header row, a json file that is an array. An empty file, `{}`
 * or a gateway's message would otherwise read as zero rows, commit and move the
 * cursor past the report: a silently empty snapshot day. Zero rows pass only when
 * the report itself says it counts none (completed.records_count 0): with
 * include_zeros every product has a row per warehouse, so an honest empty report
 * means an account without products. A refusal is retried like a 5xx, then fails
 * the stream before anything is committed. */
static fe_rc dl_end(void *ctx, fe_err *err)
{
    download *d = ctx;
    int64_t expected = d->run->records_count[d->kind];
    FE_TRY(dl_finish(d, err));
    if (d->csv && !d->header_seen)
        return fe_err_set(err, FE_EJSON, "report file: no header row");
    if (d->run->o->report_format == GOFLOW_FMT_JSON &&
        json_stream_shape(json_fetch_stream(d->doc), 0) != JSON_AS_ARRAY)
        return fe_err_set(err, FE_EJSON, "report file: not a JSON array");
    if (d->rows == 0 && expected > 0)
        return fe_err_set(err, FE_EJSON,
                          "report file: no rows, but the report counts %" PRId64 " records",
                          expected);
    if (d->rows == 0 && expected < 0)
        return fe_err_set(err, FE_EJSON,
                          "report file: no rows, and the report does not say it counts none "
                          "(no completed.records_count)");
    return FE_OK;
}

static void dl_term(download *d)
{
    goflow_unzip_free(d->unzip);
    json_fetch_free(d->doc);
    goflow_csv_free(d->csv);
}

/* The caps of a report file: report_max_bytes and report_max_ratio. */
static void file_caps(const source_config *conf, int64_t *max_bytes, long *max_ratio)
{
    long n;
    *max_bytes = config_int(conf, "report_max_bytes", &n) && n > 0 ? n : INT64_C(1) << 30;
    *max_ratio = config_int(conf, "report_max_ratio", &n) && n > 0 ? n : 200;
}

static fe_rc dl_init(download *d, inv_run *r, int kind, fe_err *err)
{
    static const char *const json_paths[] = {"[]"};
    static const char *const jsonl_paths[] = {"."};
    bool jsonl = r->o->report_format == GOFLOW_FMT_JSONL;
    json_fetch_spec spec = {.paths = jsonl ? jsonl_paths : json_paths,
                            .npaths = 1,
                            .allow_multiple = jsonl,
                            .max_record_bytes = 1 << 20,
                            .on_record = on_json_row,
                            .user = d};
    int64_t max_bytes;
    long max_ratio;
    memset(d, 0, sizeof *d);
    d->run = r;
    d->kind = kind;
    file_caps(r->ctx->conf, &max_bytes, &max_ratio);
    d->unzip = goflow_unzip_new(max_bytes, max_ratio, parse_plain, d);
    if (r->o->report_format == GOFLOW_FMT_CSV)
        d->csv = goflow_csv_new(0, on_csv_row, d);
    else
        d->doc = json_fetch_new(&spec);
    if (!d->unzip || (!d->csv && !d->doc)) {
        dl_term(d);
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a download");
    }
    return FE_OK;
}

/* One part of a URL, lower-cased by libcurl where it normalises (scheme); NULL
 * when absent or out of memory. Free with curl_free. */
static char *url_part(CURLU *u, CURLUPart what)
{
    char *v = NULL;
    return curl_url_get(u, what, &v, CURLU_DEFAULT_PORT) == CURLUE_OK ? v : NULL;
}

/* True when a and b (absolute URLs) have the same scheme, host (ignoring case) and
 * port, compared through libcurl's URL parser; false when either does not parse. */
static bool same_origin(const char *a, const char *b)
{
    CURLU *ua = curl_url(), *ub = curl_url();
    bool same = false;
    if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
        curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK) {
        static const CURLUPart parts[] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
        same = true;
        for (size_t i = 0; i < sizeof parts / sizeof parts[0] && same; i++) {
            char *pa = url_part(ua, parts[i]), *pb = url_part(ub, parts[i]);
            same = pa && pb && curl_strequal(pa, pb);
            curl_free(pa);
            curl_free(pb);
        }
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}

/* GET file_url. Goflow's file_url redirects to its CDN (a pre-signed URL that
 * refuses, or must never see, the API token). The token goes only to a file_url
 * on the API's own scheme, host and port (as the vendor's clients send it); a
 * file_url elsewhere gets no Authorization at all, and on any redirect to another
 * host libcurl drops it (no_auth_on_redirect). */
static fe_rc download_report(inv_run *r, int kind, fe_err *err)
{
    download d;
    buf url;
    const char *h[4];
    http_result res = {0};
    fe_rc rc;
    FE_TRY(dl_init(&d, r, kind, err));
    buf_init(&url, 0);
    if ((rc = goflow_resolve(r->o, r->file_url[kind], &url, err)) != FE_OK)
        goto done;
    int nh = goflow_headers(r->o, same_origin(buf_cstr(&url), r->o->base), h);
    http_request req = {
        .method = "GET",
        .url = buf_cstr(&url),
        .headers = h,
        .nheaders = nh,
        .no_auth_on_redirect = true,
        .sink = {.on_data = dl_data, .on_reset = dl_reset, .on_end = dl_end, .ctx = &d}};
    rc = http_run(r->ctx->http, &req, &res, r->ctx->stats, err);
    if (rc == FE_OK && res.rc != FE_OK) {
        *err = res.err;
        fe_err_wrap(err, "report %" PRId64 " file", r->ids[kind]);
        rc = res.rc;
    }
    if (rc == FE_OK)
        r->ctx->stats->pages++;
done:
    http_result_term(&res);
    buf_term(&url);
    dl_term(&d);
    return rc;
}

/* ---- request, checkpoint, poll ---------------------------------------------------- */

typedef struct {
    char status[32];
    char id[32];
    char file_url[2048];
    char at[64];
    char records_count[32];
    char message[200];
} report_doc;

static fe_rc on_report_doc(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    report_doc *d = user;
    const char *v;
    (void)err;
    if ((v = json_rec_str(rec, "status")))
        snprintf(d->status, sizeof d->status, "%s", v);
    if ((v = json_rec_str(rec, "id")))
        snprintf(d->id, sizeof d->id, "%s", v);
    if ((v = json_rec_str(rec, "completed.file_url")))
        snprintf(d->file_url, sizeof d->file_url, "%s", v);
    if ((v = json_rec_str(rec, "completed.at")))
        snprintf(d->at, sizeof d->at, "%s", v);
    if ((v = json_rec_str(rec, "completed.records_count")))
        snprintf(d->records_count, sizeof d->records_count, "%s", v);
    /* Server text that may quote a credential: log_redact masks it whole before it
     * cuts (a secret cut first would leave a piece the mask no longer knows). */
    if ((v = json_rec_str(rec, "error.message")))
        log_redact(d->message, sizeof d->message, v);
    return FE_OK;
}

/* A report id: a count above 0. */
static bool parse_id(const char *s, int64_t *out)
{
    int64_t v;
    if (!json_parse_count(s, &v) || v == 0)
        return false;
    *out = v;
    return true;
}

/* completed.records_count, or -1 when absent or not a count. */
static int64_t parse_records_count(const char *s)
{
    int64_t v;
    return json_parse_count(s, &v) ? v : -1;
}

static fe_rc request_report(inv_run *r, int kind, fe_err *err)
{
    char url[1024], body[1024];
    report_doc doc = {0};
    long status;
    http_client *http = kind == KIND_COUNTS ? r->st->counts_http : r->st->values_http;
    snprintf(url, sizeof url, "%s/reports/inventory/%s", r->o->base, kind_names[kind]);
    snprintf(body, sizeof body,
             "{\"columns\":[%s],\"order_by\":[{\"field\":\"warehouse_id\",\"direction\":\"asc\"},"
             "{\"field\":\"product_id\",\"direction\":\"asc\"}],\"format\":\"%s\","
             "\"options\":{\"include_zeros\":true}}",
             kind_columns[kind], format_names[r->o->report_format]);
    FE_TRY(goflow_get_object(http, r->ctx->stats, r->o, "POST", url, body, on_report_doc, &doc,
                             &status, err));
    if (status == 404 || !parse_id(doc.id, &r->ids[kind]))
        return fe_err_set(err, FE_EJSON, "POST /reports/inventory/%s: HTTP %ld without a report id",
                          kind_names[kind], status);
    log_info(r->ctx->logctx, "requested the inventory %s report %" PRId64, kind_names[kind],
             r->ids[kind]);
    return FE_OK;
}

/* Commits the pending report ids right away, so a run that dies while waiting
 * resumes them. */
static fe_rc commit_pending(inv_run *r, fe_err *err)
{
    char cursor[256];
    load_commit c = {.cursor = cursor};
    snprintf(cursor, sizeof cursor,
             "{\"pending_report\":{\"counts\":%" PRId64 ",\"values\":%" PRId64
             ",\"requested_at\":\"%s\"}}",
             r->ids[KIND_COUNTS], r->ids[KIND_VALUES], r->requested_at);
    FE_TRY(loader_begin(r->ctx->ld, r->ctx->source_key, r->ctx->stream, r->ctx->run_id, err));
    return loader_commit(r->ctx->ld, &c, r->ctx->stats, err);
}

/* Polls one report until it is completed. *expired: it answered 404. */
static fe_rc poll_report(inv_run *r, int kind, bool *expired, fe_err *err)
{
    char url[1024];
    int64_t delay = POLL_FIRST_US, start = ratelimit_now_us();
    *expired = false;
    snprintf(url, sizeof url, "%s/reports/%" PRId64, r->o->base, r->ids[kind]);
    for (;;) {
        report_doc doc = {0};
        long status;
        FE_TRY(goflow_get_object(r->ctx->http, r->ctx->stats, r->o, "GET", url, NULL, on_report_doc,
                                 &doc, &status, err));
        if (status == 404) {
            *expired = true;
            return FE_OK;
        }
        if (strcmp(doc.status, "completed") == 0) {
            if (!doc.file_url[0])
                return fe_err_set(err, FE_EJSON, "report %" PRId64 " completed without file_url",
                                  r->ids[kind]);
            snprintf(r->file_url[kind], sizeof r->file_url[kind], "%s", doc.file_url);
            r->records_count[kind] = parse_records_count(doc.records_count);
            if (kind == KIND_COUNTS)
                snprintf(r->completed_at, sizeof r->completed_at, "%s", doc.at);
            return FE_OK;
        }
        if (strcmp(doc.status, "error") == 0)
            return fe_err_set(err, FE_EHTTP, "report %" PRId64 " failed at Goflow: %s",
                              r->ids[kind], doc.message[0] ? doc.message : "(no message)");
        if (ratelimit_now_us() - start + delay > r->o->report_poll_max_us)
            return fe_err_set(err, FE_EHTTP,
                              "report %" PRId64 " still %s after report_poll_max; the next run "
                              "resumes it",
                              r->ids[kind], doc.status[0] ? doc.status : "pending");
        if (delay > TIME_US_PER_SEC)
            log_info(r->ctx->logctx, "report %" PRId64 " is %s: asking again in %.1f s",
                     r->ids[kind], doc.status[0] ? doc.status : "pending",
                     (double)delay / TIME_US_PER_SEC);
        FE_TRY(http_sleep(r->ctx->http, delay, err)); /* wakes for the stop flag */
        delay = delay * 2 > POLL_MAX_US ? POLL_MAX_US : delay * 2;
    }
}

/* The pending ids of a cursor from an interrupted run, if any. */
static fe_rc load_pending(inv_run *r, fe_err *err)
{
    char v[64];
    const char *cur = r->ctx->full_refresh ? NULL : r->ctx->cursor;
    for (int k = 0; k < r->kinds; k++) {
        char key[48];
        snprintf(key, sizeof key, "pending_report.%s", kind_names[k]);
        FE_TRY(stream_cursor_value(cur, key, v, sizeof v, err));
        if (v[0] && !parse_id(v, &r->ids[k]))
            r->ids[k] = 0;
    }
    FE_TRY(stream_cursor_value(cur, "pending_report.requested_at", r->requested_at,
                               sizeof r->requested_at, err));
    return FE_OK;
}

/* Requests what is not pending, checkpoints the ids, polls until completed; an
 * expired report is requested again once. */
static fe_rc obtain_reports(inv_run *r, fe_err *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        bool requested = false, expired = false;
        for (int k = 0; k < r->kinds; k++)
            if (r->ids[k] == 0) {
                FE_TRY(request_report(r, k, err));
                requested = true;
            } else if (attempt == 0) {
                log_info(r->ctx->logctx,
                         "resuming the inventory %s report %" PRId64 " requested at %s",
                         kind_names[k], r->ids[k], r->requested_at[0] ? r->requested_at : "?");
            }
        if (requested) {
            time_format_iso(time_now_us(), r->requested_at);
            FE_TRY(commit_pending(r, err));
        }
        for (int k = 0; k < r->kinds; k++) {
            bool gone;
            FE_TRY(poll_report(r, k, &gone, err));
            if (gone) {
                log_warn(r->ctx->logctx,
                         "report %" PRId64 " answers 404 (expired after 12 hours?): requesting "
                         "a new one",
                         r->ids[k]);
                r->ids[k] = 0;
                expired = true;
            }
        }
        if (!expired)
            return FE_OK;
    }
    return fe_err_set(err, FE_EHTTP, "the new inventory report answers 404 too");
}

static fe_rc snapshot_day(inv_run *r)
{
    int64_t at;
    if (!r->completed_at[0] || !time_parse_iso(r->completed_at, strlen(r->completed_at), &at))
        at = time_now_us();
    time_format_iso(at, r->completed_at);
    time_format_date(at, r->snapshot_date);
    return FE_OK;
}

static fe_rc read_warehouses(inv_run *r, fe_err *err)
{
    char url[1024];
    stream_stats before = *r->ctx->stats;
    snprintf(url, sizeof url, "%s/warehouses", r->o->base);
    FE_TRY(goflow_list_read(r->ctx, r->o, url, on_warehouse, NULL, r, err));
    /* Records of this stream are report rows, not warehouses. */
    r->ctx->stats->records = before.records;
    return FE_OK;
}

static fe_rc run_inventory(inv_run *r, fe_err *err)
{
    char cursor[160];
    load_commit c = {.cursor = cursor};
    FE_TRY(load_pending(r, err));
    FE_TRY(obtain_reports(r, err));
    FE_TRY(snapshot_day(r));
    FE_TRY(read_warehouses(r, err));
    FE_TRY(loader_begin(r->ctx->ld, r->ctx->source_key, r->ctx->stream, r->ctx->run_id, err));
    if (r->kinds > 1)
        FE_TRY(download_report(r, KIND_VALUES, err));
    FE_TRY(download_report(r, KIND_COUNTS, err));
    snprintf(cursor, sizeof cursor, "{\"snapshot_date\":\"%s\",\"report_id\":%" PRId64 "}",
             r->snapshot_date, r->ids[KIND_COUNTS]);
    return loader_commit(r->ctx->ld, &c, r->ctx->stats, err);
}

fe_rc goflow_run_inventory(stream_ctx *ctx, fe_err *err)
{
    goflow_opts o;
    inv_run r = {.ctx = ctx};
    fe_rc rc;
    if (!ctx->state)
        return fe_err_set(err, FE_EINVAL, "goflow: the source was not opened");
    FE_TRY(goflow_opts_load(ctx->conf, &o, err));
    r.o = &o;
    r.st = ctx->state;
    r.rows = loader_row_sink(ctx->ld);
    r.kinds = o.inventory_values ? 2 : 1;
    r.records_count[KIND_COUNTS] = r.records_count[KIND_VALUES] = -1;
    rc = run_inventory(&r, err);
    wh_map_term(&r.wh);
    val_map_term(&r.values);
    goflow_opts_term(&o);
    return rc;
}
