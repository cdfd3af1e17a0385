#!/usr/bin/env bash
# Goflow inventory reports:
#  - a run killed (-9) while it polls a report leaves the report id in
#    etl.sync_state; the next run resumes that report, requests no other, and the
#    warehouse matches the truth (csv files, with quoted warehouse names);
#  - a run that gives up waiting (report_poll_max) keeps the pending report; an
#    expired one (404) is replaced by exactly one fresh request (jsonl files);
#  - every download goes the way Goflow's does: file_url is an absolute URL on
#    another host (localhost for 127.0.0.1) that redirects to the gzip'ed file,
#    and no request on that host carries the API token (the sandbox refuses it
#    with 400 and counts it); with a file_url on the API host (relative_file_url)
#    the token goes there and the cross-host redirect sheds it;
#  - a report file that is no report (json `{}`, an empty csv or jsonl file, a
#    csv whose first row is no header) fails the stream naming what is wrong:
#    exit 1, nothing committed, the cursor stays on the pending report (never
#    past it), and the next healthy run resumes that report.
# (429 storms and rate budgets: it_goflow_limits.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

# downloads_ok WHAT: every file served came through a redirect, none with a token.
downloads_ok() {
    assert_gt "$(goflow_control files.served)" 0 "$1: files were served"
    assert_eq "$(goflow_control files.redirected)" "$(goflow_control files.served)" \
        "$1: every file was reached through file_url's redirect"
    assert_eq 0 "$(goflow_control files.with_authorization)" \
        "$1: no request on the file host carried Authorization"
}

pending_id() {
    sql "select ss.cursor->'pending_report'->>'counts' from etl.sync_state ss
           join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and ss.stream = 'inventory'"
}

pg_start
sandbox_start --scale 0.1
goflow_fast
GOFLOW_REPORT_FORMAT=csv write_config
flowetl init
flowetl run goflow_test.stores goflow_test.warehouses goflow_test.products goflow_test.orders
assert_exit 0 "the other streams load"

# ---- kill -9 while polling, then resume
goflow_limits report_polls=100000 >/dev/null
flowetl_bg killed run goflow_test.inventory
pid=$FE_BG_PID
id=
for ((i = 0; i < 100; i++)); do
    [[ -z $id ]] || break
    sleep 0.1
    id=$(pending_id)
done
sleep 0.5
if [[ -n $id ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    ok "killed while polling report $id"
else
    wait "$pid" 2>/dev/null || true
    not_ok "killed while polling (pending id '${id:-none}')"
fi
assert_eq 1 "$(goflow_control reports.created.counts)" "one counts report requested before the kill"
goflow_limits report_polls=2 >/dev/null
flowetl run goflow_test.inventory
assert_exit 0 "the run after kill -9 exits 0"
assert_stderr_contains "resuming the inventory counts report $id" "it resumed report $id"
assert_eq 1 "$(goflow_control reports.created.counts)" "no new counts report was requested"
assert_eq 1 "$(goflow_control reports.created.values)" "no new values report was requested"
assert_truth_matches "csv reports match the truth after the resume"
downloads_ok "the resumed run"
assert_eq 2 "$(goflow_control files.served)" "the resumed run downloaded two files"
assert_eq "" "$(pending_id)" "no report is pending any more"

# ---- give up waiting, then an expired report is replaced once
goflow_limits report_polls=100000 >/dev/null
GOFLOW_REPORT_FORMAT=jsonl write_config "report_poll_max = 2s"
flowetl run goflow_test.inventory
assert_exit 1 "a report still processing after report_poll_max fails the stream"
assert_stderr_contains "the next run resumes it" "the failure says the next run resumes it"
assert_eq 2 "$(goflow_control reports.created.counts)" "that run requested one counts report"
goflow_limits expire_reports=1 report_polls=1 >/dev/null
flowetl run goflow_test.inventory
assert_exit 0 "the run after the report expired exits 0"
assert_stderr_contains "answers 404" "the expired report is noticed"
assert_eq 3 "$(goflow_control reports.created.counts)" "exactly one fresh counts report"
assert_truth_matches "jsonl reports match the truth"
downloads_ok "the jsonl runs"

# ---- file_url on the API host: the token goes there, the redirect sheds it
goflow_limits relative_file_url=1 report_polls=1 >/dev/null
write_config
flowetl run goflow_test.inventory
assert_exit 0 "a run with a path-absolute file_url exits 0"
assert_truth_matches "json reports through a same-host file_url match the truth"
assert_gt "$(goflow_control files.auth_on_api_host)" 0 \
    "the token went to the same-host file_url, as Goflow's clients send it"
downloads_ok "the same-host file_url run"

# ---- report files that are no report (hostile empty= / blank= on the download)
report_cursor() {
    sql "select ss.cursor->>'report_id' from etl.sync_state ss
           join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and ss.stream = 'inventory'"
}
goflow_limits relative_file_url=0 report_polls=1 >/dev/null
warehouse_fingerprint >"$T/fingerprint.before"
created_before=$(goflow_control reports.created.counts)
# refused_file FORMAT SPEC MESSAGE: one run against a report file served so.
refused_file() {
    GOFLOW_REPORT_FORMAT=$1 write_config "retries = 1"
    sandbox_hostile "$2"
    flowetl run goflow_test.inventory
    assert_exit 1 "$1, $2: the run exits 1"
    assert_streams_failed goflow_test.inventory
    assert_stderr_contains "$3" "$1, $2: the failure says '$3'"
    assert_eq failed "$(stream_stat goflow_test.inventory status)" "$1, $2: etl.run_stream says failed"
    if [[ $(stream_stat goflow_test.inventory error) == *"$3"* ]]; then
        ok "$1, $2: etl.run_stream.error names it"
    else
        not_ok "$1, $2: etl.run_stream.error names it"
        note "$(stream_stat goflow_test.inventory error)"
    fi
    assert_warehouse_unchanged "$T/fingerprint.before" "$1, $2: the warehouse is unchanged"
    assert_eq "" "$(report_cursor)" "$1, $2: the cursor did not move past the report"
    assert_gt "$(pending_id)" 0 "$1, $2: the report stays pending for the next run"
}
refused_file json "empty=goflow_files" "report file: not a JSON array"
refused_file csv "blank=goflow_files" "report file: no header row"
refused_file csv "empty=goflow_files" "report file: the header row names no product_id column"
refused_file jsonl "blank=goflow_files" "report file: no rows, but the report counts"
sandbox_hostile ""
GOFLOW_REPORT_FORMAT=json write_config # the format the pending report was made in
flowetl run goflow_test.inventory
assert_exit 0 "healthy files again: the run exits 0"
assert_eq $((created_before + 1)) "$(goflow_control reports.created.counts)" \
    "the refused files cost one counts report, resumed until read"
assert_eq "" "$(pending_id)" "no report is pending any more"
assert_truth_matches "the resumed report matches the truth"

# ---- the sandbox side: file_url is on the other host; a leaked token fails
goflow_limits relative_file_url=0 report_polls=0 >/dev/null
auth="Authorization: Bearer $GOFLOW_TOKEN"
id=$(curl -fsS -H "$auth" -X POST -d '{"columns":["product_id"],"format":"json"}' \
    "$SANDBOX_URL/goflow/v1/reports/inventory/counts" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
url=$(curl -fsS -H "$auth" "$SANDBOX_URL/goflow/v1/reports/$id" |
    sed -n 's/.*"file_url":"\([^"]*\)".*/\1/p')
file_host=${SANDBOX_URL/127.0.0.1/localhost}
if [[ $url == "$file_host/goflow/files/"* ]]; then
    ok "file_url is on the other host ($url)"
else
    not_ok "file_url on $file_host (got '$url')"
fi
assert_eq 302 "$(curl -s -o /dev/null -w '%{http_code}' "$url")" "file_url answers a redirect"
assert_eq "[" "$(curl -fsSL "$url" | gunzip | head -c 1)" "the redirect leads to the gzip'ed json"
assert_eq 400 "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" "$url")" \
    "file_url with the API token answers 400"
assert_eq 1 "$(goflow_control files.with_authorization)" "the sandbox counted that leaked token"

finish
