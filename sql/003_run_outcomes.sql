-- 003_run_outcomes: every run and stream ends with a status and a reason, whatever
-- stopped it (issue 10). New statuses: interrupted (a signal stopped the run: the
-- open checkpoint was rolled back), abandoned (the process died; found by a later
-- run because the run's advisory lock was no longer held), skipped (another live
-- run held the source: a scheduler overlap, not a failure). A stream that failed
-- before its source was ever registered in dw.dim_source (a refused login on the
-- first run) has no source_key; source_name always says which config section it was.

ALTER TABLE etl.run DROP CONSTRAINT run_status;
ALTER TABLE etl.run ADD CONSTRAINT run_status
    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted', 'abandoned'));
ALTER TABLE etl.run ADD COLUMN reason text;
ALTER TABLE etl.run ADD COLUMN pid integer;
COMMENT ON COLUMN etl.run.status IS 'running, succeeded (every stream), partial (some streams failed), failed (none succeeded, or the run could not start), interrupted (stopped by a signal; open checkpoints rolled back), abandoned (the process died while running; marked by a later run).';
COMMENT ON COLUMN etl.run.reason IS 'One line: why the run ended as it did (NULL for a run that succeeded). Never holds a secret.';
COMMENT ON COLUMN etl.run.pid IS 'Process id of the flowetl process on host.';

ALTER TABLE etl.run_stream DROP CONSTRAINT run_stream_status;
ALTER TABLE etl.run_stream ADD CONSTRAINT run_stream_status
    CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'abandoned', 'skipped'));
ALTER TABLE etl.run_stream ADD COLUMN source_name text;
UPDATE etl.run_stream rs SET source_name = s.name FROM dw.dim_source s
WHERE s.source_key = rs.source_key;
ALTER TABLE etl.run_stream ALTER COLUMN source_name SET NOT NULL;
ALTER TABLE etl.run_stream ALTER COLUMN source_key DROP NOT NULL;
CREATE INDEX run_stream_name_stream ON etl.run_stream (source_name, stream, run_stream_id);
COMMENT ON COLUMN etl.run_stream.status IS 'running, succeeded, failed, interrupted (stopped by a signal; its open checkpoint rolled back), abandoned (the process died; marked by a later run), skipped (another live run was loading the source).';
COMMENT ON COLUMN etl.run_stream.source_key IS 'Source (dw.dim_source); NULL when the stream failed before its source was ever registered (e.g. a refused first login).';
COMMENT ON COLUMN etl.run_stream.source_name IS 'The config section NAME of [source.NAME] that ran the stream.';
COMMENT ON COLUMN etl.run_stream.error IS 'Why the stream failed, was interrupted or skipped (one line, secrets redacted); NULL when it succeeded.';
