#!/usr/bin/env bash
# demo.sh: flowetl end to end on this machine, with nothing to configure.
#
#   scripts/demo.sh         install missing packages, build, start a private
#                           PostgreSQL and the API sandbox, load, show the result
#   scripts/demo.sh stop    stop the sandbox and the PostgreSQL cluster
#
# Everything lives in ./.demo/ (cluster in .demo/pg, config .demo/flowetl.conf,
# logs). Each start begins with an empty warehouse and fresh sandbox data; both keep
# running afterwards so you can query the warehouse and re-run flowetl.
# DEMO_SCALE (default 1, about 5,000 orders) sets the sandbox's data volume;
# BUILD_DIR (default build) and DEMO_DIR (default .demo) move the build and the
# demo's files elsewhere.
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
SOURCE_NAME=posiflora_demo
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
    say "building $(show "$BUILD")/ (Release)"
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$DEMO/cmake.log" 2>&1 ||
        fail "cmake configure (see $DEMO/cmake.log)"
    cmake --build "$BUILD" -j "$JOBS" --target flowetl flowetl-sandbox >>"$DEMO/cmake.log" 2>&1 ||
        {
            tail -n 30 "$DEMO/cmake.log" >&2
            fail "build (see $DEMO/cmake.log)"
        }
    echo "built $FLOWETL"
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
    echo "Posiflora API emulated at $SANDBOX_URL/posiflora/api"
}

write_demo_config() {
    # The password is a ${VAR} reference: flowetl reads it from the environment.
    cat >"$CONF" <<EOF
# flowetl demo config, written by scripts/demo.sh.
[warehouse]
dsn = host=$PGHOST user=postgres dbname=dw

[source.$SOURCE_NAME]
type = posiflora
base_url = $SANDBOX_URL/posiflora/api
username = demo
password = \${POSIFLORA_PASSWORD}
timezone = Europe/Moscow
; The sandbox has no rate limit. For a real account keep the polite default (5/s).
rate_limit = 2000
rate_burst = 100
max_parallel = 8
EOF
    echo "wrote $CONF"
}

run_flowetl() {
    export POSIFLORA_PASSWORD=demo-secret
    say "flowetl init"
    "$FLOWETL" -c "$CONF" init || fail "flowetl init (exit $?)"
    say "flowetl run"
    local start=$SECONDS
    "$FLOWETL" -c "$CONF" run || fail "flowetl run (exit $?)"
    echo "loaded in $((SECONDS - start)) s"
}

summary() {
    say "rows per warehouse table"
    psql -X -P footer=off -v ON_ERROR_STOP=1 -c "
        select table_name as \"table\",
               (xpath('/row/n/text()', query_to_xml(
                   format('select count(*) as n from %I.%I', table_schema, table_name),
                   false, true, '')))[1]::text::bigint as rows
          from information_schema.tables
         where table_schema = 'dw' and table_type = 'BASE TABLE'
         order by 1" || fail "could not count the rows"

    say "top 10 days by revenue (dw.v_sales_daily)"
    psql -X -P footer=off -v ON_ERROR_STOP=1 -c "
        select date, currency, sum(orders) as orders, sum(units) as units,
               sum(revenue) as revenue
          from dw.v_sales_daily
         group by date, currency
         order by revenue desc, date
         limit 10" || fail "the sample query failed"

    say "ground truth: the sandbox's own counts and sums vs. the warehouse"
    # shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
    FE_LIB_ONLY=1 source "$ROOT/tests/integration/lib.sh"
    truth posiflora >"$DEMO/truth.txt" || fail "could not read the sandbox truth"
    warehouse_truth "$SOURCE_NAME" >"$DEMO/warehouse.txt" || fail "the truth query failed"
    if diff -u --label sandbox --label warehouse "$DEMO/truth.txt" "$DEMO/warehouse.txt" \
        >"$DEMO/truth.diff"; then
        echo "ok: all $(wc -l <"$DEMO/truth.txt") metrics match (orders, lines, payments, per day, per store)"
        TRUTH_OK=1
    else
        echo "MISMATCH: the warehouse differs from the sandbox truth:"
        head -n 40 "$DEMO/truth.diff"
        TRUTH_OK=0
    fi
}

next_steps() {
    say "the warehouse and the sandbox keep running"
    cat <<EOF
Query the warehouse:
  psql -h $PGHOST -U postgres dw
  (try: \\dv dw.*   select * from dw.v_sales_daily limit 20;)

Run flowetl again (incremental: reads only what changed):
  POSIFLORA_PASSWORD=demo-secret $(show "$FLOWETL") -c $(show "$CONF") run
  $(show "$FLOWETL") -c $(show "$CONF") status      # needs no API password

Make the sandbox change something (new orders, payments, customers), then run again:
  curl -X POST '$SANDBOX_URL/_sandbox/advance?steps=3'

Stop everything:
  scripts/demo.sh stop
EOF
}

main() {
    mkdir -p "$DEMO"
    say "checking packages (scripts/deps.sh)"
    scripts/deps.sh || fail "could not install the required packages"
    build
    start_postgres
    start_sandbox
    write_demo_config
    run_flowetl
    summary
    next_steps
    ((TRUTH_OK)) || fail "the loaded data does not match the sandbox truth (see $DEMO/truth.diff)"
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
