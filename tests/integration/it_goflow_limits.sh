#!/usr/bin/env bash
# Goflow rate limits:
#  - a 429 storm (Retry-After, retried) still ends with the truth and exactly one
#    report per generator per run (a request answered 429 creates no report);
#  - with the sandbox's per-endpoint budgets set (420 lists a minute: a bucket of
#    70 refilled at 7/s; 2 reports an hour), flowetl's limiters set to the same
#    budgets read more pages than the bucket holds without a single 429, while a
#    client with a larger list budget trips the sandbox's limit (429 with
#    retry_after_seconds, retried).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

pg_start
sandbox_start --scale 0.1
goflow_fast
write_config
flowetl init

# ---- a 429 storm
sandbox_faults "p429=0.15&retry_after=1&seed=7"
flowetl run
assert_exit 0 "a run through a 429 storm exits 0"
sandbox_faults ""
assert_gt "$(sandbox_stat status_429)" 0 "the storm answered 429s"
assert_eq 1 "$(goflow_control reports.created.counts)" "one counts report for the storm run"
assert_eq 1 "$(goflow_control reports.created.values)" "one values report for the storm run"
assert_truth_matches "the storm run matches the truth"

# ---- budgets. Orders in pages of 3: over 75 pages, more than the bucket's 70.
goflow_limits list_per_min=420 reports_per_hour=2 report_polls=1 orders_page_size=3 >/dev/null
GOFLOW_LIST_RATE=420 GOFLOW_REPORT_RATE=2 write_config "streams = orders,inventory"
before=$(sandbox_stat status_429)
flowetl run --full-refresh
assert_exit 0 "a run within 420 lists/min and 2 reports/hour exits 0"
assert_eq "$before" "$(sandbox_stat status_429)" "flowetl caused no 429 within the budget"
assert_gt "$(stream_stat "$SOURCE.orders" pages)" 70 "the orders took more pages than the bucket holds"
assert_truth_matches "the budgeted run matches the truth"
goflow_limits list_per_min=420 >/dev/null # a full bucket again
greedy_before=$(sandbox_stat status_429)
GOFLOW_LIST_RATE=60000 write_config "streams = orders"
flowetl run --full-refresh
assert_exit 0 "a greedy run still ends (its 429s are retried)"
assert_gt "$(sandbox_stat status_429)" "$greedy_before" \
    "the same reads without the budget trip the sandbox's limit"
assert_truth_matches "the greedy run matches the truth too"

finish
