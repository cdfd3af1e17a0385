-- Inferred members for parent categories never seen.
WITH x AS MATERIALIZED (SELECT DISTINCT parent_id AS id FROM stg_category
 WHERE parent_id IS NOT NULL)
INSERT INTO dw.dim_category (source_key, category_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.id, true, now(), $2::bigint FROM x
WHERE NOT EXISTS (SELECT 1 FROM dw.dim_category c
 WHERE c.source_key = $1 AND c.category_id = x.id)
ON CONFLICT DO NOTHING
