#!/usr/bin/env bash
# A full load matches the sandbox's truth; `init` is idempotent; a second run with
# nothing new changes no row and no incremental cursor; `status` lists every stream.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.5
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl init
assert_exit 0 "init again exits 0 (idempotent)"

flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
first_run=$(last_run_id)

# Cursors of the streams that read incrementally; full-read streams may store only
# when they were read, which a second run rightly changes.
cursors() {
    sql "select ss.stream, ss.cursor::text from etl.sync_state ss
           join dw.dim_source s using (source_key)
          where s.name = '$SOURCE' and ss.stream in ('customers', 'bouquets', 'orders')
          order by ss.stream"
}
cursors >"$T/cursors.1"
assert_eq 3 "$(wc -l <"$T/cursors.1")" "customers, bouquets and orders have cursors"

flowetl run
assert_exit 0 "second run exits 0"
second_run=$(last_run_id)
assert_gt "$second_run" "$first_run" "the second run has its own etl.run row"
streams=$(sql "select count(*) from etl.run_stream where run_id = $second_run")
assert_eq "${#POSIFLORA_STREAMS[@]}" "$streams" "the second run logged every stream"
changed=$(sql "select coalesce(string_agg(stream || ' +' || inserted || ' ~' || updated, ', '), '')
                 from etl.run_stream
                where run_id = $second_run and (inserted <> 0 or updated <> 0)")
assert_eq "" "$changed" "the second run inserted and updated nothing"
failed=$(sql "select count(*) from etl.run_stream where run_id = $second_run
                 and status <> 'succeeded'")
assert_eq 0 "$failed" "every stream of the second run succeeded"
cursors >"$T/cursors.2"
if diff "$T/cursors.1" "$T/cursors.2" >"$T/cursors.diff"; then
    ok "incremental cursors unchanged by the second run"
else
    not_ok "incremental cursors unchanged by the second run"
    note "$(cat "$T/cursors.diff")"
fi
assert_truth_matches "still matches the truth after the second run"

flowetl status
assert_exit 0 "status exits 0"
for s in "${POSIFLORA_STREAMS[@]}"; do
    assert_stdout_contains "$s" "status mentions $s"
done

finish
