#!/usr/bin/env bash
# Goflow inventory reports:
#  - a run killed (-9) while it polls a report leaves the report id in
#    etl.sync_state; the next run resumes that report, requests no other, and the
#    warehouse matches the truth (csv files, with quoted warehouse names);
#  - a run that gives up waiting (report_poll_max) keeps the pending report; an
#    expired one (404) is replaced by exactly one fresh request (jsonl files).
# (429 storms and rate budgets: it_goflow_limits.sh)
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

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

finish
