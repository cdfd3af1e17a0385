-- The Flow Retail ground-truth metrics (docs/internals.md) computed from the
-- warehouse for the source named :'src'; lib.sh sorts the lines byte-wise.
-- Products count live (not deleted, not inferred) rows; components count live
-- bridge rows of live packages; inventory sums the newest snapshot day of the
-- source, per store (rows of the categories stream, kind store) and per
-- warehouse (rows of the stock stream, kind warehouse), for live products only
-- (a product removed later the same day keeps its earlier snapshot row).
set datestyle = 'ISO';
with src as (
    select source_key, system from dw.dim_source where name = :'src'
), p as (
    select d.* from dw.dim_product d join src using (source_key)
     where d.product_key <> 0 and not d.is_inferred and not d.is_deleted
), c as (
    select b.* from dw.bridge_product_component b join p on p.source_key = b.source_key
                                                and p.product_key = b.parent_product_key
     where not b.is_deleted
), inv as (
    select f.*, s.kind, s.store_id from dw.fact_inventory_snapshot f
      join src using (source_key)
      join p on p.source_key = f.source_key and p.product_key = f.product_key
      join dw.dim_store s on s.source_key = f.source_key and s.store_key = f.store_key
     where f.snapshot_date_key = (select max(snapshot_date_key)
                                    from dw.fact_inventory_snapshot x join src using (source_key))
), m(metric, value) as (
    select 'categories.count', count(*)::text
      from dw.dim_category d join src using (source_key)
     where d.category_key <> 0 and not d.is_inferred and not d.is_deleted
    union all
    select 'products.count', count(*)::text from p
    union all
    select 'products.list_price', coalesce(sum(list_price), 0)::numeric(20,4)::text from p
    union all
    select 'products.type.' || t, (select count(*) from p where p.product_type = t)::text
      from unnest(array['standard', 'bundle', 'service']) t
    union all
    select 'components.count', count(*)::text from c
    union all
    select 'components.quantity', coalesce(sum(quantity), 0)::numeric(20,4)::text from c
    union all
    select 'components.special_price', coalesce(sum(special_price), 0)::numeric(20,4)::text
      from c
    union all
    select 'inventory.' || kind || '.' || store_id || '.on_hand',
           coalesce(sum(on_hand), 0)::numeric(20,4)::text from inv group by kind, store_id
    union all
    select 'inventory.' || kind || '.' || store_id || '.available',
           coalesce(sum(available), 0)::numeric(20,4)::text from inv group by kind, store_id
)
select src.system || E'\t' || m.metric || E'\t' || m.value from m cross join src;
