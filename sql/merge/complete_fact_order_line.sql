-- Lines of an order staged with lines_complete that were not staged are gone at the
-- source; every line of a deleted order is deleted with it. Returns the rows marked.
WITH so AS MATERIALIZED (SELECT order_id, is_deleted, lines_complete FROM stg_order),
sl AS MATERIALIZED (SELECT order_id, line_id FROM stg_order_line),
d AS (UPDATE dw.fact_order_line l SET is_deleted = true, loaded_at = now(),
run_id = $2 FROM so s
WHERE l.source_key = $1 AND l.order_id = s.order_id AND NOT l.is_deleted
AND (s.is_deleted OR (s.lines_complete AND NOT EXISTS (SELECT 1 FROM sl
 WHERE sl.order_id = l.order_id AND sl.line_id = l.line_id)))
RETURNING 1) SELECT count(*) FROM d
