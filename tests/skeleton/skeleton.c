/* skeleton: see skeleton.h. */
#include "tests/skeleton/skeleton.h"

#include <stdio.h>

#include "core/buf.h"
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
    json_stream *js;
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

static fe_rc on_data(void *user, const char *data, size_t len, fe_err *err)
{
    return json_stream_feed(((stores_read *)user)->js, data, len, err);
}

static void on_reset(void *user)
{
    json_stream_reset(((stores_read *)user)->js);
}

static fe_rc on_end(void *user, fe_err *err)
{
    return json_stream_finish(((stores_read *)user)->js, err);
}

/* GET path with the token; the body goes to sink (NULL sink: read and dropped, as a
 * probe). */
static fe_rc get(stream_ctx *ctx, const char *path, const http_sink *sink, fe_err *err)
{
    char auth[512];
    buf url;
    buf_init(&url, 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", config_str(ctx->conf, "token"));
    const char *headers[] = {auth};
    fe_rc rc = source_base_url(ctx->conf, NULL, EXAMPLE_URL, &url, err);
    if (rc == FE_OK && !buf_puts(&url, path))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    http_request req = {.url = buf_cstr(&url), .headers = headers, .nheaders = 1};
    if (rc == FE_OK && !sink)
        rc = source_probe(ctx->http, ctx->stats, &req, "GET /stores", "token", err);
    else if (rc == FE_OK) {
        http_result res = {0};
        req.sink = *sink;
        rc = http_run(ctx->http, &req, &res, ctx->stats, err);
        if (rc == FE_OK && res.rc != FE_OK) {
            *err = res.err;
            rc = res.rc;
        }
        http_result_term(&res);
    }
    buf_term(&url);
    return rc;
}

fe_rc skeleton_read_stores(stream_ctx *ctx, const row_sink *rows, fe_err *err)
{
    static const char *const paths[] = {"[]"};
    stores_read s = {.ctx = ctx, .rows = rows};
    s.js = json_stream_new(paths, 1, false, 1 << 20, on_store, &s);
    if (!s.js)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    http_sink sink = {.on_data = on_data, .on_reset = on_reset, .on_end = on_end, .ctx = &s};
    fe_rc rc = get(ctx, "/stores", &sink, err);
    if (rc == FE_OK)
        ctx->stats->pages++;
    json_stream_free(s.js);
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
    *state = NULL;
    return get(&ctx, "/stores", NULL, err);
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
    {"stores", run_stores},
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
