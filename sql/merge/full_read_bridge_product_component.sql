-- A full read's deletion: the rows of this source the stream owns ($3) that are not
-- deleted and whose key it did not stage (seen_*) are marked deleted, unless they are
-- more than $4 (max_delete_fraction, text) of those live rows: then etl.full_read_guard
-- (sql/005) fails the statement, before anything is marked, with a message that says how
-- many of how many and how to allow it. The guard is a one-time filter of the UPDATE (an
-- uncorrelated subquery), so it costs one more pass over the stream's rows of the table,
-- not a round trip. Returns the rows marked.
WITH seen AS MATERIALIZED (SELECT DISTINCT parent_id, component_id, slot FROM seen_component),
n AS MATERIALIZED (SELECT count(*) AS live, count(*) FILTER (WHERE s.parent_id IS NULL) AS gone
FROM dw.bridge_product_component t JOIN dw.dim_product pp ON pp.source_key = $1 AND
pp.product_key = t.parent_product_key JOIN dw.dim_product cp ON cp.source_key = $1 AND
cp.product_key = t.component_product_key LEFT JOIN seen s ON s.parent_id = pp.product_id
AND s.component_id = cp.product_id AND s.slot = t.slot
WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted),
ok AS MATERIALIZED (SELECT etl.full_read_guard($1, 'dw.bridge_product_component', n.gone,
n.live, $4::float8) AS go FROM n),
d AS (UPDATE dw.bridge_product_component t SET is_deleted = true, loaded_at = now(), run_id
= $2 FROM dw.dim_product pp, dw.dim_product cp
WHERE t.source_key = $1 AND t.origin_stream = $3 AND NOT t.is_deleted AND pp.source_key = $1
AND pp.product_key = t.parent_product_key AND cp.source_key = $1
AND cp.product_key = t.component_product_key
AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.parent_id = pp.product_id AND
s.component_id = cp.product_id AND s.slot = t.slot) AND (SELECT go FROM ok)
RETURNING 1) SELECT count(*) FROM d
