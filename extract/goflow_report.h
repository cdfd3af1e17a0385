/* goflow_report: the `inventory` stream of the Goflow source, from the
 * asynchronous inventory reports:
 *   POST /reports/inventory/counts (and /values when inventory_values) -> {id}
 *   -> a checkpoint stores {"pending_report": {...}} in etl.sync_state at once, so
 *      a run that dies while waiting resumes that report instead of spending
 *      another of the generator's 6 requests per hour
 *   -> poll GET /reports/{id} with growing pauses (queued, processing, completed,
 *      error) for at most report_poll_max
 *   -> download completed.file_url: the token goes only to a file_url on the API's
 *      own scheme, host and port; a file_url elsewhere (a pre-signed CDN URL) gets
 *      none, and libcurl drops it on any redirect to another host,
 *      gzip or plain, json, jsonl or csv, parsed while it arrives
 *   -> one fact_inventory_snapshot row per product and warehouse for the day the
 *      report was completed; the cursor becomes {"snapshot_date", "report_id"}.
 * A pending report that answers 404 (reports expire after 12 hours) is replaced
 * by a fresh request. */
#ifndef FE_GOFLOW_REPORT_H
#define FE_GOFLOW_REPORT_H

#include "goflow_api.h"

fe_rc goflow_run_inventory(stream_ctx *ctx, fe_err *err) FE_MUST_CHECK;

/* `flowetl check`: appends the counts (and values) report quota lines
 * (GET /reports/quotas/{type}) to out. */
fe_rc goflow_check_quotas(http_client *http, const goflow_opts *o, buf *out,
                          fe_err *err) FE_MUST_CHECK;

#endif
