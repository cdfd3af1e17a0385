/* goflow: the Goflow order-management source (REST at
 * https://SUBDOMAIN.api.goflow.com/v1, Bearer token).
 *
 * Streams (in dependency order): stores (channels), warehouses, products (full
 * reads; kit and group children become recipe rows), orders (status_updated_at
 * ascending from the cursor minus the look-back, plus a re-scan of the last
 * rescan_days by order date), inventory (an asynchronous inventory counts report,
 * optionally joined with the values report: goflow_report.c). Lists are read by
 * goflow_api.c; records become rows in sources/goflow/goflow_map.c. README.md
 * ("Goflow") has the rules per stream and how the rate limits are spent. */
#ifndef FE_GOFLOW_H
#define FE_GOFLOW_H

#include "sources/source.h"

extern const source_def goflow_source;

/* What `flowetl verify` compares (goflow_verify.c). */
#define GOFLOW_NVERIFY 1
extern const verify_def goflow_verify[GOFLOW_NVERIFY];

#endif
