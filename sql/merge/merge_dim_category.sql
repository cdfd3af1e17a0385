-- Categories in three passes: upsert with the parent keys known now (a parent staged in
-- the same batch may not exist yet: its key is repaired by resolve_dim_category_parents),
-- create inferred members for parents never seen, then point every category of the source
-- at its parent by id. The compared parent_category_id makes a move count as an update
-- even when the key is repaired later. Returns (inserted, updated, staged).
WITH up AS (INSERT INTO dw.dim_category AS t (source_key, category_id, name,
parent_category_id, parent_category_key, is_deleted, is_inferred, origin_stream,
loaded_at, run_id)
SELECT $1, s.category_id, s.name, s.parent_id, coalesce(p.category_key, 0), s.is_deleted,
false, $3, now(), $2 FROM stg_category s
LEFT JOIN dw.dim_category p ON p.source_key = $1 AND p.category_id = s.parent_id
ON CONFLICT (source_key, category_id) DO UPDATE SET name = excluded.name,
parent_category_id = excluded.parent_category_id,
parent_category_key = excluded.parent_category_key, is_deleted = excluded.is_deleted,
is_inferred = false, origin_stream = excluded.origin_stream,
loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.name, t.parent_category_id, t.is_deleted, t.is_inferred)
IS DISTINCT FROM (excluded.name, excluded.parent_category_id, excluded.is_deleted,
excluded.is_inferred)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM stg_category) FROM up
