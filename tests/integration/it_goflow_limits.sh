#!/usr/bin/env bash
# Goflow rate limits:
#  - a 429 storm (Retry-After, retried) still ends with the truth and exactly one
#    report per generator per run (a request answered 429 creates no report);
#  - with the sandbox's per-endpoint budgets set (420 lists a minute: a bucket of
#    70 refilled at 7/s; 2 reports an hour), flowetl's limiters set to the same
#    budgets read more pages than the bucket holds without a single 429, while a
#    client with a larger list budget trips the sandbox's limit: a storm of the
#    module's own 429s (retry_after_seconds and Retry-After, whole seconds rounded
#    up), retried no earlier than Retry-After says.
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
# 240 a minute: a bucket of 40 refilled at 4/s, so about ten 429s of
# Retry-After: 1 each (retry_after_seconds 0.25 or less).
goflow_limits list_per_min=240 >/dev/null # a full bucket again
greedy_before=$(sandbox_stat status_429)
limited_before=$(goflow_control limits.429)
GOFLOW_LIST_RATE=60000 write_config "streams = orders"
flowetl run --full-refresh
assert_exit 0 "a greedy run still ends (its 429s are retried)"
assert_gt "$(sandbox_stat status_429)" "$greedy_before" \
    "the same reads without the budget trip the sandbox's limit"
assert_gt "$(($(goflow_control limits.429) - limited_before))" 4 "a storm of the module's own 429s"
assert_eq 0 "$(goflow_control limits.early_retries)" "no request came back before its Retry-After"
assert_truth_matches "the greedy run matches the truth too"

# ---- the module's 429 carries Retry-After: retry_after_seconds rounded up
goflow_limits list_per_min=1 >/dev/null
auth="Authorization: Bearer $GOFLOW_TOKEN"
curl -s -o /dev/null -H "$auth" "$SANDBOX_URL/goflow/v1/stores"
answer=$(curl -s -i -H "$auth" "$SANDBOX_URL/goflow/v1/stores" | tr -d '\r')
status=$(awk 'NR == 1 { print $2 }' <<<"$answer")
header=$(awk -F': ' 'tolower($1) == "retry-after" { print $2 }' <<<"$answer")
body_s=$(sed -n 's/.*"retry_after_seconds":\([0-9.]*\).*/\1/p' <<<"$answer")
assert_eq 429 "$status" "an empty bucket answers 429"
assert_eq "$(awk -v s="$body_s" 'BEGIN { c = int(s); if (c < s) c++; print c }')" "$header" \
    "Retry-After ($header) is retry_after_seconds ($body_s) rounded up"
curl -s -o /dev/null -H "$auth" "$SANDBOX_URL/goflow/v1/stores"
assert_eq 1 "$(goflow_control limits.early_retries)" "a retry before Retry-After is counted"

finish
