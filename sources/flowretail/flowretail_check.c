/* flowretail_check: `flowetl check` for Flow Retail (see flowretail_check.h). */
#include "sources/flowretail/flowretail_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/decimal.h"
#include "sources/flowretail/flowretail_api.h"
#include "sources/flowretail/flowretail_opts.h"

/* ---- check: a sample product with raw and scaled values ------------------- */

typedef struct {
    char uid[128], name[160], price[48], stock[48], sku[64];
    int64_t total, rows;
} fr_sample;

static fe_rc on_sample_product(void *user, int which, const json_rec *rec, fe_err *err)
{
    fr_sample *s = user;
    const char *v;
    (void)which;
    (void)err;
    if (s->uid[0])
        return FE_OK;
    snprintf(s->uid, sizeof s->uid, "%s", (v = json_rec_str(rec, "productUid")) ? v : "?");
    snprintf(s->name, sizeof s->name, "%s", (v = json_rec_str(rec, "name")) ? v : "");
    snprintf(s->sku, sizeof s->sku, "%s", (v = json_rec_str(rec, "sku")) ? v : "");
    snprintf(s->price, sizeof s->price, "%s",
             (v = json_rec_str(rec, "recommendedRetailPrice")) ? v : "");
    snprintf(s->stock, sizeof s->stock, "%s",
             (v = json_rec_str(rec, "warehouseStockDetails.0.quantityStock")) ? v : "");
    return FE_OK;
}

static fe_rc on_sample_page(void *user, int64_t rows, int64_t total, bool *stop, fe_err *err)
{
    fr_sample *s = user;
    (void)err;
    s->total = total;
    s->rows = rows;
    *stop = true;
    return FE_OK;
}

/* "raw -> scaled" of an integer the API sent ("(none)" when absent). */
static const char *scaled_text(const char *raw, long scale, char *dst, size_t size)
{
    decimal d;
    char text[DECIMAL_TEXT_MAX];
    if (!raw || !*raw)
        snprintf(dst, size, "(none)");
    else if (!decimal_parse_scaled(raw, strlen(raw), scale, &d))
        snprintf(dst, size, "%s (not a number)", raw);
    else
        snprintf(dst, size, "raw %s -> %s (/ %ld)", raw, decimal_format(d, text), scale);
    return dst;
}

static fe_rc check_lines(const source_config *conf, flowretail_api *a, const flowretail_opts *o,
                         const fr_sample *prod, const fr_sample *stock, buf *out)
{
    char price[128], qty[128];
    const char *tz = config_str(conf, "timezone");
    bool ok =
        buf_printf(out, "  tenant: %s (currency %s, time zone %s)\n",
                   flowretail_api_tenant_name(a)[0] ? flowretail_api_tenant_name(a) : "?",
                   flowretail_api_currency(a) ? flowretail_api_currency(a) : "none",
                   flowretail_api_timezone(a)[0] ? flowretail_api_timezone(a) : "none") &&
        buf_printf(out, "  timezone: %s (config `timezone`%s)\n",
                   flowretail_timezone_configured(conf) && tz ? tz : "UTC",
                   flowretail_timezone_configured(conf) ? ""
                                                        : " unset; set it to the tenant's zone") &&
        buf_printf(out, "  products: %" PRId64 " (paging.totalCount)\n", prod->total) &&
        buf_printf(out,
                   "  sample product %s '%s' (sku %s): recommendedRetailPrice %s\n"
                   "  sample stock of %s: quantityStock %s\n"
                   "  CHECK these against the product in Flow Retail Admin: if the scaled values "
                   "are off, set amount_scale / quantity_scale (now %ld / %ld)\n",
                   prod->uid[0] ? prod->uid : "(none)", prod->name, prod->sku,
                   scaled_text(prod->price, o->amount_scale, price, sizeof price),
                   stock->uid[0] ? stock->uid : "(none)",
                   scaled_text(stock->stock, o->quantity_scale, qty, sizeof qty), o->amount_scale,
                   o->quantity_scale);
    return ok ? FE_OK : FE_ENOMEM;
}

/* Reads the tenant, the product count, one product and one stock item, and
 * prints what the user must confirm: the scales, the currency, the time zone. */
fe_rc flowretail_check(const source_config *conf, http_client *http, void *state, buf *out,
                       fe_err *err)
{
    flowretail_api *own = NULL, *a = state;
    fr_sample prod = {.total = -1}, stock = {.total = -1};
    flowretail_opts o;
    fe_rc rc;

    FE_TRY(flowretail_opts_load(conf, &o, err));
    if (!a) {
        FE_TRY(flowretail_api_new(conf, &own, err));
        a = own;
        if ((rc = flowretail_api_read_tenant(a, http, NULL, err)) != FE_OK)
            goto done;
    }
    /* Page 1 of products at the configured page size is the page-size probe too
     * (a silent cap shows as fewer items than asked while totalCount says more). */
    long capped = 0;
    flowretail_doc pd = {.method = "GET",
                         .path = "/products",
                         .on_record = on_sample_product,
                         .user = &prod,
                         .capped_to = &capped};
    flowretail_doc sd = {.method = "POST",
                         .path = "/products/stock",
                         .body = "{}",
                         .on_record = on_sample_product,
                         .user = &stock};
    if ((rc = flowretail_list(a, http, NULL, &pd, o.page_size, on_sample_page, NULL, err)) !=
            FE_OK ||
        (rc = flowretail_list(a, http, NULL, &sd, 1, on_sample_page, NULL, err)) != FE_OK)
        goto done;
    flowretail_api_set_page_probe(a, &(flowretail_page_probe){.probed = true,
                                                              .asked = o.page_size,
                                                              .capped_to = capped,
                                                              .rows = prod.rows,
                                                              .total = prod.total});
    if (check_lines(conf, a, &o, &prod, &stock, out) != FE_OK)
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
done:
    flowretail_api_free(own);
    return rc;
}

/* ---- the read methods a probe chose -------------------------------------------- */

fe_rc flowretail_describe_methods(const source_config *conf, void *state, buf *out, fe_err *err)
{
    const flowretail_page_probe *p = state ? flowretail_api_page_probe(state) : NULL;
    flowretail_opts o;
    bool ok;
    FE_TRY(flowretail_opts_load(conf, &o, err));
    if (!p || !p->probed)
        ok = buf_printf(out,
                        "  lists: pageSize %ld, adapted to a silent cap when a page 1 shows one "
                        "(not probed)\n",
                        o.page_size);
    else if (p->capped_to > 0)
        ok = buf_printf(out,
                        "  lists: pageSize %ld (probed: products page 1 served %" PRId64
                        " of the %ld asked while totalCount is %" PRId64
                        ": a silent cap, adapted to)\n",
                        p->capped_to, p->rows, p->asked, p->total);
    else if (p->total >= 0 && p->total <= p->rows && p->rows < p->asked)
        ok = buf_printf(out,
                        "  lists: pageSize %ld (probed: all %" PRId64
                        " products fit on page 1, so no cap could show; a cap seen later "
                        "is adapted to)\n",
                        p->asked, p->total);
    else
        ok = buf_printf(out,
                        "  lists: pageSize %ld (probed: products page 1 served %" PRId64
                        " of %ld, totalCount %" PRId64 ": no cap)\n",
                        p->asked, p->rows, p->asked, p->total);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory");
}
