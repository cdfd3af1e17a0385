#!/usr/bin/env bash
# Flowwow: a full load matches the sandbox's truth (and the exact-money query of
# the issue); a second run changes nothing; after sandbox change steps (new
# orders, status changes on recent days, products removed and added, stock
# changes) an incremental run matches the new truth, marks removed products
# deleted and reads only the re-scan window; buyers without a phone land on the
# unknown customer; `check` and `status` know the source.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowwow
SOURCE=flowwow_test

pg_start
sandbox_start --scale 0.2
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"

money=$(sql "select s.system, sum(o.total) from dw.fact_order o
               join dw.dim_source s using (source_key) group by 1" |
    awk -F'\t' '$1 == "flowwow" { print $2 }')
assert_eq "$(truth flowwow | awk -F'\t' '$2 == "orders.total" { print $3 }')" "$money" \
    "sum(fact_order.total) of flowwow equals the truth exactly"

no_customer=$(truth flowwow | awk -F'\t' '$2 == "orders.no_customer" { print $3 }')
assert_gt "$no_customer" 0 "the sandbox has orders whose buyer has no phone"
assert_eq 0 "$(sql "select count(*) from dw.dim_customer c join dw.dim_source s using (source_key)
                    where s.name = '$SOURCE' and c.customer_key <> 0
                      and (c.phone is null or c.customer_id <> 'phone:' || c.phone
                           or c.phone !~ '^\+[0-9]{5,20}$')")" \
    "every customer is phone:+<digits> with its normalised phone"
assert_eq 0 "$(sql "select count(*) from (select phone from dw.dim_customer c
                    join dw.dim_source s using (source_key) where s.name = '$SOURCE'
                    and c.customer_key <> 0 group by phone having count(*) > 1) x")" \
    "one customer row per phone, however the orders spell it"
full_orders=$(stream_stat "$SOURCE.orders" records)
full_requests=$(stream_stat "$SOURCE.orders" requests)

cursor() {
    sql "select ss.cursor::text from etl.sync_state ss join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and ss.stream = 'orders'"
}
assert_eq '{"day": "2026-01-05"}' "$(cursor | sed 's/{"day":"/{"day": "/')" \
    "the orders cursor is the last day read in full (end_date)"

flowetl run
assert_exit 0 "second run exits 0"
run=$(last_run_id)
changed=$(sql "select coalesce(string_agg(stream || ' +' || inserted || ' ~' || updated, ', '), '')
                 from etl.run_stream where run_id = $run and (inserted <> 0 or updated <> 0)")
assert_eq "" "$changed" "the second run inserted and updated nothing"
# The full load pages whole lists (a few requests); the second run reads the
# re-scan window per day: 15 days x 4 shops, 3 shop lists, 2025-12-31's second page.
assert_le "$full_requests" 20 "the full load pages the whole lists"
assert_le "$(stream_stat "$SOURCE.orders" requests)" 64 \
    "the second run re-scans rescan_days only"
assert_truth_matches "still matches the truth after the second run"

sandbox_post "/_sandbox/advance?steps=3" >"$T/changes.txt"
note "$(grep flowwow "$T/changes.txt")"
changes() {
    awk -F'\t' -v m="changes.flowwow_$1" '$2 == m { print $3 + 0 }' "$T/changes.txt"
}
assert_gt "$(changes orders_created)" 0 "the sandbox created orders"
assert_gt "$(changes orders_status_changed)" 0 "the sandbox changed order statuses"
assert_gt "$(changes products_deleted)" 0 "the sandbox removed products"

flowetl run
assert_exit 0 "incremental run exits 0"
assert_truth_matches "incremental load matches the new truth"
deleted=$(sql "select count(*) from dw.dim_product p join dw.dim_source s using (source_key)
                where s.name = '$SOURCE' and p.is_deleted")
assert_eq "$(changes products_deleted)" "$deleted" "removed products are marked is_deleted"
inc_orders=$(stream_stat "$SOURCE.orders" records)
assert_le $((inc_orders * 2)) "$full_orders" "the incremental run reads far fewer orders"

flowetl check
assert_exit 0 "check exits 0"
assert_stdout_contains "token ok: 4 shops" "check counts the shops"
assert_stdout_contains "line_sum_is_total" "check names the line money setting"

flowetl status
assert_exit 0 "status exits 0"
for s in "${FLOWWOW_STREAMS[@]}"; do
    assert_stdout_contains "$s" "status mentions $s"
done

finish
