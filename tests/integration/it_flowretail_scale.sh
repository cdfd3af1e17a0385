#!/usr/bin/env bash
# Flow Retail amount_scale: the sandbox tenant demo-major serves the same data with
# money in major units (199.5 instead of 19950). With amount_scale = 1 the load
# equals the truth; with the default (100) every amount is 100 times too small,
# which the truth comparison catches.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test
# shellcheck disable=SC2034 # read by config_section_flowretail (lib_flowretail.sh)
FR_TENANT=demo-major

pg_start
sandbox_start --scale 0.1
write_config
flowetl init
flowetl run
assert_exit 0 "run with the default scale exits 0"
truth flowretail >"$T/truth.txt"
warehouse_truth "$SOURCE" flowretail >"$T/warehouse.txt"
want=$(awk -F'\t' '$2 == "products.list_price" { print $3 }' "$T/truth.txt")
got=$(awk -F'\t' '$2 == "products.list_price" { print $3 }' "$T/warehouse.txt")
check "the default scale divides major units by 100 ($got vs $want)" \
    test "$(sql "select $got * 100 = $want")" = t

write_config "amount_scale = 1"
flowetl run --full-refresh
assert_exit 0 "run with amount_scale = 1 exits 0"
assert_truth_matches "amount_scale = 1 matches the truth"
flowetl check
assert_stdout_contains "(/ 1)" "check shows the configured scale"

finish
