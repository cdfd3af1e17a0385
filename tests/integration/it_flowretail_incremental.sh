#!/usr/bin/env bash
# Flow Retail: after a full load and three sandbox change steps (new products,
# price changes, stock changes, removed products) a run reads only the products
# that changed (newest first, down to the cursor) and the warehouse matches the
# new truth: removed products are marked deleted by the categories full read.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test
# The incremental read stops after the page that reaches the cursor.
PAGE=20

pg_start
sandbox_start --scale 0.5
LOOKBACK=0s write_config "page_size = $PAGE"

flowetl init
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
full_products=$(stream_stat "$SOURCE.products" records)

sandbox_post "/_sandbox/advance?steps=3" >"$T/changes.txt"
note "$(grep flowretail "$T/changes.txt")"
changed() {
    awk -F'\t' -v re="$1" '$2 ~ re { n += $3 } END { print n + 0 }' "$T/changes.txt"
}
changed_products=$(changed '^changes\.flowretail_products_(created|updated)')
removed=$(changed '^changes\.flowretail_products_removed')
assert_gt "$removed" 0 "the sandbox removed some products"

flowetl run
assert_exit 0 "incremental run exits 0"
assert_stderr_contains "reading products with lastModifiedAt >=" "products are read incrementally"
assert_truth_matches "incremental load matches the new truth"
inc_products=$(stream_stat "$SOURCE.products" records)
assert_le "$inc_products" $((changed_products + PAGE)) "products read <= changed + one page"
assert_le $((inc_products * 5)) "$full_products" "products read is far below the full count"
assert_eq "$removed" "$(sql "select count(*) from dw.dim_product p join dw.dim_source s
                             using (source_key) where s.name = '$SOURCE' and p.is_deleted")" \
    "every removed product is marked deleted"

flowetl run
assert_exit 0 "third run exits 0"
for stream in "${FLOWRETAIL_STREAMS[@]}"; do
    assert_eq "0 0" "$(stream_stat "$SOURCE.$stream" "inserted || ' ' || updated")" \
        "re-run of $stream inserts and updates nothing"
done
assert_truth_matches "re-run still matches the truth"

finish
