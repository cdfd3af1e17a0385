/* Unit tests for sources/goflow/goflow_report: the report file decoder's caps (a gzip
 * bomb is refused fast, with memory flat), and report creation attempts that
 * created nothing giving their token back (against tests/unit/fake_http). */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/config.h"
#include "sources/source.h"
#include "core/buf.h"
#include "sources/goflow/goflow_report.h"
#include "sources/goflow/goflow_unzip.h"
#include "tests/unit/fake_http.h"

#define MIB (INT64_C(1) << 20)
#define SEC 1000000LL

/* ---- the decoder ---- */

typedef struct {
    int64_t bytes;
    size_t largest; /* biggest piece handed over */
    buf keep;       /* the first bytes, for content checks */
} counter;

static fe_rc count_bytes(void *ctx, const char *data, size_t len, fe_err *err)
{
    counter *c = ctx;
    (void)err;
    c->bytes += (int64_t)len;
    if (len > c->largest)
        c->largest = len;
    size_t room = c->keep.len < 4096 ? 4096 - c->keep.len : 0;
    if (room && !buf_append(&c->keep, data, len < room ? len : room))
        return FE_ENOMEM;
    return FE_OK;
}

/* gzip of prefix followed by `run` bytes of 'a' and suffix, deflated piece by
 * piece (the plain text never exists whole). */
static void gzip_run(buf *out, const char *prefix, int64_t run, const char *suffix)
{
    static char as[1 << 16];
    unsigned char z_out[1 << 16];
    z_stream z;
    bool ok = true;
    memset(as, 'a', sizeof as);
    memset(&z, 0, sizeof z);
    CU_ASSERT_EQUAL_FATAL(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                          Z_OK);
    for (int part = 0; part < 3; part++) {
        int64_t left = part == 1 ? run : (int64_t)strlen(part == 0 ? prefix : suffix);
        while (left > 0 || part == 2) {
            size_t n = part == 1 ? (size_t)(left < (int64_t)sizeof as ? left : (int64_t)sizeof as)
                                 : (size_t)left;
            z.next_in = (Bytef *)(part == 1 ? as : part == 0 ? prefix : suffix);
            z.avail_in = (uInt)n;
            left -= (int64_t)n;
            int flush = part == 2 ? Z_FINISH : Z_NO_FLUSH;
            int zr;
            do {
                z.next_out = z_out;
                z.avail_out = sizeof z_out;
                zr = deflate(&z, flush);
                ok = ok && buf_append(out, z_out, sizeof z_out - z.avail_out);
            } while (z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
            if (part == 2)
                break;
        }
    }
    deflateEnd(&z);
    CU_ASSERT_TRUE(ok);
}

/* Feeds data in pieces of 16 KiB, as a download arrives. */
static fe_rc feed_all(goflow_unzip *u, const buf *data, fe_err *err)
{
    for (size_t off = 0; off < data->len; off += 16384) {
        size_t n = data->len - off < 16384 ? data->len - off : 16384;
        fe_rc rc = goflow_unzip_feed(u, data->data + off, n, err);
        if (rc != FE_OK)
            return rc;
    }
    return goflow_unzip_finish(u, err);
}

/* One giant JSON string that would inflate to 256 MiB: refused after about 8 MiB
 * came out, in a moment, never holding more than one 64 KiB piece. */
static void test_gzip_bomb_refused_fast(void)
{
    buf bomb;
    buf_init(&bomb, 0);
    gzip_run(&bomb, "[{\"product_id\":\"", 256 * MIB, "\"}]");
    CU_ASSERT_TRUE(bomb.len < MIB); /* one byte repeated deflates ~1000:1 */
    counter c = {0};
    buf_init(&c.keep, 0);
    goflow_unzip *u = goflow_unzip_new(INT64_C(1) << 30, 200, count_bytes, &c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(u);
    fe_err err = {0};
    clock_t t0 = clock();
    CU_ASSERT_EQUAL(feed_all(u, &bomb, &err), FE_EJSON);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CU_ASSERT_TRUE(cpu < 2.0);
    /* the piece that passed the cap was not handed on */
    CU_ASSERT_TRUE(c.bytes >= 8 * MIB - 65536 && c.bytes <= 8 * MIB);
    CU_ASSERT_TRUE(c.largest <= 65536);
    CU_ASSERT_EQUAL(strncmp(c.keep.data, "[{\"product_id\":\"aaaa", 20), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than report_max_ratio (200) times"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gzip bomb"));
    goflow_unzip_free(u);
    buf_term(&c.keep);
    buf_term(&bomb);
}

/* The size cap holds for plain files and gzip alike, whatever the ratio. */
static void test_max_bytes(void)
{
    fe_err err = {0};
    counter c = {0};
    buf_init(&c.keep, 0);
    goflow_unzip *u = goflow_unzip_new(2 * MIB, 0, count_bytes, &c);
    char *plain = malloc(MIB);
    memset(plain, ' ', MIB);
    plain[0] = '[';
    fe_rc rc = FE_OK;
    for (int i = 0; i < 3 && rc == FE_OK; i++)
        rc = goflow_unzip_feed(u, plain, MIB, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_EQUAL(c.bytes, 2 * MIB);
    CU_ASSERT_STRING_EQUAL(err.msg, "report file: more than report_max_bytes (2097152 bytes) after "
                                    "decompression; raise report_max_bytes if the file is genuine");
    free(plain);

    buf gz;
    buf_init(&gz, 0);
    gzip_run(&gz, "[", 3 * MIB, "]");
    goflow_unzip_reset(u);
    c.bytes = 0;
    CU_ASSERT_EQUAL(feed_all(u, &gz, &err), FE_EJSON);
    CU_ASSERT_EQUAL(c.bytes, 2 * MIB);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "report_max_bytes"));
    goflow_unzip_free(u);
    buf_term(&gz);
    buf_term(&c.keep);
}

/* Small files come out whole, however well they compress; two gzip members are
 * one file; a gzip file cut short is an error, not a silently shorter file. */
static void test_small_and_multi_member_files(void)
{
    buf gz;
    buf_init(&gz, 0);
    gzip_run(&gz, "[\"", 4 * MIB, "\",");
    gzip_run(&gz, "\"", 10, "\"]");
    counter c = {0};
    buf_init(&c.keep, 0);
    goflow_unzip *u = goflow_unzip_new(INT64_C(1) << 30, 200, count_bytes, &c);
    fe_err err = {0};
    CU_ASSERT_EQUAL(feed_all(u, &gz, &err), FE_OK);
    CU_ASSERT_EQUAL(c.bytes, 4 * MIB + 10 + 7);

    goflow_unzip_reset(u);
    c.bytes = 0;
    buf cut = {.data = gz.data, .len = gz.len / 3};
    CU_ASSERT_EQUAL(feed_all(u, &cut, &err), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "report file: the gzip data ends early");

    goflow_unzip_reset(u);
    c.bytes = 0;
    buf_reset(&c.keep);
    buf plain = {.data = "[1]", .len = 3};
    CU_ASSERT_EQUAL(feed_all(u, &plain, &err), FE_OK);
    CU_ASSERT_EQUAL(c.bytes, 3);
    CU_ASSERT_EQUAL(memcmp(c.keep.data, "[1]", 3), 0);
    goflow_unzip_free(u);
    buf_term(&gz);
    buf_term(&c.keep);
}

/* ---- report creation and the 6-per-hour budget ---- */

static struct {
    pthread_mutex_t mu;
    int creations;
} G = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool send_status(int fd, int status, const char *body)
{
    char head[256];
    int n =
        snprintf(head, sizeof head,
                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 status, strlen(body));
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, body, strlen(body));
}

/* POST /goflow/v1/reports/inventory/counts: a 503, then a cut-off answer, then
 * the report. */
static bool report_route(void *user, int fd, const fake_http_req *req, const char *body,
                         size_t body_len)
{
    (void)user;
    (void)body;
    (void)body_len;
    if (strcmp(req->target, "/goflow/v1/reports/inventory/counts") != 0)
        return send_status(fd, 404, "{}");
    pthread_mutex_lock(&G.mu);
    int nth = ++G.creations;
    pthread_mutex_unlock(&G.mu);
    if (nth == 1)
        return send_status(fd, 503, "{\"error\":\"busy\"}");
    if (nth == 2) {
        const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":";
        fake_http_send_all(fd, head, strlen(head));
        return false; /* cut */
    }
    return send_status(fd, 201, "{\"id\":\"42\",\"status\":\"queued\"}");
}

static fe_rc keep_id(void *user, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    (void)err;
    const char *id = json_rec_str(rec, "id");
    if (id)
        snprintf(user, 16, "%s", id);
    return FE_OK;
}

/* One 503 and one cut connection on creation cost nothing of the budget: the
 * third attempt goes out at once (without refunds it would wait 12 minutes, and
 * fail here against retry_total), and only the created report spends a token. */
static void test_creation_refunds_failed_attempts(void)
{
    fake_http *srv = fake_http_start(report_route, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    char text[512];
    snprintf(text, sizeof text,
             "[warehouse]\ndsn = \n[source.gf]\ntype = goflow\ntoken = tok-abcdef\n"
             "base_url = http://127.0.0.1:%d/goflow/v1\n",
             fake_http_port(srv));
    config *cfg = NULL;
    fe_err err = {0};
    CU_ASSERT_EQUAL_FATAL(config_load_string(text, "t.conf", source_schema(), &cfg, &err), FE_OK);
    const source_config *conf = config_source(cfg, "gf");
    goflow_opts o;
    CU_ASSERT_EQUAL_FATAL(goflow_opts_load(conf, &o, &err), FE_OK);
    http_opts ho; /* the source's client, as source_env makes it from the config */
    http_opts_default(&ho);
    ho.origin_url = o.base;
    ho.backoff.base_us = 50000;
    ho.retry_total_us = 5 * SEC;
    http_client *like = http_client_new(&ho, NULL, &err);
    goflow_state *st = NULL;
    CU_ASSERT_EQUAL_FATAL(goflow_state_new(conf, like, &st, &err), FE_OK);
    char id[16] = "";
    long status = 0;
    stream_stats stats = {0};
    char url[256];
    snprintf(url, sizeof url, "%s/reports/inventory/counts", o.base);
    int64_t t0 = ratelimit_now_us();
    fe_rc rc = goflow_get_object(st->counts_http, &stats, &o, "POST", url, "{}", keep_id, id,
                                 &status, &err);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_TRUE(ratelimit_now_us() - t0 < 4 * SEC);
    CU_ASSERT_EQUAL(status, 201);
    CU_ASSERT_STRING_EQUAL(id, "42");
    CU_ASSERT_EQUAL(stats.requests, 3);
    CU_ASSERT_EQUAL(G.creations, 3);
    /* the report that was created spent the one token of the hour's burst */
    CU_ASSERT_TRUE(ratelimit_try_acquire(st->counts_rl) > 600 * SEC);
    goflow_state_free(st);
    http_client_free(like);
    goflow_opts_term(&o);
    config_free(cfg);
    fake_http_stop(srv);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("goflow_report", fake_http_suite_init, fake_http_suite_term);
    CU_add_test(s, "gzip bomb refused fast", test_gzip_bomb_refused_fast);
    CU_add_test(s, "report_max_bytes", test_max_bytes);
    CU_add_test(s, "small and multi-member files", test_small_and_multi_member_files);
    CU_add_test(s, "creation refunds failed attempts", test_creation_refunds_failed_attempts);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
