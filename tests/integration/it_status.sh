#!/usr/bin/env bash
# flowetl status: text and --json, and its exit codes: 0 all ok (also a skipped run
# after a success, and a warn_after warning), 1 a failed / interrupted latest run, a
# stale stream (error_after), a stream that never ran or never succeeded, 2 usage, 3
# warehouse unreachable. Rows of outcomes the runner writes (skipped, interrupted,
# abandoned, a stream whose source never registered) are inserted by SQL. status and
# init run without the API password in the environment.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
write_config "streams = stores, customers, orders"

# flowetl_nosecret ARGS...: flowetl with the API password's variable unset.
flowetl_nosecret() {
    FE_LAST_ARGS="$* (no API secret in the environment)"
    fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$CONF" "$@"
}

# json EXPR: jq -r EXPR on the last stdout.
json() {
    jq -r "$1" "$T/out"
}

# add_run STATUS REASON: an etl.run row as the runner would leave it; prints its id.
add_run() {
    sql "insert into etl.run (started_at, finished_at, status, reason, version, host, pid)
         values (now(), now(), '$1', nullif('$2', ''), 'test', 'testhost', 4242)
         returning run_id"
}

# add_stream RUN_ID STREAM STATUS ERROR [SOURCE_KEY]: an etl.run_stream row.
add_stream() {
    # The key read first: Citus takes no subquery in an INSERT's VALUES.
    local key=${5:-$(sql "select coalesce(max(source_key)::text, 'NULL') from dw.dim_source
                           where name = '$SOURCE'")}
    sql "insert into etl.run_stream (run_id, source_key, source_name, stream, status,
                                     started_at, finished_at, error)
         values ($1, $key, '$SOURCE', '$2', '$3', now(), now(), nullif('$4', ''))" >/dev/null
}

flowetl_nosecret init
assert_exit 0 "init runs without the API password"

# ------------------------------------------------------------- never ran
flowetl_nosecret status
assert_exit 1 "status before any run exits 1 (no stream is fresh)"
never=$(grep -c "^$SOURCE\.[a-z_]* *never ran" "$T/out" || true)
assert_eq 3 "$never" "every configured stream is listed as never ran"
assert_stderr_contains "$SOURCE.customers: never ran"
flowetl_nosecret status --json
assert_exit 1 "status --json before any run exits 1"
if jq -e . "$T/out" >/dev/null 2>&1; then ok "--json prints one valid JSON document"; else
    not_ok "--json prints one valid JSON document"
    note_file "$T/out"
fi
assert_eq "error 1 3" "$(json '"\(.status) \(.exit_code) \(.streams | length)"')" \
    "--json: overall error, exit_code 1, the 3 configured streams"
assert_eq "stores customers orders" "$(json '[.streams[].stream] | join(" ")')" \
    "--json lists the streams in the type's order"
assert_eq "null never ran error" \
    "$(json '.streams[0] | "\(.last_run) \(.problem) \(.freshness)"')" "--json: a never-run stream"

# ------------------------------------------------------------- all ok
flowetl run "$SOURCE.stores" "$SOURCE.orders"
assert_exit 0 "run stores and orders"
flowetl_nosecret status "$SOURCE.stores" "$SOURCE.orders"
assert_exit 0 "status of two streams that succeeded exits 0 (no API secret needed)"
assert_stdout_contains "$SOURCE.orders"
if grep -q "^$SOURCE\.customers" "$T/out"; then
    not_ok "status SOURCE.STREAM lists only the streams named"
else
    ok "status SOURCE.STREAM lists only the streams named"
fi
flowetl_nosecret status
assert_exit 1 "status of the whole source exits 1: customers never ran"
flowetl_nosecret status "$SOURCE.orders" --json
assert_exit 0 "status --json of a stream that succeeded exits 0"
assert_eq "ok 0" "$(json '"\(.status) \(.exit_code)"')" "--json: status ok, exit_code 0"
assert_eq "succeeded succeeded ok unchecked" \
    "$(json '.streams[0] | "\(.last_run.status) \(.outcome) \(.status) \(.freshness)"')" \
    "--json: the stream's last run, outcome, status and freshness"
assert_eq object "$(json '.streams[0].cursor | type')" "--json: the cursor is a JSON object"
cursor=$(sql "select cursor->>'updatedAt' from etl.sync_state where stream = 'orders'")
assert_eq "$cursor" "$(json '.streams[0].cursor.updatedAt')" "--json: the cursor is the stored one"
assert_eq "$(last_run_id)" "$(json '.runs[0].run_id')" "--json: the latest run comes first"
assert_eq number "$(json '.streams[0].age_seconds | type')" "--json: age_seconds is a number"

# ------------------------------------------------------------- a failed latest run
sandbox_faults malformed=orders
flowetl run "$SOURCE.orders"
assert_exit 1 "a run of orders against malformed JSON fails"
sandbox_faults ""
flowetl_nosecret status "$SOURCE.orders"
assert_exit 1 "status exits 1 when the latest run of a stream failed"
assert_stdout_contains "    error: " "the text report shows the last error"
assert_stderr_contains "$SOURCE.orders: latest run failed"
flowetl_nosecret status "$SOURCE.stores"
assert_exit 0 "another stream of the same source is still ok"
flowetl_nosecret status "$SOURCE.orders" --json
assert_eq "error failed" "$(json '.streams[0] | "\(.status) \(.outcome)"')" \
    "--json: a failed outcome"
if [[ $(json '.streams[0].error') == null ]]; then
    not_ok "--json: the error of the failed run"
else
    ok "--json: the error of the failed run"
fi
flowetl run "$SOURCE.orders"
assert_exit 0 "the next run of orders succeeds"
flowetl_nosecret status "$SOURCE.orders"
assert_exit 0 "status is back to 0 after a success"

# ------------------------------------------------------------- skipped / interrupted / abandoned
run=$(add_run succeeded "")
add_stream "$run" orders skipped "another flowetl run (pid 1) is loading this source"
flowetl_nosecret status "$SOURCE.orders"
assert_exit 0 "a skipped run after a success exits 0"
assert_stdout_contains "skipped"
assert_stdout_contains "another flowetl run (pid 1)" "the skip's reason is shown"
flowetl_nosecret status "$SOURCE.orders" --json
assert_eq "skipped succeeded ok" \
    "$(json '.streams[0] | "\(.last_run.status) \(.outcome) \(.status)"')" \
    "--json: skipped after a success is ok"

run=$(add_run interrupted "interrupted by SIGTERM")
add_stream "$run" orders interrupted "interrupted by SIGTERM: checkpoint rolled back"
flowetl_nosecret status "$SOURCE.orders"
assert_exit 1 "an interrupted latest run exits 1"
assert_stderr_contains "latest run interrupted"
assert_stdout_contains "interrupted by SIGTERM" "the run's reason is listed with the runs"
flowetl_nosecret status "$SOURCE.orders" --json
assert_eq "interrupted interrupted by SIGTERM" "$(json '"\(.runs[0].status) \(.runs[0].reason)"')" \
    "--json: the runs carry status and reason"
run=$(add_run succeeded "")
add_stream "$run" orders skipped "locked"
flowetl_nosecret status "$SOURCE.orders"
assert_exit 1 "a skipped run after an interrupted one still exits 1"

run=$(add_run abandoned "the process died")
add_stream "$run" stores abandoned "the process died"
flowetl_nosecret status "$SOURCE.stores"
assert_exit 1 "an abandoned latest run exits 1"

# A stream that failed before its source was registered: no source_key, matched by name.
run=$(add_run failed "login refused")
add_stream "$run" customers failed "login refused (HTTP 401)" NULL
flowetl_nosecret status "$SOURCE.customers" --json
assert_exit 1 "a stream that never registered its source is reported"
assert_eq "failed login refused (HTTP 401)" \
    "$(json '.streams[0] | "\(.outcome) \(.error)"')" "matched by source name, not source_key"

# ------------------------------------------------------------- freshness
flowetl run "$SOURCE.stores" "$SOURCE.orders"
assert_exit 0 "a fresh run of stores and orders"
sleep 2
cp "$CONF" "$T/warn.conf"
echo "warn_after = 1s" >>"$T/warn.conf"
FE_LAST_ARGS="status with warn_after = 1s"
fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$T/warn.conf" status "$SOURCE.orders"
assert_exit 0 "older than warn_after only warns: exit 0"
assert_stderr_contains "older than warn_after 1s"
assert_stdout_contains " warn " "the verdict column says warn"
cp "$CONF" "$T/stale.conf"
printf 'warn_after = 1s\nerror_after = 1s\n' >>"$T/stale.conf"
FE_LAST_ARGS="status with error_after = 1s"
fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$T/stale.conf" status "$SOURCE.orders" --json
assert_exit 1 "older than error_after exits 1"
assert_eq "error error 1" \
    "$(json '.streams[0] | "\(.status) \(.freshness) \(.error_after_seconds)"')" \
    "--json: a stale stream"
assert_stderr_contains "older than error_after 1s"
cp "$CONF" "$T/fresh.conf"
printf 'warn_after = 1h\nerror_after = 2h\n' >>"$T/fresh.conf"
FE_LAST_ARGS="status with error_after = 2h"
fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$T/fresh.conf" status "$SOURCE.orders" --json
assert_exit 0 "a stream younger than its thresholds exits 0"
assert_eq "ok pass 3600 7200" \
    "$(json '.streams[0] | "\(.status) \(.freshness) \(.warn_after_seconds) \(.error_after_seconds)"')" \
    "--json: thresholds and a passing freshness"

# ------------------------------------------------------------- usage and warehouse
flowetl_nosecret status no_such_source
assert_exit 2 "status of an unknown source exits 2"
flowetl_nosecret status "$SOURCE.nope"
assert_exit 2 "status of an unknown stream exits 2"
assert_stderr_contains "unknown stream 'nope'"
flowetl_nosecret status --yaml
assert_exit 2 "status with an unknown option exits 2"
mkdir -p "$T/nopg"
sed "s|^dsn = .*|dsn = host=$T/nopg user=postgres dbname=dw connect_timeout=5|" "$CONF" \
    >"$T/nopg.conf"
FE_LAST_ARGS="status with the warehouse unreachable"
fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$T/nopg.conf" status
assert_exit 3 "status with the warehouse unreachable exits 3"

# A schema out of date is the user's to fix (2, like run); a warehouse that
# answers the connection but not the schema check (here: a role that may not use
# schema etl) is the warehouse's (3, like run and rebind).
sql "update etl.schema_migration set checksum = 'x' || checksum
      where name = '003_run_outcomes.sql'" >/dev/null
flowetl_nosecret status
assert_exit 2 "status against an out-of-date schema exits 2"
assert_stderr_contains "migration 003_run_outcomes.sql was changed after it was applied"
sql "update etl.schema_migration set checksum = substr(checksum, 2)
      where name = '003_run_outcomes.sql'" >/dev/null
sql "create role status_outsider login" >/dev/null
sed "s|^dsn = .*|dsn = host=$PGHOST user=status_outsider dbname=dw|" "$CONF" >"$T/outsider.conf"
FE_LAST_ARGS="status as a role that may not read the schema"
fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$T/outsider.conf" status
assert_exit 3 "status that cannot check the schema exits 3"

# A long Cyrillic error, cut for the problem text (320 bytes) and the error line:
# never inside a letter, or --json is not UTF-8 (yajl writes what it is given).
sql "update etl.run_stream set status = 'failed', error = repeat('Ошибка ', 200) || 'конец'
      where run_stream_id = (select max(run_stream_id) from etl.run_stream
                              where stream = 'orders')" >/dev/null
flowetl_nosecret status "$SOURCE.orders" --json
assert_exit 1 "status of a stream with a long Cyrillic error exits 1"
if python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' \
    <"$T/out" 2>"$T/json.err"; then
    ok "--json with a long Cyrillic error is valid UTF-8 JSON"
else
    not_ok "--json with a long Cyrillic error is valid UTF-8 JSON"
    note_file "$T/json.err" 5
fi
flowetl_nosecret status "$SOURCE.orders"
if iconv -f UTF-8 -t UTF-8 "$T/out" >/dev/null 2>&1; then
    ok "the text output with a long Cyrillic error is valid UTF-8"
else
    not_ok "the text output with a long Cyrillic error is valid UTF-8"
fi

leaks=$(grep -rlF "$SANDBOX_PASSWORD" "$T/history.log" || true)
assert_eq "" "$leaks" "no password in any output"

finish
