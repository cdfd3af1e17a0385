/* Unit tests for the page loop of sources/flowretail/flowretail_api (against
 * tests/unit/fake_http): the end rules (paging.totalCount reached, a page short
 * of the server's page size, an empty page, the page callback's stop), what is
 * refused (an answer without `items` or `paging`, a page short of what
 * totalCount leaves for it: retried like a 5xx, then failing the list), a change
 * of totalCount between pages, and a record callback's failure. Every test counts
 * the requests: the benchmarks measure requests per 1,000 records. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "extract/http.h"
#include "sources/flowretail/flowretail_api.h"
#include "sources/source.h"
#include "tests/unit/fake_http.h"

#define REQUEST_CAP 50 /* the fake answers an empty list past this many requests */

/* The fake list: nrecs items "i1".."iN", served_size a page; each knob breaks it. */
static struct {
    pthread_mutex_t mu;
    int nrecs;
    int served_size; /* paging.pageSize sent and used; 0: the pageSize asked */
    bool send_total;
    bool no_paging;    /* answers without `paging` */
    int lose_requests; /* the first this many pages lose their last item */
    int total_bump;    /* added to totalCount from the second request on */
    int requests;
    char last_target[1024];
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void server_reset(int nrecs, bool send_total)
{
    pthread_mutex_lock(&S.mu);
    S.nrecs = nrecs;
    S.send_total = send_total;
    S.served_size = 0;
    S.no_paging = false;
    S.lose_requests = S.total_bump = S.requests = 0;
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

static long query_long(const char *target, const char *key)
{
    const char *p = strstr(target, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* Writes the items of one page into text at n; returns the new length. */
static size_t put_items(char *text, size_t n, size_t cap, int first, int last)
{
    n += (size_t)snprintf(text + n, cap - n, "{\"items\":[");
    for (int i = first; i <= last; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{\"uid\":\"i%d\"}", i > first ? "," : "", i);
    return n + (size_t)snprintf(text + n, cap - n, "]");
}

/* GET /v2/tenants/t1/items?sortBy=uid&pageNumber=N&pageSize=M */
static bool list_route(void *user, int fd, const fake_http_req *req, const char *body,
                       size_t body_len)
{
    char text[2048];
    long page = query_long(req->target, "pageNumber="), size = query_long(req->target, "pageSize=");
    (void)user;
    (void)body;
    (void)body_len;
    pthread_mutex_lock(&S.mu);
    int nth = ++S.requests;
    snprintf(S.last_target, sizeof S.last_target, "%s", req->target);
    if (S.served_size > 0)
        size = S.served_size;
    int first = (int)((page - 1) * size) + 1, last = first + (int)size - 1;
    if (last > S.nrecs)
        last = S.nrecs;
    if (nth <= S.lose_requests && last >= first)
        last--;
    if (nth > REQUEST_CAP)
        last = first - 1;
    size_t n = put_items(text, 0, sizeof text, first, last);
    if (!S.no_paging && S.send_total)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              ",\"paging\":{\"pageNumber\":%ld,\"pageSize\":%ld,\"totalCount\":%d}",
                              page, size, S.nrecs + (nth > 1 ? S.total_bump : 0));
    else if (!S.no_paging)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              ",\"paging\":{\"pageNumber\":%ld,\"pageSize\":%ld}", page, size);
    snprintf(text + n, sizeof text - n, "}");
    pthread_mutex_unlock(&S.mu);
    return send_json(fd, text);
}

typedef struct {
    fake_http *srv;
    config *cfg;
    flowretail_api *api;
    http_client *http;
    stream_stats stats;
    int records, pages_done;
    int fail_at;    /* the record callback fails at this record; 0 = never */
    int stop_after; /* the page callback stops after this many pages; 0 = never */
    long capped_to; /* flowretail_doc.capped_to: the silent cap seen, 0 none */
} fixture;

static fe_rc on_item(void *user, int which, const json_rec *rec, fe_err *err)
{
    fixture *f = user;
    (void)which;
    (void)rec;
    if (++f->records == f->fail_at)
        return fe_err_set(err, FE_EPG, "staging refused the row");
    return FE_OK;
}

static fe_rc on_page(void *user, int64_t rows, int64_t total, bool *stop, fe_err *err)
{
    fixture *f = user;
    (void)rows;
    (void)total;
    (void)err;
    *stop = ++f->pages_done == f->stop_after;
    return FE_OK;
}

static void fixture_start(fixture *f, int nrecs, bool send_total)
{
    fe_err err = {0};
    char text[512];
    http_opts ho;
    memset(f, 0, sizeof *f);
    server_reset(nrecs, send_total);
    f->srv = fake_http_start(list_route, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->srv);
    snprintf(text, sizeof text,
             "[warehouse]\ndsn = \n[source.fr]\ntype = flowretail\ntenant = t1\n"
             "token = tok-abcdef\nbase_url = http://127.0.0.1:%d/v2\n",
             fake_http_port(f->srv));
    CU_ASSERT_EQUAL_FATAL(config_load_string(text, "t.conf", source_schema(), &f->cfg, &err),
                          FE_OK);
    CU_ASSERT_EQUAL_FATAL(flowretail_api_new(config_source(f->cfg, "fr"), &f->api, &err), FE_OK);
    http_opts_default(&ho);
    ho.backoff.base_us = 1000;
    ho.backoff.max_us = 2000;
    ho.backoff.max_retries = 1;
    f->http = http_client_new(&ho, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->http);
}

static void fixture_stop(fixture *f)
{
    http_client_free(f->http);
    flowretail_api_free(f->api);
    config_free(f->cfg);
    fake_http_stop(f->srv);
}

static fe_rc read_list(fixture *f, long page_size, bool *total_changed, fe_err *err)
{
    flowretail_doc d = {.method = "GET",
                        .path = "/items",
                        .query = "sortBy=uid",
                        .on_record = on_item,
                        .user = f,
                        .capped_to = &f->capped_to};
    return flowretail_list(f->api, f->http, &f->stats, &d, page_size, on_page, total_changed, err);
}

/* totalCount ends the list: no request past it, a full last page included. */
static void test_total_ends(void)
{
    for (int nrecs = 4; nrecs <= 5; nrecs++) {
        fixture f;
        fe_err err = {0};
        bool changed = true;
        fixture_start(&f, nrecs, true);
        CU_ASSERT_EQUAL(read_list(&f, 2, &changed, &err), FE_OK);
        CU_ASSERT_EQUAL(f.records, nrecs);
        CU_ASSERT_EQUAL(S.requests, (nrecs + 1) / 2);
        CU_ASSERT_EQUAL(f.stats.pages, (nrecs + 1) / 2);
        CU_ASSERT_EQUAL(f.stats.records, nrecs);
        CU_ASSERT_FALSE(changed);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(S.last_target, "/v2/tenants/t1/items?sortBy=uid&pageNumber="));
        fixture_stop(&f);
    }
}

/* Without totalCount: a short page ends the list; after a full one, an empty
 * page. A server serving smaller pages than asked is judged by its own size. */
static void test_short_or_empty_page_ends(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, 5, false);
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(f.records, 5);
    CU_ASSERT_EQUAL(S.requests, 3);
    fixture_stop(&f);

    fixture_start(&f, 4, false);
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(S.requests, 3); /* 2 + 2 + the empty page */
    CU_ASSERT_EQUAL(f.pages_done, 2);
    fixture_stop(&f);

    fixture_start(&f, 5, false);
    S.served_size = 2; /* asked 3: pages of 2 are not short */
    CU_ASSERT_EQUAL(read_list(&f, 3, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(f.records, 5);
    CU_ASSERT_EQUAL(S.requests, 3);
    fixture_stop(&f);
}

static void test_page_callback_stops(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, 9, true);
    f.stop_after = 2;
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(f.records, 4);
    fixture_stop(&f);
}

/* Page 1 short of what totalCount leaves for it, its pageSize the one asked: a
 * silent cap or a page that lost its last items. Page 1 is asked again at the size
 * it served: the same items confirm the cap and the list goes on at that size
 * (exact either way); other items refuse it. */
static void test_count_disagreement(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, 5, true);
    S.lose_requests = 1;
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(f.records, 5);  /* the confirming read hands nothing on */
    CU_ASSERT_EQUAL(S.requests, 6); /* page 1, page 1 again at 1, pages 2..5 at 1 */
    CU_ASSERT_EQUAL(f.stats.pages, 5);
    CU_ASSERT_EQUAL(f.capped_to, 1);
    fixture_stop(&f);

    fixture_start(&f, 5, true);
    S.lose_requests = 2;
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "paging.totalCount is 5, so page 1 of 2 items should "
                                           "hold 2, it holds 1"));
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(f.stats.pages, 0);
    fixture_stop(&f);
}

static void test_shape_refused(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, 3, true);
    S.no_paging = true;
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unexpected response shape: no `paging` object"));
    CU_ASSERT_EQUAL(S.requests, 2); /* retried once, like a 5xx */
    fixture_stop(&f);
}

static void test_total_changed(void)
{
    fixture f;
    fe_err err = {0};
    bool changed = false;
    fixture_start(&f, 6, true);
    S.total_bump = -1; /* 5 from page 2 on: the list shrank while read */
    CU_ASSERT_EQUAL(read_list(&f, 2, &changed, &err), FE_OK);
    CU_ASSERT_TRUE(changed);
    CU_ASSERT_EQUAL(S.requests, 3);
    fixture_stop(&f);
}

/* The record callback's failure stops the list: not retried, no later page. */
static void test_record_failure_stops(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, 6, true);
    f.fail_at = 3;
    CU_ASSERT_EQUAL(read_list(&f, 2, NULL, &err), FE_EPG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "staging refused the row"));
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_EQUAL(f.stats.pages, 1);
    fixture_stop(&f);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("flowretail_pages", fake_http_suite_init, fake_http_suite_term);
    CU_add_test(s, "totalCount ends the list", test_total_ends);
    CU_add_test(s, "a short or empty page ends it", test_short_or_empty_page_ends);
    CU_add_test(s, "the page callback may stop it", test_page_callback_stops);
    CU_add_test(s, "a page short of totalCount is retried, then refused", test_count_disagreement);
    CU_add_test(s, "an answer without `paging` is refused", test_shape_refused);
    CU_add_test(s, "a change of totalCount is noted", test_total_changed);
    CU_add_test(s, "a record failure stops the list", test_record_failure_stops);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
