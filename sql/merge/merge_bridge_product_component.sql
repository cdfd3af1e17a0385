-- Upsert of the staged recipe rows, by surrogate keys. Returns (inserted, updated, staged).
WITH k AS (SELECT pp.product_key AS parent_key, cp.product_key AS component_key, s.slot,
 s.quantity, s.special_price, s.seq FROM stg_component s
 JOIN dw.dim_product pp ON pp.source_key = $1 AND pp.product_id = s.parent_id
 JOIN dw.dim_product cp ON cp.source_key = $1 AND cp.product_id = s.component_id),
s AS (SELECT DISTINCT ON (parent_key, component_key, slot) * FROM k
 ORDER BY parent_key, component_key, slot, seq DESC),
up AS (INSERT INTO dw.bridge_product_component AS t (parent_product_key,
component_product_key, slot, source_key, quantity, special_price, is_deleted,
origin_stream, loaded_at, run_id)
SELECT s.parent_key, s.component_key, s.slot, $1, s.quantity, s.special_price, false, $3,
now(), $2 FROM s
ON CONFLICT (source_key, parent_product_key, component_product_key, slot) DO UPDATE SET
quantity = excluded.quantity, special_price = excluded.special_price,
is_deleted = false, origin_stream = excluded.origin_stream,
loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.quantity, t.special_price, t.is_deleted) IS DISTINCT FROM
(excluded.quantity, excluded.special_price, excluded.is_deleted)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM s) FROM up
