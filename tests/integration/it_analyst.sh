#!/usr/bin/env bash
# The analysts' papercuts of issue 12 (sql/006_analyst.sql and the Posiflora mapping):
#   * a warehouse made by the migrations before 006 (with an unknown order that a
#     line and a payment point to, and a store zone '7') is fixed by `flowetl init`;
#   * after a load of all four sources, count(*) of dw.fact_order is the number of
#     orders the sandbox serves (no key-0 row), every dim_store.timezone is an IANA
#     name or NULL, Posiflora products with an article have a sku, and the views'
#     orders, gross, returned and net revenue agree with the sandbox truth.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow flowwow flowretail"

pg_start
sandbox_start --scale 0.1
goflow_fast
write_config

# ---------------------------------------------------------------- an old warehouse
# The migrations before 006 applied as flowetl applies them (with their checksums),
# and rows as the old loader wrote them.
for f in "$SOURCE_DIR"/sql/00[1-5]_*.sql; do
    psql -XAtq -v ON_ERROR_STOP=1 -f "$f" >/dev/null
    sql "insert into etl.schema_migration (name, checksum)
         values ('$(basename "$f")', '$(md5sum <"$f" | cut -d' ' -f1)')" >/dev/null
done
sql "insert into dw.dim_source (system, account, name) values ('posiflora', 'old', 'old');
     insert into dw.dim_store (source_key, kind, store_id, timezone)
     select source_key, 'store', s.id, s.tz from dw.dim_source,
            (values ('s7', '7'), ('smsk', 'Europe/Moscow')) s(id, tz) where name = 'old';
     insert into dw.fact_order_line (source_key, order_id, line_id)
     select source_key, 'not-loaded', '1' from dw.dim_source where name = 'old';
     insert into dw.fact_payment (source_key, payment_id, order_id, payment_type)
     select source_key, 'p-not-loaded', 'not-loaded', 'payment' from dw.dim_source
      where name = 'old'" >/dev/null
assert_eq 1 "$(sql "select count(*) from dw.fact_order")" "before 006: fact_order holds the unknown order"

flowetl init
assert_exit 0 "init applies 006 to the old warehouse"
assert_eq 0 "$(sql "select count(*) from dw.fact_order")" "006 removes the unknown order"
assert_eq "NULL NULL" "$(sql "select coalesce(l.order_key::text, 'NULL') || ' ' ||
                                     coalesce(p.order_key::text, 'NULL')
                                from dw.fact_order_line l join dw.fact_payment p using (source_key, order_id)
                               where l.order_id = 'not-loaded'")" \
    "006 leaves a line and a payment of an order not loaded with order_key NULL"
assert_eq "s7=NULL smsk=Europe/Moscow" \
    "$(sql "select string_agg(store_id || '=' || coalesce(timezone, 'NULL'), ' ' order by store_id)
              from dw.dim_store where store_id in ('s7', 'smsk')")" \
    "006 clears the Posiflora timezone id and keeps the IANA name"
if psql -XAtq -c "insert into dw.fact_order (order_key, source_key, order_id)
                  overriding system value values (0, 0, '')" >/dev/null 2>&1; then
    not_ok "an unknown-order row is refused after 006"
else
    ok "an unknown-order row is refused after 006"
fi

# ---------------------------------------------------------------- a load of all four
flowetl run
assert_exit 0 "one run of all four sources exits 0"
assert_truth_matches "every source matches its truth"

# truth_of SYSTEM METRIC: one value of the sandbox truth (empty when absent);
# truth_num: the same, 0 when absent.
truth_of() {
    truth "$1" | awk -F'\t' -v m="$2" '$2 == m { print $3 }'
}
truth_num() {
    truth "$1" | awk -F'\t' -v m="$2" '$2 == m { v = $3 } END { print v + 0 }'
}

want_orders=0
for system in $SYSTEMS; do
    want_orders=$((want_orders + $(truth_num "$system" orders.count)))
done
assert_gt "$want_orders" 0 "the sandbox serves orders"
assert_eq "$want_orders" "$(sql "select count(*) from dw.fact_order")" \
    "count(*) of fact_order is the number of orders the sandbox serves"

bad_zones=$(sql "select coalesce(string_agg(distinct timezone, ','), '') from dw.dim_store
                  where timezone is not null
                    and timezone not in (select name from pg_timezone_names)")
assert_eq "" "$bad_zones" "every dim_store.timezone is an IANA name or NULL"
stores=$(sql "select count(*) from dw.dim_store d join dw.dim_source s using (source_key)
               where s.name = 'posiflora_test' and d.timezone is null and not d.is_inferred
                 and d.store_key <> 0")
assert_eq "$(truth_of posiflora stores.count)" "$stores" \
    "Posiflora's stores (the sandbox sends timezone id '7') have timezone NULL"

# The sandbox's Posiflora articles: a bouquet's docNo. (Its inventory items carry no
# vendor codes; the first-non-blank rule is tested in unit.test_posiflora_map.)
assert_eq "$(truth_num posiflora products.count)" \
    "$(sql "select count(*) from dw.dim_product p join dw.dim_source s using (source_key)
             where s.name = 'posiflora_test' and not p.is_inferred and not p.is_deleted
               and p.product_key <> 0")" \
    "Posiflora's products are loaded"
assert_eq 0 "$(sql "select count(*) from dw.dim_product p join dw.dim_source s using (source_key)
                    where s.name = 'posiflora_test' and p.product_type = 'bouquet'
                      and p.sku is null")" "every Posiflora bouquet has its docNo as sku"

# The views against the truth, per system that serves orders.
for system in $SYSTEMS; do
    total=$(truth_of "$system" orders.total)
    [[ -n $total ]] || continue
    got=$(sql "select sum(orders + canceled_orders) || ' ' || sum(returned_orders) || ' ' ||
                      sum(net_orders)
                 from dw.v_sales_daily where source_name = '${system}_test'")
    want="$(truth_num "$system" orders.count) $(truth_num "$system" orders.status_group.returned)"
    want+=" $(($(truth_num "$system" orders.status_group.open) + $(truth_num "$system" orders.status_group.completed)))"
    assert_eq "$want" "$got" "$system: v_sales_daily orders, returned_orders, net_orders"
    # gross + the canceled orders' total = every order's total (the truth's).
    got=$(sql "select ((select sum(v.gross_revenue) from dw.v_sales_daily v
                         where v.source_name = '${system}_test')
                       + (select coalesce(sum(o.total), 0)
                            from dw.fact_order o join dw.dim_source s using (source_key)
                           where s.name = '${system}_test' and not o.is_deleted
                             and o.status_group = 'canceled'))::numeric(20,4)")
    assert_eq "$total" "$got" "$system: gross_revenue + canceled totals = the truth's orders.total"
    got=$(sql "select (select sum(v.returned_revenue) from dw.v_sales_daily v
                        where v.source_name = '${system}_test')
                      = (select coalesce(sum(o.total), 0)
                           from dw.fact_order o join dw.dim_source s using (source_key)
                          where s.name = '${system}_test' and not o.is_deleted
                            and o.status_group = 'returned')
                      and (select bool_and(v.net_revenue = v.gross_revenue - v.returned_revenue
                                           and v.revenue = v.gross_revenue)
                             from dw.v_sales_daily v where v.source_name = '${system}_test')")
    assert_eq t "$got" "$system: returned_revenue is the returned orders' total; net = gross - returned"
done
assert_gt "$(sql "select sum(returned_revenue)::bigint from dw.v_sales_daily
                   where source_name = 'posiflora_test'")" 0 \
    "Posiflora has returned orders, netted out of net_revenue"
assert_eq t "$(sql "select (select sum(net_revenue) + sum(returned_revenue) = sum(revenue)
                         from dw.v_customer_summary)
                      and (select sum(returned_orders) from dw.v_customer_summary)
                          = (select count(*) from dw.fact_order
                              where status_group = 'returned' and not is_deleted
                                and customer_key <> 0)")" \
    "v_customer_summary: revenue = net_revenue + returned_revenue"
assert_eq "" "$(sql "select coalesce(string_agg(c.relname || '.' || a.attname, ', '), '')
                       from pg_attribute a join pg_class c on c.oid = a.attrelid
                      where c.relnamespace = 'dw'::regnamespace
                        and c.relname in ('v_sales_daily', 'v_customer_summary')
                        and a.attnum > 0 and col_description(c.oid, a.attnum) is null")" \
    "every column of the changed views has a comment"

finish
