-- Inferred members for the customers staged orders name.
INSERT INTO dw.dim_customer (source_key, customer_id, is_inferred, loaded_at, run_id)
SELECT DISTINCT $1::smallint, s.customer_id, true, now(), $2::bigint FROM stg_order s
WHERE s.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_customer c
 WHERE c.source_key = $1 AND c.customer_id = s.customer_id)
ON CONFLICT DO NOTHING
