/* The Goflow module: routing of /goflow/v1/..., bearer auth, lists with
 * filters[...], sorting and an opaque keyset `next`, per-endpoint rate limits
 * that answer real 429s (retry_after_seconds and Retry-After), the asynchronous
 * inventory reports (create, poll, download: file_url is on another host and
 * redirects to the file, like Goflow's CDN), report quotas, and /goflow/_control
 * (the module's own test switches). Data lives in sb_gf_data.c; report files in
 * sb_gf_report.c. Requests take the data's read lock; advance and reset the write
 * lock; budgets and reports have their own mutex. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>
#include "sb_gf.h"
#include "sb_time.h"

#define CT_JSON "application/json; charset=utf-8"
#define MAX_FILTERS 16
#define MAX_BUCKETS 16
#define MAX_REPORTS 32
#define REPORT_TTL_MS (12 * 3600 * INT64_C(1000))
#define DEFAULT_LIST_PER_MIN 60.0
#define DEFAULT_REPORTS_PER_HOUR 6.0
#define DEFAULT_REPORT_POLLS 1
#define HOST_MAX 128

typedef struct {
    const char *endpoint;
    double tokens;
    int64_t last_ms;
    int64_t retry_at_ms; /* the last 429's Retry-After ran out here */
} bucket;

typedef struct {
    bool used;
    int64_t id;
    int kind; /* 0 counts, 1 values */
    char format[8];
    int64_t created_ms;
    int polls_left, polls_seen;
    int64_t completed_ticks;
    sb_buf file;
    long rows;
    char token[40];
    bool expired;
    /* The host serving the file: the other name of the loopback address the client
     * polled through ("localhost:P" for "127.0.0.1:P" and the reverse); "" when the
     * poll had no Host header (then file_url is path-absolute on the API host). */
    char file_host[HOST_MAX];
} report;

/* What the download side saw, for GET /goflow/_control. */
typedef struct {
    long redirected;  /* file_url requests answered with a redirect */
    long served;      /* files sent */
    long leaked_auth; /* requests on the file host that carried Authorization (400) */
    long auth_on_api; /* file_url requests on the API host that carried it (allowed) */
} file_counts;

typedef struct {
    pthread_rwlock_t lock;
    gf_data data;
    sb_config cfg;
    /* --mismatch: the initial order with the median id, and the one the API hides
     * (that one under hide-order=goflow, else SIZE_MAX). Fixed for the process. */
    size_t median_order, hidden_order;
    pthread_mutex_t mu; /* everything below */
    bucket buckets[MAX_BUCKETS];
    size_t nbuckets;
    double list_per_min, reports_per_hour;
    int report_polls;
    int orders_page_size;   /* 0: the list's own (50) */
    bool relative_file_url; /* file_url as a path on the API host (then it redirects
                             * to the file host) instead of an absolute URL there */
    file_counts files;
    long limited;       /* the module's own 429s */
    long early_retries; /* requests that came before their Retry-After ran out */
    report reports[MAX_REPORTS];
    int64_t next_report_id;
    long created[2];
    int64_t consumed[2];
} gf_state;

static const char *const endpoints[] = {"goflow_stores",        "goflow_warehouses",
                                        "goflow_products",      "goflow_orders",
                                        "goflow_report_counts", "goflow_report_values",
                                        "goflow_reports",       "goflow_quotas",
                                        "goflow_files",         NULL};

static void settings_default(gf_state *st)
{
    st->list_per_min = DEFAULT_LIST_PER_MIN;
    st->reports_per_hour = DEFAULT_REPORTS_PER_HOUR;
    st->report_polls = DEFAULT_REPORT_POLLS;
    st->orders_page_size = 0;
    st->relative_file_url = false;
    st->nbuckets = 0;
}

static void reports_clear(gf_state *st)
{
    for (int i = 0; i < MAX_REPORTS; i++) {
        sb_buf_term(&st->reports[i].file);
        memset(&st->reports[i], 0, sizeof st->reports[i]);
    }
    st->created[0] = st->created[1] = 0;
    st->consumed[0] = st->consumed[1] = 0;
    memset(&st->files, 0, sizeof st->files);
    st->limited = st->early_retries = 0;
}

static int by_order_id(size_t a, size_t b, void *ctx)
{
    const gf_data *d = ctx;
    int64_t x = d->orders[a].id, y = d->orders[b].id;
    return x < y ? -1 : x > y;
}

static bool regular_order(size_t i, void *ctx)
{
    const gf_data *d = ctx;
    return d->orders[i].poison == GF_POISON_NONE && !d->orders[i].deleted;
}

/* The median-id order of the initial data (poison orders aside). False when
 * memory ran out. */
static bool pick_mismatch(gf_state *st)
{
    size_t m = sb_mismatch_median(st->data.norders, regular_order, by_order_id, &st->data);
    if (m == SIZE_MAX)
        return false;
    st->median_order = m < st->data.norders ? m : SIZE_MAX;
    st->hidden_order =
        sb_mismatch_hides(&st->cfg.mismatch, SB_V_GOFLOW) ? st->median_order : SIZE_MAX;
    return true;
}

/* The mismatch truth lines (docs/sandbox.md, "Mismatch switches"). */
static void truth_mismatch(const gf_state *st, sb_buf *out)
{
    if (st->median_order == SIZE_MAX)
        return;
    long long id = (long long)st->data.orders[st->median_order].id;
    sb_buf_printf(out, "mismatch\tgoflow.median_order\t%lld\n", id);
    if (st->hidden_order != SIZE_MAX)
        sb_buf_printf(out, "mismatch\tgoflow.hidden_order\t%lld\n", id);
}

static void *gf_create(const sb_config *cfg, char *err, size_t errlen)
{
    gf_state *st = calloc(1, sizeof *st);
    if (st == NULL || !gf_data_generate(&st->data, cfg->seed, cfg->scale) ||
        (cfg->poison && !gf_data_add_poison(&st->data))) {
        if (st != NULL)
            gf_data_free(&st->data);
        free(st);
        snprintf(err, errlen, "goflow: out of memory generating the data");
        return NULL;
    }
    st->cfg = *cfg;
    if (!pick_mismatch(st)) {
        gf_data_free(&st->data);
        free(st);
        snprintf(err, errlen, "goflow: out of memory generating the data");
        return NULL;
    }
    pthread_rwlock_init(&st->lock, NULL);
    pthread_mutex_init(&st->mu, NULL);
    settings_default(st);
    st->next_report_id = 4100 + (int64_t)(cfg->seed % 100) * 10;
    return st;
}

static void gf_destroy(void *state)
{
    gf_state *st = state;
    if (st == NULL)
        return;
    reports_clear(st);
    gf_data_free(&st->data);
    pthread_rwlock_destroy(&st->lock);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ---- responses ---------------------------------------------------------------- */

static void message(sb_response *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = CT_JSON;
    sb_buf_reset(&resp->body);
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_kstr(&j, "message", msg);
    sb_json_end(&j);
}

static bool authorized(const sb_request *req, sb_response *resp)
{
    static const char want[] = "Bearer " GF_TOKEN;
    if (req->authorization && strcmp(req->authorization, want) == 0)
        return true;
    message(resp, 401, "Unauthorized: a valid API token is required.");
    return false;
}

/* ---- rate limits: a token bucket per endpoint --------------------------------- */

/* Takes a token from the endpoint's bucket (per minute or per hour); false with a
 * 429 in resp when there is none: retry_after_seconds (fractional) is the time
 * until the next token. */
static bool take_token(gf_state *st, const char *endpoint, bool hourly, sb_response *resp)
{
    int64_t now = sb_time_real_ms();
    double wait_s = 0;
    pthread_mutex_lock(&st->mu);
    /* The budget per period, spread: a bucket of a sixth of it (at least one)
     * refilled continuously. Stricter than a fixed window, and what flowetl's
     * limiter is shaped to (it never sends more than the bucket holds). */
    double budget = hourly ? st->reports_per_hour : st->list_per_min;
    double per_ms = budget / (hourly ? 3600000.0 : 60000.0);
    double cap = budget / 6 < 1 ? 1 : (double)(long)(budget / 6);
    bucket *b = NULL;
    for (size_t i = 0; i < st->nbuckets && !b; i++)
        if (strcmp(st->buckets[i].endpoint, endpoint) == 0)
            b = &st->buckets[i];
    if (!b && st->nbuckets < MAX_BUCKETS) {
        b = &st->buckets[st->nbuckets++];
        b->endpoint = endpoint;
        b->tokens = cap;
        b->last_ms = now;
        b->retry_at_ms = 0;
    }
    if (b) {
        if (now < b->retry_at_ms)
            st->early_retries++;
        b->tokens += (double)(now - b->last_ms) * per_ms;
        if (b->tokens > cap)
            b->tokens = cap;
        b->last_ms = now;
        if (b->tokens >= 1)
            b->tokens -= 1;
        else
            wait_s = (1 - b->tokens) / per_ms / 1000.0;
    }
    /* The header has whole seconds only: rounded up, so it never invites an early
     * retry, and the client is held to it. */
    long retry_after = (long)wait_s;
    if ((double)retry_after < wait_s)
        retry_after++;
    if (wait_s > 0) {
        st->limited++;
        b->retry_at_ms = now + retry_after * 1000;
    }
    pthread_mutex_unlock(&st->mu);
    if (wait_s <= 0)
        return true;
    char ra[24];
    snprintf(ra, sizeof ra, "%ld", retry_after);
    sb_response_header(resp, "Retry-After", ra);
    resp->status = 429;
    resp->content_type = CT_JSON;
    sb_buf_reset(&resp->body);
    sb_buf_printf(&resp->body,
                  "{\"message\":\"API rate limit exceeded. See the rate-limiting section of the "
                  "API docs.\",\"retry_after_seconds\":%.7f}",
                  wait_s + 0.0000001);
    return false;
}

/* ---- list queries --------------------------------------------------------------- */

typedef struct {
    char field[40];
    char op[8];
    const char *value;
} filter;

typedef struct {
    filter f[MAX_FILTERS];
    size_t n;
    const char *sort;
    bool desc;
    const char *cursor;
} query;

/* Parses filters[FIELD] / filters[FIELD:OP], sort, sort_direction, cursor. */
static bool parse_query(const sb_request *req, query *q, char *why, size_t whylen)
{
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < req->nargs; i++) {
        const char *k = req->args[i].key, *v = req->args[i].value;
        if (strcmp(k, "sort") == 0)
            q->sort = v;
        else if (strcmp(k, "sort_direction") == 0) {
            if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0) {
                snprintf(why, whylen, "sort_direction must be asc or desc");
                return false;
            }
            q->desc = strcmp(v, "desc") == 0;
        } else if (strcmp(k, "cursor") == 0)
            q->cursor = v;
        else if (strncmp(k, "filters[", 8) == 0 && k[strlen(k) - 1] == ']' && q->n < MAX_FILTERS) {
            filter *f = &q->f[q->n++];
            size_t len = strlen(k) - 9;
            const char *colon = memchr(k + 8, ':', len);
            size_t flen = colon ? (size_t)(colon - k - 8) : len;
            if (flen >= sizeof f->field ||
                (colon && (size_t)(k + 8 + len - colon - 1) >= sizeof f->op)) {
                snprintf(why, whylen, "bad filter %s", k);
                return false;
            }
            memcpy(f->field, k + 8, flen);
            f->field[flen] = '\0';
            if (colon) {
                size_t olen = (size_t)(k + 8 + len - colon - 1);
                memcpy(f->op, colon + 1, olen);
                f->op[olen] = '\0';
            } else
                snprintf(f->op, sizeof f->op, "eq");
            f->value = v;
            static const char *const ops[] = {"eq", "not", "gt", "gte", "lt", "lte", "exists"};
            bool ok = false;
            for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
                ok = ok || strcmp(f->op, ops[o]) == 0;
            if (!ok) {
                snprintf(why, whylen, "unknown filter operator %s", f->op);
                return false;
            }
        } else if (strncmp(k, "filters", 7) == 0) {
            snprintf(why, whylen, "bad filter %s", k);
            return false;
        }
    }
    return true;
}

/* One comparable value of a record for a filter or the sort. */
typedef struct {
    bool is_text;
    int64_t num;
    const char *text;
} field_val;

typedef bool (*field_fn)(const gf_data *d, size_t idx, const char *field, field_val *out);

static bool order_field(const gf_data *d, size_t idx, const char *field, field_val *out)
{
    const gf_order *o = &d->orders[idx];
    memset(out, 0, sizeof *out);
    if (strcmp(field, "id") == 0)
        out->num = o->id;
    else if (strcmp(field, "date") == 0)
        out->num = o->date;
    else if (strcmp(field, "status_updated_at") == 0)
        out->num = o->status_at;
    else if (strcmp(field, "store.id") == 0)
        out->num = o->store_id;
    else if (strcmp(field, "status") == 0) {
        out->is_text = true;
        out->text = gf_status_names[o->status];
    } else
        return false;
    return true;
}

static bool product_field(const gf_data *d, size_t idx, const char *field, field_val *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(field, "id") == 0)
        out->num = d->products[idx].id;
    else if (strcmp(field, "status") == 0 || strcmp(field, "type") == 0) {
        out->is_text = true;
        out->text = field[0] == 's' ? d->products[idx].status : d->products[idx].type;
    } else
        return false;
    return true;
}

static bool store_field(const gf_data *d, size_t idx, const char *field, field_val *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(field, "id") != 0)
        return false;
    out->num = d->stores[idx].id;
    return true;
}

static bool wh_field(const gf_data *d, size_t idx, const char *field, field_val *out)
{
    (void)d;
    memset(out, 0, sizeof *out);
    if (strcmp(field, "id") != 0)
        return false;
    out->num = (int64_t)idx; /* warehouses keep their list order */
    return true;
}

/* The filter value parsed like the field (times for date fields). */
static bool filter_value(const filter *f, const field_val *like, const char *field, field_val *out)
{
    memset(out, 0, sizeof *out);
    if (like->is_text) {
        out->is_text = true;
        out->text = f->value;
        return true;
    }
    if (strcmp(field, "date") == 0 || strcmp(field, "status_updated_at") == 0)
        return gf_parse_time(f->value, &out->num);
    char *end;
    long long v = strtoll(f->value, &end, 10);
    if (*f->value == '\0' || *end)
        return false;
    out->num = v;
    return true;
}

static int cmp_val(const field_val *a, const field_val *b)
{
    if (a->is_text)
        return strcmp(a->text, b->text);
    return a->num < b->num ? -1 : a->num > b->num;
}

/* Every filter holds (eq filters on the same field: any of their values). */
static bool matches(const gf_data *d, size_t idx, field_fn fn, const query *q, bool *bad)
{
    for (size_t i = 0; i < q->n; i++) {
        const filter *f = &q->f[i];
        field_val v, want;
        if (!fn(d, idx, f->field, &v) || !filter_value(f, &v, f->field, &want)) {
            *bad = true;
            return false;
        }
        int c = cmp_val(&v, &want);
        bool ok;
        if (strcmp(f->op, "eq") == 0) {
            ok = c == 0;
            for (size_t k = 0; k < q->n && !ok; k++)
                if (k != i && strcmp(q->f[k].field, f->field) == 0 &&
                    strcmp(q->f[k].op, "eq") == 0) {
                    field_val w2;
                    ok = filter_value(&q->f[k], &v, f->field, &w2) && cmp_val(&v, &w2) == 0;
                }
        } else if (strcmp(f->op, "not") == 0)
            ok = c != 0;
        else if (strcmp(f->op, "gt") == 0)
            ok = c > 0;
        else if (strcmp(f->op, "gte") == 0)
            ok = c >= 0;
        else if (strcmp(f->op, "lt") == 0)
            ok = c < 0;
        else if (strcmp(f->op, "lte") == 0)
            ok = c <= 0;
        else
            ok = true; /* exists: every field here exists */
        if (!ok)
            return false;
    }
    return true;
}

typedef struct {
    int64_t key, id;
    uint32_t idx;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return 0;
}

/* The token is opaque to clients: the last (sort key, id) of a page, mixed with
 * the data's seed so it looks like nothing in particular. */
static void put_token(sb_buf *b, uint64_t salt, int64_t key, int64_t id)
{
    sb_buf_printf(b, "%016" PRIx64 "%016" PRIx64, (uint64_t)key ^ salt, (uint64_t)id ^ (salt * 31));
}

static bool read_token(const char *t, uint64_t salt, int64_t *key, int64_t *id)
{
    char a[17], b[17];
    if (strlen(t) != 32)
        return false;
    memcpy(a, t, 16);
    memcpy(b, t + 16, 16);
    a[16] = b[16] = '\0';
    char *e1, *e2;
    uint64_t x = strtoull(a, &e1, 16), y = strtoull(b, &e2, 16);
    if (*e1 || *e2)
        return false;
    *key = (int64_t)(x ^ salt);
    *id = (int64_t)(y ^ (salt * 31));
    return true;
}

static void put_urlenc(sb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            sb_buf_putc(b, (char)c);
        else {
            sb_buf_putc(b, '%');
            sb_buf_putc(b, hex[c >> 4]);
            sb_buf_putc(b, hex[c & 15]);
        }
    }
}

typedef void (*render_fn)(sb_json *j, const gf_data *d, size_t idx);

static void r_order(sb_json *j, const gf_data *d, size_t i)
{
    gf_render_order(j, d, &d->orders[i]);
}
static void r_product(sb_json *j, const gf_data *d, size_t i)
{
    gf_render_product(j, d, &d->products[i]);
}
static void r_store(sb_json *j, const gf_data *d, size_t i)
{
    gf_render_store(j, &d->stores[i]);
}
static void r_wh(sb_json *j, const gf_data *d, size_t i)
{
    gf_render_wh(j, &d->whs[i]);
}

typedef struct {
    const char *path, *endpoint;
    field_fn field;
    render_fn render;
    const char *const *sorts; /* NULL-terminated */
    int page_size;
} list_def;

static const char *const order_sorts[] = {"id", "order_number", "date", "status_updated_at", NULL};
static const char *const id_sorts[] = {"id", NULL};
static const char *const no_sorts[] = {NULL};

static const list_def lists[] = {
    {"/v1/orders", "goflow_orders", order_field, r_order, order_sorts, 50},
    {"/v1/products", "goflow_products", product_field, r_product, id_sorts, 100},
    {"/v1/stores", "goflow_stores", store_field, r_store, id_sorts, 100},
    {"/v1/warehouses", "goflow_warehouses", wh_field, r_wh, no_sorts, 100},
};

static size_t list_count(const gf_data *d, const list_def *l)
{
    if (l->render == r_order)
        return d->norders;
    if (l->render == r_product)
        return d->nproducts;
    if (l->render == r_store)
        return d->nstores;
    return d->nwhs;
}

/* "http://HOST" of the request (its Host header), for the absolute links Goflow
 * sends; nothing when the request named no host (the link stays path-absolute). */
static void put_origin(const sb_request *req, sb_buf *out)
{
    if (req->host && *req->host)
        sb_buf_printf(out, "http://%s", req->host);
}

static bool sort_ok(const list_def *l, const char *sort)
{
    for (size_t i = 0; l->sorts[i]; i++)
        if (strcmp(l->sorts[i], sort) == 0)
            return true;
    return false;
}

/* hidden: an order index the list leaves out (--mismatch), SIZE_MAX for none. */
static void render_list(const gf_data *d, const list_def *l, int page_size, size_t hidden,
                        const sb_request *req, sb_response *resp)
{
    query q;
    char why[128];
    bool bad = false;
    if (!parse_query(req, &q, why, sizeof why)) {
        message(resp, 400, why);
        return;
    }
    const char *sort = q.sort ? q.sort : "id";
    if (q.sort && !sort_ok(l, q.sort)) {
        message(resp, 400, "The sort field is not supported for this resource.");
        return;
    }
    if (strcmp(sort, "order_number") == 0)
        sort = "id"; /* GF<id>: the same order */
    size_t n = list_count(d, l), m = 0;
    sort_item *items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        resp->body.failed = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        field_val k, id;
        if (l->render == r_order && (d->orders[i].deleted || i == hidden))
            continue;
        if (!matches(d, i, l->field, &q, &bad)) {
            if (bad)
                break;
            continue;
        }
        l->field(d, i, sort, &k);
        l->field(d, i, "id", &id);
        items[m++] = (sort_item){k.num, id.num, (uint32_t)i};
    }
    if (bad) {
        free(items);
        message(resp, 400, "Unknown filter field or a value of the wrong type.");
        return;
    }
    qsort(items, m, sizeof *items, cmp_item);
    if (q.desc)
        for (size_t i = 0; i < m / 2; i++) {
            sort_item t = items[i];
            items[i] = items[m - 1 - i];
            items[m - 1 - i] = t;
        }
    size_t start = 0;
    uint64_t salt = sb_hash64(d->seed, 0x7e47);
    if (q.cursor) {
        int64_t key, id;
        if (!read_token(q.cursor, salt, &key, &id)) {
            free(items);
            message(resp, 400, "The cursor is not valid.");
            return;
        }
        sort_item probe = {key, id, 0};
        while (start < m && (q.desc ? cmp_item(&items[start], &probe) >= 0
                                    : cmp_item(&items[start], &probe) <= 0))
            start++;
    }
    size_t end = start + (size_t)page_size < m ? start + (size_t)page_size : m;
    sb_json j;
    resp->status = 200;
    resp->content_type = CT_JSON;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "data");
    sb_json_arr(&j);
    for (size_t i = start; i < end; i++)
        l->render(&j, d, items[i].idx);
    sb_json_end(&j);
    if (end < m) {
        sb_buf next;
        sb_buf_init(&next, 256);
        /* Absolute, as Goflow sends it (shared/reference/goflow.md, "The next URL"),
         * on the host the client used (its Host header). */
        put_origin(req, &next);
        sb_buf_printf(&next, "/goflow%s?", l->path);
        for (size_t i = 0; i < req->nargs; i++) {
            if (strcmp(req->args[i].key, "cursor") == 0)
                continue;
            put_urlenc(&next, req->args[i].key);
            sb_buf_putc(&next, '=');
            put_urlenc(&next, req->args[i].value);
            sb_buf_putc(&next, '&');
        }
        sb_buf_puts(&next, "cursor=");
        put_token(&next, salt, items[end - 1].key, items[end - 1].id);
        sb_json_kstr(&j, "next", sb_buf_cstr(&next));
        if (sb_buf_failed(&next))
            resp->body.failed = true;
        sb_buf_term(&next);
    } else {
        sb_json_knull(&j, "next");
    }
    sb_json_end(&j);
    free(items);
}

/* ---- reports ---------------------------------------------------------------------- */

static report *find_report(gf_state *st, int64_t id, const char *token)
{
    int64_t now = sb_time_real_ms();
    for (int i = 0; i < MAX_REPORTS; i++) {
        report *r = &st->reports[i];
        if (!r->used || r->expired || now - r->created_ms > REPORT_TTL_MS)
            continue;
        if ((token && strcmp(r->token, token) == 0) || (!token && r->id == id))
            return r;
    }
    return NULL;
}

/* Columns and format of a report request body; false: 422 in resp. */
static bool report_body(const sb_request *req, const char **cols, size_t *ncols, size_t max,
                        char format[8], yajl_val *tree, sb_response *resp)
{
    char err[128];
    const char *cpath[] = {"columns", NULL}, *fpath[] = {"format", NULL};
    *tree = yajl_tree_parse(req->body, err, sizeof err);
    yajl_val c = *tree ? yajl_tree_get(*tree, cpath, yajl_t_array) : NULL;
    yajl_val f = *tree ? yajl_tree_get(*tree, fpath, yajl_t_string) : NULL;
    const char *fs = f ? YAJL_GET_STRING(f) : "json";
    *ncols = 0;
    if (c)
        for (size_t i = 0; i < YAJL_GET_ARRAY(c)->len && *ncols < max; i++)
            if (YAJL_IS_STRING(YAJL_GET_ARRAY(c)->values[i]))
                cols[(*ncols)++] = YAJL_GET_STRING(YAJL_GET_ARRAY(c)->values[i]);
    if (*ncols == 0 ||
        (strcmp(fs, "json") != 0 && strcmp(fs, "jsonl") != 0 && strcmp(fs, "csv") != 0)) {
        message(resp, 422,
                "The given data is invalid: columns must be a non-empty array and "
                "format json, jsonl or csv.");
        return false;
    }
    snprintf(format, 8, "%s", fs);
    return true;
}

static void create_report(gf_state *st, int kind, const sb_request *req, sb_response *resp)
{
    const char *cols[32];
    size_t ncols;
    char format[8];
    yajl_val tree = NULL;
    sb_buf file;
    long rows = 0;
    if (strcmp(req->method, "POST") != 0) {
        message(resp, 405, "Use POST to generate a report.");
        return;
    }
    if (!report_body(req, cols, &ncols, 32, format, &tree, resp)) {
        yajl_tree_free(tree);
        return;
    }
    sb_buf_init(&file, 1 << 16);
    pthread_rwlock_rdlock(&st->lock);
    bool ok = gf_report_render(&st->data, kind, format, cols, ncols, &file, &rows);
    uint64_t salt = sb_hash3(st->data.seed, 0x4e9, (uint64_t)sb_time_real_ms());
    pthread_rwlock_unlock(&st->lock);
    yajl_tree_free(tree);
    if (!ok) {
        sb_buf_term(&file);
        resp->body.failed = true;
        return;
    }
    pthread_mutex_lock(&st->mu);
    int slot = 0;
    for (int i = 0; i < MAX_REPORTS; i++) {
        if (!st->reports[i].used) {
            slot = i;
            break;
        }
        if (st->reports[i].created_ms < st->reports[slot].created_ms)
            slot = i;
    }
    report *r = &st->reports[slot];
    sb_buf_term(&r->file);
    memset(r, 0, sizeof *r);
    r->used = true;
    r->id = st->next_report_id++;
    r->kind = kind;
    snprintf(r->format, sizeof r->format, "%s", format);
    r->created_ms = sb_time_real_ms();
    r->polls_left = st->report_polls;
    r->file = file;
    r->rows = rows;
    /* The id makes tokens of reports created in the same millisecond differ. */
    snprintf(r->token, sizeof r->token, "%016" PRIx64 "%016" PRIx64, salt,
             sb_hash64(salt, (uint64_t)r->id));
    st->created[kind]++;
    st->consumed[kind] += rows;
    int64_t id = r->id;
    pthread_mutex_unlock(&st->mu);
    resp->status = 202;
    resp->content_type = CT_JSON;
    sb_buf_printf(&resp->body, "{\"id\":%" PRId64 ",\"location\":\"", id);
    put_origin(req, &resp->body); /* absolute, as in Goflow's docs */
    sb_buf_printf(&resp->body, "/goflow/v1/reports/%" PRId64 "\"}", id);
}

/* The other name of the loopback host the client used: "localhost:P" for any
 * other host (127.0.0.1:P) and "127.0.0.1:P" for "localhost[:P]"; both reach the
 * sandbox, but to the client they are different hosts. "" when host is NULL or too
 * long. */
static void other_host(const char *host, char out[HOST_MAX])
{
    out[0] = '\0';
    if (!host)
        return;
    const char *colon = strrchr(host, ':'), *bracket = strrchr(host, ']');
    const char *port = colon && (!bracket || colon > bracket) ? colon : "";
    size_t namelen = *port ? (size_t)(colon - host) : strlen(host);
    bool is_localhost = namelen == 9 && strncasecmp(host, "localhost", 9) == 0;
    int n = snprintf(out, HOST_MAX, "%s%s", is_localhost ? "127.0.0.1" : "localhost", port);
    if (n < 0 || n >= HOST_MAX)
        out[0] = '\0';
}

/* Appends the URL of a report's file under dir ("files": file_url, "cdn": the file
 * itself): absolute on the file host when absolute is set and the host is known,
 * else path-absolute. */
static void put_file_url(const report *r, const char *dir, bool absolute, sb_buf *url)
{
    if (absolute && r->file_host[0])
        sb_buf_printf(url, "http://%s", r->file_host);
    sb_buf_printf(url, "/goflow/%s/%s/inventory_%s.%s.gz", dir, r->token,
                  r->kind ? "values" : "counts", r->format);
}

static void report_status(gf_state *st, int64_t id, const sb_request *req, sb_response *resp)
{
    pthread_mutex_lock(&st->mu);
    report *r = find_report(st, id, NULL);
    if (!r) {
        pthread_mutex_unlock(&st->mu);
        message(resp, 404, "Not found. Reports are kept for 12 hours.");
        return;
    }
    const char *status = "completed";
    if (r->polls_left > 0) {
        r->polls_left--;
        status = r->polls_seen++ == 0 ? "queued" : "processing";
    } else if (!r->completed_ticks) {
        r->completed_ticks = gf_now_ticks();
        other_host(req->host, r->file_host);
    }
    sb_json j;
    resp->status = 200;
    resp->content_type = CT_JSON;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_kint(&j, "id", r->id);
    sb_json_kstr(&j, "status", status);
    sb_json_key(&j, "request");
    sb_json_obj(&j);
    sb_json_kstr(&j, "url",
                 r->kind ? "/v1/reports/inventory/values" : "/v1/reports/inventory/counts");
    sb_json_end(&j);
    sb_json_knull(&j, "error");
    if (strcmp(status, "completed") == 0) {
        sb_buf url, at;
        sb_buf_init(&url, 128);
        sb_buf_init(&at, 40);
        put_file_url(r, "files", !st->relative_file_url, &url);
        sb_json_key(&j, "completed");
        sb_json_obj(&j);
        sb_json_kint(&j, "records_count", r->rows);
        sb_json_kstr(&j, "file_url", sb_buf_cstr(&url));
        gf_put_time(&at, r->completed_ticks);
        sb_json_kstr(&j, "at", sb_buf_cstr(&at));
        sb_json_kstr(&j, "recorded_at", sb_buf_cstr(&at));
        sb_buf_reset(&at);
        gf_put_time(&at, (r->created_ms + REPORT_TTL_MS) * 10000);
        sb_json_kstr(&j, "available_until", sb_buf_cstr(&at));
        sb_json_end(&j);
        sb_buf_term(&url);
        sb_buf_term(&at);
    } else {
        sb_json_knull(&j, "completed");
    }
    sb_json_end(&j);
    pthread_mutex_unlock(&st->mu);
}

/* True when the request came through host (case-insensitive; "" matches any). */
static bool on_host(const sb_request *req, const char *host)
{
    return !host[0] || (req->host && strcasecmp(req->host, host) == 0);
}

/* The file download, in two hops the way Goflow's file_url redirects to its CDN:
 *   GET /files/TOKEN/NAME  (file_url) answers 302 to http://FILE_HOST/goflow/cdn/TOKEN/NAME;
 *   GET /cdn/TOKEN/NAME    on the file host: the gzip'ed file.
 * Both are pre-signed by TOKEN. On the file host a request that also carries
 * Authorization is refused with 400, as S3 does ("only one auth mechanism"): the
 * API token must never reach it. On the API host (relative_file_url) file_url
 * accepts the token, as Goflow's own host would, and the redirect is what sheds it.
 * rest is the path after "/files/" or "/cdn/" (TOKEN/NAME; NAME is not checked). */
/* hostile gzip_bomb=1: the report file is one record whose product_id is a
 * string of mb MiB, in the report's format (a few MiB of gzip at most). */
static void gzip_bomb(const char *format, int mb, sb_buf *out)
{
    bool csv = strcmp(format, "csv") == 0, jsonl = strcmp(format, "jsonl") == 0;
    const char *prefix = csv     ? "product_id,warehouse_name,on_hand\n\""
                         : jsonl ? "{\"product_id\":\""
                                 : "[{\"product_id\":\"";
    const char *suffix = csv ? "\",W,1\n" : jsonl ? "\"}\n" : "\"}]";
    if (!sb_hostile_gzip_bomb(prefix, mb, suffix, out))
        out->failed = true;
}

static void report_file(gf_state *st, const char *rest, bool cdn, const sb_request *req,
                        sb_response *resp)
{
    char token[40];
    const char *slash = strchr(rest, '/');
    size_t len = slash ? (size_t)(slash - rest) : 0;
    if (len == 0 || len >= sizeof token) {
        message(resp, 404, "Not found.");
        return;
    }
    memcpy(token, rest, len);
    token[len] = '\0';
    pthread_mutex_lock(&st->mu);
    report *r = find_report(st, 0, token);
    if (!r || !r->completed_ticks || (cdn && !on_host(req, r->file_host))) {
        pthread_mutex_unlock(&st->mu);
        message(resp, 404, "Not found.");
        return;
    }
    if (req->authorization && on_host(req, r->file_host)) {
        st->files.leaked_auth++;
        pthread_mutex_unlock(&st->mu);
        message(resp, 400,
                "Only one auth mechanism allowed; the URL is already signed, do not "
                "send an Authorization header.");
        return;
    }
    if (cdn) {
        st->files.served++;
        resp->status = 200;
        resp->content_type = "application/gzip";
        if (req->hostile != NULL && req->hostile->gzip_bomb) {
            char format[sizeof r->format];
            memcpy(format, r->format, sizeof format);
            pthread_mutex_unlock(&st->mu);
            gzip_bomb(format, req->hostile->bomb_mb, &resp->body);
            return;
        }
        sb_buf_put(&resp->body, r->file.data, r->file.len);
        pthread_mutex_unlock(&st->mu);
        return;
    }
    sb_buf location;
    sb_buf_init(&location, 160);
    put_file_url(r, "cdn", true, &location);
    st->files.redirected++;
    if (req->authorization)
        st->files.auth_on_api++;
    pthread_mutex_unlock(&st->mu);
    if (sb_buf_failed(&location))
        resp->body.failed = true;
    else if (!sb_response_header(resp, "Location", sb_buf_cstr(&location)))
        message(resp, 500, "Sandbox: Location too long.");
    else
        message(resp, 302, "Found.");
    sb_buf_term(&location);
}

static void quotas(gf_state *st, const char *type, sb_response *resp)
{
    int kind = strcmp(type, "inventory_counts") == 0   ? 0
               : strcmp(type, "inventory_values") == 0 ? 1
                                                       : -1;
    if (kind < 0) {
        message(resp, 404, "Unknown report type.");
        return;
    }
    int64_t allowance = kind == 0 ? 1000000 : 200000;
    pthread_mutex_lock(&st->mu);
    int64_t used = st->consumed[kind];
    pthread_mutex_unlock(&st->mu);
    resp->status = 200;
    resp->content_type = CT_JSON;
    sb_buf_printf(&resp->body,
                  "{\"quota\":{\"allowance\":%" PRId64
                  ",\"per_period\":\"day\"},\"consumed\":%" PRId64 ",\"available\":%" PRId64
                  ",\"replenishes_at\":\"2026-01-02T00:00:00Z\"}",
                  allowance, used, used > allowance ? 0 : allowance - used);
}

/* ---- the module's own switches ----------------------------------------------------- */

static void control(gf_state *st, const sb_request *req, sb_response *resp)
{
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; strcmp(req->method, "POST") == 0 && i < req->nargs; i++) {
        const char *k = req->args[i].key;
        double v = strtod(req->args[i].value, NULL);
        if (strcmp(k, "list_per_min") == 0 && v > 0)
            st->list_per_min = v;
        else if (strcmp(k, "reports_per_hour") == 0 && v > 0)
            st->reports_per_hour = v;
        else if (strcmp(k, "report_polls") == 0 && v >= 0) {
            /* Also for the reports already made: "N more polls at most". */
            st->report_polls = (int)v;
            for (int r = 0; r < MAX_REPORTS; r++)
                if (st->reports[r].polls_left > st->report_polls)
                    st->reports[r].polls_left = st->report_polls;
        } else if (strcmp(k, "orders_page_size") == 0 && v >= 0 && v <= 1000)
            st->orders_page_size = (int)v;
        else if (strcmp(k, "relative_file_url") == 0)
            st->relative_file_url = v != 0;
        else if (strcmp(k, "expire_reports") == 0)
            for (int r = 0; r < MAX_REPORTS; r++)
                st->reports[r].expired = st->reports[r].used;
        st->nbuckets = 0; /* new budgets start full */
    }
    resp->status = 200;
    resp->content_type = "text/plain; charset=utf-8";
    sb_buf_printf(&resp->body,
                  "files.auth_on_api_host\t%ld\nfiles.redirected\t%ld\nfiles.served\t%ld\n"
                  "files.with_authorization\t%ld\nlimits.429\t%ld\nlimits.early_retries\t%ld\n"
                  "list_per_min\t%g\norders_page_size\t%d\nrelative_file_url\t%d\n"
                  "report_polls\t%d\nreports.created.counts\t%ld\n"
                  "reports.created.values\t%ld\nreports_per_hour\t%g\n",
                  st->files.auth_on_api, st->files.redirected, st->files.served,
                  st->files.leaked_auth, st->limited, st->early_retries, st->list_per_min,
                  st->orders_page_size, st->relative_file_url ? 1 : 0, st->report_polls,
                  st->created[0], st->created[1], st->reports_per_hour);
    pthread_mutex_unlock(&st->mu);
}

/* ---- routing ------------------------------------------------------------------------ */

static const char *gf_classify(const char *path)
{
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strcmp(path, lists[i].path) == 0)
            return lists[i].endpoint;
    if (strcmp(path, "/v1/reports/inventory/counts") == 0)
        return "goflow_report_counts";
    if (strcmp(path, "/v1/reports/inventory/values") == 0)
        return "goflow_report_values";
    if (strncmp(path, "/v1/reports/quotas/", 19) == 0)
        return "goflow_quotas";
    if (strncmp(path, "/v1/reports/", 12) == 0)
        return "goflow_reports";
    if (strncmp(path, "/files/", 7) == 0 || strncmp(path, "/cdn/", 5) == 0)
        return "goflow_files";
    return NULL;
}

static bool parse_report_id(const char *s, int64_t *id)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end || v <= 0)
        return false;
    *id = v;
    return true;
}

static void gf_handle(void *state, const sb_request *req, sb_response *resp)
{
    gf_state *st = state;
    const char *path = req->path, *ep = gf_classify(path);
    resp->content_type = CT_JSON;
    if (strcmp(path, "/_control") == 0) {
        control(st, req, resp);
        return;
    }
    if (ep && strcmp(ep, "goflow_files") == 0) {
        bool cdn = strncmp(path, "/cdn/", 5) == 0;
        report_file(st, path + (cdn ? 5 : 7), cdn, req, resp);
        return;
    }
    if (!ep) {
        message(resp, 404, "Not found.");
        return;
    }
    if (!authorized(req, resp))
        return;
    bool generator = strncmp(ep, "goflow_report_", 14) == 0;
    if (!take_token(st, ep, generator, resp))
        return;
    if (generator) {
        create_report(st, strcmp(ep, "goflow_report_values") == 0, req, resp);
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        message(resp, 405, "This sandbox serves GET here.");
        return;
    }
    if (strcmp(ep, "goflow_quotas") == 0) {
        quotas(st, path + 19, resp);
        return;
    }
    if (strcmp(ep, "goflow_reports") == 0) {
        int64_t id;
        if (!parse_report_id(path + 12, &id))
            message(resp, 404, "Not found.");
        else
            report_status(st, id, req, resp);
        return;
    }
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strcmp(path, lists[i].path) == 0) {
            pthread_mutex_lock(&st->mu);
            int page_size = lists[i].render == r_order && st->orders_page_size > 0
                                ? st->orders_page_size
                                : lists[i].page_size;
            pthread_mutex_unlock(&st->mu);
            pthread_rwlock_rdlock(&st->lock);
            render_list(&st->data, &lists[i], page_size,
                        lists[i].render == r_order ? st->hidden_order : SIZE_MAX, req, resp);
            pthread_rwlock_unlock(&st->lock);
            return;
        }
}

static void gf_advance(void *state, int steps, sb_buf *out)
{
    gf_state *st = state;
    gf_changes ch;
    memset(&ch, 0, sizeof ch);
    pthread_rwlock_wrlock(&st->lock);
    bool ok = gf_data_advance(&st->data, steps, &ch);
    pthread_rwlock_unlock(&st->lock);
    if (!ok)
        out->failed = true;
    sb_buf_printf(out,
                  "sandbox\tchanges.goflow_orders_created\t%ld\n"
                  "sandbox\tchanges.goflow_orders_edited\t%ld\n"
                  "sandbox\tchanges.goflow_orders_split\t%ld\n"
                  "sandbox\tchanges.goflow_orders_status_changed\t%ld\n"
                  "sandbox\tchanges.goflow_stock_changed\t%ld\n",
                  ch.orders_created, ch.orders_edited, ch.orders_split, ch.orders_status_changed,
                  ch.stock_changed);
}

static void gf_truth(void *state, sb_buf *out)
{
    gf_state *st = state;
    pthread_rwlock_rdlock(&st->lock);
    gf_data_truth(&st->data, out);
    truth_mismatch(st, out);
    pthread_rwlock_unlock(&st->lock);
}

static bool gf_reset(void *state)
{
    gf_state *st = state;
    gf_data fresh;
    if (!gf_data_generate(&fresh, st->cfg.seed, st->cfg.scale))
        return false;
    if (st->cfg.poison && !gf_data_add_poison(&fresh)) {
        gf_data_free(&fresh);
        return false;
    }
    pthread_rwlock_wrlock(&st->lock);
    gf_data old = st->data;
    st->data = fresh;
    pthread_rwlock_unlock(&st->lock);
    gf_data_free(&old);
    pthread_mutex_lock(&st->mu);
    reports_clear(st);
    settings_default(st);
    pthread_mutex_unlock(&st->mu);
    return true;
}

/* The token the module accepts. */
static void gf_secrets(void *state, sb_buf *out)
{
    (void)state;
    sb_buf_puts(out, GF_TOKEN "\n");
}

/* A fault's 429 or 500 in Goflow's error shape (`message`, and for a 429 the
 * fractional `retry_after_seconds` its own limiter sends). */
static void gf_fault_body(int retry_after, sb_response *resp)
{
    resp->content_type = CT_JSON;
    sb_buf_reset(&resp->body);
    if (resp->status == 429)
        sb_buf_printf(&resp->body,
                      "{\"message\":\"API rate limit exceeded. See the rate-limiting section of "
                      "the API docs.\",\"retry_after_seconds\":%d.0}",
                      retry_after);
    else
        sb_buf_puts(&resp->body, "{\"message\":\"Internal server error\"}");
}

const sb_module sb_goflow_module = {
    .system = "goflow",
    .prefix = "/goflow",
    .endpoints = endpoints,
    .create = gf_create,
    .destroy = gf_destroy,
    .classify = gf_classify,
    .handle = gf_handle,
    .advance = gf_advance,
    .truth = gf_truth,
    .reset = gf_reset,
    .secrets = gf_secrets,
    .fault_body = gf_fault_body,
};
