#!/usr/bin/env bash
# Every failure before a source's first successful request leaves its rows: a
# refused login, a closed port, a 404 base_url, a time zone the server does not
# know, wrong tokens (Goflow, Flowwow), a lock held by another session. Each is
# recorded per stream (status failed, the reason, source_name, source_key NULL
# while the source was never registered), etl.run ends failed with a reason, no
# dw.dim_source row is created, and stderr says it in one line per source. An
# overlap with another live run is not a failure: its streams are `skipped`,
# the holder is named, and the run exits 4. A run refused because the schema is
# out of date is recorded too.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
# Few retries: a closed port would otherwise be retried for a minute and a half.
write_config "retries = 1" "retry_base_ms = 10"
flowetl init
assert_exit 0 "init exits 0"
port=${SANDBOX_URL##*:}

# The streams of the newest run: source_name stream status source_key(NULL) error.
last_streams() {
    sql "select source_name, stream, status, coalesce(source_key::text, 'NULL'), coalesce(error, '')
           from etl.run_stream where run_id = (select max(run_id) from etl.run)
          order by run_stream_id"
}

# assert_failed_before_start LABEL ERROR_TEXT [SOURCE] [NSTREAMS]: the newest run
# failed, every stream of SOURCE is recorded failed with ERROR_TEXT in its error and
# no source_key, and no dw.dim_source row exists.
assert_failed_before_start() {
    local label=$1 text=$2 src=${3:-$SOURCE} n=${4:-6}
    last_streams >"$T/streams.txt"
    assert_eq "$n" "$(awk -F'\t' -v s="$src" '$1 == s && $3 == "failed" && $4 == "NULL"' \
        "$T/streams.txt" | wc -l)" "$label: $n streams of $src recorded failed, no source_key"
    local with_text
    with_text=$(awk -F'\t' -v s="$src" -v t="$text" '$1 == s && index($5, t)' "$T/streams.txt" |
        wc -l)
    assert_eq "$n" "$with_text" "$label: each row's error says '$text'"
    assert_eq "failed" "$(sql "select status from etl.run order by run_id desc limit 1")" \
        "$label: etl.run ends failed"
    assert_eq 1 "$(sql "select count(*) from etl.run where run_id = (select max(run_id) from etl.run)
                          and reason like '%stream(s) failed%' and finished_at is not null")" \
        "$label: etl.run has a reason and an end"
    assert_eq 0 "$(sql "select count(*) from dw.dim_source where source_key <> 0")" \
        "$label: no dw.dim_source row was created"
}

# --- a refused login
sed 's|^password = .*|password = wrong-password|' "$CONF" >"$T/badpw.conf"
flowetl_bare -c "$T/badpw.conf" run
assert_exit 1 "a refused login exits 1"
assert_stderr_contains "posiflora_test.orders failed: login as 'demo': POST /v1/sessions: refused (HTTP 401)"
assert_eq 6 "$(grep -cE '^.* ERROR run=[0-9]+ posiflora_test\.[a-z_]* failed: login as' "$T/err")" \
    "one line per failed stream"
assert_failed_before_start "refused login" "refused (HTTP 401)"

# --- a closed port (nothing listens on port 1)
sed "s|^base_url = .*|base_url = http://127.0.0.1:1/posiflora/api|" "$CONF" >"$T/closed.conf"
flowetl_bare -c "$T/closed.conf" run
assert_exit 1 "a closed port exits 1"
assert_stderr_contains "posiflora_test.stores failed: POST /v1/sessions"
assert_failed_before_start "closed port" "POST /v1/sessions"

# --- a base_url that answers 404
sed "s|^base_url = .*|base_url = $SANDBOX_URL/no-such-api|" "$CONF" >"$T/404.conf"
flowetl_bare -c "$T/404.conf" run
assert_exit 1 "a 404 base_url exits 1"
assert_stderr_contains "HTTP 404"
assert_failed_before_start "404 base_url" "HTTP 404"

# --- a time zone the warehouse server does not know: flowetl's own check reads
# the zone database in $TZDIR, which here has one zone more than the server's
sandbox_post /_sandbox/reset >/dev/null # zero the request counters
mkdir -p "$T/zones/Mars"
cp /usr/share/zoneinfo/UTC "$T/zones/Mars/Olympus"
sed "s|^timezone = .*|timezone = Mars/Olympus|" "$CONF" >"$T/tz.conf"
export TZDIR=$T/zones
flowetl_bare -c "$T/tz.conf" run
unset TZDIR
assert_exit 1 "a time zone the server does not know exits 1"
assert_stderr_contains "timezone 'Mars/Olympus' is not known to the warehouse server"
assert_failed_before_start "unknown time zone" "is not known to the warehouse server"
assert_eq 0 "$(sandbox_stat requests)" "no API request was sent for a source that cannot load"

# --- Goflow and Flowwow with wrong tokens: their open() request is refused
CONFIG_EXTRA_flowwow="retry_base_ms = 10" SYSTEMS="goflow flowwow" write_config "retries = 1"
sed -i 's|^token = .*|token = wrong-token|' "$CONF"
flowetl run
assert_exit 1 "wrong Goflow and Flowwow tokens exit 1"
assert_failed_before_start "goflow token" "401" goflow_test 5
assert_failed_before_start "flowwow token" "401" flowwow_test 3

# --- the first good run registers the source
write_config "retries = 1" "retry_base_ms = 10"
flowetl run
assert_exit 0 "a good run exits 0"
key=$(source_key)
assert_eq "posiflora 127.0.0.1:$port" "$(sql "select system || ' ' || account from dw.dim_source
                                                where source_key <> 0")" \
    "one dw.dim_source row, for the source that answered"

# --- the source's lock held by another session (not a flowetl run): failed
psql -XAtq -c "select pg_advisory_lock($SOURCE_LOCK_CLASS, hashtext('posiflora/127.0.0.1:$port'))" \
    -c "select pg_sleep(120)" >/dev/null 2>&1 &
holder=$!
FE_PIDS+=("$holder")
wait_source_lock >/dev/null
holder_pid=$(source_lock_holders)
flowetl run
assert_exit 1 "a source locked by another session exits 1"
assert_stderr_contains "source posiflora_test is locked by another session: pid $holder_pid (application 'psql'"
last_streams >"$T/streams.txt"
assert_eq 6 "$(awk -F'\t' -v k="$key" '$3 == "failed" && $4 == k && index($5, "locked by another session")' \
    "$T/streams.txt" | wc -l)" "held lock: 6 streams failed with the holder and the source's key"
# psql sets no client_connection_check_interval: its backend would sleep on with
# the lock after psql is gone, so end the session itself.
sql "select pg_terminate_backend($holder_pid)" >/dev/null
wait "$holder" 2>/dev/null || true

# --- an overlap: a second run while the first one loads
sandbox_faults slow_ms=50
flowetl_bg first run --full-refresh
first=$FE_BG_PID
locked=$(wait_source_lock "$first")
assert_gt "$locked" 0 "the first run holds the source's lock"
first_run=$(sql "select max(run_id) from etl.run")
flowetl run
assert_exit 4 "a run that overlaps a live run of the same source exits 4"
assert_stderr_contains "posiflora_test: skipped (6 stream(s)): another flowetl run is loading source posiflora_test: run $first_run (pid $first on host"
last_streams >"$T/streams.txt"
assert_eq 6 "$(awk -F'\t' -v r="run $first_run " '$3 == "skipped" && index($5, r)' "$T/streams.txt" |
    wc -l)" "overlap: 6 streams skipped, naming the run that holds the source"
assert_eq "succeeded" "$(sql "select status from etl.run order by run_id desc limit 1")" \
    "overlap: the skipped run is not a failure"
sandbox_faults ""
flowetl_bg_wait "$first" first
assert_exit 0 "the first run still succeeds"
assert_truth_matches "the first run loaded everything"
assert_eq 0 "$(sql "select count(*) from etl.run where status = 'running'")" "no run left running"

# --- a schema that is out of date: refused (exit 2), and the refusal is recorded
sql "update etl.schema_migration set checksum = 'x' || checksum
      where name = '003_run_outcomes.sql'" >/dev/null
flowetl run
assert_exit 2 "a run against an out-of-date schema exits 2"
assert_stderr_contains "migration 003_run_outcomes.sql was changed after it was applied"
assert_eq 1 "$(sql "select count(*) from etl.run where run_id = (select max(run_id) from etl.run)
                      and status = 'failed' and finished_at is not null
                      and reason like 'migration 003_run_outcomes.sql was changed%'")" \
    "the refused run is recorded failed with the reason"
sql "update etl.schema_migration set checksum = substr(checksum, 2)
      where name = '003_run_outcomes.sql'" >/dev/null

finish
