#!/usr/bin/env bash
# Posiflora and Goflow in one `flowetl run` (one worker per source, concurrently):
# both warehouses-worth of data equal their sandbox truths, and a second run
# changes nothing in either.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow"

pg_start
sandbox_start --scale 0.1
goflow_fast
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "one run of both sources exits 0"
assert_truth_matches "posiflora and goflow both match their truths"
run1=$(last_run_id)
streams=$(sql "select count(*) from etl.run_stream where run_id = $run1 and status = 'succeeded'")
assert_eq $((${#POSIFLORA_STREAMS[@]} + ${#GOFLOW_STREAMS[@]})) "$streams" \
    "every stream of both sources succeeded in the one run"

flowetl run
assert_exit 0 "a second run of both exits 0"
run2=$(last_run_id)
changed=$(sql "select coalesce(string_agg(stream || ' +' || inserted || ' ~' || updated, ', '), '')
                 from etl.run_stream where run_id = $run2 and (inserted <> 0 or updated <> 0)")
assert_eq "" "$changed" "the second run changed nothing in either source"
assert_truth_matches "both still match their truths"

finish
