#!/usr/bin/env bash
# backfill.sh: what a backfill costs against each API's request budget (issue 14).
# Builds in Release mode (like bench/run.sh), starts a private PostgreSQL, and for
# each source, alone: a sandbox at its DEFAULT rate limits and a scale giving about
# the issue's orders, flowetl's DEFAULT config (only what points it at the sandbox
# is set), a full load (the backfill) and, after one sandbox step, an incremental
# run. Prints one table (docs/benchmarks.md, "Backfills at the request floor").
#
#   bench/backfill.sh                    every source (a few minutes: it waits on the budgets)
#   SOURCES="posiflora goflow" bench/backfill.sh
#
# Per source:
#   requests          HTTP requests of the full load's streams (etl.run_stream, retries
#                     included; the opening request of each stream thread and the
#                     verification after each stream are not streams': see "sent")
#   sent              every request the sandbox counted during the full load
#   orders            orders loaded (the orders stream's records)
#   req/1k orders     orders stream's requests / orders x 1000, and the whole source's
#   orders s          the orders stream's time (etl.run_stream.seconds)
#   wall s            the whole run (/usr/bin/time)
#   floor s           (sent - burst) / rate: the least time the budget allows for what
#                     was sent (a token bucket grants its burst at once, then `rate` a
#                     second). The budget is the sandbox's enforced default where it has
#                     one (Goflow: 60 list requests a minute, flowetl's matching default
#                     list_rate_per_minute = 60: a bucket of 10, then 50 a minute), else
#                     flowetl's default rate_limit = 5/s with rate_burst = 5 (the
#                     sandbox's Posiflora, Flowwow and Flow Retail enforce none, as the
#                     vendors document none)
#   wall/floor        1.00 = the backfill ran at the budget
#   incr requests     requests of the incremental run (all streams, etl.run_stream), after
#                     ADVANCE_STEPS sandbox steps (for Goflow with the report budget
#                     lifted: the backfill spent its 6 an hour, and the run would wait
#                     up to 10 minutes for the next without sending more)
#
# Scales (the sandbox generates counts x scale, docs/sandbox.md): Flowwow 0.115
# (2,000 x 0.115 + the 150 New Year's Eve orders = 380), Posiflora 0.06 (5,000 x
# 0.06 = 300), Goflow 0.19 (20 + 2,000 x 0.19 = 400), Flow Retail 0.1 (no orders
# stream: products, categories, packages, stock). Flowwow reads day by day from
# start_date, so its window is pinned to the year before the sandbox's clock
# (2025-01-01 .. 2025-12-31); the other sources read their lists whole.
#
# Environment: SOURCES (flowwow posiflora goflow flowretail), SCALE_<source> (above),
# ADVANCE_STEPS (1), BUILD_DIR (build-bench), BENCH_DIR (BUILD_DIR/backfill), JOBS (2),
# NO_BUILD=1 (use the binaries already in BUILD_DIR), EXTRA_CONF (lines added to each
# source's section, e.g. "stream_parallel = 1" for the streams one after another).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-build-bench}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
WORK=${BENCH_DIR:-$BUILD/backfill}
[[ $WORK == /* ]] || WORK=$ROOT/$WORK
SOURCES=${SOURCES:-flowwow posiflora goflow flowretail}
ADVANCE_STEPS=${ADVANCE_STEPS:-1}
JOBS=${JOBS:-2}
FLOWETL=$BUILD/flowetl
SANDBOX=$BUILD/sandbox/flowetl-sandbox
PG_DIR=$WORK/pg
RESULTS=$WORK/results.txt
SANDBOX_PID=

# The integration harness's config sections (config_section_<source>).
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
FE_LIB_ONLY=1 source "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

say() { printf '== %s\n' "$*" >&2; }
die() {
    echo "backfill: FAILED: $*" >&2
    echo "backfill: logs are in $WORK/" >&2
    exit 1
}

scale_of() {
    local v="SCALE_$1" d
    case $1 in
    flowwow) d=0.115 ;;
    posiflora) d=0.06 ;;
    goflow) d=0.19 ;;
    *) d=0.1 ;;
    esac
    echo "${!v:-$d}"
}

# budget_of SOURCE: "rate burst" (requests per second, bucket) of the budget the
# backfill runs against (see the header).
budget_of() {
    case $1 in
    goflow) echo "0.8333333 10" ;;
    *) echo "5 5" ;;
    esac
}

# The source's section: the harness's, with the settings of its tests dropped so
# that flowetl's defaults apply (rates, budgets, report options, retries), and only
# what points it at the sandbox kept.
# (Not in a pipeline: config_section_* export the secrets flowetl expands.)
section() {
    "config_section_$1" >"$WORK/$1.section"
    case $1 in
    flowwow)
        grep -vE '^(start_date|end_date) ' "$WORK/$1.section"
        echo "start_date = 2025-01-01"
        echo "end_date = 2025-12-31"
        ;;
    goflow)
        grep -vE '^(inventory_values|report_format|list_rate_per_minute|report_rate_per_hour|retry_base_ms) ' \
            "$WORK/$1.section"
        ;;
    *) cat "$WORK/$1.section" ;;
    esac
}




sandbox_requests() {
    curl -fsS "$SANDBOX_URL/_sandbox/stats" | awk -F'\t' '$1 == "requests" { v = $2 } END { print v + 0 }'
}

cleanup() {
    stop_sandbox
    [[ -d $PG_DIR ]] && scripts/pgcluster.sh stop "$PG_DIR"
}

# timed_run NAME CONF DB: flowetl run under /usr/bin/time; sets RUN_WALL, RUN_ID.
timed_run() {
    /usr/bin/time -f '%e' -o "$WORK/$1.time" "$FLOWETL" -c "$2" run \
        >"$WORK/$1.out" 2>"$WORK/$1.err" || die "flowetl run ($1): see $WORK/$1.err"
    RUN_WALL=$(tail -n 1 "$WORK/$1.time")
    RUN_ID=$(psql_q -d "$3" -c "select max(run_id) from etl.run")
}

# one SOURCE: the backfill and the incremental run of SOURCE; appends a row.
one() {
    local s=$1 db="bf_$1" conf="$WORK/$1.conf" scale rate burst sent0 sent
    scale=$(scale_of "$s")
    read -r rate burst < <(budget_of "$s")
    say "$s: sandbox at scale $scale, default limits; full load"
    start_sandbox "$scale"
    psql_q -d postgres -c "drop database if exists $db" -c "create database $db" >/dev/null 2>&1 ||
        die "could not create database $db"
    {
        echo "[warehouse]"
        echo "dsn = host=$PGHOST user=postgres dbname=$db"
        echo
        section "$s"
        [[ -z ${EXTRA_CONF:-} ]] || echo "$EXTRA_CONF"
    } >"$conf"
    "$FLOWETL" -c "$conf" init >"$WORK/$s.init" 2>&1 || die "flowetl init ($s)"
    sent0=$(sandbox_requests)
    timed_run "$s.full" "$conf" "$db"
    sent=$(($(sandbox_requests) - sent0))
    local full_id=$RUN_ID full_wall=$RUN_WALL
    psql_q -d "$db" -F ' ' -c "
        select coalesce(sum(requests), 0),
               coalesce(sum(requests) filter (where stream = 'orders'), 0),
               coalesce(sum(records) filter (where stream = 'orders'), 0),
               coalesce(sum(seconds) filter (where stream = 'orders'), 0),
               count(*) filter (where status <> 'succeeded')
          from etl.run_stream where run_id = $full_id" >"$WORK/$s.sums"
    local req oreq orders osec bad
    read -r req oreq orders osec bad <"$WORK/$s.sums"
    ((bad == 0)) || die "$s: $bad stream(s) did not succeed (see $WORK/$s.full.err)"
    psql_q -d "$db" -c "select stream || ' ' || requests || ' req ' || seconds || ' s ' ||
        to_char(started_at, 'HH24:MI:SS.MS') || '..' || to_char(finished_at, 'HH24:MI:SS.MS')
        from etl.run_stream where run_id = $full_id order by started_at" >"$WORK/$s.streams"

    say "$s: advance $ADVANCE_STEPS step(s), incremental run"
    curl -fsS -X POST "$SANDBOX_URL/_sandbox/advance?steps=$ADVANCE_STEPS" >/dev/null ||
        die "advance"
    # Goflow's report generator allows 6 an hour (one at once, the next 10 minutes
    # later): the backfill spent it, and the incremental run's inventory report would
    # wait for it. Its requests are what is measured, so the wait is lifted.
    if [[ $s == goflow ]]; then
        goflow_limits reports_per_hour=3600 >/dev/null || die "goflow_limits"
    fi
    timed_run "$s.incr" "$conf" "$db"
    local ireq
    ireq=$(psql_q -d "$db" -c "select coalesce(sum(requests), 0) from etl.run_stream
                               where run_id = $RUN_ID")
    stop_sandbox
    awk -v s="$s" -v req="$req" -v sent="$sent" -v oreq="$oreq" -v orders="$orders" \
        -v osec="$osec" -v wall="$full_wall" -v rate="$rate" -v burst="$burst" -v ireq="$ireq" \
        -v scale="$scale" 'BEGIN {
            floor = (sent - burst) / rate; if (floor < 0) floor = 0
            per_o = orders > 0 ? sprintf("%.0f", oreq / orders * 1000) : "-"
            per_s = orders > 0 ? sprintf("%.0f", req / orders * 1000) : "-"
            osec_t = orders > 0 ? sprintf("%.1f", osec) : "-"
            ratio = floor > 0 ? sprintf("%.2f", wall / floor) : "-"
            printf "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%.1f\t%.1f\t%s\t%d\n", s, scale, req, sent,
                orders, per_o, per_s, osec_t, wall, floor, ratio, ireq
        }' >>"$WORK/rows.tsv"
}

report() {
    {
        echo "backfill at the request floor ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d)${EXTRA_CONF:+, with: $EXTRA_CONF})"
        printf '| %s |\n' "source | scale | requests | sent | orders | req/1k orders (orders) | req/1k orders (source) | orders s | wall s | floor s | wall/floor | incr requests"
        printf '|%s\n' "---|---|---|---|---|---|---|---|---|---|---|---|"
        awk -F'\t' '{ printf "| %s |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print "" }' \
            "$WORK/rows.tsv"
        for s in $SOURCES; do
            echo "$s streams (full load):"
            sed 's/^/  /' "$WORK/$s.streams"
        done
    } | tee "$RESULTS"
}

main() {
    mkdir -p "$WORK"
    rm -f "$WORK/rows.tsv"
    build_release
    [[ -x $FLOWETL && -x $SANDBOX ]] || die "no binaries in $BUILD"
    trap cleanup EXIT
    rm -rf "$PG_DIR"
    local envlines
    envlines=$(scripts/pgcluster.sh start "$PG_DIR") || die "PostgreSQL did not start"
    eval "$envlines"
    export PGHOST PGUSER PGDATABASE
    local s
    for s in $SOURCES; do
        declare -F "config_section_$s" >/dev/null || die "unknown source $s"
        one "$s"
    done
    report
}

main "$@"
