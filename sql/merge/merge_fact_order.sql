-- Upsert of the staged orders (not tombstones). Returns (inserted, updated, staged).
WITH up AS (INSERT INTO dw.fact_order AS t (source_key, order_id, order_number, store_key,
customer_key, order_date_key, ordered_at, status, status_group, currency, subtotal,
discount_total, tax_total, shipping_total, total, paid_total, line_count,
source_updated_at, is_deleted, loaded_at, run_id)
SELECT $1, s.order_id, s.order_number, coalesce(st.store_key, 0),
coalesce(c.customer_key, 0), coalesce(dw.date_key(coalesce(s.order_date,
(s.ordered_at AT TIME ZONE coalesce((SELECT timezone FROM dw.dim_source WHERE source_key = $1), 'UTC'))::date)), 0), s.ordered_at, s.status,
s.status_group, upper(s.currency), s.subtotal, s.discount_total, s.tax_total,
s.shipping_total, s.total, s.paid_total, s.line_count, s.source_updated_at, s.is_deleted,
now(), $2 FROM stg_order s
LEFT JOIN dw.dim_store st ON st.source_key = $1 AND st.kind = s.store_kind
 AND st.store_id = s.store_id
LEFT JOIN dw.dim_customer c ON c.source_key = $1 AND c.customer_id = s.customer_id
WHERE NOT s.tombstone
ON CONFLICT (source_key, order_id) DO UPDATE SET order_number = excluded.order_number,
store_key = excluded.store_key, customer_key = excluded.customer_key,
order_date_key = excluded.order_date_key, ordered_at = excluded.ordered_at,
status = excluded.status, status_group = excluded.status_group,
currency = excluded.currency, subtotal = excluded.subtotal,
discount_total = excluded.discount_total, tax_total = excluded.tax_total,
shipping_total = excluded.shipping_total, total = excluded.total,
paid_total = excluded.paid_total, line_count = excluded.line_count,
source_updated_at = excluded.source_updated_at, is_deleted = excluded.is_deleted,
loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.order_number, t.store_key, t.customer_key, t.order_date_key, t.ordered_at,
t.status, t.status_group, t.currency, t.subtotal, t.discount_total, t.tax_total,
t.shipping_total, t.total, t.paid_total, t.line_count, t.source_updated_at, t.is_deleted)
IS DISTINCT FROM (excluded.order_number, excluded.store_key, excluded.customer_key,
excluded.order_date_key, excluded.ordered_at, excluded.status, excluded.status_group,
excluded.currency, excluded.subtotal, excluded.discount_total, excluded.tax_total,
excluded.shipping_total, excluded.total, excluded.paid_total, excluded.line_count,
excluded.source_updated_at, excluded.is_deleted)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_order WHERE NOT tombstone) FROM up
