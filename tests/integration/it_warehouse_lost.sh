#!/usr/bin/env bash
# Losing the warehouse mid-run. A loading session that is killed while the server
# stays up costs its stream only: the worker connects again and goes on. When
# PostgreSQL itself stops (-m immediate) while a slow run loads, the stream that
# was loading fails, the worker tries one new connection, the remaining streams
# are not run, and the run exits 3 with one line saying when the warehouse went
# away and how many streams did not run.
# Once the warehouse is back, the next run marks the lost run abandoned and loads
# everything exactly.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.2
write_config
flowetl init
assert_exit 0 "init exits 0"


# --- the loading session is killed, the warehouse stays: the stream fails, the
# worker connects again (and takes the source's lock again) and goes on. With the
# streams one after another, the session holding the lock is the loading one
# (it_concurrent_streams ends it while other stream threads load).
write_config "stream_parallel = 1"
sandbox_faults slow_ms=150
flowetl_bg blip run
pid=$FE_BG_PID
loader_pid=
for ((i = 0; i < 400; i++)); do
    if (($(sql "select count(*) from etl.run_stream where stream = 'categories'") > 0)); then
        loader_pid=$(source_lock_holders)
        [[ -n $loader_pid ]] && break
    fi
    sleep 0.05
done
[[ -n $loader_pid ]] || bail "the run's loading session was not found"
sql "select pg_terminate_backend($loader_pid)" >/dev/null
sandbox_faults "" # the rest at full speed
flowetl_bg_wait "$pid" blip
assert_exit 1 "a run whose loading session was killed exits 1 (one stream failed)"
assert_stderr_contains "posiflora_test: the warehouse connection broke: connecting again"
sql "select stream, status from etl.run_stream
      where run_id = (select max(run_id) from etl.run) order by run_stream_id" >"$T/blip.txt"
assert_eq 1 "$(awk -F'\t' '$2 == "failed"' "$T/blip.txt" | wc -l)" "one stream failed"
assert_eq 5 "$(awk -F'\t' '$2 == "succeeded"' "$T/blip.txt" | wc -l)" \
    "the streams after it ran on the new connection"
assert_eq "partial" "$(sql "select status from etl.run order by run_id desc limit 1")" \
    "the run is partial"
write_config

# --- the run's own session is killed: it is made again with the run's lock, so
# the run is never taken for abandoned, and its end is recorded
sandbox_faults slow_ms=150
flowetl_bg main run --full-refresh
pid=$FE_BG_PID
main_pid=
for ((i = 0; i < 400; i++)); do
    main_pid=$(sql "select pid from pg_locks where locktype = 'advisory' and granted
                      and classid = 1179800910")
    [[ -n $main_pid ]] && break
    sleep 0.05
done
[[ -n $main_pid ]] || bail "the run's own session was not found"
main_run=$(sql "select max(run_id) from etl.run")
sql "select pg_terminate_backend($main_pid)" >/dev/null
relocked=
for ((i = 0; i < 150; i++)); do
    relocked=$(sql "select pid from pg_locks where locktype = 'advisory' and granted
                      and classid = 1179800910 and objid = $main_run")
    [[ -n $relocked ]] && break
    sleep 0.1
done
check "the run took its lock again on a new session" test -n "$relocked"
sandbox_faults ""
flowetl_bg_wait "$pid" main
assert_exit 0 "the run whose own session was killed exits 0"
assert_eq "succeeded" "$(sql "select status from etl.run where run_id = $main_run")" \
    "its end is recorded"

# --- the warehouse goes away: slow answers, so the stop lands while the first
# streams load and the rest wait
sandbox_faults slow_ms=150
before=$(sql "select max(run_id) from etl.run")
flowetl_bg lost run --full-refresh
pid=$FE_BG_PID
started=0
for ((i = 0; i < 400; i++)); do
    started=$(sql "select count(*) from etl.run_stream where stream = 'categories'
                     and run_id > $before")
    ((started > 0)) && break
    sleep 0.05
done
assert_gt "$started" 0 "the run is loading when the warehouse goes away"
lost_run=$(sql "select max(run_id) from etl.run")
pg_ctl_owner -D "$PG_DIR/data" stop -m immediate -w >/dev/null 2>&1 ||
    bail "could not stop PostgreSQL"
stopped=$(date +%s)
flowetl_bg_wait "$pid" lost
assert_exit 3 "a run that lost the warehouse exits 3"
assert_le $(($(date +%s) - stopped)) 20 "it ended soon after (s)"
assert_eq 1 "$(grep -c 'the warehouse went away at [0-9:]* UTC: .*; [0-9]* stream(s) not run' "$T/err")" \
    "one line says when the warehouse went away and how many streams did not run"
check "that line comes last" bash -c "tail -n 1 '$T/err' | grep -q 'the warehouse went away'"

# The warehouse comes back: the next run closes the lost one and loads everything.
eval "$("$SOURCE_DIR/scripts/pgcluster.sh" start "$PG_DIR")" || bail "could not restart PostgreSQL"
sandbox_faults ""
flowetl run
assert_exit 0 "the run after the warehouse came back exits 0"
assert_eq "abandoned" "$(sql "select status from etl.run where run_id = $lost_run")" \
    "the lost run is marked abandoned"
assert_eq 0 "$(sql "select count(*) from etl.run_stream where status = 'running'")" \
    "no stream row is left running"
assert_truth_matches "after the warehouse came back"

# A stream row left `running` by a run that did end (its process could not write
# the stream's end: the deadline after a signal, a connection lost at the last
# moment) is closed by the next run too.
last=$(sql "select max(run_stream_id) from etl.run_stream")
sql "update etl.run_stream set status = 'running', finished_at = null, error = null
      where run_stream_id = $last" >/dev/null
flowetl run
assert_exit 0 "the next run exits 0"
assert_eq "abandoned|the run ended without recording how the stream ended" \
    "$(sql "select status || '|' || error from etl.run_stream where run_stream_id = $last")" \
    "a stream left running by a finished run is marked abandoned, with why"

finish
