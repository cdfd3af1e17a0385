#!/usr/bin/env bash
# Logs and progress (issue 12, items 2 and 3): --log-format=json gives one JSON
# object per stderr line with time, level, run_id, source, stream, event and msg,
# the run id equal to etl.run's, a request event per HTTP request at -v (status,
# bytes, ms, the URL without secrets), structured stream_start/stream_end and
# run_start/run_end events, and no secret anywhere; the text format carries
# run=<id> on every line once the run has one and, at -v, request lines; the
# `[run] log_format` key works and the option wins over it. Progress: live lines
# (records, total, rate, ETA) with progress = always, and under a pty (script) with
# auto; none with never, none in JSON format (progress events instead).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
SYSTEMS="posiflora flowwow" write_config
flowetl init
assert_exit 0 "init"

# json_check FILE: every line of FILE parses as a JSON object with the common keys
# (python3); prints the number of lines, or "bad: LINE" for the first that does not.
json_check() {
    python3 - "$1" <<'PY'
import json, sys, re
n = 0
for raw in open(sys.argv[1], 'rb'):
    n += 1
    try:
        o = json.loads(raw.decode('utf-8'))
        assert isinstance(o, dict)
        for k in ('time', 'level', 'run_id', 'source', 'stream', 'event', 'msg'):
            assert k in o, k
        assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', o['time']), 'time'
        assert o['level'] in ('debug', 'info', 'warn', 'error'), 'level'
    except Exception as e:
        print('bad (%s): %r' % (e, raw[:300]))
        sys.exit(0)
print(n)
PY
}

# jq_count FILTER: how many JSON lines of $T/err match the jq select FILTER.
jq_count() {
    jq -c "select($1)" "$T/err" | wc -l
}

# ------------------------------------------------------------ JSON, -v
flowetl -v --log-format=json run
assert_exit 0 "a JSON-logged run at -v succeeds"
run_id=$(last_run_id)
cp "$T/err" "$T/json.err"
lines=$(json_check "$T/err")
if [[ $lines =~ ^[0-9]+$ ]] && ((lines > 20)); then
    ok "every stderr line is a JSON object with time, level, run_id, source, stream, event, msg ($lines lines)"
else
    not_ok "every stderr line is a JSON object with the common keys"
    note "$lines"
fi
assert_eq 0 "$(jq_count ".run_id != null and .run_id != $run_id")" \
    "no line carries another run id than etl.run's ($run_id)"
assert_eq 1 "$(jq_count ".event == \"run_start\" and .run_id == $run_id")" \
    "run_start carries etl.run's id"
assert_eq 0 "$(jq_count '.event != "run_start" and .run_id == null and .event != "log"')" \
    "every structured event after the start has the run id"
assert_eq 1 "$(jq_count '.event == "run_end" and .status == "succeeded" and .exit == 0')" \
    "run_end says succeeded, exit 0"
requests=$(jq_count '.event == "request" and (.status | type) == "number" and
    (.bytes | type) == "number" and (.ms | type) == "number" and .level == "debug" and
    .method != null and (.url | startswith("http://127.0.0.1"))')
assert_gt "$requests" 10 "request events with numeric status, bytes and ms and the full URL"
assert_gt "$(jq_count '.event == "request" and .source == "flowwow_test" and .stream == "orders"')" \
    0 "a request event names its source and the stream that made it"
assert_eq 0 "$(jq_count '.event == "request" and (.url | test("(token|password)=[^*&]"))')" \
    "no request URL carries a token value"
ends=$(jq_count '.event == "stream_end" and .status == "succeeded" and
    (.records | type) == "number" and (.inserted | type) == "number" and .stream != null')
streams=$(sql "select count(*) from etl.run_stream where run_id = $run_id")
assert_eq "$streams" "$ends" "a stream_end event with counters for every stream of etl.run_stream"
assert_eq "$streams" "$(jq_count '.event == "stream_start"')" "a stream_start event per stream"
requests_db=$(sql "select sum(requests) from etl.run_stream where run_id = $run_id")
assert_le "$requests_db" "$(jq_count '.event == "request"')" \
    "at least as many request events as requests in etl.run_stream"

# Secrets: the run's lines hold none (the password, the tokens, issued tokens).
assert_no_secrets "no secret in the JSON run's output"

# ------------------------------------------------------------ text
flowetl -v run
assert_exit 0 "a text run at -v succeeds"
run_id=$(last_run_id)
started=$(grep -n " run $run_id started" "$T/err" | head -n 1 | cut -d: -f1)
if [[ -n $started ]]; then
    untagged=$(tail -n "+$started" "$T/err" | grep -cv "^[0-9T:-]*Z [A-Z]* *run=$run_id " || true)
    assert_eq 0 "$untagged" "every text line from the run's start on carries run=$run_id"
else
    not_ok "the text run logs 'run $run_id started'"
fi
assert_stderr_contains "DEBUG run=$run_id posiflora_test: GET http://127.0.0.1"
grep -E "DEBUG run=$run_id [a-z_]+: (GET|POST) http://127\.0\.0\.1:[0-9]+/\S+ -> HTTP [0-9]{3}, [0-9]+ bytes, [0-9]+ ms$" \
    "$T/err" >"$T/reqlines" || true
assert_gt "$(wc -l <"$T/reqlines")" 10 "-v: request lines with method, URL, status, bytes, ms"
assert_eq 0 "$(grep -c '^{' "$T/err" || true)" "text lines are not JSON"
assert_no_secrets "no secret in the text run's output"

# without -v: no request lines; the config key selects JSON, the option wins
flowetl run
assert_eq 0 "$(grep -c ' -> HTTP ' "$T/err" || true)" "no request lines without -v"
sed -i '1i [run]\nlog_format = json\nprogress = always' "$CONF"
flowetl run
lines=$(json_check "$T/err")
if [[ $lines =~ ^[0-9]+$ ]] && ((lines > 3)); then
    ok "[run] log_format = json: JSON lines ($lines)"
else
    not_ok "[run] log_format = json: JSON lines"
    note "$lines"
fi
assert_eq 0 "$(grep -c $'\r' "$T/err" || true)" "JSON format: no live line even with progress = always"
flowetl --log-format=text run
assert_stderr_contains "INFO  run=$(last_run_id) "
assert_eq 0 "$(grep -c '^{' "$T/err" || true)" "--log-format=text wins over the config key"
flowetl --log-format=yaml run
assert_exit 2 "--log-format=yaml is a usage error"
printf '[run]\nbogus = 1\n' >"$T/bad.conf"
flowetl_bare -c "$T/bad.conf" --log-format=json run
assert_exit 2 "a config error exits 2"
assert_eq "1 error" "$(json_check "$T/err") $(jq -r .level "$T/err")" \
    "--log-format=json: the config error is a JSON line too"
sed -i '1,3d' "$CONF"

# ------------------------------------------------------------ progress
# A stream long enough for several redraws: Posiflora's orders (its list sends
# meta.total, so the line has a total and an ETA) under a rate limit.
RATE_LIMIT=60 SYSTEMS=posiflora write_config "page_size = 10"
LIVE='posiflora_test\.orders  [0-9]+/[0-9]+ records  [0-9]+ rec/s  ETA [0-9hms]+'

# live_lines FILE: how many live lines with a total and an ETA FILE holds.
live_lines() {
    tr '\r' '\n' <"$1" | grep -cE "$LIVE" || true
}

sed -i '1i [run]\nprogress = always' "$CONF"
flowetl run posiflora_test.orders --full-refresh
assert_exit 0 "a run with progress = always"
cp "$T/err" "$T/always.err"
assert_gt "$(live_lines "$T/err")" 1 "progress = always: live lines with records, total, rate and ETA"
assert_gt "$(grep -c $'\e\[2K' "$T/err" || true)" 0 "live lines are erased in place (ANSI)"
# a log line is never glued to a live line: each starts at the line's beginning
assert_eq 0 "$(tr '\r' '\n' <"$T/err" | grep -cE 'records  [0-9]+ rec/s.*[0-9]{4}-[0-9]{2}-[0-9]{2}T' || true)" \
    "no log line is printed after a live line on the same line"
assert_eq 0 "$(grep -c 'rec/s, [0-9]* requests' "$T/err" || true)" \
    "with live lines, no periodic progress log lines"

sed -i '2s/.*/progress = never/' "$CONF"
sed -i '2a progress_interval = 1s' "$CONF"
flowetl run posiflora_test.orders --full-refresh
assert_exit 0 "a run with progress = never"
assert_eq 0 "$(live_lines "$T/err")" "progress = never: no live line"
assert_eq 0 "$(grep -c $'\r' "$T/err" || true)" "progress = never: no carriage return"
assert_gt "$(grep -cE 'posiflora_test\.orders: [0-9]+ pages, [0-9]+ of [0-9]+ records, [0-9]+ rec/s, .*ETA [0-9]+ s' "$T/err" || true)" 0 \
    "progress = never: periodic progress lines, with the total and an ETA"

flowetl --log-format=json run posiflora_test.orders --full-refresh
assert_gt "$(jq_count '.event == "progress" and (.records | type) == "number" and
    .expected > 0 and (.rate | type) == "number" and .stream == "orders"')" 0 \
    "JSON format: progress events with records, expected and rate"

# auto: live lines only on a terminal. script(1) gives the run a pty.
sed -i '2,3d' "$CONF"
flowetl run posiflora_test.orders --full-refresh
assert_eq 0 "$(live_lines "$T/err")" "progress = auto without a terminal: no live line"
if command -v script >/dev/null; then
    FE_LAST_ARGS="(under script) run posiflora_test.orders --full-refresh"
    FE_RC=0
    script -qec "$FLOWETL_BIN -c $CONF run posiflora_test.orders --full-refresh" /dev/null \
        >"$T/out" 2>&1 </dev/null || FE_RC=$?
    cp "$T/out" "$T/err"
    fe_after_run "$T/out" "$T/err"
    assert_exit 0 "a run on a terminal"
    assert_gt "$(live_lines "$T/err")" 1 "progress = auto on a terminal: live lines with an ETA"
else
    not_ok "script (util-linux) is needed for the terminal check"
fi

finish
