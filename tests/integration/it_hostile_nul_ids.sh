#!/usr/bin/env bash
# Ids that steer a read are held to the data rules too, not only the values that
# are stored. With hostile nul_id= the first record of a list gets its id followed
# by "\u0000x": a client that cuts at the NUL reads the real id and goes on as if
# nothing happened. Flowwow: the shop list's first shopId is refused, the shop is
# left out of the products read with a warning, and that read is then not a full
# read (none of the shop's products is marked deleted). Flow Retail: the first
# root category's categoryUid is refused, the record is one reject with no
# record_id (never the cut id), and the walk is not complete (nothing marked
# deleted).
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="flowwow flowretail"

pg_start
sandbox_start --scale 0.1
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "the first run exits 0"
before=$(deleted_members)

sandbox_hostile "nul_id=flowwow_shops,fr_categories"

flowetl run flowwow_test.products
assert_exit 0 "Flowwow products with a refused shopId exits 0"
assert_stderr_contains "shops left out: their shopId is not a usable id" \
    "the refused shop is left out with a warning (not read as the id cut at its NUL)"
assert_stderr_contains "none is marked deleted this time" "the products read is not a full read"

flowetl run flowretail_test.categories
assert_exit 0 "Flow Retail categories with a refused categoryUid exits 0"
assert_eq $'(none)\tt' "$(sql "select coalesce(r.record_id, '(none)'), r.reason like '%categoryUid contains a NUL byte%'
                                 from etl.reject r join dw.dim_source s using (source_key)
                                where s.name = 'flowretail_test' and r.stream = 'categories'")" \
    "the root category is one reject, without a record_id (not the id cut at its NUL)"
assert_stderr_contains "a category was left out of the walk" "the walk is not complete"

assert_eq "$before" "$(deleted_members)" "nothing was marked deleted"

sandbox_hostile ""
flowetl run
assert_exit 0 "with the switch off the next run exits 0"
assert_truth_matches "and everything is exact"

finish
