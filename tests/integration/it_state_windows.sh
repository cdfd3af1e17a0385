#!/usr/bin/env bash
# run --from/--to on the other date-windowed streams: Flowwow orders (per creation
# day) and Goflow orders (by order date). A window reads only its days, leaves the
# warehouse equal to the truth and never moves a stored cursor backwards or over a
# gap; Goflow's status-time cursor is never moved by a date window.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="flowwow goflow"

pg_start
sandbox_start --scale 0.2
write_config

# cursor SOURCE: the orders cursor of a source, as jsonb text.
cursor() {
    sql "select ss.cursor::text from etl.sync_state ss join dw.dim_source s using (source_key)
          where s.name = '$1' and ss.stream = 'orders'"
}
# orders_between SOURCE FROM TO: orders of the source ordered on those days (its zone).
orders_between() {
    sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
          where s.name = '$1' and o.order_key <> 0 and not o.is_deleted
            and (o.ordered_at at time zone coalesce(s.timezone, 'UTC'))::date between '$2' and '$3'"
}

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
fw_full=$(stream_stat flowwow_test.orders records)
gf_full=$(stream_stat goflow_test.orders records)

# ---- Flowwow: days
fw_before=$(cursor flowwow_test)
assert_eq '{"day": "2026-01-05"}' "$fw_before" "flowwow's cursor is the last day read (end_date)"
flowetl run flowwow_test goflow_test.stores --from 2025-12-20 --to 2025-12-24
assert_exit 0 "a flowwow window exits 0"
assert_stderr_contains "skipping the streams without a date window: flowwow_test.shops, flowwow_test.products, goflow_test.stores" \
    "the streams without a window are named on one line"
assert_stderr_contains "reading orders created 2025-12-20 .. 2025-12-24" "it reads exactly the window's days"
fw_window=$(stream_stat flowwow_test.orders records)
assert_gt "$fw_window" 0 "the window has orders"
assert_le "$fw_window" "$((fw_full - 1))" "fewer than the full read"
assert_eq "$(cursor flowwow_test)" "$fw_before" "the cursor is not moved backwards"
assert_truth_matches "the warehouse still matches the truth"

flowetl state set flowwow_test.orders '{"day": "2025-12-01"}' --yes
assert_exit 0 "state set flowwow day"
flowetl run flowwow_test.orders --from 2025-12-20 --to 2025-12-24
assert_eq "$(cursor flowwow_test)" '{"day": "2025-12-01"}' "a window after a gap leaves the cursor"
flowetl run flowwow_test.orders --from 2025-12-02 --to 2026-01-05
assert_exit 0 "a window over the cursor exits 0"
assert_eq "$(cursor flowwow_test)" '{"day": "2026-01-05"}' "it moves the cursor forward to its last day"

# ---- Goflow: order dates; the cursor (status_updated_at) stays
gf_before=$(cursor goflow_test)
read -r gf_from gf_to < <(sql "select min(d), min(d) + 3 from (select (o.ordered_at at time zone 'UTC')::date d
    from dw.fact_order o join dw.dim_source s using (source_key) where s.name = 'goflow_test'
    and o.order_key <> 0) x" | tr '\t' ' ')
expected=$(orders_between goflow_test "$gf_from" "$gf_to")
flowetl run goflow_test.orders --from "$gf_from" --to "$gf_to"
assert_exit 0 "a goflow window exits 0"
gf_window=$(stream_stat goflow_test.orders records)
assert_gt "$gf_window" 0 "the goflow window has orders"
assert_le "$gf_window" "$((gf_full - 1))" "fewer than the full read"
assert_le "$expected" "$gf_window" "every order dated in the window was read"
assert_eq "$(cursor goflow_test)" "$gf_before" "goflow's cursor is not moved by a date window"
assert_truth_matches "the warehouse matches the truth after the windows"

finish
