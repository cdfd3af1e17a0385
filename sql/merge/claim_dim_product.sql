-- The stream that finished a full read owns every row it returned (origin_stream).
UPDATE dw.dim_product t SET origin_stream = $3 FROM seen_product s
WHERE t.source_key = $1 AND t.product_id = s.product_id AND t.origin_stream IS DISTINCT FROM
$3
