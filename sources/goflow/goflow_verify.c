/* goflow_verify: what `flowetl verify` compares for Goflow (sources/source.h,
 * verify_def). Goflow lists send no count, so the orders figure of a window of
 * UTC days is the number of distinct records its pages hold (filters[date:gte] and
 * filters[date:lt], followed through `next`): a window costs its pages, not one
 * request. The same pages give the ids, and, mapped by goflow_map_order, the
 * rows of a deep verification. A split piece's tombstone of its original is not a
 * row of the window (the original is gone from the list too). */
#include "sources/goflow/goflow.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "transform/field.h"
#include "sources/goflow/goflow_api.h"
#include "sources/goflow/goflow_map.h"

typedef struct {
    verify_query *q;
    goflow_map_opts mopts;
    verify_capture cap;
    row_sink sink;
    bool deep;
    rc_ids seen; /* a page read again after a cut transfer repeats its records */
} gv_run;

static fe_rc on_order(void *user, int which, const json_rec *rec, fe_err *err)
{
    gv_run *r = user;
    const char *id = field_id_or_null(rec, "id");
    (void)which;
    if (id && !rc_ids_add(&r->seen, id))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    if (r->deep) {
        goflow_order_info info;
        fe_rc rc = goflow_map_order(rec, &r->mopts, &r->sink, &info, err);
        return rc == FE_EINVAL ? FE_OK : rc; /* a reject: the load rejected it too */
    }
    return id && r->q->id ? r->q->id(r->q, id, NULL, err) : FE_OK;
}

/* base/orders?filters[date:gte]=FROM&filters[date:lt]=TO+1 day (either left out
 * when unbounded), sorted by date. */
static fe_rc window_url(const goflow_opts *o, const verify_query *q, buf *url, fe_err *err)
{
    char end[16];
    bool ok = buf_printf(url, "%s/orders?", o->base);
    if (ok && q->from)
        ok = buf_printf(url, "filters%%5Bdate%%3Agte%%5D=%sT00%%3A00%%3A00Z&", q->from);
    if (ok && q->to) {
        if (!verify_day_add(q->to, 1, end))
            return fe_err_set(err, FE_EINVAL, "'%s' is not a day", q->to);
        ok = buf_printf(url, "filters%%5Bdate%%3Alt%%5D=%sT00%%3A00%%3A00Z&", end);
    }
    ok = ok && buf_puts(url, "sort=date&sort_direction=asc");
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory building a URL");
}

static fe_rc read_window(verify_query *q, gv_run *r, fe_err *err)
{
    goflow_opts o;
    buf url;
    stream_stats scratch = {0};
    FE_TRY(goflow_opts_load(q->conf, &o, err));
    stream_ctx ctx = {.conf = q->conf,
                      .stream = "orders",
                      .logctx = q->conf->name,
                      .http = q->http,
                      .stats = q->stats ? q->stats : &scratch,
                      .state = q->state};
    buf_init(&url, 0);
    rc_ids_init(&r->seen);
    r->q = q;
    r->mopts.line_price_is_unit = o.line_price_is_unit;
    r->sink = verify_order_sink(&r->cap);
    r->cap.q = q;
    fe_rc rc = window_url(&o, q, &url, err);
    if (rc == FE_OK)
        rc = goflow_list_read(&ctx, &o, buf_cstr(&url), on_order, NULL, r, err);
    rc_ids_sort(&r->seen);
    buf_term(&url);
    goflow_opts_term(&o);
    return rc;
}

static fe_rc verify_figures(verify_query *q, fe_err *err)
{
    gv_run r = {0};
    char value[32];
    verify_query counting = *q;
    counting.id = NULL;
    fe_rc rc = read_window(&counting, &r, err);
    size_t count = r.seen.n;
    rc_ids_term(&r.seen);
    FE_TRY(rc);
    rc_scope s = {.entity = RC_ORDERS,
                  .basis = RC_BY_UTC_DAY,
                  .measure = RC_COUNT,
                  .from = q->from,
                  .to = q->to};
    snprintf(value, sizeof value, "%zu", count);
    return q->figure(q, &s, value, err);
}

static fe_rc verify_ids(verify_query *q, fe_err *err)
{
    gv_run r = {0};
    fe_rc rc = read_window(q, &r, err);
    rc_ids_term(&r.seen);
    return rc;
}

static fe_rc verify_deep(verify_query *q, fe_err *err)
{
    gv_run r = {.deep = true};
    fe_rc rc = read_window(q, &r, err);
    rc_ids_term(&r.seen);
    return rc;
}

const verify_def goflow_verify[GOFLOW_NVERIFY] = {
    {.stream = "orders",
     .entity = RC_ORDERS,
     .basis = RC_BY_UTC_DAY,
     .store_kind = "channel",
     .figures = verify_figures,
     .ids = verify_ids,
     .deep = verify_deep,
     .run_days = 3},
};
