/* The Posiflora module: routing of /posiflora/api/v1/..., locking, and the module
 * table entry. Requests take the data's read lock; advance and reset take the
 * write lock (reset generates the new data before it takes the lock). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_pf.h"

typedef struct {
    pthread_rwlock_t lock;
    pf_data data;
    sb_qcache cache;
    pf_auth auth;
    sb_config cfg;
} pf_state;

static const char *const endpoints[] = {
    "sessions",  "stores", "categories",   "inventory_items",  "bouquets",
    "customers", "orders", "order_detail", "orders_analytics", NULL};

typedef void (*list_fn)(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);

static const struct {
    const char *path;
    const char *endpoint;
    list_fn fn;
} lists[] = {
    {"/v1/stores", "stores", pf_api_stores},
    {"/v1/categories", "categories", pf_api_categories},
    {"/v1/inventory-items", "inventory_items", pf_api_items},
    {"/v1/bouquets", "bouquets", pf_api_bouquets},
    {"/v1/customers", "customers", pf_api_customers},
    {"/v1/orders", "orders", pf_api_orders},
};

static void *pf_create(const sb_config *cfg, char *err, size_t errlen)
{
    pf_state *st = calloc(1, sizeof *st);
    if (st == NULL || !pf_data_generate(&st->data, cfg->seed, cfg->scale)) {
        free(st);
        snprintf(err, errlen, "posiflora: out of memory generating the data");
        return NULL;
    }
    st->cfg = *cfg;
    pf_data_mismatch(&st->data, &cfg->mismatch);
    if (cfg->poison)
        pf_data_add_poison(&st->data);
    pthread_rwlock_init(&st->lock, NULL);
    sb_qcache_init(&st->cache);
    pf_auth_init(&st->auth, cfg->seed);
    return st;
}

static void pf_destroy(void *state)
{
    pf_state *st = state;
    if (st == NULL)
        return;
    pf_data_free(&st->data);
    sb_qcache_term(&st->cache);
    pf_auth_term(&st->auth);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

static void sessions(pf_state *st, const sb_request *req, sb_response *resp)
{
    bool post = strcmp(req->method, "POST") == 0, patch = strcmp(req->method, "PATCH") == 0;
    if (!post && !patch) {
        pf_error(resp, 405, "Method Not Allowed", "Use POST or PATCH", NULL);
        return;
    }
    pthread_rwlock_rdlock(&st->lock);
    if (post)
        pf_auth_login(&st->auth, &st->data, req, resp);
    else
        pf_auth_refresh(&st->auth, &st->data, req, resp);
    pthread_rwlock_unlock(&st->lock);
}

/* The id in /v1/orders/{id}, or NULL when path is not an order's path. */
static const char *order_id_of(const char *path)
{
    if (strncmp(path, "/v1/orders/", 11) != 0 || strchr(path + 11, '/') != NULL)
        return NULL;
    return path + 11;
}

#define ANALYTICS_PREFIX "/v1/orders/analytics/"

/* The kind in /v1/orders/analytics/{kind} when it names a report, else NULL. */
static const char *analytics_kind_of(const char *path)
{
    size_t n = strlen(ANALYTICS_PREFIX);
    if (strncmp(path, ANALYTICS_PREFIX, n) != 0 || !pf_analytics_kind_known(path + n))
        return NULL;
    return path + n;
}

static const char *pf_classify(const char *path)
{
    if (strcmp(path, "/v1/sessions") == 0)
        return "sessions";
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strcmp(path, lists[i].path) == 0)
            return lists[i].endpoint;
    if (analytics_kind_of(path) != NULL)
        return "orders_analytics";
    return order_id_of(path) != NULL ? "order_detail" : NULL;
}

static void pf_handle(void *state, const sb_request *req, sb_response *resp)
{
    pf_state *st = state;
    const char *path = req->path;
    if (strcmp(path, "/v1/sessions") == 0) {
        sessions(st, req, resp);
        return;
    }
    list_fn fn = NULL;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0] && fn == NULL; i++)
        if (strcmp(path, lists[i].path) == 0)
            fn = lists[i].fn;
    const char *kind = fn == NULL ? analytics_kind_of(path) : NULL;
    const char *order_id = fn == NULL && kind == NULL ? order_id_of(path) : NULL;
    if (fn == NULL && kind == NULL && order_id == NULL) {
        pf_error(resp, 404, "Not Found", "No route found for this path", NULL);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        pf_error(resp, 405, "Method Not Allowed", "This sandbox serves GET here", NULL);
        return;
    }
    if (!pf_auth_check(&st->auth, req, resp))
        return;
    pthread_rwlock_rdlock(&st->lock);
    if (fn != NULL)
        fn(&st->data, &st->cache, req, resp);
    else if (kind != NULL)
        pf_api_analytics(&st->data, &st->cache, kind, req, resp);
    else
        pf_api_order(&st->data, order_id, req, resp);
    pthread_rwlock_unlock(&st->lock);
}

static void pf_advance(void *state, int steps, sb_buf *out)
{
    pf_state *st = state;
    pf_changes ch;
    memset(&ch, 0, sizeof ch);
    pthread_rwlock_wrlock(&st->lock);
    bool ok = pf_data_advance(&st->data, steps, &ch);
    pthread_rwlock_unlock(&st->lock);
    if (!ok)
        out->failed = true;
    sb_buf_printf(out,
                  "sandbox\tchanges.orders_created\t%ld\n"
                  "sandbox\tchanges.orders_status_changed\t%ld\n"
                  "sandbox\tchanges.payments_created\t%ld\n"
                  "sandbox\tchanges.refunds_created\t%ld\n"
                  "sandbox\tchanges.customers_created\t%ld\n"
                  "sandbox\tchanges.customers_updated\t%ld\n"
                  "sandbox\tchanges.items_updated\t%ld\n",
                  ch.orders_created, ch.orders_status_changed, ch.payments_created,
                  ch.refunds_created, ch.customers_created, ch.customers_updated, ch.items_updated);
}

static void pf_truth(void *state, sb_buf *out)
{
    pf_state *st = state;
    pthread_rwlock_rdlock(&st->lock);
    pf_data_truth(&st->data, out);
    pthread_rwlock_unlock(&st->lock);
}

static bool pf_reset(void *state)
{
    pf_state *st = state;
    pf_data fresh;
    if (!pf_data_generate(&fresh, st->cfg.seed, st->cfg.scale))
        return false;
    pf_data_mismatch(&fresh, &st->cfg.mismatch);
    if (st->cfg.poison)
        pf_data_add_poison(&fresh);
    pthread_rwlock_wrlock(&st->lock);
    /* Versions keep growing across resets, so no cached list outlives its data. */
    fresh.version = st->data.version + 1;
    pf_data old = st->data;
    st->data = fresh;
    pthread_rwlock_unlock(&st->lock);
    pf_data_free(&old);
    sb_qcache_clear(&st->cache);
    return true;
}

static void pf_secrets(void *state, sb_buf *out)
{
    pf_state *st = state;
    pf_auth_secrets(&st->auth, out);
}

const sb_module sb_posiflora_module = {
    .system = "posiflora",
    .prefix = "/posiflora/api",
    .endpoints = endpoints,
    .create = pf_create,
    .destroy = pf_destroy,
    .classify = pf_classify,
    .handle = pf_handle,
    .advance = pf_advance,
    .truth = pf_truth,
    .reset = pf_reset,
    .secrets = pf_secrets,
};
