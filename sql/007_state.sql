-- 007_state: a persistent per-stream full-refresh request (issue 12).
--
-- `flowetl state reset SOURCE[.STREAM]` and `flowetl run --full-refresh[=...]` set
-- full_refresh_requested_at instead of deleting the cursor: the row and its cursor
-- stay (so `state show` still says where the stream was), and a full read that
-- fails (a fault, a kill) leaves the request in place, so the next run reads the
-- stream in full again. A stream's full read that succeeded clears the request,
-- but only one made before that read started (a request made while it ran stays).
-- A stream that never loaded gets a row with a NULL cursor to carry its request.

ALTER TABLE etl.sync_state ADD COLUMN full_refresh_requested_at timestamptz;
ALTER TABLE etl.sync_state ADD COLUMN full_refresh_requested_by text;
COMMENT ON COLUMN etl.sync_state.full_refresh_requested_at IS 'When a full read of the stream was requested (state reset, run --full-refresh); NULL = none pending. Cleared when a full read of the stream that started after it succeeds.';
COMMENT ON COLUMN etl.sync_state.full_refresh_requested_by IS 'Who requested the pending full read, e.g. "state reset" or "run --full-refresh (run 42)".';
COMMENT ON COLUMN etl.sync_state.cursor IS 'The stream''s cursor (shape owned by the source module; `flowetl state show` explains it), e.g. {"updatedAt": "2026-01-01T00:00:00Z"}; NULL when only a full-refresh request is stored.';
