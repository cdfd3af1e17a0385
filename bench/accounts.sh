#!/usr/bin/env bash
# accounts.sh: many accounts in one run (issue 15). ACCOUNTS [source.NAME] sections,
# the four types in turn, each with its own pinned `account = acct-NNN`, all against
# one sandbox at SCALE, loaded by one `flowetl run` with [run] max_sources =
# MAX_SOURCES into a fresh warehouse. Prints: wall time, peak RSS of flowetl
# (/usr/bin/time -v), the peak number of the run's warehouse sessions (polled from
# pg_stat_activity every 50 ms; also the peak two polls in a row saw, since a
# closed session's backend may be listed a moment after the next one opened),
# rows written (sum of etl.run_stream.inserted) and
# rows/s.
#
#   bench/accounts.sh                        200 accounts, 8 at a time, private PostgreSQL
#   LAYOUT=citus bench/accounts.sh           the same into a private Citus cluster (a
#                                            coordinator and two workers on this machine,
#                                            scripts/citus-cluster.sh); also prints the
#                                            peak connections the workers served
#   WAREHOUSE_DSN='host=... dbname=dw' bench/accounts.sh
#                                            into an existing, empty warehouse (e.g. a
#                                            Citus coordinator; `flowetl init` is run on it)
#
# Environment: LAYOUT (single or citus: the private warehouse's), ACCOUNTS (200),
# MAX_SOURCES (8), SCALE (0.02: the sandbox's data
# each account loads), WAREHOUSE_DSN (unset: a private PostgreSQL cluster in
# BENCH_DIR/pg with a fresh database), BUILD_DIR (build-bench, Release),
# BENCH_DIR (BUILD_DIR/accounts: cluster, config, logs), JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-build-bench}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
WORK=${BENCH_DIR:-$BUILD/accounts}
[[ $WORK == /* ]] || WORK=$ROOT/$WORK
ACCOUNTS=${ACCOUNTS:-200}
MAX_SOURCES=${MAX_SOURCES:-8}
SCALE=${SCALE:-0.02}
JOBS=${JOBS:-2}
FLOWETL=$BUILD/flowetl
SANDBOX=$BUILD/sandbox/flowetl-sandbox
PG_DIR=$WORK/pg
SANDBOX_PID=
WATCH_PID=
WORKERS_WATCH=
LAYOUT=${LAYOUT:-single}
SYSTEMS=(posiflora goflow flowwow flowretail)

# The integration harness's config_section_<system> and goflow_fast; then the
# benchmarks' sandbox helpers.
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
FE_LIB_ONLY=1 source "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

say() { printf '== %s\n' "$*" >&2; }
die() {
    echo "accounts: FAILED: $*" >&2
    echo "accounts: logs are in $WORK/" >&2
    exit 1
}

cleanup() {
    [[ -z $WATCH_PID ]] || kill -TERM "$WATCH_PID" 2>/dev/null || true
    stop_sandbox
    [[ -z $WORKERS_WATCH ]] || kill -TERM $WORKERS_WATCH 2>/dev/null || true
    [[ -n ${WAREHOUSE_DSN:-} || ! -d $PG_DIR ]] || scripts/pgcluster.sh stop "$PG_DIR"
    [[ -n ${WAREHOUSE_DSN:-} || ! -d $WORK/citus ]] || scripts/citus-cluster.sh stop "$WORK/citus"
}


# The warehouse: WAREHOUSE_DSN as given, or a fresh database in a private cluster.
warehouse() {
    if [[ -n ${WAREHOUSE_DSN:-} ]]; then
        DSN=$WAREHOUSE_DSN
        return
    fi
    if [[ $LAYOUT == citus ]]; then
        say "starting a private Citus cluster in $WORK/citus (a coordinator, two workers)"
        scripts/citus-cluster.sh stop "$WORK/citus"
        rm -rf "$WORK/citus"
        local envlines
        envlines=$(scripts/citus-cluster.sh start "$WORK/citus") || die "Citus did not start"
        eval "$envlines"
        export PGHOST PGPORT PGUSER PGDATABASE
        DSN="host=$PGHOST port=$PGPORT user=$PGUSER dbname=dw"
        return
    fi
    say "starting a private PostgreSQL in $PG_DIR"
    local envlines
    envlines=$(scripts/pgcluster.sh start "$PG_DIR") || die "PostgreSQL did not start"
    eval "$envlines"
    export PGHOST PGUSER PGDATABASE
    psql_q -d postgres -c "drop database if exists accounts" -c "create database accounts" \
        >/dev/null
    DSN="host=$PGHOST user=$PGUSER dbname=accounts"
}

write_accounts_config() {
    local k s
    for s in "${SYSTEMS[@]}"; do
        "config_section_$s" >/dev/null # exports the secrets' variables here
    done
    {
        echo "[warehouse]"
        echo "dsn = $DSN"
        echo
        echo "[run]"
        echo "max_sources = $MAX_SOURCES"
        echo "progress = never"
        for ((k = 1; k <= ACCOUNTS; k++)); do
            s=${SYSTEMS[$(((k - 1) % 4))]}
            echo
            "config_section_$s" | sed "1s/^\[source\.${s}_test\]$/[source.${s}_$k]/"
            echo "account = $(printf 'acct-%03d' "$k")"
            echo "rate_limit = 1000"
            echo "rate_burst = 100"
        done
    } >"$WORK/flowetl.conf"
}

# Sessions of flowetl runs, polled every 50 ms by one psql (\watch) until stopped.
watch_sessions() {
    printf '%s\n' "select count(*) from pg_stat_activity where application_name like 'flowetl run=%'" \
        '\watch 0.05' | psql -XAtq "$DSN" >"$WORK/sessions.txt" 2>"$WORK/sessions.err" &
    WATCH_PID=$!
}

# Connections each Citus worker serves (the coordinator's to it), polled likewise.
watch_workers() {
    local w
    [[ $LAYOUT == citus && -z ${WAREHOUSE_DSN:-} ]] || return 0
    for w in "$WORK"/citus/worker*; do
        printf '%s\n' "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()" \
            '\watch 0.05' | psql -XAtq -h "$(readlink -f "$w")" -p "$(awk -F' = ' '$1 == "port" { print $2 }' "$w/data/postgresql.conf" | tail -1)" -U postgres -d dw \
            >"$WORK/$(basename "$w").txt" 2>/dev/null &
        WORKERS_WATCH+=" $!"
    done
}

peak_workers() {
    local f peaks=""
    [[ -n $WORKERS_WATCH ]] || return 0
    kill -TERM $WORKERS_WATCH 2>/dev/null || true
    WORKERS_WATCH=
    for f in "$WORK"/worker*.txt; do
        peaks+="$(basename "$f" .txt) $(grep -E '^[0-9]+$' "$f" | sort -n | tail -1); "
    done
    echo "${peaks%; }"
}

peak_sessions() {
    kill -TERM "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    WATCH_PID=
    # The largest count, and the largest two polls in a row saw (a worker that
    # closed its session opens the next source's at once: the server may list
    # the closed one's backend for a moment while it exits).
    grep -E '^[0-9]+$' "$WORK/sessions.txt" |
        awk '{ if ($1 > raw) raw = $1; m = $1 < prev ? $1 : prev; if (NR > 1 && m > held) held = m;
               prev = $1 } END { print raw + 0, held + 0 }'
}

main() {
    mkdir -p "$WORK"
    trap cleanup EXIT
    [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (apt-get install time)"
    build_release
    warehouse
    say "sandbox at scale $SCALE"
    start_sandbox "$SCALE"
    goflow_fast || die "goflow_fast"
    write_accounts_config
    "$FLOWETL" -c "$WORK/flowetl.conf" -q init >"$WORK/init.log" 2>&1 ||
        die "flowetl init (see $WORK/init.log)"
    say "flowetl run: $ACCOUNTS accounts, max_sources $MAX_SOURCES"
    watch_sessions
    watch_workers
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/time.txt" "$FLOWETL" -c "$WORK/flowetl.conf" run \
        >"$WORK/run.out" 2>"$WORK/run.err" || rc=$?
    t1=$(date +%s.%N)
    local peak held
    read -r peak held < <(peak_sessions)
    local workers
    workers=$(peak_workers)
    ((rc == 0)) || die "flowetl run exited $rc (see $WORK/run.err)"
    local run rows sources streams rss wall
    run=$(psql_q "$DSN" -c "select max(run_id) from etl.run")
    read -r rows sources streams < <(psql_q -F ' ' "$DSN" -c "
        select coalesce(sum(inserted), 0), count(distinct source_key), count(*)
          from etl.run_stream where run_id = $run and status = 'succeeded'")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    ((sources == ACCOUNTS)) || die "$sources of $ACCOUNTS sources succeeded"
    # The bound holds while the sources queue (automatic stream_parallel is then 1).
    local bound="the sources fit the pool: stream threads add sessions"
    ((ACCOUNTS <= MAX_SOURCES)) || bound="bound: max_sources + 1 = $((MAX_SOURCES + 1))"
    printf '%-28s %s\n' \
        "accounts" "$ACCOUNTS (the four types in turn, scale $SCALE each)" \
        "max_sources" "$MAX_SOURCES" \
        "warehouse" "$([[ -n ${WAREHOUSE_DSN:-} ]] && echo "WAREHOUSE_DSN" || echo "private $LAYOUT PostgreSQL $(psql_q "$DSN" -c 'show server_version')")" \
        "streams succeeded" "$streams" \
        "wall time" "$wall s" \
        "peak RSS of flowetl" "$((rss / 1024)) MB ($rss kB)" \
        "peak sessions of the run" "$peak in one poll, $held in two polls 50 ms apart ($bound)" \
        "rows written" "$rows" \
        "rows/s" "$(awk -v r="$rows" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')"
    [[ -z $workers ]] || printf '%-28s %s\n' "peak connections per worker" "$workers"
}

main "$@"
