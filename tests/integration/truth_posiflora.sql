-- The Posiflora ground-truth metrics (docs/internals.md) computed from the
-- warehouse for the source named :'src'; lib.sh sorts the lines byte-wise.
-- Unknown members (key 0) and inferred members are not counted as dimension rows.
-- Stores, categories and customers count what the API serves, including rows the
-- source flags as deleted (is_deleted); products, orders, lines and payments count
-- live rows only (lines and payments dropped from an order are is_deleted).
set datestyle = 'ISO';
with src as (
    select source_key, system from dw.dim_source where name = :'src'
), o as (
    select f.* from dw.fact_order f join src using (source_key) where not f.is_deleted
), l as (
    select f.* from dw.fact_order_line f join src using (source_key) where not f.is_deleted
), p as (
    select f.* from dw.fact_payment f join src using (source_key) where not f.is_deleted
), st as (
    -- Every store served gets store.ID lines, with or without orders.
    select d.* from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'store'
       and (not d.is_inferred or d.store_key in (select store_key from o))
), m(metric, value) as (
    select 'stores.count', count(*)::text
      from dw.dim_store d join src using (source_key)
     where d.store_key <> 0 and d.kind = 'store' and not d.is_inferred
    union all
    select 'categories.count', count(*)::text
      from dw.dim_category d join src using (source_key)
     where d.category_key <> 0 and not d.is_inferred
    union all
    select 'products.count', count(*)::text
      from dw.dim_product d join src using (source_key)
     where d.product_key <> 0 and not d.is_inferred and not d.is_deleted
    union all
    select 'customers.count', count(*)::text
      from dw.dim_customer d join src using (source_key)
     where d.customer_key <> 0 and not d.is_inferred
    union all
    select 'orders.count', count(*)::text from o
    union all
    select 'orders.total', coalesce(sum(total), 0)::numeric(20,4)::text from o
    union all
    select 'orders.paid_total', coalesce(sum(paid_total), 0)::numeric(20,4)::text from o
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
    select 'payments.count', count(*)::text from p
    union all
    select 'payments.amount', coalesce(sum(amount), 0)::numeric(20,4)::text from p
    union all
    select 'payments.bonus_amount', coalesce(sum(bonus_amount), 0)::numeric(20,4)::text from p
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
