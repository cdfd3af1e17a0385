-- The stream's new cursor. $4: the cursor, JSON text.
INSERT INTO etl.sync_state (source_key, stream, cursor, updated_at, run_id) VALUES ($1, $3,
$4::jsonb, now(), $2) ON CONFLICT (source_key, stream) DO UPDATE SET cursor =
excluded.cursor, updated_at = excluded.updated_at, run_id = excluded.run_id
