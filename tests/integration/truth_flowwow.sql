-- The Flowwow ground-truth metrics (docs/internals.md, "Ground truth metrics
-- (Flowwow)") computed from the warehouse for the source named :'src'; lib.sh
-- sorts the lines byte-wise. Unknown (key 0) and inferred members are not counted.
-- Products, orders and lines count live rows only; inventory is the latest
-- snapshot day of the source, for products that are not deleted.
set datestyle = 'ISO';
with src as (
    select source_key, system from dw.dim_source where name = :'src'
), o as (
    select f.* from dw.fact_order f join src using (source_key) where not f.is_deleted
), l as (
    select f.* from dw.fact_order_line f join src using (source_key) where not f.is_deleted
), inv as (
    select i.* from dw.fact_inventory_snapshot i join src using (source_key)
      join dw.dim_product p on p.source_key = i.source_key and p.product_key = i.product_key
       and not p.is_deleted
     where i.snapshot_date_key = (select max(snapshot_date_key)
                                    from dw.fact_inventory_snapshot x
                                   where x.source_key = i.source_key)
), st as (
    select d.* from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'shop'
       and (not d.is_inferred or d.store_key in (select store_key from o))
), m(metric, value) as (
    select 'stores.count', count(*)::text
      from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'shop' and not d.is_inferred and not d.is_deleted
    union all
    select 'products.count', count(*)::text
      from dw.dim_product d join src using (source_key)
     where d.product_key <> 0 and not d.is_inferred and not d.is_deleted
    union all
    select 'customers.count', count(*)::text
      from dw.dim_customer d join src using (source_key)
     where d.customer_key <> 0 and not d.is_inferred
    union all
    select 'inventory.count', count(*)::text from inv
    union all
    select 'inventory.on_hand', coalesce(sum(on_hand), 0)::numeric(20,4)::text from inv
    union all
    select 'inventory.available', coalesce(sum(available), 0)::numeric(20,4)::text from inv
    union all
    select 'orders.count', count(*)::text from o
    union all
    select 'orders.total', coalesce(sum(total), 0)::numeric(20,4)::text from o
    union all
    select 'orders.status_group.' || g, (select count(*) from o where o.status_group = g)::text
      from unnest(array['open', 'completed', 'canceled', 'returned']) g
    union all
    select 'orders.no_customer', count(*)::text from o where customer_key = 0
    union all
    select 'order_lines.count', count(*)::text from l
    union all
    select 'order_lines.quantity', coalesce(sum(quantity), 0)::numeric(20,4)::text from l
    union all
    select 'order_lines.line_total', coalesce(sum(line_total), 0)::numeric(20,4)::text from l
    union all
    select 'day.' || d.date::text || '.orders', count(*)::text
      from o join dw.dim_date d on d.date_key = o.order_date_key group by d.date
    union all
    select 'day.' || d.date::text || '.total', coalesce(sum(o.total), 0)::numeric(20,4)::text
      from o join dw.dim_date d on d.date_key = o.order_date_key group by d.date
    union all
    select 'store.' || s.store_id || '.orders', count(o.order_key)::text
      from st s left join o on o.store_key = s.store_key group by s.store_id
    union all
    select 'store.' || s.store_id || '.total', coalesce(sum(o.total), 0)::numeric(20,4)::text
      from st s left join o on o.store_key = s.store_key group by s.store_id
)
select src.system || E'\t' || m.metric || E'\t' || m.value from m cross join src;
