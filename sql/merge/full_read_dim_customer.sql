-- A full read's deletion: the rows of this source the stream owns ($3) that are not
-- deleted and whose key it did not stage (seen_*) are marked deleted, unless they are
-- more than $4 (max_delete_fraction, text) of those live rows: then etl.full_read_guard
-- (sql/005) fails the statement, before anything is marked, with a message that says how
-- many of how many and how to allow it. The guard is a one-time filter of the UPDATE (an
-- uncorrelated subquery), so it costs one more pass over the stream's rows of the table,
-- not a round trip. Returns the rows marked.
WITH seen AS MATERIALIZED (SELECT DISTINCT customer_id FROM seen_customer),
n AS MATERIALIZED (SELECT count(*) AS live, count(*) FILTER (WHERE s.customer_id IS NULL) AS gone
FROM dw.dim_customer t LEFT JOIN seen s ON s.customer_id = t.customer_id
WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted),
ok AS MATERIALIZED (SELECT etl.full_read_guard($1, 'dw.dim_customer', n.gone, n.live, $4::float8) AS go
FROM n),
d AS (UPDATE dw.dim_customer t SET is_deleted = true, loaded_at = now(), run_id = $2
WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted
AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.customer_id = t.customer_id) AND (SELECT go FROM ok)
RETURNING 1) SELECT count(*) FROM d
