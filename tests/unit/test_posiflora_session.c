/* Unit tests for sources/posiflora/posiflora_session against tests/unit/fake_http: the
 * tokens a login brings are masked from the moment they arrive, and the login
 * (whose body carries the password) never follows a redirect to another origin. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sources/posiflora/posiflora_session.h"
#include "tests/unit/fake_http.h"

#define ACCESS "acc-TOKEN-5f1e2d3c4b"
#define REFRESH "ref-TOKEN-9a8b7c6d5e"

static struct {
    pthread_mutex_t mu;
    int other_port;
    int other_requests;
    char last_body[512];
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool send_json(int fd, int status, const char *extra, const char *body)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/vnd.api+json\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     status, extra ? extra : "", strlen(body));
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, strlen(body));
}

/* /ok/api/v1/sessions logs in; /moved/api/v1/sessions answers 307 to the other
 * server; /echo/api/v1/orders answers 500 with a body that quotes the token. */
static bool route(void *user, int fd, const fake_http_req *req, const char *body, size_t body_len)
{
    (void)user;
    pthread_mutex_lock(&G.mu);
    snprintf(G.last_body, sizeof G.last_body, "%.*s", (int)body_len, body);
    int other = G.other_port;
    pthread_mutex_unlock(&G.mu);
    if (strcmp(req->target, "/ok/api/v1/sessions") == 0)
        return send_json(fd, 200, NULL,
                         "{\"data\":{\"type\":\"sessions\",\"id\":\"1\",\"attributes\":{"
                         "\"accessToken\":\"" ACCESS "\",\"refreshToken\":\"" REFRESH "\","
                         "\"expireAt\":\"2099-01-01T00:00:00+00:00\"}}}");
    if (strcmp(req->target, "/moved/api/v1/sessions") == 0) {
        char loc[128];
        snprintf(loc, sizeof loc, "Location: http://127.0.0.1:%d/api/v1/sessions\r\n", other);
        return send_json(fd, 307, loc, "");
    }
    return send_json(fd, 404, NULL, "{}");
}

static bool other_route(void *user, int fd, const fake_http_req *req, const char *body,
                        size_t body_len)
{
    (void)user;
    (void)req;
    (void)body;
    (void)body_len;
    pthread_mutex_lock(&G.mu);
    G.other_requests++;
    pthread_mutex_unlock(&G.mu);
    return send_json(fd, 200, NULL, "{}");
}

static fake_http *srv, *other;

static int suite_init(void)
{
    srv = fake_http_start(route, NULL);
    other = fake_http_start(other_route, NULL);
    if (!srv || !other)
        return -1;
    G.other_port = fake_http_port(other);
    return http_global_init() ? 0 : -1;
}

static int suite_term(void)
{
    fake_http_stop(srv);
    fake_http_stop(other);
    http_global_term();
    log_term();
    return 0;
}

/* A client as source_env makes it: credentials bound to base_url's origin. */
static http_client *client_for(const char *base)
{
    http_opts o;
    fe_err err = {0};
    http_opts_default(&o);
    o.origin_url = base;
    o.backoff.base_us = 10000;
    o.backoff.max_retries = 1;
    http_client *c = http_client_new(&o, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

static void test_tokens_masked_once_they_arrive(void)
{
    char base[128], out[256];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/ok/api", fake_http_port(srv));
    log_init(LOG_INFO, NULL, 0);
    log_redact(out, sizeof out, "HTTP 500: {\"detail\":\"token " ACCESS " / " REFRESH "\"}");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ACCESS)); /* nothing registered yet */
    http_client *c = client_for(base);
    posiflora_session *s = posiflora_session_new(base, "demo", "demo-secret", 60000000, "p");
    fe_err err = {0};
    CU_ASSERT_EQUAL_FATAL(posiflora_session_login(s, c, NULL, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(posiflora_session_auth_header(s), "Authorization: Bearer " ACCESS);
    /* an API error that echoes them, as it would reach stderr or etl.run_stream */
    log_redact(out, sizeof out, "HTTP 500: {\"detail\":\"token " ACCESS " / " REFRESH "\"}");
    CU_ASSERT_STRING_EQUAL(out, "HTTP 500: {\"detail\":\"token *** / ***\"}");
    char *stored = log_redact_dup("GET /v1/orders: HTTP 401: bad token " ACCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stored);
    CU_ASSERT_STRING_EQUAL(stored, "GET /v1/orders: HTTP 401: bad token ***");
    free(stored);
    posiflora_session_free(s);
    http_client_free(c);
}

static void test_login_not_reposted_elsewhere(void)
{
    char base[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/moved/api", fake_http_port(srv));
    http_client *c = client_for(base);
    posiflora_session *s = posiflora_session_new(base, "demo", "pw-7c1d9e", 60000000, "p");
    fe_err err = {0};
    CU_ASSERT_EQUAL(posiflora_session_login(s, c, NULL, &err), FE_EHTTP);
    char want[256];
    snprintf(want, sizeof want,
             "POST /moved/api/v1/sessions: HTTP 307 redirect to http://127.0.0.1:%d: refusing to "
             "send credentials there: they belong to http://127.0.0.1:%d",
             G.other_port, fake_http_port(srv));
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    pthread_mutex_lock(&G.mu);
    CU_ASSERT_EQUAL(G.other_requests, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(G.last_body, "pw-7c1d9e")); /* it did go to its own host */
    pthread_mutex_unlock(&G.mu);
    CU_ASSERT_EQUAL(fake_http_accepted(other), 0);
    posiflora_session_free(s);
    http_client_free(c);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("posiflora_session", suite_init, suite_term);
    CU_add_test(s, "tokens masked once they arrive", test_tokens_masked_once_they_arrive);
    CU_add_test(s, "login not re-posted to another origin", test_login_not_reposted_elsewhere);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
