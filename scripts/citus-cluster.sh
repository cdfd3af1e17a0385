#!/usr/bin/env bash
# citus-cluster.sh: a private, throwaway Citus cluster on this machine for the tests,
# the demo and the benchmarks: a coordinator and WORKERS workers (default 2), each a
# PostgreSQL server of its own made by scripts/pgcluster.sh (unix sockets only, no
# fsync: never for real data), with citus preloaded and database dw in each.
#
#   scripts/citus-cluster.sh start DIR    start (or reuse) DIR/coordinator, DIR/worker1..N,
#                                         join them into one cluster
#   scripts/citus-cluster.sh stop DIR     stop every server (no error when none runs)
#   scripts/citus-cluster.sh install      build and install Citus when it is missing
#                                         (../shared/vendor/build-citus.sh, or CITUS_BUILD)
#
# `start` prints the coordinator's connection settings on stdout, ready for eval, like
# pgcluster.sh: eval "$(scripts/citus-cluster.sh start /tmp/c)"; export PGHOST PGPORT ...
# Ports: the coordinator CITUS_PORT (default 5432), worker i CITUS_PORT + i; each server
# has its own socket directory, so they never collide with other private clusters.
# Environment: WORKERS (2), CITUS_PORT (5432), CITUS_SHARD_COUNT (the coordinator's
# citus.shard_count; default: Citus's own, 32), CITUS_BUILD (the build script).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() {
    echo "citus-cluster: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR | install" >&2
    exit 2
}

# The build script: CITUS_BUILD, else the vendor folder beside the repository's parent
# (the layout of this project's workspace), else beside the repository.
build_script() {
    local c
    for c in "${CITUS_BUILD:-}" "$root/../shared/vendor/build-citus.sh" \
        "$root/../vendor/build-citus.sh" "$root/vendor/build-citus.sh"; do
        [[ -n $c && -x $c ]] && {
            echo "$c"
            return
        }
    done
    return 1
}

installed() {
    local lib
    lib=$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir 2>/dev/null) || return 1
    [[ -f $lib/citus.so ]]
}

install() {
    installed && return 0
    local b
    b=$(build_script) || die "Citus is not installed and no build-citus.sh was found (set CITUS_BUILD)"
    [[ $EUID -eq 0 ]] || die "Citus is not installed; building it needs root: sudo $b"
    "$b" >&2 || die "building Citus failed ($b)"
}

# psql on server DIR (socket directory) and PORT, database dw.
q() {
    local dir=$1 port=$2
    shift 2
    psql -XAtq -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d dw "$@"
}

# The socket directory pgcluster.sh printed for a server (it may have moved it).
start_server() {
    local dir=$1 port=$2 conf=$3 envlines
    envlines=$(PGCLUSTER_PORT=$port PGCLUSTER_MAX_CONNECTIONS=120 PGCLUSTER_CONF=$conf \
        "$here/pgcluster.sh" start "$dir") || die "the server in $dir did not start"
    (
        eval "$envlines"
        echo "$PGHOST"
    )
}

start() {
    local dir=$1 workers=${WORKERS:-2} base=${CITUS_PORT:-5432} i
    install
    mkdir -p "$dir"
    local conf="shared_preload_libraries = 'citus'
citus.log_remote_commands = off
max_prepared_transactions = 100"
    local coord_conf=$conf
    [[ -n ${CITUS_SHARD_COUNT:-} ]] && coord_conf+=$'\n'"citus.shard_count = $CITUS_SHARD_COUNT"
    local chost
    chost=$(start_server "$dir/coordinator" "$base" "$coord_conf")
    q "$chost" "$base" -c "CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
    # The coordinator in the metadata: local tables may then reference reference
    # tables (Citus makes them citus local tables), as etl.* do.
    q "$chost" "$base" -c "SELECT citus_set_coordinator_host('$chost', $base)" >/dev/null
    for ((i = 1; i <= workers; i++)); do
        local whost
        whost=$(start_server "$dir/worker$i" $((base + i)) "$conf")
        q "$whost" $((base + i)) -c "CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
        if [[ $(q "$chost" "$base" -c "SELECT count(*) FROM pg_dist_node WHERE nodename = '$whost' AND nodeport = $((base + i))") == 0 ]]; then
            q "$chost" "$base" -c "SELECT citus_add_node('$whost', $((base + i)))" >/dev/null ||
                die "could not add worker $i ($whost:$((base + i)))"
        fi
    done
    printf 'PGHOST=%q\nPGPORT=%q\nPGUSER=postgres\nPGDATABASE=dw\n' "$chost" "$base"
}

stop() {
    local dir=$1 d
    [[ -d $dir ]] || return 0
    for d in "$dir"/worker* "$dir"/coordinator; do
        [[ -e $d ]] && "$here/pgcluster.sh" stop "$d" >/dev/null 2>&1 || true
    done
}

case ${1:-} in
start)
    [[ $# -eq 2 ]] || usage
    start "$2"
    ;;
stop)
    [[ $# -eq 2 ]] || usage
    stop "$2"
    ;;
install)
    install
    ;;
*) usage ;;
esac
