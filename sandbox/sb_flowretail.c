/* The Flow Retail module: /flowretail/v2/tenants/demo/..., bearer token
 * demo-flowretail-token, pageNumber/pageSize paging (pageSize 1..1000, more is a
 * 400) with {items, paging{pageNumber, pageSize, totalCount}}, money in integer
 * minor units and quantities in hundredths. Requests take the data's read lock;
 * advance and reset the write lock. See docs/sandbox.md ("Flow Retail"). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_tree.h>
#include "sb_fr.h"
#include "sb_json.h"
#include "sb_module.h"

#define CT_JSON "application/json"
#define PAGE_MAX 1000
#define PAGE_DEFAULT 20
#define TENANT_PATH "/tenants/" FR_TENANT

typedef struct {
    pthread_rwlock_t lock;
    fr_data data;
    sb_config cfg;
} fr_state;

static const char *const endpoints[] = {"fr_tenant", "fr_categories", "fr_category", "fr_products",
                                        "fr_slots",  "fr_stock",      NULL};

/* ---- helpers ------------------------------------------------------------------- */

/* A product the API shows: not removed, not hidden by --mismatch. */
static bool shown(const fr_data *d, int i)
{
    return !d->prods[i].removed && i != d->hidden_product;
}

static void fr_error(sb_response *resp, int status, const char *message)
{
    sb_json j;
    sb_buf_reset(&resp->body);
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_kstr(&j, "message", message);
    sb_json_end(&j);
    resp->status = status;
    resp->content_type = CT_JSON;
}

static const char *arg(const sb_request *req, const char *key)
{
    for (size_t i = 0; i < req->nargs; i++)
        if (strcmp(req->args[i].key, key) == 0)
            return req->args[i].value;
    return NULL;
}

static bool arg_int(const sb_request *req, const char *key, int64_t def, int64_t *out)
{
    const char *s = arg(req, key);
    char *end;
    *out = def;
    if (!s)
        return true;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

/* "2025-04-18T01:27:37.225Z" */
static void kms(sb_json *j, const char *key, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char text[96];
    gmtime_r(&t, &tm);
    snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    sb_json_kstr(j, key, text);
}

/* An amount held in minor units: as the integer, or in major units. */
static void kmoney(sb_json *j, const char *key, int64_t minor, bool major)
{
    if (major)
        sb_json_kmoney(j, key, minor * 100, SB_MONEY_NUMBER);
    else
        sb_json_kint(j, key, minor);
}

typedef struct {
    int64_t number, size; /* size: the items served a page (the silent cap applied) */
    int64_t asked;        /* pageSize as asked */
    bool echo_asked;      /* paging.pageSize says the size asked, not the one served */
} page_req;

static bool read_page(const sb_request *req, page_req *pg, sb_response *resp)
{
    if (!arg_int(req, "pageNumber", 1, &pg->number) || pg->number < 1) {
        fr_error(resp, 400, "pageNumber must be an integer >= 1");
        return false;
    }
    if (!arg_int(req, "pageSize", PAGE_DEFAULT, &pg->size) || pg->size < 1 || pg->size > PAGE_MAX) {
        fr_error(resp, 400, "pageSize must be an integer between 1 and 1000");
        return false;
    }
    /* The switch fr_page_cap: a server that serves fewer items a page than asked,
     * without an error (the reference, B2, leaves the maximum unknown and advises
     * detecting a silent cap). Pages are then cut at the cap (pageNumber counts
     * pages of the served size). */
    pg->asked = pg->size;
    pg->echo_asked = false;
    if (req->faults && req->faults->fr_page_cap > 0 && pg->size > req->faults->fr_page_cap) {
        pg->size = req->faults->fr_page_cap;
        pg->echo_asked = req->faults->fr_page_cap_echo;
    }
    return true;
}

static void paging(sb_json *j, const page_req *pg, int64_t total)
{
    sb_json_key(j, "paging");
    sb_json_obj(j);
    sb_json_kint(j, "pageNumber", pg->number);
    sb_json_kint(j, "pageSize", pg->echo_asked ? pg->asked : pg->size);
    sb_json_kint(j, "totalCount", total);
    sb_json_end(j);
}

/* ---- rendering ----------------------------------------------------------------- */

static const char *type_name(int t)
{
    return t == FR_PACKAGE ? "PACKAGE" : t == FR_SERVICE ? "SERVICE" : "STOCK";
}

/* store: -1 = no store context (no storeProductDetails); FR_STORES = the
 * category detail without storeUid (stock 0, recommended price). */
static void render_product(sb_json *j, const fr_data *d, const fr_product *p, int store, bool major)
{
    sb_json_obj(j);
    if (store >= 0) {
        bool s = store < FR_STORES;
        sb_json_key(j, "storeProductDetails");
        sb_json_obj(j);
        kmoney(j, "price", s ? p->price[store] : p->rrp, major);
        kmoney(j, "costPrice", s ? p->cost[store] : p->purchase, major);
        kmoney(j, "grossProfitAmount", s ? p->price[store] - p->cost[store] : 0, major);
        sb_json_kint(j, "quantityStock", s ? fr_store_stock(p, store) : 0);
        sb_json_kint(j, "quantityReserved", s ? fr_store_reserved(p, store) : 0);
        sb_json_kint(j, "quantityOrdered", s ? p->ordered[store] : 0);
        sb_json_end(j);
    }
    sb_json_kstr(j, "allowSale", "YES");
    sb_json_kbool(j, "availableForWeb", true);
    if (p->brand >= 0) {
        sb_json_kstr(j, "brandUid", "brand-x");
        sb_json_kstr(j, "brandName", fr_brands[p->brand]);
    }
    sb_json_key(j, "categoryUids");
    sb_json_arr(j);
    for (int k = 0; k < p->ncat; k++)
        sb_json_str(j, d->cats[p->cat[k]].uid);
    sb_json_end(j);
    kms(j, "createdAt", p->created_ms);
    sb_json_kstr(j, "description", "Levert fersk fra grossist.");
    sb_json_key(j, "gtins");
    sb_json_arr(j);
    sb_json_end(j);
    kms(j, "lastModifiedAt", p->modified_ms);
    if (p->poison == FR_POISON_NUL_NAME) {
        sb_json_key(j, "name");
        sb_json_raw(j, "\"Rose\\u0000Garden\"");
    } else {
        sb_json_kstr(j, "name", p->name);
    }
    if (p->poison == FR_POISON_NUL_UID) {
        char raw[64];
        snprintf(raw, sizeof raw, "\"%s\\u0000twin\"", d->prods[0].uid);
        sb_json_key(j, "productUid");
        sb_json_raw(j, raw);
    } else {
        sb_json_kstr(j, "productUid", p->uid);
    }
    sb_json_kstr(j, "productType", type_name(p->type));
    kmoney(j, "recommendedRetailPrice", p->rrp, major);
    sb_json_kstr(j, "sku", p->sku);
    sb_json_kstr(j, "unitLabel", "stk");
    sb_json_kbool(j, "excludeFromStatistics", p->excluded);
    kmoney(j, "purchasePrice", p->purchase, major);
    sb_json_end(j);
}

static void category_fields(sb_json *j, const fr_data *d, const fr_category *c)
{
    kms(j, "createdAt", c->created_ms);
    sb_json_kstr(j, "categoryUid", c->uid);
    sb_json_kstr(j, "externalId", c->uid + 4);
    kms(j, "lastModifiedAt", c->modified_ms);
    sb_json_kstr(j, "name", c->name);
    if (c->parent >= 0)
        sb_json_kstr(j, "parentUid", d->cats[c->parent].uid);
    else
        sb_json_knull(j, "parentUid");
}

/* A category with its child stubs; with its products when store > -2 (store as
 * render_product). */
static void render_category(sb_json *j, const fr_data *d, int ci, int store, bool major)
{
    const fr_category *c = &d->cats[ci];
    sb_json_obj(j);
    sb_json_key(j, "categories");
    sb_json_arr(j);
    for (int k = 0; k < d->ncats; k++) {
        if (d->cats[k].parent != ci)
            continue;
        sb_json_obj(j);
        kms(j, "createdAt", d->cats[k].created_ms);
        sb_json_kstr(j, "categoryUid", d->cats[k].uid);
        kms(j, "lastModifiedAt", d->cats[k].modified_ms);
        sb_json_kstr(j, "name", d->cats[k].name);
        sb_json_end(j);
    }
    sb_json_end(j);
    category_fields(j, d, c);
    if (store > -2) {
        sb_json_key(j, "products");
        sb_json_arr(j);
        for (int i = 0; i < d->nprods; i++) {
            const fr_product *p = &d->prods[i];
            if (shown(d, i) && (p->cat[0] == ci || (p->ncat > 1 && p->cat[1] == ci)))
                render_product(j, d, p, store, major);
        }
        sb_json_end(j);
    }
    sb_json_end(j);
}

/* ---- endpoints ---------------------------------------------------------------- */

static void api_tenant(const fr_data *d, sb_response *resp)
{
    sb_json j;
    (void)d;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_kstr(&j, "tenantUid", FR_TENANT);
    sb_json_kstr(&j, "name", "Demo Blomster AS");
    sb_json_key(&j, "currency");
    sb_json_obj(&j);
    sb_json_kstr(&j, "code", "NOK");
    sb_json_kstr(&j, "name", "Norwegian krone");
    sb_json_kstr(&j, "symbol", "kr");
    sb_json_kstr(&j, "decimalSeparator", ",");
    sb_json_kstr(&j, "thousandSeparator", " ");
    sb_json_end(&j);
    sb_json_kstr(&j, "timezone", "Europe/Oslo");
    sb_json_kstr(&j, "countryCode", "NO");
    sb_json_end(&j);
}

static void api_categories(const fr_data *d, const sb_request *req, sb_response *resp)
{
    page_req pg;
    sb_json j;
    int64_t total = 0, skip, seen = 0;
    if (!read_page(req, &pg, resp))
        return;
    for (int i = 0; i < d->ncats; i++)
        total += d->cats[i].parent < 0;
    skip = (pg.number - 1) * pg.size;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "items");
    sb_json_arr(&j);
    for (int i = 0; i < d->ncats; i++) {
        if (d->cats[i].parent >= 0 || seen++ < skip || seen > skip + pg.size)
            continue;
        render_category(&j, d, i, -2, false);
    }
    sb_json_end(&j);
    paging(&j, &pg, total);
    sb_json_end(&j);
}

static void api_category(const fr_data *d, const char *uid, const sb_request *req,
                         sb_response *resp, bool major)
{
    const char *store_uid = arg(req, "storeUid");
    int ci = fr_category_index(d, uid), store = FR_STORES;
    sb_json j;
    if (ci < 0) {
        fr_error(resp, 404, "Category not found");
        return;
    }
    if (store_uid && (store = fr_store_index(store_uid)) < 0) {
        fr_error(resp, 404, "Store not found");
        return;
    }
    sb_json_init(&j, &resp->body);
    render_category(&j, d, ci, store, major);
}

static int by_modified(const void *a, const void *b, void *ctx)
{
    const fr_data *d = ((const void *const *)ctx)[0];
    bool desc = *(const bool *)((const void *const *)ctx)[1];
    const fr_product *pa = &d->prods[*(const int *)a], *pb = &d->prods[*(const int *)b];
    if (pa->modified_ms != pb->modified_ms)
        return (pa->modified_ms < pb->modified_ms) == desc ? 1 : -1;
    return strcmp(pa->uid, pb->uid);
}

/* Live product indexes in list order: creation order, or by lastModifiedAt
 * (ties by uid). Caller frees; NULL when out of memory. */
static int *product_order(const fr_data *d, bool sorted, bool desc, int *n)
{
    int *idx = malloc((size_t)(d->nprods ? d->nprods : 1) * sizeof *idx);
    const void *ctx[2] = {d, &desc};
    *n = 0;
    if (!idx)
        return NULL;
    for (int i = 0; i < d->nprods; i++)
        if (shown(d, i))
            idx[(*n)++] = i;
    if (sorted)
        qsort_r(idx, (size_t)*n, sizeof *idx, by_modified, (void *)ctx);
    return idx;
}

static bool read_sort(const sb_request *req, bool *sorted, bool *desc, sb_response *resp)
{
    const char *by = arg(req, "sortBy"), *dir = arg(req, "sortDirection");
    *sorted = by != NULL;
    *desc = dir && strcmp(dir, "DESC") == 0;
    if (by && strcmp(by, "lastModifiedAt") != 0) {
        fr_error(resp, 400, "sortBy: this sandbox sorts products by lastModifiedAt only");
        return false;
    }
    if (dir && strcmp(dir, "ASC") != 0 && strcmp(dir, "DESC") != 0) {
        fr_error(resp, 400, "sortDirection must be ASC or DESC");
        return false;
    }
    return true;
}

static void api_products(const fr_data *d, const sb_request *req, sb_response *resp, bool major)
{
    page_req pg;
    bool sorted, desc;
    int n;
    sb_json j;
    if (!read_page(req, &pg, resp) || !read_sort(req, &sorted, &desc, resp))
        return;
    int *idx = product_order(d, sorted, desc, &n);
    if (!idx) {
        resp->body.failed = true;
        return;
    }
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "items");
    sb_json_arr(&j);
    for (int64_t k = (pg.number - 1) * pg.size; k < n && k < pg.number * pg.size; k++)
        render_product(&j, d, &d->prods[idx[k]], -1, major);
    sb_json_end(&j);
    paging(&j, &pg, n);
    sb_json_end(&j);
    free(idx);
}

static void render_slot(sb_json *j, const fr_data *d, const fr_product *p, int s, bool major)
{
    const fr_slot *sl = &p->slots[s];
    char uid[96];
    sb_json_obj(j);
    snprintf(uid, sizeof uid, "%s-slot-%d", p->uid, s + 1);
    sb_json_kstr(j, "productPackageSlotUid", uid);
    sb_json_kstr(j, "name", sl->name);
    sb_json_kint(j, "position", s + 1);
    sb_json_kint(j, "minComponentsAllowed", 1);
    sb_json_kint(j, "maxComponentsAllowed", sl->ncomp);
    kmoney(j, "normPrice", p->rrp / 2, major);
    sb_json_key(j, "components");
    sb_json_arr(j);
    for (int c = 0; c < sl->ncomp; c++) {
        const fr_product *cp = &d->prods[sl->comp[c]];
        sb_json_obj(j);
        snprintf(uid, sizeof uid, "%s-slot-%d-c%d", p->uid, s + 1, c + 1);
        sb_json_kstr(j, "productPackageComponentUid", uid);
        sb_json_key(j, "product");
        sb_json_obj(j);
        sb_json_kstr(j, "productUid", cp->uid);
        sb_json_kstr(j, "name", cp->name);
        sb_json_kstr(j, "sku", cp->sku);
        sb_json_end(j);
        sb_json_kint(j, "position", c + 1);
        sb_json_kint(j, "quantity", sl->qty[c]);
        if (sl->has_special[c])
            kmoney(j, "specialPrice", sl->special[c], major);
        else
            sb_json_knull(j, "specialPrice");
        sb_json_kbool(j, "required", c == 0);
        kms(j, "createdAt", p->created_ms);
        sb_json_end(j);
    }
    sb_json_end(j);
    kms(j, "createdAt", p->created_ms);
    sb_json_end(j);
}

static void api_slots(const fr_data *d, const char *uid, const sb_request *req, sb_response *resp,
                      bool major)
{
    page_req pg;
    sb_json j;
    int pi = fr_product_index(d, uid);
    if (pi < 0 || !shown(d, pi)) {
        fr_error(resp, 404, "Product not found");
        return;
    }
    if (!read_page(req, &pg, resp))
        return;
    const fr_product *p = &d->prods[pi];
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "items");
    sb_json_arr(&j);
    for (int64_t k = (pg.number - 1) * pg.size; k < p->nslots && k < pg.number * pg.size; k++)
        render_slot(&j, d, p, (int)k, major);
    sb_json_end(&j);
    paging(&j, &pg, p->nslots);
    sb_json_end(&j);
}

/* storeUids of the stock filter body: which warehouses are listed. False (400
 * sent) for a body that is not a JSON object. */
static bool stock_filter(const sb_request *req, bool wh[FR_WAREHOUSES], sb_response *resp)
{
    const char *path[] = {"storeUids", NULL};
    char err[128];
    for (int w = 0; w < FR_WAREHOUSES; w++)
        wh[w] = true;
    if (req->body_len == 0)
        return true;
    yajl_val tree = yajl_tree_parse(req->body, err, sizeof err);
    if (!tree || !YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        fr_error(resp, 400, "The body must be a JSON object");
        return false;
    }
    yajl_val stores = yajl_tree_get(tree, path, yajl_t_array);
    if (stores) {
        for (int w = 0; w < FR_WAREHOUSES; w++)
            wh[w] = false;
        for (size_t i = 0; i < YAJL_GET_ARRAY(stores)->len; i++) {
            const char *s = YAJL_GET_STRING(YAJL_GET_ARRAY(stores)->values[i]);
            int si = s ? fr_store_index(s) : -1;
            for (int w = 0; w < FR_WAREHOUSES; w++)
                wh[w] = wh[w] || (si >= 0 && fr_warehouse_store[w] == si);
        }
    }
    yajl_tree_free(tree);
    return true;
}

static void render_stock(sb_json *j, const fr_product *p, const bool wh[FR_WAREHOUSES])
{
    int64_t stock = 0, reserved = 0;
    for (int w = 0; w < FR_WAREHOUSES; w++)
        if (wh[w]) {
            stock += p->stock[w];
            reserved += p->reserved[w];
        }
    sb_json_obj(j);
    sb_json_kstr(j, "productUid", p->uid);
    sb_json_kstr(j, "productSku", p->sku);
    sb_json_kstr(j, "productName", p->name);
    sb_json_kint(j, "totalQuantityStock", stock);
    sb_json_kint(j, "totalQuantityReserved", reserved);
    sb_json_key(j, "warehouseStockDetails");
    sb_json_arr(j);
    for (int w = 0; w < FR_WAREHOUSES; w++) {
        if (!wh[w])
            continue;
        sb_json_obj(j);
        sb_json_kstr(j, "storeUid", fr_store_uids[fr_warehouse_store[w]]);
        sb_json_kstr(j, "warehouseUid", fr_warehouse_uids[w]);
        sb_json_kint(j, "quantityStock", p->stock[w]);
        sb_json_kint(j, "quantityReserved", p->reserved[w]);
        sb_json_kint(j, "minStockLevel", 0);
        sb_json_end(j);
    }
    sb_json_end(j);
    sb_json_end(j);
}

/* Every live stock product (excluded ones are services: no stock). */
static void api_stock(const fr_data *d, const sb_request *req, sb_response *resp)
{
    page_req pg;
    bool wh[FR_WAREHOUSES];
    sb_json j;
    int64_t total = 0, k = 0, from;
    if (!read_page(req, &pg, resp) || !stock_filter(req, wh, resp))
        return;
    for (int i = 0; i < d->nprods; i++)
        total += shown(d, i) && d->prods[i].type == FR_STOCK;
    from = (pg.number - 1) * pg.size;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "items");
    sb_json_arr(&j);
    for (int i = 0; i < d->nprods && k < from + pg.size; i++) {
        const fr_product *p = &d->prods[i];
        if (!shown(d, i) || p->type != FR_STOCK)
            continue;
        if (k++ >= from)
            render_stock(&j, p, wh);
    }
    sb_json_end(&j);
    paging(&j, &pg, total);
    sb_json_end(&j);
}

/* ---- routing ------------------------------------------------------------------ */

/* The tail of path after prefix, or NULL. */
static const char *after(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

/* "/products/{uid}/packages/slots": the uid into out. */
static bool slots_uid(const char *tail, char *out, size_t size)
{
    const char *rest = after(tail, "/products/"), *slash;
    if (!rest || !(slash = strchr(rest, '/')) || strcmp(slash, "/packages/slots") != 0 ||
        slash == rest || (size_t)(slash - rest) >= size)
        return false;
    memcpy(out, rest, (size_t)(slash - rest));
    out[slash - rest] = '\0';
    return true;
}

static const char *fr_classify(const char *path)
{
    char uid[64];
    const char *t = after(path, "/tenants/");
    if (!t)
        return NULL;
    t = strchr(t, '/');
    if (!t)
        return "fr_tenant";
    if (strcmp(t, "/categories") == 0)
        return "fr_categories";
    if (after(t, "/categories/") && !strchr(t + 12, '/'))
        return "fr_category";
    if (strcmp(t, "/products") == 0)
        return "fr_products";
    if (strcmp(t, "/products/stock") == 0)
        return "fr_stock";
    return slots_uid(t, uid, sizeof uid) ? "fr_slots" : NULL;
}

static bool authorized(const sb_request *req, sb_response *resp)
{
    if (req->authorization && strcmp(req->authorization, "Bearer " FR_TOKEN) == 0)
        return true;
    fr_error(resp, 401, "Unauthorized");
    return false;
}

static bool method_is(const sb_request *req, const char *m, sb_response *resp)
{
    if (strcmp(req->method, m) == 0)
        return true;
    fr_error(resp, 405, "Method not allowed");
    return false;
}

static void route(const fr_data *d, const char *t, const sb_request *req, sb_response *resp,
                  bool major)
{
    char uid[64];
    const char *e = resp->endpoint;
    if (e && strcmp(e, "fr_stock") == 0) {
        if (method_is(req, "POST", resp))
            api_stock(d, req, resp);
        return;
    }
    if (!method_is(req, "GET", resp))
        return;
    if (t[0] == '\0')
        api_tenant(d, resp);
    else if (strcmp(t, "/categories") == 0)
        api_categories(d, req, resp);
    else if (after(t, "/categories/"))
        api_category(d, t + 12, req, resp, major);
    else if (strcmp(t, "/products") == 0)
        api_products(d, req, resp, major);
    else if (slots_uid(t, uid, sizeof uid))
        api_slots(d, uid, req, resp, major);
}

static void fr_handle(void *state, const sb_request *req, sb_response *resp)
{
    fr_state *st = state;
    /* The tenant demo-major serves the same data with money in major units (decimal
     * numbers: 199.5), for the amount_scale = 1 test. */
    const char *t = after(req->path, TENANT_PATH "-major");
    bool major = t != NULL && (t[0] == '\0' || t[0] == '/');
    if (!major)
        t = after(req->path, TENANT_PATH);
    resp->status = 200;
    resp->content_type = CT_JSON;
    if (!resp->endpoint) {
        fr_error(resp, 404, "Not found");
        return;
    }
    if (!authorized(req, resp))
        return;
    if (!t || (t[0] != '\0' && t[0] != '/')) {
        fr_error(resp, 404, "Tenant not found");
        return;
    }
    pthread_rwlock_rdlock(&st->lock);
    route(&st->data, t, req, resp, major);
    pthread_rwlock_unlock(&st->lock);
}

/* ---- module ------------------------------------------------------------------- */

/* Plain stock products of the initial data: neither a component of a package
 * nor excluded nor poison, so hiding one touches no other record. */
static bool plain_product(size_t i, void *ctx)
{
    const fr_product *p = &((const fr_data *)ctx)->prods[i];
    return p->type == FR_STOCK && !p->removed && !p->is_component && !p->excluded &&
           p->poison == FR_POISON_NONE;
}

static int by_uid(size_t a, size_t b, void *ctx)
{
    const fr_data *d = ctx;
    return strcmp(d->prods[a].uid, d->prods[b].uid);
}

/* Sets median_product and hidden_product of freshly generated d. False when
 * memory ran out. */
static bool pick_mismatch(fr_data *d, const sb_mismatch *m)
{
    size_t k = sb_mismatch_median((size_t)d->nprods, plain_product, by_uid, d);
    if (k == SIZE_MAX)
        return false;
    d->median_product = k < (size_t)d->nprods ? (int)k : -1;
    d->hidden_product = sb_mismatch_hides(m, SB_V_FLOWRETAIL) ? d->median_product : -1;
    return true;
}

/* The mismatch truth lines (docs/sandbox.md, "Mismatch switches"). */
static void truth_mismatch(const fr_data *d, sb_buf *out)
{
    if (d->median_product < 0)
        return;
    const char *uid = d->prods[d->median_product].uid;
    sb_buf_printf(out, "mismatch\tflowretail.median_order\t%s\n", uid);
    if (d->hidden_product >= 0)
        sb_buf_printf(out, "mismatch\tflowretail.hidden_order\t%s\n", uid);
}

static void *fr_create(const sb_config *cfg, char *err, size_t errlen)
{
    fr_state *st = calloc(1, sizeof *st);
    if (!st || !fr_data_generate(&st->data, cfg->seed, cfg->scale) ||
        (cfg->poison && !fr_data_add_poison(&st->data)) ||
        !pick_mismatch(&st->data, &cfg->mismatch)) {
        if (st)
            fr_data_free(&st->data);
        free(st);
        snprintf(err, errlen, "flowretail: out of memory generating the data");
        return NULL;
    }
    st->cfg = *cfg;
    pthread_rwlock_init(&st->lock, NULL);
    return st;
}

static void fr_destroy(void *state)
{
    fr_state *st = state;
    if (!st)
        return;
    fr_data_free(&st->data);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

static void fr_advance(void *state, int steps, sb_buf *out)
{
    fr_state *st = state;
    fr_changes ch = {0};
    pthread_rwlock_wrlock(&st->lock);
    bool ok = fr_data_advance(&st->data, steps, &ch);
    pthread_rwlock_unlock(&st->lock);
    if (!ok)
        out->failed = true;
    sb_buf_printf(out,
                  "sandbox\tchanges.flowretail_products_created\t%ld\n"
                  "sandbox\tchanges.flowretail_products_updated\t%ld\n"
                  "sandbox\tchanges.flowretail_products_removed\t%ld\n"
                  "sandbox\tchanges.flowretail_stock_changed\t%ld\n",
                  ch.products_created, ch.products_updated, ch.products_removed, ch.stock_changed);
}

static void fr_truth(void *state, sb_buf *out)
{
    fr_state *st = state;
    pthread_rwlock_rdlock(&st->lock);
    fr_data_truth(&st->data, out);
    truth_mismatch(&st->data, out);
    pthread_rwlock_unlock(&st->lock);
}

static bool fr_reset(void *state)
{
    fr_state *st = state;
    fr_data fresh;
    if (!fr_data_generate(&fresh, st->cfg.seed, st->cfg.scale))
        return false;
    if ((st->cfg.poison && !fr_data_add_poison(&fresh)) ||
        !pick_mismatch(&fresh, &st->cfg.mismatch)) {
        fr_data_free(&fresh);
        return false;
    }
    pthread_rwlock_wrlock(&st->lock);
    fr_data old = st->data;
    st->data = fresh;
    pthread_rwlock_unlock(&st->lock);
    fr_data_free(&old);
    return true;
}

/* The token the module accepts. */
static void fr_secrets(void *state, sb_buf *out)
{
    (void)state;
    sb_buf_puts(out, FR_TOKEN "\n");
}

/* A fault's 429 or 500 in Flow Retail's error shape ({message}). */
static void fr_fault_body(int retry_after, sb_response *resp)
{
    (void)retry_after; /* the Retry-After header carries it */
    fr_error(resp, resp->status,
             resp->status == 429 ? "Too many requests" : "Internal server error");
}

const sb_module sb_flowretail_module = {
    .system = "flowretail",
    .prefix = "/flowretail/v2",
    .endpoints = endpoints,
    .create = fr_create,
    .destroy = fr_destroy,
    .classify = fr_classify,
    .handle = fr_handle,
    .advance = fr_advance,
    .truth = fr_truth,
    .reset = fr_reset,
    .secrets = fr_secrets,
    .fault_body = fr_fault_body,
};
