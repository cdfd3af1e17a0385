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
 *   -> the file, decompressed, may hold at most report_max_bytes (default 1 GiB)
 *      and, once 8 MiB came out, at most report_max_ratio (default 200) times its
 *      compressed size: a file over either cap fails the stream before anything
 *      of it is committed
 *   -> the whole file must have a report's shape, else it is retried like a 5xx,
 *      then fails the stream with nothing committed: a csv file its header row
 *      (naming product_id and warehouse_id or warehouse_name), a json file a
 *      top-level array; zero rows only when completed.records_count is 0
 *   -> one fact_inventory_snapshot row per product and warehouse for the day the
 *      report was completed; the cursor becomes {"snapshot_date", "report_id"}.
 * A pending report that answers 404 (reports expire after 12 hours) is replaced
 * by a fresh request. A creation that created nothing (5xx, 408, 429, a failed or
 * cut connection) gives its token of the 6-per-hour budget back (the report
 * clients of goflow_state). Polling waits wake every second for the stop flag. */
#ifndef FE_GOFLOW_REPORT_H
#define FE_GOFLOW_REPORT_H

#include "sources/goflow/goflow_api.h"

fe_rc goflow_run_inventory(stream_ctx *ctx, fe_err *err) FE_MUST_CHECK;

#endif
