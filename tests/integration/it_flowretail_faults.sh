#!/usr/bin/env bash
# Flow Retail under faults: 429s with Retry-After, bursts of 500s and cut-off
# bodies are retried and the load still equals the truth; a malformed page fails
# its stream only (its checkpoint rolls back, the other streams load), and the
# next clean run repairs it.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test

pg_start
sandbox_start --scale 0.2
write_config "page_size = 25" "retry_base_ms = 10" "retry_max = 1s"

flowetl init
sandbox_faults "p429=0.1&retry_after=0&p500=0.05&burst500=2&pcut=0.05&seed=7"
flowetl run
assert_exit 0 "run under 429/500/cut faults exits 0"
assert_gt "$(sandbox_stat status_429)" 0 "the sandbox answered some 429s"
assert_gt "$(sandbox_stat status_5xx)" 0 "the sandbox answered some 500s"
assert_gt "$(sandbox_stat cut)" 0 "the sandbox cut some bodies off"
sandbox_faults ""
assert_truth_matches "the load under faults matches the truth"

sandbox_post "/_sandbox/advance?steps=2" >/dev/null
sandbox_faults "malformed=fr_stock"
flowetl run
assert_exit 1 "a malformed stock page fails the run"
assert_stderr_contains "flowretail_test.stock failed" "the stock stream is named"
assert_eq "failed" "$(stream_stat "$SOURCE.stock" status)" "etl.run_stream says stock failed"
assert_eq "succeeded" "$(stream_stat "$SOURCE.products" status)" "products still loaded"
sandbox_faults ""
flowetl run
assert_exit 0 "the clean run exits 0"
assert_truth_matches "after the clean run the warehouse matches the truth"

finish
