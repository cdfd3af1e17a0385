-- The components staged for a parent are its whole recipe: its other warehouse components
-- are marked deleted. Returns the rows marked.
WITH sc AS MATERIALIZED (SELECT parent_id, component_id, slot FROM stg_component),
d AS (UPDATE dw.bridge_product_component t
SET is_deleted = true, loaded_at = now(), run_id = $2
FROM dw.dim_product pp, dw.dim_product cp
WHERE t.source_key = $1 AND pp.source_key = $1 AND cp.source_key = $1
AND pp.product_key = t.parent_product_key AND cp.product_key = t.component_product_key
AND NOT t.is_deleted
AND pp.product_id IN (SELECT parent_id FROM sc)
AND NOT EXISTS (SELECT 1 FROM sc s WHERE s.parent_id = pp.product_id
 AND s.component_id = cp.product_id AND s.slot = t.slot)
RETURNING 1) SELECT count(*) FROM d
