#!/usr/bin/env bash
# flowetl state list/show/set/reset, run --full-refresh=SOURCE.STREAM (a persistent
# request that survives a failed full read) and run --from/--to (a window that never
# moves a stored cursor backwards), on the sandbox's Posiflora.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.3
LOOKBACK=0s write_config

# state_cursor STREAM: the stored cursor of a stream, as jsonb text.
state_cursor() {
    sql "select cursor::text from etl.sync_state where stream = '$1'"
}
# pending STREAM: who requested a pending full refresh ("" = none).
pending() {
    sql "select coalesce(full_refresh_requested_by, '') from etl.sync_state where stream = '$1'"
}

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "full run exits 0"
assert_truth_matches "full load matches the truth"
full_orders=$(stream_stat "$SOURCE.orders" records)
full_customers=$(stream_stat "$SOURCE.customers" records)
assert_gt "$full_orders" 0 "the full load read orders"

# ---- list and show match etl.sync_state
flowetl state list --json
assert_exit 0 "state list --json exits 0"
sql "select s.name || '.' || st.stream || ' ' || st.cursor::text || ' ' || st.run_id
     from etl.sync_state st join dw.dim_source s using (source_key)
     order by 1" >"$T/db_state.txt"
python3 - "$T/out" >"$T/list_state.txt" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in sorted(rows, key=lambda r: r["source"] + "." + r["stream"]):
    assert r["full_refresh_pending"] is False
    # jsonb's own text form, as psql prints it
    cur = json.dumps(r["cursor"], separators=(", ", ": "))
    print(f'{r["source"]}.{r["stream"]} {cur} {r["run_id"]}')
PY
check "state list --json equals etl.sync_state (cursor and run_id of every stream)" \
    diff -u "$T/db_state.txt" "$T/list_state.txt"
assert_eq "$(wc -l <"$T/list_state.txt")" "${#POSIFLORA_STREAMS[@]}" "one row per configured stream"

flowetl state list
assert_exit 0 "state list exits 0"
orders_at=$(sql "select cursor->>'updatedAt' from etl.sync_state where stream = 'orders'")
assert_stdout_contains "$orders_at" "state list shows the orders cursor"
flowetl state show "$SOURCE.orders"
assert_exit 0 "state show exits 0"
assert_stdout_contains "\"updatedAt\": \"$orders_at\"" "state show prints the cursor in full"
assert_stdout_contains "meaning:" "state show says what the cursor means"
assert_stdout_contains "date window:  orders by their update time" "state show names the window"
flowetl state show "$SOURCE.orders" --json
assert_exit 0 "state show --json exits 0"
check "state show --json: cursor, run_id and meaning" python3 - "$T/out" \
    "$orders_at" "$(sql "select run_id from etl.sync_state where stream = 'orders'")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cursor"] == {"updatedAt": sys.argv[2]}, d
assert d["run_id"] == int(sys.argv[3]), d
assert d["full_refresh_pending"] is False and d["meaning"] and "updatedAt" in d["fields"], d
PY

# ---- usage errors exit 2
for args in "state" "state frob" "state show $SOURCE" "state show $SOURCE.nosuch" \
    "state set $SOURCE.orders" "state list nosuch" "run --to 2026-01-01" \
    "run --from 2026-13-01" "run --from 2026-02-01 --to 2026-01-01" "run --from" \
    "run --from 2026-01-01 --full-refresh" "run --from 2026-01-01 --full-refresh=$SOURCE.orders" \
    "run --full-refresh=nosuch.orders" "run --full-refresh=$SOURCE.nosuch" \
    "run $SOURCE.customers --full-refresh=$SOURCE.orders" "run --full-refresh=,"; do
    # shellcheck disable=SC2086 # split on purpose
    flowetl $args
    assert_exit 2 "flowetl $args: usage error, exit 2"
done

# ---- set
before=$(state_cursor orders)
for bad in '{"updatedAt": 5}' 'not json' '{"day": "2026-01-01"}' '{}' '[1]' \
    '{"updatedAt": "yesterday"}'; do
    flowetl state set "$SOURCE.orders" "$bad" --yes
    assert_exit 2 "state set refuses the cursor $bad"
done
assert_stderr_contains 'expected {"updatedAt": "<date-time, ISO 8601>", "modifiedAt"' \
    "the refusal shows the expected shape"
flowetl state set "$SOURCE.orders" '{"updatedAt": "2000-01-01T00:00:00Z"}'
assert_exit 2 "state set without --yes exits 2"
assert_stderr_contains "would replace the cursor" "without --yes it says what would change"
assert_eq "$(state_cursor orders)" "$before" "nothing changed without --yes"

# A run holding the source: set and reset are refused, nothing changes.
sandbox_faults slow_ms=300
flowetl_bg slow run "$SOURCE.stores"
assert_eq "$(wait_source_lock "$FE_BG_PID")" 1 "a slow run holds the source's lock"
flowetl state set "$SOURCE.orders" '{"updatedAt": "2000-01-01T00:00:00Z"}' --yes
assert_exit 4 "state set while a run holds the source exits 4"
assert_stderr_contains "nothing was changed" "the refusal says nothing changed"
flowetl state reset "$SOURCE.orders" --yes
assert_exit 4 "state reset while a run holds the source exits 4"
flowetl_bg_wait "$FE_BG_PID" slow
sandbox_faults ""
assert_eq "$(state_cursor orders)" "$before" "the refused set changed nothing"
assert_eq "$(pending orders)" "" "the refused reset requested nothing"

flowetl state set "$SOURCE.orders" '{"updatedAt": "2000-01-01T00:00:00Z"}' --yes
assert_exit 0 "state set --yes with a valid cursor exits 0"
assert_eq "$(state_cursor orders)" '{"updatedAt": "2000-01-01T00:00:00Z"}' "the cursor was replaced"
flowetl run "$SOURCE.orders"
assert_exit 0 "the run after state set exits 0"
assert_stderr_contains "reading orders with updatedAt >= 2000-01-01T00:00:00Z" \
    "the next run resumes from the cursor that was set"
assert_eq "$(stream_stat "$SOURCE.orders" records)" "$full_orders" \
    "it read every order again (all are newer than the cursor set)"
assert_eq "$(state_cursor orders)" "$before" "the cursor is back at the newest order"
assert_truth_matches "the warehouse still matches the truth"

# ---- reset
cust_before=$(state_cursor customers)
flowetl state reset "$SOURCE.customers"
assert_exit 2 "state reset without --yes exits 2"
assert_stderr_contains "would make the next run read $SOURCE.customers in full" \
    "without --yes it says what would change"
assert_eq "$(pending customers)" "" "no request without --yes"
flowetl state reset "$SOURCE.customers" --yes
assert_exit 0 "state reset --yes exits 0"
assert_eq "$(pending customers)" "state reset" "the request is stored"
assert_eq "$(state_cursor customers)" "$cust_before" "the cursor is kept"
flowetl state list "$SOURCE.customers"
assert_stdout_contains "pending since" "state list shows the pending full refresh"
flowetl run "$SOURCE.customers"
assert_exit 0 "the run after state reset exits 0"
assert_stderr_contains "full read (stored cursor $cust_before ignored: full refresh requested by state reset)" \
    "the log says the cursor is ignored and which request"
assert_eq "$(stream_stat "$SOURCE.customers" records)" "$full_customers" "customers read in full"
assert_eq "$(pending customers)" "" "the request is cleared by the full read"
assert_truth_matches "the warehouse still matches the truth after the reset's full read"
flowetl run "$SOURCE.customers"
assert_le "$(stream_stat "$SOURCE.customers" records)" 5 "the run after is incremental again"

# ---- run --full-refresh=SOURCE.STREAM: only that stream
flowetl run --full-refresh="$SOURCE.orders"
assert_exit 0 "run --full-refresh=$SOURCE.orders exits 0"
assert_eq "$(stream_stat "$SOURCE.orders" records)" "$full_orders" "orders read in full"
assert_le "$(stream_stat "$SOURCE.customers" records)" 5 "customers read incrementally"
assert_stderr_contains "$SOURCE.orders: starting: full read (stored cursor" "orders: a full read"
assert_stderr_contains "full refresh requested by run --full-refresh (run" "the log names the flag"
check "customers did not start a full read" \
    bash -c "! grep -q '$SOURCE.customers: starting: full read' '$T/err'"
assert_eq "$(pending orders)" "" "no request left once the full read committed"

# A failed full refresh leaves the request pending; the next plain run honours it.
sandbox_faults malformed=orders
flowetl run "$SOURCE.orders" --full-refresh="$SOURCE.orders"
assert_exit 1 "a full refresh that fails exits 1"
failed_run=$(last_run_id)
assert_eq "$(pending orders)" "run --full-refresh (run $failed_run)" "the request stays pending"
sandbox_faults ""
flowetl run "$SOURCE.orders"
assert_exit 0 "the next plain run exits 0"
assert_stderr_contains "full refresh requested by run --full-refresh (run $failed_run)" \
    "it honours the pending request"
assert_eq "$(stream_stat "$SOURCE.orders" records)" "$full_orders" "and reads the orders in full"
assert_eq "$(pending orders)" "" "then the request is cleared"
assert_truth_matches "the warehouse matches the truth after the retried full refresh"

# Plain --full-refresh no longer says "no cursor" while one is stored.
flowetl run "$SOURCE.bouquets" --full-refresh
assert_exit 0 "run --full-refresh exits 0"
assert_stderr_contains "$SOURCE.bouquets: starting: full read (stored cursor" \
    "plain --full-refresh says the stored cursor is ignored"
check "and not 'no cursor'" bash -c "! grep -q 'no cursor' '$T/err'"

# ---- run --from/--to
before=$(state_cursor orders)
cursor_day=$(sql "select (cursor->>'updatedAt')::timestamptz::date from etl.sync_state where stream = 'orders'")
flowetl run --from 2000-01-01
assert_exit 0 "run --from 2000-01-01 exits 0"
assert_stderr_contains "skipping the streams without a date window: $SOURCE.stores" \
    "the streams without a window are skipped with one line"
assert_eq "$(grep -c 'skipping the streams without a date window' "$T/err")" 1 "one line"
assert_eq "$(stream_stat "$SOURCE.orders" records)" "$full_orders" "the window up to today reads every order"
assert_eq "$(state_cursor orders)" "$before" "the cursor is not moved (the window reached it)"
assert_truth_matches "the warehouse is unchanged against the truth after a window"

early_to=$(sql "select date '$cursor_day' - 30")
flowetl run "$SOURCE.orders" --from 2000-01-01 --to "$early_to"
assert_exit 0 "a window ending before the cursor exits 0"
early=$(stream_stat "$SOURCE.orders" records)
assert_gt "$early" 0 "the early window has orders"
assert_le "$early" "$((full_orders - 1))" "it reads only the window"
assert_eq "$(state_cursor orders)" "$before" "the cursor is never moved backwards"
assert_truth_matches "the warehouse is unchanged against the truth"

# A window that starts after the stored cursor leaves a gap: the cursor stays.
flowetl state set "$SOURCE.orders" '{"updatedAt": "2000-01-01T00:00:00Z"}' --yes
flowetl run "$SOURCE.orders" --from 2001-01-01
assert_exit 0 "a window after the cursor exits 0"
assert_eq "$(state_cursor orders)" '{"updatedAt": "2000-01-01T00:00:00Z"}' \
    "a window after the cursor does not move it over the gap"
# A window that covers the stored cursor moves it forward to what it reached.
flowetl run "$SOURCE.orders" --from 1999-12-01
assert_exit 0 "a window over the cursor exits 0"
assert_eq "$(state_cursor orders)" "$before" "the cursor moves forward to the newest order read"
assert_truth_matches "the warehouse matches the truth after the windows"

finish
