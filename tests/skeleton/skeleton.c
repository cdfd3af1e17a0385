/* skeleton: see skeleton.h. */
#include "tests/skeleton/skeleton.h"

#include <stdio.h>

#include "core/buf.h"
#include "extract/json_fetch.h"
#include "load/loader.h"
#include "transform/field.h"

#define EXAMPLE_URL "https://api.example.com/v1"

/* ---- mapping (a real source: NAME_map.c) --------------------------------------- */

fe_rc skeleton_map_store(const json_rec *rec, const row_sink *rows, fe_err *err)
{
    row_store r = {.kind = "store"};
    FE_TRY(field_id(rec, "id", &r.store_id, err));
    FE_TRY(field_text_opt(rec, "name", &r.name, err));
    return field_sink_rc(rows->store(rows->ctx, &r, err), err);
}

/* ---- the stores stream ------------------------------------------------------------ */

typedef struct {
    stream_ctx *ctx;
    const row_sink *rows;
} stores_read;

static fe_rc on_store(void *user, int which, const json_rec *rec, fe_err *err)
{
    stores_read *s = user;
    (void)which;
    fe_rc rc = skeleton_map_store(rec, s->rows, err);
    if (rc == FE_EINVAL)
        rc = stream_reject_mapped(s->ctx, rec, "id", err);
    s->ctx->stats->records++;
    return rc;
}

/* A whole 2xx body counts only as a list (a gateway's `200 {}` is refused and
 * retried like a 5xx): every source judges its pages' shape. */
static fe_rc on_end(void *user, const json_stream *js, fe_err *err)
{
    (void)user;
    return json_fetch_require(js, 0, JSON_AS_ARRAY, "unexpected response shape: not a list", err);
}

/* The request for path with the token, its URL built into url. */
static fe_rc request(stream_ctx *ctx, const char *path, buf *url, const char *headers[1],
                     char *auth, size_t auth_size, http_request *req, fe_err *err)
{
    snprintf(auth, auth_size, "Authorization: Bearer %s", config_str(ctx->conf, "token"));
    headers[0] = auth;
    FE_TRY(source_base_url(ctx->conf, NULL, EXAMPLE_URL, url, err));
    if (!buf_puts(url, path))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    *req = (http_request){.url = buf_cstr(url), .headers = headers, .nheaders = 1};
    return FE_OK;
}

/* One page: the API sends the whole list at once (a paged API runs extract/pager). */
fe_rc skeleton_read_stores(stream_ctx *ctx, const row_sink *rows, fe_err *err)
{
    static const char *const paths[] = {"[]"};
    stores_read s = {.ctx = ctx, .rows = rows};
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 1,
                            .max_record_bytes = 1 << 20,
                            .on_record = on_store,
                            .on_end = on_end,
                            .user = &s};
    json_fetch *jf = json_fetch_new(&spec);
    if (!jf)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    char auth[512];
    const char *headers[1];
    http_request req;
    buf url;
    buf_init(&url, 0);
    fe_rc rc = request(ctx, "/stores", &url, headers, auth, sizeof auth, &req, err);
    if (rc == FE_OK)
        rc = json_fetch_get(jf, ctx->http, &req, ctx->stats, err);
    if (rc == FE_OK)
        ctx->stats->pages++;
    buf_term(&url);
    json_fetch_free(jf);
    return rc;
}

/* A full read: one checkpoint, which marks the stores it did not see deleted. */
static fe_rc run_stores(stream_ctx *ctx, fe_err *err)
{
    char cursor[96];
    row_sink rows = loader_row_sink(ctx->ld);
    load_commit commit = {.cursor = stream_read_at_cursor(cursor, sizeof cursor),
                          .full_read = 1u << STG_STORE};
    FE_TRY(loader_begin(ctx->ld, ctx->source_key, ctx->stream, ctx->run_id, err));
    FE_TRY(skeleton_read_stores(ctx, &rows, err));
    return loader_commit(ctx->ld, &commit, ctx->stats, err);
}

/* ---- source callbacks ------------------------------------------------------------- */

static fe_rc sk_base_url(const source_config *conf, buf *out, fe_err *err)
{
    return source_base_url(conf, NULL, EXAMPLE_URL, out, err);
}

/* No per-run state; the cheap authenticated request is the store list itself. */
static fe_rc sk_open(const source_config *conf, http_client *http, stream_stats *stats,
                     void **state, fe_err *err)
{
    stream_ctx ctx = {.conf = conf, .http = http, .stats = stats};
    char auth[512];
    const char *headers[1];
    http_request req;
    buf url;
    buf_init(&url, 0);
    *state = NULL;
    fe_rc rc = request(&ctx, "/stores", &url, headers, auth, sizeof auth, &req, err);
    if (rc == FE_OK)
        rc = source_probe(http, stats, &req, "GET /stores", "token", err);
    buf_term(&url);
    return rc;
}

static void sk_close(void *state)
{
    (void)state;
}

static fe_rc sk_check(const source_config *conf, http_client *http, void *state, buf *out,
                      fe_err *err)
{
    stream_stats stats = {0};
    (void)state;
    FE_TRY(sk_open(conf, http, &stats, &state, err));
    return buf_puts(out, "  stores: reachable\n") ? FE_OK
                                                  : fe_err_set(err, FE_ENOMEM, "out of memory");
}

/* ---- registration --------------------------------------------------------------- */

static const stream_def skeleton_streams[] = {
    {"stores", run_stores, NULL, NULL}, /* a full read: cursor {"read_at": ...}, no date window */
};

/* Sorted by key; keys of every type (core/config_keys.c) need no entry. */
static const config_key skeleton_keys[] = {
    {"source", "base_url", CK_STRING, EXAMPLE_URL, "API root of the example service.", false, NULL,
     0, 0, CR_URL},
    {"source", "token", CK_SECRET, NULL, "API token (sent as a bearer token).", true, NULL, 0, 0,
     CR_NONE},
};

const source_def skeleton_source = {
    .type = {"skeleton", skeleton_keys, sizeof skeleton_keys / sizeof skeleton_keys[0]},
    .streams = skeleton_streams,
    .nstreams = (int)(sizeof skeleton_streams / sizeof skeleton_streams[0]),
    .base_url = sk_base_url,
    .rate = source_rate_from_conf,
    .open = sk_open,
    .close = sk_close,
    .check = sk_check,
};
