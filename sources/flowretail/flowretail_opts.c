/* flowretail_opts: the Flow Retail options (see flowretail_opts.h). */
#include "sources/flowretail/flowretail_opts.h"

#include <string.h>

#include "core/timeutil.h"
#include "sources/flowretail/flowretail_api.h"

static bool scale_ok(long s)
{
    return s == 1 || s == 10 || s == 100 || s == 1000 || s == 10000;
}

fe_rc flowretail_opts_load(const source_config *conf, flowretail_opts *o, fe_err *err)
{
    memset(o, 0, sizeof *o);
    o->page_size = config_int_or(conf, "page_size", FLOWRETAIL_PAGE_SIZE_MAX);
    o->amount_scale = config_int_or(conf, "amount_scale", 100);
    o->quantity_scale = config_int_or(conf, "quantity_scale", 100);
    if (!config_duration(conf, "lookback", &o->lookback_us))
        o->lookback_us = 2 * 3600 * TIME_US_PER_SEC;
    if (!config_duration(conf, "full_read_every", &o->full_read_every_us))
        o->full_read_every_us = 86400 * TIME_US_PER_SEC;
    if (o->page_size < 1 || o->page_size > FLOWRETAIL_PAGE_SIZE_MAX)
        return fe_err_set(err, FE_ECONFIG, "[source.%s] page_size must be 1..%d", conf->name,
                          FLOWRETAIL_PAGE_SIZE_MAX);
    if (!scale_ok(o->amount_scale) || !scale_ok(o->quantity_scale))
        return fe_err_set(err, FE_ECONFIG,
                          "[source.%s] amount_scale and quantity_scale must be 1, 10, 100, 1000 "
                          "or 10000",
                          conf->name);
    return FE_OK;
}

bool flowretail_timezone_configured(const source_config *conf)
{
    for (size_t i = 0; i < conf->nkv; i++)
        if (strcmp(conf->kv[i].key, "timezone") == 0)
            return true;
    return false;
}
