#!/usr/bin/env bash
# with_pg.sh CMD [ARGS...]: runs CMD with PGHOST/PGUSER/PGDATABASE pointing at a
# private, throwaway PostgreSQL cluster (for CUnit tests that need a server).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fe-withpg.XXXXXX)
cleanup() {
    "$root/scripts/pgcluster.sh" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
eval "$("$root/scripts/pgcluster.sh" start "$dir")"
export PGHOST PGUSER PGDATABASE
"$@"
