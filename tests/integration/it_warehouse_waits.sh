#!/usr/bin/env bash
# Waits on the warehouse are bounded and said: a table lock that is never released
# (an analyst's ACCESS EXCLUSIVE) is logged while the run waits, then fails the
# stream after [warehouse] lock_timeout naming the table and the blocking session;
# a run killed with kill -9 while its session waits on that lock does not leave
# the session behind holding the source's lock; a warehouse that accepts TCP
# connections but never answers fails within [warehouse] connect_timeout (exit 3).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
write_config
flowetl init
assert_exit 0 "init exits 0"

now_ms() { date +%s%3N; }

# with_warehouse_keys LINE...: the config with LINEs added to [warehouse].
with_warehouse_keys() {
    local line
    for line in "$@"; do
        sed -i "/^\[warehouse\]/a $line" "$CONF"
    done
}

# hold_table_lock: a psql session takes ACCESS EXCLUSIVE on dw.fact_order and
# keeps it; sets HOLDER (psql's pid) and HOLDER_PID (its backend).
hold_table_lock() {
    psql -XAtq -c "begin" -c "lock table dw.fact_order in access exclusive mode" \
        -c "select pg_sleep(300)" >/dev/null 2>&1 &
    HOLDER=$!
    FE_PIDS+=("$HOLDER")
    local i
    for ((i = 0; i < 100; i++)); do
        HOLDER_PID=$(sql "select pid from pg_locks where relation = 'dw.fact_order'::regclass
                            and mode = 'AccessExclusiveLock' and granted")
        [[ -n $HOLDER_PID ]] && return 0
        sleep 0.1
    done
    bail "psql did not get its lock on dw.fact_order"
}

release_table_lock() {
    sql "select pg_terminate_backend($HOLDER_PID)" >/dev/null
    wait "$HOLDER" 2>/dev/null || true
}

# --- a lock that is never released: logged at 10 s, the stream fails at 12 s
with_warehouse_keys "lock_timeout = 12s"
hold_table_lock
flowetl run "$SOURCE.orders"
assert_exit 1 "a stream blocked past lock_timeout exits 1"
assert_stderr_contains "$SOURCE.orders: waiting for the warehouse: a statement has been running for 1"
assert_stderr_contains "it waits for a lock on dw.fact_order held by pid $HOLDER_PID (application psql" \
    "the wait is logged with the table and the blocking session"
assert_stderr_contains "lock_timeout expired: canceling statement due to lock timeout"
assert_stderr_contains "waited lock_timeout = 12s for: dw.fact_order (AccessExclusiveLock) by pid $HOLDER_PID (user postgres, application psql" \
    "the failure names the table and the blocking session"
error=$(sql "select error from etl.run_stream where stream = 'orders'
               order by run_stream_id desc limit 1")
check "etl.run_stream.error names dw.fact_order and pid $HOLDER_PID" \
    grep -qF "dw.fact_order (AccessExclusiveLock) by pid $HOLDER_PID" <<<"$error"
assert_eq "failed" "$(sql "select status from etl.run_stream where stream = 'orders'
                             order by run_stream_id desc limit 1")" "the orders stream failed"

# wait_for_lock_wait LABEL: until a session waits for the lock on dw.fact_order.
wait_for_lock_wait() {
    local waiting=0 i
    for ((i = 0; i < 300; i++)); do
        waiting=$(sql "select count(*) from pg_locks where relation = 'dw.fact_order'::regclass
                         and not granted")
        ((waiting > 0)) && break
        sleep 0.1
    done
    assert_gt "$waiting" 0 "$1"
}

# --- SIGTERM while the commit waits on the lock: cancelled after the grace,
# rolled back, exit 143 within 10 s
sed -i 's/^lock_timeout = .*/lock_timeout = 10m/' "$CONF"
flowetl_bg term run "$SOURCE.orders" --full-refresh
pid=$FE_BG_PID
wait_for_lock_wait "the run's commit waits on the lock"
sent=$(now_ms)
kill -TERM "$pid"
flowetl_bg_wait "$pid" term
assert_exit 143 "SIGTERM while a statement waits on a lock exits 143"
assert_le $(($(now_ms) - sent)) 10000 "... within 10 s (ms)"
assert_eq "interrupted" "$(sql "select status from etl.run_stream where stream = 'orders'
                                  order by run_stream_id desc limit 1")" \
    "the orders stream is interrupted"
# (dw.fact_order itself cannot be read while psql holds it; the cursor commits
# with the data.)
# (--full-refresh stores its request in a row of its own, with no cursor.)
assert_eq 0 "$(sql "select count(*) from etl.sync_state where stream = 'orders'
                      and cursor is not null")" \
    "nothing of the cancelled commit was committed"
assert_eq 0 "$(sql "select count(*) from pg_locks where locktype = 'advisory'")" \
    "no advisory lock is left"

# --- kill -9 while the session waits on the lock: the backend does not stay
flowetl_bg waiting run "$SOURCE.orders"
pid=$FE_BG_PID
wait_for_lock_wait "the run's session waits on the lock"
killed_run=$(sql "select max(run_id) from etl.run")
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
killed=$(now_ms)
left=1
for ((i = 0; i < 100; i++)); do
    left=$(sql "select count(*) from pg_locks where locktype = 'advisory' and classid = $SOURCE_LOCK_CLASS")
    ((left == 0)) && break
    sleep 0.1
done
assert_eq 0 "$left" "the killed run's session released the source's lock"
assert_le $(($(now_ms) - killed)) 6000 "... within a few seconds (ms)"
assert_eq 0 "$(sql "select count(*) from pg_stat_activity where application_name like 'flowetl run=%'")" \
    "no session of the killed run is left"
release_table_lock
flowetl run
assert_exit 0 "the next run loads (exit 0)"
assert_eq "abandoned" "$(sql "select status from etl.run where run_id = $killed_run")" \
    "the killed run is marked abandoned"
assert_truth_matches "after the lock was released"

# --- a warehouse that accepts TCP connections and never answers
python3 - "$T/silent.port" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # accepted, never read, never answered
PY
FE_PIDS+=($!)
for ((i = 0; i < 100; i++)); do
    [[ -s $T/silent.port ]] && break
    sleep 0.05
done
silent_port=$(<"$T/silent.port")
sed -e "s|^dsn = .*|dsn = host=127.0.0.1 port=$silent_port user=postgres dbname=dw|" \
    -e "s|^lock_timeout = .*|connect_timeout = 2s|" "$CONF" >"$T/silent.conf"
started=$(now_ms)
flowetl_bare -c "$T/silent.conf" run
took=$(($(now_ms) - started))
assert_exit 3 "run against a warehouse that never answers exits 3"
assert_le "$took" 7000 "... within the connect_timeout bound (ms)"
assert_stderr_contains "cannot reach the warehouse"
assert_stderr_contains "timeout expired"
started=$(now_ms)
flowetl_bare -c "$T/silent.conf" status
took=$(($(now_ms) - started))
assert_exit 3 "status against a warehouse that never answers exits 3"
assert_le "$took" 7000 "... within the bound too (ms)"

finish
