/* source: helpers every source module shares (progress lines, rejects). */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>

#include "../core/log.h"

void stream_progress(stream_ctx *ctx)
{
    int64_t now = ratelimit_now_us();
    if (ctx->progress_every_us <= 0 || now - ctx->last_progress_us < ctx->progress_every_us)
        return;
    ctx->last_progress_us = now;
    double secs = (double)(now - ctx->started_us) / 1e6;
    double rate = secs > 0 ? (double)ctx->stats->records / secs : 0.0;
    log_info(ctx->logctx,
             "%" PRId64 " pages, %" PRId64 " records, %.0f rec/s, %" PRId64 " requests (%" PRId64
             " retries, %" PRId64 " 429s)",
             ctx->stats->pages, ctx->stats->records, rate, ctx->stats->requests,
             ctx->stats->retries, ctx->stats->http_429);
}

fe_rc stream_reject(stream_ctx *ctx, const json_rec *rec, const char *raw, const char *record_id,
                    const char *reason, fe_err *err)
{
    char dump[8192];
    dump[0] = '\0';
    if (!raw && rec)
        json_rec_dump(rec, dump, sizeof dump);
    row_reject r = {.record_id = record_id, .reason = reason, .raw = raw ? raw : dump};
    fe_rc rc = loader_put_reject(ctx->ld, &r, err);
    if (rc != FE_OK)
        return rc;
    ctx->stats->rejects++;
    log_warn(ctx->logctx, "rejected record %s: %s", record_id ? record_id : "(no id)", reason);
    if (ctx->stats->rejects > ctx->max_rejects)
        return fe_err_set(err, FE_EREJECTS,
                          "%" PRId64
                          " records rejected, more than max_rejects = %ld; see etl.reject",
                          ctx->stats->rejects, ctx->max_rejects);
    return FE_OK;
}
