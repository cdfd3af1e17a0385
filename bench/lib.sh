# lib.sh: what the benchmark scripts share (sourced by bench/run.sh,
# bench/backfill.sh and bench/accounts.sh). The caller defines die (its own
# prefix), WORK (logs and the port file) and SANDBOX (the sandbox binary);
# start_sandbox sets SANDBOX_PID and SANDBOX_URL.
# shellcheck shell=bash

psql_q() { psql -XAtq -v ON_ERROR_STOP=1 "$@"; }

# build_release: flowetl and the sandbox in Release mode into BUILD (log in
# WORK/build.log); NO_BUILD=1 skips it. The caller defines say, die, ROOT, BUILD, JOBS.
build_release() {
    [[ ${NO_BUILD:-0} == 1 ]] && return 0
    say "building $BUILD (Release)"
    {
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release &&
            cmake --build "$BUILD" -j "$JOBS" --target flowetl flowetl-sandbox
    } >"$WORK/build.log" 2>&1 || {
        tail -n 30 "$WORK/build.log" >&2
        die "build (see $WORK/build.log)"
    }
}

# start_sandbox SCALE [FAULTS] [THREADS]: a sandbox on a free loopback port, seed 1,
# answering before this returns (an earlier one is stopped first).
start_sandbox() {
    stop_sandbox
    local portfile=$WORK/sandbox.port i
    rm -f "$portfile"
    local args=(--host 127.0.0.1 --port 0 --port-file "$portfile" --seed 1 --scale "$1")
    [[ -z ${2:-} ]] || args+=(--faults "$2")
    [[ -z ${3:-} ]] || args+=(--threads "$3")
    "$SANDBOX" "${args[@]}" >"$WORK/sandbox.log" 2>&1 </dev/null &
    SANDBOX_PID=$!
    for ((i = 0; i < 400; i++)); do
        [[ -s $portfile ]] && break
        kill -0 "$SANDBOX_PID" 2>/dev/null || die "the sandbox exited at start"
        sleep 0.05
    done
    [[ -s $portfile ]] || die "the sandbox wrote no port file"
    SANDBOX_URL="http://127.0.0.1:$(<"$portfile")"
    curl -fsS -o /dev/null "$SANDBOX_URL/_sandbox/stats" || die "the sandbox does not answer"
}

stop_sandbox() {
    [[ -n ${SANDBOX_PID:-} ]] || return 0
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=
}
