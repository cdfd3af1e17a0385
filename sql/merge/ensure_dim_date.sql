-- The dates of staged facts, in the source's business time zone (dw.dim_source.timezone).
SELECT etl.ensure_dim_date(ARRAY(
SELECT coalesce(order_date, (ordered_at AT TIME ZONE coalesce((SELECT timezone FROM dw.dim_source WHERE source_key = $1), 'UTC'))::date) FROM stg_order
UNION SELECT coalesce(payment_date, (paid_at AT TIME ZONE coalesce((SELECT timezone FROM dw.dim_source WHERE source_key = $1), 'UTC'))::date)
 FROM stg_payment
UNION SELECT snapshot_date FROM stg_inventory), $2)
