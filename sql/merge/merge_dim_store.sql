-- Upsert of the staged stores. $1 source_key, $2 run_id, $3 stream (every merge file).
-- Returns one row (inserted, updated, staged): inserts what is new, updates only rows
-- whose compared columns are IS DISTINCT FROM the staged ones (so loaded_at and run_id
-- only move when something changed). origin_stream is not compared (see load/loader_sql.h).
WITH up AS (INSERT INTO dw.dim_store AS t (source_key, kind, store_id, name, address,
currency, timezone, status, is_deleted, is_inferred, origin_stream, loaded_at, run_id)
SELECT $1, s.kind, s.store_id, s.name, s.address, upper(s.currency), s.timezone, s.status,
s.is_deleted, false, $3, now(), $2 FROM stg_store s
ON CONFLICT (source_key, kind, store_id) DO UPDATE SET name = excluded.name,
address = excluded.address, currency = excluded.currency, timezone = excluded.timezone,
status = excluded.status, is_deleted = excluded.is_deleted, is_inferred = false,
origin_stream = excluded.origin_stream, loaded_at = excluded.loaded_at,
run_id = excluded.run_id
WHERE (t.name, t.address, t.currency, t.timezone, t.status, t.is_deleted, t.is_inferred)
IS DISTINCT FROM (excluded.name, excluded.address, excluded.currency, excluded.timezone,
excluded.status, excluded.is_deleted, excluded.is_inferred)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_store) FROM up
