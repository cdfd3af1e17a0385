/* Unit tests for extract/json_fetch against tests/unit/fake_http: records reach
 * the callback as they close, the judge (on_end) refuses a whole body and the
 * request is retried like a 5xx, a cut transfer starts the document again
 * (on_reset), a syntax error or a callback failure ends the request at once, and
 * the quiet mode never quotes the body. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract/http.h"
#include "extract/json_fetch.h"
#include "tests/unit/fake_http.h"

static struct {
    pthread_mutex_t mu;
    int requests;
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool send_body(int fd, const char *body, size_t claimed)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                     "%zu\r\n\r\n",
                     claimed);
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, strlen(body));
}

#define GOOD "{\"data\":[{\"id\":\"1\"},{\"id\":\"2\"}],\"meta\":{\"total\":2}}"

/* /good, /shape-once ({} first), /shape-always, /invalid, /cut-once (the first
 * answer stops half way and closes), /secret (invalid JSON holding a token). */
static bool route(void *user, int fd, const fake_http_req *req, const char *body, size_t len)
{
    (void)user;
    (void)body;
    (void)len;
    pthread_mutex_lock(&S.mu);
    int nth = ++S.requests;
    pthread_mutex_unlock(&S.mu);
    if (strcmp(req->target, "/shape-always") == 0 ||
        (strcmp(req->target, "/shape-once") == 0 && nth == 1))
        return send_body(fd, "{}", 2);
    if (strcmp(req->target, "/invalid") == 0)
        return send_body(fd, "{\"data\":[{\"id\":\"1\"},}", 21);
    if (strcmp(req->target, "/secret") == 0)
        return send_body(fd, "{\"token\":\"s3cr3t-token\" x}", 26);
    if (strcmp(req->target, "/cut-once") == 0 && nth == 1) {
        (void)send_body(fd, "{\"data\":[{\"id\":\"1\"},", strlen(GOOD));
        return false; /* closes: the body is cut off */
    }
    return send_body(fd, GOOD, strlen(GOOD));
}

typedef struct {
    int records, resets, ends;
    int fail_at;
    char ids[64];
} reader;

static fe_rc on_record(void *user, int which, const json_rec *rec, fe_err *err)
{
    reader *r = user;
    const char *id = json_rec_str(rec, "id");
    if (which != 0)
        return FE_OK;
    if (++r->records == r->fail_at)
        return fe_err_set(err, FE_EPG, "the sink refused record %d", r->records);
    strncat(r->ids, id ? id : "?", sizeof r->ids - strlen(r->ids) - 1);
    return FE_OK;
}

static void on_reset(void *user)
{
    reader *r = user;
    r->records = 0;
    r->ids[0] = '\0';
    r->resets++;
}

static fe_rc on_end(void *user, const json_stream *js, fe_err *err)
{
    reader *r = user;
    r->ends++;
    return json_fetch_require(js, 0, JSON_AS_ARRAY, "unexpected response shape: no `data` array",
                              err);
}

typedef struct {
    fake_http *srv;
    char base[64];
    http_client *http;
    json_fetch *jf;
    reader r;
} fixture;

static void fixture_start(fixture *f, const char *quiet)
{
    static const char *const paths[] = {"data[]", "."};
    fe_err err = {0};
    http_opts ho;
    memset(f, 0, sizeof *f);
    S.requests = 0;
    f->srv = fake_http_start(route, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->srv);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", fake_http_port(f->srv));
    http_opts_default(&ho);
    ho.backoff.base_us = 1000;
    ho.backoff.max_us = 2000;
    ho.backoff.max_retries = 2;
    f->http = http_client_new(&ho, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->http);
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 2,
                            .max_record_bytes = 1 << 16,
                            .on_record = on_record,
                            .on_reset = on_reset,
                            .on_end = on_end,
                            .user = &f->r,
                            .quiet = quiet};
    f->jf = json_fetch_new(&spec);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->jf);
}

static void fixture_stop(fixture *f)
{
    json_fetch_free(f->jf);
    http_client_free(f->http);
    fake_http_stop(f->srv);
}

static fe_rc get(fixture *f, const char *path, fe_err *err)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    http_request req = {.method = "GET", .url = url};
    return json_fetch_get(f->jf, f->http, &req, NULL, err);
}

static void test_records_and_judge(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, NULL);
    CU_ASSERT_EQUAL(get(&f, "/good", &err), FE_OK);
    CU_ASSERT_EQUAL(f.r.records, 2);
    CU_ASSERT_STRING_EQUAL(f.r.ids, "12");
    CU_ASSERT_EQUAL(f.r.ends, 1);
    CU_ASSERT_EQUAL(f.r.resets, 1); /* the document started once */
    CU_ASSERT_EQUAL(S.requests, 1);
    /* Reused for a second document. */
    CU_ASSERT_EQUAL(get(&f, "/good", &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(f.r.ids, "12");
    fixture_stop(&f);
}

/* The judge's refusal is retried like a 5xx; the good answer then counts. */
static void test_refusal_retried(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, NULL);
    CU_ASSERT_EQUAL(get(&f, "/shape-once", &err), FE_OK);
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_STRING_EQUAL(f.r.ids, "12");
    fixture_stop(&f);

    fixture_start(&f, NULL);
    CU_ASSERT_EQUAL(get(&f, "/shape-always", &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unexpected response shape: no `data` array"));
    CU_ASSERT_EQUAL(S.requests, 3); /* 1 + max_retries */
    fixture_stop(&f);
}

/* A cut transfer is read again from the start: on_reset drops what it gave. */
static void test_cut_transfer_restarts(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, NULL);
    CU_ASSERT_EQUAL(get(&f, "/cut-once", &err), FE_OK);
    CU_ASSERT_EQUAL(S.requests, 2);
    CU_ASSERT_STRING_EQUAL(f.r.ids, "12");
    CU_ASSERT_EQUAL(f.r.resets, 2);
    fixture_stop(&f);
}

/* A syntax error or the callback's failure ends the request at once. */
static void test_failures_not_retried(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, NULL);
    CU_ASSERT_EQUAL(get(&f, "/invalid", &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "invalid JSON at byte"));
    CU_ASSERT_EQUAL(S.requests, 1);
    fixture_stop(&f);

    fixture_start(&f, NULL);
    f.r.fail_at = 2;
    CU_ASSERT_EQUAL(get(&f, "/good", &err), FE_EPG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the sink refused record 2"));
    CU_ASSERT_EQUAL(S.requests, 1);
    fixture_stop(&f);
}

/* Quiet: a fixed message that quotes nothing of the body; the sink does not
 * finish the document, the caller does. */
static void test_quiet(void)
{
    fixture f;
    fe_err err = {0};
    fixture_start(&f, "session response");
    CU_ASSERT_EQUAL(get(&f, "/secret", &err), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg + strlen(err.msg) - strlen("session response is not valid JSON"),
                           "session response is not valid JSON");
    CU_ASSERT_PTR_NULL(strstr(err.msg, "s3cr3t"));
    fixture_stop(&f);

    fixture_start(&f, "session response");
    CU_ASSERT_EQUAL(get(&f, "/shape-always", &err), FE_OK); /* no judge in quiet mode */
    CU_ASSERT_EQUAL(f.r.ends, 0);
    CU_ASSERT_EQUAL(S.requests, 1);
    CU_ASSERT_EQUAL(json_fetch_finish(f.jf, &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_shape(json_fetch_stream(f.jf), 0), JSON_ABSENT);
    fixture_stop(&f);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("json_fetch", fake_http_suite_init, fake_http_suite_term);
    CU_add_test(s, "records reach the callback, the judge sees the whole", test_records_and_judge);
    CU_add_test(s, "a refusal is retried like a 5xx", test_refusal_retried);
    CU_add_test(s, "a cut transfer starts the document again", test_cut_transfer_restarts);
    CU_add_test(s, "syntax and callback failures are not retried", test_failures_not_retried);
    CU_add_test(s, "quiet mode", test_quiet);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
