-- The warehouse components of a parent whose recipe was refused ('c' in stg_drop) join
-- seen_component, so a full read keeps them.
INSERT INTO seen_component SELECT pp.product_id, cp.product_id, t.slot
FROM dw.bridge_product_component t JOIN dw.dim_product pp ON pp.source_key = $1
AND pp.product_key = t.parent_product_key JOIN dw.dim_product cp ON cp.source_key = $1
AND cp.product_key = t.component_product_key
WHERE t.source_key = $1 AND NOT t.is_deleted AND pp.product_id IN (SELECT id
FROM stg_drop WHERE kind = 'c')
