#!/usr/bin/env bash
# run.sh: flowetl's benchmark suite. Builds in Release mode, starts a private
# PostgreSQL and the API sandbox, measures, and prints the results table.
#
#   bench/run.sh            everything below with the defaults (a few minutes on 2 cores)
#
# What it measures (docs/benchmarks.md explains each figure):
#   e2e        a full load at SCALE: rows written (sum of inserted over etl.run_stream),
#              records read, MB of JSON, wall and CPU seconds, peak RSS (/usr/bin/time -v),
#              and the CPU the sandbox and PostgreSQL spent meanwhile (same cores)
#   loader     the loader floor: the warehouse rows of that load written out with
#              psql \copy, then loaded with \copy into a fresh warehouse (same tables,
#              indexes and constraints); timed
#   read       the read floor: bench/readfloor.c fetches and parses every page the load
#              fetched (same client, parser and concurrency) and does nothing else
#   peer       bench/peer.py: urllib + psycopg2 executemany, the script a user would write;
#              once against the e2e sandbox (loopback, ~0.1 ms per answer) and once, at
#              PEER_LATENCY_SCALE, against a sandbox that answers after LATENCY_MS
#              (--faults slow_ms), with flowetl at max_parallel LATENCY_PARALLEL
#   memory     peak RSS of full loads at SCALE_SMALL and 10 x SCALE_SMALL
#   pacing     the sandbox enforcing BUDGET requests in any sliding second; flowetl with
#              rate_limit = PACE_RATE (default BUDGET) and rate_window = PACE_WINDOW
#              (default 1s: a sliding-window limiter; "0" = the token bucket, rate_burst 1)
#   increment  after ADVANCE_STEPS sandbox steps, a second run: requests and rows
#              relative to the full load
#
# Environment: SCALE (10), SCALE_SMALL (1), MAX_PARALLEL (8), BUDGET (200),
# PACE_RATE (BUDGET), PACE_WINDOW (1s), PACE_SCALE (0.5), PACE_SOURCE (posiflora),
# ADVANCE_STEPS (1), PEER (1; 0 skips both peer runs), LATENCY_MS (50; 0 skips the
# peer with latency), PEER_LATENCY_SCALE (0.1), LATENCY_PARALLEL (128),
# SOURCES (posiflora; any system of the sandbox: its config section comes from
# tests/integration/lib_<system>.sh; the floors and the peer read Posiflora only, so
# their ratios hold for SOURCES=posiflora only), BUILD_DIR (build-bench),
# BENCH_DIR (BUILD_DIR/run: cluster, logs, results.txt), JOBS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD_DIR:-build-bench}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
WORK=${BENCH_DIR:-$BUILD/run}
[[ $WORK == /* ]] || WORK=$ROOT/$WORK
SCALE=${SCALE:-10}
SCALE_SMALL=${SCALE_SMALL:-1}
MAX_PARALLEL=${MAX_PARALLEL:-8}
BUDGET=${BUDGET:-200}
PACE_RATE=${PACE_RATE:-$BUDGET}
PACE_WINDOW=${PACE_WINDOW:-1s}
PACE_SCALE=${PACE_SCALE:-0.5}
ADVANCE_STEPS=${ADVANCE_STEPS:-1}
PEER=${PEER:-1}
LATENCY_MS=${LATENCY_MS:-50}
PEER_LATENCY_SCALE=${PEER_LATENCY_SCALE:-0.1}
LATENCY_PARALLEL=${LATENCY_PARALLEL:-128}
SOURCES=${SOURCES:-posiflora}
JOBS=${JOBS:-2}
FLOWETL=$BUILD/flowetl
SANDBOX=$BUILD/sandbox/flowetl-sandbox
READFLOOR=$BUILD/bench/readfloor
PG_DIR=$WORK/pg
RESULTS=$WORK/results.txt
SANDBOX_PID=
CLK_TCK=$(getconf CLK_TCK)

# The integration harness's per-system helpers (config_section_<system>,
# <system>_fast, ...): a source without a bench_section_<source> below uses its
# config_section_<source>, and <source>_fast (when defined) lifts the sandbox
# module's own default budgets before each load. Sourced first, so that the
# functions below replace the harness's of the same name.
# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
FE_LIB_ONLY=1 source "$ROOT/tests/integration/lib.sh"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

say() { printf '== %s\n' "$*" >&2; }
die() {
    echo "bench: FAILED: $*" >&2
    echo "bench: logs are in $WORK/" >&2
    exit 1
}

# ------------------------------------------------------------------ setup

# python3 with psycopg2 for the peer: Debian's python3-psycopg2 serves /usr/bin/python3.
peer_python() {
    local py
    for py in /usr/bin/python3 python3; do
        command -v "$py" >/dev/null && "$py" -c 'import psycopg2' 2>/dev/null && {
            echo "$py"
            return 0
        }
    done
    return 1
}

install_deps() {
    say "checking packages (scripts/deps.sh)"
    scripts/deps.sh || die "scripts/deps.sh"
    ((PEER)) || return 0
    peer_python >/dev/null && return 0
    say "installing python3-psycopg2 for the peer"
    local as_root=()
    ((EUID == 0)) || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y install python3-psycopg2 \
        >"$WORK/apt.log" 2>&1 ||
        {
            "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update &&
                "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y install \
                    python3-psycopg2
        } >>"$WORK/apt.log" 2>&1 || die "could not install python3-psycopg2 (see $WORK/apt.log)"
    peer_python >/dev/null || die "python3 cannot import psycopg2"
}

build() {
    say "building $BUILD (Release)"
    {
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
            cmake --build "$BUILD" -j "$JOBS" --target flowetl flowetl-sandbox &&
            cmake -S "$ROOT/bench" -B "$BUILD/bench" -DCMAKE_BUILD_TYPE=Release &&
            cmake --build "$BUILD/bench" -j "$JOBS"
    } >"$WORK/build.log" 2>&1 || {
        tail -n 30 "$WORK/build.log" >&2
        die "build (see $WORK/build.log)"
    }
}

start_postgres() {
    say "starting a private PostgreSQL in $PG_DIR"
    local envlines
    envlines=$(scripts/pgcluster.sh start "$PG_DIR") || die "PostgreSQL did not start"
    eval "$envlines"
    export PGHOST PGUSER PGDATABASE
}

cleanup() {
    stop_sandbox
    [[ -d $PG_DIR ]] && scripts/pgcluster.sh stop "$PG_DIR"
}

# ------------------------------------------------------------------ helpers

# fresh_db NAME: an empty database NAME.
fresh_db() {
    psql_q -d postgres -c "drop database if exists $1" -c "create database $1" >/dev/null
}

# start_sandbox SCALE [FAULTS] [THREADS] (bench/lib.sh), then each source's
# *_fast hook (budgets lifted where the sandbox enforces any).
start_bench_sandbox() {
    start_sandbox "$@"
    local s
    for s in $SOURCES; do
        if declare -F "${s}_fast" >/dev/null; then
            "${s}_fast" || die "${s}_fast"
        fi
    done
}

sandbox_stat() {
    curl -fsS "$SANDBOX_URL/_sandbox/stats" | awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# cpu_ticks PID: user + system ticks of PID (with its reaped children when ALL=1).
cpu_ticks() {
    awk -v all="${2:-0}" '{ s = $14 + $15; if (all) s += $16 + $17; print s }' "/proc/$1/stat" \
        2>/dev/null || echo 0
}

# PostgreSQL's CPU ticks: the postmaster with the backends it reaped, plus live ones.
pg_ticks() {
    local pm total child
    pm=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    total=$(cpu_ticks "$pm" 1)
    for child in $(ps -o pid= --ppid "$pm"); do
        total=$((total + $(cpu_ticks "$child")))
    done
    echo "$total"
}

secs() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }'; }

now() { date +%s.%N; }

# ------------------------------------------------------------------ sources

# bench_section_<source>: the config section of that source for the sandbox.
bench_section_posiflora() {
    echo "[source.posiflora_bench]"
    echo "type = posiflora"
    echo "base_url = $SANDBOX_URL/posiflora/api"
    echo "username = demo"
    echo "password = demo-secret"
    echo "timezone = Europe/Moscow"
}

# write_config FILE DBNAME RATE BURST [WINDOW]: WINDOW is rate_window (default 0, the
# token bucket).
write_config() {
    local s
    {
        echo "[warehouse]"
        echo "dsn = host=$PGHOST user=postgres dbname=$2"
        for s in $SOURCES; do
            echo
            if declare -F "bench_section_$s" >/dev/null; then
                "bench_section_$s"
            else
                "config_section_$s"
            fi
            echo "rate_limit = $3"
            echo "rate_burst = $4"
            echo "rate_window = ${5:-0}"
            echo "max_parallel = $MAX_PARALLEL"
        done
    } >"$1"
}

# ------------------------------------------------------------------ e2e

# run_stream_sums DB RUN: "records inserted updated requests bytes" of one run.
run_stream_sums() {
    psql_q -d "$1" -F ' ' -c "select sum(records), sum(inserted), sum(updated), sum(requests),
        sum(bytes), sum(http_429) from etl.run_stream where run_id = $2"
}

# timed_run NAME CONF: flowetl run under /usr/bin/time -v; sets RUN_WALL RUN_CPU
# RUN_RSS_MB RUN_SB_CPU RUN_PG_CPU.
timed_run() {
    local name=$1 conf=$2 sb0 pg0 sb1 pg1 t
    sb0=$(cpu_ticks "$SANDBOX_PID")
    pg0=$(pg_ticks)
    /usr/bin/time -v -o "$WORK/$name.time" "$FLOWETL" -c "$conf" run \
        >"$WORK/$name.out" 2>"$WORK/$name.err" || die "flowetl run ($name): see $WORK/$name.err"
    sb1=$(cpu_ticks "$SANDBOX_PID")
    # The postmaster adds a backend's CPU to its own children's time once it has
    # reaped it, a moment after flowetl disconnected.
    sleep 0.5
    pg1=$(pg_ticks)
    t=$WORK/$name.time
    RUN_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$t")
    RUN_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$t")
    RUN_RSS_MB=$(awk -F': ' '/Maximum resident/ { printf "%.1f", $2 / 1024 }' "$t")
    RUN_SB_CPU=$(secs $((sb1 - sb0)))
    RUN_PG_CPU=$(secs $((pg1 - pg0)))
}

# full_load NAME SCALE DB: a fresh warehouse and sandbox at SCALE, one full load.
full_load() {
    local name=$1 scale=$2 db=$3
    start_bench_sandbox "$scale"
    fresh_db "$db"
    write_config "$WORK/$name.conf" "$db" 10000 100
    "$FLOWETL" -c "$WORK/$name.conf" init >"$WORK/$name.init" 2>&1 || die "flowetl init"
    timed_run "$name" "$WORK/$name.conf"
}

e2e() {
    say "e2e: full load at scale $SCALE"
    full_load e2e "$SCALE" dw
    E_WALL=$RUN_WALL E_CPU=$RUN_CPU E_RSS=$RUN_RSS_MB E_SB_CPU=$RUN_SB_CPU E_PG_CPU=$RUN_PG_CPU
    read -r E_RECORDS E_ROWS _ E_REQUESTS E_BYTES _ < <(run_stream_sums dw 1)
    E_ORDERS=$(psql_q -d dw -c "select count(*) from dw.fact_order where order_key <> 0")
    # A fast load must still be exact: the warehouse against the sandbox's truth.
    E_TRUTH=skipped
    if [[ " $SOURCES " == *" posiflora "* ]]; then
        E_TRUTH=MISMATCH
        diff <(truth posiflora) <(PGDATABASE=dw warehouse_truth posiflora_bench posiflora) \
            >"$WORK/truth.diff" && E_TRUTH=ok
    fi
}

# ------------------------------------------------------------------ loader floor

# Warehouse tables in foreign-key order; dim_date and dim_source are set up by init.
FLOOR_TABLES=(dim_store dim_customer dim_category dim_product bridge_product_component
    fact_order fact_order_line fact_payment fact_inventory_snapshot)

loader_floor() {
    say "loader floor: the same rows with psql \\copy into a fresh warehouse"
    local dir=$WORK/floor t out="" in="" t0 t1
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 755 "$dir"
    for t in dim_source dim_date "${FLOOR_TABLES[@]}"; do
        out+="\\copy (select * from dw.$t order by 1) to '$dir/$t.copy'"$'\n'
    done
    psql_q -d dw <<<"$out" || die "loader floor: \\copy to"
    fresh_db dwfloor
    write_config "$WORK/floor.conf" dwfloor 10000 100
    "$FLOWETL" -c "$WORK/floor.conf" init >"$WORK/floor.init" 2>&1 || die "flowetl init (floor)"
    # Empty it completely, then put back what init had (untimed).
    psql_q -d dwfloor >/dev/null <<EOF || die "loader floor: reset"
truncate dw.dim_source, dw.dim_date cascade;
\\copy dw.dim_source from '$dir/dim_source.copy'
\\copy dw.dim_date from '$dir/dim_date.copy'
EOF
    for t in "${FLOOR_TABLES[@]}"; do
        in+="\\copy dw.$t from '$dir/$t.copy'"$'\n'
    done
    F_ROWS=0
    for t in "${FLOOR_TABLES[@]}"; do
        F_ROWS=$((F_ROWS + $(wc -l <"$dir/$t.copy")))
    done
    t0=$(now)
    psql_q -d dwfloor <<<"$in" >/dev/null || die "loader floor: \\copy from"
    t1=$(now)
    F_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# ------------------------------------------------------------------ read floor, peer

read_floor() {
    say "read floor: bench/readfloor (same pages, no work)"
    local line
    line=$("$READFLOOR" "$SANDBOX_URL/posiflora/api" "$MAX_PARALLEL") || die "readfloor"
    R_REQUESTS=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
    R_RECORDS=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' <<<"$line")
    R_BYTES=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$line")
    R_WALL=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
}

# run_peer: bench/peer.py against the running sandbox into a fresh database peer;
# sets P_ROWS P_RECORDS P_WALL.
run_peer() {
    local py line
    py=$(peer_python) || die "python3 with psycopg2 not found"
    fresh_db peer
    line=$("$py" bench/peer.py "$SANDBOX_URL/posiflora/api" "host=$PGHOST user=postgres dbname=peer") ||
        die "peer.py"
    P_ROWS=$(sed -n 's/.*rows=\([0-9]*\).*/\1/p' <<<"$line")
    P_RECORDS=$(sed -n 's/.*records=\([0-9]*\).*/\1/p' <<<"$line")
    P_WALL=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
}

peer() {
    P_WALL=
    ((PEER)) || return 0
    say "peer: bench/peer.py (urllib + psycopg2 executemany)"
    run_peer
}

# The peer against an API with a realistic round trip: every answer LATENCY_MS after
# its request arrived, however many are in flight (the sandbox suspends the
# connection meanwhile). flowetl first (full load, max_parallel LATENCY_PARALLEL),
# then the peer, on the same sandbox.
peer_latency() {
    L_WALL='' L_PEER_WALL=''
    ((PEER)) && ((LATENCY_MS > 0)) || return 0
    # run_peer sets these: locals keep the loopback peer's figures for the report
    local MAX_PARALLEL=$LATENCY_PARALLEL SOURCES=posiflora P_WALL P_ROWS P_RECORDS
    say "peer with latency: ${LATENCY_MS} ms per answer, scale $PEER_LATENCY_SCALE," \
        "flowetl max_parallel $MAX_PARALLEL"
    start_bench_sandbox "$PEER_LATENCY_SCALE" "slow_ms=$LATENCY_MS"
    fresh_db dwlat
    write_config "$WORK/latency.conf" dwlat 10000 100
    "$FLOWETL" -c "$WORK/latency.conf" init >"$WORK/latency.init" 2>&1 || die "flowetl init (latency)"
    timed_run latency "$WORK/latency.conf"
    L_WALL=$RUN_WALL
    local run
    run=$(psql_q -d dwlat -c "select max(run_id) from etl.run")
    read -r _ L_ROWS _ L_REQUESTS _ _ < <(run_stream_sums dwlat "$run")
    run_peer
    L_PEER_WALL=$P_WALL L_PEER_ROWS=$P_ROWS
}

# ------------------------------------------------------------------ incremental

incremental() {
    say "incremental: advance $ADVANCE_STEPS step(s), run again"
    curl -fsS -X POST "$SANDBOX_URL/_sandbox/advance?steps=$ADVANCE_STEPS" >"$WORK/advance.txt" ||
        die "advance"
    timed_run incremental "$WORK/e2e.conf"
    I_WALL=$RUN_WALL
    local run
    run=$(psql_q -d dw -c "select max(run_id) from etl.run")
    read -r I_RECORDS I_INS I_UPD I_REQUESTS _ _ < <(run_stream_sums dw "$run")
    I_ROWS=$((I_INS + I_UPD))
    I_CHANGED=$(awk -F'\t' '$2 ~ /^changes\.orders_/ { s += $3 } END { print s + 0 }' "$WORK/advance.txt")
}

# ------------------------------------------------------------------ memory, pacing

memory() {
    local big
    big=$(awk -v s="$SCALE_SMALL" 'BEGIN { printf "%g", s * 10 }')
    say "memory: full loads at scale $SCALE_SMALL and $big"
    full_load mem1 "$SCALE_SMALL" dwmem
    M_RSS1=$RUN_RSS_MB
    if [[ $big == "$SCALE" ]]; then
        M_RSS10=$E_RSS
    else
        full_load mem10 "$big" dwmem
        M_RSS10=$RUN_RSS_MB
    fi
}

pacing() {
    # The sandbox's budget counts the requests of every vendor it serves, while each
    # source has its own limiter: pacing is measured with one source.
    local SOURCES=${PACE_SOURCE:-posiflora}
    say "pacing: sandbox budget $BUDGET/s, $SOURCES with rate_limit $PACE_RATE," \
        "rate_window $PACE_WINDOW"
    start_bench_sandbox "$PACE_SCALE" "budget=$BUDGET"
    fresh_db dwpace
    write_config "$WORK/pace.conf" dwpace "$PACE_RATE" 1 "$PACE_WINDOW"
    "$FLOWETL" -c "$WORK/pace.conf" init >"$WORK/pace.init" 2>&1 || die "flowetl init (pacing)"
    timed_run pace "$WORK/pace.conf"
    A_REQUESTS=$(sandbox_stat requests)
    A_429=$(sandbox_stat status_429)
    A_WALL=$RUN_WALL
}

# ------------------------------------------------------------------ report

machine() {
    echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
        "$(awk '/^MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
        "$(psql_q -d postgres -c 'show server_version' | awk '{ print "PostgreSQL " $1 }')"
}

report() {
    awk -v ew="$E_WALL" -v ec="$E_CPU" -v er="$E_RSS" -v esb="$E_SB_CPU" -v epg="$E_PG_CPU" \
        -v erec="$E_RECORDS" -v erows="$E_ROWS" -v ereq="$E_REQUESTS" -v eby="$E_BYTES" \
        -v eord="$E_ORDERS" -v scale="$SCALE" -v etruth="$E_TRUTH" \
        -v frows="$F_ROWS" -v fw="$F_WALL" \
        -v rw="$R_WALL" -v rrec="$R_RECORDS" -v rreq="$R_REQUESTS" -v rby="$R_BYTES" \
        -v pw="$P_WALL" -v prows="${P_ROWS:-0}" -v prec="${P_RECORDS:-0}" \
        -v lw="${L_WALL:-}" -v lpw="${L_PEER_WALL:-}" -v lms="$LATENCY_MS" -v lscale="$PEER_LATENCY_SCALE" \
        -v lpar="$LATENCY_PARALLEL" -v lreq="${L_REQUESTS:-0}" -v lrows="${L_ROWS:-0}" -v lprows="${L_PEER_ROWS:-0}" \
        -v m1="$M_RSS1" -v m10="$M_RSS10" -v s1="$SCALE_SMALL" \
        -v budget="$BUDGET" -v prate="$PACE_RATE" -v pwin="$PACE_WINDOW" -v areq="$A_REQUESTS" -v a429="$A_429" -v aw="$A_WALL" \
        -v iw="$I_WALL" -v irec="$I_RECORDS" -v ireq="$I_REQUESTS" -v irows="$I_ROWS" -v ich="$I_CHANGED" \
        -v steps="$ADVANCE_STEPS" -v par="$MAX_PARALLEL" '
    function row(name, value, note) { printf "| %-34s | %-22s | %s\n", name, value, note }
    BEGIN {
        rows_s = erows / ew; rec_s = erec / ew
        printf "| %-34s | %-22s | %s\n", "figure", "value", "note"
        row("e2e full load", sprintf("%.2f s wall", ew),
            sprintf("scale %s: %d orders, %d requests, max_parallel %d", scale, eord, ereq, par))
        row("  rows written / s", sprintf("%.0f", rows_s), sprintf("%d rows (sum of inserted)", erows))
        row("  records read / s", sprintf("%.0f", rec_s), sprintf("%d records", erec))
        row("  JSON MB / s", sprintf("%.1f", eby / 1e6 / ew), sprintf("%.1f MB", eby / 1e6))
        row("  flowetl CPU", sprintf("%.2f s", ec), sprintf("%.0f %% of one core", 100 * ec / ew))
        row("  sandbox CPU (same cores)", sprintf("%.2f s", esb), "")
        row("  PostgreSQL CPU (same cores)", sprintf("%.2f s", epg), "")
        row("  peak RSS", sprintf("%.1f MB", er), "")
        row("  warehouse = sandbox truth", etruth, "posiflora metrics (see truth.diff)")
        f_s = frows / fw
        row("loader floor (psql \\copy)", sprintf("%.0f rows/s", f_s), sprintf("%d rows in %.2f s", frows, fw))
        row("  e2e / loader floor", sprintf("%.0f %%", 100 * rows_s / f_s), "rows/s; target >= 50 %")
        row("read floor (readfloor)", sprintf("%.0f records/s", rrec / rw), sprintf("%d requests, %.1f MB in %.2f s", rreq, rby / 1e6, rw))
        row("  e2e / read floor", sprintf("%.0f %%", 100 * rw / ew), "same pages: read floor s / e2e s")
        if (pw != "") {
            row("peer (peer.py)", sprintf("%.2f s wall", pw), sprintf("%d records read, %d rows into simple tables", prec, prows))
            row("  e2e speed-up over peer", sprintf("%.1f x", pw / ew), "loopback: peer s / e2e s; target >= 20 x")
            row("  loader floor over peer", sprintf("%.1f x", pw / fw), "peer s / loader floor s: the bound for any loader of these rows on loopback")
        }
        if (lw != "" && lpw != "") {
            row("peer, " lms " ms per answer", sprintf("%.2f s wall", lpw),
                sprintf("scale %s: flowetl %.2f s (max_parallel %d, %d requests, %d rows; peer %d rows)",
                    lscale, lw, lpar, lreq, lrows, lprows))
            row("  speed-up over peer at " lms " ms", sprintf("%.1f x", lpw / lw), "peer s / flowetl s; target >= 20 x")
        }
        row("peak RSS at scale " s1 " / " s1 * 10, sprintf("%.1f / %.1f MB", m1, m10), "target < 64 MB, flat")
        row("pacing", sprintf("%.1f %% of budget", 100 * areq / aw / budget),
            sprintf("%d requests in %.2f s, budget %s/s, rate_limit %s, rate_window %s", areq, aw, budget, prate, pwin))
        row("  HTTP 429", a429, "target 0")
        row("incremental (" steps " step)", sprintf("%.2f s wall", iw), sprintf("%d orders changed, %d records read", ich, irec))
        row("  requests vs full load", sprintf("%.2f %%", 100 * ireq / ereq), sprintf("%d requests", ireq))
        row("  rows written vs full load", sprintf("%.2f %%", 100 * irows / erows), sprintf("%d rows (inserted + updated)", irows))
    }'
}

main() {
    mkdir -p "$WORK"
    chmod 755 "$BUILD" "$WORK"
    install_deps
    build
    trap cleanup EXIT
    start_postgres
    e2e
    loader_floor
    read_floor
    peer
    incremental
    memory
    pacing
    peer_latency
    stop_sandbox
    {
        echo
        machine
        echo "flowetl $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)"
        echo
        report
    } | tee "$RESULTS"
}

case ${1:-} in
"") main ;;
-h | --help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" ;;
*)
    echo "usage: $0 (settings through the environment: see $0 --help)" >&2
    exit 2
    ;;
esac
