-- Inferred members for the stores staged orders and inventory name.
WITH x AS MATERIALIZED (SELECT store_kind AS kind, store_id FROM stg_order
 WHERE store_id IS NOT NULL
 UNION SELECT store_kind, store_id FROM stg_inventory WHERE store_id IS NOT NULL)
INSERT INTO dw.dim_store (source_key, kind, store_id, is_inferred, loaded_at, run_id)
SELECT $1::smallint, x.kind, x.store_id, true, now(), $2::bigint FROM x
WHERE NOT EXISTS (SELECT 1 FROM dw.dim_store d
 WHERE d.source_key = $1 AND d.kind = x.kind AND d.store_id = x.store_id)
ON CONFLICT DO NOTHING
