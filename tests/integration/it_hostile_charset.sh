#!/usr/bin/env bash
# An API's error in another charset: the sandbox's stores endpoint answers 502
# with a gateway's page in windows-1251 (hostile cp1251=). The error quotes the
# body, and PostgreSQL refuses text that is not UTF-8 (SQLSTATE 22021): without
# care the stream's row and the run's end are lost and the run stays `running`.
# The run must fail (exit 1) with everything recorded: etl.run failed with a
# reason, the stream's row failed with its error, all of it valid UTF-8 ('?' for
# the bytes), and `status --json` stays valid JSON.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

hostile_start posiflora
flowetl init
assert_exit 0 "init exits 0"

sandbox_hostile "cp1251=stores"
flowetl run posiflora_test.stores
assert_exit 1 "a 502 in windows-1251 fails the run"
assert_streams_failed posiflora_test.stores
assert_stderr_contains "HTTP 502"
run=$(last_run_id)
assert_eq "failed" "$(sql "select status from etl.run where run_id = $run")" \
    "etl.run is not left running: it ends failed"
assert_eq 1 "$(sql "select count(*) from etl.run where run_id = $run and finished_at is not null
                      and reason like '%stream(s) failed; first: posiflora_test.stores: %HTTP 502%'")" \
    "etl.run has an end and a reason quoting the real error"
assert_eq "failed" "$(sql "select string_agg(distinct status, ',') from etl.run_stream
                            where run_id = $run and stream = 'stores'")" \
    "the stores row is failed"
assert_eq 1 "$(sql "select count(*) from etl.run_stream where run_id = $run and stream = 'stores'
                      and error like '%HTTP 502%<html><body><h1>502</h1>?????? ?????: ?%'")" \
    "its error keeps the real error, the windows-1251 bytes as '?'"
assert_eq 0 "$(sql "select count(*) from etl.run_stream where run_id = $run
                      and (status = 'running' or (status = 'failed' and coalesce(error, '') = ''))")" \
    "no stream row left running, every failed one has an error"
assert_eq 0 "$(sql "select count(*) from etl.run where status = 'running'")" "no run left running"
if iconv -f UTF-8 -t UTF-8 "$T/err" >/dev/null 2>&1; then
    ok "stderr is valid UTF-8"
else
    not_ok "stderr is valid UTF-8"
fi

flowetl status --json
if python3 -c 'import json, sys; json.load(sys.stdin)' <"$T/out" 2>"$T/json.err"; then
    ok "status --json is valid JSON"
else
    not_ok "status --json is valid JSON"
    note_file "$T/json.err" 5
fi

# -- healthy again
sandbox_hostile ""
flowetl run
assert_exit 0 "with the API healthy again the run exits 0"
assert_truth_matches "the next run matches the truth"

finish
