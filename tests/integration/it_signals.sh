#!/usr/bin/env bash
# Signals and dead processes: SIGTERM mid-load exits 143 within 10 s with nothing
# half-committed, no `running` row and no lock left, and the re-run is exact;
# SIGINT exits 130 and marks the streams that never started; a second signal
# exits at once; a run killed by kill -9 (or by that second signal) is marked
# `abandoned` by the next run, because no session holds its lock any more.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.5
# Small checkpoints: a stop request is honoured at the next one.
write_config "checkpoint_records = 300"
flowetl init
assert_exit 0 "init exits 0"

now_ms() { date +%s%3N; }

# wait_sql QUERY [TRIES]: polls every 0.1 s until QUERY returns something other
# than 0 or empty; true when it did.
wait_sql() {
    local i v
    for ((i = 0; i < ${2:-100}; i++)); do
        v=$(sql "$1")
        [[ -n $v && $v != 0 ]] && return 0
        sleep 0.1
    done
    return 1
}

advisory_locks() {
    sql "select count(*) from pg_locks where locktype = 'advisory'"
}

# assert_no_lock_left LABEL: the killed or stopped run's sessions are gone (their
# backends may take a moment to exit after the client did).
assert_no_lock_left() {
    local i n
    for ((i = 0; i < 50; i++)); do
        n=$(advisory_locks)
        ((n == 0)) && break
        sleep 0.1
    done
    assert_eq 0 "$n" "$1: no advisory lock is left"
}

running_rows() {
    sql "select (select count(*) from etl.run where status = 'running')
              + (select count(*) from etl.run_stream where status = 'running')"
}

# --- SIGTERM in the middle of the orders stream (slow enough answers that it is
# still loading when the signal comes: with the streams concurrent, orders start
# at once)
sandbox_faults slow_ms=5
flowetl_bg term run
pid=$FE_BG_PID
wait_sql "select count(*) from dw.fact_order where source_key <> 0" 200 ||
    note "no order was committed before the signal"
sent=$(now_ms)
kill -TERM "$pid"
flowetl_bg_wait "$pid" term
took=$(($(now_ms) - sent))
assert_exit 143 "SIGTERM exits 143"
assert_le "$took" 10000 "SIGTERM: the run ended within 10 s (ms)"
assert_stderr_contains "SIGTERM received: stopping"
assert_stderr_contains "interrupted by SIGTERM: "
assert_eq "interrupted" "$(sql "select status from etl.run order by run_id desc limit 1")" \
    "SIGTERM: etl.run is interrupted"
assert_eq 1 "$(sql "select count(*) from etl.run where run_id = (select max(run_id) from etl.run)
                      and reason like 'interrupted by SIGTERM%' and finished_at is not null")" \
    "SIGTERM: etl.run says why and when it ended"
assert_eq "interrupted" "$(sql "select status from etl.run_stream
                                  where stream = 'orders' order by run_stream_id desc limit 1")" \
    "SIGTERM: the orders stream is interrupted"
assert_eq 0 "$(running_rows)" "SIGTERM: no running row"
assert_no_lock_left "SIGTERM"
flowetl run
assert_exit 0 "the run after SIGTERM exits 0"
assert_truth_matches "after SIGTERM and a re-run"

# --- SIGINT early: streams that never started are recorded too
sandbox_faults slow_ms=300
flowetl_bg int run --full-refresh
pid=$FE_BG_PID
wait_sql "select count(*) from etl.run_stream where status = 'running'" 100 ||
    note "no stream started before the signal"
sent=$(now_ms)
kill -INT "$pid"
flowetl_bg_wait "$pid" int
took=$(($(now_ms) - sent))
assert_exit 130 "SIGINT exits 130"
assert_le "$took" 10000 "SIGINT: the run ended within 10 s (ms)"
sql "select stream, status, coalesce(error, '') from etl.run_stream
      where run_id = (select max(run_id) from etl.run) order by run_stream_id" >"$T/int.txt"
# A stream whose last page was already in flight may still finish: succeeded.
assert_eq 6 "$(awk -F'\t' '$2 == "interrupted" || $2 == "succeeded"' "$T/int.txt" | wc -l)" \
    "SIGINT: all 6 streams recorded, interrupted or (finished before it) succeeded"
assert_gt "$(grep -c 'not started: the run was interrupted by SIGINT' "$T/int.txt")" 0 \
    "SIGINT: the streams that never started say so"
assert_eq 0 "$(running_rows)" "SIGINT: no running row"
assert_no_lock_left "SIGINT"

# --- SIGTERM while a request hangs: the run still ends within 10 s, recorded
sandbox_faults slow_ms=30000
flowetl_bg hang run
pid=$FE_BG_PID
# The login itself hangs: the run is started, no stream is.
wait_sql "select count(*) from etl.run where status = 'running'" 100 ||
    note "the run did not start before the signal"
sleep 0.5
sent=$(now_ms)
kill -TERM "$pid"
flowetl_bg_wait "$pid" hang
took=$(($(now_ms) - sent))
assert_exit 143 "SIGTERM while a request hangs exits 143"
assert_le "$took" 10000 "... within 10 s (ms)"
assert_eq "interrupted" "$(sql "select status from etl.run order by run_id desc limit 1")" \
    "... and the run is recorded interrupted"
assert_eq 0 "$(running_rows)" "... with no running row"
assert_no_lock_left "hanging request"

# --- a second signal exits at once
sandbox_faults slow_ms=4000
flowetl_bg twice run
pid=$FE_BG_PID
wait_sql "select count(*) from etl.run_stream where status = 'running'" 100 ||
    note "no stream started before the signals"
twice_run=$(sql "select max(run_id) from etl.run")
kill -TERM "$pid"
sleep 0.3
sent=$(now_ms)
kill -TERM "$pid"
flowetl_bg_wait "$pid" twice
took=$(($(now_ms) - sent))
assert_exit 143 "a second SIGTERM exits 143"
assert_le "$took" 1500 "the second signal ended the run at once (ms)"
assert_stderr_contains "second signal (SIGTERM): exiting at once"
assert_no_lock_left "second signal"
sandbox_faults ""

# The next run finds that run's lock gone: abandoned, with its running streams.
flowetl run
assert_exit 0 "the run after the second signal exits 0"
assert_stderr_contains "marked abandoned (its process is gone): run $twice_run (pid"
assert_eq "abandoned" "$(sql "select status from etl.run where run_id = $twice_run")" \
    "the run stopped by a second signal is marked abandoned"
assert_eq 0 "$(sql "select count(*) from etl.run_stream
                      where run_id = $twice_run and status not in ('abandoned', 'interrupted')")" \
    "its streams are abandoned (or were already interrupted)"

# --- kill -9: the next run marks the dead run abandoned
sandbox_faults slow_ms=2
flowetl_bg killed run --full-refresh
pid=$FE_BG_PID
wait_sql "select count(*) from etl.run_stream where status = 'running'" 100 ||
    note "no stream started before kill -9"
killed_run=$(sql "select max(run_id) from etl.run")
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "running" "$(sql "select status from etl.run where run_id = $killed_run")" \
    "after kill -9 the run's row still says running"
sandbox_faults ""
flowetl run
assert_exit 0 "the run after kill -9 exits 0"
assert_eq "abandoned" "$(sql "select status from etl.run where run_id = $killed_run")" \
    "the killed run is marked abandoned"
assert_eq 1 "$(sql "select count(*) from etl.run where run_id = $killed_run
                      and reason like 'the flowetl process (pid $pid on host %'")" \
    "its reason names the process"
assert_eq 0 "$(running_rows)" "no running row after the next run"
assert_truth_matches "after kill -9 and a re-run"

finish
