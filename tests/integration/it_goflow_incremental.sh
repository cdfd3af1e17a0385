#!/usr/bin/env bash
# Goflow: after sandbox change steps (new orders, status changes, edits that keep
# the status, split orders, stock changes) an incremental run matches the new
# truth: the status_updated_at pass finds new and changed orders, the re-scan by
# date finds edits that did not move status_updated_at, and the originals of split
# orders (deleted at the source, named by the pieces' original_order_id) are
# marked deleted with their lines. A run with rescan_days = 0 misses the edits.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=goflow
SOURCE=goflow_test

pg_start
sandbox_start --scale 0.2
goflow_fast
write_config

flowetl init
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
live_before=$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
                    where s.name = '$SOURCE' and not o.is_deleted")

changes=$(sandbox_post "/_sandbox/advance?steps=24")
split=$(awk -F'\t' '$2 == "changes.goflow_orders_split" { print $3 }' <<<"$changes")
edited=$(awk -F'\t' '$2 == "changes.goflow_orders_edited" { print $3 }' <<<"$changes")
assert_gt "$split" 0 "the sandbox split orders"
assert_gt "$edited" 0 "the sandbox edited orders without a status change"

# Without the re-scan the edits that kept their status are missed.
CONFIG_EXTRA_goflow="rescan_days = 0" write_config
flowetl run goflow_test.orders
assert_exit 0 "incremental run without re-scan exits 0"
truth goflow | grep -v 'inventory\.' >"$T/t.txt"
warehouse_truth "$SOURCE" goflow | grep -v 'inventory\.' >"$T/w.txt"
if diff -q "$T/t.txt" "$T/w.txt" >/dev/null; then
    not_ok "without the re-scan the edited orders differ from the truth"
else
    ok "without the re-scan the edited orders differ from the truth"
fi

write_config
flowetl run
assert_exit 0 "incremental run exits 0"
assert_truth_matches "incremental load matches the new truth"
assert_stderr_contains "re-scanning orders dated from" "the run re-scans by date"

# A tombstone only marks the loaded original deleted: it keeps its amounts and
# its lines (now deleted); originals split before the first load are not created.
deleted=$(sql "select count(distinct o.order_id) from dw.fact_order o
                 join dw.dim_source s using (source_key)
                 join dw.fact_order_line l using (source_key, order_key)
                where s.name = '$SOURCE' and o.is_deleted")
assert_eq "$split" "$deleted" "every split original that was loaded is marked deleted"
blank=$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
              where s.name = '$SOURCE' and o.is_deleted and o.total is null")
assert_eq 0 "$blank" "deleted originals keep their amounts (total is not blanked)"
orphans=$(sql "select count(*) from dw.fact_order_line l join dw.fact_order o using (source_key, order_key)
                where o.is_deleted and not l.is_deleted")
assert_eq 0 "$orphans" "the lines of deleted originals are deleted too"
live_after=$(sql "select count(*) from dw.fact_order o join dw.dim_source s using (source_key)
                   where s.name = '$SOURCE' and not o.is_deleted")
assert_gt "$live_after" "$live_before" "new orders were loaded"

flowetl run
assert_exit 0 "a third run exits 0"
run3=$(last_run_id)
changed=$(sql "select coalesce(string_agg(stream || ' +' || inserted || ' ~' || updated, ', '), '')
                 from etl.run_stream where run_id = $run3 and (inserted <> 0 or updated <> 0)")
assert_eq "" "$changed" "a run with nothing new changes nothing"
assert_truth_matches "still matches the truth"

finish
