-- The stream that finished a full read owns every row it returned (origin_stream).
UPDATE dw.dim_customer t SET origin_stream = $3 FROM seen_customer s
WHERE t.source_key = $1 AND t.customer_id = s.customer_id AND t.origin_stream IS DISTINCT
FROM $3
