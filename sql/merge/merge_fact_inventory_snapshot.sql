-- Upsert of the staged stock snapshots. captured_at is not compared: re-reading equal
-- stock does not rewrite the row. Returns (inserted, updated, staged).
WITH k AS (SELECT dw.date_key(s.snapshot_date) AS date_key,
 coalesce(p.product_key, 0) AS product_key, coalesce(st.store_key, 0) AS store_key,
 s.on_hand, s.available, s.reserved, s.on_order, s.unit_cost, s.unit_price,
 s.inventory_value, coalesce(s.captured_at, now()) AS captured_at, s.seq
 FROM stg_inventory s
 LEFT JOIN dw.dim_product p ON p.source_key = $1 AND p.product_id = s.product_id
 LEFT JOIN dw.dim_store st ON st.source_key = $1 AND st.kind = s.store_kind
  AND st.store_id = s.store_id),
s AS (SELECT DISTINCT ON (date_key, product_key, store_key) * FROM k
 ORDER BY date_key, product_key, store_key, seq DESC),
up AS (INSERT INTO dw.fact_inventory_snapshot AS t (source_key, snapshot_date_key,
product_key, store_key, on_hand, available, reserved, on_order, unit_cost, unit_price,
inventory_value, captured_at, loaded_at, run_id)
SELECT $1, s.date_key, s.product_key, s.store_key, s.on_hand, s.available, s.reserved,
s.on_order, s.unit_cost, s.unit_price, s.inventory_value, s.captured_at, now(), $2 FROM s
ON CONFLICT (source_key, product_key, store_key, snapshot_date_key) DO UPDATE SET
on_hand = excluded.on_hand, available = excluded.available,
reserved = excluded.reserved, on_order = excluded.on_order,
unit_cost = excluded.unit_cost, unit_price = excluded.unit_price,
inventory_value = excluded.inventory_value, captured_at = excluded.captured_at,
loaded_at = excluded.loaded_at, run_id = excluded.run_id
WHERE (t.on_hand, t.available, t.reserved, t.on_order, t.unit_cost, t.unit_price,
t.inventory_value) IS DISTINCT FROM (excluded.on_hand, excluded.available,
excluded.reserved, excluded.on_order, excluded.unit_cost, excluded.unit_price,
excluded.inventory_value)
RETURNING (t.xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted),
(SELECT count(*) FROM s) FROM up
