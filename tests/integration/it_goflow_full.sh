#!/usr/bin/env bash
# Goflow: a full load matches the sandbox's truth (orders, lines, products and kit
# components, channels, warehouses, the inventory report joined with the values
# report); a second run changes nothing and spends one report per generator; a
# split original is marked deleted; the report file is downloaded without the
# API token; `check` prints the report quota; `status` lists every stream.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

pg_start
sandbox_start --scale 0.2
goflow_fast
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
assert_eq 1 "$(goflow_control reports.created.counts)" "one counts report requested"
assert_eq 1 "$(goflow_control reports.created.values)" "one values report requested"
assert_eq 0 "$(sandbox_stat status_400)" "no request was refused (the download sent no token)"

money=$(sql "select sum(o.total) from dw.fact_order o join dw.dim_source s using (source_key)
              where s.name = '$SOURCE' and not o.is_deleted")
assert_eq "$(truth goflow | awk -F'\t' '$2 == "orders.total" { print $3 }')" "$money" \
    "sum(fact_order.total) equals the truth exactly"
upper=$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
              where s.name = '$SOURCE' and o.currency is not null and o.currency <> upper(o.currency)")
assert_eq 0 "$upper" "currencies are upper case"
eur=$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
            where s.name = '$SOURCE' and o.currency = 'EUR'")
assert_gt "$eur" 0 "lower-case eur arrives as EUR"

cursor=$(sql "select ss.cursor::text from etl.sync_state ss join dw.dim_source s using (source_key)
               where s.name = '$SOURCE' and ss.stream = 'orders'")
if [[ $cursor == *status_updated_at* ]]; then
    ok "orders cursor is status_updated_at"
else
    not_ok "orders cursor is status_updated_at"
    note "$cursor"
fi

flowetl run
assert_exit 0 "second run exits 0"
run2=$(last_run_id)
changed=$(sql "select coalesce(string_agg(stream || ' +' || inserted || ' ~' || updated, ', '), '')
                 from etl.run_stream
                where run_id = $run2 and stream <> 'inventory' and (inserted <> 0 or updated <> 0)")
assert_eq "" "$changed" "the second run inserted and updated nothing (but the new snapshot)"
assert_truth_matches "still matches the truth after the second run"
assert_eq 2 "$(goflow_control reports.created.counts)" "the second run requested one counts report"

flowetl check
assert_exit 0 "check exits 0"
assert_stdout_contains "report quota inventory_counts" "check prints the report quota"

flowetl status
assert_exit 0 "status exits 0"
for s in "${GOFLOW_STREAMS[@]}"; do
    assert_stdout_contains "$s" "status mentions $s"
done

finish
