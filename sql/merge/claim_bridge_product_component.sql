-- The stream that finished a full read owns every row it returned (origin_stream).
WITH s AS MATERIALIZED (SELECT parent_id, component_id, slot FROM seen_component)
UPDATE dw.bridge_product_component t SET origin_stream = $3
FROM s, dw.dim_product pp, dw.dim_product cp
WHERE t.source_key = $1 AND pp.source_key = $1 AND cp.source_key = $1
AND pp.product_key = t.parent_product_key AND cp.product_key = t.component_product_key
AND s.parent_id = pp.product_id AND s.component_id = cp.product_id
AND s.slot = t.slot AND t.origin_stream IS DISTINCT FROM $3
