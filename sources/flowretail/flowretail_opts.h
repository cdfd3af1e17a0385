/* flowretail_opts: the Flow Retail options a stream or the check reads once from
 * the config. */
#ifndef FE_FLOWRETAIL_OPTS_H
#define FE_FLOWRETAIL_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/err.h"

typedef struct {
    long page_size;
    long amount_scale, quantity_scale;
    int64_t lookback_us;
    int64_t full_read_every_us; /* products: 0 = every run */
} flowretail_opts;

/* Reads and checks the options (page_size within the API's limit, scales a power of
 * ten up to 10000); FE_ECONFIG naming the section otherwise. Holds no memory. */
fe_rc flowretail_opts_load(const source_config *conf, flowretail_opts *o,
                           fe_err *err) FE_MUST_CHECK;

/* True when the file sets `timezone` (its default UTC is rarely a tenant's zone). */
bool flowretail_timezone_configured(const source_config *conf);

#endif
