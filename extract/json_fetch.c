/* json_fetch: the http_sink that feeds a json_stream. See json_fetch.h. */
#include "extract/json_fetch.h"

#include <stdlib.h>

struct json_fetch {
    json_stream *js;
    json_fetch_spec spec; /* paths are json_stream's copies; not used after new */
};

fe_rc json_fetch_feed(json_fetch *jf, const char *data, size_t len, fe_err *err)
{
    if (!jf->spec.quiet)
        return json_stream_feed(jf->js, data, len, err);
    /* The parser's message could quote the body (tokens): a fixed one instead. */
    fe_err ignored;
    fe_rc rc = json_stream_feed(jf->js, data, len, &ignored);
    if (rc == FE_ENOMEM)
        return fe_err_set(err, FE_ENOMEM, "out of memory reading a %s", jf->spec.quiet);
    if (rc != FE_OK)
        return fe_err_set(err, FE_EJSON, "%s is not valid JSON", jf->spec.quiet);
    return FE_OK;
}

/* A parse or callback failure aborts the transfer (not retried); http reports it
 * with the request. */
static fe_rc sink_data(void *ctx, const char *data, size_t len, fe_err *err)
{
    return json_fetch_feed(ctx, data, len, err);
}

static void sink_reset(void *ctx)
{
    json_fetch_reset(ctx);
}

/* The whole 2xx body: complete JSON, then the caller's judge. */
static fe_rc sink_end(void *ctx, fe_err *err)
{
    json_fetch *jf = ctx;
    if (json_stream_finish(jf->js, err) != FE_OK)
        return FE_EJSON;
    return jf->spec.on_end ? jf->spec.on_end(jf->spec.user, jf->js, err) : FE_OK;
}

static fe_rc on_doc_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    json_fetch *jf = ctx;
    return jf->spec.on_record ? jf->spec.on_record(jf->spec.user, which, rec, err) : FE_OK;
}

json_fetch *json_fetch_new(const json_fetch_spec *spec)
{
    json_fetch *jf = calloc(1, sizeof *jf);
    if (!jf)
        return NULL;
    jf->spec = *spec;
    jf->spec.paths = NULL;
    jf->js = json_stream_new(spec->paths, spec->npaths, spec->allow_multiple,
                             spec->max_record_bytes, on_doc_record, jf);
    if (!jf->js) {
        free(jf);
        return NULL;
    }
    return jf;
}

void json_fetch_free(json_fetch *jf)
{
    if (!jf)
        return;
    json_stream_free(jf->js);
    free(jf);
}

http_sink json_fetch_sink(json_fetch *jf)
{
    return (http_sink){.on_data = sink_data,
                       .on_reset = sink_reset,
                       .on_end = jf->spec.quiet ? NULL : sink_end,
                       .ctx = jf};
}

void json_fetch_reset(json_fetch *jf)
{
    json_stream_reset(jf->js);
    if (jf->spec.on_reset)
        jf->spec.on_reset(jf->spec.user);
}

fe_rc json_fetch_finish(json_fetch *jf, fe_err *err)
{
    return json_stream_finish(jf->js, err);
}

const json_stream *json_fetch_stream(const json_fetch *jf)
{
    return jf->js;
}

fe_rc json_fetch_require(const json_stream *js, int which, json_shape want, const char *msg,
                         fe_err *err)
{
    if (json_stream_shape(js, which) == want)
        return FE_OK;
    return fe_err_set(err, FE_EJSON, "%s", msg);
}

fe_rc json_fetch_run(json_fetch *jf, http_client *http, const http_request *req, http_result *res,
                     stream_stats *stats, fe_err *err)
{
    http_request r = *req;
    r.sink = json_fetch_sink(jf);
    json_fetch_reset(jf);
    return http_run(http, &r, res, stats, err);
}

fe_rc json_fetch_get(json_fetch *jf, http_client *http, const http_request *req,
                     stream_stats *stats, fe_err *err)
{
    http_result res = {0};
    fe_rc rc = json_fetch_run(jf, http, req, &res, stats, err);
    if (rc == FE_OK && res.rc != FE_OK) {
        *err = res.err;
        rc = res.rc;
    }
    http_result_term(&res);
    return rc;
}
