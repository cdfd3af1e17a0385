#!/usr/bin/env bash
# kill -9 in the middle of a load loses nothing and duplicates nothing: the next run
# resumes from the last committed checkpoint and the warehouse matches the truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 1 --faults slow_ms=2
# Small checkpoints, so the kill lands after some commits and before others.
write_config "checkpoint_records = 500"

flowetl init
assert_exit 0 "init exits 0"

flowetl_bg killed run
pid=$FE_BG_PID
# Kill as soon as some orders are committed, or after about 2 seconds.
committed=0
for ((i = 0; i < 20 && committed == 0; i++)); do
    sleep 0.1
    committed=$(sql "select count(*) from dw.fact_order where source_key <> 0")
done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    ok "the first run was killed mid-load ($committed orders committed)"
else
    wait "$pid" 2>/dev/null || true
    not_ok "the first run was killed mid-load (it finished first: make it slower)"
fi
note "$(sql "select stream, status, records from etl.run_stream order by run_stream_id")"

cursor=$(sql "select cursor::text from etl.sync_state where stream = 'orders'")
note "orders cursor after the kill: ${cursor:-none}"

flowetl run
assert_exit 0 "the run after kill -9 exits 0"
if ((committed > 0)); then
    # Data and cursor commit together: committed orders imply a cursor to resume from.
    # The re-run reads what was not committed plus the look-back window's re-reads.
    check "committed orders come with a committed cursor" test -n "$cursor"
    assert_le "$(stream_stat "$SOURCE.orders" records)" \
        $(($(truth_value orders.count) - committed / 2)) \
        "the re-run resumed after the last checkpoint (orders read)"
fi
assert_truth_matches "the warehouse matches the truth after kill -9 and a re-run"

assert_eq 0 "$(dups dw.fact_order order_id)" "no duplicate orders"
assert_eq 0 "$(dups dw.fact_order_line "(order_id, line_id)")" "no duplicate order lines"
assert_eq 0 "$(dups dw.fact_payment payment_id)" "no duplicate payments"
assert_eq 0 "$(dups dw.dim_customer customer_id)" "no duplicate customers"

finish
