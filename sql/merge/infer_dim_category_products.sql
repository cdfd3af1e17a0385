-- Inferred members for the categories staged products name.
WITH x AS MATERIALIZED (SELECT DISTINCT category_id AS id FROM stg_product
 WHERE category_id IS NOT NULL)
INSERT INTO dw.dim_category (source_key, category_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.id, true, now(), $2::bigint FROM x
WHERE NOT EXISTS (SELECT 1 FROM dw.dim_category c
 WHERE c.source_key = $1 AND c.category_id = x.id)
ON CONFLICT DO NOTHING
