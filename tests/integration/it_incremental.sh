#!/usr/bin/env bash
# After a full load and two sandbox change steps, a run reads only what changed
# (plus a small boundary slack at the inclusive cursor) and the warehouse matches
# the new truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

# Re-reads at the inclusive lower bound of a cursor (records stamped exactly at it).
SLACK=5

pg_start
sandbox_start --scale 0.5
LOOKBACK=0s write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
full_orders=$(stream_stat "$SOURCE.orders" records)
full_customers=$(stream_stat "$SOURCE.customers" records)

sandbox_post "/_sandbox/advance?steps=2" >"$T/changes.txt"
note "$(cat "$T/changes.txt")"
# Upper bounds of what changed: every change that touches an order (new orders,
# status changes, payments, refunds) and every new or edited customer.
changed() {
    awk -F'\t' -v re="$1" '$2 ~ re { n += $3 } END { print n + 0 }' "$T/changes.txt"
}
changed_orders=$(changed '^changes\.(orders|order_|payments|refunds|returns)')
changed_customers=$(changed '^changes\.customers')
assert_gt "$changed_orders" 0 "the sandbox changed some orders"
assert_gt "$changed_customers" 0 "the sandbox changed some customers"

flowetl run
assert_exit 0 "incremental run exits 0"
assert_truth_matches "incremental load matches the new truth"

inc_orders=$(stream_stat "$SOURCE.orders" records)
inc_customers=$(stream_stat "$SOURCE.customers" records)
assert_le "$inc_orders" $((changed_orders + SLACK)) "orders read <= changed orders + slack"
assert_le $((inc_orders * 10)) "$full_orders" "orders read is far below the full count"
assert_le "$inc_customers" $((changed_customers + SLACK)) \
    "customers read <= changed customers + slack"
assert_le $((inc_customers * 10)) "$full_customers" "customers read is far below the full count"

finish
