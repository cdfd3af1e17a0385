# shellcheck shell=bash
# lib.sh: the integration test harness, sourced by every tests/integration/it_*.sh.
#
# A test gets a private temp dir ($T), a private PostgreSQL cluster (pg_start), a
# sandbox on a free port (sandbox_start), a config for it (write_config), a wrapper
# that runs flowetl and keeps its exit code, stdout and stderr (flowetl, $FE_RC,
# $T/out, $T/err), and assertions that print TAP-like `ok - ...` / `not ok - ...`
# lines. Failed assertions are counted and the test goes on; `finish` prints the
# summary and exits 1 when anything failed. A command that fails outside an
# assertion (set -e) aborts the test with `not ok`. Whatever the outcome, the exit
# trap stops the sandbox, the background runs and the cluster, and removes $T
# (KEEP=1 keeps it and says where it is).
#
# Environment (set by ctest, see tests/CMakeLists.txt; defaults for running a test
# by hand: `bash tests/integration/it_cli.sh` from a tree built into build/):
#   FLOWETL_BIN, SANDBOX_BIN, SOURCE_DIR, KEEP=1, IT_VERBOSE=1 (show flowetl's stderr)
#
# Sourced with FE_LIB_ONLY=1 it only defines the functions (scripts/demo.sh uses
# truth_compare that way) and changes no shell options or traps.

FE_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SOURCE_DIR:=$(cd "$FE_LIB_DIR/../.." && pwd)}"
: "${FLOWETL_BIN:=$SOURCE_DIR/build/flowetl}"
: "${SANDBOX_BIN:=$SOURCE_DIR/build/sandbox/flowetl-sandbox}"

# Per-system helpers (config_section_<system>, ...) live in lib_<system>.sh.
for fe_lib in "$FE_LIB_DIR"/lib_*.sh; do
    # shellcheck source=/dev/null
    [[ -e $fe_lib ]] && source "$fe_lib"
done
unset fe_lib

# The source section every test config has; `run posiflora_test.orders` names it.
SOURCE=posiflora_test
SANDBOX_PASSWORD=demo-secret
# The Posiflora streams, in the order flowetl reads them.
# shellcheck disable=SC2034 # used by the tests
POSIFLORA_STREAMS=(stores categories inventory_items bouquets customers orders)

# ---------------------------------------------------------------- reporting

ok() {
    FE_PASSES=$((FE_PASSES + 1))
    echo "ok - $*"
}

not_ok() {
    FE_FAILS=$((FE_FAILS + 1))
    echo "not ok - $*"
}

# note TEXT...: a diagnostic line (TAP comment).
note() {
    local line
    while IFS= read -r line; do
        echo "# $line"
    done <<<"$*"
}

# note_file FILE [N]: the last N (default 30) lines of FILE as diagnostics.
note_file() {
    [[ -s $1 ]] || return 0
    echo "# --- ${1#"$T"/} (last ${2:-30} lines)"
    tail -n "${2:-30}" "$1" | sed 's/^/#   /'
}

# bail TEXT: stops the test at once (the exit trap still cleans up).
bail() {
    not_ok "$*"
    echo "Bail out! $*"
    exit 1
}

# finish: the test's last line; exits 1 when any assertion failed. Stops the
# sandbox first: a sanitizer report at its exit fails the test too.
finish() {
    if [[ -n $SANDBOX_PID ]]; then
        sandbox_stop
        if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/sandbox.err"; then
            not_ok "sanitizer report from the sandbox"
            note_file "$T/sandbox.err" 60
        fi
    fi
    if ((FE_FAILS)); then
        echo "# $FE_FAILS of $((FE_FAILS + FE_PASSES)) checks failed"
        FE_FINISHED=1
        exit 1
    fi
    echo "# all $FE_PASSES checks passed"
    FE_FINISHED=1
    exit 0
}

# ---------------------------------------------------------------- assertions

# check LABEL COMMAND...: ok when COMMAND succeeds.
check() {
    local label=$1
    shift
    if "$@"; then
        ok "$label"
    else
        not_ok "$label"
    fi
}

# assert_eq EXPECTED ACTUAL LABEL
assert_eq() {
    if [[ $1 == "$2" ]]; then
        ok "$3"
    else
        not_ok "$3"
        note "expected: $1"
        note "actual:   $2"
    fi
}

# assert_le A B LABEL: integers, A <= B.
assert_le() {
    if (($1 <= $2)); then
        ok "$3 ($1 <= $2)"
    else
        not_ok "$3 ($1 > $2)"
    fi
}

# assert_gt A B LABEL: integers, A > B.
assert_gt() {
    if (($1 > $2)); then
        ok "$3 ($1 > $2)"
    else
        not_ok "$3 ($1 <= $2)"
    fi
}

# assert_exit N [LABEL]: the last flowetl call exited with N.
assert_exit() {
    local label=${2:-"flowetl $FE_LAST_ARGS exits $1"}
    if [[ $FE_RC == "$1" ]]; then
        ok "$label"
    else
        not_ok "$label (exit $FE_RC)"
        note_file "$T/out" 10
        note_file "$T/err" 30
    fi
}

# assert_stderr_contains TEXT [LABEL]: fixed string, case-sensitive.
assert_stderr_contains() {
    local label="stderr contains '$1'"
    label=${2:-$label}
    if grep -qF -- "$1" "$T/err"; then
        ok "$label"
    else
        not_ok "$label"
        note_file "$T/err" 20
    fi
}

# assert_stdout_contains TEXT [LABEL]
assert_stdout_contains() {
    local label="stdout contains '$1'"
    label=${2:-$label}
    if grep -qF -- "$1" "$T/out"; then
        ok "$label"
    else
        not_ok "$label"
        note_file "$T/out" 20
    fi
}

# ---------------------------------------------------------------- flowetl

# flowetl ARGS...: runs $FLOWETL_BIN -c $CONF ARGS. Never fails itself: the exit code
# is in $FE_RC (and $T/rc), stdout in $T/out, stderr in $T/err. Every call is appended to
# $T/history.log. A sanitizer report on stderr is a failed check by itself.
flowetl() {
    FE_LAST_ARGS="$*"
    fe_exec "$FLOWETL_BIN" -c "$CONF" "$@"
}

# flowetl_bare ARGS...: the same without -c (for --version, --help, other configs).
flowetl_bare() {
    FE_LAST_ARGS="$*"
    fe_exec "$FLOWETL_BIN" "$@"
}

fe_exec() {
    FE_RC=0
    "$@" >"$T/out" 2>"$T/err" </dev/null || FE_RC=$?
    fe_after_run "$T/out" "$T/err"
}

fe_after_run() {
    local out=$1 err=$2
    echo "$FE_RC" >"$T/rc"
    {
        echo "\$ flowetl $FE_LAST_ARGS  => exit $FE_RC"
        cat "$out" "$err"
    } >>"$T/history.log"
    if [[ ${IT_VERBOSE:-0} == 1 ]]; then
        note "flowetl $FE_LAST_ARGS => exit $FE_RC"
        note_file "$err" 200
    fi
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$err"; then
        not_ok "sanitizer report from flowetl $FE_LAST_ARGS"
        note_file "$err" 60
    fi
}

# flowetl_bg NAME ARGS...: starts flowetl -c $CONF ARGS in the background, output in
# $T/NAME.out and $T/NAME.err; its pid is in $FE_BG_PID (stopped by the exit trap).
flowetl_bg() {
    local name=$1
    shift
    "$FLOWETL_BIN" -c "$CONF" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
    FE_BG_PID=$!
    FE_PIDS+=("$FE_BG_PID")
}

# flowetl_bg_wait PID NAME: waits for a background run; afterwards $FE_RC, $T/out and
# $T/err describe it as if it had run in the foreground.
flowetl_bg_wait() {
    FE_RC=0
    wait "$1" || FE_RC=$?
    cp "$T/$2.out" "$T/out"
    cp "$T/$2.err" "$T/err"
    FE_LAST_ARGS="($2, background)"
    fe_after_run "$T/out" "$T/err"
}

# ---------------------------------------------------------------- PostgreSQL

# pg_start: a private cluster in $T/pg; exports PGHOST, PGPORT, PGUSER, PGDATABASE.
# With FE_IT_LAYOUT=citus the warehouse is a Citus cluster instead (a coordinator and
# two workers, scripts/citus-cluster.sh, in $T/citus), and `flowetl init` gives it
# the Citus layout: the same test then checks flowetl on Citus.
pg_start() {
    local envlines
    if [[ ${FE_IT_LAYOUT:-single} == citus ]]; then
        PG_DIR=$T/citus
        envlines=$("$SOURCE_DIR/scripts/citus-cluster.sh" start "$PG_DIR") ||
            bail "could not start the Citus cluster in $PG_DIR"
    else
        PG_DIR=$T/pg
        envlines=$("$SOURCE_DIR/scripts/pgcluster.sh" start "$PG_DIR") ||
            bail "could not start PostgreSQL in $PG_DIR"
    fi
    eval "$envlines"
    export PGHOST PGPORT PGUSER PGDATABASE
}

pg_stop() {
    [[ -n $PG_DIR ]] || return 0
    if [[ ${FE_IT_LAYOUT:-single} == citus ]]; then
        "$SOURCE_DIR/scripts/citus-cluster.sh" stop "$PG_DIR" || true
    else
        "$SOURCE_DIR/scripts/pgcluster.sh" stop "$PG_DIR" || true
    fi
    PG_DIR=
}

# Runs pg_ctl as the cluster's owner (scripts/pgcluster.sh runs it as postgres
# when we are root).
pg_ctl_owner() {
    local bindir
    bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [[ -x $bindir/pg_ctl ]] || bindir=$(dirname "$(command -v pg_ctl)")
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$bindir/pg_ctl" "$@"
    else
        "$bindir/pg_ctl" "$@"
    fi
}

# sql QUERY: runs QUERY in the warehouse; unaligned rows, tab-separated fields.
sql() {
    psql -XAtq -v ON_ERROR_STOP=1 -F $'\t' -c "$1"
}

# The advisory lock class of a source's lock ("FSRC", load/source_id.c).
SOURCE_LOCK_CLASS=1179865667

# source_lock_holders: the pids of the sessions holding a source's lock, one per line.
source_lock_holders() {
    sql "select pid from pg_locks where locktype = 'advisory' and granted
           and classid = $SOURCE_LOCK_CLASS"
}

# wait_source_lock [PID]: waits up to 10 s until a session holds a source's lock
# (or PID, the run expected to take it, has exited); prints how many do.
wait_source_lock() {
    local i n=0
    for ((i = 0; i < 100; i++)); do
        n=$(source_lock_holders | wc -l)
        ((n > 0)) && break
        [[ -z ${1:-} ]] || kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    echo "$n"
}

# source_key [NAME]: dim_source key of the configured source (empty if unknown).
source_key() {
    sql "select source_key from dw.dim_source where name = '${1:-$SOURCE}'"
}

# stream_stat SOURCE.STREAM COLUMN: COLUMN of the latest etl.run_stream row.
stream_stat() {
    local src=${1%%.*} stream=${1#*.}
    sql "select rs.$2 from etl.run_stream rs join dw.dim_source s using (source_key)
         where s.name = '$src' and rs.stream = '$stream'
         order by rs.run_id desc limit 1"
}

# last_run_id: the newest etl.run.
last_run_id() {
    sql "select coalesce(max(run_id), 0) from etl.run"
}

# dups TABLE KEY: rows of TABLE beyond one per (source_key, KEY): 0 when the natural
# key is unique (KEY may be a row expression, e.g. "(order_id, line_id)").
dups() {
    sql "select coalesce(sum(n - d), 0) from (
           select source_key, count(*) n, count(distinct $2) d from $1 group by source_key) x"
}

# ---------------------------------------------------------------- sandbox

# sandbox_start [ARGS...]: starts the sandbox (seed 1 unless ARGS say otherwise) on a
# free port, waits until it answers and sets SANDBOX_URL. The exit trap stops it.
sandbox_start() {
    local portfile=$T/sandbox.port i
    rm -f "$portfile"
    "$SANDBOX_BIN" --host 127.0.0.1 --port 0 --port-file "$portfile" --seed 1 "$@" \
        >"$T/sandbox.out" 2>"$T/sandbox.err" </dev/null &
    SANDBOX_PID=$!
    for ((i = 0; i < 200; i++)); do
        [[ -s $portfile ]] && break
        kill -0 "$SANDBOX_PID" 2>/dev/null || {
            note_file "$T/sandbox.err"
            bail "the sandbox exited at start"
        }
        sleep 0.05
    done
    [[ -s $portfile ]] || bail "the sandbox wrote no port file in 10 s"
    SANDBOX_URL="http://127.0.0.1:$(<"$portfile")"
    for ((i = 0; i < 100; i++)); do
        curl -fsS -o /dev/null "$SANDBOX_URL/_sandbox/stats" 2>/dev/null && return 0
        sleep 0.05
    done
    bail "the sandbox does not answer at $SANDBOX_URL"
}

sandbox_stop() {
    [[ -n $SANDBOX_PID ]] || return 0
    kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
        kill -0 "$SANDBOX_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SANDBOX_PID" 2>/dev/null || true
    wait "$SANDBOX_PID" 2>/dev/null || true
    SANDBOX_PID=
}

# sandbox_get PATH / sandbox_post PATH: a control request; the body on stdout.
sandbox_get() {
    curl -fsS "$SANDBOX_URL$1"
}

sandbox_post() {
    curl -fsS -X POST "$SANDBOX_URL$1"
}

# sandbox_faults SPEC: replaces the fault settings ("" = none).
sandbox_faults() {
    sandbox_post "/_sandbox/faults?$1" >/dev/null
}

# sandbox_stat NAME: one value of GET /_sandbox/stats (0 when absent).
sandbox_stat() {
    sandbox_get /_sandbox/stats | awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# ---------------------------------------------------------------- config

# write_config [LINE...]: writes $CONF for the sandbox's Posiflora as source
# posiflora_test; each LINE is appended to the source section. The password comes
# from the environment (${FE_IT_PASSWORD}), so env expansion is always exercised.
# LOOKBACK (e.g. 0s) sets the source's look-back window when set; RATE_LIMIT the
# requests per second (default 1000: the sandbox does not limit).
# config_section_posiflora: the [source.posiflora_test] section for the sandbox.
# Other systems define config_section_<system> in lib_<system>.sh beside this file.
config_section_posiflora() {
    export FE_IT_PASSWORD=$SANDBOX_PASSWORD
    echo "[source.posiflora_test]"
    echo "type = posiflora"
    echo "base_url = $SANDBOX_URL/posiflora/api"
    echo "username = demo"
    # shellcheck disable=SC2016 # a literal ${VAR} for flowetl to expand
    echo 'password = ${FE_IT_PASSWORD}'
    echo "timezone = Europe/Moscow"
}

# write_config [LINE...]: $T/flowetl.conf with one source section per system in
# SYSTEMS (default "posiflora"), named <system>_test. LINEs are added to every
# section; CONFIG_EXTRA_<system> (newline-separated lines) to that system's only.
write_config() {
    CONF=$T/flowetl.conf
    local system line extra
    {
        echo "[warehouse]"
        echo "dsn = host=$PGHOST user=postgres dbname=dw"
        for system in ${SYSTEMS:-posiflora}; do
            echo
            "config_section_$system"
            # The sandbox has no rate limit: do not wait on the polite default.
            echo "rate_limit = ${RATE_LIMIT:-1000}"
            echo "rate_burst = 100"
            [[ -z ${LOOKBACK:-} ]] || echo "lookback = $LOOKBACK"
            for line in "$@"; do
                echo "$line"
            done
            extra=CONFIG_EXTRA_$system
            [[ -z ${!extra:-} ]] || echo "${!extra}"
        done
    } >"$CONF"
}

# ---------------------------------------------------------------- truth

# truth: the sandbox's ground truth lines of one system (default posiflora).
truth() {
    sandbox_get /_sandbox/truth | awk -F'\t' -v s="${1:-posiflora}" '$1 == s' | LC_ALL=C sort
}

# truth_value METRIC: one value of the truth (posiflora).
truth_value() {
    truth posiflora | awk -F'\t' -v m="$1" '$2 == m { print $3 }'
}

# warehouse_truth SOURCE_NAME [SYSTEM]: the truth's metric lines (docs/internals.md)
# computed from the warehouse for one source by truth_<system>.sql beside this file,
# sorted byte-wise. SYSTEM defaults to posiflora. Needs PGHOST etc.
warehouse_truth() {
    local system=${2:-posiflora}
    psql -XAtq -v ON_ERROR_STOP=1 -v src="${1:-$SOURCE}" -f "$FE_LIB_DIR/truth_$system.sql" |
        LC_ALL=C sort
}

# truth_compare SYSTEM SOURCE_NAME DIR: compares the sandbox's truth of SYSTEM with
# the warehouse's for the source SOURCE_NAME, line for line. Leaves DIR/truth.txt,
# DIR/warehouse.txt, DIR/warehouse.err and DIR/truth.diff (truth = "-", warehouse
# = "+"). Returns 0 when they match, 1 when they differ, 2 when the warehouse query
# failed, 3 when the sandbox's truth for SYSTEM is empty. Shared by the tests
# (assert_truth_matches) and scripts/demo.sh, so both judge a load the same way.
truth_compare() {
    local system=$1 name=$2 dir=$3
    truth "$system" >"$dir/truth.txt" || return 3
    warehouse_truth "$name" "$system" >"$dir/warehouse.txt" 2>"$dir/warehouse.err" || return 2
    [[ -s $dir/truth.txt ]] || return 3
    diff -u --label truth --label warehouse "$dir/truth.txt" "$dir/warehouse.txt" \
        >"$dir/truth.diff" || return 1
}

# assert_truth_matches [LABEL]: for every system of SYSTEMS, the sandbox's truth
# equals the warehouse's of <system>_test (truth_compare); on a mismatch the diff
# is printed.
assert_truth_matches() {
    local label=${1:-"warehouse matches the sandbox truth"} system rc
    for system in ${SYSTEMS:-posiflora}; do
        rc=0
        truth_compare "$system" "${system}_test" "$T" || rc=$?
        case $rc in
        0) ok "$label: $system ($(wc -l <"$T/truth.txt") metrics)" ;;
        1)
            not_ok "$label: $system"
            note "$(head -n 60 "$T/truth.diff")"
            ;;
        2)
            not_ok "$label: $system (warehouse query failed)"
            note_file "$T/warehouse.err"
            ;;
        *) not_ok "$label: $system (the sandbox truth is empty)" ;;
        esac
    done
}

# ---------------------------------------------------------------- setup/teardown

fe_cleanup() {
    local rc=$?
    set +e
    trap - ERR
    if [[ -z ${FE_FINISHED:-} ]]; then
        echo "not ok - test aborted (exit $rc)${FE_ERR_AT:+ at $FE_ERR_AT}"
        [[ -n ${T:-} ]] && note_file "$T/err" 20
        ((rc == 0)) && rc=1
    fi
    local pid
    for pid in "${FE_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    sandbox_stop
    pg_stop
    local cmd
    for cmd in "${FE_CLEANUP[@]}"; do
        $cmd >/dev/null 2>&1
    done
    if [[ -n ${T:-} && -d $T ]]; then
        if [[ ${KEEP:-0} == 1 || ($rc -ne 0 && ${KEEP_FAILED:-0} == 1) ]]; then
            echo "# kept $T"
        else
            rm -rf "$T"
        fi
    fi
    exit "$rc"
}

fe_setup() {
    set -Eeuo pipefail
    FE_FAILS=0
    FE_PASSES=0
    FE_RC=0
    FE_PIDS=()
    FE_CLEANUP=() # commands fe_cleanup runs at exit (e.g. stopping a second server)
    SANDBOX_PID=
    SANDBOX_URL=
    PG_DIR=
    for bin in "$FLOWETL_BIN" "$SANDBOX_BIN"; do
        [[ -x $bin ]] || {
            echo "not ok - $bin is not built"
            echo "Bail out! build first: cmake -S . -B build && cmake --build build"
            exit 1
        }
    done
    T=$(mktemp -d "/tmp/flowetl-it-$(basename "$0" .sh).XXXXXX")
    # The cluster runs as the postgres user, which must reach $T/pg.
    chmod 755 "$T"
    CONF=$T/flowetl.conf
    trap fe_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'FE_ERR_AT="${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
    echo "# $(basename "$0"): $T"
}

if [[ ${FE_LIB_ONLY:-0} != 1 ]]; then
    fe_setup
fi
