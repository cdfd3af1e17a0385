#!/usr/bin/env bash
# Flow Retail: a full load equals the sandbox truth; a second run changes nothing
# (every stream: inserted = updated = 0); `flowetl check` shows the tenant and a
# sample product with raw and scaled values; a wrong token fails cleanly.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test

pg_start
sandbox_start --scale 0.3
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_stderr_contains "full read of products" "the first products read is a full read"
assert_truth_matches "full load matches the truth"
assert_eq "NOK" "$(sql "select distinct currency from dw.dim_product p join dw.dim_source s
                       using (source_key) where s.name = '$SOURCE' and not p.is_inferred and p.product_key <> 0")" \
    "list prices carry the tenant's currency"
assert_eq "demo" "$(sql "select account from dw.dim_source where name = '$SOURCE'")" \
    "dim_source.account is the tenant"
assert_eq "0" "$(sql "select count(*) from etl.reject")" "no rejects"

flowetl run
assert_exit 0 "second run exits 0"
for stream in "${FLOWRETAIL_STREAMS[@]}"; do
    assert_eq "0 0" "$(stream_stat "$SOURCE.$stream" "inserted || ' ' || updated")" \
        "re-run of $stream inserts and updates nothing"
done
assert_truth_matches "re-run still matches the truth"

flowetl check
assert_exit 0 "check exits 0"
assert_stdout_contains "currency NOK, time zone Europe/Oslo" "check shows the tenant"
assert_stdout_contains "recommendedRetailPrice raw " "check shows a raw price"
assert_stdout_contains "(/ 100)" "check shows the scale"

sed -i 's/^token = .*/token = wrong-token/' "$CONF"
flowetl run
assert_exit 1 "a refused token fails the run"
assert_stderr_contains "integration token was refused" "the reason names the token"

finish
