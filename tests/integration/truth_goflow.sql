-- The Goflow ground-truth metrics (docs/internals.md) computed from the warehouse
-- for the source named :'src'; lib.sh sorts the lines byte-wise. Unknown and
-- inferred members are not counted as dimension rows; orders and lines count live
-- rows only (split originals and their lines are is_deleted). Inventory metrics
-- are over the latest snapshot day of the source.
set datestyle = 'ISO';
with src as (
    select source_key, system from dw.dim_source where name = :'src'
), o as (
    select f.* from dw.fact_order f join src using (source_key) where not f.is_deleted
), l as (
    select f.* from dw.fact_order_line f join src using (source_key) where not f.is_deleted
), inv as (
    select f.* from dw.fact_inventory_snapshot f join src using (source_key)
     where f.snapshot_date_key = (select max(snapshot_date_key)
                                    from dw.fact_inventory_snapshot g
                                   where g.source_key = f.source_key)
), m(metric, value) as (
    select 'stores.count', count(*)::text
      from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'channel' and not d.is_inferred and not d.is_deleted
    union all
    select 'warehouses.count', count(*)::text
      from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'warehouse' and not d.is_inferred and not d.is_deleted
    union all
    select 'products.count', count(*)::text
      from dw.dim_product d join src using (source_key)
     where d.product_key <> 0 and not d.is_inferred and not d.is_deleted
    union all
    select 'components.count', count(*)::text
      from dw.bridge_product_component b join src using (source_key) where not b.is_deleted
    union all
    select 'orders.count', count(*)::text from o
    union all
    select 'orders.total', coalesce(sum(total), 0)::numeric(20,4)::text from o
    union all
    select 'orders.status_group.' || g, (select count(*) from o where o.status_group = g)::text
      from unnest(array['open', 'completed', 'canceled']) g
    union all
    select 'order_lines.count', count(*)::text from l
    union all
    select 'order_lines.quantity', coalesce(sum(quantity), 0)::numeric(20,4)::text from l
    union all
    select 'order_lines.line_total', coalesce(sum(line_total), 0)::numeric(20,4)::text from l
    union all
    select 'inventory.rows', count(*)::text from inv
    union all
    select 'inventory.on_hand', coalesce(sum(on_hand), 0)::numeric(20,4)::text from inv
    union all
    select 'inventory.available', coalesce(sum(available), 0)::numeric(20,4)::text from inv
    union all
    select 'inventory.on_order', coalesce(sum(on_order), 0)::numeric(20,4)::text from inv
    union all
    select 'inventory.value', coalesce(sum(inventory_value), 0)::numeric(20,4)::text from inv
    union all
    select 'day.' || d.date::text || '.orders', count(*)::text
      from o join dw.dim_date d on d.date_key = o.order_date_key group by d.date
    union all
    select 'day.' || d.date::text || '.total', coalesce(sum(o.total), 0)::numeric(20,4)::text
      from o join dw.dim_date d on d.date_key = o.order_date_key group by d.date
)
select src.system || E'\t' || m.metric || E'\t' || m.value from m cross join src;
