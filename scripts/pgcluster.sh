#!/usr/bin/env bash
# pgcluster.sh: a private, throwaway PostgreSQL cluster for the tests and the demo.
#
#   scripts/pgcluster.sh start DIR    initdb DIR/data if needed, start, create database dw
#   scripts/pgcluster.sh stop DIR     fast shutdown (no error when it is not running)
#   scripts/pgcluster.sh status DIR   exit 0 when running, 1 when not
#
# `start` and `status` print the connection settings on stdout, ready for eval:
#   eval "$(scripts/pgcluster.sh start /tmp/pg)"; export PGHOST PGUSER PGDATABASE
# Everything else goes to stderr.
#
# Environment (for a Citus cluster of several servers on one machine, see
# scripts/citus-cluster.sh): PGCLUSTER_PORT (default 5432: the port, which names the
# socket file), PGCLUSTER_CONF (extra postgresql.conf lines, e.g.
# "shared_preload_libraries = 'citus'"), PGCLUSTER_MAX_CONNECTIONS (default 50).
#
# The cluster listens on a unix socket in DIR only (no TCP), trusts every local
# connection and runs with fsync, synchronous_commit and full_page_writes off: fast
# and fine for tests and the demo, NOT crash-safe at the OS level, never for real data.
# initdb and the server refuse to run as root, so as root they run as the `postgres`
# user (DIR is handed to it); as any other user they run as that user.
#
# When DIR cannot hold the cluster (as root: `postgres` cannot enter it because a
# parent is private, e.g. anything under /root or a mode-0700 clone; for anyone: its
# path is too long for a unix socket), `start` keeps the cluster in a private
# directory made by mktemp under /tmp (owned by the cluster's owner, mode 0700) and
# makes DIR a symbolic link to it. `stop`, `status` and `psql -h DIR` then work
# through DIR as before; the printed PGHOST is the private directory.
set -euo pipefail

die() {
    echo "pgcluster: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start DIR | stop DIR | status DIR" >&2
    exit 2
}

# The newest server installation that has initdb: Debian keeps the server binaries in
# /usr/lib/postgresql/N/bin, and pg_config --bindir may name the client's directory.
find_bindir() {
    local d best=""
    while IFS= read -r d; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && best=$d
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    if [[ -z $best ]] && command -v pg_config >/dev/null; then
        d=$(pg_config --bindir)
        [[ -x $d/initdb && -x $d/pg_ctl ]] && best=$d
    fi
    if [[ -z $best ]] && command -v initdb >/dev/null; then
        best=$(dirname "$(command -v initdb)")
    fi
    [[ -n $best ]] || die "no PostgreSQL server found (initdb); run scripts/deps.sh"
    printf '%s\n' "$best"
}

# Runs a command as the cluster's owner (from /, which `postgres` can always enter).
as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

print_env() {
    printf 'PGHOST=%q\nPGPORT=%q\nPGUSER=postgres\nPGDATABASE=dw\n' "$DIR" "$PORT"
}

is_running() {
    [[ -f $DIR/data/PG_VERSION ]] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

# Why DIR cannot hold the cluster; nothing (and status 1) when it can.
unusable_reason() {
    # The socket path DIR/.s.PGSQL.5432 must fit in sun_path (107 bytes).
    if ((${#DIR} > 90)); then
        echo "the path $DIR is too long for a unix socket"
    elif [[ $EUID -eq 0 ]] && ! (chown postgres: "$DIR" &&
        runuser -u postgres -- test -w "$DIR" -a -x "$DIR") 2>/dev/null; then
        echo "user 'postgres' cannot enter $DIR (a parent directory is private)"
    else
        return 1
    fi
}

# Moves the cluster to a private directory under /tmp and leaves DIR as a link to it.
relocate() {
    local why=$1 private
    [[ ! -f $DIR/data/PG_VERSION ]] || die "$why: the cluster in $DIR cannot be started"
    rmdir "$DIR" 2>/dev/null || die "$why, and $DIR is not empty: remove it or use another directory"
    private=$(mktemp -d /tmp/flowetl-pg.XXXXXX 2>/dev/null || mktemp -d /var/tmp/flowetl-pg.XXXXXX) ||
        die "$why, and no private directory could be made under /tmp or /var/tmp"
    if [[ $EUID -eq 0 ]]; then
        chown postgres: "$private"
    fi
    chmod 700 "$private"
    ln -s "$private" "$DIR"
    echo "pgcluster: $why; the cluster lives in $private ($DIR links to it)" >&2
    DIR=$private
}

prepare_dir() {
    local why
    mkdir -p "$DIR"
    if [[ $EUID -eq 0 ]]; then
        getent passwd postgres >/dev/null ||
            die "user 'postgres' does not exist; run scripts/deps.sh (it installs postgresql)"
    fi
    if why=$(unusable_reason); then
        relocate "$why"
        return
    fi
    # Readable socket directory: other local users (and root) may connect.
    chmod 755 "$DIR"
}

init_cluster() {
    local locale
    for locale in C.UTF-8 C; do
        if as_owner "$BIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 \
            --locale="$locale" >"$DIR/initdb.log" 2>&1; then
            break
        fi
        rm -rf "$DIR/data"
    done
    [[ -f $DIR/data/PG_VERSION ]] || {
        cat "$DIR/initdb.log" >&2
        die "initdb failed"
    }
    # Settings go into postgresql.conf rather than `pg_ctl -o`, so a restart by hand
    # (pg_ctl -D DIR/data start) gets the same socket directory.
    cat >>"$DIR/data/postgresql.conf" <<EOF

# Added by scripts/pgcluster.sh: private test/demo cluster, unix socket only, no fsync.
listen_addresses = ''
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = ${PGCLUSTER_MAX_CONNECTIONS:-50}
port = $PORT
${PGCLUSTER_CONF:-}
EOF
}

start() {
    [[ $DIR != *"'"* ]] || die "directory path must not contain a quote: $DIR"
    if is_running; then
        echo "pgcluster: already running in $DIR" >&2
    else
        prepare_dir
        [[ -f $DIR/data/PG_VERSION ]] || init_cluster
        if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 start >/dev/null; then
            tail -n 20 "$DIR/log" >&2 || true
            die "the server did not start (log: $DIR/log)"
        fi
    fi
    local i
    for ((i = 0; i < 100; i++)); do
        "$BIN/pg_isready" -q -h "$DIR" -p "$PORT" -U postgres && break
        sleep 0.1
    done
    "$BIN/pg_isready" -q -h "$DIR" -p "$PORT" -U postgres || die "the server does not accept connections"
    local exists
    exists=$("$BIN/psql" -XAtq -h "$DIR" -p "$PORT" -U postgres -d postgres \
        -c "select 1 from pg_database where datname = 'dw'")
    if [[ $exists != 1 ]]; then
        "$BIN/psql" -XAtq -h "$DIR" -p "$PORT" -U postgres -d postgres -c 'create database dw' >/dev/null
    fi
    print_env
}

stop() {
    if is_running; then
        as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null
    fi
}

status() {
    if is_running; then
        print_env
    else
        echo "pgcluster: not running in $DIR" >&2
        return 1
    fi
}

[[ $# -eq 2 ]] || usage
cmd=$1
[[ -n $2 ]] || usage
if [[ $cmd == start ]]; then
    # A link to a private directory that is gone (/tmp is cleaned at boot): start afresh.
    if [[ -L $2 && ! -e $2 ]]; then
        rm -f "$2"
    fi
    mkdir -p "$2"
elif [[ ! -d $2 ]]; then
    # Nothing was ever started there.
    [[ $cmd == stop ]] && exit 0
    [[ $cmd == status ]] && die "not running: $2 does not exist"
    usage
fi
DIR=$(cd "$2" && pwd -P)
BIN=$(find_bindir)
PORT=${PGCLUSTER_PORT:-5432}

case $cmd in
start) start ;;
stop) stop ;;
status) status ;;
*) usage ;;
esac
