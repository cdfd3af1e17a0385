#!/usr/bin/env bash
# All four sources in one `flowetl run` into one warehouse (one worker thread per
# source, concurrently): each equals its sandbox truth, the analysts' query
#   select s.system, sum(o.total) from dw.fact_order o join dw.dim_source s
#     using (source_key) group by 1
# is exact for every source, and a second run after the data advanced brings
# each source back to its truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow flowwow flowretail"

pg_start
sandbox_start --scale 0.1
goflow_fast
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "one run of all four sources exits 0"
assert_truth_matches "every source matches its truth"

# The issue's own question, answered per system from the warehouse, against the
# sandbox's orders.total for that system (sources without orders are absent).
sql "select s.system, sum(o.total)::numeric(20,4)
       from dw.fact_order o join dw.dim_source s using (source_key)
      where not o.is_deleted and o.source_key <> 0
      group by 1 order by 1" >"$T/sum_by_system.txt"
for system in $SYSTEMS; do
    want=$(truth "$system" | awk -F'\t' '$2 == "orders.total" { print $3 }')
    got=$(awk -F'\t' -v s="$system" '$1 == s { print $2 }' "$T/sum_by_system.txt")
    if [[ -n $want ]]; then
        assert_eq "$want" "$got" "sum(total) of $system equals the sandbox's orders.total"
    else
        # Flow Retail's API has no orders: the warehouse must hold none for it.
        assert_eq "" "$got" "$system serves no orders and the warehouse holds none"
    fi
done

sources=$(sql "select count(distinct source_key) from etl.run_stream where run_id = $(last_run_id)")
assert_eq 4 "$sources" "the one run loaded four sources"

sandbox_post "/_sandbox/advance?steps=2" >/dev/null
flowetl run
assert_exit 0 "an incremental run of all four exits 0"
assert_truth_matches "every source matches its advanced truth"

finish
