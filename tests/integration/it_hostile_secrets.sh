#!/usr/bin/env bash
# Issue 9, item 3: secrets stay with their host, and no secret appears in any
# output or table. Against the sandbox's hostile switches and its foreign host
# (another address: 127.0.0.2):
#   1. the Posiflora login answers 307 to the foreign host: the password is not
#      re-posted there; the stream fails naming the foreign host;
#   2. a Goflow `next` link points at the foreign host: the bearer token is not
#      sent there; the orders stream fails naming it, the other streams load;
#   3. error bodies echo the request's credentials (the Goflow, Flowwow and Flow
#      Retail tokens, the Posiflora access token, the refresh token of a
#      refresh, the password of a login);
# and afterwards no credential the sandbox knows (the password, the configured
# tokens, every token it issued, or a 20-byte piece of one) is in any stdout or
# stderr of the test's runs or in any etl.* row; the foreign host got no
# credential; the next run is exact against the truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

hostile_start posiflora goflow flowwow flowretail
foreign=$(foreign_stat url)
foreign_host=${foreign#http://}
foreign_host=${foreign_host%%:*}
[[ $foreign_host == 127.0.0.2 ]] || bail "the sandbox has no foreign host ($foreign)"

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "the first run exits 0"

# -- 1. a login answered with 307 to another host
sandbox_hostile "redirect=sessions:POST"
flowetl run posiflora_test.stores
assert_exit 1 "a login redirected to another host fails the run"
assert_streams_failed posiflora_test.stores
assert_stderr_contains "$foreign_host" "the failure names the foreign host"
assert_eq 0 "$(foreign_stat with_secret)" "the password did not reach the foreign host"

# -- 2. a `next` link to another host
sandbox_hostile "foreign_next=goflow_orders"
before=$(foreign_stat requests)
# A full read: the orders list is three pages, so page 1 has a `next`.
flowetl run goflow_test --full-refresh
assert_exit 1 "a next link to another host fails the run"
assert_streams_failed goflow_test.orders
assert_streams_ok goflow_test.stores goflow_test.warehouses goflow_test.products goflow_test.inventory
if failure_line goflow_test.orders | grep -qF "$foreign_host"; then
    ok "the orders failure names the foreign host"
else
    not_ok "the orders failure names the foreign host"
    note "$(failure_line goflow_test.orders)"
fi
assert_eq 0 "$(foreign_stat with_authorization)" "no Authorization header reached the foreign host"
assert_eq 0 "$(foreign_stat with_secret)" "no credential reached the foreign host"
note "foreign host: $(($(foreign_stat requests) - before)) request(s) during the Goflow run"

# -- 3. error bodies that echo the credentials
sandbox_hostile "echo=goflow_warehouses,flowwow_products,fr_products,stores"
flowetl run
assert_exit 1 "error bodies echoing tokens fail their streams"
assert_streams_failed goflow_test.warehouses flowwow_test.products flowretail_test.products \
    posiflora_test.stores
# (Goflow's inventory reads the warehouses, Flow Retail's packages the products.)
assert_le 4 "$(sql "select count(*) from etl.run_stream where run_id = $(last_run_id)
                    and status = 'failed' and error like '%Request refused%'")" \
    "etl.run_stream keeps the errors, echo included"

# The refresh token: short-lived access tokens make every batch refresh, and the
# refresh's error echoes its body (the session logs in again).
sandbox_faults "token_ttl=2"
sandbox_hostile "echo=sessions:PATCH"
flowetl run posiflora_test.customers
assert_exit 0 "a refresh that fails falls back to a login"
assert_stderr_contains "session refresh failed" "the failed refresh is reported"
sandbox_faults ""

# The password: a login whose error echoes it.
sandbox_hostile "echo=sessions:POST"
flowetl run posiflora_test.stores
assert_exit 1 "a login refused with an echo fails"

assert_no_secrets "no credential in any output or etl table"
assert_eq 0 "$(foreign_stat with_secret)" "the foreign host never got a credential"

# -- healthy again
sandbox_hostile ""
flowetl run
assert_exit 0 "with the API healthy again the run exits 0"
assert_truth_matches "the next run matches the truth"
assert_no_secrets "still no credential in any output or etl table"

finish
