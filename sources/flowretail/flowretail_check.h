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

/* source_def.describe_methods: the page size the lists use and the evidence (the
 * page-size probe flowretail_check recorded in state, the flowretail_api; "not
 * probed" without one). */
fe_rc flowretail_describe_methods(const source_config *conf, void *state, buf *out,
                                  fe_err *err) FE_MUST_CHECK;

#endif
