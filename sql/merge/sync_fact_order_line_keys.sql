-- Lines of staged orders that were not staged themselves (or were loaded before their
-- order, with order_key NULL) follow the order's keys.
UPDATE dw.fact_order_line l SET order_key = o.order_key, store_key = o.store_key,
customer_key = o.customer_key, order_date_key = o.order_date_key, loaded_at = now(),
run_id = $2
FROM stg_order s JOIN dw.fact_order o ON o.source_key = $1 AND o.order_id = s.order_id
WHERE l.source_key = $1 AND l.order_id = s.order_id
AND (l.order_key, l.store_key, l.customer_key, l.order_date_key) IS DISTINCT FROM
(o.order_key, o.store_key, o.customer_key, o.order_date_key)
