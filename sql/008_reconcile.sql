-- 008_reconcile: self-verifying loads (issue 13). Each comparison of what the
-- warehouse holds with what a source publishes about the same scope (a count per
-- list and window, per store and day, money where the API sums it, or a row's
-- mapped values under `verify --deep`) is one row of etl.reconcile. One
-- verification of one stream (after `run` committed it, or by `flowetl verify`)
-- shares a verification_id. dw.v_load_health sums it up per stream for dashboards.

CREATE SEQUENCE etl.verification_seq;
COMMENT ON SEQUENCE etl.verification_seq IS 'Numbers the verifications (one per stream per run or per flowetl verify).';

CREATE TABLE etl.reconcile (
    reconcile_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verification_id bigint NOT NULL,
    run_id bigint REFERENCES etl.run,
    source_key smallint NOT NULL REFERENCES dw.dim_source,
    stream text NOT NULL,
    scope text NOT NULL,
    measure text NOT NULL DEFAULT 'count',
    source_value numeric(20,4),
    warehouse_value numeric(20,4),
    difference numeric(20,4),
    status text NOT NULL,
    detail text,
    checked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reconcile_status CHECK (status IN ('ok', 'mismatch', 'error')),
    CONSTRAINT reconcile_measure CHECK (measure IN ('count', 'revenue', 'rows'))
);
CREATE INDEX reconcile_stream ON etl.reconcile (source_key, stream, verification_id);
CREATE INDEX reconcile_run ON etl.reconcile (run_id);
COMMENT ON TABLE etl.reconcile IS 'One comparison of the warehouse with a source''s own figure for the same scope (issue 13): a count per list and window, per store and day, a revenue, or the rows of a deep verification.';
COMMENT ON COLUMN etl.reconcile.reconcile_id IS 'Surrogate key.';
COMMENT ON COLUMN etl.reconcile.verification_id IS 'One verification of one stream (etl.verification_seq): every comparison it made, the narrowing ones included.';
COMMENT ON COLUMN etl.reconcile.run_id IS 'The run (etl.run) whose commit was verified; NULL for `flowetl verify`.';
COMMENT ON COLUMN etl.reconcile.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN etl.reconcile.stream IS 'Stream name, e.g. orders.';
COMMENT ON COLUMN etl.reconcile.scope IS 'What was compared: the list, its window of days and its store, e.g. "orders created 2026-11-01..2026-11-30", "orders shop 1001 day 2026-11-03", "deep orders day 2026-11-03".';
COMMENT ON COLUMN etl.reconcile.measure IS 'count (records), revenue (money, in the source''s currency) or rows (deep: rows missing, extra or different).';
COMMENT ON COLUMN etl.reconcile.source_value IS 'The source''s figure (NULL when it could not be read: status error).';
COMMENT ON COLUMN etl.reconcile.warehouse_value IS 'The same figure computed from the warehouse (rows marked is_deleted left out, as the source leaves deleted records out).';
COMMENT ON COLUMN etl.reconcile.difference IS 'warehouse_value - source_value (deep: the rows that differ).';
COMMENT ON COLUMN etl.reconcile.status IS 'ok (the difference is within verify_tolerance), mismatch, or error (the source or the warehouse could not be read; detail says why).';
COMMENT ON COLUMN etl.reconcile.detail IS 'For a mismatch: the ids found by narrowing (missing: in the source, not in the warehouse; extra: the other way; different: deep hashes differ); for an error: the reason.';
COMMENT ON COLUMN etl.reconcile.checked_at IS 'When the comparison was made.';

CREATE VIEW dw.v_load_health AS
WITH streams AS (
    SELECT DISTINCT rs.source_key, rs.stream FROM etl.run_stream rs WHERE rs.source_key IS NOT NULL
),
last_ok AS (
    SELECT rs.source_key, rs.stream, max(rs.finished_at) AS last_success_at
    FROM etl.run_stream rs WHERE rs.status = 'succeeded' GROUP BY rs.source_key, rs.stream
),
last_run AS (
    SELECT DISTINCT ON (rs.source_key, rs.stream) rs.source_key, rs.stream, rs.status, rs.run_id
    FROM etl.run_stream rs WHERE rs.source_key IS NOT NULL
    ORDER BY rs.source_key, rs.stream, rs.run_stream_id DESC
),
last_verification AS (
    SELECT r.source_key, r.stream, max(r.verification_id) AS verification_id
    FROM etl.reconcile r GROUP BY r.source_key, r.stream
),
verification AS (
    SELECT r.source_key, r.stream, min(r.checked_at) AS verified_at,
           count(*) AS checks,
           count(*) FILTER (WHERE r.status = 'mismatch') AS mismatches,
           count(*) FILTER (WHERE r.status = 'error') AS errors
    FROM etl.reconcile r
    JOIN last_verification lv ON lv.source_key = r.source_key AND lv.stream = r.stream
                             AND lv.verification_id = r.verification_id
    GROUP BY r.source_key, r.stream
),
rejects AS (
    SELECT j.source_key, j.stream, count(*) AS rejects_total,
           count(*) FILTER (WHERE j.run_id = lr.run_id) AS rejects_last_run
    FROM etl.reject j
    LEFT JOIN last_run lr ON lr.source_key = j.source_key AND lr.stream = j.stream
    GROUP BY j.source_key, j.stream
)
SELECT s.source_key,
       src.name AS source_name,
       s.stream,
       lr.status AS last_run_status,
       lo.last_success_at,
       now() - lo.last_success_at AS age,
       v.verified_at,
       CASE WHEN v.verified_at IS NULL THEN 'never'
            WHEN v.errors > 0 THEN 'error'
            WHEN v.mismatches > 0 THEN 'mismatch'
            ELSE 'ok' END AS verification,
       coalesce(v.checks, 0) AS verification_checks,
       coalesce(v.mismatches, 0) AS verification_mismatches,
       coalesce(rj.rejects_last_run, 0) AS rejects_last_run,
       coalesce(rj.rejects_total, 0) AS rejects_total
FROM streams s
JOIN dw.dim_source src ON src.source_key = s.source_key
LEFT JOIN last_ok lo ON lo.source_key = s.source_key AND lo.stream = s.stream
LEFT JOIN last_run lr ON lr.source_key = s.source_key AND lr.stream = s.stream
LEFT JOIN verification v ON v.source_key = s.source_key AND v.stream = s.stream
LEFT JOIN rejects rj ON rj.source_key = s.source_key AND rj.stream = s.stream;
COMMENT ON VIEW dw.v_load_health IS 'One row per loaded stream: how fresh it is, how its last verification against the source ended, and its rejects. For a dashboard''s "verified against the source" badge.';
COMMENT ON COLUMN dw.v_load_health.source_key IS 'Source (dw.dim_source).';
COMMENT ON COLUMN dw.v_load_health.source_name IS 'Source name from the config.';
COMMENT ON COLUMN dw.v_load_health.stream IS 'Stream name, e.g. orders.';
COMMENT ON COLUMN dw.v_load_health.last_run_status IS 'Status of the stream in its latest run (etl.run_stream.status).';
COMMENT ON COLUMN dw.v_load_health.last_success_at IS 'When the stream last finished successfully (its data is at least this fresh).';
COMMENT ON COLUMN dw.v_load_health.age IS 'now() - last_success_at.';
COMMENT ON COLUMN dw.v_load_health.verified_at IS 'When the latest verification of the stream ran (NULL: never verified).';
COMMENT ON COLUMN dw.v_load_health.verification IS 'ok (every comparison within verify_tolerance), mismatch, error (the source could not be read) or never.';
COMMENT ON COLUMN dw.v_load_health.verification_checks IS 'Comparisons the latest verification made (etl.reconcile rows).';
COMMENT ON COLUMN dw.v_load_health.verification_mismatches IS 'Of those, the ones beyond verify_tolerance.';
COMMENT ON COLUMN dw.v_load_health.rejects_last_run IS 'Records rejected (etl.reject) by the stream''s latest run.';
COMMENT ON COLUMN dw.v_load_health.rejects_total IS 'Records rejected by the stream over every run.';
