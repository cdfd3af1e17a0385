/* flowretail_verify: what `flowetl verify` compares for Flow Retail
 * (sources/source.h, verify_def). GET /products answers paging.totalCount, which
 * counts every product, the ones marked excludeFromStatistics too, and the load
 * leaves those out by rule. So the figure is totalCount less the excluded products
 * the same pages list (the whole list at the largest page size: a few requests),
 * compared with the live products of the warehouse. The API publishes no orders
 * (Flow Retail has none in v2) and no money aggregate. */
#include "sources/flowretail/flowretail.h"

#include <stdio.h>
#include <string.h>

#include "transform/field.h"
#include "sources/flowretail/flowretail_api.h"
#include "sources/flowretail/flowretail_map.h"

typedef struct {
    verify_query *q;
    int64_t total;
    rc_ids excluded; /* by id: a page read again after a cut transfer repeats them */
} rv_run;

static fe_rc on_product(void *user, int which, const json_rec *rec, fe_err *err)
{
    rv_run *r = user;
    (void)which;
    const char *id = field_id_or_null(rec, "productUid");
    if (flowretail_excluded(rec))
        return !id || rc_ids_add(&r->excluded, id) ? FE_OK
                                                   : fe_err_set(err, FE_ENOMEM, "out of memory");
    return id && r->q->id ? r->q->id(r->q, id, NULL, err) : FE_OK;
}

static fe_rc on_page(void *user, int64_t rows, int64_t total, bool *stop, fe_err *err)
{
    rv_run *r = user;
    (void)rows;
    (void)stop;
    (void)err;
    if (total >= 0)
        r->total = total;
    return FE_OK;
}

static fe_rc read_products(verify_query *q, rv_run *r, fe_err *err)
{
    flowretail_api *api = NULL;
    bool changed = false;
    r->q = q;
    r->total = -1;
    rc_ids_init(&r->excluded);
    FE_TRY(flowretail_api_new(q->conf, &api, err));
    flowretail_doc d = {.method = "GET",
                        .path = "/products",
                        .query = "sortBy=lastModifiedAt&sortDirection=DESC",
                        .on_record = on_product,
                        .user = r};
    fe_rc rc = flowretail_list(api, q->http, q->stats, &d, FLOWRETAIL_PAGE_SIZE_MAX, on_page,
                               &changed, err);
    flowretail_api_free(api);
    return rc;
}

static fe_rc verify_figures(verify_query *q, fe_err *err)
{
    rv_run r = {0};
    char value[32];
    verify_query counting = *q;
    counting.id = NULL;
    fe_rc rc = read_products(&counting, &r, err);
    rc_ids_sort(&r.excluded);
    int64_t excluded = (int64_t)r.excluded.n;
    rc_ids_term(&r.excluded);
    FE_TRY(rc);
    if (r.total < 0)
        return fe_err_set(err, FE_EJSON, "GET /products: no paging.totalCount");
    rc_scope s = {.entity = RC_PRODUCTS, .basis = RC_BY_NONE, .measure = RC_COUNT};
    snprintf(value, sizeof value, "%lld", (long long)(r.total - excluded));
    return q->figure(q, &s, value, err);
}

static fe_rc verify_ids(verify_query *q, fe_err *err)
{
    rv_run r = {0};
    fe_rc rc = read_products(q, &r, err);
    rc_ids_term(&r.excluded);
    return rc;
}

const verify_def flowretail_verify[FLOWRETAIL_NVERIFY] = {
    {.stream = "products",
     .entity = RC_PRODUCTS,
     .basis = RC_BY_NONE,
     .store_kind = NULL,
     .figures = verify_figures,
     .ids = verify_ids,
     .deep = NULL,
     .run_days = 0},
};
