#!/usr/bin/env bash
# Issue 9, item 2 and its "Done when": a poison record among 10,000 costs one row
# in etl.reject, and new orders keep arriving on later runs. The sandbox at scale
# 5 serves 10,020 Goflow orders and, with --poison, three more: one dated in year
# 0000 and one whose line total passes 10^16 (PostgreSQL refuses both: each is one
# reject with its id, reason and raw text), and one with id 0 (the vendor's own
# documentation example: a good order, loaded). The first run loads everything
# else; after the sandbox advances, later runs bring the new orders and no new
# rejects (the poison is not read again); every run is exact against the truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

pg_start
sandbox_start --scale 5 --poison
goflow_fast
write_config

want_rejects=$(hostile_truth goflow.orders.rejects)
reject_ids=$(sandbox_get /_sandbox/truth | awk -F'\t' '$1 == "hostile" && $2 == "goflow.orders.reject_ids" { print $3 }')
orders=$(truth goflow | awk -F'\t' '$2 == "orders.count" { print $3 }')
note "the sandbox serves $orders good orders, $want_rejects poison ones ($reject_ids) and order 0"
assert_eq 2 "$want_rejects" "the truth expects two rejects"

# goflow_rejects: "record_id<TAB>has reason<TAB>has raw" of the orders stream's rejects.
goflow_rejects() {
    sql "select r.record_id, r.reason <> '', coalesce(r.raw, '') <> ''
           from etl.reject r join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and r.stream = 'orders' order by r.record_id"
}

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "the run with poison records exits 0"
assert_truth_matches "everything but the poison is loaded, exactly"
assert_eq "$(tr ',' '\n' <<<"$reject_ids" | sort | sed 's/$/\tt\tt/')" "$(goflow_rejects)" \
    "each poison order is one reject, with its id, reason and raw text"
assert_eq 1 "$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
                    where s.name = '$SOURCE' and o.order_id = '0' and not o.is_deleted")" \
    "the order with id 0 is loaded"
assert_eq "$want_rejects" "$(stream_stat "$SOURCE.orders" rejects)" "etl.run_stream counts the rejects"

# nul_rejects: the inventory stream's rejects for the report row whose product_id
# holds a NUL byte (a reader that cut at the NUL would overwrite the first
# product's stock, and the truth would not match).
nul_rejects() {
    sql "select count(*) from etl.reject r join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and r.stream = 'inventory'
            and r.reason like '%product_id contains a NUL byte%' and coalesce(r.raw, '') <> ''"
}
assert_eq "$(hostile_truth goflow.inventory.rejects)" "$(nul_rejects)" \
    "the json report row with a NUL in product_id is one reject (not one per report), with its raw text"

sandbox_post "/_sandbox/advance?steps=3" >"$T/advance.txt"
created=$(awk -F'\t' '$2 == "changes.goflow_orders_created" { print $3 }' "$T/advance.txt")
before=$(sql "select count(*) from dw.fact_order where source_key = $(source_key)")
flowetl run
assert_exit 0 "the next run exits 0: the poison does not block it"
after=$(sql "select count(*) from dw.fact_order where source_key = $(source_key)")
assert_le "$((before + created))" "$after" "the $created new orders arrived"
assert_truth_matches "the next run is exact"
assert_eq "$want_rejects" "$(goflow_rejects | wc -l)" "no new rejects: the poison is not read again"

# The same row in a CSV report (a raw NUL byte): one more reject (the values
# report's row of the pair is left out, not rejected again), and the stock is
# still exact.
sandbox_post "/_sandbox/advance?steps=2" >/dev/null
nul_before=$(nul_rejects)
GOFLOW_REPORT_FORMAT=csv write_config
flowetl run
assert_exit 0 "a third run (csv reports) exits 0"
assert_truth_matches "the third run is exact"
assert_eq "$((nul_before + 1))" "$(nul_rejects)" "the csv report row with a NUL byte is one reject"

finish
