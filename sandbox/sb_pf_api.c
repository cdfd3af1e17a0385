/* Posiflora list and detail endpoints: query parameters, filters, sort, paging,
 * and the JSON:API documents around the rendered resources.
 *
 * A list query is answered from the full ordered list of matching indexes, which
 * the query cache (sb_qcache.h) keeps per query and data version: paging through
 * a large list scans and sorts once. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_pf.h"
#include "sb_time.h"

#define PAGE_MAX 100
#define PAGE_DEFAULT 10
#define NO_BOUND_LO INT64_MIN
#define NO_BOUND_HI INT64_MAX

void pf_error(sb_response *resp, int status, const char *title, const char *detail,
              const char *parameter)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    sb_buf_reset(&resp->body);
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "errors");
    sb_json_arr(&j);
    sb_json_obj(&j);
    sb_json_kstr(&j, "status", code);
    sb_json_kstr(&j, "title", title);
    if (detail != NULL)
        sb_json_kstr(&j, "detail", detail);
    if (parameter != NULL) {
        sb_json_key(&j, "source");
        sb_json_obj(&j);
        sb_json_kstr(&j, "parameter", parameter);
        sb_json_end(&j);
    }
    sb_json_end(&j);
    sb_json_end(&j);
    sb_json_end(&j);
    resp->status = status;
}

/* ---- query parameters ---- */

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
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}

typedef struct {
    uint32_t number, size;
} page_req;

/* page[number] (1-based, default 1) and page[size] (1..100, default 10); a bad
 * value answers 422 like the vendor's JSON:API library. */
static bool read_page(const sb_request *req, page_req *pg, sb_response *resp)
{
    int64_t v;
    const char *s = arg(req, "page[number]");
    pg->number = 1;
    pg->size = PAGE_DEFAULT;
    if (s != NULL) {
        if (!to_i64(s, &v) || v < 1 || v > UINT32_MAX) {
            pf_error(resp, 422, "Page number must be greater or equal than 1", NULL,
                     "page[number]");
            return false;
        }
        pg->number = (uint32_t)v;
    }
    s = arg(req, "page[size]");
    if (s != NULL) {
        if (!to_i64(s, &v) || v < 1) {
            pf_error(resp, 422, "Page size must be greater or equal than 1", NULL, "page[size]");
            return false;
        }
        if (v > PAGE_MAX) {
            pf_error(resp, 422, "Page size must be leas or equal than 100", NULL, "page[size]");
            return false;
        }
        pg->size = (uint32_t)v;
    }
    return true;
}

/* Reads key as a time bound into *out (left alone when absent). A bare date as an
 * upper bound means the end of that day. */
static bool read_time(const sb_request *req, const char *key, bool upper, int64_t *out,
                      sb_response *resp)
{
    const char *s = arg(req, key);
    if (s == NULL || *s == '\0')
        return true;
    if (!sb_time_parse(s, out)) {
        pf_error(resp, 422, "This value is not a valid datetime.", NULL, key);
        return false;
    }
    if (upper && strlen(s) == 10)
        *out += SB_DAY - 1;
    return true;
}

static bool read_int(const sb_request *req, const char *key, int64_t *out, sb_response *resp)
{
    const char *s = arg(req, key);
    if (s == NULL || *s == '\0')
        return true;
    if (!to_i64(s, out)) {
        pf_error(resp, 422, "This value should be of type integer.", NULL, key);
        return false;
    }
    return true;
}

/* ---- selecting a page ---- */

typedef struct list_spec list_spec;
struct list_spec {
    const pf_data *d;
    const void *q;                                      /* the endpoint's parsed query */
    uint32_t n;                                         /* records in the collection */
    bool (*match)(const list_spec *ls, uint32_t i);     /* NULL = all */
    int (*cmp)(const void *a, const void *b, void *ls); /* NULL = index order */
    void (*aux)(const list_spec *ls, const uint32_t *idx, uint32_t n, int64_t *aux);
};

typedef struct {
    uint32_t idx[PAGE_MAX];
    uint32_t n, total;
    int64_t aux[SB_QCACHE_AUX];
} page_out;

/* Fills out with the page pg of the query keyed key. False when memory ran out. */
static bool select_page(sb_qcache *c, const char *key, const list_spec *ls, const page_req *pg,
                        page_out *out)
{
    uint64_t offset = (uint64_t)(pg->number - 1) * pg->size;
    if (sb_qcache_get(c, key, ls->d->version, offset, pg->size, out->idx, &out->n, &out->total,
                      out->aux))
        return true;
    uint32_t *all = malloc(((size_t)ls->n + 1) * sizeof *all);
    if (all == NULL)
        return false;
    uint32_t m = 0;
    for (uint32_t i = 0; i < ls->n; i++)
        if (ls->match == NULL || ls->match(ls, i))
            all[m++] = i;
    if (ls->cmp != NULL)
        qsort_r(all, m, sizeof *all, ls->cmp, (void *)ls);
    memset(out->aux, 0, sizeof out->aux);
    if (ls->aux != NULL)
        ls->aux(ls, all, m, out->aux);
    uint64_t avail = offset < m ? m - offset : 0;
    out->n = avail < pg->size ? (uint32_t)avail : pg->size;
    if (out->n > 0)
        memcpy(out->idx, all + offset, out->n * sizeof *all);
    out->total = m;
    sb_qcache_put(c, key, ls->d->version, all, m, out->aux);
    return true;
}

typedef void (*render_fn)(sb_json *j, const pf_data *d, uint32_t idx);

/* Opens {"meta":{"page":{...},"total":N[,"revision":R] and leaves meta open for
 * the endpoint's extra keys. revision < 0 leaves it out. */
static void begin_doc(sb_json *j, sb_response *resp, const page_req *pg, const page_out *po,
                      int64_t revision)
{
    sb_json_init(j, &resp->body);
    sb_json_obj(j);
    sb_json_key(j, "meta");
    sb_json_obj(j);
    sb_json_key(j, "page");
    sb_json_obj(j);
    sb_json_kint(j, "number", pg->number);
    sb_json_kint(j, "size", pg->size);
    sb_json_end(j);
    sb_json_kint(j, "total", po->total);
    if (revision >= 0)
        sb_json_kint(j, "revision", revision);
}

/* Closes meta, writes data and leaves the document open (for "included"). */
static void put_data(sb_json *j, const pf_data *d, const page_out *po, render_fn render)
{
    sb_json_end(j);
    sb_json_key(j, "data");
    sb_json_arr(j);
    for (uint32_t i = 0; i < po->n; i++)
        render(j, d, po->idx[i]);
    sb_json_end(j);
}

static void end_doc(sb_json *j, sb_response *resp)
{
    sb_json_end(j);
    resp->status = 200;
}

static void out_of_memory(sb_response *resp)
{
    pf_error(resp, 500, "Internal Server Error", "Sandbox out of memory", NULL);
}

/* ---- stores, categories, bouquets: filter[revision] (minimum, inclusive) ---- */

static bool match_store_rev(const list_spec *ls, uint32_t i)
{
    return ls->d->stores.v[i].revision >= *(const int64_t *)ls->q;
}

static bool match_bouquet_rev(const list_spec *ls, uint32_t i)
{
    return ls->d->bouquets.v[i].revision >= *(const int64_t *)ls->q;
}

void pf_api_stores(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    int64_t rev = NO_BOUND_LO;
    if (!read_page(req, &pg, resp) || !read_int(req, "filter[revision]", &rev, resp))
        return;
    char key[64];
    snprintf(key, sizeof key, "stores|%lld", (long long)rev);
    list_spec ls = {.d = d, .q = &rev, .n = d->stores.n, .match = match_store_rev};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    sb_json j;
    begin_doc(&j, resp, &pg, &po, d->rev_stores);
    put_data(&j, d, &po, pf_render_store);
    end_doc(&j, resp);
}

void pf_api_categories(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    if (!read_page(req, &pg, resp))
        return;
    list_spec ls = {.d = d, .n = d->cats.n};
    page_out po;
    if (!select_page(c, "categories", &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    sb_json j;
    begin_doc(&j, resp, &pg, &po, d->rev_cats);
    put_data(&j, d, &po, pf_render_category);
    end_doc(&j, resp);
}

/* meta.minPrice, maxPrice, totalAmount: over every matching bouquet's trueSaleAmount. */
static void bouquet_sums(const list_spec *ls, const uint32_t *idx, uint32_t n, int64_t *aux)
{
    for (uint32_t k = 0; k < n; k++) {
        const pf_bouquet *b = &ls->d->bouquets.v[idx[k]];
        int64_t sale = b->amount - b->discount + b->markup;
        aux[0] = k == 0 || sale < aux[0] ? sale : aux[0];
        aux[1] = k == 0 || sale > aux[1] ? sale : aux[1];
        aux[2] += sale;
    }
}

void pf_api_bouquets(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    int64_t rev = NO_BOUND_LO;
    if (!read_page(req, &pg, resp) || !read_int(req, "filter[revision]", &rev, resp))
        return;
    char key[64];
    snprintf(key, sizeof key, "bouquets|%lld", (long long)rev);
    list_spec ls = {
        .d = d, .q = &rev, .n = d->bouquets.n, .match = match_bouquet_rev, .aux = bouquet_sums};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    sb_json j;
    begin_doc(&j, resp, &pg, &po, d->rev_bouquets);
    sb_json_kmoney(&j, "minPrice", po.aux[0], SB_MONEY_NUMBER);
    sb_json_kmoney(&j, "maxPrice", po.aux[1], SB_MONEY_NUMBER);
    sb_json_kmoney(&j, "totalAmount", po.aux[2], SB_MONEY_NUMBER);
    put_data(&j, d, &po, pf_render_bouquet);
    end_doc(&j, resp);
}

/* ---- inventory items: `from` (updatedAt >=), `type` item|service, include=category ---- */

typedef struct {
    int64_t from;
    int type; /* -1 any, 0 item, 1 service */
} item_query;

static bool match_item(const list_spec *ls, uint32_t i)
{
    const item_query *q = ls->q;
    const pf_item *it = &ls->d->items.v[i];
    return it->updated >= q->from && (q->type < 0 || q->type == (int)it->service);
}

static bool include_has(const sb_request *req, const char *what)
{
    const char *inc = arg(req, "include");
    return inc != NULL && sb_faults_list_has(inc, what);
}

static void put_included_categories(sb_json *j, const pf_data *d, const page_out *po)
{
    uint32_t seen[PAGE_MAX];
    unsigned nseen = 0;
    sb_json_key(j, "included");
    sb_json_arr(j);
    for (uint32_t k = 0; k < po->n; k++) {
        uint32_t cat = d->items.v[po->idx[k]].category;
        bool dup = false;
        for (unsigned s = 0; s < nseen && !dup; s++)
            dup = seen[s] == cat;
        if (dup)
            continue;
        seen[nseen++] = cat;
        pf_render_category(j, d, cat);
    }
    sb_json_end(j);
}

void pf_api_items(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    item_query q = {.from = NO_BOUND_LO, .type = -1};
    if (!read_page(req, &pg, resp) || !read_time(req, "from", false, &q.from, resp))
        return;
    const char *type = arg(req, "type");
    if (type != NULL && *type != '\0') {
        if (strcmp(type, "item") != 0 && strcmp(type, "service") != 0) {
            pf_error(resp, 422, "The value you selected is not a valid choice.", NULL, "type");
            return;
        }
        q.type = strcmp(type, "service") == 0;
    }
    char key[96];
    snprintf(key, sizeof key, "items|%lld|%d", (long long)q.from, q.type);
    list_spec ls = {.d = d, .q = &q, .n = d->items.n, .match = match_item};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    sb_json j;
    begin_doc(&j, resp, &pg, &po, -1);
    put_data(&j, d, &po, pf_render_item);
    if (include_has(req, "category"))
        put_included_categories(&j, d, &po);
    end_doc(&j, resp);
}

/* ---- customers ---- */

typedef struct {
    int64_t rev, upd_from, upd_to, cre_from, cre_to;
} customer_query;

static bool match_customer(const list_spec *ls, uint32_t i)
{
    const customer_query *q = ls->q;
    const pf_customer *cu = &ls->d->customers.v[i];
    return cu->revision >= q->rev && cu->updated >= q->upd_from && cu->updated <= q->upd_to &&
           cu->created >= q->cre_from && cu->created <= q->cre_to;
}

/* meta.qtyAllCustomers, qtyActiveCustomers (status on) over the whole collection. */
static void customer_counts(const list_spec *ls, const uint32_t *idx, uint32_t n, int64_t *aux)
{
    (void)idx;
    (void)n;
    aux[0] = ls->d->customers.n;
    for (uint32_t i = 0; i < ls->d->customers.n; i++)
        aux[1] += ls->d->customers.v[i].status == 0;
}

void pf_api_customers(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    customer_query q = {NO_BOUND_LO, NO_BOUND_LO, NO_BOUND_HI, NO_BOUND_LO, NO_BOUND_HI};
    if (!read_page(req, &pg, resp) || !read_int(req, "filter[revision]", &q.rev, resp) ||
        !read_time(req, "from", false, &q.upd_from, resp) ||
        !read_time(req, "filter[updatedAt][from]", false, &q.upd_from, resp) ||
        !read_time(req, "filter[updatedAt][to]", true, &q.upd_to, resp) ||
        !read_time(req, "filter[createdAt][from]", false, &q.cre_from, resp) ||
        !read_time(req, "filter[createdAt][to]", true, &q.cre_to, resp))
        return;
    char key[160];
    snprintf(key, sizeof key, "customers|%lld|%lld|%lld|%lld|%lld", (long long)q.rev,
             (long long)q.upd_from, (long long)q.upd_to, (long long)q.cre_from,
             (long long)q.cre_to);
    list_spec ls = {
        .d = d, .q = &q, .n = d->customers.n, .match = match_customer, .aux = customer_counts};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    sb_json j;
    begin_doc(&j, resp, &pg, &po, d->rev_customers);
    sb_json_kint(&j, "qtyAllCustomers", po.aux[0]);
    sb_json_kint(&j, "qtyActiveCustomers", po.aux[1]);
    sb_json_kint(&j, "avgAmountActiveCustomers", 0);
    put_data(&j, d, &po, pf_render_customer);
    end_doc(&j, resp);
}

/* ---- orders: the list and the analytics share every filter ---- */

enum { SORT_NONE, SORT_UPDATED, SORT_MODIFIED, SORT_CREATED };

#define STORES_MAX 64

/* The filters of /v1/orders and /v1/orders/analytics/KIND (the OpenAPI document gives
 * both the same parameters). */
typedef struct {
    int64_t upd_from, upd_to, mod_from, mod_to, cre_from, cre_to, post_from, post_to, rev;
    unsigned statuses; /* bit per pf_status; 0 = any */
    uint32_t customer; /* PF_NONE = any */
    bool with_returned;
    bool match_none;             /* an unknown store or customer was named: nothing matches */
    uint32_t stores[STORES_MAX]; /* filter[stores]; nstores 0 = any */
    unsigned nstores;
    int sort;
    bool desc;
} order_query;

static void order_query_init(order_query *q)
{
    memset(q, 0, sizeof *q);
    q->upd_from = q->mod_from = q->cre_from = q->post_from = q->rev = NO_BOUND_LO;
    q->upd_to = q->mod_to = q->cre_to = q->post_to = NO_BOUND_HI;
    q->customer = PF_NONE;
    q->with_returned = true;
    q->sort = SORT_NONE;
}

static bool order_matches(const pf_data *d, const order_query *q, uint32_t i)
{
    const pf_order *o = &d->orders.v[i];
    if (i == d->hidden_order || q->match_none || o->updated < q->upd_from ||
        o->updated > q->upd_to || o->modified < q->mod_from || o->modified > q->mod_to ||
        o->created < q->cre_from || o->created > q->cre_to || o->revision < q->rev ||
        (q->statuses != 0 && !(q->statuses >> o->status & 1)) ||
        (!q->with_returned && o->status == PF_ST_RETURNED) ||
        (q->customer != PF_NONE && o->customer != q->customer))
        return false;
    if ((q->post_from != NO_BOUND_LO || q->post_to != NO_BOUND_HI) &&
        (o->posted_at == 0 || o->posted_at < q->post_from || o->posted_at > q->post_to))
        return false;
    bool store_ok = q->nstores == 0;
    for (unsigned k = 0; k < q->nstores && !store_ok; k++)
        store_ok = q->stores[k] == o->store;
    return store_ok;
}

static bool match_order(const list_spec *ls, uint32_t i)
{
    return order_matches(ls->d, ls->q, i);
}

/* The list carries no composition (no lines relationship), like the vendor's. */
static void render_list_order(sb_json *j, const pf_data *d, uint32_t idx)
{
    pf_render_order(j, d, idx, false, false);
}

static void render_list_order_lines(sb_json *j, const pf_data *d, uint32_t idx)
{
    pf_render_order(j, d, idx, false, true);
}

/* What the orders list does with include= (the fault pf_list_include). */
enum { LIST_INC_VENDOR, LIST_INC_LINES, LIST_INC_PARTIAL, LIST_INC_NONE, LIST_INC_REFUSE };

static int list_include_mode(const sb_request *req)
{
    const char *m = req->faults != NULL ? req->faults->pf_list_include : "";
    return strcmp(m, "lines") == 0     ? LIST_INC_LINES
           : strcmp(m, "partial") == 0 ? LIST_INC_PARTIAL
           : strcmp(m, "none") == 0    ? LIST_INC_NONE
           : strcmp(m, "refuse") == 0  ? LIST_INC_REFUSE
                                       : LIST_INC_VENDOR;
}

/* included[] of an order document (the detail, or a list page's orders): the lines
 * (when lines; under "partial" not those of every fifth order of a list), the
 * payments and the methods they use, each method once. */
static void put_order_included(sb_json *j, const pf_data *d, const uint32_t *idx, uint32_t n,
                               bool lines, bool pays, bool methods, bool partial)
{
    unsigned used = 0; /* payment methods seen, one bit each */
    sb_json_key(j, "included");
    sb_json_arr(j);
    for (uint32_t k = 0; k < n; k++) {
        const pf_order *o = &d->orders.v[idx[k]];
        bool drop = partial && idx[k] % 5 == 4;
        for (uint32_t l = o->line_start; lines && !drop && l < o->line_start + o->nlines; l++)
            pf_render_line(j, d, l);
        for (uint32_t p = o->pay_head; p != PF_NONE; p = d->pays.v[p].next) {
            if (pays)
                pf_render_payment(j, d, p);
            used |= 1u << d->pays.v[p].method;
        }
    }
    for (uint32_t m = 0; methods && m < PF_METHODS; m++)
        if (used >> m & 1)
            pf_render_method(j, d, m);
    sb_json_end(j);
}

static int64_t order_sort_key(const pf_order *o, int sort)
{
    return sort == SORT_UPDATED ? o->updated : sort == SORT_MODIFIED ? o->modified : o->created;
}

/* By the sort field (descending when asked), ties always by id ascending. The
 * query is the first member of whatever ls->q points at. */
static int cmp_orders(const void *a, const void *b, void *ctx)
{
    const list_spec *ls = ctx;
    const order_query *q = ls->q;
    uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
    const pf_order *x = &ls->d->orders.v[ia], *y = &ls->d->orders.v[ib];
    int64_t kx = order_sort_key(x, q->sort), ky = order_sort_key(y, q->sort);
    if (kx != ky)
        return (kx < ky) != q->desc ? -1 : 1;
    if (x->idkey != y->idkey)
        return x->idkey < y->idkey ? -1 : 1;
    return ia < ib ? -1 : ia > ib;
}

/* filter[statuses][] (repeated) or filter[statuses] (comma list). */
static bool read_statuses(const sb_request *req, unsigned *mask, sb_response *resp)
{
    for (size_t i = 0; i < req->nargs; i++) {
        const char *key = req->args[i].key;
        if (strcmp(key, "filter[statuses][]") != 0 && strcmp(key, "filter[statuses]") != 0)
            continue;
        for (const char *p = req->args[i].value; *p != '\0';) {
            size_t len = strcspn(p, ",");
            int s = 0;
            while (s < PF_ST_COUNT &&
                   !(strlen(pf_status_names[s]) == len && memcmp(pf_status_names[s], p, len) == 0))
                s++;
            if (s == PF_ST_COUNT) {
                pf_error(resp, 422, "The value you selected is not a valid choice.", NULL, key);
                return false;
            }
            *mask |= 1u << s;
            p += len + (p[len] == ',');
        }
    }
    return true;
}

/* filter[stores][] (repeated) or filter[stores] (comma list) of store ids. An id
 * the sandbox does not know matches no order. */
static bool read_stores(const pf_data *d, const sb_request *req, order_query *q, sb_response *resp)
{
    bool named = false;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *key = req->args[i].key;
        if (strcmp(key, "filter[stores][]") != 0 && strcmp(key, "filter[stores]") != 0)
            continue;
        for (const char *p = req->args[i].value; *p != '\0';) {
            size_t len = strcspn(p, ",");
            char id[PF_ID_LEN + 1];
            uint32_t idx;
            named = true;
            if (len == PF_ID_LEN) {
                memcpy(id, p, len);
                id[len] = '\0';
                if (pf_id_parse(d, PF_K_STORE, id, d->stores.n, &idx)) {
                    if (q->nstores == STORES_MAX) {
                        pf_error(resp, 422, "Too many stores.", NULL, key);
                        return false;
                    }
                    q->stores[q->nstores++] = idx;
                }
            }
            p += len + (p[len] == ',');
        }
    }
    q->match_none = q->match_none || (named && q->nstores == 0);
    return true;
}

/* filter[customer]: a customer id; an unknown one matches no order. */
static void read_customer(const pf_data *d, const sb_request *req, order_query *q)
{
    const char *s = arg(req, "filter[customer]");
    if (s != NULL && *s != '\0' && !pf_id_parse(d, PF_K_CUSTOMER, s, d->customers.n, &q->customer))
        q->match_none = true;
}

/* filter[withReturned]: true|1 (default) or false|0. */
static bool read_with_returned(const sb_request *req, bool *out, sb_response *resp)
{
    const char *s = arg(req, "filter[withReturned]");
    if (s == NULL || *s == '\0')
        return true;
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = false;
    else {
        pf_error(resp, 422, "This value should be of type bool.", NULL, "filter[withReturned]");
        return false;
    }
    return true;
}

static bool read_sort(const sb_request *req, order_query *q, sb_response *resp)
{
    const char *s = arg(req, "sort");
    if (s == NULL || *s == '\0')
        return true;
    q->desc = *s == '-';
    const char *field = q->desc ? s + 1 : s;
    if (strcmp(field, "updatedAt") == 0)
        q->sort = SORT_UPDATED;
    else if (strcmp(field, "modifiedAt") == 0)
        q->sort = SORT_MODIFIED;
    else if (strcmp(field, "createdAt") == 0)
        q->sort = SORT_CREATED;
    else {
        pf_error(resp, 422, "Sort field is not allowed.", NULL, "sort");
        return false;
    }
    return true;
}

/* Every filter and the sort into q (initialised here). False with resp filled
 * (422) on a bad value. */
static bool read_order_query(const pf_data *d, const sb_request *req, order_query *q,
                             sb_response *resp)
{
    order_query_init(q);
    if (!read_time(req, "filter[updatedAt][from]", false, &q->upd_from, resp) ||
        !read_time(req, "filter[updatedAt][to]", true, &q->upd_to, resp) ||
        !read_time(req, "filter[modifiedAt][from]", false, &q->mod_from, resp) ||
        !read_time(req, "filter[modifiedAt][to]", true, &q->mod_to, resp) ||
        !read_time(req, "filter[createdAt][from]", false, &q->cre_from, resp) ||
        !read_time(req, "filter[createdAt][to]", true, &q->cre_to, resp) ||
        !read_time(req, "filter[postedAt][from]", false, &q->post_from, resp) ||
        !read_time(req, "filter[postedAt][to]", true, &q->post_to, resp) ||
        !read_int(req, "filter[revision]", &q->rev, resp) ||
        !read_statuses(req, &q->statuses, resp) || !read_sort(req, q, resp) ||
        !read_with_returned(req, &q->with_returned, resp) || !read_stores(d, req, q, resp))
        return false;
    read_customer(d, req, q);
    return true;
}

enum { ORDER_KEY_MAX = 320 + STORES_MAX * 12 };

/* The cache key of q under prefix: every field (stores as their indexes). */
static void order_key(const char *prefix, const order_query *q, char *key)
{
    int len = snprintf(key, ORDER_KEY_MAX,
                       "%s|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%x|%u|%d|%d|%d|%d|", prefix,
                       (long long)q->upd_from, (long long)q->upd_to, (long long)q->mod_from,
                       (long long)q->mod_to, (long long)q->cre_from, (long long)q->cre_to,
                       (long long)q->post_from, (long long)q->post_to, (long long)q->rev,
                       q->statuses, q->customer, q->with_returned, q->match_none, q->sort, q->desc);
    for (unsigned k = 0; k < q->nstores && len > 0 && len < ORDER_KEY_MAX; k++)
        len += snprintf(key + len, (size_t)(ORDER_KEY_MAX - len), "%u,", q->stores[k]);
}

void pf_api_orders(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp)
{
    page_req pg;
    order_query q;
    if (!read_page(req, &pg, resp) || !read_order_query(d, req, &q, resp))
        return;
    char key[ORDER_KEY_MAX];
    order_key("orders", &q, key);
    list_spec ls = {.d = d,
                    .q = &q,
                    .n = d->orders.n,
                    .match = match_order,
                    .cmp = q.sort != SORT_NONE ? cmp_orders : NULL};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    /* include= on the list: payments and payments.method as the vendor's list
     * honours them (reference §3); lines only under pf_list_include=lines|partial. */
    int mode = list_include_mode(req);
    const char *inc = arg(req, "include");
    if (mode == LIST_INC_REFUSE && inc != NULL && *inc != '\0') {
        pf_error(resp, 400, "Invalid include", "Include is not allowed for this resource",
                 "include");
        return;
    }
    bool lines = (mode == LIST_INC_LINES || mode == LIST_INC_PARTIAL) && include_has(req, "lines");
    bool pays = mode != LIST_INC_NONE && include_has(req, "payments"),
         methods = mode != LIST_INC_NONE && include_has(req, "payments.method");
    sb_json j;
    begin_doc(&j, resp, &pg, &po, d->rev_orders);
    put_data(&j, d, &po, lines ? render_list_order_lines : render_list_order);
    if (lines || pays || methods)
        put_order_included(&j, d, po.idx, po.n, lines, pays, methods, mode == LIST_INC_PARTIAL);
    end_doc(&j, resp);
}

/* ---- one order, with include=lines,payments,payments.method ---- */

void pf_api_order(const pf_data *d, const char *id, const sb_request *req, sb_response *resp)
{
    uint32_t idx;
    if (!pf_id_parse(d, PF_K_ORDER, id, d->orders.n, &idx) || idx == d->hidden_order) {
        pf_error(resp, 404, "Not Found", "Order not found", NULL);
        return;
    }
    bool lines = include_has(req, "lines"), pays = include_has(req, "payments"),
         methods = include_has(req, "payments.method");
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "data");
    pf_render_order(&j, d, idx, true, false);
    if (lines || pays || methods)
        put_order_included(&j, d, &idx, 1, lines, pays, methods, false);
    sb_json_end(&j);
    resp->status = 200;
}

/* ---- order analytics: GET /v1/orders/analytics/{kind} ----
 *
 * The orders list's document (same filters, sort and paging) restricted to the
 * orders the report is about, with meta.analytic_header summing them. What the
 * sandbox chose where the reference is silent is in docs/sandbox.md ("Order
 * analytics"). */

enum {
    AN_SHIPMENT_REVENUE,
    AN_MARGINALITY,
    AN_BONUSES_SUBTRACT,
    AN_BONUSES_ACCRUED,
    AN_TOTAL_DISCOUNT,
    AN_RETURNED,
    AN_COUNT
};

static const char *const analytics_kinds[AN_COUNT] = {"shipment-revenue", "marginality",
                                                      "bonuses-subtract", "bonuses-accrued",
                                                      "total-discount",   "returned"};

/* An analytics query: the list's filters (first, so cmp_orders reads them) and
 * the report. */
typedef struct {
    order_query o;
    int kind;
} analytics_query;

bool pf_analytics_kind_known(const char *kind)
{
    for (int k = 0; k < AN_COUNT; k++)
        if (strcmp(kind, analytics_kinds[k]) == 0)
            return true;
    return false;
}

static bool paid_by_bonuses(const pf_data *d, const pf_order *o)
{
    for (uint32_t p = o->pay_head; p != PF_NONE; p = d->pays.v[p].next)
        if (d->pays.v[p].bonus > 0) /* the order's byBonuses */
            return true;
    return false;
}

static bool has_discount(const pf_data *d, const pf_order *o)
{
    for (uint32_t l = o->line_start; l < o->line_start + o->nlines; l++)
        if (pf_line_discount_price(&d->lines.v[l]) < d->lines.v[l].price)
            return true;
    return false;
}

/* Whether order o is one the report of kind is about. */
static bool kind_covers(const pf_data *d, int kind, const pf_order *o)
{
    switch (kind) {
    case AN_BONUSES_SUBTRACT:
        return paid_by_bonuses(d, o);
    case AN_BONUSES_ACCRUED:
        return o->customer != PF_NONE && o->status == PF_ST_DONE;
    case AN_TOTAL_DISCOUNT:
        return has_discount(d, o);
    case AN_RETURNED:
        return o->status == PF_ST_RETURNED;
    default:
        return true;
    }
}

/* The orders the report covers: the list's for the same filters, less the
 * poison ones (a correct client rejects them), restricted by kind. */
static bool match_analytics(const list_spec *ls, uint32_t i)
{
    const analytics_query *q = ls->q;
    const pf_order *o = &ls->d->orders.v[i];
    return !o->poison && order_matches(ls->d, &q->o, i) && kind_covers(ls->d, q->kind, o);
}

/* The header's sums over the covered orders, into aux: [0] fullRevenue (every
 * order but canceled and notAccepted), [1] returnedRevenue, [2] revenueBonuses
 * (bonus part of the payments of revenue orders). Under amount-off the chosen
 * order counts 0.01 more than its totalAmount. */
static void analytics_sums(const list_spec *ls, const uint32_t *idx, uint32_t n, int64_t *aux)
{
    const pf_data *d = ls->d;
    for (uint32_t k = 0; k < n; k++) {
        const pf_order *o = &d->orders.v[idx[k]];
        bool returned = o->status == PF_ST_RETURNED;
        if (!returned && !pf_status_is_revenue(o->status))
            continue;
        int64_t total = o->total;
        if (d->amount_off && idx[k] == d->off_order)
            total += PF_V4 / 100;
        aux[0] += total;
        if (returned) {
            aux[1] += total;
            continue;
        }
        for (uint32_t p = o->pay_head; p != PF_NONE; p = d->pays.v[p].next)
            if (d->pays.v[p].type == PF_PAY_PAYMENT)
                aux[2] += d->pays.v[p].bonus;
    }
}

void pf_api_analytics(const pf_data *d, sb_qcache *c, const char *kind, const sb_request *req,
                      sb_response *resp)
{
    page_req pg;
    analytics_query q = {.kind = AN_COUNT};
    for (int k = 0; k < AN_COUNT; k++)
        if (strcmp(kind, analytics_kinds[k]) == 0)
            q.kind = k;
    if (q.kind == AN_COUNT) {
        pf_error(resp, 404, "Not Found", "No route found for this path", NULL);
        return;
    }
    if (!read_page(req, &pg, resp) || !read_order_query(d, req, &q.o, resp))
        return;
    /* withReturned=false must not empty the report on returned orders. */
    if (q.kind == AN_RETURNED)
        q.o.with_returned = true;
    char key[ORDER_KEY_MAX], prefix[48];
    snprintf(prefix, sizeof prefix, "analytics.%d", q.kind);
    order_key(prefix, &q.o, key);
    list_spec ls = {.d = d,
                    .q = &q,
                    .n = d->orders.n,
                    .match = match_analytics,
                    .cmp = q.o.sort != SORT_NONE ? cmp_orders : NULL,
                    .aux = analytics_sums};
    page_out po;
    if (!select_page(c, key, &ls, &pg, &po)) {
        out_of_memory(resp);
        return;
    }
    char count[24];
    snprintf(count, sizeof count, "%u", po.total);
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "meta");
    sb_json_obj(&j);
    sb_json_key(&j, "page");
    sb_json_obj(&j);
    sb_json_kint(&j, "number", pg.number);
    sb_json_kint(&j, "size", pg.size);
    sb_json_end(&j);
    sb_json_kstr(&j, "total", count); /* a string, as in the reference's example */
    sb_json_key(&j, "analytic_header");
    sb_json_obj(&j);
    sb_json_kstr(&j, "orders_count", count);
    sb_json_kmoney(&j, "fullRevenue", po.aux[0], SB_MONEY_STRING2);
    sb_json_kmoney(&j, "returnedRevenue", po.aux[1], SB_MONEY_STRING2);
    sb_json_kmoney(&j, "revenueBonuses", po.aux[2], SB_MONEY_STRING2);
    sb_json_kmoney(&j, "revenue", po.aux[0] - po.aux[1], SB_MONEY_STRING2);
    sb_json_end(&j);
    put_data(&j, d, &po, render_list_order);
    end_doc(&j, resp);
}
