/* Unit tests for the list pager of sources/flowwow/flowwow_pages (against
 * tests/unit/fake_http): the end rules (`total` reached, a short page without
 * `total`, an empty page), what is refused (a page short of what `total` leaves
 * for it, an answer without its records array: both retried like a 5xx, then
 * failing the read; a page repeating the one before), a change of `total`
 * between pages, the page base, and a record callback's failure. Every test
 * counts the requests: the benchmarks measure requests per 1,000 records. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extract/http.h"
#include "sources/flowwow/flowwow_pages.h"
#include "tests/unit/fake_http.h"

#define LIMIT 2
#define REQUEST_CAP 50 /* the fake answers an empty list past this many requests */

/* The fake list: nrecs records "r1".."rN", LIMIT a page; each knob breaks it. */
static struct {
    pthread_mutex_t mu;
    int nrecs;
    bool send_total;
    bool ignore_page;  /* every page is the first */
    int bad_requests;  /* the first this many answers are `200 {}` */
    int lose_requests; /* the first this many pages lose their last record */
    int total_bump;    /* added to `total` from the second request on */
    int requests;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void server_reset(int nrecs, bool send_total)
{
    pthread_mutex_lock(&S.mu);
    S.nrecs = nrecs;
    S.send_total = send_total;
    S.ignore_page = false;
    S.bad_requests = S.lose_requests = S.total_bump = S.requests = 0;
    pthread_mutex_unlock(&S.mu);
}

static bool send_json(int fd, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\n\r\n",
                     strlen(body));
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, strlen(body));
}

/* GET /items?page=N (page base 1) */
static bool list_route(void *user, int fd, const fake_http_req *req, const char *body,
                       size_t body_len)
{
    char text[2048];
    const char *p = strstr(req->target, "page=");
    long page = p ? strtol(p + 5, NULL, 10) : 1;
    size_t n = 0;
    (void)user;
    (void)body;
    (void)body_len;
    pthread_mutex_lock(&S.mu);
    int nth = ++S.requests;
    if (S.ignore_page)
        page = 1;
    if (nth <= S.bad_requests || nth > REQUEST_CAP) {
        pthread_mutex_unlock(&S.mu);
        return send_json(fd, nth > REQUEST_CAP ? "{\"items\":[]}" : "{}");
    }
    int first = (int)(page - 1) * LIMIT + 1, last = first + LIMIT - 1;
    if (last > S.nrecs)
        last = S.nrecs;
    if (nth <= S.lose_requests && last >= first)
        last--;
    n += (size_t)snprintf(text + n, sizeof text - n, "{\"items\":[");
    for (int i = first; i <= last; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s{\"id\":\"r%d\"}", i > first ? "," : "",
                              i);
    n += (size_t)snprintf(text + n, sizeof text - n, "]");
    if (S.send_total)
        n += (size_t)snprintf(text + n, sizeof text - n, ",\"total\":%d",
                              S.nrecs + (nth > 1 ? S.total_bump : 0));
    snprintf(text + n, sizeof text - n, "}");
    pthread_mutex_unlock(&S.mu);
    return send_json(fd, text);
}

typedef struct {
    fake_http *srv;
    char base[64];
    http_client *http;
    flowwow_pager *pg;
    stream_stats stats;
    int records;
    int fail_at; /* the record callback fails at this record; 0 = never */
} fixture;

static fe_rc on_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    fixture *f = user;
    (void)which;
    (void)rec;
    if (++f->records == f->fail_at)
        return fe_err_set(err, FE_EPG, "staging refused the row");
    return FE_OK;
}

static fe_rc build(void *user, long page, buf *url, buf *body, fe_err *err)
{
    fixture *f = user;
    (void)body;
    if (!buf_printf(url, "%s/items?limit=%d&page=%ld", f->base, LIMIT, page))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return FE_OK;
}

static void fixture_start(fixture *f, int nrecs, bool send_total)
{
    fe_err err = {0};
    http_opts ho;
    memset(f, 0, sizeof *f);
    server_reset(nrecs, send_total);
    f->srv = fake_http_start(list_route, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->srv);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", fake_http_port(f->srv));
    http_opts_default(&ho);
    ho.origin_url = f->base;
    ho.backoff.base_us = 1000;
    ho.backoff.max_us = 2000;
    ho.backoff.max_retries = 1;
    f->http = http_client_new(&ho, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->http);
    f->pg = flowwow_pager_new(f->http, &f->stats, "Authorization: Bearer t", on_record, f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->pg);
}

static void fixture_stop(fixture *f)
{
    flowwow_pager_free(f->pg);
    http_client_free(f->http);
    fake_http_stop(f->srv);
}

static fe_rc read_list(fixture *f, int64_t *read, fe_err *err)
{
    flowwow_list l = {.method = "GET",
                      .what = "orders/list shop 1",
                      .records = "items",
                      .id_path = "id",
                      .page_base = 1,
                      .limit = LIMIT,
                      .build = build,
                      .build_user = f};
    return flowwow_pages_read(f->pg, &l, read, err);
}

/* `total` ends the list: no request past it, a full last page included. */
static void test_total_ends(void)
{
    for (int nrecs = 4; nrecs <= 5; nrecs++) {
        fixture f;
        fe_err err = {0};
        int64_t read = -1;
        fixture_start(&f, nrecs, true);
        CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_OK);
        CU_ASSERT_EQUAL(read, nrecs);
        CU_ASSERT_EQUAL(f.records, nrecs);
        CU_ASSERT_EQUAL(S.requests, (nrecs + LIMIT - 1) / LIMIT);
        CU_ASSERT_EQUAL(f.stats.pages, (nrecs + LIMIT - 1) / LIMIT);
        CU_ASSERT_EQUAL(f.stats.records, nrecs);
        CU_ASSERT_FALSE(flowwow_pager_total_changed(f.pg));
        fixture_stop(&f);
    }
}

/* Without `total`: a short page ends the list; after a full one, an empty page. */
static void test_short_or_empty_page_ends(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 5, false);
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_OK);
    CU_ASSERT_EQUAL(read, 5);
    CU_ASSERT_EQUAL(S.requests, 3); /* 2 + 2 + 1 */
    fixture_stop(&f);

    fixture_start(&f, 4, false);
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_OK);
    CU_ASSERT_EQUAL(read, 4);
    CU_ASSERT_EQUAL(S.requests, 3); /* 2 + 2 + the empty page */
    CU_ASSERT_EQUAL(f.stats.pages, 3);
    fixture_stop(&f);
}

/* A page short of what `total` leaves for it is refused: retried like a 5xx,
 * and read whole on the retry. */
static void test_lost_record_retried(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 5, true);
    S.lose_requests = 1;
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_OK);
    CU_ASSERT_EQUAL(read, 5);
    CU_ASSERT_EQUAL(S.requests, 4); /* page 1 twice */
    CU_ASSERT_EQUAL(f.stats.pages, 3);
    fixture_stop(&f);
}

/* ... and when the retries run out, the read fails saying why. */
static void test_count_disagreement_refused(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 5, true);
    S.lose_requests = 2;
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "`total` is 5, so page 1 of 2 records (first page 1) "
                                           "should hold 2, it holds 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "orders_page_base"));
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(f.stats.pages, 0);
    fixture_stop(&f);
}

static void test_shape_refused(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 3, true);
    S.bad_requests = 1; /* one `200 {}`, then good pages */
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_OK);
    CU_ASSERT_EQUAL(read, 3);
    CU_ASSERT_EQUAL(S.requests, 3);
    fixture_stop(&f);

    fixture_start(&f, 3, true);
    S.bad_requests = 2;
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unexpected response shape: no `items` array"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "orders/list shop 1 page 1"));
    CU_ASSERT_EQUAL(S.requests, 2);
    fixture_stop(&f);
}

/* A server that ignores `page` repeats page 1: refused at page 2. */
static void test_repeated_page_refused(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 6, false);
    S.ignore_page = true;
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "page 2 holds the same records as page 1"));
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(read, 2);
    fixture_stop(&f);
}

/* A list that grows while read: accepted, and noted. */
static void test_total_changed(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 4, true);
    S.total_bump = 1; /* total 5 from page 2 on, records still 4: page 3 would be short */
    fe_rc rc = read_list(&f, &read, &err);
    CU_ASSERT_TRUE(flowwow_pager_total_changed(f.pg));
    CU_ASSERT_EQUAL(rc, FE_EJSON); /* page 3 should hold 1 record, it holds none */
    fixture_stop(&f);
}

/* The record callback's failure stops the list: not retried, no later page. */
static void test_record_failure_stops(void)
{
    fixture f;
    fe_err err = {0};
    int64_t read = -1;
    fixture_start(&f, 6, true);
    f.fail_at = 3;
    CU_ASSERT_EQUAL(read_list(&f, &read, &err), FE_EPG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "staging refused the row"));
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(f.stats.pages, 1);
    fixture_stop(&f);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("flowwow_pages", fake_http_suite_init, fake_http_suite_term);
    CU_add_test(s, "total ends the list", test_total_ends);
    CU_add_test(s, "a short or empty page ends it", test_short_or_empty_page_ends);
    CU_add_test(s, "a page that lost a record is retried", test_lost_record_retried);
    CU_add_test(s, "a count disagreement is refused", test_count_disagreement_refused);
    CU_add_test(s, "an answer without its array is refused", test_shape_refused);
    CU_add_test(s, "a repeated page is refused", test_repeated_page_refused);
    CU_add_test(s, "a change of total is noted", test_total_changed);
    CU_add_test(s, "a record failure stops the list", test_record_failure_stops);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
