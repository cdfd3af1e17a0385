-- 009_layouts: one schema for both warehouse layouts (issue 15).
--
-- A warehouse is single-node PostgreSQL (the layout of 001..008) or Citus, where
-- `flowetl init` then applies sql/citus/*.sql: the per-source tables distributed by
-- source_key and co-located, dim_source and dim_date reference tables, and keys
-- that carry source_key (docs/warehouse-layouts.md). This file is what both share:
--
-- 1. Unknown members per source. A Citus foreign key from a fact to a distributed
--    dimension must carry source_key, so a fact of source 7 whose store is unknown
--    points at (7, 0), and every source needs its own key-0 members there.
--    etl.ensure_unknown_members(source) makes them; flowetl calls it whenever it
--    registers a source. On the single-node layout the key-0 rows of 001 (source 0)
--    serve every source and the function adds nothing (its inserts meet the primary
--    key on the surrogate key alone and do nothing), so key 0 stays one row there.
-- 2. The BI views join every dimension on (source_key, its key), the only join
--    Citus runs on one node without moving rows, and the correct join on both
--    layouts: an analyst's own queries should do the same (on Citus, joins on the
--    surrogate key alone are refused). A key-0 member shows as 'unknown' on both.
--    The views' columns and results are unchanged.
-- 3. bridge_product_component's primary key starts with source_key (same rows:
--    parent_product_key already belongs to one source), so the recipe merge's
--    ON CONFLICT names the same columns on both layouts.
-- 4. etl.ensure_dim_date writes only when a day is missing: dim_date is a reference
--    table on Citus, where even a write of no rows locks it on every node, and every
--    checkpoint with facts calls this.

CREATE FUNCTION etl.ensure_unknown_members(source smallint) RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO dw.dim_store (store_key, source_key, kind, store_id, name)
    OVERRIDING SYSTEM VALUE VALUES (0, source, '', '', 'unknown') ON CONFLICT DO NOTHING;
    INSERT INTO dw.dim_customer (customer_key, source_key, customer_id, name)
    OVERRIDING SYSTEM VALUE VALUES (0, source, '', 'unknown') ON CONFLICT DO NOTHING;
    INSERT INTO dw.dim_category (category_key, source_key, category_id, name,
                                 parent_category_key, path)
    OVERRIDING SYSTEM VALUE VALUES (0, source, '', 'unknown', 0, 'unknown') ON CONFLICT DO NOTHING;
    INSERT INTO dw.dim_product (product_key, source_key, product_id, name, category_key)
    OVERRIDING SYSTEM VALUE VALUES (0, source, '', 'unknown', 0) ON CONFLICT DO NOTHING;
$$;
COMMENT ON FUNCTION etl.ensure_unknown_members(smallint) IS 'Makes the unknown members (key 0) of a source in the per-source dimensions where the layout keeps them per source (Citus); adds nothing on the single-node layout, whose key-0 rows serve every source.';

ALTER TABLE dw.bridge_product_component DROP CONSTRAINT bridge_product_component_pkey,
    ADD PRIMARY KEY (source_key, parent_product_key, component_product_key, slot);

CREATE OR REPLACE FUNCTION etl.ensure_dim_date(days date[], run bigint DEFAULT 0) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    missing date[];
    added integer;
BEGIN
    SELECT array_agg(DISTINCT u.d ORDER BY u.d) INTO missing
    FROM unnest(days) AS u(d)
    WHERE u.d IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM dw.dim_date t WHERE t.date_key = dw.date_key(u.d));
    IF missing IS NULL THEN
        RETURN 0;
    END IF;
    -- Ascending, so concurrent loads that add the same days wait for each other
    -- instead of deadlocking.
    INSERT INTO dw.dim_date (date_key, date, year, quarter, month, month_name, day, day_name,
                             iso_year, iso_week, iso_dow, is_weekend, run_id)
    SELECT dw.date_key(x.d), x.d, extract(year FROM x.d), extract(quarter FROM x.d),
           extract(month FROM x.d), to_char(x.d, 'FMMonth'), extract(day FROM x.d),
           to_char(x.d, 'FMDay'), extract(isoyear FROM x.d), extract(week FROM x.d),
           extract(isodow FROM x.d), extract(isodow FROM x.d) IN (6, 7), run
    FROM unnest(missing) AS x(d)
    ORDER BY x.d
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;

-- The views, as 002 and 006 left them, with every dimension joined on
-- (source_key, key).
CREATE OR REPLACE VIEW dw.v_sales_daily AS
SELECT o.order_date_key AS date_key,
       d.date,
       o.source_key,
       src.name AS source_name,
       o.store_key,
       CASE WHEN o.store_key = 0 THEN 'unknown' ELSE st.name END AS store_name,
       o.currency,
       count(*) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled') AS orders,
       coalesce(sum(o.total) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'), 0) AS revenue,
       coalesce(sum(u.units) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'), 0) AS units,
       round(sum(o.total) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled')
             / nullif(count(*) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'), 0), 4)
           AS average_order_value,
       count(*) FILTER (WHERE o.status_group = 'canceled') AS canceled_orders,
       count(*) FILTER (WHERE o.status_group = 'returned') AS returned_orders,
       coalesce(sum(o.total) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'), 0)
           AS gross_revenue,
       coalesce(sum(o.total) FILTER (WHERE o.status_group = 'returned'), 0) AS returned_revenue,
       coalesce(sum(o.total) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'
                                       AND o.status_group IS DISTINCT FROM 'returned'), 0)
           AS net_revenue,
       count(*) FILTER (WHERE o.status_group IS DISTINCT FROM 'canceled'
                          AND o.status_group IS DISTINCT FROM 'returned') AS net_orders
FROM dw.fact_order o
JOIN dw.dim_date d ON d.date_key = o.order_date_key
JOIN dw.dim_source src ON src.source_key = o.source_key
LEFT JOIN dw.dim_store st ON st.source_key = o.source_key AND st.store_key = o.store_key
LEFT JOIN LATERAL (SELECT sum(l.quantity) AS units
                   FROM dw.fact_order_line l
                   WHERE l.source_key = o.source_key AND l.order_key = o.order_key
                     AND NOT l.is_deleted) u ON true
WHERE NOT o.is_deleted
GROUP BY o.order_date_key, d.date, o.source_key, src.name, o.store_key, st.name, o.currency;

CREATE OR REPLACE VIEW dw.v_customer_summary AS
SELECT c.customer_key,
       c.source_key,
       c.customer_id,
       c.name,
       c.phone,
       c.email,
       count(o.order_key) AS orders,
       coalesce(sum(o.total), 0) AS revenue,
       min(o.ordered_at) AS first_order_at,
       max(o.ordered_at) AS last_order_at,
       min(o.order_date_key) FILTER (WHERE o.order_date_key <> 0) AS first_order_date_key,
       max(o.order_date_key) FILTER (WHERE o.order_date_key <> 0) AS last_order_date_key,
       count(o.order_key) FILTER (WHERE o.status_group = 'returned') AS returned_orders,
       coalesce(sum(o.total) FILTER (WHERE o.status_group = 'returned'), 0) AS returned_revenue,
       coalesce(sum(o.total) FILTER (WHERE o.status_group IS DISTINCT FROM 'returned'), 0)
           AS net_revenue
FROM dw.dim_customer c
LEFT JOIN dw.fact_order o
       ON o.source_key = c.source_key AND o.customer_key = c.customer_key AND NOT o.is_deleted
      AND o.status_group IS DISTINCT FROM 'canceled'
WHERE c.customer_key <> 0
GROUP BY c.source_key, c.customer_key, c.customer_id, c.name, c.phone, c.email;

CREATE OR REPLACE VIEW dw.v_inventory_latest AS
SELECT DISTINCT ON (f.source_key, f.product_key, f.store_key)
       f.source_key,
       f.product_key,
       coalesce(p.product_id, '') AS product_id,
       CASE WHEN f.product_key = 0 THEN 'unknown' ELSE p.name END AS product_name,
       f.store_key,
       CASE WHEN f.store_key = 0 THEN 'unknown' ELSE st.name END AS store_name,
       f.snapshot_date_key,
       d.date AS snapshot_date,
       f.on_hand,
       f.available,
       f.reserved,
       f.on_order,
       f.unit_cost,
       f.unit_price,
       f.inventory_value,
       f.captured_at
FROM dw.fact_inventory_snapshot f
LEFT JOIN dw.dim_product p ON p.source_key = f.source_key AND p.product_key = f.product_key
LEFT JOIN dw.dim_store st ON st.source_key = f.source_key AND st.store_key = f.store_key
JOIN dw.dim_date d ON d.date_key = f.snapshot_date_key
ORDER BY f.source_key, f.product_key, f.store_key, f.snapshot_date_key DESC;

CREATE OR REPLACE VIEW dw.v_payments_daily AS
SELECT p.payment_date_key AS date_key,
       d.date,
       p.source_key,
       src.name AS source_name,
       p.store_key,
       CASE WHEN p.store_key = 0 THEN 'unknown' ELSE st.name END AS store_name,
       p.method,
       p.currency,
       count(*) AS payments,
       sum(p.amount) AS net_amount,
       coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0) AS received,
       coalesce(sum(p.amount) FILTER (WHERE p.amount < 0), 0) AS given_back,
       coalesce(sum(p.bonus_amount), 0) AS bonus_amount
FROM dw.fact_payment p
JOIN dw.dim_date d ON d.date_key = p.payment_date_key
JOIN dw.dim_source src ON src.source_key = p.source_key
LEFT JOIN dw.dim_store st ON st.source_key = p.source_key AND st.store_key = p.store_key
WHERE NOT p.is_deleted
GROUP BY p.payment_date_key, d.date, p.source_key, src.name, p.store_key, st.name, p.method,
         p.currency;
