-- 002_views: the BI views of the contract (warehouse.md, "BI views").
-- They skip deleted rows and the unknown order (key 0), and group by currency
-- so amounts in different currencies are never added together.

CREATE VIEW dw.v_sales_daily AS
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
       count(*) FILTER (WHERE o.status_group = 'returned') AS returned_orders
FROM dw.fact_order o
JOIN dw.dim_date d ON d.date_key = o.order_date_key
JOIN dw.dim_source src ON src.source_key = o.source_key
JOIN dw.dim_store st ON st.store_key = o.store_key
LEFT JOIN LATERAL (SELECT sum(l.quantity) AS units
                   FROM dw.fact_order_line l
                   WHERE l.order_key = o.order_key AND NOT l.is_deleted) u ON true
WHERE NOT o.is_deleted AND o.order_key <> 0
GROUP BY o.order_date_key, d.date, o.source_key, src.name, o.store_key, st.name, o.currency;
COMMENT ON VIEW dw.v_sales_daily IS 'Sales per business day, source, store and currency. Counts every order that is not deleted; canceled orders are left out of orders, revenue and units and counted apart.';
COMMENT ON COLUMN dw.v_sales_daily.date_key IS 'Business date of the orders (dw.dim_date); 0 = unknown.';
COMMENT ON COLUMN dw.v_sales_daily.date IS 'The day.';
COMMENT ON COLUMN dw.v_sales_daily.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.v_sales_daily.source_name IS 'Source name from the config.';
COMMENT ON COLUMN dw.v_sales_daily.store_key IS 'Store (dw.dim_store); 0 = unknown.';
COMMENT ON COLUMN dw.v_sales_daily.store_name IS 'Store name.';
COMMENT ON COLUMN dw.v_sales_daily.currency IS 'Currency of revenue.';
COMMENT ON COLUMN dw.v_sales_daily.orders IS 'Orders that are not canceled.';
COMMENT ON COLUMN dw.v_sales_daily.revenue IS 'Sum of fact_order.total of those orders.';
COMMENT ON COLUMN dw.v_sales_daily.units IS 'Sum of line quantities of those orders (lines not deleted).';
COMMENT ON COLUMN dw.v_sales_daily.average_order_value IS 'revenue / orders.';
COMMENT ON COLUMN dw.v_sales_daily.canceled_orders IS 'Canceled orders (status_group canceled).';
COMMENT ON COLUMN dw.v_sales_daily.returned_orders IS 'Returned orders (included in orders and revenue; refunds show in v_payments_daily).';

CREATE VIEW dw.v_inventory_latest AS
SELECT DISTINCT ON (f.source_key, f.product_key, f.store_key)
       f.source_key,
       f.product_key,
       p.product_id,
       p.name AS product_name,
       f.store_key,
       st.name AS store_name,
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
JOIN dw.dim_product p ON p.product_key = f.product_key
JOIN dw.dim_store st ON st.store_key = f.store_key
JOIN dw.dim_date d ON d.date_key = f.snapshot_date_key
ORDER BY f.source_key, f.product_key, f.store_key, f.snapshot_date_key DESC;
COMMENT ON VIEW dw.v_inventory_latest IS 'The latest snapshot of each product at each location.';
COMMENT ON COLUMN dw.v_inventory_latest.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.v_inventory_latest.product_key IS 'Product (dw.dim_product).';
COMMENT ON COLUMN dw.v_inventory_latest.product_id IS 'The source''s product id.';
COMMENT ON COLUMN dw.v_inventory_latest.product_name IS 'Product name.';
COMMENT ON COLUMN dw.v_inventory_latest.store_key IS 'Store or warehouse (dw.dim_store).';
COMMENT ON COLUMN dw.v_inventory_latest.store_name IS 'Store or warehouse name.';
COMMENT ON COLUMN dw.v_inventory_latest.snapshot_date_key IS 'Day of the latest snapshot.';
COMMENT ON COLUMN dw.v_inventory_latest.snapshot_date IS 'Day of the latest snapshot, as a date.';
COMMENT ON COLUMN dw.v_inventory_latest.on_hand IS 'Units physically in stock.';
COMMENT ON COLUMN dw.v_inventory_latest.available IS 'Units available to sell.';
COMMENT ON COLUMN dw.v_inventory_latest.reserved IS 'Units reserved for open orders.';
COMMENT ON COLUMN dw.v_inventory_latest.on_order IS 'Units on purchase orders.';
COMMENT ON COLUMN dw.v_inventory_latest.unit_cost IS 'Cost per unit.';
COMMENT ON COLUMN dw.v_inventory_latest.unit_price IS 'Selling price per unit.';
COMMENT ON COLUMN dw.v_inventory_latest.inventory_value IS 'Value of the stock as the source reports it.';
COMMENT ON COLUMN dw.v_inventory_latest.captured_at IS 'When this state was read.';

CREATE VIEW dw.v_customer_summary AS
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
       max(o.order_date_key) FILTER (WHERE o.order_date_key <> 0) AS last_order_date_key
FROM dw.dim_customer c
LEFT JOIN dw.fact_order o
       ON o.customer_key = c.customer_key AND NOT o.is_deleted
      AND o.status_group IS DISTINCT FROM 'canceled'
WHERE c.customer_key <> 0
GROUP BY c.customer_key;
COMMENT ON VIEW dw.v_customer_summary IS 'Orders per customer (customers without orders included, with 0). Canceled and deleted orders are left out.';
COMMENT ON COLUMN dw.v_customer_summary.customer_key IS 'Customer (dw.dim_customer).';
COMMENT ON COLUMN dw.v_customer_summary.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.v_customer_summary.customer_id IS 'The source''s customer id.';
COMMENT ON COLUMN dw.v_customer_summary.name IS 'Customer name.';
COMMENT ON COLUMN dw.v_customer_summary.phone IS 'Phone number.';
COMMENT ON COLUMN dw.v_customer_summary.email IS 'E-mail address.';
COMMENT ON COLUMN dw.v_customer_summary.orders IS 'Orders that are neither canceled nor deleted.';
COMMENT ON COLUMN dw.v_customer_summary.revenue IS 'Sum of fact_order.total of those orders.';
COMMENT ON COLUMN dw.v_customer_summary.first_order_at IS 'When the first of those orders was placed.';
COMMENT ON COLUMN dw.v_customer_summary.last_order_at IS 'When the last of those orders was placed.';
COMMENT ON COLUMN dw.v_customer_summary.first_order_date_key IS 'Business date of the first order (dw.dim_date).';
COMMENT ON COLUMN dw.v_customer_summary.last_order_date_key IS 'Business date of the last order (dw.dim_date).';

CREATE VIEW dw.v_payments_daily AS
SELECT p.payment_date_key AS date_key,
       d.date,
       p.source_key,
       src.name AS source_name,
       p.store_key,
       st.name AS store_name,
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
JOIN dw.dim_store st ON st.store_key = p.store_key
WHERE NOT p.is_deleted
GROUP BY p.payment_date_key, d.date, p.source_key, src.name, p.store_key, st.name, p.method,
         p.currency;
COMMENT ON VIEW dw.v_payments_daily IS 'Net cash per business day, source, store, payment method and currency (payments not deleted).';
COMMENT ON COLUMN dw.v_payments_daily.date_key IS 'Business date of the payments (dw.dim_date); 0 = unknown.';
COMMENT ON COLUMN dw.v_payments_daily.date IS 'The day.';
COMMENT ON COLUMN dw.v_payments_daily.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.v_payments_daily.source_name IS 'Source name from the config.';
COMMENT ON COLUMN dw.v_payments_daily.store_key IS 'Store of the paid order (dw.dim_store); 0 = unknown.';
COMMENT ON COLUMN dw.v_payments_daily.store_name IS 'Store name.';
COMMENT ON COLUMN dw.v_payments_daily.method IS 'Payment method as the source names it.';
COMMENT ON COLUMN dw.v_payments_daily.currency IS 'Currency of the amounts.';
COMMENT ON COLUMN dw.v_payments_daily.payments IS 'Payment events (payments, refunds, change).';
COMMENT ON COLUMN dw.v_payments_daily.net_amount IS 'Sum of signed amounts: net cash.';
COMMENT ON COLUMN dw.v_payments_daily.received IS 'Sum of positive amounts (money received).';
COMMENT ON COLUMN dw.v_payments_daily.given_back IS 'Sum of negative amounts (refunds and change), negative.';
COMMENT ON COLUMN dw.v_payments_daily.bonus_amount IS 'Sum of the parts paid with bonus points.';
