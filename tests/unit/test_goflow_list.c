/* Unit tests for the {data, next} list reader of sources/goflow/goflow_api (against
 * tests/unit/fake_http): a `next` holding a NUL byte fails the read instead of
 * reading as "" (the end of the list), and `next` links that lead back to a page
 * already read (A -> A, A -> B -> A, A -> B -> C -> B) fail it instead of running
 * forever. The fake server ends every list after LOOP_CAP requests, so a reader
 * without the loop check ends (and fails the test) rather than hanging. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "sources/source.h"
#include "sources/goflow/goflow_api.h"
#include "tests/unit/fake_http.h"

#define LOOP_CAP 12

static struct {
    pthread_mutex_t mu;
    int requests;
    bool asked_after_nul; /* the page a NUL-cut reader must never ask for */
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool send_json(int fd, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\n\r\n",
                     strlen(body));
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, strlen(body));
}

/* Each list page: path -> its `next` (JSON text). */
static const struct {
    const char *target, *next;
} PAGES[] = {
    {"/goflow/v1/ok", "\"/goflow/v1/ok2\""},
    {"/goflow/v1/ok2", "null"},
    {"/goflow/v1/nul", "\"\\u0000/goflow/v1/after-nul\""},
    {"/goflow/v1/after-nul", "null"},
    {"/goflow/v1/self", "\"/goflow/v1/self\""},
    {"/goflow/v1/a", "\"/goflow/v1/b\""},
    {"/goflow/v1/b", "\"http://127.0.0.1:PORT/goflow/v1/a\""}, /* absolute, same page as a */
    {"/goflow/v1/c1", "\"/goflow/v1/c2?x=1\""},
    {"/goflow/v1/c2?x=1", "\"/goflow/v1/c3\""},
    {"/goflow/v1/c3", "\"/goflow/v1/c2?x=1\""},
};

static bool list_route(void *user, int fd, const fake_http_req *req, const char *body,
                       size_t body_len)
{
    const int *port = user;
    char text[512], next[256];
    (void)body;
    (void)body_len;
    pthread_mutex_lock(&G.mu);
    int nth = ++G.requests;
    G.asked_after_nul |= strcmp(req->target, "/goflow/v1/after-nul") == 0;
    pthread_mutex_unlock(&G.mu);
    for (size_t i = 0; i < sizeof PAGES / sizeof PAGES[0]; i++) {
        if (strcmp(req->target, PAGES[i].target) != 0)
            continue;
        const char *at = strstr(PAGES[i].next, "PORT");
        if (at)
            snprintf(next, sizeof next, "%.*s%d%s", (int)(at - PAGES[i].next), PAGES[i].next, *port,
                     at + 4);
        else
            snprintf(next, sizeof next, "%s", PAGES[i].next);
        snprintf(text, sizeof text, "{\"data\":[{\"id\":\"%d\"}],\"next\":%s}", nth,
                 nth >= LOOP_CAP ? "null" : next);
        return send_json(fd, text);
    }
    return send_json(fd, "{\"data\":[],\"next\":null}");
}

static fe_rc count_rec(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    (void)rec;
    (void)err;
    (*(int *)user)++;
    return FE_OK;
}

/* A record sink that fails at its second record, as the loader does when
 * PostgreSQL refuses a row (FE_EPG). */
typedef struct {
    int seen;
    int pages;
} failing_sink;

static fe_rc fail_second(void *user, int which, const json_rec *rec, fe_err *err)
{
    failing_sink *fs = user;
    (void)which;
    (void)rec;
    if (++fs->seen == 2)
        return fe_err_set(err, FE_EPG, "staging refused the row: disk full");
    return FE_OK;
}

static fe_rc count_page(void *user, fe_err *err)
{
    (void)err;
    ((failing_sink *)user)->pages++;
    return FE_OK;
}

typedef struct {
    fake_http *srv;
    int port;
    config *cfg;
    goflow_opts o;
    http_client *http;
} fixture;

static void fixture_start(fixture *f)
{
    fe_err err = {0};
    char text[512];
    memset(f, 0, sizeof *f);
    f->srv = fake_http_start(list_route, &f->port);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->srv);
    f->port = fake_http_port(f->srv);
    snprintf(text, sizeof text,
             "[warehouse]\ndsn = \n[source.gf]\ntype = goflow\ntoken = tok-abcdef\n"
             "base_url = http://127.0.0.1:%d/goflow/v1\n",
             f->port);
    CU_ASSERT_EQUAL_FATAL(config_load_string(text, "t.conf", source_schema(), &f->cfg, &err),
                          FE_OK);
    CU_ASSERT_EQUAL_FATAL(goflow_opts_load(config_source(f->cfg, "gf"), &f->o, &err), FE_OK);
    http_opts ho;
    http_opts_default(&ho);
    ho.origin_url = f->o.base;
    ho.backoff.base_us = 10000;
    ho.backoff.max_retries = 1;
    f->http = http_client_new(&ho, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->http);
    G.requests = 0;
    G.asked_after_nul = false;
}

static void fixture_stop(fixture *f)
{
    http_client_free(f->http);
    goflow_opts_term(&f->o);
    config_free(f->cfg);
    fake_http_stop(f->srv);
}

/* Reads the list from first; *records gets the records seen. */
static fe_rc read_list(fixture *f, const char *first, int *records, fe_err *err)
{
    stream_stats stats = {0};
    stream_ctx ctx = {.stream = "test", .logctx = "gf.test", .http = f->http, .stats = &stats};
    *records = 0;
    return goflow_list_read(&ctx, &f->o, first, count_rec, NULL, records, err);
}

static void test_two_pages(void)
{
    fixture f;
    fe_err err = {0};
    int records;
    fixture_start(&f);
    CU_ASSERT_EQUAL(read_list(&f, "/goflow/v1/ok", &records, &err), FE_OK);
    CU_ASSERT_EQUAL(records, 2);
    CU_ASSERT_EQUAL(G.requests, 2);
    fixture_stop(&f);
}

/* Cut at its NUL, next would read as "" and the list would end after page 1. */
static void test_nul_next_fails(void)
{
    fixture f;
    fe_err err = {0};
    int records;
    fixture_start(&f);
    fe_rc rc = read_list(&f, "/goflow/v1/nul", &records, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "next contains a NUL byte"));
    CU_ASSERT_FALSE(G.asked_after_nul);
    CU_ASSERT_EQUAL(G.requests, 1); /* refused at once, not retried */
    fixture_stop(&f);
}

static void expect_loop(const char *first, int pages, const char *shown)
{
    fixture f;
    fe_err err = {0};
    int records;
    fixture_start(&f);
    fe_rc rc = read_list(&f, first, &records, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Goflow next link loops back to a page already read"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, shown));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "127.0.0.1")); /* path and query only */
    CU_ASSERT_EQUAL(G.requests, pages);
    if (rc != FE_EJSON || !strstr(err.msg, shown))
        fprintf(stderr, "\n  %s: rc %d, %s\n", first, rc, err.msg);
    fixture_stop(&f);
}

/* The record sink's failure is the list's: its code and message come back, the
 * page is not retried (one request), no later page is asked for and the page is
 * not taken as read (no page callback, not counted). Swallowed, the list would go
 * on and the run commit a load without the refused rows. */
static void test_sink_failure_stops_the_list(void)
{
    fixture f;
    fe_err err = {0};
    failing_sink fs = {0};
    stream_stats stats = {0};
    fixture_start(&f);
    stream_ctx ctx = {.stream = "test", .logctx = "gf.test", .http = f.http, .stats = &stats};
    /* Two pages of one record each: the second record is on the second page. */
    fe_rc rc = goflow_list_read(&ctx, &f.o, "/goflow/v1/ok", fail_second, count_page, &fs, &err);
    CU_ASSERT_EQUAL(rc, FE_EPG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "staging refused the row: disk full"));
    CU_ASSERT_EQUAL(fs.seen, 2);
    CU_ASSERT_EQUAL(fs.pages, 1);    /* the first page only */
    CU_ASSERT_EQUAL(G.requests, 2);  /* the failing page was not asked again */
    CU_ASSERT_EQUAL(stats.pages, 1); /* the failing page is not counted */
    fixture_stop(&f);
}

static void test_next_to_itself_fails(void)
{
    expect_loop("/goflow/v1/self", 1, ": /goflow/v1/self");
}

static void test_two_page_cycle_fails(void)
{
    expect_loop("/goflow/v1/a", 2, ": /goflow/v1/a");
}

static void test_cycle_past_the_first_page_fails(void)
{
    expect_loop("/goflow/v1/c1", 3, ": /goflow/v1/c2?x=1");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("goflow_list", fake_http_suite_init, fake_http_suite_term);
    CU_add_test(s, "two pages", test_two_pages);
    CU_add_test(s, "a next with a NUL byte fails the read", test_nul_next_fails);
    CU_add_test(s, "a record sink failure stops the list", test_sink_failure_stops_the_list);
    CU_add_test(s, "next to the same page fails", test_next_to_itself_fails);
    CU_add_test(s, "A -> B -> A fails", test_two_page_cycle_fails);
    CU_add_test(s, "A -> B -> C -> B fails", test_cycle_past_the_first_page_fails);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
