/* posiflora_opts: what a Posiflora stream reads from its context (see posiflora_opts.h). */
#include "sources/posiflora/posiflora_opts.h"

#include <stdlib.h>
#include <string.h>

#include "sources/posiflora/posiflora_pages.h"

fe_rc posiflora_base_url_into(const source_config *conf, buf *out, fe_err *err)
{
    return source_base_url(conf, NULL, "https://ACCOUNT.posiflora.com/api", out, err);
}

static fe_rc opts_currency(const source_config *conf, posiflora_opts *o, fe_err *err)
{
    const char *c = config_str(conf, "currency");
    if (!c)
        c = "RUB";
    for (int i = 0; i < 3; i++) {
        char ch = c[i];
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        if (ch < 'A' || ch > 'Z')
            return fe_err_set(err, FE_ECONFIG,
                              "[source.%s] currency '%.8s' is not an ISO 4217 code", conf->name, c);
        o->currency[i] = ch;
    }
    if (c[3] != '\0')
        return fe_err_set(err, FE_ECONFIG, "[source.%s] currency '%.8s' is not an ISO 4217 code",
                          conf->name, c);
    o->currency[3] = '\0';
    return FE_OK;
}

void posiflora_opts_term(posiflora_opts *o)
{
    free(o->base);
    o->base = NULL;
}

fe_rc posiflora_opts_load(const source_config *conf, posiflora_opts *o, fe_err *err)
{
    buf b;
    fe_rc rc;
    bool sort;

    memset(o, 0, sizeof *o);
    buf_init(&b, 0);
    if ((rc = posiflora_base_url_into(conf, &b, err)) != FE_OK) {
        buf_term(&b);
        return rc;
    }
    o->base = buf_take(&b, NULL);
    o->page_size = config_int_or(conf, "page_size", POSIFLORA_PAGE_SIZE_MAX);
    if (o->page_size < 1 || o->page_size > POSIFLORA_PAGE_SIZE_MAX)
        rc = fe_err_set(err, FE_ECONFIG,
                        "[source.%s] page_size must be 1..%d (Posiflora answers "
                        "422 above %d)",
                        conf->name, POSIFLORA_PAGE_SIZE_MAX, POSIFLORA_PAGE_SIZE_MAX);
    if (rc == FE_OK)
        rc = opts_currency(conf, o, err);
    if (!config_duration(conf, "lookback", &o->lookback_us))
        o->lookback_us = 2 * 3600 * INT64_C(1000000);
    o->start_date = config_str(conf, "start_date");
    if (o->start_date && !*o->start_date)
        o->start_date = NULL;
    o->cursor_field = config_str(conf, "orders_cursor_field");
    if (!o->cursor_field)
        o->cursor_field = "updatedAt";
    if (rc == FE_OK && strcmp(o->cursor_field, "updatedAt") != 0 &&
        strcmp(o->cursor_field, "modifiedAt") != 0)
        rc = fe_err_set(err, FE_ECONFIG,
                        "[source.%s] orders_cursor_field must be updatedAt or modifiedAt",
                        conf->name);
    o->sort = config_bool(conf, "orders_sort", &sort) ? sort : true;
    o->checkpoint_records = config_int_or(conf, "checkpoint_records", 5000);
    if (rc != FE_OK)
        posiflora_opts_term(o);
    return rc;
}

fe_rc posiflora_stream_session(stream_ctx *ctx, posiflora_session **sess, fe_err *err)
{
    *sess = ctx->state;
    if (!*sess)
        return fe_err_set(err, FE_EINVAL, "posiflora: no session (the source was not opened)");
    return FE_OK;
}
