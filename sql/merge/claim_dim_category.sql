-- The stream that finished a full read owns every row it returned (origin_stream).
UPDATE dw.dim_category t SET origin_stream = $3 FROM seen_category s
WHERE t.source_key = $1 AND t.category_id = s.category_id AND t.origin_stream IS DISTINCT
FROM $3
