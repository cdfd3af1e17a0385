/* flowretail_check: `flowetl check` for Flow Retail: the tenant, the product count,
 * one product and one stock item with their raw and scaled values, so that the user
 * confirms amount_scale, quantity_scale, the currency and the time zone. */
#ifndef FE_FLOWRETAIL_CHECK_H
#define FE_FLOWRETAIL_CHECK_H

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "extract/http.h"

/* The source's check callback (source_def.check): state is the flowretail_api open()
 * made, or NULL (one is made and freed here). Appends human lines to out. */
fe_rc flowretail_check(const source_config *conf, http_client *http, void *state, buf *out,
                       fe_err *err) FE_MUST_CHECK;

#endif
