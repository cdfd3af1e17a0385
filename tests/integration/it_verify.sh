#!/usr/bin/env bash
# Self-verifying loads (issue 13): a clean load of every source verifies with zero
# differences (every etl.reconcile row ok, after the run and with `flowetl verify`);
# then the warehouse is changed by hand and `flowetl verify` names the order:
# an order deleted (a count differs, narrowed to its day, the id named), an amount
# changed by 0.01 (Posiflora's order analytics revenue; --deep for Flowwow and
# Goflow names the order). With verify = fail, `run` exits 5 on a difference.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow flowwow flowretail"

pg_start
sandbox_start --scale 0.05
goflow_fast
write_config

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "one run of all four sources exits 0"
assert_stderr_contains "verified against the source" "the run verifies each stream after it commits"
after_run=$(sql "select count(*) from etl.reconcile where run_id = $(last_run_id)")
assert_gt "$after_run" 0 "the run's verifications are rows of etl.reconcile"
bad=$(sql "select count(*) from etl.reconcile where status <> 'ok'")
assert_eq 0 "$bad" "after a clean load every comparison of the run is ok"

flowetl verify
assert_exit 0 "flowetl verify of a clean load exits 0"
for s in posiflora_test.orders posiflora_test.stores posiflora_test.inventory_items posiflora_test.bouquets posiflora_test.customers goflow_test.orders flowwow_test.orders flowretail_test.products; do
    assert_stdout_contains "$s: ok" "$s verifies with zero differences"
done
bad=$(sql "select count(*) from etl.reconcile where status <> 'ok'")
assert_eq 0 "$bad" "every etl.reconcile row of the clean load is ok"
src_rows=$(sql "select count(distinct source_key) from etl.reconcile")
assert_eq 4 "$src_rows" "every source was compared"
rev=$(sql "select count(*) from etl.reconcile where measure = 'revenue' and status = 'ok'")
assert_gt "$rev" 0 "Posiflora's order analytics revenue was compared"

flowetl verify --deep flowwow_test goflow_test
assert_exit 0 "flowetl verify --deep of a clean load exits 0"
deep=$(sql "select count(*) from etl.reconcile where measure = 'rows' and status = 'ok'")
assert_eq 2 "$deep" "the deep comparisons (Flowwow, Goflow) are ok"

flowetl verify --json posiflora_test
assert_exit 0 "verify --json exits 0"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["exit"]==0 and {x["status"] for x in d["streams"]}=={"ok"} and len(d["streams"])==5' "$T/out"; then
    ok "verify --json prints one JSON document"
else
    not_ok "verify --json prints one JSON document"
fi

# --- an order deleted from the warehouse by hand ------------------------------
for sys in posiflora flowwow goflow; do
    id=$(sql "select o.order_id from dw.fact_order o join dw.dim_source s using (source_key)
               where s.name = '${sys}_test' and not o.is_deleted order by o.order_id limit 1 offset 3")
    sql "delete from dw.fact_order_line where order_key = (select order_key from dw.fact_order o
           join dw.dim_source s using (source_key) where s.name = '${sys}_test' and o.order_id = '$id');
         delete from dw.fact_payment where order_key = (select order_key from dw.fact_order o
           join dw.dim_source s using (source_key) where s.name = '${sys}_test' and o.order_id = '$id');
         delete from dw.fact_order o using dw.dim_source s where s.source_key = o.source_key
           and s.name = '${sys}_test' and o.order_id = '$id'" >/dev/null
    flowetl verify "${sys}_test.orders"
    assert_exit 5 "$sys: an order deleted by hand makes verify exit 5"
    assert_stdout_contains "missing: $id" "$sys: verify names the deleted order $id"
    named=$(sql "select count(*) from etl.reconcile r join dw.dim_source s using (source_key)
                  where s.name = '${sys}_test' and r.status = 'mismatch' and r.detail like '%missing: $id%'")
    assert_gt "$named" 0 "$sys: etl.reconcile holds the mismatch with the id"
done

# with verify = fail, the run exits 5 (Posiflora: the whole list is compared)
CONFIG_EXTRA_posiflora="verify = fail" write_config
flowetl run posiflora_test.orders
assert_exit 5 "verify = fail: a run whose verification differs exits 5"
assert_stderr_contains "verify = fail" "the run says why it exits 5"
CONFIG_EXTRA_posiflora="verify = warn" write_config
flowetl run posiflora_test.orders
assert_exit 0 "verify = warn: the same difference is a warning, exit 0"
assert_stderr_contains "verification: " "the warning names the difference"


# --- a full refresh brings the orders back: verify is clean again -------------
flowetl run --full-refresh
assert_exit 0 "a full refresh exits 0"
flowetl verify
assert_exit 0 "after the full refresh, verify finds no difference"

# --- an amount changed by 0.01 in the warehouse --------------------------------
# Posiflora: its order analytics revenue differs; narrowed to the day, the day's
# orders are compared row by row and the order is named. Flowwow and Goflow
# publish no money: --deep over the order's day names it.
for sys in posiflora flowwow goflow; do
    read -r id day < <(sql "select o.order_id, case when '$sys' = 'flowwow'
              then to_char(to_date(o.order_date_key::text, 'YYYYMMDD'), 'YYYY-MM-DD')
              else to_char((o.ordered_at at time zone 'UTC')::date, 'YYYY-MM-DD') end
              from dw.fact_order o join dw.dim_source s using (source_key)
              where s.name = '${sys}_test' and not o.is_deleted and o.status_group in ('open', 'completed')
              order by o.order_id limit 1 offset 5" | tr '|' ' ')
    sql "update dw.fact_order o set total = total + 0.01 from dw.dim_source s
          where s.source_key = o.source_key and s.name = '${sys}_test' and o.order_id = '$id'" >/dev/null
    if [[ $sys == posiflora ]]; then
        flowetl verify "${sys}_test.orders"
        assert_exit 5 "$sys: an amount changed by 0.01 makes verify exit 5"
        assert_stdout_contains "(revenue)" "$sys: the order analytics revenue differs"
    else
        flowetl verify "${sys}_test.orders" --deep --from "$day" --to "$day"
        assert_exit 5 "$sys: an amount changed by 0.01 makes verify --deep exit 5"
    fi
    assert_stdout_contains "different: $id" "$sys: the changed order $id is named"
    sql "update dw.fact_order o set total = total - 0.01 from dw.dim_source s
          where s.source_key = o.source_key and s.name = '${sys}_test' and o.order_id = '$id'" >/dev/null
done

# usage errors exit 2; a source that cannot be read exits 1 (an `error` row)
flowetl verify nosuch
assert_exit 2 "verify of an unknown source exits 2"
flowetl verify posiflora_test.nosuch
assert_exit 2 "verify of an unknown stream exits 2"
flowetl verify --from 2025-13-01
assert_exit 2 "verify --from with a bad date exits 2"
flowetl verify --from 2025-12-02 --to 2025-12-01
assert_exit 2 "verify with --to before --from exits 2"
CONFIG_EXTRA_posiflora=$'retries = 1\nretry_base_ms = 10' write_config
sandbox_faults "malformed=orders"
flowetl verify posiflora_test.orders
assert_exit 1 "verify of a source whose list cannot be read exits 1"
err_rows=$(sql "select count(*) from etl.reconcile where status = 'error' and detail like '%invalid JSON%'")
assert_gt "$err_rows" 0 "the comparison that could not be made is an error row with its reason"
sandbox_faults ""
write_config

# dw.v_load_health: one row per stream with its last verification
health=$(sql "select verification from dw.v_load_health h join dw.dim_source s using (source_key)
               where s.name = 'flowwow_test' and h.stream = 'orders'")
assert_eq mismatch "$health" "dw.v_load_health shows the last verification of a stream"
flowetl verify flowwow_test
health=$(sql "select verification from dw.v_load_health where source_name = 'flowwow_test' and stream = 'orders'")
assert_eq ok "$health" "a clean verification shows as ok in dw.v_load_health"

# status shows each stream's last verification (text and --json)
flowetl status flowwow_test.orders
assert_stdout_contains "verified: ok at" "status shows the last verification of a stream"
flowetl status goflow_test.orders --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=[s["verification"] for s in d["streams"]]; assert v[0]["status"]=="mismatch" and v[0]["mismatches"]>0, v' "$T/out"; then
    ok "status --json gives the last verification (goflow: the deep mismatch above)"
else
    not_ok "status --json gives the last verification (goflow: the deep mismatch above)"
    note_file "$T/out" 5
fi

finish
