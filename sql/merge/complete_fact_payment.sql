-- Payments of an order staged with payments_complete that were not staged are gone at
-- the source; every payment of a deleted order is deleted with it. Returns the rows marked.
WITH so AS MATERIALIZED (SELECT order_id, is_deleted, payments_complete FROM stg_order),
sp AS MATERIALIZED (SELECT payment_id FROM stg_payment),
d AS (UPDATE dw.fact_payment p SET is_deleted = true, loaded_at = now(),
run_id = $2 FROM so s
WHERE p.source_key = $1 AND p.order_id = s.order_id AND NOT p.is_deleted
AND (s.is_deleted OR (s.payments_complete AND NOT EXISTS (SELECT 1 FROM sp
 WHERE sp.payment_id = p.payment_id)))
RETURNING 1) SELECT count(*) FROM d
