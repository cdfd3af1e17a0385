-- Upsert of the staged products. Returns (inserted, updated, staged).
WITH up AS (INSERT INTO dw.dim_product AS t (source_key, product_id, sku, name,
product_type, category_key, brand, list_price, currency, is_active, is_deleted,
is_inferred, origin_stream, created_at, updated_at, loaded_at, run_id)
SELECT $1, s.product_id, s.sku, s.name, s.product_type, coalesce(c.category_key, 0),
s.brand, s.list_price, upper(s.currency), s.is_active, s.is_deleted, false, $3,
s.created_at, s.updated_at, now(), $2 FROM stg_product s
LEFT JOIN dw.dim_category c ON c.source_key = $1 AND c.category_id = s.category_id
ON CONFLICT (source_key, product_id) DO UPDATE SET sku = excluded.sku,
name = excluded.name, product_type = excluded.product_type,
category_key = excluded.category_key, brand = excluded.brand,
list_price = excluded.list_price, currency = excluded.currency,
is_active = excluded.is_active, is_deleted = excluded.is_deleted, is_inferred = false,
origin_stream = excluded.origin_stream, created_at = excluded.created_at,
updated_at = excluded.updated_at, loaded_at = excluded.loaded_at,
run_id = excluded.run_id
WHERE (t.sku, t.name, t.product_type, t.category_key, t.brand, t.list_price, t.currency,
t.is_active, t.is_deleted, t.is_inferred, t.created_at, t.updated_at)
IS DISTINCT FROM (excluded.sku, excluded.name, excluded.product_type,
excluded.category_key, excluded.brand, excluded.list_price, excluded.currency,
excluded.is_active, excluded.is_deleted, excluded.is_inferred, excluded.created_at,
excluded.updated_at)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_product) FROM up
