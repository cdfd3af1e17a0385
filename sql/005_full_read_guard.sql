-- 005_full_read_guard: a full read may not mark most of a table deleted (issue 9).
--
-- A list endpoint that answers a wrong but well-formed page (an empty list from a
-- gateway, a maintenance page) looks like a source whose members all went away.
-- The loader's full-read statement counts the rows the stream owns that are not
-- deleted (live) and those it did not see again (gone), and calls this guard
-- before it marks anything: more than max_delete_fraction of live is refused
-- with a message that says how many of how many, and how to allow it.

CREATE FUNCTION etl.full_read_guard(source smallint, tbl text, gone bigint, live bigint,
                                    max_fraction double precision)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    source_name text;
BEGIN
    IF gone <= max_fraction * live THEN
        RETURN true;
    END IF;
    SELECT name INTO source_name FROM dw.dim_source WHERE source_key = source;
    RAISE EXCEPTION 'would mark % of % live rows of % deleted, more than max_delete_fraction = % allows; nothing was marked',
        gone, live, tbl, max_fraction
        USING HINT = format('set max_delete_fraction = 1 in [source.%s] for one run if this is intended',
                            coalesce(source_name, '?'));
END
$$;
COMMENT ON FUNCTION etl.full_read_guard(smallint, text, bigint, bigint, double precision) IS 'Used by the loader''s full reads: true when marking gone of live rows deleted stays within max_fraction, else raises an error that names the counts and the [source.NAME] setting that allows it.';
