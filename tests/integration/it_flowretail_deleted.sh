#!/usr/bin/env bash
# Flow Retail deleted products through the products stream alone: its full read
# marks the products it no longer lists (full_read_every = 0: every run); with the
# default interval an incremental run leaves them, and --full-refresh marks them.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test

pg_start
sandbox_start --scale 0.2
CONFIG_EXTRA_flowretail=$'streams = products\nfull_read_every = 0' write_config

deleted() {
    sql "select count(*) from dw.dim_product p join dw.dim_source s using (source_key)
         where s.name = '$SOURCE' and p.is_deleted"
}
live() {
    sql "select count(*) from dw.dim_product p join dw.dim_source s using (source_key)
         where s.name = '$SOURCE' and not p.is_deleted and not p.is_inferred"
}
# The truth has no removal count: add up what the advance answers said.
removed_so_far() {
    awk -F'\t' '$2 == "changes.flowretail_products_removed" { n += $3 } END { print n + 0 }' \
        "$T"/changes*.txt
}

flowetl init
flowetl run
assert_exit 0 "first run exits 0"
assert_eq "0" "$(deleted)" "nothing is deleted after the first run"

sandbox_post "/_sandbox/advance?steps=1" >"$T/changes1.txt"
flowetl run
assert_exit 0 "second run (full read) exits 0"
assert_eq "$(removed_so_far)" "$(deleted)" "the full read marks the removed product"
assert_eq "$(truth flowretail | awk -F'\t' '$2 == "products.count" { print $3 }')" "$(live)" \
    "live products equal the truth"

# Default interval (1 day): the next run is incremental and cannot see removals.
write_config "streams = products"
sandbox_post "/_sandbox/advance?steps=2" >"$T/changes2.txt"
before=$(deleted)
flowetl run
assert_exit 0 "incremental run exits 0"
assert_stderr_contains "reading products with lastModifiedAt" "the run is incremental"
assert_eq "$before" "$(deleted)" "an incremental read marks nothing"
flowetl run --full-refresh
assert_exit 0 "--full-refresh run exits 0"
assert_eq "$(removed_so_far)" "$(deleted)" "--full-refresh marks the removed products"
assert_eq "$(truth flowretail | awk -F'\t' '$2 == "products.count" { print $3 }')" "$(live)" \
    "live products equal the truth again"

finish
