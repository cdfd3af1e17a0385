/* Unit tests for the keyset read of sources/posiflora/posiflora_pages with the next list page
 * in flight (posiflora_next_page): a page callback runs the next page's request in
 * the same http_run_many batch as its own "detail" requests, as sources/posiflora/posiflora.c
 * does. A small HTTP/1.1 server in this process (one thread per connection,
 * keep-alive) plays the Posiflora API: sessions, an orders list that honours
 * filter[updatedAt][from], sort and page[number]/page[size] (each can be scripted to
 * misbehave), and order details. List answers wait LIST_MS and note whether a
 * detail request arrived meanwhile: that is a list page fetched beside details. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "extract/http.h"
#include "sources/posiflora/posiflora_pages.h"
#include "sources/posiflora/posiflora_session.h"
#include "core/timeutil.h"
#include "tests/unit/fake_http.h"

/* Under valgrind the client runs tens of times slower than the fake server's
 * LIST_MS window, so what the server sees overlap is no longer a property of the
 * code: there only the client's own account of its batches is checked. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif

#define MAX_RECS 64
#define MAX_LISTS 64
#define LIST_MS 80
#define DETAIL_MS 80
#define PAGE 4
#define ID_LEN 16

/* ---- the fake API ---- */

/* What a list answer that is not a good page looks like (server.bad_kind). */
typedef enum {
    BAD_NONE = 0,
    BAD_EMPTY_OBJECT, /* 200 {} */
    BAD_GATEWAY,      /* 200 {"message":"Service temporarily unavailable"} */
    BAD_WRONG_TYPE,   /* `data` an object */
    BAD_NO_META,      /* `data` without `meta` */
    BAD_LOST_RECORD,  /* the page's last record missing, meta.total unchanged */
} bad_kind;

typedef struct {
    char id[ID_LEN];
    int64_t at;
} order_rec;

typedef struct {
    fake_http *srv;
    int port;
    pthread_mutex_t mu;
    /* the list, ascending by (at, id) */
    order_rec recs[MAX_RECS];
    int nrecs;
    /* scripts, by list request ordinal (1-based, retries included); 0 = never */
    int ignore_sort_from, fail401[2], cut_at;
    bool ignore_filter, ignore_page;
    bad_kind bad_kind;
    int bad_from, bad_count; /* list requests bad_from .. bad_from + bad_count - 1 */
    int grow_after;          /* after this list request a record is appended; 0 = never */
    /* what was served */
    int lists, lists_whole, lists_overlapped;
    int64_t rows_whole;
    char list_auth[MAX_LISTS][256];
    int details_arrived, details_inflight, logins, refreshes;
    int bad_requests; /* the server's own failures (CUnit asserts only in the test thread) */
} server;

static server S;
static int64_t T0; /* 2025-01-01T00:00:00Z */

static bool send_response(int fd, int status, const char *body, bool cut)
{
    char head[256];
    size_t len = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/vnd.api+json\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     status, len);
    if (!fake_http_send_all(fd, head, (size_t)n))
        return false;
    if (cut) {
        fake_http_send_all(fd, body, len * 3 / 4);
        return false;
    }
    return fake_http_send_all(fd, body, len);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Percent-decodes src[0..len) into dst (size > len). */
static void urldecode(const char *src, size_t len, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '%' && i + 2 < len) {
            dst[o++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else {
            dst[o++] = src[i];
        }
    }
    dst[o] = '\0';
}

typedef struct {
    int64_t from; /* INT64_MIN: none */
    bool sorted;
    long number, size;
} list_query;

static void parse_query(const char *q, list_query *lq)
{
    *lq = (list_query){.from = INT64_MIN, .number = 1, .size = 20};
    while (q && *q) {
        size_t len = strcspn(q, "&");
        char pair[256], name[128], *eq;
        urldecode(q, len < 200 ? len : 200, pair);
        if ((eq = strchr(pair, '='))) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - pair), pair);
            const char *v = eq + 1;
            if (strcmp(name, "filter[updatedAt][from]") == 0 &&
                !time_parse_iso(v, strlen(v), &lq->from))
                S.bad_requests++;
            else if (strcmp(name, "sort") == 0)
                lq->sorted = strcmp(v, "updatedAt") == 0;
            else if (strcmp(name, "page[number]") == 0)
                lq->number = strtol(v, NULL, 10);
            else if (strcmp(name, "page[size]") == 0)
                lq->size = strtol(v, NULL, 10);
        }
        q += len + (q[len] == '&');
    }
}

/* The JSON:API page for the ordinal-th list request (S.mu held). *rows: data rows. */
static void list_body(buf *b, int ordinal, const char *query, int *rows)
{
    list_query lq;
    order_rec sel[MAX_RECS];
    int n = 0;
    parse_query(query, &lq);
    bool descending = S.ignore_sort_from && ordinal >= S.ignore_sort_from;
    for (int i = 0; i < S.nrecs; i++) {
        int k = descending ? S.nrecs - 1 - i : i;
        if (S.ignore_filter || lq.from == INT64_MIN || S.recs[k].at >= lq.from)
            sel[n++] = S.recs[k];
    }
    long start = S.ignore_page ? 0 : (lq.number - 1) * lq.size;
    bool bad = S.bad_from && ordinal >= S.bad_from && ordinal < S.bad_from + S.bad_count;
    bad_kind kind = bad ? S.bad_kind : BAD_NONE;
    *rows = -1; /* not a page the client may count */
    if (kind == BAD_EMPTY_OBJECT || kind == BAD_GATEWAY || kind == BAD_WRONG_TYPE) {
        S.bad_requests +=
            !buf_puts(b, kind == BAD_EMPTY_OBJECT ? "{}"
                         : kind == BAD_GATEWAY ? "{\"message\":\"Service temporarily unavailable\"}"
                                               : "{\"data\":{},\"meta\":{\"total\":3}}");
        return;
    }
    long end = start + lq.size - (kind == BAD_LOST_RECORD ? 1 : 0);
    bool ok = buf_puts(b, "{\"data\":[");
    int count = 0;
    for (long i = start; i < n && i < end; i++) {
        char at[TIME_TEXT_MAX];
        ok = ok && buf_printf(b,
                              "%s{\"id\":\"%s\",\"type\":\"orders\",\"attributes\":"
                              "{\"updatedAt\":\"%s\",\"totalAmount\":1}}",
                              count ? "," : "", sel[i].id, time_format_iso(sel[i].at, at));
        ++count;
    }
    if (kind == BAD_NO_META)
        ok = ok && buf_puts(b, "]}");
    else
        ok = ok && buf_printf(b, "],\"meta\":{\"total\":%d}}", n);
    S.bad_requests += !ok;
    if (kind == BAD_NONE || (kind == BAD_LOST_RECORD && count == n - start))
        *rows = count; /* a good page (losing no record: the last page was short) */
}

static bool serve_list(int fd, const char *query, const char *auth)
{
    buf body;
    int rows;
    buf_init(&body, 0);
    pthread_mutex_lock(&S.mu);
    int ordinal = ++S.lists;
    if (ordinal <= MAX_LISTS)
        snprintf(S.list_auth[ordinal - 1], sizeof S.list_auth[0], "%s", auth);
    bool deny = ordinal == S.fail401[0] || ordinal == S.fail401[1];
    bool cut = ordinal == S.cut_at;
    list_body(&body, ordinal, query, &rows);
    if (S.grow_after && ordinal == S.grow_after && S.nrecs < MAX_RECS) {
        S.recs[S.nrecs].at = S.recs[S.nrecs - 1].at + 1000000LL;
        snprintf(S.recs[S.nrecs].id, ID_LEN, "g%02d", S.nrecs);
        S.nrecs++;
    }
    /* The batch's details may reach the server before or after the list request. */
    bool overlapped = S.details_inflight > 0;
    int details_before = S.details_arrived;
    pthread_mutex_unlock(&S.mu);

    usleep(LIST_MS * 1000);
    pthread_mutex_lock(&S.mu);
    if (overlapped || S.details_arrived > details_before)
        S.lists_overlapped++;
    if (!deny && !cut && rows >= 0) {
        S.lists_whole++;
        S.rows_whole += rows;
    }
    pthread_mutex_unlock(&S.mu);
    bool keep = deny ? send_response(fd, 401, "{\"errors\":[{\"status\":\"401\"}]}", false)
                     : send_response(fd, 200, buf_cstr(&body), cut);
    buf_term(&body);
    return keep;
}

static bool serve_session(int fd, bool refresh)
{
    char body[256];
    pthread_mutex_lock(&S.mu);
    int serial = refresh ? ++S.refreshes : ++S.logins;
    pthread_mutex_unlock(&S.mu);
    snprintf(body, sizeof body,
             "{\"data\":{\"type\":\"sessions\",\"attributes\":{\"accessToken\":\"%s%d\","
             "\"refreshToken\":\"r\",\"expireAt\":\"2099-01-01T00:00:00Z\"}}}",
             refresh ? "refreshed" : "login", serial);
    return send_response(fd, 200, body, false);
}

static bool route(int fd, const char *method, const char *target, const char *auth)
{
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    if (plen == strlen("/api/v1/sessions") && strncmp(target, "/api/v1/sessions", plen) == 0)
        return serve_session(fd, strcmp(method, "PATCH") == 0);
    if (plen == strlen("/api/v1/orders") && strncmp(target, "/api/v1/orders", plen) == 0)
        return serve_list(fd, q ? q + 1 : "", auth);
    if (strncmp(target, "/api/v1/orders/", 15) == 0) {
        pthread_mutex_lock(&S.mu);
        S.details_arrived++;
        S.details_inflight++;
        pthread_mutex_unlock(&S.mu);
        usleep(DETAIL_MS * 1000);
        pthread_mutex_lock(&S.mu);
        S.details_inflight--;
        pthread_mutex_unlock(&S.mu);
        return send_response(fd, 200, "{\"data\":{\"type\":\"orders\"}}", false);
    }
    return send_response(fd, 404, "{}", false);
}

static bool route_request(void *user, int fd, const fake_http_req *req, const char *body,
                          size_t body_len)
{
    (void)user;
    (void)body;
    (void)body_len;
    return route(fd, req->method, req->target, req->auth);
}

static int server_start(void)
{
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    if (!time_parse_iso("2025-01-01T00:00:00Z", 20, &T0))
        return -1;
    S.srv = fake_http_start(route_request, NULL);
    if (!S.srv)
        return -1;
    S.port = fake_http_port(S.srv);
    return http_global_init() ? 0 : -1;
}

static int server_stop(void)
{
    fake_http_stop(S.srv);
    http_global_term();
    return 0;
}

/* A fresh list: `unique` orders one second apart, `ties` orders sharing one value,
 * `after` orders after them; scripts and counters cleared. */
static void server_script(int unique, int ties, int after)
{
    pthread_mutex_lock(&S.mu);
    S.nrecs = 0;
    for (int i = 0; i < unique; i++)
        S.recs[S.nrecs++] = (order_rec){.at = T0 + (1 + i) * 1000000LL};
    for (int i = 0; i < ties; i++)
        S.recs[S.nrecs++] = (order_rec){.at = T0 + 100 * 1000000LL};
    for (int i = 0; i < after; i++)
        S.recs[S.nrecs++] = (order_rec){.at = T0 + (200 + i) * 1000000LL};
    for (int i = 0; i < S.nrecs; i++)
        snprintf(S.recs[i].id, ID_LEN, "%c%02d",
                 i < unique          ? 'u'
                 : i < unique + ties ? 't'
                                     : 'v',
                 i);
    S.ignore_sort_from = S.cut_at = S.fail401[0] = S.fail401[1] = 0;
    S.ignore_filter = S.ignore_page = false;
    S.bad_kind = BAD_NONE;
    S.bad_from = S.bad_count = S.grow_after = 0;
    S.lists = S.lists_whole = S.lists_overlapped = 0;
    S.rows_whole = 0;
    S.details_arrived = S.logins = S.refreshes = S.bad_requests = 0;
    pthread_mutex_unlock(&S.mu);
}

/* ---- the reader: the shape of sources/posiflora/posiflora.c's orders stream ---- */

typedef struct {
    char ids[MAX_RECS][ID_LEN];
    int n;
} page_ids;

typedef struct {
    http_client *http;
    posiflora_session *sess;
    stream_stats stats;
    char base[64];
    bool run_next;     /* run the next page beside the details */
    int fail_at;       /* the fail_at-th callback fails (FE_EINVAL); 0 = never */
    page_ids pages[2]; /* kept apart: the page worked on, the page being listed */
    page_ids *work, *listing;
    page_ids done; /* every id worked on, in order */
    bool in_callback, in_batch;
    int callbacks, last_pages, overlapped_batches, stray_records;
} reader;

static fe_rc on_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    reader *r = user;
    const char *id = json_rec_str(rec, "id");
    (void)err;
    if (which != POSIFLORA_REC_DATA)
        return FE_OK;
    /* During a page callback, records can only be the next page's, in its batch. */
    if (r->in_callback && !r->in_batch)
        r->stray_records++;
    CU_ASSERT_FATAL(id && r->listing->n < MAX_RECS);
    snprintf(r->listing->ids[r->listing->n++], ID_LEN, "%s", id);
    return FE_OK;
}

static void on_reset(void *user)
{
    reader *r = user;
    r->listing->n = 0;
}

static fe_rc discard(void *ctx, const char *data, size_t len, fe_err *err)
{
    (void)ctx, (void)data, (void)len, (void)err;
    return FE_OK;
}

/* One batch: the next list page (when *list_pending) and the details of the work
 * page (when details). */
static fe_rc run_batch(reader *r, posiflora_next_page *next, bool *list_pending, bool details,
                       fe_err *err)
{
    http_request reqs[MAX_RECS + 1];
    http_result res[MAX_RECS + 1];
    char urls[MAX_RECS][128];
    const char *headers[2] = {POSIFLORA_ACCEPT_HEADER, posiflora_session_auth_header(r->sess)};
    size_t n = 0;
    if (*list_pending)
        posiflora_next_page_request(next, &reqs[n++]);
    for (int i = 0; details && i < r->work->n; i++) {
        snprintf(urls[i], sizeof urls[i], "%s/v1/orders/%s", r->base, r->work->ids[i]);
        reqs[n++] = (http_request){.url = urls[i],
                                   .headers = headers,
                                   .nheaders = 2,
                                   .sink = {.on_data = discard, .ctx = r}};
    }
    r->in_batch = true;
    fe_rc rc = http_run_many(r->http, reqs, res, n, &r->stats, err);
    r->in_batch = false;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && *list_pending)
            *list_pending = posiflora_next_page_result(next, &res[0]);
        else
            CU_ASSERT_EQUAL(res[i].rc, FE_OK);
        http_result_term(&res[i]);
    }
    return rc;
}

static fe_rc on_page(void *user, posiflora_next_page *next, fe_err *err)
{
    reader *r = user;
    page_ids *listed = r->listing;
    fe_rc rc = FE_OK;
    r->listing = r->work;
    r->work = listed;
    r->listing->n = 0;
    r->callbacks++;
    r->last_pages += next == NULL;
    for (int i = 0; i < r->work->n; i++)
        memcpy(r->done.ids[r->done.n++], r->work->ids[i], ID_LEN);
    r->in_callback = true;
    bool list_pending = r->run_next && next;
    if (list_pending && r->work->n > 0)
        r->overlapped_batches++;
    for (int round = 0; rc == FE_OK && (list_pending || (round == 0 && r->work->n > 0)); round++) {
        rc = round == 0 ? posiflora_session_ensure(r->sess, r->http, &r->stats, err)
                        : posiflora_session_renew(r->sess, r->http, &r->stats, err);
        if (rc == FE_OK)
            rc = run_batch(r, next, &list_pending, round == 0, err);
    }
    r->in_callback = false;
    if (rc == FE_OK && r->callbacks == r->fail_at)
        rc = fe_err_set(err, FE_EINVAL, "boom in page %d", r->callbacks);
    return rc;
}

/* retries: of each request (the client's default when negative). */
static void reader_init_retries(reader *r, bool run_next, int retries)
{
    http_opts o;
    fe_err err = {0};
    memset(r, 0, sizeof *r);
    http_opts_default(&o);
    o.max_parallel = 8;
    o.backoff.base_us = 10000;
    o.backoff.max_us = 50000;
    if (retries >= 0)
        o.backoff.max_retries = retries;
    r->http = http_client_new(&o, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->http);
    snprintf(r->base, sizeof r->base, "http://127.0.0.1:%d/api", S.port);
    r->sess = posiflora_session_new(r->base, "demo", "secret", 60 * 1000000LL, "test");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->sess);
    r->run_next = run_next;
    r->work = &r->pages[0];
    r->listing = &r->pages[1];
}

static void reader_init(reader *r, bool run_next)
{
    reader_init_retries(r, run_next, -1);
}

static void reader_term(reader *r)
{
    posiflora_session_free(r->sess);
    http_client_free(r->http);
}

/* Reads the scripted list with keyset paging, page size PAGE, from lower (or none). */
static fe_rc read_list(reader *r, const char *lower, fe_err *err)
{
    posiflora_list_query q = {.base = r->base,
                              .path = "/v1/orders",
                              .page_size = PAGE,
                              .filter_name = "filter[updatedAt][from]",
                              .filter_value = lower,
                              .sort = "updatedAt"};
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    posiflora_pager *pg = posiflora_pager_new(r->http, &r->stats, r->sess, on_record, on_reset, r);
    CU_ASSERT_FATAL(ks && pg);
    fe_rc rc = posiflora_pages_read_keyset(pg, &q, ks, on_page, err);
    CU_ASSERT_EQUAL(posiflora_keyset_cap(ks), INT64_MAX);
    posiflora_pager_free(pg);
    posiflora_keyset_free(ks);
    return rc;
}

/* Every order of the list was worked on once, in list order. */
static void assert_each_once(const reader *r)
{
    CU_ASSERT_EQUAL(r->done.n, S.nrecs);
    for (int i = 0; i < r->done.n && i < S.nrecs; i++)
        CU_ASSERT_STRING_EQUAL(r->done.ids[i], S.recs[i].id);
}

/* Pages and records counted once: as many as the server answered whole. */
static void assert_counted_once(const reader *r)
{
    CU_ASSERT_EQUAL(r->stats.pages, S.lists_whole);
    CU_ASSERT_EQUAL(r->stats.records, S.rows_whole);
    CU_ASSERT_EQUAL(S.bad_requests, 0);
}

/* ---- tests ---- */

/* 6 orders, 9 sharing one value (more than a page: page numbers at that value), 5
 * after. Each next list page runs beside the details of the page before. */
static void test_prefetch_ties_fallback(void)
{
    reader r;
    fe_err err = {0};
    server_script(6, 9, 5);
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_OK);
    assert_each_once(&r);
    assert_counted_once(&r);
    CU_ASSERT_EQUAL(r.last_pages, 1); /* only the last page comes without a next */
    CU_ASSERT_EQUAL(r.callbacks, S.lists);
    CU_ASSERT_EQUAL(r.stray_records, 0);
    CU_ASSERT(r.overlapped_batches >= 4);
    if (!UNDER_VALGRIND())
        CU_ASSERT_EQUAL(S.lists_overlapped, r.overlapped_batches);
    CU_ASSERT_EQUAL(S.logins, 1);
    CU_ASSERT_EQUAL(S.refreshes, 0);
    reader_term(&r);
}

/* A callback that does not run the next page: the pager GETs it alone. */
static void test_callback_leaves_next_to_pager(void)
{
    reader r;
    fe_err err = {0};
    server_script(6, 9, 5);
    reader_init(&r, false);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_OK);
    assert_each_once(&r);
    assert_counted_once(&r);
    CU_ASSERT_EQUAL(S.lists_overlapped, 0);
    reader_term(&r);
}

/* A prefetched list page answering 401 runs again after a session renewal, with
 * the new token. */
static void test_prefetch_401_renews(void)
{
    reader r;
    fe_err err = {0};
    server_script(10, 0, 5);
    S.fail401[0] = 3;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_OK);
    assert_each_once(&r);
    assert_counted_once(&r);
    CU_ASSERT_EQUAL(S.refreshes, 1);
    CU_ASSERT_STRING_EQUAL(S.list_auth[2], "Bearer login1");
    CU_ASSERT_STRING_EQUAL(S.list_auth[3], "Bearer refreshed1");
    reader_term(&r);
}

/* 401 again after the renewal: the callback finishes its page, then the read fails
 * with FE_EAUTH; a failing callback wins over it. */
static void test_prefetch_401_twice_fails(void)
{
    reader r;
    fe_err err = {0};
    server_script(10, 0, 5);
    S.fail401[0] = 3;
    S.fail401[1] = 4;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EAUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "401 again after a session renewal"));
    CU_ASSERT_EQUAL(r.callbacks, 2);
    CU_ASSERT_EQUAL(r.done.n, 2 * PAGE - 1); /* page 2 re-lists page 1's newest */
    reader_term(&r);

    server_script(10, 0, 5);
    S.fail401[0] = 3;
    S.fail401[1] = 4;
    reader_init(&r, true);
    r.fail_at = 2;
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "boom in page 2");
    reader_term(&r);
}

/* A prefetched list page cut off mid-body is read again: its partial records are
 * dropped (the reset clears only the page being listed), and it counts once. */
static void test_prefetch_cut_counts_once(void)
{
    reader r;
    fe_err err = {0};
    server_script(6, 9, 5);
    S.cut_at = 3;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(S.lists, S.lists_whole + 1);
    assert_each_once(&r);
    assert_counted_once(&r);
    reader_term(&r);
}

/* A server that stops honouring sort on a prefetched page: the read fails after
 * the page before it was worked on. */
static void test_prefetch_sort_ignored_fails(void)
{
    reader r;
    fe_err err = {0};
    server_script(10, 0, 5);
    S.ignore_sort_from = 2;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not in ascending updatedAt order"));
    CU_ASSERT_EQUAL(r.callbacks, 1);
    reader_term(&r);
}

/* A server that ignores the lower bound, and one that ignores page[number] while
 * the pages of one value are read by number. */
static void test_filter_and_page_ignored_fail(void)
{
    reader r;
    fe_err err = {0};
    /* Requests: 1 (u00-u03), 2 from u03 (u00-u03 again: all listed, so page 2 of
     * that value), 3 (u04-u07), 4 from u07: u00-u03, a full first page below it. */
    server_script(10, 0, 5);
    S.ignore_filter = true;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "below filter[updatedAt][from]"));
    CU_ASSERT_EQUAL(r.callbacks, 3);
    CU_ASSERT_EQUAL(r.done.n, 2 * PAGE);
    for (int i = 0; i < r.done.n; i++)
        CU_ASSERT_STRING_EQUAL(r.done.ids[i], S.recs[i].id);
    reader_term(&r);

    server_script(2, 9, 5);
    S.ignore_page = true;
    reader_init(&r, true);
    CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ignores page[number]"));
    reader_term(&r);
}

/* A list answer that is not a list page (a gateway's 200 {} once) is refused and
 * read again: the read goes on as if nothing happened, and the refused answer
 * counts nowhere. */
static void test_bad_page_retried(void)
{
    static const bad_kind kinds[] = {BAD_EMPTY_OBJECT, BAD_GATEWAY, BAD_WRONG_TYPE, BAD_NO_META,
                                     BAD_LOST_RECORD};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        reader r;
        fe_err err = {0};
        server_script(8, 0, 0); /* request 2 (and its retry) is a full page of 4 */
        S.bad_kind = kinds[k];
        S.bad_from = 2;
        S.bad_count = 2;
        reader_init(&r, true);
        CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_OK);
        assert_each_once(&r);
        assert_counted_once(&r);
        CU_ASSERT_EQUAL(S.lists, S.lists_whole + 2);
        CU_ASSERT_EQUAL(r.stats.retries, 2);
        reader_term(&r);
    }
}

/* One that stays wrong fails the read when the retries run out, with a message
 * that names the request (path and query, no token) and what was wrong; the
 * pages before it were worked on, nothing after it. */
static void test_bad_page_fails(void)
{
    static const struct {
        bad_kind kind;
        const char *says;
    } cases[] = {
        {BAD_EMPTY_OBJECT, "unexpected response shape: no `data` array"},
        {BAD_GATEWAY, "unexpected response shape: no `data` array"},
        {BAD_WRONG_TYPE, "unexpected response shape: no `data` array"},
        {BAD_NO_META, "unexpected response shape: no `meta` object"},
        {BAD_LOST_RECORD, "meta.total is 15, so page 1 of 4 records should hold 4, it holds 3"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        reader r;
        fe_err err = {0};
        server_script(10, 0, 5);
        S.bad_kind = cases[k].kind;
        S.bad_from = cases[k].kind == BAD_LOST_RECORD ? 1 : 2;
        S.bad_count = 1000;
        reader_init_retries(&r, true, 2);
        CU_ASSERT_EQUAL(read_list(&r, NULL, &err), FE_EJSON);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[k].says));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "GET /api/v1/orders?"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "page%5Bsize%5D=4"));
        CU_ASSERT_PTR_NULL(strstr(err.msg, "login1"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after 3 attempts"));
        CU_ASSERT_EQUAL(r.callbacks, cases[k].kind == BAD_LOST_RECORD ? 0 : 1);
        CU_ASSERT_EQUAL(r.done.n, cases[k].kind == BAD_LOST_RECORD ? 0 : PAGE);
        if (cases[k].kind != BAD_LOST_RECORD)
            CU_ASSERT_EQUAL(r.stats.pages, 1);
        reader_term(&r);
    }
}

static fe_rc count_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    int *n = user;
    (void)rec, (void)err;
    *n += which == POSIFLORA_REC_DATA;
    return FE_OK;
}

/* Reads the scripted list by page numbers (no sort, no filter); *records gets the
 * data records handed over, *changed whether meta.total changed between pages. */
static fe_rc read_numbered(int *records, bool *changed, fe_err *err)
{
    reader r;
    reader_init_retries(&r, false, 2);
    posiflora_list_query q = {.base = r.base, .path = "/v1/orders", .page_size = PAGE};
    posiflora_pager *pg =
        posiflora_pager_new(r.http, &r.stats, r.sess, count_record, NULL, records);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pg);
    *records = 0;
    fe_rc rc = posiflora_pages_read(pg, &q, NULL, err);
    *changed = posiflora_pager_total_changed(pg);
    posiflora_pager_free(pg);
    reader_term(&r);
    return rc;
}

/* Page numbers: a gateway's {} in place of page 2 fails the read (it used to end
 * the list there, as if it held 4 records); a list that grows while read is read
 * whole and reported as changed (full reads then mark no deletions). */
static void test_numbered_pages(void)
{
    int records;
    bool changed;
    fe_err err = {0};
    server_script(10, 0, 0);
    CU_ASSERT_EQUAL(read_numbered(&records, &changed, &err), FE_OK);
    CU_ASSERT_EQUAL(records, 10);
    CU_ASSERT_FALSE(changed);

    server_script(10, 0, 0);
    S.bad_kind = BAD_EMPTY_OBJECT;
    S.bad_from = 2;
    S.bad_count = 1000;
    CU_ASSERT_EQUAL(read_numbered(&records, &changed, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no `data` array"));
    CU_ASSERT_EQUAL(records, PAGE);

    server_script(10, 0, 0);
    S.grow_after = 1;
    CU_ASSERT_EQUAL(read_numbered(&records, &changed, &err), FE_OK);
    CU_ASSERT_EQUAL(records, 11);
    CU_ASSERT_TRUE(changed);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("posiflora_pages keyset read", server_start, server_stop);
    CU_add_test(s, "next page beside the details, ties by page number",
                test_prefetch_ties_fallback);
    CU_add_test(s, "callback leaves the next page to the pager",
                test_callback_leaves_next_to_pager);
    CU_add_test(s, "401 on a prefetched page renews", test_prefetch_401_renews);
    CU_add_test(s, "401 twice on a prefetched page fails", test_prefetch_401_twice_fails);
    CU_add_test(s, "cut prefetched page counts once", test_prefetch_cut_counts_once);
    CU_add_test(s, "sort ignored on a prefetched page fails", test_prefetch_sort_ignored_fails);
    CU_add_test(s, "filter or page[number] ignored fails", test_filter_and_page_ignored_fail);
    CU_add_test(s, "a page of the wrong shape is read again", test_bad_page_retried);
    CU_add_test(s, "a page that stays wrong fails the read", test_bad_page_fails);
    CU_add_test(s, "page numbers: wrong shape fails, growth is noted", test_numbered_pages);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
