/* verify: self-verifying loads (see verify.h). */
#include "app/verify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "load/pg.h"
#include "load/reconcile.h"
#include "app/source_env.h"
#include "app/stream_select.h"

#define DETAIL_MAX 2048
#define IDS_SHOWN 20
#define DEEP_DAYS 7 /* deep's window when none is given */

verify_policy verify_policy_of(const source_config *conf)
{
    const char *v = config_str(conf, "verify");
    if (v && strcmp(v, "off") == 0)
        return VERIFY_OFF;
    if (v && strcmp(v, "fail") == 0)
        return VERIFY_FAIL;
    return VERIFY_WARN;
}

const verify_def *verify_find(const source_def *def, const char *stream)
{
    for (int i = 0; def && i < def->nverify; i++)
        if (strcmp(def->verify[i].stream, stream) == 0)
            return &def->verify[i];
    return NULL;
}

void verify_outcome_init(verify_outcome *o)
{
    memset(o, 0, sizeof *o);
    buf_init(&o->lines, 1 << 20);
    buf_init(&o->json, 1 << 20);
}

void verify_outcome_term(verify_outcome *o)
{
    buf_term(&o->lines);
    buf_term(&o->json);
}

/* --- one verification ---------------------------------------------------- */

/* A figure the source published, copied out of its callback. */
typedef struct {
    rc_scope s;
    char from[11], to[11], store[64], value[48], statuses[128];
    bool has_from, has_to, has_store, has_statuses;
} vfig;

typedef struct {
    vfig *v;
    size_t n, cap;
} vfigs;

/* A deep row: an id and its canonical text. */
typedef struct {
    char *id, *text;
} vpair;

typedef struct {
    vpair *v;
    size_t n, cap;
} vpairs;

typedef struct {
    const verify_job *job;
    verify_outcome *out;
    int64_t vid;
    decimal tolerance;
    int narrow_left;    /* figure requests narrowing may still make */
    char today[11];     /* in the def's basis */
    char first_day[11]; /* of the warehouse's rows, "" none */
    vfigs *figs;        /* where figure() copies to */
    rc_ids *ids;        /* where id() adds to */
    vpairs *pairs;      /* where id() adds to under deep */
} vrun;

static fe_rc put_figure(verify_query *q, const rc_scope *s, const char *value, fe_err *err)
{
    vrun *r = q->user;
    vfigs *f = r->figs;
    vfig *room = buf_array_room(f->v, &f->cap, f->n, sizeof *room, 16);
    if (!room)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    f->v = room;
    vfig *g = &f->v[f->n++];
    memset(g, 0, sizeof *g);
    g->s = *s;
    snprintf(g->from, sizeof g->from, "%s", s->from ? s->from : "");
    snprintf(g->to, sizeof g->to, "%s", s->to ? s->to : "");
    snprintf(g->store, sizeof g->store, "%s", s->store_id ? s->store_id : "");
    snprintf(g->value, sizeof g->value, "%s", value);
    snprintf(g->statuses, sizeof g->statuses, "%s", s->statuses ? s->statuses : "");
    g->has_from = s->from != NULL;
    g->has_to = s->to != NULL;
    g->has_store = s->store_id != NULL;
    g->has_statuses = s->statuses != NULL;
    g->s.from = g->s.to = g->s.store_id = g->s.statuses = NULL; /* the array moves */
    return FE_OK;
}

/* The figure's scope, its strings pointing into f. */
static rc_scope fig_scope(const vfig *f)
{
    rc_scope s = f->s;
    s.from = f->has_from ? f->from : NULL;
    s.to = f->has_to ? f->to : NULL;
    s.store_id = f->has_store ? f->store : NULL;
    s.statuses = f->has_statuses ? f->statuses : NULL;
    return s;
}

static fe_rc put_id(verify_query *q, const char *id, const char *text, fe_err *err)
{
    vrun *r = q->user;
    if (r->pairs && text) {
        vpairs *p = r->pairs;
        vpair *room = buf_array_room(p->v, &p->cap, p->n, sizeof *room, 64);
        if (!room)
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        p->v = room;
        p->v[p->n].id = strdup(id);
        p->v[p->n].text = strdup(text);
        if (!p->v[p->n].id || !p->v[p->n].text) {
            free(p->v[p->n].id);
            free(p->v[p->n].text);
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        }
        p->n++;
        return FE_OK;
    }
    if (r->ids && !rc_ids_add(r->ids, id))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return FE_OK;
}

static verify_query query_for(vrun *r, const char *from, const char *to, const char *store)
{
    const verify_job *j = r->job;
    verify_query q = {.conf = j->conf,
                      .http = j->http,
                      .state = j->state,
                      .stats = j->stats,
                      .from = from,
                      .to = to,
                      .store_id = store,
                      .figure = put_figure,
                      .id = put_id,
                      .user = r};
    return q;
}

static const char *entity_word(rc_entity e)
{
    static const char *const words[] = {"orders", "products", "customers", "stores"};
    return words[e];
}

/* Appends one comparison to out's lines and JSON, and records its row. */
static fe_rc note(vrun *r, const char *scope, const char *measure, const decimal *src,
                  const decimal *wh, const char *status, const char *detail, fe_err *err)
{
    const verify_job *j = r->job;
    rc_row row = {.verification_id = r->vid,
                  .run_id = j->run_id,
                  .source_key = j->source_key,
                  .stream = j->vd->stream,
                  .scope = scope,
                  .measure = measure,
                  .source = src,
                  .warehouse = wh,
                  .status = status,
                  .detail = detail};
    char s[DECIMAL_TEXT_MAX] = "?", w[DECIMAL_TEXT_MAX] = "?";
    r->out->checks++;
    if (strcmp(status, "ok") != 0) {
        if (src)
            decimal_format(*src, s);
        if (wh)
            decimal_format(*wh, w);
        if (strcmp(status, "error") == 0)
            r->out->errors++;
        else
            r->out->mismatches++;
        bool ok =
            buf_printf(&r->out->lines, "  %s %s (%s): source %s, warehouse %s%s%s\n", status, scope,
                       measure, s, w, detail && *detail ? "; " : "", detail ? detail : "");
        ok = ok && (r->out->json.len == 0 || buf_putc(&r->out->json, ',')) &&
             buf_puts(&r->out->json, "{\"scope\":") && buf_put_jsonstr(&r->out->json, scope) &&
             buf_puts(&r->out->json, ",\"measure\":") && buf_put_jsonstr(&r->out->json, measure) &&
             buf_puts(&r->out->json, ",\"status\":") && buf_put_jsonstr(&r->out->json, status) &&
             buf_puts(&r->out->json, ",\"source\":") &&
             buf_put_jsonstr(&r->out->json, src ? s : "") &&
             buf_puts(&r->out->json, ",\"warehouse\":") &&
             buf_put_jsonstr(&r->out->json, wh ? w : "") &&
             buf_puts(&r->out->json, ",\"detail\":") &&
             buf_put_jsonstr(&r->out->json, detail ? detail : "") && buf_putc(&r->out->json, '}');
        (void)ok; /* a report cut by its cap still has the rows in etl.reconcile */
    }
    return reconcile_record(j->conn, &row, err);
}

/* An error of the source (not of the warehouse): one `error` row. */
static fe_rc note_source_error(vrun *r, const char *scope, const fe_err *why, fe_err *err)
{
    return note(r, scope, "count", NULL, NULL, "error", why->msg, err);
}

static bool warehouse_failed(const vrun *r, const fe_err *err)
{
    return err->code == FE_EPG || err->code == FE_ECONNECT || !pg_usable(r->job->conn);
}

/* Source figures of a window (of one store) into figs. */
static fe_rc source_figures(vrun *r, const char *from, const char *to, const char *store,
                            bool counts_only, vfigs *figs, fe_err *err)
{
    verify_query q = query_for(r, from, to, store);
    q.counts_only = counts_only;
    r->figs = figs;
    fe_rc rc = r->job->vd->figures(&q, err);
    r->figs = NULL;
    return rc;
}

/* The ids of a leaf scope on both sides, diffed into detail. */
static fe_rc diff_ids(vrun *r, const rc_scope *s, char *detail, size_t size, fe_err *err)
{
    rc_ids src, wh;
    char missing[DETAIL_MAX / 2] = "", extra[DETAIL_MAX / 2] = "";
    rc_ids_init(&src);
    rc_ids_init(&wh);
    verify_query q = query_for(r, s->from, s->to, s->store_id);
    r->ids = &src;
    fe_rc rc = r->job->vd->ids(&q, err);
    r->ids = NULL;
    if (rc != FE_OK) {
        snprintf(detail, size, "the source's ids could not be read: %s", err->msg);
        fe_err_clear(err);
        rc = FE_OK;
    } else if ((rc = reconcile_ids(r->job->conn, r->job->source_key, s, &wh, err)) == FE_OK) {
        size_t m = rc_ids_minus(&src, &wh, missing, sizeof missing, IDS_SHOWN);
        size_t x = rc_ids_minus(&wh, &src, extra, sizeof extra, IDS_SHOWN);
        if (m && x)
            snprintf(detail, size, "missing: %s; extra: %s", missing, extra);
        else if (m)
            snprintf(detail, size, "missing: %s", missing);
        else if (x)
            snprintf(detail, size, "extra: %s", extra);
        else
            snprintf(detail, size, "the ids agree (%zu); the difference is elsewhere", src.n);
    }
    rc_ids_term(&src);
    rc_ids_term(&wh);
    return rc;
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const vpair *)a)->id, ((const vpair *)b)->id);
}

static void pairs_term(vpairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].id);
        free(p->v[i].text);
    }
    free(p->v);
}

static void list_add(char *dst, size_t size, size_t *n, const char *id)
{
    size_t used = strlen(dst);
    if (*n < IDS_SHOWN && used < size)
        snprintf(dst + used, size - used, "%s%s", *n ? "," : "", id);
    (*n)++;
}

/* Sorts the pairs by id and keeps one of each (a page read again after a cut
 * transfer maps its records twice). */
static void pairs_unique(vpairs *p)
{
    size_t w = 0;
    if (p->n)
        qsort(p->v, p->n, sizeof *p->v, cmp_pair);
    for (size_t i = 0; i < p->n; i++) {
        if (w > 0 && strcmp(p->v[w - 1].id, p->v[i].id) == 0) {
            free(p->v[i].id);
            free(p->v[i].text);
            continue;
        }
        p->v[w++] = p->v[i];
    }
    p->n = w;
}

/* Walks the source's rows (sorted, unique) beside the warehouse's (ids and texts
 * in id order): lists[0] and n[0] the missing ids, [1] the extra, [2] the
 * different. */
static void deep_diff(const vpairs *src, const rc_ids *ids, const rc_ids *texts, char lists[3][600],
                      size_t n[3])
{
    size_t a = 0, b = 0;
    while (a < src->n || b < ids->n) {
        int c = a == src->n ? 1 : b == ids->n ? -1 : strcmp(src->v[a].id, ids->v[b]);
        if (c < 0)
            list_add(lists[0], 600, &n[0], src->v[a++].id);
        else if (c > 0)
            list_add(lists[1], 600, &n[1], ids->v[b++]);
        else {
            if (strcmp(src->v[a].text, texts->v[b]) != 0)
                list_add(lists[2], 600, &n[2], src->v[a].id);
            a++;
            b++;
        }
    }
}

/* Deep: the window's mapped orders against the warehouse's rows. */
static fe_rc deep_window(vrun *r, const char *from, const char *to, const char *store, fe_err *err)
{
    const verify_job *j = r->job;
    vpairs src = {0};
    rc_ids ids, texts;
    char scope[256], detail[DETAIL_MAX], lists[3][600] = {"", "", ""};
    size_t nm, nx, nd;
    rc_scope s = {.entity = j->vd->entity,
                  .basis = j->vd->basis,
                  .from = from,
                  .to = to,
                  .store_kind = j->vd->store_kind,
                  .store_id = store};
    rc_ids_init(&ids);
    rc_ids_init(&texts);
    reconcile_scope_text(&s, "deep orders", scope, sizeof scope);
    verify_query q = query_for(r, from, to, store);
    r->pairs = &src;
    fe_rc rc = j->vd->deep(&q, err);
    r->pairs = NULL;
    if (rc != FE_OK) {
        if (!warehouse_failed(r, err)) {
            fe_err why = *err;
            fe_err_clear(err);
            rc = note_source_error(r, scope, &why, err);
        }
        goto done;
    }
    if ((rc = reconcile_order_texts(j->conn, j->source_key, &s, &ids, &texts, err)) != FE_OK)
        goto done;
    pairs_unique(&src);
    size_t n[3] = {0};
    deep_diff(&src, &ids, &texts, lists, n);
    nm = n[0], nx = n[1], nd = n[2];
    decimal ns = decimal_zero(), nw = decimal_zero();
    ns.units = (__int128)src.n * 10000;
    nw.units = (__int128)ids.n * 10000;
    snprintf(detail, sizeof detail, "%zu missing%s%s; %zu extra%s%s; %zu different%s%s", nm,
             nm ? ": " : "", lists[0], nx, nx ? ": " : "", lists[1], nd, nd ? ": " : "", lists[2]);
    rc = note(r, scope, "rows", &ns, &nw, nm + nx + nd ? "mismatch" : "ok",
              nm + nx + nd ? detail : NULL, err);
done:
    pairs_term(&src);
    rc_ids_term(&ids);
    rc_ids_term(&texts);
    return rc;
}

static fe_rc compare(vrun *r, const vfig *f, fe_err *err);

static bool same_store(const char *a, const char *b)
{
    return (!a && !b) || buf_str_eq(a, b);
}

/* A mismatching figure whose window spans days: the figures of each half,
 * compared in turn. */
static fe_rc narrow(vrun *r, const rc_scope *s, fe_err *err)
{
    char from[11], to[11], left_to[11], right_from[11];
    snprintf(from, sizeof from, "%s", s->from ? s->from : r->first_day);
    snprintf(to, sizeof to, "%s", s->to ? s->to : r->today);
    if (!reconcile_split(from, to, left_to, right_from))
        return FE_OK;
    const char *halves[2][2] = {{from, left_to}, {right_from, to}};
    int before = r->out->mismatches + r->out->errors;
    for (int h = 0; h < 2; h++) {
        vfigs figs = {0};
        fe_rc rc;
        if (r->narrow_left-- <= 0) {
            char scope[256];
            reconcile_scope_text(s, entity_word(s->entity), scope, sizeof scope);
            return note(r, scope, s->measure == RC_REVENUE ? "revenue" : "count", NULL, NULL,
                        "error", "narrowing stopped: its budget of figure reads is spent", err);
        }
        rc = source_figures(r, halves[h][0], halves[h][1], s->store_id, s->measure == RC_COUNT,
                            &figs, err);
        for (size_t i = 0; rc == FE_OK && i < figs.n; i++)
            if (figs.v[i].s.measure == s->measure &&
                same_store(fig_scope(&figs.v[i]).store_id, s->store_id))
                rc = compare(r, &figs.v[i], err);
        free(figs.v);
        if (rc != FE_OK)
            return rc;
    }
    if (r->out->mismatches + r->out->errors > before)
        return FE_OK;
    /* Both halves agree: what differs is not on these days (an order dated before
     * the warehouse's first day, or without a day). */
    char scope[256], detail[128];
    rc_scope outside = *s;
    outside.from = from;
    outside.to = to;
    reconcile_scope_text(&outside, entity_word(s->entity), scope, sizeof scope);
    snprintf(detail, sizeof detail, "both halves agree: the difference lies outside %s..%s", from,
             to);
    return note(r, scope, s->measure == RC_REVENUE ? "revenue" : "count", NULL, NULL, "mismatch",
                detail, err);
}

static bool is_leaf(const vrun *r, const rc_scope *s)
{
    if (s->basis == RC_BY_NONE)
        return true;
    const char *from = s->from ? s->from : r->first_day, *to = s->to ? s->to : r->today;
    return reconcile_days(from, to) <= 1;
}

/* One figure against the warehouse; a mismatch is narrowed. */
static fe_rc compare(vrun *r, const vfig *f, fe_err *err)
{
    const verify_job *j = r->job;
    rc_scope s = fig_scope(f);
    decimal src, wh;
    char scope[256], detail[DETAIL_MAX] = "";
    const char *measure = s.measure == RC_REVENUE ? "revenue" : "count";
    s.entity = j->vd->entity;
    s.basis = j->vd->basis;
    if (s.store_id && !s.store_kind)
        s.store_kind = j->vd->store_kind;
    reconcile_scope_text(&s, entity_word(s.entity), scope, sizeof scope);
    if (!decimal_parse(f->value, strlen(f->value), &src)) {
        fe_err why = {.code = FE_EJSON};
        snprintf(why.msg, sizeof why.msg, "the source's figure '%s' is not a number", f->value);
        return note_source_error(r, scope, &why, err);
    }
    FE_TRY(reconcile_value(j->conn, j->source_key, &s, &wh, err));
    if (reconcile_within(src, wh, r->tolerance))
        return note(r, scope, measure, &src, &wh, "ok", NULL, err);
    bool leaf = is_leaf(r, &s);
    if (leaf && s.measure == RC_COUNT)
        FE_TRY(diff_ids(r, &s, detail, sizeof detail, err));
    else if (!leaf)
        snprintf(detail, sizeof detail, "narrowed by halves of the window (rows below)");
    else if (j->vd->deep)
        snprintf(detail, sizeof detail, "compared row by row (deep row below)");
    else
        snprintf(detail, sizeof detail,
                 "the counts of this window agree or were narrowed; the "
                 "source has no per-row reader to name the order");
    FE_TRY(note(r, scope, measure, &src, &wh, "mismatch", detail, err));
    if (!leaf)
        return narrow(r, &s, err);
    if (s.measure == RC_REVENUE && j->vd->deep)
        return deep_window(r, s.from, s.to, s.store_id, err);
    return FE_OK;
}

/* The window of a verification without one given. */
static void default_window(const vrun *r, char *from, char *to, const char **pf, const char **pt)
{
    const verify_job *j = r->job;
    *pf = *pt = NULL;
    if (j->vd->basis == RC_BY_NONE)
        return;
    if (j->from || j->to) {
        snprintf(from, 11, "%s", j->from ? j->from : (r->first_day[0] ? r->first_day : r->today));
        snprintf(to, 11, "%s", j->to ? j->to : r->today);
        *pf = from;
        *pt = to;
        return;
    }
    if (j->vd->run_days == 0)
        return; /* the whole list, one request; narrowing bounds it when needed */
    snprintf(to, 11, "%s", r->today);
    if (j->after_run || !r->first_day[0])
        verify_day_add(r->today, -(j->vd->run_days - 1), from);
    else
        snprintf(from, 11, "%s", r->first_day);
    *pf = from;
    *pt = to;
}

static fe_rc run_figures(vrun *r, fe_err *err)
{
    char from[11] = "", to[11] = "", scope[256];
    const char *pf, *pt;
    vfigs figs = {0};
    default_window(r, from, to, &pf, &pt);
    fe_rc rc = source_figures(r, pf, pt, NULL, false, &figs, err);
    if (rc != FE_OK) {
        free(figs.v);
        if (warehouse_failed(r, err))
            return rc;
        rc_scope s = {
            .entity = r->job->vd->entity, .basis = r->job->vd->basis, .from = pf, .to = pt};
        reconcile_scope_text(&s, entity_word(s.entity), scope, sizeof scope);
        fe_err why = *err;
        fe_err_clear(err);
        return note_source_error(r, scope, &why, err);
    }
    for (size_t i = 0; rc == FE_OK && i < figs.n; i++)
        rc = compare(r, &figs.v[i], err);
    free(figs.v);
    return rc;
}

static fe_rc run_deep(vrun *r, fe_err *err)
{
    const verify_job *j = r->job;
    char from[11], to[11];
    if (!j->vd->deep) {
        fe_err why = {.code = FE_EINVAL};
        snprintf(why.msg, sizeof why.msg, "deep: %s.%s has no per-row reader (not available)",
                 j->conf->name, j->vd->stream);
        log_info(j->logctx, "%s", why.msg);
        return FE_OK;
    }
    snprintf(to, sizeof to, "%s", j->to ? j->to : r->today);
    if (j->from)
        snprintf(from, sizeof from, "%s", j->from);
    else
        verify_day_add(to, -(DEEP_DAYS - 1), from);
    return deep_window(r, from, to, NULL, err);
}

fe_rc verify_stream(const verify_job *job, verify_outcome *out, fe_err *err)
{
    vrun r = {.job = job, .out = out, .narrow_left = VERIFY_NARROW_MAX};
    double tol = 0;
    config_double(job->conf, "verify_tolerance", &tol);
    /* tolerance in 1/10000 units, without a double reaching the figures */
    r.tolerance.units = (__int128)(tol * 10000.0 + 0.5);
    FE_TRY(reconcile_begin(job->conn, &r.vid, err));
    FE_TRY(reconcile_today(
        job->conn, job->vd->basis == RC_BY_LOCAL_DAY ? config_str(job->conf, "timezone") : "UTC",
        r.today, err));
    /* A source that reads up to a configured last day (Flowwow's end_date) is
     * verified up to that day, not up to today. */
    const char *end = config_str(job->conf, "end_date");
    if (end && reconcile_days(end, end) == 1 && strcmp(end, r.today) < 0)
        snprintf(r.today, sizeof r.today, "%s", end);
    FE_TRY(reconcile_first_day(job->conn, job->source_key, job->vd->entity, job->vd->basis,
                               r.first_day, err));
    if (!r.first_day[0])
        snprintf(r.first_day, sizeof r.first_day, "%s", r.today);
    FE_TRY(run_figures(&r, err));
    if (job->deep)
        FE_TRY(run_deep(&r, err));
    return FE_OK;
}

/* --- flowetl verify ---------------------------------------------------------- */

typedef struct {
    const config *cfg;
    const verify_request *req;
    PGconn *conn;
    buf json; /* the streams' objects */
    int streams, mismatched, failed;
} vcmd;

static bool selected(const verify_request *req, const char *source, const char *stream)
{
    size_t len = strlen(source);
    if (req->ntargets == 0)
        return true;
    for (int i = 0; i < req->ntargets; i++) {
        const char *t = req->targets[i];
        if (strncmp(t, source, len) != 0)
            continue;
        if (t[len] == '\0' || (t[len] == '.' && strcmp(t + len + 1, stream) == 0))
            return true;
    }
    return false;
}

/* A target names SOURCE.STREAM exactly. */
static bool names_stream(const verify_request *req, const char *source, const char *stream)
{
    size_t len = strlen(source);
    for (int i = 0; i < req->ntargets; i++)
        if (strncmp(req->targets[i], source, len) == 0 && req->targets[i][len] == '.' &&
            strcmp(req->targets[i] + len + 1, stream) == 0)
            return true;
    return false;
}

static fe_rc source_key_of(PGconn *conn, const char *name, int *key, fe_err *err)
{
    const char *params[1] = {name};
    PGresult *res =
        pg_query(conn, "SELECT source_key FROM dw.dim_source WHERE name = $1", 1, params, err);
    if (!res)
        return err->code;
    *key = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return FE_OK;
}

static void report_stream(vcmd *c, const char *source, const char *stream, const char *status,
                          const verify_outcome *o, const char *why)
{
    if (c->req->json) {
        bool ok = (c->json.len == 0 || buf_putc(&c->json, ',')) &&
                  buf_puts(&c->json, "{\"source\":") && buf_put_jsonstr(&c->json, source) &&
                  buf_puts(&c->json, ",\"stream\":") && buf_put_jsonstr(&c->json, stream) &&
                  buf_puts(&c->json, ",\"status\":") && buf_put_jsonstr(&c->json, status) &&
                  buf_printf(&c->json, ",\"checks\":%d,\"mismatches\":%d,\"errors\":%d",
                             o ? o->checks : 0, o ? o->mismatches : 0, o ? o->errors : 0) &&
                  buf_puts(&c->json, ",\"message\":") &&
                  buf_put_jsonstr(&c->json, why ? why : "") &&
                  buf_puts(&c->json, ",\"differences\":[") &&
                  (!o || !o->json.len || buf_puts(&c->json, buf_cstr((buf *)&o->json))) &&
                  buf_puts(&c->json, "]}");
        (void)ok;
        return;
    }
    if (o)
        printf("%s.%s: %s (%d checks, %d mismatches, %d errors)\n%s", source, stream, status,
               o->checks, o->mismatches, o->errors, o->lines.len ? buf_cstr((buf *)&o->lines) : "");
    else
        printf("%s.%s: %s%s%s\n", source, stream, status, why ? ": " : "", why ? why : "");
}

/* One stream of `flowetl verify`, reported. */
static fe_rc verify_one(vcmd *c, const source_config *conf, const verify_def *vd, int key,
                        const source_env *env, fe_err *err)
{
    char logctx[256];
    verify_outcome o;
    snprintf(logctx, sizeof logctx, "%s.%s", conf->name, vd->stream);
    verify_outcome_init(&o);
    verify_job job = {.conn = c->conn,
                      .conf = conf,
                      .vd = vd,
                      .source_key = key,
                      .http = env->http,
                      .state = env->state,
                      .from = c->req->from,
                      .to = c->req->to,
                      .deep = c->req->deep,
                      .logctx = logctx};
    fe_rc rc = verify_stream(&job, &o, err);
    if (rc == FE_OK) {
        c->mismatched += o.mismatches > 0;
        c->failed += o.errors > 0;
        report_stream(c, conf->name, vd->stream,
                      o.errors       ? "error"
                      : o.mismatches ? "mismatch"
                                     : "ok",
                      &o, NULL);
    }
    verify_outcome_term(&o);
    return rc;
}

/* Verifies the selected streams of one source. */
static fe_rc verify_source(vcmd *c, const source_config *conf, fe_err *err)
{
    const source_def *def = source_find(conf->type);
    source_env env = {0};
    fe_err serr = {0};
    int key = 0;
    bool any = false;
    for (int i = 0; def && i < def->nstreams; i++)
        any = any || (selected(c->req, conf->name, def->streams[i].name) &&
                      stream_select_is_configured(conf, &def->streams[i]));
    if (!def || !any)
        return FE_OK;
    FE_TRY(source_key_of(c->conn, conf->name, &key, err));
    bool opened = key && source_env_init(&env, conf, def, NULL, &serr) == FE_OK &&
                  source_env_open(&env, &serr) == FE_OK;
    for (int i = 0; i < def->nstreams; i++) {
        const stream_def *sd = &def->streams[i];
        const verify_def *vd = verify_find(def, sd->name);
        if (!selected(c->req, conf->name, sd->name) || !stream_select_is_configured(conf, sd))
            continue;
        if (!vd) {
            if (names_stream(c->req, conf->name, sd->name))
                report_stream(c, conf->name, sd->name, "not verified", NULL,
                              "the API publishes no figure flowetl can compare for this stream");
            continue;
        }
        c->streams++;
        if (!key || !opened) {
            c->failed++;
            report_stream(c, conf->name, sd->name, "error", NULL,
                          key ? serr.msg : "never loaded (no dw.dim_source row): run it first");
            continue;
        }
        fe_rc rc = verify_one(c, conf, vd, key, &env, err);
        if (rc != FE_OK) {
            source_env_term(&env);
            return rc;
        }
    }
    source_env_term(&env);
    return FE_OK;
}

static bool targets_known(const config *cfg, const verify_request *req)
{
    for (int i = 0; i < req->ntargets; i++) {
        const source_config *conf;
        const stream_def *stream;
        if (!stream_select_target(cfg, req->targets[i], &conf, &stream))
            return false;
    }
    return true;
}

int verify_command(const config *cfg, const verify_request *req)
{
    fe_err err = {0};
    vcmd c = {.cfg = cfg, .req = req};
    int code;
    if (!targets_known(cfg, req))
        return 2;
    if (!(c.conn = pg_connect(cfg->dsn, &err))) {
        log_error(NULL, "the warehouse is unreachable: %s", err.msg);
        return 3;
    }
    PGresult *res =
        pg_query(c.conn, "SELECT to_regclass('etl.reconcile') IS NOT NULL", 0, NULL, &err);
    bool ready = res && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    if (res)
        PQclear(res);
    if (!ready) {
        log_error(NULL, "the warehouse has no etl.reconcile: run `flowetl init` first%s%s",
                  err.msg[0] ? ": " : "", err.msg);
        PQfinish(c.conn);
        return 2;
    }
    buf_init(&c.json, 16 << 20);
    fe_rc rc = FE_OK;
    for (size_t i = 0; i < cfg->nsources && rc == FE_OK; i++)
        rc = verify_source(&c, &cfg->sources[i], &err);
    if (rc != FE_OK) {
        log_error(NULL, "verify: %s", err.msg);
        code = PQstatus(c.conn) == CONNECTION_OK ? 1 : 3;
    } else
        code = c.failed ? 1 : c.mismatched ? VERIFY_EXIT_MISMATCH : 0;
    if (req->json)
        printf("{\"exit\":%d,\"streams\":[%s]}\n", code, c.json.len ? buf_cstr(&c.json) : "");
    buf_term(&c.json);
    PQfinish(c.conn);
    return code;
}
