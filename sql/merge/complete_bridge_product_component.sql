-- The components staged for a parent are its whole recipe: its other warehouse components
-- are marked deleted. Returns the rows marked.
WITH d AS (UPDATE dw.bridge_product_component t
SET is_deleted = true, loaded_at = now(), run_id = $2
FROM dw.dim_product pp, dw.dim_product cp
WHERE pp.product_key = t.parent_product_key AND cp.product_key = t.component_product_key
AND pp.source_key = $1 AND NOT t.is_deleted
AND pp.product_id IN (SELECT parent_id FROM stg_component)
AND NOT EXISTS (SELECT 1 FROM stg_component s WHERE s.parent_id = pp.product_id
 AND s.component_id = cp.product_id AND s.slot = t.slot)
RETURNING 1) SELECT count(*) FROM d
