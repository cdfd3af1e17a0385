-- Store, customer and date of a line are its order's. Returns (inserted, updated, staged).
-- order_key stays NULL while the order is not loaded (sync_fact_order_line_keys fills it in).
WITH up AS (INSERT INTO dw.fact_order_line AS t (source_key, order_id, line_id, order_key,
product_key, bundle_product_key, store_key, customer_key, order_date_key, quantity,
unit_price, discount, tax, line_total, cost, currency, is_deleted, loaded_at, run_id)
SELECT $1, s.order_id, s.line_id, o.order_key, coalesce(p.product_key, 0),
coalesce(b.product_key, 0), coalesce(o.store_key, 0), coalesce(o.customer_key, 0),
coalesce(o.order_date_key, 0), s.quantity, s.unit_price, s.discount, s.tax,
s.line_total, s.cost, upper(coalesce(s.currency, o.currency)), false, now(), $2
FROM stg_order_line s
LEFT JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id
LEFT JOIN dw.dim_product p ON p.source_key = $1 AND p.product_id = s.product_id
LEFT JOIN dw.dim_product b ON b.source_key = $1 AND b.product_id = s.bundle_id
ON CONFLICT (source_key, order_id, line_id) DO UPDATE SET order_key = excluded.order_key,
product_key = excluded.product_key, bundle_product_key = excluded.bundle_product_key,
store_key = excluded.store_key, customer_key = excluded.customer_key,
order_date_key = excluded.order_date_key, quantity = excluded.quantity,
unit_price = excluded.unit_price, discount = excluded.discount, tax = excluded.tax,
line_total = excluded.line_total, cost = excluded.cost, currency = excluded.currency,
is_deleted = false, loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.order_key, t.product_key, t.bundle_product_key, t.store_key, t.customer_key,
t.order_date_key, t.quantity, t.unit_price, t.discount, t.tax, t.line_total, t.cost,
t.currency, t.is_deleted) IS DISTINCT FROM (excluded.order_key, excluded.product_key,
excluded.bundle_product_key, excluded.store_key, excluded.customer_key,
excluded.order_date_key, excluded.quantity, excluded.unit_price, excluded.discount,
excluded.tax, excluded.line_total, excluded.cost, excluded.currency, excluded.is_deleted)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_order_line) FROM up
