#!/usr/bin/env bash
# The streams of one source run concurrently (stream_parallel = 4 here; the default,
# 0, is 4 only for sources whose session threads can share), each on
# its own warehouse session, all within the source's one rate limit: a full load
# equals the truth; the streams' time ranges in etl.run_stream overlap, and the
# whole source takes about its requests / budget (never less: the budget is
# shared); one session holds the source's lock; kill -9 and SIGTERM mid-run,
# then a re-run, leave the warehouse exact.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

RATE=10 # requests per second flowetl holds to; the sandbox refuses more than BUDGET
BUDGET=12

# overlapping RUN: pairs of streams of RUN whose time ranges overlap.
overlapping() {
    sql "select count(*) from etl.run_stream a join etl.run_stream b
           on a.run_id = b.run_id and a.run_stream_id < b.run_stream_id
          where a.run_id = $1 and a.started_at < b.finished_at and b.started_at < a.finished_at"
}

running_rows() {
    sql "select (select count(*) from etl.run where status = 'running')
              + (select count(*) from etl.run_stream where status = 'running')"
}


pg_start
sandbox_start --scale 0.05 --faults "budget=$BUDGET"

# --- a rate-limited full load: concurrent streams, the budget used and kept
RATE_LIMIT=$RATE write_config "rate_window = 1s" "stream_parallel = 4"
flowetl init
assert_exit 0 "init exits 0"
flowetl_bg limited run
pid=$FE_BG_PID
sessions=0 locks=0
for ((i = 0; i < 100; i++)); do
    n=$(sql "select count(*) from pg_stat_activity where application_name like 'flowetl%'")
    ((n > sessions)) && sessions=$n
    l=$(source_lock_holders | wc -l)
    ((l > locks)) && locks=$l
    ((sessions >= 4)) && break
    sleep 0.1
done
flowetl_bg_wait "$pid" limited
assert_exit 0 "the rate-limited full load exits 0"
assert_truth_matches "a load with concurrent streams equals the truth"
run=$(last_run_id)
note "$(sql "select stream, status, requests, started_at::time, finished_at::time
               from etl.run_stream where run_id = $run order by run_stream_id")"
assert_eq 6 "$(sql "select count(*) from etl.run_stream where run_id = $run
                      and status = 'succeeded'")" "all 6 streams succeeded, one row each"
assert_gt "$sessions" 2 "the run used several warehouse sessions at once"
assert_eq 1 "$locks" "one session holds the source's lock"
assert_gt "$(sql "select count(*) from etl.run_stream d join etl.run_stream o using (run_id)
                   where run_id = $run and o.stream = 'orders' and d.stream <> 'orders'
                     and o.started_at < d.finished_at")" 0 \
    "orders started before a dimension stream ended"
read -r reqs span_ms < <(sql "select sum(requests),
        round(extract(epoch from max(finished_at) - min(started_at)) * 1000)::bigint
      from etl.run_stream where run_id = $run")
# The floor: a window of RATE grants per 1.02 s (its guard), the first RATE at once.
floor_ms=$(((reqs - RATE) * 1020 / RATE))
# How close the span comes to the floor is a figure for bench/backfill.sh to print,
# not a wall-clock bound a loaded CI machine could break: here only the overlap
# above and the budget below are asserted.
note "requests $reqs in $span_ms ms; floor $floor_ms ms"
assert_le "$((reqs * 1000))" $((RATE * (span_ms + 1000))) \
    "no faster than the one budget the streams share (requests x 1000 <= rate x (ms + 1000))"
assert_eq 0 "$(sandbox_stat status_429)" "the sandbox refused nothing over its budget"

# --- control: the default (0, automatic) reads Posiflora's streams one after
# another, since each extra thread would log in again (its session is not shared)
sandbox_faults ""
write_config
flowetl run --full-refresh
assert_exit 0 "a full refresh with the default stream_parallel exits 0"
assert_eq 0 "$(overlapping "$(last_run_id)")" "default for Posiflora: no two streams overlap"
assert_truth_matches "streams one after another equal the truth"

# --- the session holding the source's lock is ended mid-run: it is made again at
# once, with the lock, while the other stream threads load (whether or not it
# was loading a stream itself)
write_config "stream_parallel = 4"
sandbox_faults slow_ms=100
before=$(last_run_id)
flowetl_bg relock run --full-refresh
pid=$FE_BG_PID
holder=
for ((i = 0; i < 200; i++)); do
    n=$(sql "select count(*) from etl.run_stream where run_id > $before and status = 'running'")
    holder=$(source_lock_holders)
    ((n >= 1)) && [[ -n $holder ]] && break
    sleep 0.05
done
[[ -n $holder ]] || bail "the session holding the source's lock was not found"
sleep 0.3
sql "select pg_terminate_backend($holder)" >/dev/null
relocked=
for ((i = 0; i < 100; i++)); do
    relocked=$(source_lock_holders)
    [[ -n $relocked && $relocked != "$holder" ]] && break
    relocked=
    sleep 0.05
done
check "the source's lock is held again, by a new session, within 5 s" test -n "$relocked"
check "the run was still loading then" kill -0 "$pid"
sandbox_faults ""
flowetl_bg_wait "$pid" relock
check "that run exits 0 or 1 (a stream on the ended session fails)" test "$FE_RC" -le 1
assert_stderr_contains "the warehouse connection broke: connecting again"
flowetl run
assert_exit 0 "the run after it exits 0"
assert_truth_matches "after the lock's session was ended and a re-run"

# --- kill -9 mid-run, then a re-run
write_config "checkpoint_records = 50" "stream_parallel = 4"
sandbox_faults slow_ms=50
before=$(last_run_id)
flowetl_bg killed run --full-refresh
pid=$FE_BG_PID
for ((i = 0; i < 100; i++)); do
    n=$(sql "select count(*) from etl.run_stream where run_id > $before and status = 'running'")
    ((n >= 1)) && break
    sleep 0.05
done
sleep 0.3
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    ok "the run was killed with $n streams running"
else
    wait "$pid" 2>/dev/null || true
    not_ok "the run was killed mid-load (it finished first)"
fi
sandbox_faults ""
flowetl run
assert_exit 0 "the run after kill -9 exits 0"
assert_truth_matches "after kill -9 and a re-run"
assert_eq 0 "$(dups dw.fact_order order_id)" "no duplicate orders"
assert_eq 0 "$(dups dw.fact_order_line "(order_id, line_id)")" "no duplicate order lines"
assert_eq 0 "$(dups dw.dim_customer customer_id)" "no duplicate customers"

# --- SIGTERM mid-run: every stream thread stops, open checkpoints roll back
sandbox_faults slow_ms=50
before=$(last_run_id)
flowetl_bg term run --full-refresh
pid=$FE_BG_PID
for ((i = 0; i < 100; i++)); do
    n=$(sql "select count(*) from etl.run_stream where run_id > $before and status = 'running'")
    ((n >= 1)) && break
    sleep 0.05
done
kill -TERM "$pid"
flowetl_bg_wait "$pid" term
assert_exit 143 "SIGTERM exits 143"
run=$(last_run_id)
assert_eq 0 "$(running_rows)" "SIGTERM: no running row"
assert_gt "$(sql "select count(*) from etl.run_stream where run_id = $run
                    and status = 'interrupted'")" 0 "SIGTERM: streams are interrupted"
assert_eq 6 "$(sql "select count(*) from etl.run_stream where run_id = $run
                      and status in ('interrupted', 'succeeded')")" \
    "SIGTERM: all 6 streams recorded, interrupted or (finished before it) succeeded"
assert_eq 0 "$(source_lock_holders | wc -l)" "SIGTERM: no lock is left"
sandbox_faults ""
flowetl run
assert_exit 0 "the run after SIGTERM exits 0"
assert_truth_matches "after SIGTERM and a re-run"

finish
