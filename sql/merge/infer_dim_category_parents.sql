-- Inferred members for parent categories never seen.
INSERT INTO dw.dim_category (source_key, category_id, is_inferred, loaded_at, run_id)
SELECT DISTINCT $1::smallint, s.parent_id, true, now(), $2::bigint FROM stg_category s
WHERE s.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dw.dim_category c
 WHERE c.source_key = $1 AND c.category_id = s.parent_id)
ON CONFLICT DO NOTHING
