#!/usr/bin/env bash
# The orders stream runs the next list page in the same batch as the details of the
# page before (keyset paging). Under latency a page costs one round trip, not two;
# a mid-stream checkpoint never stores a cursor beyond the orders whose details are
# in the warehouse (the prefetched page is listed, not loaded); requests answering
# 401 and cut bodies are read again; pages and records count once.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SLOW=300 # ms per answer

pg_start
sandbox_start --scale 0.2
# Every page's details stage far more than 100 rows: a checkpoint after each page.
write_config "max_parallel = 128" "checkpoint_records = 100" "retry_base_ms = 10" "retry_max = 1s"

flowetl init
assert_exit 0 "init exits 0"

# ---- 1. the cursor of every committed checkpoint covers only loaded orders
#
# One statement, one snapshot: the stored cursor and the newest order in the
# warehouse. A cursor taken from the prefetched page (listed, details not staged)
# would lie beyond every loaded order.
cursor_vs_loaded() {
    sql "select s.cursor->>'updatedAt',
                (select max(f.source_updated_at) from dw.fact_order f
                  where f.source_key = s.source_key),
                (s.cursor->>'updatedAt')::timestamptz <=
                (select max(f.source_updated_at) from dw.fact_order f
                  where f.source_key = s.source_key)
           from etl.sync_state s join dw.dim_source d using (source_key)
          where d.name = '$SOURCE' and s.stream = 'orders' and s.cursor ? 'updatedAt'"
}

sandbox_faults "slow_ms=$SLOW"
flowetl_bg first run "$SOURCE.orders"
pid=$FE_BG_PID
declare -A cursors=()
beyond=0
for ((i = 0; i < 400 && ${#cursors[@]} < 4; i++)); do
    line=$(cursor_vs_loaded)
    if [[ -n $line ]]; then
        cursors[${line%%$'\t'*}]=1
        if [[ ${line##*$'\t'} != t ]]; then
            beyond=$((beyond + 1))
            note "cursor beyond the loaded orders: $line"
        fi
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    ok "the run was killed mid-stream after ${#cursors[@]} checkpoints"
else
    wait "$pid" 2>/dev/null || true
    not_ok "the run was killed mid-stream (it finished first: make it slower)"
fi
assert_gt "${#cursors[@]}" 1 "several mid-stream checkpoints were seen"
assert_eq 0 "$beyond" "no checkpoint's cursor passed the orders loaded with it"
line=$(cursor_vs_loaded)
note "after the kill: cursor, newest loaded order, covered: $line"
check "after kill -9 the stored cursor covers only loaded orders" test "${line##*$'\t'}" = t

sandbox_faults ""
flowetl run
assert_exit 0 "the run after the kill exits 0"
assert_truth_matches "the warehouse matches the truth after the kill and a re-run"
assert_eq 0 "$(sql "select count(*) - count(distinct order_id) from dw.fact_order")" \
    "no duplicate orders"

# ---- 2. the same read with latency counts the same pages and records
#
# (That the next list page runs beside the details is asserted by
# test_posiflora_pages against its own fake server; wall time is never asserted.)
flowetl run "$SOURCE.orders" --full-refresh
assert_exit 0 "full refresh without latency exits 0"
pages=$(stream_stat "$SOURCE.orders" pages)
records=$(stream_stat "$SOURCE.orders" records)
assert_gt "$pages" 6 "the orders list spans several pages"

sandbox_faults "slow_ms=$SLOW"
flowetl run "$SOURCE.orders" --full-refresh
assert_exit 0 "full refresh with ${SLOW} ms latency exits 0"
assert_eq "$pages $records" "$(stream_stat "$SOURCE.orders" pages) \
$(stream_stat "$SOURCE.orders" records)" "pages and records counted once"

# ---- 3. a token that expires mid-stream
#
# Setting token_ttl expires the token in use (the client believes it good for an
# hour): the requests that arrive next answer 401, the session is renewed and they
# run again. Whether a list page is among them depends on when the setting lands
# (between two batches: the list page and the details; in the middle of one: some
# details only), so that is noted, not asserted; test_posiflora_pages scripts a 401
# on a prefetched list page exactly.
sandbox_post /_sandbox/reset >/dev/null
sandbox_faults "slow_ms=$SLOW"
flowetl_bg expire run "$SOURCE.orders" --full-refresh
pid=$FE_BG_PID
for ((i = 0; i < 200; i++)); do
    (($(sandbox_stat requests.orders) >= 3)) && break
    sleep 0.05
done
sandbox_faults "slow_ms=$SLOW&token_ttl=1"
flowetl_bg_wait "$pid" expire
assert_exit 0 "the run whose token expired mid-stream exits 0"
note "list requests $(sandbox_stat requests.orders) for $pages pages;" \
    "401s $(sandbox_stat status_401), refreshes $(sandbox_stat refreshes)"
assert_gt "$(sandbox_stat status_401)" 0 "requests answered 401 mid-stream"
assert_eq "$pages $records" "$(stream_stat "$SOURCE.orders" pages) \
$(stream_stat "$SOURCE.orders" records)" "pages and records counted once after a 401"
assert_truth_matches "the warehouse matches the truth after a 401 mid-stream"

# ---- 4. cut bodies: list pages and details read again, counted once
sandbox_post /_sandbox/reset >/dev/null
sandbox_faults "pcut=0.2&slow_ms=20"
flowetl run "$SOURCE.orders" --full-refresh
assert_exit 0 "the run with cut bodies exits 0"
note "list requests $(sandbox_stat requests.orders) for $pages pages; cut $(sandbox_stat cut)"
assert_eq "$pages $records" "$(stream_stat "$SOURCE.orders" pages) \
$(stream_stat "$SOURCE.orders" records)" "pages and records counted once with cut bodies"
assert_truth_matches "the warehouse matches the truth after cut bodies"

finish
