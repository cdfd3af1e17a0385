#!/usr/bin/env bash
# Under 429s with Retry-After, 500 bursts, cut-off bodies, short-lived tokens and
# slow responses a full run still succeeds and loads exactly the truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

FAULTS='p429=0.05&retry_after=1&p500=0.02&burst500=2&pcut=0.02&token_ttl=3&slow_ms=5'

pg_start
sandbox_start --scale 0.2 --faults "$FAULTS"
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "run under faults exits 0"
assert_truth_matches "the load under faults matches the truth"

run=$(last_run_id)
retries=$(sql "select coalesce(sum(retries), 0) from etl.run_stream where run_id = $run")
http_429=$(sql "select coalesce(sum(http_429), 0) from etl.run_stream where run_id = $run")
assert_gt "$retries" 0 "etl.run_stream counts retries"
assert_gt "$http_429" 0 "etl.run_stream counts 429s"

sandbox_get /_sandbox/stats >"$T/stats.txt"
note "$(grep -E '^(requests|status_|cut|logins|refreshes)' "$T/stats.txt")"
logins=$(sandbox_stat logins)
refreshes=$(sandbox_stat refreshes)
if ((refreshes > 0 || logins > 1)); then
    ok "expired tokens were renewed (logins $logins, refreshes $refreshes)"
else
    not_ok "expired tokens were renewed (logins $logins, refreshes $refreshes)"
fi
sandbox_429=$(sandbox_stat status_429)
assert_le "$http_429" "$sandbox_429" "flowetl counts no more 429s than the sandbox sent"

finish
