#!/usr/bin/env bash
# Flowwow under faults: 429s with Retry-After, 500 bursts, cut-off bodies and slow
# answers still end equal to the truth; a malformed orders page fails only the
# orders stream; a server that ignores `page` of orders/list (the same first page
# twice) fails the orders stream clearly and leaves its cursor alone; a 0-based
# orders/list is read whole with orders_page_base = 0 and refused (not silently
# short) with the default base 1; a wrong token is a clear 401 failure.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowwow
SOURCE=flowwow_test
FAULTS='p429=0.02&retry_after=1&p500=0.02&burst500=2&pcut=0.02&slow_ms=1'
# Short backoffs: the 429s still wait their Retry-After.
CONFIG_EXTRA_flowwow='retry_base_ms = 20'

pg_start
sandbox_start --scale 0.1
write_config
flowetl init
assert_exit 0 "init exits 0"

sandbox_faults "$FAULTS"
flowetl run
assert_exit 0 "run under faults exits 0"
sandbox_faults ""
assert_truth_matches "the load under faults matches the truth"
run=$(last_run_id)
assert_gt "$(sql "select coalesce(sum(retries), 0) from etl.run_stream where run_id = $run")" 0 \
    "etl.run_stream counts retries"
assert_gt "$(sql "select coalesce(sum(http_429), 0) from etl.run_stream where run_id = $run")" 0 \
    "etl.run_stream counts 429s"

cursor() {
    sql "select ss.cursor::text from etl.sync_state ss join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and ss.stream = 'orders'"
}
before=$(cursor)

sandbox_faults "malformed=flowwow_orders"
flowetl run
assert_exit 1 "a malformed orders page fails the run (exit 1)"
assert_stderr_contains "invalid JSON" "the failure names the bad JSON"
assert_eq 2 "$(sql "select count(*) from etl.run_stream where run_id = $(last_run_id)
                    and status = 'succeeded'")" "shops and products still succeed"
assert_eq "$before" "$(cursor)" "the failed orders stream leaves its cursor alone"
sandbox_faults ""

# A server that ignores `page`: the New Year's Eve rush at shop 1001 needs two pages.
FLOWWOW_PATH=/q/ignore-page write_config
flowetl run flowwow_test.orders
assert_exit 1 "a server ignoring page fails the orders stream"
assert_stderr_contains "page 2 holds the same records as page 1" \
    "the failure says the first page came back twice"
assert_stderr_contains "shop 1001 day 2025-12-31" "the failure names the shop and the day"
assert_eq "$before" "$(cursor)" "the cursor stays where it was"

# A 0-based orders/list: the default base 1 would skip its first page.
FLOWWOW_PATH=/q/page0 write_config "orders_page_base = 0"
flowetl run flowwow_test.orders --full-refresh
assert_exit 0 "orders_page_base = 0 reads a 0-based server"
assert_truth_matches "the 0-based read matches the truth"
FLOWWOW_PATH=/q/page0 write_config
flowetl run flowwow_test.orders --full-refresh
assert_exit 1 "the default base 1 against a 0-based server fails"
assert_stderr_contains "is the page base right" "the failure points at orders_page_base"

write_config
sed -i 's/^token = .*/token = wrong-token/' "$CONF"
flowetl run flowwow_test.shops
assert_exit 1 "a wrong token fails"
assert_stderr_contains "HTTP 401" "the failure says 401"
if grep -qF "wrong-token" "$T/err"; then
    not_ok "the token is not printed"
else
    ok "the token is not printed"
fi

finish
