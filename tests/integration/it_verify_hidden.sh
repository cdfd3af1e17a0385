#!/usr/bin/env bash
# Self-verifying loads (issue 13) against a source that hid an order while it was
# loaded: the sandbox's `--mismatch hide-order=VENDOR` hides one order (Flow Retail:
# one product) from every list, total and aggregate, so the load and its own page
# checks pass; restarted with the same seed and scale without the switch, the order
# is back with an old update time behind the stored cursor (a late-arriving order),
# and `flowetl verify` must find the count difference and name the order by
# narrowing to its day and diffing ids there. With verify = fail the next run exits
# 5. Then `--mismatch amount-off=posiflora`: the order analytics revenue is 0.01
# higher than the orders it covers, and verify finds it on the order's day.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow flowwow flowretail"
VENDORS="posiflora flowwow goflow flowretail"

pg_start
sandbox_start --scale 0.05 --mismatch hide-order=posiflora,flowwow,goflow,flowretail
goflow_fast
write_config
declare -A hidden
for v in $VENDORS; do
    hidden[$v]=$(sandbox_get /_sandbox/truth |
        awk -F'\t' -v k="$v.hidden_order" '$1 == "mismatch" && $2 == k { print $3 }')
    [[ -n ${hidden[$v]} ]] || bail "the sandbox names no hidden order for $v"
done

flowetl init
assert_exit 0 "init exits 0"
flowetl run
assert_exit 0 "the load with the orders hidden exits 0"
bad=$(sql "select count(*) from etl.reconcile where status <> 'ok'")
assert_eq 0 "$bad" "while the source hides them, source and warehouse agree"
flowetl verify
assert_exit 0 "flowetl verify agrees while the orders are hidden"

# The same data, the orders visible again, on the same port (the same identity).
port=${SANDBOX_URL##*:}
sandbox_stop
sandbox_start --scale 0.05 --port "$port"
goflow_fast
back=$(sandbox_get /_sandbox/truth | awk -F'\t' '$1 == "mismatch" && $2 ~ /hidden_order/' | wc -l)
assert_eq 0 "$back" "the restarted sandbox hides nothing"

flowetl verify
assert_exit 5 "verify finds the orders the load skipped: exit 5"
for v in $VENDORS; do
    assert_stdout_contains "missing: ${hidden[$v]}" "$v: verify names the skipped record ${hidden[$v]}"
    named=$(sql "select count(*) from etl.reconcile r join dw.dim_source s using (source_key)
                  where s.name = '${v}_test' and r.status = 'mismatch'
                    and r.detail like '%missing: ${hidden[$v]}%'")
    assert_gt "$named" 0 "$v: etl.reconcile names ${hidden[$v]}"
done
flowetl verify --json
assert_exit 5 "verify --json exits 5 too"
if python3 - "$T/out" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
assert d["exit"] == 5
assert any(s["status"] == "mismatch" and s["differences"] for s in d["streams"])
PY
    ok "verify --json lists the differences"
else
    not_ok "verify --json lists the differences"
fi

# An incremental run does not see the late order; with verify = fail it exits 5.
CONFIG_EXTRA_posiflora="verify = fail" CONFIG_EXTRA_flowretail="verify = fail" write_config
flowetl run posiflora_test.orders flowretail_test.products
assert_exit 5 "verify = fail: the run that cannot see the skipped order exits 5"
assert_stderr_contains "missing: ${hidden[posiflora]}" "the run's warning names the Posiflora order"
assert_stderr_contains "missing: ${hidden[flowretail]}" "the run's warning names the Flow Retail product"
CONFIG_EXTRA_posiflora="verify = off" CONFIG_EXTRA_flowretail="verify = off" write_config
flowetl run posiflora_test.orders flowretail_test.products
assert_exit 0 "verify = off: the same run exits 0"

# The source's money aggregate is off by 0.01 (the records are right).
sandbox_stop
sandbox_start --scale 0.05 --port "$port" --mismatch amount-off=posiflora
off_id=$(sandbox_get /_sandbox/truth |
    awk -F'\t' '$1 == "mismatch" && $2 == "posiflora.amount_off_order" { print $3 }')
off_day=$(sql "select to_char((ordered_at at time zone 'UTC')::date, 'YYYY-MM-DD') from dw.fact_order
                where order_id = '$off_id'")
flowetl run --full-refresh posiflora_test.orders
assert_exit 0 "a full refresh of Posiflora orders (the late order loaded) exits 0"
flowetl verify posiflora_test.orders
assert_exit 5 "amount-off=posiflora: verify exits 5"
assert_stdout_contains "day $off_day status new,assembled,courier,done (revenue): source" \
    "the revenue difference is narrowed to the day of order $off_id ($off_day)"
deep_ok=$(sql "select count(*) from etl.reconcile where measure = 'rows' and status = 'ok'
                 and scope like '%day $off_day%'")
assert_eq 1 "$deep_ok" "the day's orders themselves agree row by row (the aggregate is off)"

finish
