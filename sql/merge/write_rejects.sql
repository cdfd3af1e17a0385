-- The checkpoint's rejects, in the order they were staged.
INSERT INTO etl.reject (run_id, source_key, stream, record_id, reason, raw, raw_length,
created_at) SELECT $2, $1, $3, record_id, reason, raw, raw_length, now()
FROM stg_reject ORDER BY seq
