-- The stream that finished a full read owns every row it returned (origin_stream).
UPDATE dw.dim_store t SET origin_stream = $3 FROM seen_store s
WHERE t.source_key = $1 AND t.kind = s.kind AND t.store_id = s.store_id AND t.origin_stream
IS DISTINCT FROM $3
