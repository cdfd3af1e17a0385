/* goflow_api: options, state, headers and the list reader of the Goflow source.
 * See goflow_api.h. */
#include "sources/goflow/goflow_api.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/json_fetch.h"
#include "extract/pager.h"
#include "transform/field.h"
#include "core/timeutil.h"

#define ACCEPT_JSON "Accept: application/json"
#define DEFAULT_HOST_FMT "https://%s.api.goflow.com/v1"

/* ---- options ------------------------------------------------------------------ */

fe_rc goflow_base_url(const source_config *conf, buf *out, fe_err *err)
{
    const char *v = config_str(conf, "base_url"), *sub = config_str(conf, "subdomain");
    if (v && *v)
        return source_base_url(conf, NULL, NULL, out, err);
    if (!sub || !*sub)
        return fe_err_set(err, FE_ECONFIG,
                          "[source.%s] goflow needs subdomain (the account's "
                          "SUBDOMAIN.api.goflow.com) or base_url",
                          conf->name);
    for (const char *p = sub; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return fe_err_set(err, FE_ECONFIG,
                              "[source.%s] subdomain '%.40s' may hold only letters, digits "
                              "and '-'",
                              conf->name, sub);
    if (!buf_printf(out, DEFAULT_HOST_FMT, sub))
        return fe_err_set(err, FE_ENOMEM, "out of memory building base_url");
    return FE_OK;
}

static double number_or(const source_config *conf, const char *key, double def)
{
    double d;
    long l;
    if (config_double(conf, key, &d))
        return d;
    return config_int(conf, key, &l) ? (double)l : def;
}

static bool bool_or(const source_config *conf, const char *key, bool def)
{
    bool b;
    return config_bool(conf, key, &b) ? b : def;
}

static fe_rc opts_format(const source_config *conf, goflow_opts *o, fe_err *err)
{
    const char *f = config_str(conf, "report_format");
    if (!f || !*f || strcmp(f, "json") == 0)
        o->report_format = GOFLOW_FMT_JSON;
    else if (strcmp(f, "jsonl") == 0)
        o->report_format = GOFLOW_FMT_JSONL;
    else if (strcmp(f, "csv") == 0)
        o->report_format = GOFLOW_FMT_CSV;
    else
        return fe_err_set(err, FE_ECONFIG, "[source.%s] report_format must be json, jsonl or csv",
                          conf->name);
    return FE_OK;
}

static fe_rc opts_headers(const source_config *conf, goflow_opts *o, fe_err *err)
{
    const char *token = config_str(conf, "token"), *beta = config_str(conf, "beta_contact");
    buf b;
    if (!token || !*token)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] token is required for goflow", conf->name);
    if (strpbrk(token, "\r\n") || (beta && strpbrk(beta, "\r\n")))
        return fe_err_set(err, FE_ECONFIG, "[source.%s] token and beta_contact are one line each",
                          conf->name);
    buf_init(&b, 0);
    if (!buf_printf(&b, "Authorization: Bearer %s", token))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    o->auth_header = buf_take(&b, NULL);
    if (beta && *beta) {
        buf_init(&b, 0);
        if (!buf_printf(&b, "X-Beta-Contact: %s", beta))
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        o->beta_header = buf_take(&b, NULL);
    }
    return FE_OK;
}

void goflow_opts_term(goflow_opts *o)
{
    free(o->base);
    free(o->auth_header);
    free(o->beta_header);
    memset(o, 0, sizeof *o);
}

fe_rc goflow_opts_load(const source_config *conf, goflow_opts *o, fe_err *err)
{
    buf b;
    fe_rc rc;
    memset(o, 0, sizeof *o);
    buf_init(&b, 0);
    if ((rc = goflow_base_url(conf, &b, err)) != FE_OK) {
        buf_term(&b);
        return rc;
    }
    o->base = buf_take(&b, NULL);
    if (!o->base)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    if (!config_duration(conf, "lookback", &o->lookback_us))
        o->lookback_us = 2 * 3600 * TIME_US_PER_SEC;
    o->rescan_us = config_int_or(conf, "rescan_days", 7) * 86400 * TIME_US_PER_SEC;
    o->start_date = config_str(conf, "start_date");
    if (o->start_date && !*o->start_date)
        o->start_date = NULL;
    o->line_price_is_unit = bool_or(conf, "line_price_is_unit", true);
    o->inventory_values = bool_or(conf, "inventory_values", false);
    if (!config_duration(conf, "report_poll_max", &o->report_poll_max_us))
        o->report_poll_max_us = 600 * TIME_US_PER_SEC;
    o->checkpoint_records = config_int_or(conf, "checkpoint_records", 5000);
    o->list_per_minute = number_or(conf, "list_rate_per_minute", 60);
    o->report_per_hour = number_or(conf, "report_rate_per_hour", 6);
    if ((rc = opts_headers(conf, o, err)) == FE_OK)
        rc = opts_format(conf, o, err);
    if (rc != FE_OK)
        goflow_opts_term(o);
    return rc;
}

/* ---- state ---------------------------------------------------------------------- */

void goflow_budget(double n, double period_s, double *rate, double *burst)
{
    *burst = n / 6 < 1 ? 1 : (double)(long)(n / 6);
    double rest = n - *burst;
    *rate = (rest > 0 ? rest : 0.5) / period_s;
}

void goflow_state_free(goflow_state *s)
{
    if (!s)
        return;
    http_client_free(s->counts_http);
    http_client_free(s->values_http);
    ratelimit_free(s->counts_rl);
    ratelimit_free(s->values_rl);
    free(s);
}

fe_rc goflow_state_new(const source_config *conf, const http_client *like, goflow_state **out,
                       fe_err *err)
{
    double per_hour = number_or(conf, "report_rate_per_hour", 6), rate, burst;
    http_opts ho;
    goflow_state *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    goflow_budget(per_hour, 3600, &rate, &burst);
    http_client_opts(like, &ho);
    ho.refund_failed_attempts = true; /* the budget is spent by reports created */
    if (!(s->counts_rl = ratelimit_new(rate, burst)) ||
        !(s->values_rl = ratelimit_new(rate, burst))) {
        goflow_state_free(s);
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    if (!(s->counts_http = http_client_new(&ho, s->counts_rl, err)) ||
        !(s->values_http = http_client_new(&ho, s->values_rl, err))) {
        goflow_state_free(s);
        return err ? err->code : FE_ENOMEM;
    }
    *out = s;
    return FE_OK;
}

/* ---- requests -------------------------------------------------------------------- */

int goflow_headers(const goflow_opts *o, bool with_auth, const char *h[4])
{
    int n = 0;
    h[n++] = ACCEPT_JSON;
    if (with_auth)
        h[n++] = o->auth_header;
    if (o->beta_header && with_auth)
        h[n++] = o->beta_header;
    return n;
}

fe_rc goflow_resolve(const goflow_opts *o, const char *url, buf *out, fe_err *err)
{
    CURLU *u = curl_url();
    char *full = NULL;
    fe_rc rc = FE_OK;
    buf_reset(out);
    if (!u)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    /* A base with a trailing '/' makes relative paths resolve below it. */
    if (curl_url_set(u, CURLUPART_URL, o->base, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
        rc = fe_err_set(err, FE_EJSON, "'%.80s' is not a URL", url);
    else if (!buf_puts(out, full))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    curl_free(full);
    curl_url_cleanup(u);
    return rc;
}

/* ---- lists ------------------------------------------------------------------------ */

typedef struct {
    json_rec_fn on_rec;
    goflow_page_fn on_page;
    void *user;
    stream_ctx *ctx;
    const goflow_opts *o;
    json_fetch *doc;
    buf next;
    bool saw_next_key; /* the page has `next`, a string or null */
    int64_t page_rows;
} list_run;

enum { LIST_REC_DATA = 0, LIST_REC_ROOT = 1 };

static fe_rc on_list_record(void *c, int which, const json_rec *rec, fe_err *err)
{
    list_run *l = c;
    if (which == LIST_REC_ROOT) {
        const json_field *f = json_rec_get(rec, "next");
        const char *n;
        fe_err why;
        /* Cut at a NUL, `next` would read as "" and end the list early: a full
         * read would then mark the members of later pages deleted. */
        if (field_text(rec, "next", &n, &why) != FE_OK)
            return fe_err_set(err, FE_EJSON, "unexpected response shape: %s", why.msg);
        l->saw_next_key = f && (f->type == JV_STRING || f->type == JV_NULL);
        buf_reset(&l->next);
        if (n && !buf_puts(&l->next, n))
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        return FE_OK;
    }
    l->page_rows++;
    /* The record sink's failure (a mapping, the loader) stops the list: it is the
     * transfer's result (http_sink.on_data), reported and never retried. */
    return l->on_rec(l->user, LIST_REC_DATA, rec, err);
}

static void list_page_start(void *c)
{
    list_run *l = c;
    l->page_rows = 0;
    l->saw_next_key = false;
    buf_reset(&l->next);
}

/* A whole 2xx body counts only as a list page: a `data` array and `next` (a
 * string, or null on the last page). A gateway's `200 {}` read as the end of the
 * list would make a full read mark every member deleted; it is refused and
 * retried like a 5xx (http_sink.on_end). */
static fe_rc list_page_end(void *c, const json_stream *js, fe_err *err)
{
    list_run *l = c;
    FE_TRY(json_fetch_require(js, LIST_REC_DATA, JSON_AS_ARRAY,
                              "unexpected response shape: no `data` array", err));
    if (!l->saw_next_key)
        return fe_err_set(err, FE_EJSON, "unexpected response shape: no `next` (string or null)");
    return FE_OK;
}

static fe_rc list_fetch(void *user, const pager_at *at, pager_page *page, fe_err *err)
{
    list_run *l = user;
    const char *h[4];
    int nh = goflow_headers(l->o, true, h);
    http_request req = {.method = "GET", .url = at->url, .headers = h, .nheaders = nh};
    FE_TRY(json_fetch_get(l->doc, l->ctx->http, &req, l->ctx->stats, err));
    l->ctx->stats->pages++;
    l->ctx->stats->records += l->page_rows;
    *page = (pager_page){.rows = l->page_rows, .total = -1, .next = buf_cstr(&l->next)};
    return FE_OK;
}

static fe_rc list_page_done(void *user, const pager_page *page, bool *stop, fe_err *err)
{
    list_run *l = user;
    (void)page;
    (void)stop;
    if (l->on_page)
        FE_TRY(l->on_page(l->user, err));
    stream_progress(l->ctx);
    return FE_OK;
}

static fe_rc list_resolve(void *user, const char *next, buf *out, fe_err *err)
{
    list_run *l = user;
    return goflow_resolve(l->o, next, out, err);
}

/* Goflow's one refusal: a `next` leading back to a page of this list already read
 * (A -> B -> A), which would otherwise run forever. */
static fe_rc list_refuse(void *user, pager_refusal why, const pager_at *at, const pager_page *last,
                         fe_err *err)
{
    char shown[512];
    (void)user;
    (void)why;
    (void)last;
    http_url_for_message(at->url, shown, sizeof shown);
    return fe_err_set(err, FE_EJSON, "Goflow next link loops back to a page already read: %s",
                      shown);
}

fe_rc goflow_list_read(stream_ctx *ctx, const goflow_opts *o, const char *first_url,
                       json_rec_fn on_rec, goflow_page_fn on_page, void *user, fe_err *err)
{
    static const char *const paths[] = {"data[]", "."};
    /* Goflow sends no count: `next` alone ends the list, an empty page included. */
    static const pager_rules rules = {.next_link = true};
    static const pager_hooks hooks = {.fetch = list_fetch,
                                      .page_done = list_page_done,
                                      .refuse = list_refuse,
                                      .resolve = list_resolve};
    list_run l = {.on_rec = on_rec, .on_page = on_page, .user = user, .ctx = ctx, .o = o};
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 2,
                            .max_record_bytes = GOFLOW_RECORD_MAX,
                            .on_record = on_list_record,
                            .on_reset = list_page_start,
                            .on_end = list_page_end,
                            .user = &l};
    buf url;
    fe_rc rc;
    buf_init(&l.next, 0);
    buf_init(&url, 0);
    if (!(l.doc = json_fetch_new(&spec)))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory starting a page reader");
    else if ((rc = goflow_resolve(o, first_url, &url, err)) == FE_OK)
        rc = pager_run(&rules, &hooks, &l, buf_cstr(&url), NULL, err);
    json_fetch_free(l.doc);
    buf_term(&l.next);
    buf_term(&url);
    return rc;
}

/* ---- single objects ------------------------------------------------------------- */

/* A whole 2xx body counts only when it is a JSON object; else retried like a 5xx. */
static fe_rc object_end(void *user, const json_stream *js, fe_err *err)
{
    (void)user;
    return json_fetch_require(js, 0, JSON_AS_OBJECT, "unexpected response shape: not a JSON object",
                              err);
}

fe_rc goflow_get_object(http_client *http, stream_stats *stats, const goflow_opts *o,
                        const char *method, const char *url, const char *body, json_rec_fn fn,
                        void *user, long *status, fe_err *err)
{
    static const char *const paths[] = {"."};
    const char *h[5];
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 1,
                            .max_record_bytes = 1 << 20,
                            .on_record = fn,
                            .on_end = object_end,
                            .user = user};
    json_fetch *doc = NULL;
    http_result res = {0};
    buf full;
    fe_rc rc;
    int nh = goflow_headers(o, true, h);
    *status = 0;
    if (body)
        h[nh++] = "Content-Type: application/json";
    buf_init(&full, 0);
    if ((rc = goflow_resolve(o, url, &full, err)) != FE_OK)
        goto done;
    if (!(doc = json_fetch_new(&spec))) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    http_request req = {.method = method,
                        .url = buf_cstr(&full),
                        .headers = h,
                        .nheaders = nh,
                        .body = body,
                        .body_len = body ? strlen(body) : 0};
    rc = json_fetch_run(doc, http, &req, &res, stats, err);
    *status = res.status;
    if (rc == FE_OK && res.status == 404)
        goto done;
    if (rc == FE_OK && res.rc != FE_OK) {
        *err = res.err;
        rc = res.rc;
    }
done:
    http_result_term(&res);
    json_fetch_free(doc);
    buf_term(&full);
    return rc;
}

/* ---- check: the report quotas ------------------------------------------------------ */

typedef struct {
    char allowance[32], consumed[32], available[32], replenishes[64], period[16];
} quota_doc;

static fe_rc on_quota(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    quota_doc *q = user;
    const char *v;
    (void)err;
    if ((v = json_rec_str(rec, "quota.allowance")))
        snprintf(q->allowance, sizeof q->allowance, "%s", v);
    if ((v = json_rec_str(rec, "quota.per_period")))
        snprintf(q->period, sizeof q->period, "%s", v);
    if ((v = json_rec_str(rec, "consumed")))
        snprintf(q->consumed, sizeof q->consumed, "%s", v);
    if ((v = json_rec_str(rec, "available")))
        snprintf(q->available, sizeof q->available, "%s", v);
    if ((v = json_rec_str(rec, "replenishes_at")))
        snprintf(q->replenishes, sizeof q->replenishes, "%s", v);
    return FE_OK;
}

fe_rc goflow_check_quotas(http_client *http, const goflow_opts *o, buf *out, fe_err *err)
{
    static const char *const kind_names[] = {"counts", "values"};
    int kinds = o->inventory_values ? 2 : 1;
    for (int k = 0; k < kinds; k++) {
        char url[1024];
        quota_doc q;
        memset(&q, 0, sizeof q);
        long status;
        snprintf(url, sizeof url, "%s/reports/quotas/inventory_%s", o->base, kind_names[k]);
        FE_TRY(goflow_get_object(http, NULL, o, "GET", url, NULL, on_quota, &q, &status, err));
        bool ok =
            status == 404
                ? buf_printf(out, "  report quota inventory_%s: unknown (404)\n", kind_names[k])
                : buf_printf(out,
                             "  report quota inventory_%s: %s of %s records per %s "
                             "available (%s consumed, replenishes %s)\n",
                             kind_names[k], q.available[0] ? q.available : "?",
                             q.allowance[0] ? q.allowance : "?", q.period[0] ? q.period : "day",
                             q.consumed[0] ? q.consumed : "?",
                             q.replenishes[0] ? q.replenishes : "?");
        if (!ok)
            return fe_err_set(err, FE_ENOMEM, "out of memory");
    }
    return FE_OK;
}
