-- Inferred members for the parents and components of staged recipes.
WITH x AS MATERIALIZED (SELECT parent_id AS id FROM stg_component
 UNION SELECT component_id FROM stg_component)
INSERT INTO dw.dim_product (source_key, product_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.id, true, now(), $2::bigint FROM x
WHERE NOT EXISTS (SELECT 1 FROM dw.dim_product p
 WHERE p.source_key = $1 AND p.product_id = x.id)
ON CONFLICT DO NOTHING
