#!/usr/bin/env bash
# Issue 9, item 4: bounded work per byte. Against the sandbox's hostile switches:
#   1. a response body that never ends (bytes keep coming, so the low-speed
#      timeout never fires): `request_timeout` ends the exchange, the stream fails
#      naming it, in seconds;
#   2. one record with a 40 MiB string: refused in time linear in its length
#      (the record cap applies while the token is read), memory bounded;
#   3. a Goflow report file that is a gzip bomb (a 2 MiB file inflating to one
#      string of 512 MiB): refused by the per-record cap at 1 MiB, in seconds
#      (report_max_bytes and report_max_ratio are unit-tested on their own).
# Each time nothing is deleted and the other streams load; with the API healthy
# again the next run is exact against the truth. A feature whose config key this
# flowetl does not know yet is reported as missing instead of run (an endless
# body or a bomb without its bound would only hang or eat the machine).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"


# config_key_known KEY: flowetl's key table has a [source.NAME] KEY.
config_key_known() {
    local keys
    keys=$("$FLOWETL_BIN" --help-config=markdown) # not piped into grep -q: pipefail
    grep -qF "| \`$1\` |" <<<"$keys"
}

hostile_start posiflora goflow flowretail

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "the first run exits 0"
deleted_members >"$T/deleted.before"

# -- 1. a body that never ends
sandbox_hostile "endless=stores"
if config_key_known request_timeout; then
    CONFIG_EXTRA_posiflora=$'retry_base_ms = 10\nrequest_timeout = 3s' write_config "retries = 1"
    flowetl_bounded 60 run posiflora_test
    assert_exit 1 "an endless body fails the run"
    assert_le "$FE_SECONDS" 20 "request_timeout ends it in seconds (2 attempts of 3 s)"
    assert_streams_failed posiflora_test.stores
    assert_streams_ok posiflora_test.categories posiflora_test.inventory_items \
        posiflora_test.bouquets posiflora_test.customers posiflora_test.orders
    write_config "retries = 1"
else
    not_ok "request_timeout is not a config key of this flowetl: an endless body is not bounded"
fi
assert_eq "$(cat "$T/deleted.before")" "$(deleted_members)" "endless body: nothing marked deleted"

# -- 2. one string of 40 MiB
sandbox_hostile "long_string=fr_products&long_mb=40"
flowetl_bounded 60 run flowretail_test --full-refresh
note "40 MiB string: $FE_SECONDS s, peak RSS $((FE_RSS_KB / 1024)) MiB, exit $FE_RC"
assert_le "$FE_SECONDS" 15 "the long string is dealt with in seconds"
((FE_RSS_KB == 0)) || assert_le "$FE_RSS_KB" $((512 * 1024)) "memory stays under 512 MiB (ASan included)"
if [[ $FE_RC == 1 ]] && grep -qE 'flowretail_test\.(products|packages) failed: .*(longer than|larger than|too long|cap)' "$T/err"; then
    ok "the stream fails naming the record cap"
elif [[ $FE_RC == 0 ]] && (($(sql "select count(*) from etl.reject where stream = 'products'
                                    and run_id = $(last_run_id)") == 1)); then
    ok "the record is one reject"
else
    not_ok "the long record fails its stream naming the cap, or is one reject (exit $FE_RC)"
    note_file "$T/err" 10
fi
if [[ $FE_RC != 124 ]]; then
    assert_streams_ok flowretail_test.categories flowretail_test.stock
fi
assert_eq "$(cat "$T/deleted.before")" "$(deleted_members)" "long string: nothing marked deleted"

# -- 3. a gzip bomb as the report file
sandbox_hostile "gzip_bomb=1&bomb_mb=512"
if config_key_known report_max_bytes && config_key_known report_max_ratio; then
    flowetl_bounded 120 run goflow_test.inventory
    note "gzip bomb: $FE_SECONDS s, peak RSS $((FE_RSS_KB / 1024)) MiB, exit $FE_RC"
    assert_exit 1 "a gzip bomb fails the inventory stream"
    assert_streams_failed goflow_test.inventory
    assert_le "$FE_SECONDS" 30 "the bomb is refused in seconds"
    assert_le "$FE_RSS_KB" $((1024 * 1024)) "memory stays under 1 GiB (ASan included)"
    # The bomb is one huge string: the per-record cap (while the token is read)
    # stops it at 1 MiB, before the decompressed-size and ratio caps, which
    # test_goflow_report checks on their own.
    if failure_line goflow_test.inventory | grep -qiE 'report_max_(bytes|ratio)|longer than [0-9]+ bytes'; then
        ok "the failure names the cap"
    else
        not_ok "the failure names the cap"
        note "$(failure_line goflow_test.inventory)"
    fi
else
    not_ok "report_max_bytes / report_max_ratio are not config keys of this flowetl: a gzip bomb is not bounded"
fi
assert_eq "$(cat "$T/deleted.before")" "$(deleted_members)" "gzip bomb: nothing marked deleted"

# -- healthy again
sandbox_hostile ""
flowetl run --full-refresh
assert_exit 0 "with the API healthy again the run exits 0"
assert_truth_matches "the next run matches the truth"

finish
