-- 006_analyst: details analysts trip on (issue 12).
--
-- 1. No unknown order. 001 put a row with order_key 0 (source_key 0) in
--    dw.fact_order for lines and payments whose order is not loaded, so count(*)
--    of fact_order was one more than the orders. Such lines and payments now have
--    order_key NULL (their order_id still says which order; the loader fills
--    order_key in when the order arrives), the row is gone, and a CHECK keeps it
--    from coming back: count(*) of dw.fact_order is the number of orders.
-- 2. dim_store.timezone holds an IANA zone name or NULL. Posiflora sends only its
--    own id of a timezones record ('7'), whose names its API does not document;
--    flowetl stores NULL for it now, and existing values that are not a zone
--    PostgreSQL knows are cleared.
-- 3. The revenue views say whether returns are netted: v_sales_daily and
--    v_customer_summary keep revenue (gross: returned orders included) and gain
--    gross_revenue, returned_revenue and net_revenue.
-- (4. Posiflora's sku, the first non-empty vendor code, is the mapper's change.)

ALTER TABLE dw.fact_order_line ALTER COLUMN order_key DROP NOT NULL,
                               ALTER COLUMN order_key DROP DEFAULT;
ALTER TABLE dw.fact_payment ALTER COLUMN order_key DROP NOT NULL,
                            ALTER COLUMN order_key DROP DEFAULT;
UPDATE dw.fact_order_line SET order_key = NULL WHERE order_key = 0;
UPDATE dw.fact_payment SET order_key = NULL WHERE order_key = 0;
DELETE FROM dw.fact_order WHERE order_key = 0;
ALTER TABLE dw.fact_order ADD CONSTRAINT fact_order_no_unknown CHECK (source_key <> 0);

COMMENT ON TABLE dw.fact_order IS 'One order. Grain: (source_key, order_id). Every row is a real order (there is no unknown order): count(*) is the number of orders; is_deleted marks those deleted at the source.';
COMMENT ON CONSTRAINT fact_order_no_unknown ON dw.fact_order IS 'No unknown-order row: lines and payments whose order is not loaded have order_key NULL.';
COMMENT ON COLUMN dw.fact_order_line.order_key IS 'The order (dw.fact_order); NULL while the order itself is not loaded (order_id says which it is).';
COMMENT ON COLUMN dw.fact_payment.order_key IS 'The order (dw.fact_order); NULL when the payment has no order or its order is not loaded yet (order_id says which it is).';

UPDATE dw.dim_store SET timezone = NULL
WHERE timezone IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = dim_store.timezone);
COMMENT ON COLUMN dw.dim_store.timezone IS 'IANA time zone name of the location (e.g. Europe/Moscow) when the source gives one, else NULL. Posiflora gives only an internal id, so its stores have NULL.';

-- The columns of 002 stay as they were, in their order (CREATE OR REPLACE may only
-- add columns at the end); the new ones follow.
CREATE OR REPLACE VIEW dw.v_sales_daily AS
SELECT o.order_date_key AS date_key,
       d.date,
       o.source_key,
       src.name AS source_name,
       o.store_key,
       st.name AS store_name,
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
JOIN dw.dim_store st ON st.store_key = o.store_key
LEFT JOIN LATERAL (SELECT sum(l.quantity) AS units
                   FROM dw.fact_order_line l
                   WHERE l.order_key = o.order_key AND NOT l.is_deleted) u ON true
WHERE NOT o.is_deleted
GROUP BY o.order_date_key, d.date, o.source_key, src.name, o.store_key, st.name, o.currency;
COMMENT ON VIEW dw.v_sales_daily IS 'Sales per business day, source, store and currency, of the orders that are not deleted. Canceled orders are left out of orders, revenue and units and counted apart. Returns are NOT netted in orders, revenue, gross_revenue, units and average_order_value (a returned order counts like a sold one there); net_orders and net_revenue leave returned orders out. A return is an order whose status_group is returned (whole orders; refund payments are in v_payments_daily).';
COMMENT ON COLUMN dw.v_sales_daily.orders IS 'Orders that are not canceled, returned ones included (gross).';
COMMENT ON COLUMN dw.v_sales_daily.revenue IS 'Gross: sum of fact_order.total of the orders that are not canceled, returned orders INCLUDED. Equal to gross_revenue; net_revenue leaves returns out.';
COMMENT ON COLUMN dw.v_sales_daily.units IS 'Sum of line quantities of the orders that are not canceled, returned ones included (lines not deleted).';
COMMENT ON COLUMN dw.v_sales_daily.average_order_value IS 'revenue / orders (gross: returned orders included).';
COMMENT ON COLUMN dw.v_sales_daily.returned_orders IS 'Returned orders (status_group returned); included in orders and revenue, left out of net_orders and net_revenue.';
COMMENT ON COLUMN dw.v_sales_daily.gross_revenue IS 'Sum of fact_order.total of the orders that are not canceled, returned orders included (= revenue).';
COMMENT ON COLUMN dw.v_sales_daily.returned_revenue IS 'Sum of fact_order.total of the returned orders (status_group returned).';
COMMENT ON COLUMN dw.v_sales_daily.net_revenue IS 'Net of returns: gross_revenue - returned_revenue, the total of the orders that are neither canceled nor returned.';
COMMENT ON COLUMN dw.v_sales_daily.net_orders IS 'Orders that are neither canceled nor returned (orders - returned_orders).';

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
       ON o.customer_key = c.customer_key AND NOT o.is_deleted
      AND o.status_group IS DISTINCT FROM 'canceled'
WHERE c.customer_key <> 0
GROUP BY c.customer_key;
COMMENT ON VIEW dw.v_customer_summary IS 'Orders per customer (customers without orders included, with 0). Canceled and deleted orders are left out. Returns are NOT netted in orders and revenue; net_revenue leaves returned orders out.';
COMMENT ON COLUMN dw.v_customer_summary.orders IS 'Orders that are neither canceled nor deleted, returned ones included.';
COMMENT ON COLUMN dw.v_customer_summary.revenue IS 'Gross: sum of fact_order.total of those orders, returned orders INCLUDED; net_revenue leaves them out.';
COMMENT ON COLUMN dw.v_customer_summary.returned_orders IS 'Returned orders (status_group returned) among orders.';
COMMENT ON COLUMN dw.v_customer_summary.returned_revenue IS 'Sum of fact_order.total of the returned orders.';
COMMENT ON COLUMN dw.v_customer_summary.net_revenue IS 'Net of returns: revenue - returned_revenue.';
