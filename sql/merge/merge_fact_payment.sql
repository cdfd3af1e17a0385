-- Upsert of the staged payments. Returns (inserted, updated, staged).
WITH up AS (INSERT INTO dw.fact_payment AS t (source_key, payment_id, order_id, order_key,
store_key, customer_key, payment_date_key, paid_at, payment_type, method, amount,
bonus_amount, currency, is_deleted, loaded_at, run_id)
SELECT $1, s.payment_id, s.order_id, o.order_key, coalesce(o.store_key, 0),
coalesce(o.customer_key, 0), coalesce(dw.date_key(coalesce(s.payment_date,
(s.paid_at AT TIME ZONE coalesce((SELECT timezone FROM dw.dim_source WHERE source_key = $1), 'UTC'))::date)), 0), s.paid_at, s.payment_type, s.method,
s.amount, s.bonus_amount, upper(coalesce(s.currency, o.currency)), false, now(), $2
FROM stg_payment s
LEFT JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id
ON CONFLICT (source_key, payment_id) DO UPDATE SET order_id = excluded.order_id,
order_key = excluded.order_key, store_key = excluded.store_key,
customer_key = excluded.customer_key, payment_date_key = excluded.payment_date_key,
paid_at = excluded.paid_at, payment_type = excluded.payment_type,
method = excluded.method, amount = excluded.amount,
bonus_amount = excluded.bonus_amount, currency = excluded.currency, is_deleted = false,
loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.order_id, t.order_key, t.store_key, t.customer_key, t.payment_date_key,
t.paid_at, t.payment_type, t.method, t.amount, t.bonus_amount, t.currency, t.is_deleted)
IS DISTINCT FROM (excluded.order_id, excluded.order_key, excluded.store_key,
excluded.customer_key, excluded.payment_date_key, excluded.paid_at,
excluded.payment_type, excluded.method, excluded.amount, excluded.bonus_amount,
excluded.currency, excluded.is_deleted)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_payment) FROM up
