/* goflow_unzip: a report file's decoder, gzip or plain, within its caps. See
 * goflow_unzip.h. */
#include "sources/goflow/goflow_unzip.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define INFLATE_CHUNK 65536
/* The ratio cap is judged from this much output on: small files compress well. */
#define UNZIP_RATIO_AFTER (INT64_C(8) << 20)

struct goflow_unzip {
    goflow_bytes_fn out;
    void *ctx;
    int64_t max_bytes;
    long max_ratio;
    int mode; /* 0: first bytes not seen yet, 1: gzip, 2: plain */
    unsigned char head[2];
    size_t nhead;
    z_stream z;
    bool z_live;
    bool ended; /* the last gzip member is complete */
    int64_t in_bytes, out_bytes;
    unsigned char *chunk;
};

goflow_unzip *goflow_unzip_new(int64_t max_bytes, long max_ratio, goflow_bytes_fn out, void *ctx)
{
    goflow_unzip *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    *u = (goflow_unzip){.out = out, .ctx = ctx, .max_bytes = max_bytes, .max_ratio = max_ratio};
    if (!(u->chunk = malloc(INFLATE_CHUNK))) {
        free(u);
        return NULL;
    }
    return u;
}

void goflow_unzip_reset(goflow_unzip *u)
{
    if (u->z_live)
        inflateEnd(&u->z);
    u->z_live = u->ended = false;
    u->mode = 0;
    u->nhead = 0;
    u->in_bytes = u->out_bytes = 0;
}

void goflow_unzip_free(goflow_unzip *u)
{
    if (!u)
        return;
    goflow_unzip_reset(u);
    free(u->chunk);
    free(u);
}

static double mib(int64_t n)
{
    return (double)n / (1024.0 * 1024.0);
}

/* Counts len more plain bytes against the caps, then hands them on. */
static fe_rc unzip_emit(goflow_unzip *u, const char *data, size_t len, fe_err *err)
{
    if (len == 0)
        return FE_OK;
    u->out_bytes += (int64_t)len;
    if (u->max_bytes > 0 && u->out_bytes > u->max_bytes)
        return fe_err_set(err, FE_EJSON,
                          "report file: more than report_max_bytes (%" PRId64
                          " bytes) after decompression; raise report_max_bytes if the file is "
                          "genuine",
                          u->max_bytes);
    if (u->mode == 1 && u->max_ratio > 0 && u->out_bytes >= UNZIP_RATIO_AFTER &&
        u->out_bytes / u->max_ratio > u->in_bytes)
        return fe_err_set(err, FE_EJSON,
                          "report file: %.1f MiB came out of %.3f MiB of gzip, more than "
                          "report_max_ratio (%ld) times: refusing a likely gzip bomb",
                          mib(u->out_bytes), mib(u->in_bytes), u->max_ratio);
    return u->out(u->ctx, data, len, err);
}

/* Inflates data, member after member, until the input is used up and no output
 * is pending. */
static fe_rc unzip_inflate(goflow_unzip *u, const unsigned char *data, size_t len, fe_err *err)
{
    u->in_bytes += (int64_t)len;
    u->z.next_in = (unsigned char *)data;
    u->z.avail_in = (uInt)len;
    for (;;) {
        u->z.next_out = u->chunk;
        u->z.avail_out = INFLATE_CHUNK;
        int zr = inflate(&u->z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return fe_err_set(err, FE_EJSON, "report file: broken gzip data (%s)",
                              u->z.msg ? u->z.msg : "inflate failed");
        size_t produced = INFLATE_CHUNK - u->z.avail_out;
        FE_TRY(unzip_emit(u, (const char *)u->chunk, produced, err));
        if (zr == Z_STREAM_END) {
            u->ended = true;
            if (u->z.avail_in == 0)
                return FE_OK;
            if (inflateReset(&u->z) != Z_OK) /* another gzip member follows */
                return fe_err_set(err, FE_EJSON, "report file: broken gzip member");
            u->ended = false;
            continue;
        }
        if ((u->z.avail_in == 0 && u->z.avail_out > 0) || (zr == Z_BUF_ERROR && produced == 0))
            return FE_OK;
    }
}

/* The first two bytes decide: gzip's magic, or plain text. */
static fe_rc unzip_start(goflow_unzip *u, fe_err *err)
{
    u->mode = (u->nhead == 2 && u->head[0] == 0x1f && u->head[1] == 0x8b) ? 1 : 2;
    if (u->mode == 2)
        return unzip_emit(u, (const char *)u->head, u->nhead, err);
    memset(&u->z, 0, sizeof u->z);
    if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting gzip");
    u->z_live = true;
    return unzip_inflate(u, u->head, u->nhead, err);
}

fe_rc goflow_unzip_feed(goflow_unzip *u, const char *data, size_t len, fe_err *err)
{
    while (u->mode == 0 && len > 0) {
        u->head[u->nhead++] = (unsigned char)*data++;
        len--;
        if (u->nhead == 2)
            FE_TRY(unzip_start(u, err));
    }
    if (len == 0)
        return FE_OK;
    return u->mode == 1 ? unzip_inflate(u, (const unsigned char *)data, len, err)
                        : unzip_emit(u, data, len, err);
}

fe_rc goflow_unzip_finish(goflow_unzip *u, fe_err *err)
{
    if (u->mode == 0 && u->nhead > 0)
        FE_TRY(unzip_start(u, err));
    if (u->mode == 1 && !u->ended)
        return fe_err_set(err, FE_EJSON, "report file: the gzip data ends early");
    return FE_OK;
}
