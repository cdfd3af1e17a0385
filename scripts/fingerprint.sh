#!/usr/bin/env bash
# fingerprint.sh: a fingerprint of the warehouse a full load of all four sources
# produces, to prove that two flowetl binaries (e.g. before and after a restructure)
# load the identical warehouse (issue 11). Same binaries => byte-identical output.
#
#   scripts/fingerprint.sh FLOWETL_BIN SANDBOX_BIN [OUT_FILE]
#   diff before.txt after.txt        # old and new binary: must be equal
#
# How: the integration harness (tests/integration/lib.sh) starts a private
# PostgreSQL cluster and the sandbox (seed 1, scale FP_SCALE, default 1; Goflow's
# budgets lifted); `flowetl init`; one `flowetl run` of Posiflora, Goflow (with its
# inventory reports), Flowwow and Flow Retail together; a second run
# with the sandbox unchanged (idempotence: it must change nothing). Small page sizes
# (Posiflora 3, Flow Retail 7) make their streams read many pages; Goflow (100,
# orders 50) and Flowwow (shops 50, products 1000, orders 100 per shop-day) fix
# theirs, so Goflow's stores and warehouses are one page. About 40 s on 2 cores.
#
# Output (stdout, and OUT_FILE when given), after each run:
#   run / stream   the run's status; per stream pages, records, inserted, updated,
#                  deleted, rejects (etl.run_stream);
#   snapshot_days  distinct inventory snapshot days per source (normally 1);
#   cursor         etl.sync_state per stream without its wall-clock members
#                  (read_at, full_read_at, snapshot_date);
#   rejects        etl.reject rows per stream; rejects_total: their count and md5
#                  (without reject_id, run_id, created_at);
#   fp             per dw table: name, rows, md5 of its rows, where
#     - loaded_at, run_id, captured_at are left out (when/which run wrote a row);
#     - snapshot_date_key is left out: it is the wall-clock day of the run;
#     - surrogate keys (identity columns) are left out and each reference to one is
#       replaced by the natural key of the row it points to (source_key -> (system,
#       account), product_key -> (source, product_id), ...). The sources load
#       concurrently, so the numbers the sequences hand out vary from run to run
#       (lib_hostile.sh's warehouse_fingerprint differs between two runs of one
#       binary); what a row points to does not.
# The accounts are pinned (`account = sandbox`): derived from base_url they would
# hold the sandbox's random port. Timing and versions go to stderr. A run that
# straddles midnight in Europe/Moscow or Europe/Oslo would add a snapshot day.
set -euo pipefail
[[ $# == 2 || $# == 3 ]] || {
    sed -n '2,7p' "$0" >&2
    exit 2
}
FLOWETL_BIN=$(realpath "$1")
SANDBOX_BIN=$(realpath "$2")
OUT_FILE=${3:+$(realpath -m "$3")}
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
export FLOWETL_BIN SANDBOX_BIN SOURCE_DIR
FP_SCALE=${FP_SCALE:-1}

# The harness talks on stdout (its temp dir, check lines): send that to stderr and
# keep fd 3 for the report.
exec 3>&1 1>&2
# shellcheck source-path=SCRIPTDIR/.. source=tests/integration/lib.sh
source "$SOURCE_DIR/tests/integration/lib.sh"

report() {
    tee -a "$T/report.txt" >&3
}

# nk_fingerprint: "fp<TAB>table<TAB>rows<TAB>md5" per dw table, as described above.
nk_fingerprint() {
    psql -XAtq -v ON_ERROR_STOP=1 -F $'\t' <<'SQL'
set check_function_bodies = off;
-- col_expr(table, column): the column as it goes into the fingerprint: a reference
-- to an identity key becomes pg_temp.nk_<table>(column), anything else stays.
create function pg_temp.col_expr(tbl oid, col smallint) returns text language sql stable as $$
    select coalesce((select format('pg_temp.%I(%I)', 'nk_' || r.relname, a.attname)
                       from pg_constraint c
                       join pg_class r on r.oid = c.confrelid
                       join pg_attribute ra on ra.attrelid = r.oid and ra.attnum = c.confkey[1]
                      where c.conrelid = tbl and c.contype = 'f' and c.conkey = array[col]
                        and ra.attidentity <> ''),
                    quote_ident(a.attname))
      from pg_attribute a where a.attrelid = tbl and a.attnum = col $$;
-- nk_<table>(key) for every dw table with an identity key: the natural key (its
-- unique constraint, references resolved in turn) of the row with that key.
select format('create function pg_temp.%I(k bigint) returns text language sql stable as %L',
              'nk_' || t.relname,
              format('select row(%s)::text from dw.%I where %I = k',
                     (select string_agg(pg_temp.col_expr(t.oid, u.n), ', ' order by u.i)
                        from unnest(uc.conkey) with ordinality u(n, i)),
                     t.relname, id.attname))
  from pg_class t
  join pg_namespace ns on ns.oid = t.relnamespace and ns.nspname = 'dw'
  join pg_attribute id on id.attrelid = t.oid and id.attidentity <> ''
  join pg_constraint uc on uc.conrelid = t.oid and uc.contype = 'u' and uc.conname like '%\_nk'
\gexec
select format('select ''fp'', %L, count(*), md5(coalesce(string_agg(r, E''\n'' order by r), ''''))'
              ' from (select row(%s)::text as r from dw.%I) s',
              t.relname,
              string_agg(pg_temp.col_expr(t.oid, a.attnum), ', ' order by a.attnum), t.relname)
  from pg_class t
  join pg_namespace ns on ns.oid = t.relnamespace and ns.nspname = 'dw'
  join pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
 where t.relkind = 'r' and a.attidentity = ''
   and a.attname not in ('loaded_at', 'run_id', 'captured_at', 'snapshot_date_key')
 group by t.oid, t.relname
 order by t.relname
\gexec
SQL
}

# run_summary: the newest run's status and per stream counts, the snapshot days and
# the rejects.
run_summary() {
    sql "select 'run', status from etl.run order by run_id desc limit 1"
    sql "select 'stream', source_name || '.' || stream, status, 'pages=' || pages,
                'records=' || records,
                'inserted=' || inserted, 'updated=' || updated, 'deleted=' || deleted,
                'rejects=' || rejects
           from etl.run_stream where run_id = (select max(run_id) from etl.run)
          order by 2"
    sql "select 'snapshot_days', s.name, count(distinct i.snapshot_date_key)
           from dw.fact_inventory_snapshot i join dw.dim_source s using (source_key)
          group by 2 order by 2"
    sql "select 'cursor', s.name || '.' || c.stream,
                c.cursor - 'read_at' - 'full_read_at' - 'snapshot_date'
           from etl.sync_state c join dw.dim_source s using (source_key) order by 2"
    sql "select 'rejects', s.name || '.' || r.stream, count(*)
           from etl.reject r join dw.dim_source s using (source_key) group by 2 order by 2"
    sql "select 'rejects_total', count(*),
                md5(coalesce(string_agg(r, E'\n' order by r), ''))
           from (select row(s.name, j.stream, j.record_id, j.reason, j.raw, j.raw_length)::text r
                   from etl.reject j join dw.dim_source s using (source_key)) x"
}

# load RUN_NUMBER: one `flowetl run` of every source, then its report block.
load() {
    local start=$SECONDS
    flowetl run
    echo "# run $1: exit $FE_RC in $((SECONDS - start)) s" >&2
    [[ $FE_RC == 0 ]] || {
        note_file "$T/err" 40
        bail "run $1 failed (exit $FE_RC)"
    }
    {
        echo "== after run $1"
        run_summary
        nk_fingerprint
    } | report
}

SYSTEMS="posiflora goflow flowwow flowretail"
# Read by write_config. The accounts are pinned: derived from base_url they would
# be 127.0.0.1:<random port>.
# shellcheck disable=SC2034
{
    CONFIG_EXTRA_posiflora=$'page_size = 3\naccount = sandbox'
    CONFIG_EXTRA_goflow='account = sandbox'
    CONFIG_EXTRA_flowwow='account = sandbox'
    CONFIG_EXTRA_flowretail='page_size = 7'
}
echo "# flowetl: $("$FLOWETL_BIN" --version); sandbox: $SANDBOX_BIN" >&2
t0=$SECONDS
pg_start
sandbox_start --scale "$FP_SCALE"
goflow_fast
# shellcheck disable=SC2119 # no lines for every source
write_config
echo "# fingerprint of a full load: seed 1, scale $FP_SCALE, sources $SYSTEMS" | report
flowetl init
[[ $FE_RC == 0 ]] || bail "flowetl init failed (exit $FE_RC)"
load 1
load 2
echo "# total: $((SECONDS - t0)) s" >&2
[[ -z $OUT_FILE ]] || cp "$T/report.txt" "$OUT_FILE"
# shellcheck disable=SC2034 # read by lib.sh's exit trap: a clean end
FE_FINISHED=1
