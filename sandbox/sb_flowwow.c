/* The Flowwow Seller API module: routing of /flowwow/apiseller/..., the bearer
 * check, the three lists flowetl reads (shops, products, orders/list), ping, and
 * the module table entry. Requests take the data's read lock; advance and reset
 * take the write lock.
 *
 * Quirk prefixes (for tests of a client's defences): /flowwow/q/ignore-page/...
 * serves the same API with orders/list ignoring `page` (always the first page);
 * /flowwow/q/page0/... serves orders/list with 0-based pages; /flowwow/q/unsorted/...
 * serves orders/list without createdDate in an order that is not the id order (a
 * hash of the id: stable, but no client can tell a page's place in it);
 * /flowwow/q/no-total/... serves orders/list without `total`. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>
#include "sb_fw.h"
#include "sb_json.h"
#include "sb_module.h"
#include "sb_time.h"

#define TOKEN "demo-flowwow-token"
#define CT_JSON "application/json"
#define SHOPS_MAX 50
#define PRODUCTS_MAX 1000
#define ORDERS_MAX 100

typedef struct {
    pthread_rwlock_t lock;
    fw_data data;
    sb_config cfg;
    /* --mismatch: the initial order with the median id, and the one the API hides
     * (that one under hide-order=flowwow, else FW_NONE). */
    uint32_t median_order, hidden_order;
} fw_state;

#define FW_NONE UINT32_MAX

typedef struct {
    bool ignore_page;
    bool page0;
    bool unsorted;
    bool no_total;
} fw_quirks;

static const char *const endpoints[] = {"flowwow_ping", "flowwow_shops", "flowwow_products",
                                        "flowwow_orders", NULL};

static const char *const shop_statuses[] = {"active", "moderation", "disabled"};

/* Strips a quirk prefix off path. */
static const char *strip_quirks(const char *path, fw_quirks *q)
{
    static const struct {
        const char *prefix;
        size_t offset;
    } quirks[] = {{"/q/ignore-page", offsetof(fw_quirks, ignore_page)},
                  {"/q/page0", offsetof(fw_quirks, page0)},
                  {"/q/unsorted", offsetof(fw_quirks, unsorted)},
                  {"/q/no-total", offsetof(fw_quirks, no_total)}};
    if (q)
        memset(q, 0, sizeof *q);
    for (size_t i = 0; i < sizeof quirks / sizeof quirks[0]; i++) {
        size_t n = strlen(quirks[i].prefix);
        if (strncmp(path, quirks[i].prefix, n) == 0 && path[n] == '/') {
            if (q)
                *(bool *)((char *)q + quirks[i].offset) = true;
            return path + n;
        }
    }
    return path;
}

static const char *fw_classify(const char *path)
{
    path = strip_quirks(path, NULL);
    if (strcmp(path, "/apiseller/ping/check") == 0)
        return "flowwow_ping";
    if (strcmp(path, "/apiseller/shops") == 0)
        return "flowwow_shops";
    if (strcmp(path, "/apiseller/products") == 0)
        return "flowwow_products";
    if (strcmp(path, "/apiseller/orders/list") == 0)
        return "flowwow_orders";
    return NULL;
}

/* {"message": ..., "fields": [{"path": field, "messages": [message]}]} */
static void fw_error(sb_response *resp, int status, const char *message, const char *field)
{
    sb_json j;
    sb_buf_reset(&resp->body);
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_kstr(&j, "message", message);
    sb_json_key(&j, "fields");
    sb_json_arr(&j);
    if (field) {
        sb_json_obj(&j);
        sb_json_kstr(&j, "path", field);
        sb_json_key(&j, "messages");
        sb_json_arr(&j);
        sb_json_str(&j, message);
        sb_json_end(&j);
        sb_json_end(&j);
    }
    sb_json_end(&j);
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

static bool to_i64(const char *s, int64_t *out)
{
    char *end;
    if (!s || !*s)
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return false;
    *out = v;
    return true;
}

/* page and limit of a request (query string or JSON body values): false with a
 * 400 answered when out of range. */
static bool page_limit(sb_response *resp, bool has_page, int64_t page, bool has_limit,
                       int64_t limit, int64_t min_page, int64_t max_limit, int64_t *p, int64_t *l)
{
    char msg[96];
    *p = has_page ? page : min_page;
    *l = has_limit ? limit : 10;
    if (*p < min_page) {
        snprintf(msg, sizeof msg, "page must be greater than or equal to %lld",
                 (long long)min_page);
        fw_error(resp, 400, msg, "page");
        return false;
    }
    if (*l < 1 || *l > max_limit) {
        snprintf(msg, sizeof msg, "limit must be between 1 and %lld", (long long)max_limit);
        fw_error(resp, 400, msg, "limit");
        return false;
    }
    return true;
}

static bool json_int(yajl_val tree, const char *key, int64_t *out, bool *bad)
{
    const char *path[] = {key, NULL};
    yajl_val v = tree ? yajl_tree_get(tree, path, yajl_t_any) : NULL;
    if (!v || YAJL_IS_NULL(v))
        return false;
    if (!YAJL_IS_INTEGER(v)) {
        *bad = true;
        return false;
    }
    *out = YAJL_GET_INTEGER(v);
    return true;
}

/* The body as a JSON object ("" is an empty one): NULL with a 400 answered. */
static yajl_val parse_body(const sb_request *req, sb_response *resp, bool *empty)
{
    char err[128];
    *empty = req->body_len == 0;
    if (*empty)
        return NULL;
    yajl_val tree = yajl_tree_parse(req->body, err, sizeof err);
    if (!tree || !YAJL_IS_OBJECT(tree)) {
        yajl_tree_free(tree);
        fw_error(resp, 400, "Request body is not a JSON object", NULL);
        return NULL;
    }
    return tree;
}

/* ---- shops ---------------------------------------------------------------------- */

static void render_shop(sb_json *j, const fw_data *d, uint32_t i)
{
    char name[160], address[200];
    static const char *const days[] = {"1", "2", "3", "4", "5", "6", "7"};
    fw_text_shop(d, i, name, address, sizeof name);
    sb_json_obj(j);
    sb_json_kint(j, "shopId", d->shops[i].id);
    sb_json_kstr(j, "name", name);
    sb_json_kstr(j, "status", shop_statuses[d->shops[i].status]);
    sb_json_kstr(j, "address", address);
    sb_json_kstr(j, "currency", "RUB");
    sb_json_kbool(j, "isVerified", i % 3 != 1);
    sb_json_key(j, "workingDays");
    sb_json_arr(j);
    for (uint32_t k = 0; k < (i % 2 ? 5u : 7u); k++)
        sb_json_str(j, days[k]);
    sb_json_end(j);
    sb_json_end(j);
}

static bool shop_listed(yajl_val ids, int64_t id)
{
    if (!ids || !YAJL_IS_ARRAY(ids) || ids->u.array.len == 0)
        return true; /* an empty list is ignored */
    for (size_t k = 0; k < ids->u.array.len; k++)
        if (YAJL_IS_INTEGER(ids->u.array.values[k]) &&
            YAJL_GET_INTEGER(ids->u.array.values[k]) == id)
            return true;
    return false;
}

static void api_shops(const fw_data *d, const sb_request *req, sb_response *resp)
{
    bool empty, bad = false, has_page, has_limit;
    int64_t page = 0, limit = 0, p, l;
    int status = -1;
    yajl_val tree = parse_body(req, resp, &empty);
    if (!tree && !empty)
        return;
    const char *spath[] = {"status", NULL}, *ipath[] = {"shopIds", NULL};
    const char *st = tree ? YAJL_GET_STRING(yajl_tree_get(tree, spath, yajl_t_string)) : NULL;
    for (int k = 0; st && k < 3; k++)
        if (strcmp(st, shop_statuses[k]) == 0)
            status = k;
    has_page = json_int(tree, "page", &page, &bad);
    has_limit = json_int(tree, "limit", &limit, &bad);
    if (status < 0) {
        fw_error(resp, 400, "status must be one of moderation, active, disabled", "status");
    } else if (bad) {
        fw_error(resp, 400, "page and limit must be integers", "page");
    } else if (page_limit(resp, has_page, page, has_limit, limit, 0, SHOPS_MAX, &p, &l)) {
        yajl_val ids = tree ? yajl_tree_get(tree, ipath, yajl_t_any) : NULL;
        sb_json j;
        int64_t total = 0;
        sb_json_init(&j, &resp->body);
        sb_json_obj(&j);
        sb_json_key(&j, "shops");
        sb_json_arr(&j);
        for (uint32_t i = 0; i < d->nshops; i++) {
            if (d->shops[i].status != status || !shop_listed(ids, d->shops[i].id))
                continue;
            if (total >= p * l && total < (p + 1) * l)
                render_shop(&j, d, i);
            total++;
        }
        sb_json_end(&j);
        sb_json_kint(&j, "total", total);
        sb_json_end(&j);
        resp->status = 200;
        resp->content_type = CT_JSON;
    }
    yajl_tree_free(tree);
}

/* "discount": an integer percent as a string ("10"), as the API writes it. */
static void put_percent(sb_json *j, unsigned pct)
{
    char text[8];
    snprintf(text, sizeof text, "%u", pct);
    sb_json_kstr(j, "discount", text);
}

/* ---- products -------------------------------------------------------------------- */

/* The shop index of the shopId query argument; -1 with the error answered. */
static int64_t shop_of(const fw_data *d, const sb_request *req, sb_response *resp)
{
    int64_t id;
    const char *s = arg(req, "shopId");
    if (!s || !*s) {
        fw_error(resp, 400, "Query param 'shopId' is empty", "shopId");
        return -1;
    }
    if (!to_i64(s, &id) || id < 1 || id > 4294967295LL) {
        fw_error(resp, 400, "Query param 'shopId' must be an integer 1..4294967295", "shopId");
        return -1;
    }
    for (uint32_t i = 0; i < d->nshops; i++)
        if (d->shops[i].id == id)
            return i;
    fw_error(resp, 403, "Access denied", NULL);
    return -1;
}

static void render_product(sb_json *j, const fw_data *d, uint32_t i)
{
    const fw_product *p = &d->products[i];
    char name[200], sku[32], url[96];
    fw_text_product(d, i, name, sizeof name);
    sb_json_obj(j);
    if (p->offer == 0) {
        snprintf(sku, sizeof sku, "SKU-%05u", i + 1);
        sb_json_kstr(j, "offerId", sku);
    } else if (p->offer == 1) {
        sb_json_knull(j, "offerId");
    } else {
        sb_json_kstr(j, "offerId", "");
    }
    sb_json_kint(j, "productId", p->id);
    sb_json_kbool(j, "isActive", p->active);
    sb_json_kint(j, "type", p->type);
    sb_json_kint(j, "categoryId", p->category);
    sb_json_kint(j, "subCategoryId", p->category * 100 + 1);
    sb_json_kstr(j, "name", name);
    if (i % 4)
        sb_json_kstr(j, "description", "Свежие цветы.\nДоставка \"в день заказа\".");
    else
        sb_json_knull(j, "description");
    snprintf(url, sizeof url, "https://flowwow.com/p/%lld", (long long)p->id);
    sb_json_kstr(j, "url", url);
    sb_json_kint(j, "available", p->available);
    sb_json_kint(j, "stock", p->stock);
    sb_json_kint(j, "minOrder", 1);
    sb_json_kmoney(j, "price", p->price4, SB_MONEY_STRING2);
    put_percent(j, p->discount);
    sb_json_kstr(j, "currencyCode", "RUB");
    sb_json_key(j, "images");
    sb_json_arr(j);
    sb_json_end(j);
    sb_json_kint(j, "productionTime", 60);
    sb_json_kint(j, "shipmentTime", 120);
    sb_json_kint(j, "canRent", 0);
    sb_json_kint(j, "originalId", 0);
    sb_json_kbool(j, "isDeliveryPost", false);
    sb_json_kbool(j, "isStarred", i % 9 == 0);
    sb_json_kstr(j, "vat", i % 5 ? "0" : "20");
    sb_json_end(j);
}

static void api_products(const fw_data *d, const sb_request *req, sb_response *resp)
{
    bool empty, bad = false, has_page, has_limit, has_type;
    int64_t page = 0, limit = 0, type = 0, p, l;
    int64_t shop = shop_of(d, req, resp);
    if (shop < 0)
        return;
    yajl_val tree = parse_body(req, resp, &empty);
    if (!tree && !empty)
        return;
    has_page = json_int(tree, "page", &page, &bad);
    has_limit = json_int(tree, "limit", &limit, &bad);
    has_type = json_int(tree, "type", &type, &bad);
    if (bad) {
        fw_error(resp, 400, "page, limit and type must be integers", "page");
    } else if (page_limit(resp, has_page, page, has_limit, limit, 0, PRODUCTS_MAX, &p, &l)) {
        sb_json j;
        int64_t total = 0;
        sb_json_init(&j, &resp->body);
        sb_json_obj(&j);
        sb_json_key(&j, "items");
        sb_json_arr(&j);
        for (uint32_t i = 0; i < d->nproducts; i++) {
            const fw_product *pr = &d->products[i];
            if (pr->deleted || pr->shop != (uint32_t)shop || (has_type && pr->type != type))
                continue;
            if (total >= p * l && total < (p + 1) * l)
                render_product(&j, d, i);
            total++;
        }
        sb_json_end(&j);
        sb_json_kint(&j, "total", total);
        sb_json_end(&j);
        resp->status = 200;
        resp->content_type = CT_JSON;
    }
    yajl_tree_free(tree);
}

/* ---- orders ----------------------------------------------------------------------- */

static void render_person(sb_json *j, const char *key, const char *name, const char *phone)
{
    sb_json_key(j, key);
    sb_json_obj(j);
    sb_json_kstr(j, "name", name);
    sb_json_kstr(j, "phone", phone);
    sb_json_end(j);
}

/* huge: a poison order's line (FW_POISON_HUGE_SUM), beyond what int64 v4 holds. */
static void render_line(sb_json *j, const fw_data *d, const fw_line *l, bool huge)
{
    const fw_product *p = &d->products[l->product];
    char name[200], sku[32];
    fw_text_product(d, l->product, name, sizeof name);
    sb_json_obj(j);
    sb_json_kint(j, "productId", p->id);
    if (p->offer == 0) {
        snprintf(sku, sizeof sku, "SKU-%05u", l->product + 1);
        sb_json_kstr(j, "offerId", sku);
    } else {
        sb_json_knull(j, "offerId");
    }
    sb_json_kint(j, "type", p->type);
    sb_json_kint(j, "categoryId", p->category);
    sb_json_kstr(j, "name", name);
    sb_json_kint(j, "count", l->count);
    sb_json_kmoney(j, "price", l->price4, SB_MONEY_STRING2);
    put_percent(j, l->discount);
    sb_json_kstr(j, "currencyCode", "RUB");
    if (huge) {
        sb_json_kstr(j, "cost", "9000000000000000.00");
        sb_json_kstr(j, "sum", "9000000000000000.00");
    } else {
        sb_json_kmoney(j, "cost", l->cost4, SB_MONEY_STRING2);
        sb_json_kmoney(j, "sum", l->sum4, SB_MONEY_STRING2);
    }
    sb_json_end(j);
}

static void render_order(sb_json *j, const fw_data *d, const fw_order *o)
{
    char name[120], phone[40], address[200], ignored[200];
    sb_json_obj(j);
    sb_json_kint(j, "id", o->id);
    sb_json_kint(j, "shopId", d->shops[o->shop].id);
    sb_json_kint(j, "status", o->status);
    sb_json_kint(j, "createdDate",
                 o->poison == FW_POISON_YEAR0 ? INT64_C(-62135596801) : o->created);
    sb_json_kint(j, "deliveryDateFrom", o->created + 4 * SB_HOUR);
    sb_json_kint(j, "deliveryDateTo", o->created + 6 * SB_HOUR);
    sb_json_kint(j, "deliveryType", o->id % 5 == 0 ? 4 : 1);
    sb_json_kint(j, "deliveryTimeType", o->id % 3 == 0 ? 1 : 2);
    fw_text_shop(d, o->shop, ignored, address, sizeof address);
    sb_json_kstr(j, "address", address);
    sb_json_kstr(j, "courierInfo", "");
    sb_json_knull(j, "comment");
    sb_json_kstr(j, "message", o->id % 4 ? "С днём рождения! 🎉" : "Люблю \"тебя\"\n\\ навсегда");
    if (o->user_kind == FW_USER_NULL) {
        sb_json_knull(j, "user");
    } else if (o->user_kind == FW_USER_NO_PHONE) {
        render_person(j, "user", "Аноним", "");
    } else {
        fw_text_customer(d, o->customer, name, sizeof name);
        fw_order_phone(d, o, phone, sizeof phone);
        render_person(j, "user", name, phone);
    }
    render_person(j, "recipient", "Получатель «Цветов»", "+7 900 000-00-00");
    sb_json_key(j, "products");
    sb_json_arr(j);
    for (uint32_t k = 0; k < o->nlines; k++)
        render_line(j, d, &d->lines[o->first_line + k], o->poison == FW_POISON_HUGE_SUM);
    sb_json_end(j);
    sb_json_end(j);
}

static bool read_day(const sb_request *req, int64_t *day, bool *has, sb_response *resp)
{
    const char *s = arg(req, "createdDate");
    int64_t t;
    *has = s && *s;
    if (!*has)
        return true;
    if (strlen(s) != 10 || !sb_time_parse(s, &t)) {
        fw_error(resp, 400, "createdDate must be a date YYYY-MM-DD", "createdDate");
        return false;
    }
    *day = t / SB_DAY;
    return true;
}

/* /q/unsorted: orders by a hash of their index, not by id. */
typedef struct {
    uint64_t key;
    uint32_t i;
} hashed;

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const hashed *)a)->key, y = ((const hashed *)b)->key;
    return (x > y) - (x < y);
}

static void sort_by_hash(const fw_data *d, uint32_t *pick, size_t n)
{
    hashed *h = malloc((n + 1) * sizeof *h);
    if (!h)
        return; /* left in id order */
    for (size_t k = 0; k < n; k++)
        h[k] = (hashed){fw_hash(d, 99, pick[k]), pick[k]};
    qsort(h, n, sizeof *h, by_key);
    for (size_t k = 0; k < n; k++)
        pick[k] = h[k].i;
    free(h);
}

static void api_orders(const fw_data *d, uint32_t hidden, const sb_request *req, const fw_quirks *q,
                       sb_response *resp)
{
    int64_t page = 0, limit = 0, status = 0, day = 0, p, l;
    bool has_day, has_page = arg(req, "page") != NULL, has_limit = arg(req, "limit") != NULL;
    bool has_status = arg(req, "status") != NULL;
    int64_t shop = shop_of(d, req, resp);
    if (shop < 0 || !read_day(req, &day, &has_day, resp))
        return;
    if ((has_page && !to_i64(arg(req, "page"), &page)) ||
        (has_limit && !to_i64(arg(req, "limit"), &limit)) ||
        (has_status && !to_i64(arg(req, "status"), &status))) {
        fw_error(resp, 400, "page, limit and status must be integers", "page");
        return;
    }
    /* 1-based; a page below 1 is served as page 1 (clamped, like most servers). */
    int64_t base = q->page0 ? 0 : 1;
    if (has_page && page < base)
        page = base;
    if (!page_limit(resp, has_page, page, has_limit, limit, base, ORDERS_MAX, &p, &l))
        return;
    if (q->ignore_page)
        p = base;
    p -= base;
    /* The list in id order (the orders are held by id), or /q/unsorted's. */
    uint32_t *pick = malloc(((size_t)d->norders + 1) * sizeof *pick);
    if (!pick) {
        fw_error(resp, 500, "Internal server error", NULL);
        return;
    }
    size_t total = 0;
    for (uint32_t i = 0; i < d->norders; i++) {
        const fw_order *o = &d->orders[i];
        if (i == hidden || o->shop != (uint32_t)shop ||
            (has_day && fw_local_day(o->created) != day) || (has_status && o->status != status))
            continue;
        pick[total++] = i;
    }
    if (q->unsorted && !has_day)
        sort_by_hash(d, pick, total);
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "items");
    sb_json_arr(&j);
    for (size_t k = 0; k < total; k++)
        if ((int64_t)k >= p * l && (int64_t)k < (p + 1) * l)
            render_order(&j, d, &d->orders[pick[k]]);
    sb_json_end(&j);
    if (!q->no_total)
        sb_json_kint(&j, "total", (int64_t)total);
    sb_json_end(&j);
    free(pick);
    resp->status = 200;
    resp->content_type = CT_JSON;
}

/* ---- module ------------------------------------------------------------------------ */

static bool authorized(const sb_request *req)
{
    return req->authorization && strcmp(req->authorization, "Bearer " TOKEN) == 0;
}

/* The docs' `say` values: hello, or errorNNN simulating that status with the
 * docs' example message for it (anything else is the docs' 400 example). */
static void ping(const sb_request *req, sb_response *resp)
{
    static const struct {
        const char *say, *message;
        int status;
    } sims[] = {
        {"error401", "Missing or invalid token", 401}, {"error403", "Access denied", 403},
        {"error404", "Resource not found", 404},       {"error409", "Conflict", 409},
        {"error429", "Too Many Requests", 429},        {"error500", "Internal server error", 500}};
    const char *say = arg(req, "say");
    for (size_t i = 0; say && i < sizeof sims / sizeof sims[0]; i++)
        if (strcmp(say, sims[i].say) == 0) {
            fw_error(resp, sims[i].status, sims[i].message, NULL);
            return;
        }
    if (!say || strcmp(say, "hello") != 0) {
        fw_error(resp, 400, "Query param 'say' is empty", "say");
        return;
    }
    sb_buf_puts(&resp->body, "{\"say\":\"hello\"}");
    resp->status = 200;
    resp->content_type = CT_JSON;
}

static void fw_handle(void *state, const sb_request *req, sb_response *resp)
{
    fw_state *st = state;
    fw_quirks q;
    const char *path = strip_quirks(req->path, &q);
    const char *ep = fw_classify(path);
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    bool is_get = ep && (strcmp(ep, "flowwow_ping") == 0 || strcmp(ep, "flowwow_orders") == 0);
    if (!ep || (is_get ? !get : !post)) {
        fw_error(resp, 404, "Resource not found", NULL);
        return;
    }
    if (strcmp(ep, "flowwow_ping") == 0) {
        ping(req, resp);
        return;
    }
    if (!authorized(req)) {
        fw_error(resp, 401, "Missing or invalid token", NULL);
        return;
    }
    pthread_rwlock_rdlock(&st->lock);
    if (strcmp(ep, "flowwow_shops") == 0)
        api_shops(&st->data, req, resp);
    else if (strcmp(ep, "flowwow_products") == 0)
        api_products(&st->data, req, resp);
    else
        api_orders(&st->data, st->hidden_order, req, &q, resp);
    pthread_rwlock_unlock(&st->lock);
}

static int by_order_id(size_t a, size_t b, void *ctx)
{
    const fw_data *d = ctx;
    int64_t x = d->orders[a].id, y = d->orders[b].id;
    return x < y ? -1 : x > y;
}

static bool not_poison(size_t i, void *ctx)
{
    const fw_data *d = ctx;
    return d->orders[i].poison == FW_POISON_NONE;
}

/* The median-id order among the initial orders that are not poison. False when
 * memory ran out. */
static bool pick_mismatch(fw_state *st)
{
    fw_data *d = &st->data;
    size_t m = sb_mismatch_median(d->initial_orders, not_poison, by_order_id, d);
    if (m == SIZE_MAX)
        return false;
    st->median_order = m < d->initial_orders ? (uint32_t)m : FW_NONE;
    st->hidden_order =
        sb_mismatch_hides(&st->cfg.mismatch, SB_V_FLOWWOW) ? st->median_order : FW_NONE;
    return true;
}

/* The mismatch truth lines (docs/sandbox.md, "Mismatch switches"). */
static void truth_mismatch(const fw_state *st, sb_buf *out)
{
    if (st->median_order == FW_NONE)
        return;
    int64_t id = st->data.orders[st->median_order].id;
    sb_buf_printf(out, "mismatch\tflowwow.median_order\t%lld\n", (long long)id);
    if (st->hidden_order != FW_NONE)
        sb_buf_printf(out, "mismatch\tflowwow.hidden_order\t%lld\n", (long long)id);
}

static void *fw_create(const sb_config *cfg, char *err, size_t errlen)
{
    fw_state *st = calloc(1, sizeof *st);
    if (st == NULL || !fw_data_generate(&st->data, cfg->seed, cfg->scale)) {
        free(st);
        snprintf(err, errlen, "flowwow: out of memory generating the data");
        return NULL;
    }
    if (cfg->poison)
        fw_data_add_poison(&st->data);
    st->cfg = *cfg;
    if (!pick_mismatch(st)) {
        fw_data_free(&st->data);
        free(st);
        snprintf(err, errlen, "flowwow: out of memory generating the data");
        return NULL;
    }
    pthread_rwlock_init(&st->lock, NULL);
    return st;
}

static void fw_destroy(void *state)
{
    fw_state *st = state;
    if (st == NULL)
        return;
    fw_data_free(&st->data);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

static void fw_advance(void *state, int steps, sb_buf *out)
{
    static const char *const names[FW_CH_COUNT] = {
        "flowwow_orders_created", "flowwow_orders_status_changed", "flowwow_products_created",
        "flowwow_products_deleted", "flowwow_stock_changed"};
    fw_state *st = state;
    int64_t counts[FW_CH_COUNT] = {0};
    bool ok = true;
    pthread_rwlock_wrlock(&st->lock);
    for (int i = 0; i < steps && ok; i++)
        ok = fw_data_step(&st->data, counts);
    pthread_rwlock_unlock(&st->lock);
    if (!ok)
        out->failed = true;
    for (int k = 0; k < FW_CH_COUNT; k++) {
        sb_buf_printf(out, "sandbox\tchanges.%s\t", names[k]);
        sb_buf_put_i64(out, counts[k]);
        sb_buf_putc(out, '\n');
    }
}

static void fw_truth(void *state, sb_buf *out)
{
    fw_state *st = state;
    pthread_rwlock_rdlock(&st->lock);
    fw_data_truth(&st->data, out);
    truth_mismatch(st, out);
    pthread_rwlock_unlock(&st->lock);
}

static bool fw_reset(void *state)
{
    fw_state *st = state;
    fw_data fresh;
    if (!fw_data_generate(&fresh, st->cfg.seed, st->cfg.scale))
        return false;
    if (st->cfg.poison)
        fw_data_add_poison(&fresh);
    pthread_rwlock_wrlock(&st->lock);
    fw_data_free(&st->data);
    st->data = fresh;
    pthread_rwlock_unlock(&st->lock);
    return true;
}

/* The token the module accepts. */
static void fw_secrets(void *state, sb_buf *out)
{
    (void)state;
    sb_buf_puts(out, TOKEN "\n");
}

/* A fault's 429 or 500 in the Seller API's error shape ({message, fields, trace}). */
static void fw_fault_body(int retry_after, sb_response *resp)
{
    (void)retry_after; /* the Retry-After header carries it */
    fw_error(resp, resp->status,
             resp->status == 429 ? "Too many requests" : "Internal server error", NULL);
}

const sb_module sb_flowwow_module = {
    .system = "flowwow",
    .prefix = "/flowwow",
    .endpoints = endpoints,
    .create = fw_create,
    .destroy = fw_destroy,
    .classify = fw_classify,
    .handle = fw_handle,
    .advance = fw_advance,
    .truth = fw_truth,
    .reset = fw_reset,
    .secrets = fw_secrets,
    .fault_body = fw_fault_body,
};
