/* readfloor: the read floor of the benchmark. Downloads every page flowetl's
 * Posiflora full load downloads (login, the dimension lists, the order list
 * sorted by updatedAt, one detail per order with lines and payments) through the
 * same HTTP client (extract/http) and the same streaming parser
 * (extract/json_stream), with the same concurrency (the details of one list page
 * at once, max_parallel transfers), and does nothing with the records. What
 * flowetl spends beyond this is mapping and loading.
 *
 *   readfloor BASE_URL [MAX_PARALLEL]
 *     BASE_URL  e.g. http://127.0.0.1:PORT/posiflora/api (user demo/demo-secret)
 *
 * Prints one line of `name=value` figures on stdout: requests, records, bytes,
 * seconds (wall). Exit 0 on success, 1 on any failure (message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/buf.h"
#include "core/err.h"
#include "extract/http.h"
#include "extract/json_stream.h"

#define PAGE_SIZE 100
#define ID_MAX 64
#define USERNAME "demo"
#define PASSWORD "demo-secret"

/* What the whole run read. */
typedef struct {
    stream_stats stats;
    long long records;
} totals;

/* One document being parsed: the record counter and, for list pages, the ids
 * of the page's records (the detail requests need them). */
typedef struct {
    json_stream *js;
    totals *tot;
    long page_records;
    char (*ids)[ID_MAX]; /* PAGE_SIZE slots, or NULL when ids are not wanted */
    char token[2048];    /* the access token, for the login document */
} doc;

static fe_rc on_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    doc *d = ctx;
    (void)err;
    if (which == 0) {
        if (d->ids != NULL && d->page_records < PAGE_SIZE) {
            const char *id = json_rec_str(rec, "id");
            snprintf(d->ids[d->page_records], ID_MAX, "%s", id != NULL ? id : "");
        }
        const char *tok = json_rec_str(rec, "attributes.accessToken");
        if (tok != NULL)
            snprintf(d->token, sizeof d->token, "%s", tok);
        d->page_records++;
    }
    d->tot->records++;
    return FE_OK;
}

static fe_rc sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    doc *d = ctx;
    return json_stream_feed(d->js, data, len, err);
}

static void sink_reset(void *ctx)
{
    doc *d = ctx;
    json_stream_reset(d->js);
    d->page_records = 0;
}

/* A document parser for records at paths[0] (and further paths, counted only).
 * Returns false on allocation failure. */
static bool doc_init(doc *d, totals *tot, const char *const *paths, int npaths)
{
    memset(d, 0, sizeof *d);
    d->tot = tot;
    d->js = json_stream_new(paths, npaths, false, 1 << 20, on_record, d);
    return d->js != NULL;
}

/* Checks one finished transfer and ends its document. Returns false (message on
 * stderr) when it failed. */
static bool doc_done(doc *d, http_result *res, const char *what)
{
    fe_err err = {0};
    bool ok = res->rc == FE_OK && json_stream_finish(d->js, &err) == FE_OK;
    if (!ok)
        fprintf(stderr, "readfloor: %s: HTTP %ld: %s%s\n", what, res->status, res->err.msg,
                err.msg);
    http_result_term(res);
    return ok;
}

static bool login(http_client *hc, const char *base, totals *tot, buf *auth)
{
    static const char *const paths[] = {"data"};
    static const char body[] =
        "{\"data\":{\"type\":\"sessions\",\"attributes\":{\"username\":\"" USERNAME
        "\",\"password\":\"" PASSWORD "\"}}}";
    const char *headers[] = {"Content-Type: application/vnd.api+json"};
    char url[1024];
    doc d;
    http_result res = {0};
    fe_err err = {0};
    bool ok = false;
    snprintf(url, sizeof url, "%s/v1/sessions", base);
    if (!doc_init(&d, tot, paths, 1))
        return false;
    http_request req = {.method = "POST",
                        .url = url,
                        .headers = headers,
                        .nheaders = 1,
                        .body = body,
                        .body_len = sizeof body - 1,
                        .sink = {.on_data = sink_data, .on_reset = sink_reset, .ctx = &d}};
    if (http_run(hc, &req, &res, &tot->stats, &err) != FE_OK) {
        fprintf(stderr, "readfloor: login: %s\n", err.msg);
        http_result_term(&res);
        goto done;
    }
    if (!doc_done(&d, &res, "login"))
        goto done;
    buf_reset(auth);
    ok = d.token[0] != '\0' && buf_puts(auth, "Authorization: Bearer ") && buf_puts(auth, d.token);
    if (!ok)
        fprintf(stderr, "readfloor: login: no access token\n");
done:
    json_stream_free(d.js);
    return ok;
}

/* GET one page into d; false on failure. */
static bool get_page(http_client *hc, const char *url, const char *auth, doc *d, totals *tot)
{
    const char *headers[] = {"Accept: application/vnd.api+json", auth};
    http_request req = {.url = url,
                        .headers = headers,
                        .nheaders = 2,
                        .sink = {.on_data = sink_data, .on_reset = sink_reset, .ctx = d}};
    http_result res = {0};
    fe_err err = {0};
    json_stream_reset(d->js);
    d->page_records = 0;
    if (http_run(hc, &req, &res, &tot->stats, &err) != FE_OK) {
        fprintf(stderr, "readfloor: %s: %s\n", url, err.msg);
        http_result_term(&res);
        return false;
    }
    return doc_done(d, &res, url);
}

/* The details of the ids of one order page, all at once (the client runs
 * max_parallel of them concurrently). */
static bool get_details(http_client *hc, const char *base, const char *auth, char (*ids)[ID_MAX],
                        long n, doc *docs, totals *tot)
{
    static char urls[PAGE_SIZE][1024];
    http_request reqs[PAGE_SIZE] = {0};
    http_result res[PAGE_SIZE];
    const char *headers[] = {"Accept: application/vnd.api+json", auth};
    fe_err err = {0};
    bool ok = true;
    for (long i = 0; i < n; i++) {
        snprintf(urls[i], sizeof urls[i],
                 "%s/v1/orders/%s?include=lines%%2Cpayments%%2Cpayments.method", base, ids[i]);
        json_stream_reset(docs[i].js);
        reqs[i] =
            (http_request){.url = urls[i],
                           .headers = headers,
                           .nheaders = 2,
                           .sink = {.on_data = sink_data, .on_reset = sink_reset, .ctx = &docs[i]}};
        memset(&res[i], 0, sizeof res[i]);
    }
    if (http_run_many(hc, reqs, res, (size_t)n, &tot->stats, &err) != FE_OK) {
        fprintf(stderr, "readfloor: details: %s\n", err.msg);
        ok = false;
    }
    for (long i = 0; i < n; i++)
        ok = doc_done(&docs[i], &res[i], urls[i]) && ok;
    return ok;
}

/* Every page of one list; with details, each order page's details after it. */
static bool read_list(http_client *hc, const char *base, const char *auth, const char *path,
                      const char *query, bool details, totals *tot)
{
    static const char *const list_paths[] = {"data[]", "included[]", "."};
    static const char *const detail_paths[] = {"data", "included[]"};
    static char ids[PAGE_SIZE][ID_MAX];
    static doc docs[PAGE_SIZE];
    char url[1024];
    memset(docs, 0, sizeof docs);
    doc d;
    bool ok = doc_init(&d, tot, list_paths, 3);
    d.ids = details ? ids : NULL;
    for (int i = 0; details && ok && i < PAGE_SIZE; i++)
        ok = doc_init(&docs[i], tot, detail_paths, 2);
    for (long page = 1; ok; page++) {
        snprintf(url, sizeof url, "%s%s?%spage%%5Bnumber%%5D=%ld&page%%5Bsize%%5D=%d", base, path,
                 query, page, PAGE_SIZE);
        ok = get_page(hc, url, auth, &d, tot);
        if (ok && details && d.page_records > 0)
            ok = get_details(hc, base, auth, ids, d.page_records, docs, tot);
        if (d.page_records < PAGE_SIZE)
            break;
    }
    json_stream_free(d.js);
    for (int i = 0; i < PAGE_SIZE; i++)
        json_stream_free(docs[i].js);
    return ok;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: readfloor BASE_URL [MAX_PARALLEL]\n");
        return 2;
    }
    const char *base = argv[1];
    http_opts opts;
    http_opts_default(&opts);
    opts.max_parallel = argc == 3 ? (int)strtol(argv[2], NULL, 10) : 8;
    if (opts.max_parallel < 1)
        opts.max_parallel = 1;
    if (!http_global_init())
        return 1;
    fe_err err = {0};
    totals tot = {0};
    buf auth;
    buf_init(&auth, 0);
    double t0 = now_s();
    http_client *hc = http_client_new(&opts, NULL, &err);
    bool ok = hc != NULL && login(hc, base, &tot, &auth);
    const char *a = buf_cstr(&auth);
    ok = ok && read_list(hc, base, a, "/v1/stores", "", false, &tot) &&
         read_list(hc, base, a, "/v1/categories", "", false, &tot) &&
         read_list(hc, base, a, "/v1/inventory-items", "", false, &tot) &&
         read_list(hc, base, a, "/v1/bouquets", "", false, &tot) &&
         read_list(hc, base, a, "/v1/customers", "", false, &tot) &&
         read_list(hc, base, a, "/v1/orders", "sort=updatedAt&", true, &tot);
    double secs = now_s() - t0;
    if (hc == NULL)
        fprintf(stderr, "readfloor: %s\n", err.msg);
    if (ok)
        printf("requests=%lld records=%lld bytes=%lld seconds=%.3f\n",
               (long long)tot.stats.requests, tot.records, (long long)tot.stats.bytes, secs);
    http_client_free(hc);
    buf_term(&auth);
    http_global_term();
    return ok ? 0 : 1;
}
