/* posiflora_opts: what a Posiflora stream reads from its context: the source's
 * options (read once per stream from the config) and the session open() made. */
#ifndef FE_POSIFLORA_OPTS_H
#define FE_POSIFLORA_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "sources/posiflora/posiflora_session.h"
#include "sources/source.h"

typedef struct {
    char *base; /* base_url without trailing slashes */
    long page_size;
    char currency[4];
    int64_t lookback_us;
    const char *start_date;   /* "YYYY-MM-DD" or NULL */
    const char *cursor_field; /* updatedAt | modifiedAt */
    bool sort;
    long checkpoint_records; /* <= 0: one checkpoint at the end */
} posiflora_opts;

/* The base_url without trailing slashes (Posiflora has no default), appended to out;
 * FE_ECONFIG when there is none. */
fe_rc posiflora_base_url_into(const source_config *conf, buf *out, fe_err *err) FE_MUST_CHECK;

/* Reads and checks the options; FE_ECONFIG naming the section and key for a bad one.
 * On success the caller frees o with posiflora_opts_term; on failure nothing is held. */
fe_rc posiflora_opts_load(const source_config *conf, posiflora_opts *o, fe_err *err) FE_MUST_CHECK;
/* Frees what posiflora_opts_load allocated; accepts a zeroed o. */
void posiflora_opts_term(posiflora_opts *o);

/* The session the source's open() made (ctx->state); FE_EINVAL when there is none. */
fe_rc posiflora_stream_session(stream_ctx *ctx, posiflora_session **sess,
                               fe_err *err) FE_MUST_CHECK;

#endif
