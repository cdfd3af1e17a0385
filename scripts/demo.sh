#!/usr/bin/env bash
# demo.sh: flowetl end to end on this machine, with nothing to configure.
#
#   scripts/demo.sh         install missing packages, build, start a private
#                           PostgreSQL and the API sandbox, load all four sources
#                           (Posiflora, Goflow, Flowwow, Flow Retail) into one
#                           warehouse, show the result and check it against the
#                           sandbox's ground truth (PASS/FAIL per source)
#   scripts/demo.sh stop    stop the sandbox and the PostgreSQL cluster
#
# Everything lives in ./.demo/ (cluster in .demo/pg, config .demo/flowetl.conf,
# logs). Each start begins with an empty warehouse and fresh sandbox data; both keep
# running afterwards so you can query the warehouse and re-run flowetl. The exit
# status is 0 only when every source matches its truth.
# DEMO_SCALE (default 1: about 5,000 Posiflora orders and the other systems' data
# at the same scale) sets the sandbox's data volume; BUILD_DIR (default build) and
# DEMO_DIR (default .demo) move the build and the demo's files elsewhere;
# DEMO_BUILD=0 skips the build (the binaries must exist). An already configured
# BUILD_DIR is built as configured; a new one is configured as Release.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$ROOT/${BUILD_DIR:-build}
DEMO=${DEMO_DIR:-.demo}
[[ $DEMO == /* ]] || DEMO=$ROOT/$DEMO
PG_DIR=$DEMO/pg
PIDFILE=$DEMO/sandbox.pid
PORTFILE=$DEMO/sandbox.port
CONF=$DEMO/flowetl.conf
SCALE=${DEMO_SCALE:-1}
# The four systems the sandbox serves; each is the config section [source.SYSTEM].
SYSTEMS=(posiflora goflow flowwow flowretail)
FLOWETL=$BUILD/flowetl
SANDBOX=$BUILD/sandbox/flowetl-sandbox
JOBS=${JOBS:-2}

# A path as the user types it from the repository root.
show() {
    case $1 in
    "$ROOT"/*) printf '%s\n' "${1#"$ROOT"/}" ;;
    *) printf '%s\n' "$1" ;;
    esac
}

say() {
    printf '\n== %s\n' "$*"
}

fail() {
    echo >&2
    echo "demo: FAILED: $*" >&2
    echo "demo: logs are in $DEMO/; stop what was started with: scripts/demo.sh stop" >&2
    exit 1
}

# The sandbox we started, if it is still running (its pid from the pid file, checked
# to really be the sandbox so a recycled pid is never signalled).
sandbox_pid() {
    local pid
    [[ -s $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q flowetl-sandbox || return 1
    echo "$pid"
}

stop_sandbox() {
    local pid i
    if pid=$(sandbox_pid); then
        kill -TERM "$pid"
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "demo: sandbox stopped" >&2
    fi
    rm -f "$PIDFILE" "$PORTFILE"
}

stop_all() {
    stop_sandbox
    if [[ -d $PG_DIR ]]; then
        scripts/pgcluster.sh stop "$PG_DIR"
        echo "demo: PostgreSQL stopped (data kept in $PG_DIR)" >&2
    fi
}

build() {
    if [[ ${DEMO_BUILD:-1} == 0 ]]; then
        [[ -x $FLOWETL && -x $SANDBOX ]] ||
            fail "DEMO_BUILD=0 but $(show "$BUILD") has no flowetl or sandbox"
        return 0
    fi
    local start=$SECONDS
    if [[ -f $BUILD/CMakeCache.txt ]]; then
        say "building $(show "$BUILD")/ (as configured)"
    else
        say "building $(show "$BUILD")/ (Release)"
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$DEMO/cmake.log" 2>&1 ||
            fail "cmake configure (see $DEMO/cmake.log)"
    fi
    cmake --build "$BUILD" -j "$JOBS" --target flowetl flowetl-sandbox >>"$DEMO/cmake.log" 2>&1 ||
        {
            tail -n 30 "$DEMO/cmake.log" >&2
            fail "build (see $DEMO/cmake.log)"
        }
    BUILD_SECONDS=$((SECONDS - start))
    echo "built $FLOWETL in $BUILD_SECONDS s"
}

start_postgres() {
    say "starting a private PostgreSQL in $(show "$PG_DIR") (unix socket only)"
    local envlines
    envlines=$(scripts/pgcluster.sh start "$PG_DIR") || fail "PostgreSQL did not start"
    eval "$envlines"
    export PGHOST PGUSER PGDATABASE
    # A fresh warehouse for every demo: the sandbox starts from its initial data too.
    psql -XAtq -v ON_ERROR_STOP=1 -d postgres -c 'drop database if exists dw' \
        -c 'create database dw' || fail "could not recreate database dw"
    echo "database dw (empty) at $PGHOST"
}

start_sandbox() {
    say "starting the API sandbox (seed 1, scale $SCALE)"
    stop_sandbox
    # nohup: the sandbox outlives this script and the terminal it ran in.
    nohup "$SANDBOX" --host 127.0.0.1 --port 0 --port-file "$PORTFILE" --seed 1 \
        --scale "$SCALE" >"$DEMO/sandbox.log" 2>&1 </dev/null &
    local pid=$! i
    echo "$pid" >"$PIDFILE"
    for ((i = 0; i < 200; i++)); do
        [[ -s $PORTFILE ]] && break
        kill -0 "$pid" 2>/dev/null || {
            cat "$DEMO/sandbox.log" >&2
            fail "the sandbox exited at start"
        }
        sleep 0.05
    done
    [[ -s $PORTFILE ]] || fail "the sandbox did not report its port"
    SANDBOX_URL="http://127.0.0.1:$(<"$PORTFILE")"
    for ((i = 0; i < 100; i++)); do
        curl -fsS -o /dev/null "$SANDBOX_URL/_sandbox/stats" 2>/dev/null && break
        sleep 0.05
    done
    curl -fsS -o /dev/null "$SANDBOX_URL/_sandbox/stats" ||
        fail "the sandbox does not answer at $SANDBOX_URL"
    # Goflow's documented budgets (60 list requests a minute, 6 reports an hour),
    # which the sandbox emulates, would make the demo take an hour: lift them (the
    # config below lifts flowetl's own Goflow pacing to match).
    curl -fsS -o /dev/null -X POST \
        "$SANDBOX_URL/goflow/_control?list_per_min=60000&reports_per_hour=3600&report_polls=1" ||
        fail "could not lift the sandbox's Goflow budgets"
    echo "APIs emulated at $SANDBOX_URL (/posiflora/api, /goflow/v1, /flowwow, /flowretail/v2)"
}

write_demo_config() {
    # Secrets are ${VAR} references: flowetl reads them from the environment.
    cat >"$CONF" <<EOF
# flowetl demo config, written by scripts/demo.sh: the four systems the sandbox
# serves, loaded into one warehouse. The sandbox has no rate limit: for real
# accounts keep the polite defaults of rate_limit and of the Goflow budgets.
[warehouse]
dsn = host=$PGHOST user=postgres dbname=dw

[source.posiflora]
type = posiflora
base_url = $SANDBOX_URL/posiflora/api
username = demo
password = \${POSIFLORA_PASSWORD}
timezone = Europe/Moscow
rate_limit = 2000
rate_burst = 100
max_parallel = 8

[source.goflow]
type = goflow
base_url = $SANDBOX_URL/goflow/v1
token = \${GOFLOW_TOKEN}
beta_contact = demo@example.com
inventory_values = true
list_rate_per_minute = 60000
report_rate_per_hour = 3600
rate_limit = 2000
rate_burst = 100

[source.flowwow]
type = flowwow
base_url = $SANDBOX_URL/flowwow
token = \${FLOWWOW_TOKEN}
timezone = Europe/Moscow
; The sandbox's orders lie in Nov-Dec 2025: a fixed window instead of "until today".
start_date = 2025-11-01
end_date = 2026-01-05
rate_limit = 2000
rate_burst = 100

[source.flowretail]
type = flowretail
base_url = $SANDBOX_URL/flowretail/v2
tenant = demo
token = \${FLOWRETAIL_TOKEN}
timezone = Europe/Oslo
stores = store-oslo, store-bergen, store-trondheim
rate_limit = 2000
rate_burst = 100
EOF
    echo "wrote $CONF (sources: ${SYSTEMS[*]})"
}

# The sandbox's demo credentials (the same as in tests/integration/lib*.sh).
export_secrets() {
    export POSIFLORA_PASSWORD=demo-secret GOFLOW_TOKEN=gf-demo-token
    export FLOWWOW_TOKEN=demo-flowwow-token FLOWRETAIL_TOKEN=demo-flowretail-token
}

run_flowetl() {
    export_secrets
    say "flowetl init"
    "$FLOWETL" -c "$CONF" init || fail "flowetl init (exit $?)"
    say "flowetl run (the four sources at once; its log: $(show "$DEMO/run.log"))"
    local start=$SECONDS rc=0
    "$FLOWETL" -c "$CONF" run 2>"$DEMO/run.log" || rc=$?
    ((rc == 0)) || {
        tail -n 20 "$DEMO/run.log" >&2
        fail "flowetl run (exit $rc; see $DEMO/run.log)"
    }
    echo "loaded in $((SECONDS - start)) s"
}

# psql with aligned output and no footer: the tables shown to the user.
show_query() {
    psql -X -P footer=off -v ON_ERROR_STOP=1 -c "$1"
}

rows_per_source() {
    say "rows per source and table (deleted rows included)"
    show_query "
        select s.name as source,
               (select count(*) from dw.dim_store x where x.source_key = s.source_key) as stores,
               (select count(*) from dw.dim_category x
                 where x.source_key = s.source_key) as categories,
               (select count(*) from dw.dim_product x where x.source_key = s.source_key) as products,
               (select count(*) from dw.bridge_product_component x
                 where x.source_key = s.source_key) as components,
               (select count(*) from dw.dim_customer x
                 where x.source_key = s.source_key) as customers,
               (select count(*) from dw.fact_order x where x.source_key = s.source_key) as orders,
               (select count(*) from dw.fact_order_line x
                 where x.source_key = s.source_key) as order_lines,
               (select count(*) from dw.fact_payment x where x.source_key = s.source_key) as payments,
               (select count(*) from dw.fact_inventory_snapshot x
                 where x.source_key = s.source_key) as stock_rows
          from dw.dim_source s
         where s.source_key <> 0
         order by s.name" || fail "could not count the rows"
}

cross_source_query() {
    say "one query across the sources: sales per source and month (dw.v_sales_daily)"
    local query="select source_name as source, to_char(date, 'YYYY-MM') as month, currency,
       sum(orders) as orders, sum(gross_revenue) as gross_revenue,
       sum(returned_revenue) as returns, sum(net_revenue) as net_revenue
  from dw.v_sales_daily
 group by 1, 2, 3
 order by 1, 2, 3;"
    printf '%s\n\n' "$query"
    show_query "$query" || fail "the cross-source query failed"
}

# truth_row SYSTEM METRICS RESULT: one line of the truth table.
truth_row() {
    printf '%-12s %8s  %s\n' "$@"
}

# Every source against the sandbox's ground truth, judged as the integration tests
# judge it (truth_compare in tests/integration/lib.sh, truth_SYSTEM.sql beside it).
truth_check() {
    say "ground truth: the sandbox's own counts and sums vs. the warehouse, per source"
    # shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
    FE_LIB_ONLY=1 source "$ROOT/tests/integration/lib.sh"
    local system dir rc failed=()
    truth_row source metrics result
    for system in "${SYSTEMS[@]}"; do
        dir=$DEMO/truth/$system
        mkdir -p "$dir"
        rc=0
        truth_compare "$system" "$system" "$dir" || rc=$?
        case $rc in
        0) truth_row "$system" "$(wc -l <"$dir/truth.txt")" PASS ;;
        1)
            truth_row "$system" "$(wc -l <"$dir/truth.txt")" \
                "FAIL ($(grep -c '^-[^-]' "$dir/truth.diff") metrics differ)"
            ;;
        2) truth_row "$system" - "FAIL (the warehouse query failed: $(show "$dir/warehouse.err"))" ;;
        *) truth_row "$system" - "FAIL (the sandbox's truth is empty)" ;;
        esac
        ((rc == 0)) || failed+=("$system")
    done
    for system in "${failed[@]}"; do
        [[ -s $DEMO/truth/$system/truth.diff ]] || continue
        printf '\n%s: sandbox (-) vs. warehouse (+), first lines:\n' "$system"
        head -n 30 "$DEMO/truth/$system/truth.diff"
    done
    TRUTH_FAILED=${failed[*]}
}

next_steps() {
    say "the warehouse and the sandbox keep running"
    cat <<EOF
Query the warehouse:
  psql -h $PGHOST -U postgres dw
  (try: \\dv dw.*   select * from dw.v_sales_daily limit 20;)

Run flowetl again (incremental: reads only what changed):
  export POSIFLORA_PASSWORD=demo-secret GOFLOW_TOKEN=gf-demo-token \\
         FLOWWOW_TOKEN=demo-flowwow-token FLOWRETAIL_TOKEN=demo-flowretail-token
  $(show "$FLOWETL") -c $(show "$CONF") run
  $(show "$FLOWETL") -c $(show "$CONF") status      # needs no API secrets

Make the sandbox change something (new orders, payments, customers), then run again:
  curl -X POST '$SANDBOX_URL/_sandbox/advance?steps=3'

Stop everything:
  scripts/demo.sh stop
EOF
}

main() {
    local start=$SECONDS
    BUILD_SECONDS=0
    mkdir -p "$DEMO"
    rm -rf "$DEMO/truth"
    say "checking packages (scripts/deps.sh)"
    scripts/deps.sh || fail "could not install the required packages"
    build
    start_postgres
    start_sandbox
    write_demo_config
    run_flowetl
    rows_per_source
    cross_source_query
    truth_check
    next_steps
    printf '\ndemo: %d s in all, %d s of it building\n' $((SECONDS - start)) "$BUILD_SECONDS"
    [[ -z $TRUTH_FAILED ]] ||
        fail "the warehouse does not match the sandbox truth for: $TRUTH_FAILED (see $DEMO/truth/)"
    echo "demo: PASS: all ${#SYSTEMS[@]} sources match the sandbox truth"
}

case ${1:-start} in
start) main ;;
stop) stop_all ;;
-h | --help | help) sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" ;;
*)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
