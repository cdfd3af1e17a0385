/* Unit tests for extract/http against a small HTTP/1.1 server run in this process
 * (POSIX sockets, one thread per connection, keep-alive) on 127.0.0.1 and a free
 * port. Routes answer by path; the n-th request for the same target (path and
 * query) is counted, so each test uses its own query to script its own sequence. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "extract/http.h"
#include "tests/unit/fake_http.h"

#define SEC 1000000LL
#define MAX_LOG 512

/* ---- the test server ---- */

/* What the server saw of a request (fake_http.h). */
typedef fake_http_req seen_req;

typedef struct {
    fake_http *srv;
    int port;
    pthread_mutex_t mu;
    seen_req log[MAX_LOG];
    int nlog;
    int inflight, max_inflight; /* for /n/ requests */
    fake_http *other;           /* another origin: must never see credentials */
    int other_port;
    int other_requests;
} server;

static server S;

static bool send_response(int fd, int status, const char *extra_headers, const void *body,
                          size_t len)
{
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status,
                     len, extra_headers ? extra_headers : "");
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, len);
}

static char *pattern_body(size_t len)
{
    char *b = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        b[i] = (char)('a' + i % 26);
    b[len] = '\0';
    return b;
}

#define OK_BODY_LEN (64 * 1024)
#define CUT_BODY_LEN 1000
#define GZIP_TEXT_REPEAT 300
static const char GZIP_UNIT[] = "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, gzip! ";

static size_t gzip_text(unsigned char *out, size_t cap)
{
    buf text;
    buf_init(&text, 0);
    for (int i = 0; i < GZIP_TEXT_REPEAT; i++)
        if (!buf_puts(&text, GZIP_UNIT))
            return 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)text.data;
    z.avail_in = (uInt)text.len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = rc == Z_STREAM_END ? z.total_out : 0;
    deflateEnd(&z);
    buf_term(&text);
    return n;
}

/* Answers one request. Returns false when the connection must close. */
static bool route(int fd, const seen_req *r, int nth, const char *body, size_t body_len)
{
    char path[sizeof r->target];
    snprintf(path, sizeof path, "%s", r->target);
    path[strcspn(path, "?")] = '\0';
    if (strcmp(path, "/ok") == 0) {
        char *b = pattern_body(OK_BODY_LEN);
        char head[128];
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
                         OK_BODY_LEN);
        bool ok = fake_http_send_all(fd, head, (size_t)n);
        for (size_t off = 0; ok && off < OK_BODY_LEN; off += 4096) {
            ok = fake_http_send_all(fd, b + off, 4096);
            usleep(1000);
        }
        free(b);
        return ok;
    }
    if (strcmp(path, "/flaky") == 0) {
        if (nth <= 2)
            return send_response(fd, 500, NULL, "{\"error\":\"boom\"}", 16);
        return send_response(fd, 200, NULL, "done", 4);
    }
    if (strcmp(path, "/always500") == 0) {
        const char *b = "{\"error\":\"boom\nsecond\tline\"}";
        return send_response(fd, 500, NULL, b, strlen(b));
    }
    if (strcmp(path, "/limited") == 0) {
        if (nth == 1)
            return send_response(fd, 429, "Retry-After: 1\r\n", "{\"message\":\"slow down\"}", 23);
        return send_response(fd, 200, NULL, "ok", 2);
    }
    if (strcmp(path, "/limited-body") == 0) {
        const char *b = "{\"message\":\"API rate limit exceeded.\",\"retry_after_seconds\":0.4}";
        if (nth == 1)
            return send_response(fd, 429, NULL, b, strlen(b));
        return send_response(fd, 200, NULL, "ok", 2);
    }
    if (strcmp(path, "/slow") == 0) {
        usleep(300000);
        return send_response(fd, 200, NULL, "slow", 4);
    }
    if (strcmp(path, "/cp1251") == 0) /* a gateway's page in windows-1251: "Ошибка шлюза" */
        return send_response(fd, 404, "Content-Type: text/html; charset=windows-1251\r\n",
                             "\xCE\xF8\xE8\xE1\xEA\xE0 \xF8\xEB\xFE\xE7\xE0", 12);
    if (strcmp(path, "/missing") == 0)
        return send_response(fd, 404, NULL, "not here", 8);
    if (strcmp(path, "/cut") == 0) {
        char *b = pattern_body(CUT_BODY_LEN);
        bool ok;
        if (nth == 1) {
            char head[128];
            int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
                             CUT_BODY_LEN);
            fake_http_send_all(fd, head, (size_t)n);
            fake_http_send_all(fd, b, CUT_BODY_LEN / 2);
            ok = false; /* close before the announced length */
        } else {
            ok = send_response(fd, 200, NULL, b, CUT_BODY_LEN);
        }
        free(b);
        return ok;
    }
    if (strcmp(path, "/gzip") == 0) {
        unsigned char z[8192];
        size_t n = gzip_text(z, sizeof z);
        return send_response(fd, 200, "Content-Encoding: gzip\r\n", z, n);
    }
    if (strncmp(path, "/n/", 3) == 0) {
        pthread_mutex_lock(&S.mu);
        if (++S.inflight > S.max_inflight)
            S.max_inflight = S.inflight;
        pthread_mutex_unlock(&S.mu);
        usleep(100000);
        pthread_mutex_lock(&S.mu);
        S.inflight--;
        pthread_mutex_unlock(&S.mu);
        char b[64];
        int n = snprintf(b, sizeof b, "item %s", path + 3);
        return send_response(fd, 200, NULL, b, (size_t)n);
    }
    if (strcmp(path, "/redirect-other") == 0) {
        char h[128];
        snprintf(h, sizeof h, "Location: http://localhost:%d/landing-other\r\n", S.port);
        return send_response(fd, 302, h, "", 0);
    }
    if (strcmp(path, "/redirect-same") == 0)
        return send_response(fd, 302, "Location: /landing-same\r\n", "", 0);
    if (strncmp(path, "/landing", 8) == 0)
        return send_response(fd, 200, NULL, "landed", 6);
    if (strcmp(path, "/echo") == 0) {
        char b[512];
        int n = snprintf(b, sizeof b, "%s %.*s", r->method, (int)body_len, body);
        return send_response(fd, 200, NULL, b, (size_t)n);
    }
    if (strncmp(path, "/to-other/", 10) == 0) { /* /to-other/307 → the other origin */
        char h[160];
        snprintf(h, sizeof h, "Location: http://127.0.0.1:%d/steal\r\n", S.other_port);
        return send_response(fd, atoi(path + 10), h, "", 0);
    }
    if (strncmp(path, "/to-echo/", 9) == 0) { /* /to-echo/303 → /echo on this origin */
        char h[160];
        snprintf(h, sizeof h, "Location: http://127.0.0.1:%d/echo?via=%.8s\r\n", S.port, path + 9);
        return send_response(fd, atoi(path + 9), h, "", 0);
    }
    if (strcmp(path, "/loop") == 0)
        return send_response(fd, 307, "Location: /loop\r\n", "", 0);
    if (strcmp(path, "/limited-long") == 0)
        return send_response(fd, 429, "Retry-After: 3600\r\n", "{}", 2);
    if (strcmp(path, "/trickle") == 0) { /* a body that never ends */
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n";
        bool ok = fake_http_send_all(fd, head, strlen(head));
        for (int i = 0; ok && i < 600; i++) { /* at most a minute */
            ok = fake_http_send_all(fd, "x", 1);
            usleep(100000);
        }
        return false;
    }
    if (strcmp(path, "/stall") == 0) { /* headers, then silence until the client goes */
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        fake_http_send_all(fd, head, strlen(head));
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 20000);
        return false;
    }
    return send_response(fd, 500, NULL, "no route", 8);
}

/* Logs the request (the n-th for its target), then routes it. */
static bool log_and_route(void *user, int fd, const seen_req *req, const char *body,
                          size_t body_len)
{
    (void)user;
    int nth = 1;
    pthread_mutex_lock(&S.mu);
    for (int i = 0; i < S.nlog; i++)
        nth += strcmp(S.log[i].target, req->target) == 0;
    if (S.nlog < MAX_LOG)
        S.log[S.nlog++] = *req;
    pthread_mutex_unlock(&S.mu);
    return route(fd, req, nth, body, body_len);
}

/* The other origin: counts what reaches it and answers 200. */
static bool other_route(void *user, int fd, const seen_req *req, const char *body, size_t body_len)
{
    (void)user;
    (void)req;
    (void)body;
    (void)body_len;
    pthread_mutex_lock(&S.mu);
    S.other_requests++;
    pthread_mutex_unlock(&S.mu);
    return send_response(fd, 200, NULL, "stolen", 6);
}

static int server_start(void)
{
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    S.srv = fake_http_start(log_and_route, NULL);
    S.other = fake_http_start(other_route, NULL);
    if (!S.srv || !S.other)
        return -1;
    S.port = fake_http_port(S.srv);
    S.other_port = fake_http_port(S.other);
    return http_global_init() ? 0 : -1;
}

static int server_stop(void)
{
    fake_http_stop(S.srv);
    fake_http_stop(S.other);
    http_global_term();
    return 0;
}

/* The n-th (1-based) logged request for target, copied; false when absent. */
static bool find_req(const char *target, int nth, seen_req *out)
{
    bool found = false;
    pthread_mutex_lock(&S.mu);
    for (int i = 0; i < S.nlog && !found; i++) {
        if (strcmp(S.log[i].target, target) == 0 && --nth == 0) {
            *out = S.log[i];
            found = true;
        }
    }
    pthread_mutex_unlock(&S.mu);
    return found;
}

static int count_req(const char *target)
{
    int n = 0;
    pthread_mutex_lock(&S.mu);
    for (int i = 0; i < S.nlog; i++)
        n += strcmp(S.log[i].target, target) == 0;
    pthread_mutex_unlock(&S.mu);
    return n;
}

/* ---- client side helpers ---- */

typedef struct {
    buf body;
    int calls;
    int resets;
    fe_rc fail_with; /* on_data returns this (FE_OK = accept) */
    int ends;        /* on_end calls */
    int bad_ends;    /* on_end refuses the body this many times */
} sink_state;

static fe_rc sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    sink_state *s = ctx;
    s->calls++;
    if (s->fail_with != FE_OK)
        return fe_err_set(err, s->fail_with, "consumer says no");
    return buf_append(&s->body, data, len) ? FE_OK : fe_err_set(err, FE_ENOMEM, "sink full");
}

static void sink_reset(void *ctx)
{
    sink_state *s = ctx;
    s->resets++;
    buf_reset(&s->body);
}

/* Judges a complete body: the first bad_ends are refused as a wrong shape. */
static fe_rc sink_end(void *ctx, fe_err *err)
{
    sink_state *s = ctx;
    if (s->ends++ < s->bad_ends)
        return fe_err_set(err, FE_EJSON, "unexpected response shape (body %d)", s->ends);
    return FE_OK;
}

static void sink_init(sink_state *s)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->body, 0);
}

static char g_url[512];

static const char *url(const char *target)
{
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d%s", S.port, target);
    return g_url;
}

/* The tests' options: short backoff, short timeouts. */
static void test_opts(http_opts *o, int max_retries)
{
    http_opts_default(o);
    o->backoff.base_us = 10000;
    o->backoff.max_us = 100000;
    o->backoff.max_retries = max_retries;
    o->max_parallel = 3;
    o->connect_timeout_s = 5;
    o->low_speed_time_s = 10;
}

static http_client *client_with(const http_opts *o, ratelimit *rl)
{
    fe_err err = {0};
    http_client *c = http_client_new(o, rl, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

static char g_origin[128];

/* The origin credentials belong to: the test server's. */
static const char *home_origin(void)
{
    snprintf(g_origin, sizeof g_origin, "http://127.0.0.1:%d/api/", S.port);
    return g_origin;
}

static int other_seen(void)
{
    pthread_mutex_lock(&S.mu);
    int n = S.other_requests;
    pthread_mutex_unlock(&S.mu);
    return n + fake_http_accepted(S.other);
}

static http_client *client_par(int max_retries, ratelimit *rl, int max_parallel)
{
    http_opts o;
    test_opts(&o, max_retries);
    o.max_parallel = max_parallel;
    fe_err err = {0};
    http_client *c = http_client_new(&o, rl, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

static http_client *client(int max_retries, ratelimit *rl)
{
    return client_par(max_retries, rl, 3);
}

/* Runs one GET of target into s; returns the result (caller terms it). */
static http_result get(http_client *c, const char *target, sink_state *s, stream_stats *st)
{
    char u[512];
    snprintf(u, sizeof u, "%s", url(target));
    http_request req = {.url = u, .sink = {sink_data, sink_reset, sink_end, s}};
    http_result res;
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run(c, &req, &res, st, &err), FE_OK);
    return res;
}

/* ---- tests ---- */

static void test_body_streamed_in_order(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/ok", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.status, 200);
    CU_ASSERT_EQUAL(res.attempts, 1);
    CU_ASSERT_PTR_NULL(res.error_body);
    char *expect = pattern_body(OK_BODY_LEN);
    CU_ASSERT_EQUAL(s.body.len, OK_BODY_LEN);
    CU_ASSERT_TRUE(s.body.len == OK_BODY_LEN && memcmp(s.body.data, expect, OK_BODY_LEN) == 0);
    CU_ASSERT_EQUAL(res.bytes, OK_BODY_LEN);
    CU_ASSERT_EQUAL(st.requests, 1);
    CU_ASSERT_EQUAL(st.retries, 0);
    CU_ASSERT_EQUAL(st.bytes, OK_BODY_LEN);
    CU_ASSERT_EQUAL(s.resets, 0);
    seen_req r;
    CU_ASSERT_TRUE(find_req("/ok", 1, &r));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.accept_encoding, "gzip"));
    free(expect);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_keepalive_reuses_connection(void)
{
    http_client *c = client(8, NULL);
    pthread_mutex_lock(&S.mu);
    int before = fake_http_accepted(S.srv);
    pthread_mutex_unlock(&S.mu);
    for (int i = 0; i < 5; i++) {
        sink_state s;
        sink_init(&s);
        http_result res = get(c, "/echo", &s, NULL);
        CU_ASSERT_EQUAL(res.rc, FE_OK);
        CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "GET ");
        http_result_term(&res);
        buf_term(&s.body);
    }
    pthread_mutex_lock(&S.mu);
    int opened = fake_http_accepted(S.srv) - before;
    pthread_mutex_unlock(&S.mu);
    CU_ASSERT_EQUAL(opened, 1);
    http_client_free(c);
}

static void test_500_500_200(void)
{
    ratelimit *rl = ratelimit_new(1000, 100);
    http_client *c = client(8, rl);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/flaky", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.status, 200);
    CU_ASSERT_EQUAL(res.attempts, 3);
    CU_ASSERT_EQUAL(st.requests, 3);
    CU_ASSERT_EQUAL(st.retries, 2);
    CU_ASSERT_EQUAL(st.http_429, 0);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "done");
    CU_ASSERT_EQUAL(s.resets, 0); /* the 500 bodies never reached the sink */
    CU_ASSERT_EQUAL(count_req("/flaky"), 3);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
    ratelimit_free(rl);
}

static void test_gives_up_after_retries(void)
{
    http_client *c = client(2, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/always500?page=2&sort=id", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_EQUAL(res.err.code, FE_EHTTP);
    CU_ASSERT_EQUAL(res.status, 500);
    CU_ASSERT_EQUAL(res.attempts, 3);
    CU_ASSERT_EQUAL(st.retries, 2);
    CU_ASSERT_STRING_EQUAL(res.err.msg, "GET /always500?page=2&sort=id: HTTP 500 after 3 attempts: "
                                        "{\"error\":\"boom second line\"}");
    CU_ASSERT_PTR_NOT_NULL(res.error_body);
    CU_ASSERT_STRING_EQUAL(res.error_body, "{\"error\":\"boom\nsecond\tline\"}");
    CU_ASSERT_EQUAL(s.body.len, 0);
    http_result_term(&res);
    CU_ASSERT_PTR_NULL(res.error_body);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_429_retry_after_header(void)
{
    ratelimit *rl = ratelimit_new(1000, 100);
    http_client *c = client(8, rl);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/limited?t=header", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.attempts, 2);
    CU_ASSERT_EQUAL(st.http_429, 1);
    CU_ASSERT_EQUAL(st.retries, 1);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "ok");
    seen_req first = {0}, second = {0};
    CU_ASSERT_TRUE_FATAL(find_req("/limited?t=header", 1, &first));
    CU_ASSERT_TRUE_FATAL(find_req("/limited?t=header", 2, &second));
    CU_ASSERT_TRUE(second.t_us - first.t_us >= SEC);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
    ratelimit_free(rl);
}

static void test_429_retry_after_body(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/limited-body?t=1", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.attempts, 2);
    CU_ASSERT_EQUAL(st.http_429, 1);
    seen_req first = {0}, second = {0};
    CU_ASSERT_TRUE_FATAL(find_req("/limited-body?t=1", 1, &first));
    CU_ASSERT_TRUE_FATAL(find_req("/limited-body?t=1", 2, &second));
    CU_ASSERT_TRUE(second.t_us - first.t_us >= 400000);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_429_pauses_shared_limiter(void)
{
    /* /limited answers 429 at once; /slow holds the second slot for 300 ms, then
     * /n/late gets that slot but must wait for the limiter's pause (1 s). */
    ratelimit *rl = ratelimit_new(1000, 100);
    http_client *c = client_par(8, rl, 2);
    sink_state s[3];
    http_request reqs[3];
    char urls[3][600];
    const char *targets[3] = {"/limited?t=pause", "/slow?t=pause", "/n/late"};
    for (int i = 0; i < 3; i++) {
        sink_init(&s[i]);
        snprintf(urls[i], sizeof urls[i], "%s", url(targets[i]));
        reqs[i] = (http_request){.url = urls[i], .sink = {sink_data, sink_reset, sink_end, &s[i]}};
    }
    http_result res[3];
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run_many(c, reqs, res, 3, NULL, &err), FE_OK);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(res[i].rc, FE_OK);
        http_result_term(&res[i]);
        buf_term(&s[i].body);
    }
    seen_req limited = {0}, late = {0};
    CU_ASSERT_TRUE_FATAL(find_req("/limited?t=pause", 1, &limited));
    CU_ASSERT_TRUE_FATAL(find_req("/n/late", 1, &late));
    CU_ASSERT_TRUE(late.t_us - limited.t_us >= SEC);
    http_client_free(c);
    ratelimit_free(rl);
}

static void test_404_not_retried(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/missing", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_EQUAL(res.status, 404);
    CU_ASSERT_EQUAL(res.attempts, 1);
    CU_ASSERT_EQUAL(st.retries, 0);
    CU_ASSERT_EQUAL(count_req("/missing"), 1);
    CU_ASSERT_STRING_EQUAL(res.err.msg, "GET /missing: HTTP 404: not here");
    CU_ASSERT_STRING_EQUAL(res.error_body, "not here");
    CU_ASSERT_EQUAL(s.calls, 0);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* The error message quotes the body: bytes that are not UTF-8 become '?' there
 * (the message is stored in etl.run_stream and sent as JSON); the body handed
 * over keeps the server's bytes. */
static void test_error_snippet_valid_utf8(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/cp1251", &s, &st);
    CU_ASSERT_EQUAL(res.status, 404);
    CU_ASSERT_STRING_EQUAL(res.err.msg, "GET /cp1251: HTTP 404: ?????? ?????");
    CU_ASSERT_STRING_EQUAL(res.error_body, "\xCE\xF8\xE8\xE1\xEA\xE0 \xF8\xEB\xFE\xE7\xE0");
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_cut_body_retried_with_reset(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_result res = get(c, "/cut?t=1", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.attempts, 2);
    CU_ASSERT_EQUAL(s.resets, 1);
    char *expect = pattern_body(CUT_BODY_LEN);
    CU_ASSERT_EQUAL(s.body.len, CUT_BODY_LEN);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), expect);
    CU_ASSERT_EQUAL(st.bytes, CUT_BODY_LEN + CUT_BODY_LEN / 2);
    free(expect);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_gzip_decoded(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    http_result res = get(c, "/gzip", &s, NULL);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    buf want;
    buf_init(&want, 0);
    for (int i = 0; i < GZIP_TEXT_REPEAT; i++)
        CU_ASSERT_TRUE(buf_puts(&want, GZIP_UNIT));
    CU_ASSERT_EQUAL(s.body.len, want.len);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), buf_cstr(&want));
    buf_term(&want);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_run_many_parallel(void)
{
    enum { N = 10 };
    ratelimit *rl = ratelimit_new(1000, 100);
    http_client *c = client(8, rl);
    pthread_mutex_lock(&S.mu);
    S.max_inflight = 0;
    pthread_mutex_unlock(&S.mu);
    sink_state s[N];
    http_request reqs[N];
    http_result res[N];
    char urls[N][600];
    for (int i = 0; i < N; i++) {
        sink_init(&s[i]);
        char target[32];
        snprintf(target, sizeof target, "/n/%d", i);
        snprintf(urls[i], sizeof urls[i], "%s", url(target));
        reqs[i] = (http_request){.url = urls[i], .sink = {sink_data, sink_reset, sink_end, &s[i]}};
    }
    stream_stats st = {0};
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run_many(c, reqs, res, N, &st, &err), FE_OK);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "item %d", i);
        CU_ASSERT_EQUAL(res[i].rc, FE_OK);
        CU_ASSERT_EQUAL(res[i].attempts, 1);
        CU_ASSERT_STRING_EQUAL(buf_cstr(&s[i].body), want);
        http_result_term(&res[i]);
        buf_term(&s[i].body);
    }
    CU_ASSERT_EQUAL(st.requests, N);
    pthread_mutex_lock(&S.mu);
    int most = S.max_inflight;
    pthread_mutex_unlock(&S.mu);
    CU_ASSERT_TRUE(most <= 3);
    CU_ASSERT_TRUE(most >= 2);
    http_client_free(c);
    ratelimit_free(rl);
}

static void test_auth_dropped_on_cross_host_redirect(void)
{
    http_client *c = client(8, NULL);
    const char *hdrs[] = {"Authorization: Bearer tok-123", "X-Beta-Contact: a@b.c"};
    const char *targets[2] = {"/redirect-other", "/redirect-same"};
    for (int i = 0; i < 2; i++) {
        sink_state s;
        sink_init(&s);
        char u[600];
        snprintf(u, sizeof u, "%s", url(targets[i]));
        http_request req = {.url = u,
                            .headers = hdrs,
                            .nheaders = 2,
                            .no_auth_on_redirect = true,
                            .sink = {sink_data, sink_reset, sink_end, &s}};
        http_result res;
        fe_err err = {0};
        CU_ASSERT_EQUAL(http_run(c, &req, &res, NULL, &err), FE_OK);
        CU_ASSERT_EQUAL(res.rc, FE_OK);
        CU_ASSERT_EQUAL(res.status, 200);
        CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "landed");
        http_result_term(&res);
        buf_term(&s.body);
    }
    seen_req r;
    CU_ASSERT_TRUE_FATAL(find_req("/redirect-other", 1, &r));
    CU_ASSERT_STRING_EQUAL(r.auth, "Bearer tok-123");
    CU_ASSERT_TRUE_FATAL(find_req("/landing-other", 1, &r));
    CU_ASSERT_STRING_EQUAL(r.auth, "");
    char host[64];
    snprintf(host, sizeof host, "localhost:%d", S.port);
    CU_ASSERT_STRING_EQUAL(r.host, host);
    /* the same host keeps it: the check above can see a header when there is one */
    CU_ASSERT_TRUE_FATAL(find_req("/landing-same", 1, &r));
    CU_ASSERT_STRING_EQUAL(r.auth, "Bearer tok-123");
    http_client_free(c);
}

static void test_sink_failure_not_retried(void)
{
    http_client *c = client(8, NULL);
    sink_state s;
    sink_init(&s);
    s.fail_with = FE_EJSON;
    stream_stats st = {0};
    http_result res = get(c, "/ok?t=sink", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_EJSON);
    CU_ASSERT_EQUAL(res.err.code, FE_EJSON);
    CU_ASSERT_EQUAL(res.attempts, 1);
    CU_ASSERT_EQUAL(st.retries, 0);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_STRING_EQUAL(res.err.msg, "GET /ok?t=sink: consumer says no");
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* A 200 whose body the sink judges bad is retried like a 5xx, the sink reset
 * first; when every attempt is bad the result carries the sink's verdict. */
static void test_bad_body_retried(void)
{
    http_client *c = client(3, NULL);
    sink_state s;
    sink_init(&s);
    s.bad_ends = 2;
    stream_stats st = {0};
    http_result res = get(c, "/echo?t=shape", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(res.attempts, 3);
    CU_ASSERT_EQUAL(st.retries, 2);
    CU_ASSERT_EQUAL(s.ends, 3);
    CU_ASSERT_EQUAL(s.resets, 2);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "GET ");
    http_result_term(&res);
    buf_term(&s.body);

    sink_init(&s);
    s.bad_ends = 100;
    res = get(c, "/echo?t=shape", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_EJSON);
    CU_ASSERT_EQUAL(res.attempts, 4);
    CU_ASSERT_EQUAL(s.ends, 4);
    CU_ASSERT_STRING_EQUAL(
        res.err.msg, "GET /echo?t=shape: unexpected response shape (body 4) (after 4 attempts)");
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_connect_refused_retried(void)
{
    /* a port nobody listens on: bound once, then released */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    char u[128];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x", ntohs(a.sin_port));
    http_client *c = client(2, NULL);
    sink_state s;
    sink_init(&s);
    http_request req = {.url = u, .sink = {sink_data, sink_reset, sink_end, &s}};
    http_result res;
    stream_stats st = {0};
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run(c, &req, &res, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_EQUAL(res.status, 0);
    CU_ASSERT_EQUAL(res.attempts, 3);
    CU_ASSERT_EQUAL(st.requests, 3);
    CU_ASSERT_EQUAL(strncmp(res.err.msg, "GET /x: ", 8), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "(after 3 attempts)"));
    CU_ASSERT_PTR_NULL(res.error_body);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

static void test_post_and_patch_bodies(void)
{
    http_client *c = client(8, NULL);
    const char *methods[] = {"POST", "PATCH"};
    const char *hdrs[] = {"Content-Type: application/json"};
    for (int i = 0; i < 2; i++) {
        sink_state s;
        sink_init(&s);
        char u[600];
        snprintf(u, sizeof u, "%s", url("/echo"));
        http_request req = {.method = methods[i],
                            .url = u,
                            .headers = hdrs,
                            .nheaders = 1,
                            .body = "{\"a\":1}",
                            .body_len = 7,
                            .sink = {sink_data, sink_reset, sink_end, &s}};
        http_result res;
        fe_err err = {0};
        CU_ASSERT_EQUAL(http_run(c, &req, &res, NULL, &err), FE_OK);
        CU_ASSERT_EQUAL(res.rc, FE_OK);
        char want[64];
        snprintf(want, sizeof want, "%s {\"a\":1}", methods[i]);
        CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), want);
        http_result_term(&res);
        buf_term(&s.body);
    }
    http_client_free(c);
}

/* ---- credentials stay with their origin ---- */

static http_client *home_client(int max_retries)
{
    http_opts o;
    test_opts(&o, max_retries);
    o.origin_url = home_origin();
    return client_with(&o, NULL);
}

/* Runs one request of method to target (a path on the test server, or an
 * absolute URL) into s. */
static http_result run_req(http_client *c, const char *method, const char *target,
                           const char *const *hdrs, int nh, const char *body, bool body_creds,
                           sink_state *s)
{
    char u[600];
    snprintf(u, sizeof u, "%s", target[0] == '/' ? url(target) : target);
    http_request req = {.method = method,
                        .url = u,
                        .headers = hdrs,
                        .nheaders = nh,
                        .body = body,
                        .body_len = body ? strlen(body) : 0,
                        .body_has_credentials = body_creds,
                        .sink = {sink_data, sink_reset, sink_end, s}};
    http_result res;
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run(c, &req, &res, NULL, &err), FE_OK);
    return res;
}

/* A login answered with 307 to another host: the password is not re-posted
 * there; the other server sees no connection at all. */
static void test_login_307_cross_origin_refused(void)
{
    http_client *c = home_client(8);
    sink_state s;
    sink_init(&s);
    int before = other_seen();
    const char *login = "{\"username\":\"demo\",\"password\":\"pw-SECRET\"}";
    http_result res = run_req(c, "POST", "/to-other/307", NULL, 0, login, true, &s);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_TRUE(res.foreign);
    CU_ASSERT_EQUAL(res.status, 307);
    CU_ASSERT_EQUAL(res.attempts, 1);
    char want[300];
    snprintf(want, sizeof want,
             "POST /to-other/307: HTTP 307 redirect to http://127.0.0.1:%d: refusing to send "
             "credentials there: they belong to http://127.0.0.1:%d",
             S.other_port, S.port);
    CU_ASSERT_STRING_EQUAL(res.err.msg, want);
    CU_ASSERT_EQUAL(other_seen(), before);
    CU_ASSERT_EQUAL(count_req("/to-other/307"), 1);
    http_result_term(&res);

    /* a bearer header (any spelling of its name) on a 308: the same */
    const char *hdrs[] = {"authorization: Bearer tok-1"};
    sink_init(&s);
    res = run_req(c, "GET", "/to-other/308", hdrs, 1, NULL, false, &s);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_TRUE(res.foreign);
    CU_ASSERT_EQUAL(other_seen(), before);
    http_result_term(&res);
    buf_term(&s.body);

    /* without credentials libcurl follows it as before */
    sink_init(&s);
    res = run_req(c, "GET", "/to-other/302", NULL, 0, NULL, false, &s);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), "stolen");
    CU_ASSERT_FALSE(res.foreign);
    CU_ASSERT_TRUE(other_seen() > before);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* Within the origin, redirects of a credentialed request are followed here:
 * 307/308 repeat method and body, 303 and a POST's 302 become a GET without body. */
static void test_same_origin_redirects_followed(void)
{
    http_client *c = home_client(8);
    const char *hdrs[] = {"Authorization: Bearer tok-2"};
    static const struct {
        const char *method, *target, *want;
    } cases[] = {
        {"POST", "/to-echo/307", "POST {\"refreshToken\":\"r\"}"},
        {"PATCH", "/to-echo/308", "PATCH {\"refreshToken\":\"r\"}"},
        {"POST", "/to-echo/303", "GET "},
        {"POST", "/to-echo/302", "GET "},
        {"PATCH", "/to-echo/301", "PATCH {\"refreshToken\":\"r\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sink_state s;
        sink_init(&s);
        stream_stats st = {0};
        char u[600];
        snprintf(u, sizeof u, "%s", url(cases[i].target));
        http_request req = {.method = cases[i].method,
                            .url = u,
                            .headers = hdrs,
                            .nheaders = 1,
                            .body = "{\"refreshToken\":\"r\"}",
                            .body_len = 20,
                            .body_has_credentials = true,
                            .sink = {sink_data, sink_reset, sink_end, &s}};
        http_result res;
        fe_err err = {0};
        CU_ASSERT_EQUAL(http_run(c, &req, &res, &st, &err), FE_OK);
        CU_ASSERT_EQUAL(res.rc, FE_OK);
        CU_ASSERT_EQUAL(res.status, 200);
        CU_ASSERT_EQUAL(res.attempts, 1);
        CU_ASSERT_EQUAL(st.requests, 2); /* the redirect and its target */
        CU_ASSERT_STRING_EQUAL(buf_cstr(&s.body), cases[i].want);
        http_result_term(&res);
        buf_term(&s.body);
    }
    seen_req r;
    CU_ASSERT_TRUE_FATAL(find_req("/echo?via=307", 1, &r));
    CU_ASSERT_STRING_EQUAL(r.auth, "Bearer tok-2");
    CU_ASSERT_STRING_EQUAL(r.method, "POST");

    /* a loop ends after 5 hops */
    sink_state s;
    sink_init(&s);
    http_result res = run_req(c, "GET", "/loop", hdrs, 1, NULL, false, &s);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_STRING_EQUAL(res.err.msg, "GET /loop: more than 5 redirects");
    CU_ASSERT_EQUAL(count_req("/loop"), 6);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* A `next` link to another host: the bearer token is not sent, nothing is. */
static void test_foreign_url_refused_before_sending(void)
{
    http_client *c = home_client(8);
    const char *hdrs[] = {"Accept: application/json", "Authorization: Bearer tok-3"};
    int before = other_seen();
    char next[128];
    snprintf(next, sizeof next, "http://127.0.0.1:%d/v1/orders?page=2", S.other_port);
    sink_state s;
    sink_init(&s);
    stream_stats st = {0};
    http_request req = {
        .url = next, .headers = hdrs, .nheaders = 2, .sink = {sink_data, sink_reset, sink_end, &s}};
    http_result res;
    fe_err err = {0};
    CU_ASSERT_EQUAL(http_run(c, &req, &res, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_TRUE(res.foreign);
    CU_ASSERT_EQUAL(res.attempts, 0);
    CU_ASSERT_EQUAL(st.requests, 0);
    char want[300];
    snprintf(want, sizeof want,
             "GET /v1/orders?page=2: refusing to send credentials to http://127.0.0.1:%d: they "
             "belong to http://127.0.0.1:%d (a `next` link or redirect pointing elsewhere)",
             S.other_port, S.port);
    CU_ASSERT_STRING_EQUAL(res.err.msg, want);
    CU_ASSERT_EQUAL(other_seen(), before);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* Scheme and port are part of the origin; a default port is the same origin
 * whether written or not. */
static void test_scheme_and_port_are_origin(void)
{
    const char *hdrs[] = {"Authorization: Bearer tok-4"};
    char home[128], target[128];
    static const struct {
        const char *home_fmt, *target_fmt;
        bool foreign;
    } cases[] = {
        {"https://127.0.0.1:%d", "http://127.0.0.1:%d/echo", true}, /* http -> https */
        {"http://127.0.0.1:%d", "http://127.0.0.1:%d1/echo", true}, /* another port */
        {"http://127.0.0.1", "http://127.0.0.1:%d/echo", true},     /* port 80 vs ours */
        {"http://LOCALHOST:%d/api", "http://127.0.0.1:%d/echo", true},
        {"HTTP://127.0.0.1:%d/api/", "http://127.0.0.1:%d/echo", false},
        {"http://127.0.0.1:80/api", "http://127.0.0.1/x%d", false}, /* default port */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(home, sizeof home, cases[i].home_fmt, S.port);
        snprintf(target, sizeof target, cases[i].target_fmt, S.port);
        http_opts o;
        test_opts(&o, 0);
        o.origin_url = home;
        o.connect_timeout_s = 1;
        http_client *c = client_with(&o, NULL);
        sink_state s;
        sink_init(&s);
        http_result res = run_req(c, "GET", target, hdrs, 1, NULL, false, &s);
        CU_ASSERT_EQUAL(res.foreign, cases[i].foreign);
        if (cases[i].foreign)
            CU_ASSERT_EQUAL(res.attempts, 0);
        http_result_term(&res);
        buf_term(&s.body);
        http_client_free(c);
    }
    http_opts o;
    test_opts(&o, 0);
    o.origin_url = "ftp://127.0.0.1/";
    fe_err err = {0};
    CU_ASSERT_PTR_NULL(http_client_new(&o, NULL, &err));
    CU_ASSERT_EQUAL(err.code, FE_ECONFIG);
}

/* ---- bounded waits ---- */

typedef struct {
    pthread_mutex_t mu;
    buf lines;
} event_log;

static void on_event(void *ctx, const http_event *ev)
{
    event_log *l = ctx;
    if (ev->kind == HTTP_EV_REQUEST)
        return; /* the debug request lines have their own test */
    pthread_mutex_lock(&l->mu);
    CU_ASSERT_TRUE(buf_printf(&l->lines, "%d %s\n", (int)ev->level, ev->text));
    pthread_mutex_unlock(&l->mu);
}

/* An endless body ends at request_timeout, and is not retried. */
static void test_request_timeout_ends_endless_body(void)
{
    http_opts o;
    test_opts(&o, 3);
    o.request_timeout_us = 1 * SEC;
    http_client *c = client_with(&o, NULL);
    sink_state s;
    sink_init(&s);
    int64_t t0 = ratelimit_now_us();
    http_result res = get(c, "/trickle", &s, NULL);
    int64_t took = ratelimit_now_us() - t0;
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_EQUAL(res.attempts, 1);
    CU_ASSERT_TRUE(took >= SEC - 50000 && took < 3 * SEC); /* libcurl may end it 1 ms early */
    CU_ASSERT_TRUE(s.body.len > 0);
    CU_ASSERT_EQUAL(
        strncmp(res.err.msg, "GET /trickle: no complete answer within request_timeout 1s (", 60),
        0);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* A Retry-After past what is left of retry_total fails at once, saying so. */
static void test_retry_after_beyond_retry_total(void)
{
    http_opts o;
    test_opts(&o, 8);
    o.retry_total_us = 2 * SEC;
    ratelimit *rl = ratelimit_new(1000, 100);
    http_client *c = client_with(&o, rl);
    sink_state s;
    sink_init(&s);
    int64_t t0 = ratelimit_now_us();
    http_result res = get(c, "/limited-long", &s, NULL);
    CU_ASSERT_TRUE(ratelimit_now_us() - t0 < SEC);
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_EQUAL(res.attempts, 1);
    CU_ASSERT_EQUAL(res.status, 429);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "GET /limited-long: HTTP 429: server asked to wait "
                                               "3600 s (Retry-After) but only "));
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "s of retry_total 2s is left"));
    /* the shared limiter pauses, but not for an hour: at most retry_total */
    int64_t wait = ratelimit_try_acquire(rl);
    CU_ASSERT_TRUE(wait > SEC && wait <= 2 * SEC);
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
    ratelimit_free(rl);
}

/* Backoff waits count too: the retries end when retry_total is used up. */
static void test_retry_total_bounds_backoff(void)
{
    http_opts o;
    test_opts(&o, 50);
    o.backoff.base_us = 400000;
    o.backoff.max_us = 400000;
    o.retry_total_us = 1 * SEC;
    http_client *c = client_with(&o, NULL);
    sink_state s;
    sink_init(&s);
    int64_t t0 = ratelimit_now_us();
    http_result res = get(c, "/always500?t=total", &s, NULL);
    int64_t took = ratelimit_now_us() - t0;
    CU_ASSERT_EQUAL(res.rc, FE_EHTTP);
    CU_ASSERT_TRUE(res.attempts >= 2 && res.attempts <= 6);
    CU_ASSERT_TRUE(took < 2 * SEC);
    /* Which wait ran out depends on timing (a slow run, e.g. under valgrind, may end
     * while waiting for the limiter): either way the message says retry_total did. */
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "retry_total 1s used up"));
    http_result_term(&res);
    buf_term(&s.body);
    http_client_free(c);
}

/* Every retry and every rate-limit wait over a second is reported, with the
 * request as path and query. */
static void test_retries_and_waits_reported(void)
{
    event_log l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    buf_init(&l.lines, 0);
    http_opts o;
    test_opts(&o, 8);
    o.on_event = on_event;
    o.event_ctx = &l;
    ratelimit *rl = ratelimit_new(0.8, 1);
    http_client *c = client_with(&o, rl);
    sink_state s;
    sink_init(&s);
    http_result res = get(c, "/flaky?t=events", &s, NULL);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    http_result_term(&res);
    buf_term(&s.body);
    const char *text = buf_cstr(&l.lines);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2 retry 1/8 in "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, " s after HTTP 500 on GET /flaky?t=events\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2 retry 2/8 in "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "s for the rate limit (48 requests/min) before GET /flaky?t=events\n"));
    /* once per attempt, not once per wake-up */
    int waits = 0;
    for (const char *p = text; (p = strstr(p, "for the rate limit")); p++)
        waits++;
    CU_ASSERT_TRUE(waits >= 1 && waits <= 2);
    buf_term(&l.lines);
    http_client_free(c);
    ratelimit_free(rl);
}

/* The debug request events: one per attempt, with the status, the bytes and the
 * URL with its credential-like query values masked; none below debug. */
typedef struct {
    int n, n500, n200;
    int64_t bytes;
    char url[512];
} request_log;

static void on_request(void *ctx, const http_event *ev)
{
    request_log *l = ctx;
    if (ev->kind != HTTP_EV_REQUEST)
        return;
    CU_ASSERT_EQUAL(ev->level, LOG_DEBUG);
    CU_ASSERT_STRING_EQUAL(ev->name, "request");
    CU_ASSERT_STRING_EQUAL(ev->method, "GET");
    CU_ASSERT_TRUE(ev->ms >= 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(ev->text, " -> HTTP "));
    l->n++;
    l->n500 += ev->status == 500;
    l->n200 += ev->status == 200;
    l->bytes += ev->bytes;
    snprintf(l->url, sizeof l->url, "%s", ev->url);
}

static void test_request_events_at_debug(void)
{
    http_opts o;
    test_opts(&o, 8);
    request_log l = {0};
    o.on_event = on_request;
    o.event_ctx = &l;
    http_client *c = client_with(&o, NULL);
    sink_state s;
    log_init(LOG_INFO, NULL, 0);
    sink_init(&s);
    http_result res = get(c, "/flaky?t=req-info&api_token=tok-0123456", &s, NULL);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    http_result_term(&res);
    buf_term(&s.body);
    CU_ASSERT_EQUAL(l.n, 0); /* not at debug: no event */
    log_init(LOG_DEBUG, NULL, 0);
    sink_init(&s);
    stream_stats st = {0};
    res = get(c, "/flaky?t=req-debug&api_token=tok-0123456", &s, &st);
    CU_ASSERT_EQUAL(res.rc, FE_OK);
    CU_ASSERT_EQUAL(l.n, res.attempts);
    CU_ASSERT_EQUAL(l.n500, res.attempts - 1);
    CU_ASSERT_EQUAL(l.n200, 1);
    CU_ASSERT_EQUAL(l.bytes, res.bytes);
    CU_ASSERT_PTR_NOT_NULL(strstr(l.url, "/flaky?t=req-debug&api_token=***"));
    CU_ASSERT_PTR_NOT_NULL(strstr(l.url, "http://127.0.0.1:"));
    http_result_term(&res);
    buf_term(&s.body);
    log_term();
    http_client_free(c);
}

typedef struct {
    fe_stop *stop;
    int64_t after_us;
} stopper;

static void *stop_later(void *arg)
{
    stopper *st = arg;
    usleep((useconds_t)st->after_us);
    fe_stop_request(st->stop, 15);
    return NULL;
}

/* A request stuck on a silent server, or waiting for its next retry, returns
 * FE_EINTR within about a second of the stop flag. */
static void test_stop_interrupts(void)
{
    static const char *const targets[] = {"/stall", "/always500?t=stop"};
    for (int i = 0; i < 2; i++) {
        fe_stop stop = {0};
        http_opts o;
        test_opts(&o, 8);
        o.stop = &stop;
        o.backoff.base_us = o.backoff.max_us = 30 * SEC; /* a long retry wait */
        http_client *c = client_with(&o, NULL);
        sink_state s;
        sink_init(&s);
        char u[600];
        snprintf(u, sizeof u, "%s", url(targets[i]));
        http_request req = {.url = u, .sink = {sink_data, sink_reset, sink_end, &s}};
        http_result res;
        fe_err err = {0};
        stopper st = {&stop, 300000};
        pthread_t th;
        pthread_create(&th, NULL, stop_later, &st);
        int64_t t0 = ratelimit_now_us();
        CU_ASSERT_EQUAL(http_run(c, &req, &res, NULL, &err), FE_EINTR);
        int64_t took = ratelimit_now_us() - t0;
        pthread_join(th, NULL);
        CU_ASSERT_TRUE(took < 1500000);
        CU_ASSERT_EQUAL(err.code, FE_EINTR);
        CU_ASSERT_STRING_EQUAL(err.msg, "interrupted");
        CU_ASSERT_EQUAL(res.rc, FE_EINTR);
        char want[64];
        snprintf(want, sizeof want, "GET %s: interrupted", targets[i]);
        CU_ASSERT_STRING_EQUAL(res.err.msg, want);
        http_result_term(&res);
        buf_term(&s.body);

        /* set before the call: nothing is sent */
        int n = count_req("/echo?t=stopped");
        sink_init(&s);
        snprintf(u, sizeof u, "%s", url("/echo?t=stopped"));
        CU_ASSERT_EQUAL(http_run(c, &req, &res, NULL, &err), FE_EINTR);
        CU_ASSERT_EQUAL(count_req("/echo?t=stopped"), n);
        http_result_term(&res);
        buf_term(&s.body);

        /* http_sleep wakes too */
        CU_ASSERT_EQUAL(http_sleep(c, 60 * SEC, &err), FE_EINTR);
        http_client_free(c);
    }
    http_client *c = client(0, NULL);
    fe_err err = {0};
    int64_t t0 = ratelimit_now_us();
    CU_ASSERT_EQUAL(http_sleep(c, 1200000, &err), FE_OK);
    CU_ASSERT_TRUE(ratelimit_now_us() - t0 >= 1200000);
    http_client_free(c);
}

/* refund_failed_attempts: attempts the server did not act on give their token
 * back, so a 6-per-hour budget is not spent by a 500 or a cut-off answer. */
static void test_refund_failed_attempts(void)
{
    static const char *const targets[] = {"/flaky?t=refund", "/cut?t=refund"};
    for (int i = 0; i < 2; i++) {
        ratelimit *rl = ratelimit_new(1.0 / 3600, 1);
        http_opts o;
        test_opts(&o, 8);
        o.refund_failed_attempts = true;
        o.retry_total_us = 3 * SEC; /* without refunds: fails instead of waiting an hour */
        http_client *c = client_with(&o, rl);
        sink_state s;
        sink_init(&s);
        http_result res = get(c, targets[i], &s, NULL);
        CU_ASSERT_EQUAL(res.rc, FE_OK);
        CU_ASSERT_EQUAL(res.attempts, i == 0 ? 3 : 2);
        /* the answer that counted spent the one token */
        CU_ASSERT_TRUE(ratelimit_try_acquire(rl) > 600 * SEC);
        http_result_term(&res);
        buf_term(&s.body);
        http_client_free(c);
        ratelimit_free(rl);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("http", server_start, server_stop);
    CU_add_test(s, "200 body streamed in order", test_body_streamed_in_order);
    CU_add_test(s, "keep-alive reuses one connection", test_keepalive_reuses_connection);
    CU_add_test(s, "500, 500, 200: three attempts", test_500_500_200);
    CU_add_test(s, "gives up after max retries", test_gives_up_after_retries);
    CU_add_test(s, "429 honours Retry-After header", test_429_retry_after_header);
    CU_add_test(s, "429 honours retry_after_seconds body", test_429_retry_after_body);
    CU_add_test(s, "429 pauses the shared limiter", test_429_pauses_shared_limiter);
    CU_add_test(s, "404 not retried", test_404_not_retried);
    CU_add_test(s, "error snippet is valid UTF-8", test_error_snippet_valid_utf8);
    CU_add_test(s, "cut body retried, sink reset", test_cut_body_retried_with_reset);
    CU_add_test(s, "gzip decoded", test_gzip_decoded);
    CU_add_test(s, "run_many, 10 requests, 3 at once", test_run_many_parallel);
    CU_add_test(s, "Authorization dropped on cross-host redirect",
                test_auth_dropped_on_cross_host_redirect);
    CU_add_test(s, "sink failure not retried", test_sink_failure_not_retried);
    CU_add_test(s, "connection refused retried", test_connect_refused_retried);
    CU_add_test(s, "a 200 judged bad is retried", test_bad_body_retried);
    CU_add_test(s, "POST and PATCH bodies", test_post_and_patch_bodies);
    CU_add_test(s, "login 307 to another origin refused", test_login_307_cross_origin_refused);
    CU_add_test(s, "same-origin redirects followed", test_same_origin_redirects_followed);
    CU_add_test(s, "foreign URL refused before sending", test_foreign_url_refused_before_sending);
    CU_add_test(s, "scheme and port are the origin", test_scheme_and_port_are_origin);
    CU_add_test(s, "request_timeout ends an endless body", test_request_timeout_ends_endless_body);
    CU_add_test(s, "Retry-After beyond retry_total", test_retry_after_beyond_retry_total);
    CU_add_test(s, "retry_total bounds backoff", test_retry_total_bounds_backoff);
    CU_add_test(s, "retries and waits reported", test_retries_and_waits_reported);
    CU_add_test(s, "request events at debug", test_request_events_at_debug);
    CU_add_test(s, "stop flag interrupts", test_stop_interrupts);
    CU_add_test(s, "failed attempts refund their token", test_refund_failed_attempts);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
