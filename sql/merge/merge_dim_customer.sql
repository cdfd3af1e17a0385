-- Upsert of the staged customers. Returns (inserted, updated, staged).
WITH up AS (INSERT INTO dw.dim_customer AS t (source_key, customer_id, name, phone, email,
status, loyalty_points, created_at, updated_at, is_deleted, is_inferred, origin_stream,
loaded_at, run_id)
SELECT $1, s.customer_id, s.name, s.phone, s.email, s.status, s.loyalty_points,
s.created_at, s.updated_at, s.is_deleted, false, $3, now(), $2 FROM stg_customer s
ON CONFLICT (source_key, customer_id) DO UPDATE SET name = excluded.name,
phone = excluded.phone, email = excluded.email, status = excluded.status,
loyalty_points = excluded.loyalty_points, created_at = excluded.created_at,
updated_at = excluded.updated_at, is_deleted = excluded.is_deleted, is_inferred = false,
origin_stream = excluded.origin_stream, loaded_at = excluded.loaded_at,
run_id = excluded.run_id
WHERE (t.name, t.phone, t.email, t.status, t.loyalty_points, t.created_at, t.updated_at,
t.is_deleted, t.is_inferred) IS DISTINCT FROM (excluded.name, excluded.phone,
excluded.email, excluded.status, excluded.loyalty_points, excluded.created_at,
excluded.updated_at, excluded.is_deleted, excluded.is_inferred)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_customer) FROM up
