-- Payments of staged orders follow the order's keys.
UPDATE dw.fact_payment p SET order_key = o.order_key, store_key = o.store_key,
customer_key = o.customer_key, loaded_at = now(), run_id = $2
FROM stg_order s JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id
WHERE p.source_key = $1 AND p.order_id = s.order_id
AND (p.order_key, p.store_key, p.customer_key) IS DISTINCT FROM
(o.order_key, o.store_key, o.customer_key)
