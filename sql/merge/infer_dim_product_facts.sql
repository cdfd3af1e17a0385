-- Inferred members for the products staged lines and inventory name.
WITH x AS MATERIALIZED (SELECT product_id AS id FROM stg_order_line
 UNION SELECT bundle_id FROM stg_order_line UNION SELECT product_id FROM stg_inventory)
INSERT INTO dw.dim_product (source_key, product_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.id, true, now(), $2::bigint FROM x
WHERE x.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_product p
 WHERE p.source_key = $1 AND p.product_id = x.id)
ON CONFLICT DO NOTHING
