#!/usr/bin/env bash
# The Citus layout (issue 15) on a cluster of a coordinator and two workers on this
# machine (scripts/citus-cluster.sh; Citus is built by ../shared/vendor/build-citus.sh
# when missing):
#   - `flowetl init` distributes the per-source tables by source_key, co-located, makes
#     dim_source and dim_date reference tables and carries source_key in every key;
#   - eight sources (two accounts of each of the four systems, so shards sit on both
#     workers) load exactly in one run, a re-run writes nothing, an incremental run
#     brings each back to its truth, kill -9 mid-load and a re-run lose and duplicate
#     nothing;
#   - the BI views answer on the cluster exactly what they answer on single-node
#     PostgreSQL loaded from the same sandbox;
#   - layout choices that cannot work are refused with a reason.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

export FE_IT_LAYOUT=citus
SYSTEMS="posiflora goflow flowwow flowretail"

pg_start
sandbox_start --scale 0.2 --faults slow_ms=1
goflow_fast

# Two sections per system: <system>_test and <system>_b (the same sandbox account
# under another pinned identity, so it is another source with its own source_key).
# max_delete_fraction = 1: the twenty change steps before the kill below delete
# every product a Flow Retail stream owns alone; the guard against that (tested in
# it_hostile_deletes) is not what this test is about.
write_config "checkpoint_records = 300" "max_delete_fraction = 1"
{
    for system in $SYSTEMS; do
        echo
        "config_section_$system" | sed "s/^\[source\.${system}_test\]/[source.${system}_b]/"
        echo "account = second-$system"
        echo "rate_limit = 1000"
        echo "rate_burst = 100"
        echo "checkpoint_records = 300"
        echo "max_delete_fraction = 1"
    done
} >>"$CONF"

flowetl init
assert_exit 0 "init on a Citus coordinator exits 0"
assert_stdout_contains "layout citus" "init says it made the Citus layout"

# --- the layout -------------------------------------------------------------------
dist=$(sql "select logicalrelid::regclass::text || ':' || partmethod::text || ':' ||
                   coalesce(column_to_column_name(logicalrelid, partkey), '-')
              from pg_dist_partition order by 1")
for t in dw.dim_store dw.dim_customer dw.dim_category dw.dim_product \
    dw.bridge_product_component dw.fact_order dw.fact_order_line dw.fact_payment \
    dw.fact_inventory_snapshot etl.sync_state etl.reject; do
    check "$t is distributed by source_key" grep -qx "$t:h:source_key" <<<"$dist"
done
for t in dw.dim_source dw.dim_date; do
    check "$t is a reference table" grep -qx "$t:n:-" <<<"$dist"
done
assert_eq 1 "$(sql "select count(distinct colocationid) from pg_dist_partition
                    where partmethod = 'h'")" "the distributed tables are co-located"
assert_eq "" "$(sql "select logicalrelid from pg_dist_partition
                      where logicalrelid in ('etl.run'::regclass, 'etl.run_stream'::regclass)")" \
    "the run bookkeeping stays local to the coordinator"
assert_eq "source_key, order_key" \
    "$(sql "select string_agg(a.attname, ', ' order by k.n)
              from pg_constraint c, unnest(c.conkey) with ordinality k(att, n)
              join pg_attribute a on a.attnum = k.att
             where c.conname = 'fact_order_pkey' and a.attrelid = c.conrelid")" \
    "fact_order's primary key carries source_key"
assert_gt "$(sql "select count(*) from pg_constraint where contype = 'f' and
                    conrelid = 'dw.fact_order_line'::regclass and array_length(conkey, 1) = 2")" 4 \
    "fact_order_line's foreign keys to the per-source tables carry source_key"

flowetl init
assert_exit 0 "a second init exits 0"
assert_stdout_contains "0 migration(s) applied now; layout citus" "a second init changes nothing"
flowetl check
assert_stdout_contains "layout citus" "check names the layout"

# --- full load, re-run, incremental -------------------------------------------------
flowetl run
assert_exit 0 "one run of eight sources exits 0"
assert_truth_matches "every <system>_test source matches its truth"
for system in $SYSTEMS; do
    truth_compare "$system" "${system}_b" "$T" &&
        ok "${system}_b matches its truth" || {
        not_ok "${system}_b matches its truth"
        note_file "$T/truth.diff" 20
    }
done
nodes=$(sql "select count(distinct nodename || nodeport)
               from pg_dist_shard_placement p join pg_dist_shard s using (shardid)
              where s.logicalrelid = 'dw.fact_order'::regclass
                and exists (select 1 from dw.dim_source d where d.source_key <> 0
                              and get_shard_id_for_distribution_column('dw.fact_order', d.source_key) = s.shardid)")
note "the eight sources' fact_order shards sit on $nodes node(s)"
assert_eq 0 "$(sql "select count(*) from dw.fact_order o join dw.dim_store s
                      on s.source_key = o.source_key and s.store_key = o.store_key
                     where s.source_key <> o.source_key")" "facts join their dimensions on (source_key, key)"

# --- the BI views: the same answers as on single-node PostgreSQL ------------------
# The same sandbox state loaded into a single-node server (before the sandbox moves on).
# The snapshot day is left out: it is the day each load read the stock, in the
# source's zone, and the two loads may fall on either side of its midnight.
views() {
    psql -XAtq -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U postgres -d dw <<'SQL'
select 'sales', s.name, v.date, v.store_name, v.currency, v.orders, v.revenue, v.units,
       v.net_revenue, v.canceled_orders
  from dw.v_sales_daily v join dw.dim_source s using (source_key) order by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
select 'payments', s.name, v.date, v.store_name, v.method, v.currency, v.payments, v.net_amount
  from dw.v_payments_daily v join dw.dim_source s using (source_key) order by 1, 2, 3, 4, 5, 6, 7, 8;
select 'customers', s.name, v.customer_id, v.orders, v.revenue, v.net_revenue
  from dw.v_customer_summary v join dw.dim_source s using (source_key) order by 1, 2, 3, 4, 5, 6;
select 'inventory', s.name, v.product_id, v.store_name, v.on_hand, v.available
  from dw.v_inventory_latest v join dw.dim_source s using (source_key) order by 1, 2, 3, 4, 5, 6;
SQL
}
views "$PGHOST" "$PGPORT" >"$T/views_citus.txt" 2>"$T/views_citus.err" ||
    not_ok "the BI views answer on Citus: $(head -3 "$T/views_citus.err")"
single=$T/single
envlines=$("$SOURCE_DIR/scripts/pgcluster.sh" start "$single") || bail "no single-node server"
single_host=$(eval "$envlines" && echo "$PGHOST")
FE_CLEANUP+=("$SOURCE_DIR/scripts/pgcluster.sh stop $single")
sed "s|^dsn = .*|dsn = host=$single_host port=5432 user=postgres dbname=dw|" "$CONF" >"$T/single.conf"
fe_exec "$FLOWETL_BIN" -c "$T/single.conf" init
assert_exit 0 "init on single-node PostgreSQL exits 0"
assert_stdout_contains "layout single" "init there makes the single-node layout"
fe_exec "$FLOWETL_BIN" -c "$T/single.conf" run
assert_exit 0 "the same eight sources load into single-node PostgreSQL"
views "$single_host" 5432 >"$T/views_single.txt" 2>"$T/views_single.err" ||
    not_ok "the BI views answer on single-node: $(head -3 "$T/views_single.err")"
assert_gt "$(wc -l <"$T/views_single.txt")" 100 "the views have rows to compare"
if diff -u "$T/views_single.txt" "$T/views_citus.txt" >"$T/views.diff"; then
    ok "the BI views answer the same on Citus and on single-node ($(wc -l <"$T/views_citus.txt") rows)"
else
    not_ok "the BI views answer the same on Citus and on single-node"
    note_file "$T/views.diff" 30
fi

flowetl run
assert_exit 0 "a re-run exits 0"
assert_eq 0 "$(sql "select coalesce(sum(inserted + updated + deleted), 0) from etl.run_stream
                     where run_id = $(last_run_id)")" "a re-run writes nothing"

sandbox_post "/_sandbox/advance?steps=3" >/dev/null
flowetl run
assert_exit 0 "an incremental run exits 0"
assert_truth_matches "every source matches its advanced truth"

# --- routing: a run of one source touches its own shards only --------------------
# Every statement of a load filters by source_key, so Citus runs it on the one shard
# group of that source. The workers' table statistics show it: after a run of
# posiflora_test alone (a full refresh: every merge runs), no shard of another
# source was scanned or written. Its own shards were (the measure works).
key=$(sql "select source_key from dw.dim_source where name = 'posiflora_test'")
sql "select s.logicalrelid::regclass::text || '_' || s.shardid,
            s.shardid = get_shard_id_for_distribution_column(s.logicalrelid, $key)
       from pg_dist_shard s join pg_dist_partition p using (logicalrelid)
      where p.partmethod = 'h'" >"$T/shards.txt"
worker_activity() { # MINE(t|f): scans and writes on the workers of those shards
    local list i total=0 n
    list=$(awk -F'\t' -v m="$1" '$2 == m { printf "%s'"'"'%s'"'"'", sep, $1; sep = "," }' "$T/shards.txt")
    for i in 1 2; do
        # Citus hides the shards from the catalog unless told otherwise.
        n=$(psql -XAtq -h "$T/citus/worker$i" -p $((PGPORT + i)) -U postgres -d dw \
            -c "set citus.override_table_visibility to off" -c "
              select coalesce(sum(seq_scan + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd
                                  + n_tup_del), 0)
                from pg_stat_user_tables where schemaname || '.' || relname in ($list)")
        total=$((total + n))
    done
    echo "$total"
}
for i in 1 2; do
    psql -XAtq -h "$T/citus/worker$i" -p $((PGPORT + i)) -U postgres -d dw \
        -c "select pg_stat_reset()" >/dev/null
done
flowetl run posiflora_test --full-refresh
assert_exit 0 "a full refresh of posiflora_test alone exits 0"
sleep 2 # the workers' backends report their table statistics when they end
assert_gt "$(worker_activity t)" 0 "posiflora_test's run scanned and wrote its own shards"
assert_eq 0 "$(worker_activity f)" "it touched no shard of another source (every statement routed)"

# --- kill -9 mid-load, then a re-run ----------------------------------------------
sandbox_post "/_sandbox/advance?steps=20" >/dev/null
flowetl_bg killed run --full-refresh
pid=$FE_BG_PID
sleep 1.5
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    ok "a full refresh was killed mid-load"
else
    wait "$pid" 2>/dev/null || true
    note "the full refresh finished before the kill"
fi
flowetl run
assert_exit 0 "the run after kill -9 exits 0"
assert_truth_matches "every source matches its truth after kill -9 and a re-run"
assert_eq 0 "$(dups dw.fact_order order_id)" "no duplicate orders"
assert_eq 0 "$(dups dw.fact_order_line "(order_id, line_id)")" "no duplicate order lines"
assert_eq 0 "$(dups dw.fact_payment payment_id)" "no duplicate payments"

# --- layouts that cannot work -------------------------------------------------------
cp "$T/single.conf" "$T/single_citus.conf"
sed -i 's/^\[warehouse\]$/[warehouse]\nlayout = citus/' "$T/single_citus.conf"
fe_exec "$FLOWETL_BIN" -c "$T/single_citus.conf" init
assert_exit 1 "layout = citus without the extension is refused"
assert_stderr_contains "citus extension is not installed" "the refusal says why"
fe_exec "$FLOWETL_BIN" -c "$T/single_citus.conf" run
assert_exit 2 "run with layout = citus on a warehouse that is not distributed is refused"
assert_stderr_contains "the warehouse is not distributed: run \`flowetl init\`" "the refusal says what to do"
# A database whose coordinator is not in Citus's metadata (workers only).
psql -XAtq -c "set client_min_messages to warning" -c "create database nometa" >/dev/null
for i in 1 2; do
    psql -XAtq -h "$T/citus/worker$i" -p $((PGPORT + i)) -U postgres -d postgres \
        -c "create database nometa" >/dev/null
    psql -XAtq -h "$T/citus/worker$i" -p $((PGPORT + i)) -U postgres -d nometa \
        -c "create extension citus" >/dev/null
done
psql -XAtq -d nometa -c "create extension citus" \
    -c "select citus_add_node('$(readlink -f "$T/citus/worker1")', $((PGPORT + 1)))" \
    -c "select citus_add_node('$(readlink -f "$T/citus/worker2")', $((PGPORT + 2)))" >/dev/null
sed "s|dbname=dw|dbname=nometa|" "$CONF" >"$T/nometa.conf"
fe_exec "$FLOWETL_BIN" -c "$T/nometa.conf" init
assert_exit 1 "the Citus layout without the coordinator in the metadata is refused"
assert_stderr_contains "citus_set_coordinator_host" "the refusal says what to run"
sed -i 's/^\[warehouse\]$/[warehouse]\nlayout = single/' "$CONF"
flowetl init
assert_exit 1 "layout = single on a distributed warehouse is refused"
assert_stderr_contains "has the Citus layout already" "the refusal says why"

finish
