-- A tombstone (a split order's original) marks the order deleted and keeps its amounts
-- for history; merge_fact_order skips tombstones. Returns the rows marked.
WITH d AS (UPDATE dw.fact_order t SET is_deleted = true, loaded_at = now(), run_id = $2
FROM stg_order s WHERE s.tombstone AND t.source_key = $1 AND t.order_id = s.order_id
AND NOT t.is_deleted RETURNING 1) SELECT count(*) FROM d
