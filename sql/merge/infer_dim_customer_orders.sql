-- Inferred members for the customers staged orders name.
WITH x AS MATERIALIZED (SELECT DISTINCT customer_id AS id FROM stg_order
 WHERE customer_id IS NOT NULL)
INSERT INTO dw.dim_customer (source_key, customer_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.id, true, now(), $2::bigint FROM x
WHERE NOT EXISTS (SELECT 1 FROM dw.dim_customer c
 WHERE c.source_key = $1 AND c.customer_id = x.id)
ON CONFLICT DO NOTHING
