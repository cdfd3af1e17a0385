#!/usr/bin/env bash
# A config NAME stays bound to the (system, account) it first loaded. Changing
# 127.0.0.1 to localhost in base_url (same API, same data) is refused with exit 2,
# nothing run and nothing doubled, and a message showing both accounts and the way
# forward; `account = 127.0.0.1:PORT` pins the identity and loads into the same
# rows; `flowetl rebind NAME` moves the name, so the next run creates a new source
# row while the old rows keep their source_key.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
write_config
flowetl init
assert_exit 0 "init exits 0"
port=${SANDBOX_URL##*:}

flowetl run
assert_exit 0 "the first run exits 0"
key=$(source_key)
orders=$(sql "select count(*) from dw.fact_order where source_key = $key")
assert_gt "$orders" 0 "the first run loaded orders"
revenue=$(sql "select sum(revenue) from dw.v_sales_daily")

# --- the host changes: refused, nothing run
sed -i "s|^base_url = http://127.0.0.1:|base_url = http://localhost:|" "$CONF"
requests=$(sandbox_stat requests)
flowetl run
assert_exit 2 "a run whose account changed exits 2"
assert_stderr_contains "[source.$SOURCE] is bound to posiflora account '127.0.0.1:$port' (dw.dim_source key $key), but its config now gives account 'localhost:$port': nothing was run."
assert_stderr_contains "Add \`account = 127.0.0.1:$port\` to [source.$SOURCE] if it is the same account, or run \`flowetl rebind $SOURCE\` to bind the name to the new account (the old rows keep their source_key $key)"
assert_eq "$requests" "$(sandbox_stat requests)" "no API request was sent"
assert_eq 1 "$(sql "select count(*) from dw.dim_source where source_key <> 0")" \
    "no second dw.dim_source row"
assert_eq 6 "$(sql "select count(*) from etl.run_stream
                      where run_id = (select max(run_id) from etl.run)
                        and status = 'failed' and error like '%is bound to posiflora account%'")" \
    "every stream is recorded failed with the reason"
assert_eq "failed" "$(sql "select status from etl.run order by run_id desc limit 1")" \
    "etl.run ends failed"

flowetl check
assert_exit 2 "check says run would refuse the changed account (exit 2)"
assert_stdout_contains "identity: REFUSED: [source.$SOURCE] is bound to posiflora account '127.0.0.1:$port'"

# --- pinned: the same rows, nothing doubled
echo "account = 127.0.0.1:$port" >>"$CONF"
flowetl run --full-refresh
assert_exit 0 "with account pinned the run exits 0"
assert_eq 1 "$(sql "select count(*) from dw.dim_source where source_key <> 0")" \
    "still one dw.dim_source row"
assert_eq "$orders" "$(sql "select count(*) from dw.fact_order where source_key <> 0")" \
    "no order was loaded twice"
assert_eq "$revenue" "$(sql "select sum(revenue) from dw.v_sales_daily")" \
    "v_sales_daily's revenue is not doubled"
assert_truth_matches "with account pinned"
flowetl check
assert_exit 0 "check with account pinned exits 0"
assert_stdout_contains "identity: posiflora account '127.0.0.1:$port' (dw.dim_source key $key)"

# --- rebind: the name moves to the new account
sed -i '/^account = /d' "$CONF"
flowetl rebind
assert_exit 2 "rebind without a NAME exits 2"
flowetl rebind no_such_source
assert_exit 2 "rebind of a NAME not in the config exits 2"
flowetl rebind "$SOURCE"
assert_exit 0 "rebind exits 0"
assert_stdout_contains "dw.dim_source key $key (posiflora account '127.0.0.1:$port') renamed from '$SOURCE' to '$SOURCE@127.0.0.1:$port'; the rows loaded under it keep source_key $key"
assert_stdout_contains "the next run binds $SOURCE to posiflora account 'localhost:$port' (a new dw.dim_source row"
flowetl run
assert_exit 0 "the run after rebind exits 0"
assert_eq "$SOURCE localhost:$port" "$(sql "select name || ' ' || account from dw.dim_source
                                          where source_key not in (0, $key)")" \
    "the run created a new source row for the new account"
assert_eq "$SOURCE@127.0.0.1:$port" "$(sql "select name from dw.dim_source where source_key = $key")" \
    "the old row keeps its key under its new name"
assert_eq "$orders" "$(sql "select count(*) from dw.fact_order where source_key = $key")" \
    "the old rows keep their source_key"
flowetl rebind "$SOURCE"
assert_exit 0 "a second rebind exits 0"
assert_stdout_contains "nothing to rebind"

finish
