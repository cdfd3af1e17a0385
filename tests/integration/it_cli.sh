#!/usr/bin/env bash
# The command line contract: --version, help, command_line as typed, exit codes 2
# (usage, config), 3 (warehouse unreachable) and 4 (overlap), check, secrets never
# shown, one run per source at a time.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.2
# The DSN carries a password too (ignored by the trust cluster) to check that
# warehouse secrets are redacted like source secrets.
DB_PASSWORD=pg-Secret-7713
write_config
sed -i "s|^dsn = .*|dsn = postgresql://postgres:$DB_PASSWORD@/dw?host=$PGHOST|" "$CONF"

flowetl_bare --version
assert_exit 0 "--version exits 0"
if grep -qE '^flowetl [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)$' "$T/out"; then
    ok "--version prints 'flowetl X.Y.Z (commit C)'"
else
    not_ok "--version prints 'flowetl X.Y.Z (commit C)'"
    note_file "$T/out"
fi
VERSION_TEXT=$(sed 's/^flowetl //' "$T/out")
flowetl_bare --help
assert_exit 0 "--help exits 0"
cp "$T/out" "$T/overview.out"
for word in init run status state check rebind verify help; do
    if grep -qE "^  $word " "$T/out"; then
        ok "--help lists the command $word"
    else
        not_ok "--help lists the command $word"
    fi
done
for word in --log-format=text --version --help-config "--config FILE" --verbose --quiet; do
    assert_stdout_contains "$word" "--help documents $word"
done
# No config needed for help, whatever the directory holds.
flowetl_bare help
assert_exit 0 "flowetl help exits 0 (no config)"
check "flowetl help is the overview of --help" cmp -s "$T/out" "$T/overview.out"
flowetl_bare help run
assert_exit 0 "flowetl help run exits 0"
cp "$T/out" "$T/help-run.out"
for word in "--full-refresh=SOURCE" "--from DATE" "--to DATE" "Exit codes:" "Examples:"; do
    assert_stdout_contains "$word" "flowetl help run documents $word"
done
flowetl run --help
assert_exit 0 "flowetl run --help exits 0 (and runs nothing)"
check "flowetl run --help is flowetl help run" cmp -s "$T/out" "$T/help-run.out"
flowetl_bare status -h
assert_exit 0 "flowetl status -h exits 0 without a config"
assert_stdout_contains "--json" "flowetl status -h documents --json"
flowetl_bare help nosuch
assert_exit 2 "flowetl help of an unknown command exits 2"
assert_stderr_contains "help, init, run, status, state, check, rebind, verify" \
    "flowetl help nosuch lists the commands"

flowetl frobnicate
assert_exit 2 "an unknown command exits 2"
assert_stderr_contains "see flowetl help" "an unknown command points to flowetl help"
flowetl_bare -c "$T/no-such.conf" status
assert_exit 2 "a missing config file exits 2"

# An unknown key: exit 2 and FILE:LINE in the message.
cp "$CONF" "$T/badkey.conf"
echo "no_such_key = 1" >>"$T/badkey.conf"
badline=$(wc -l <"$T/badkey.conf")
flowetl_bare -c "$T/badkey.conf" run
assert_exit 2 "an unknown config key exits 2"
assert_stderr_contains "$T/badkey.conf:$badline" "the error names FILE:LINE of the unknown key"
assert_stderr_contains "no_such_key"

# A ${VAR} that is not set: exit 2, the variable named.
# shellcheck disable=SC2016 # a literal ${VAR} for flowetl to expand
sed 's|^username = .*|username = ${FE_IT_UNSET_VARIABLE}|' "$CONF" >"$T/noenv.conf"
unset FE_IT_UNSET_VARIABLE
flowetl_bare -c "$T/noenv.conf" run
assert_exit 2 "a missing environment variable exits 2"
assert_stderr_contains "FE_IT_UNSET_VARIABLE"

flowetl run "$SOURCE.nope"
assert_exit 2 "an unknown stream exits 2"
flowetl run no_such_source
assert_exit 2 "an unknown source exits 2"

# A typo in the config's `streams` list must not silently skip a stream.
{ cat "$CONF"; echo "streams = stores, custmers"; } >"$T/typo.conf"
flowetl_bare -c "$T/typo.conf" run
assert_exit 2 "an unknown stream in the streams key exits 2"
assert_stderr_contains "unknown stream 'custmers'"

# A socket directory with no server behind it.
mkdir -p "$T/nopg"
sed "s|^dsn = .*|dsn = host=$T/nopg user=postgres dbname=dw connect_timeout=5|" "$CONF" \
    >"$T/nopg.conf"
flowetl_bare -c "$T/nopg.conf" run
assert_exit 3 "run with the warehouse unreachable exits 3"
flowetl_bare -c "$T/nopg.conf" init
assert_exit 3 "init with the warehouse unreachable exits 3"

flowetl init
assert_exit 0 "init exits 0"
flowetl check
assert_exit 0 "check against the sandbox exits 0"
cp "$T/out" "$T/check.out"
cp "$T/err" "$T/check.err"
sed 's|^password = .*|password = wrong-password|' "$CONF" >"$T/badpw.conf"
flowetl_bare -c "$T/badpw.conf" check
if [[ $FE_RC != 0 ]]; then
    ok "check with a wrong password fails (exit $FE_RC)"
else
    not_ok "check with a wrong password fails (exit 0)"
fi

flowetl run "$SOURCE.stores" "$SOURCE.customers"
assert_exit 0 "run of two named streams exits 0"
other=$(sql "select count(*) from etl.run_stream where run_id = (select max(run_id) from etl.run)
               and stream not in ('stores', 'customers')")
assert_eq 0 "$other" "only the named streams ran"

# etl.run.command_line is the command line as typed, whatever the order of the
# options; etl.run.version the version with the commit.
assert_eq "$FLOWETL_BIN -c $CONF run $SOURCE.stores $SOURCE.customers" \
    "$(sql "select command_line from etl.run order by run_id desc limit 1")" \
    "command_line of 'flowetl -c FILE run A B'"
assert_eq "$VERSION_TEXT" "$(sql "select version from etl.run order by run_id desc limit 1")" \
    "etl.run.version is the version with the commit"
FE_LAST_ARGS="-v --config=FILE run A --full-refresh B"
fe_exec "$FLOWETL_BIN" -v "--config=$CONF" run "$SOURCE.stores" --full-refresh "$SOURCE.customers"
assert_exit 0
assert_eq "$FLOWETL_BIN -v --config=$CONF run $SOURCE.stores --full-refresh $SOURCE.customers" \
    "$(sql "select command_line from etl.run order by run_id desc limit 1")" \
    "command_line of 'flowetl -v --config=FILE run A --full-refresh B' (an option between targets)"
FE_LAST_ARGS="-c FILE -v run --full-refresh A"
fe_exec "$FLOWETL_BIN" -c "$CONF" -v run --full-refresh "$SOURCE.stores"
assert_exit 0
assert_eq "$FLOWETL_BIN -c $CONF -v run --full-refresh $SOURCE.stores" \
    "$(sql "select command_line from etl.run order by run_id desc limit 1")" \
    "command_line of 'flowetl -c FILE -v run --full-refresh A' (the option first)"

# Two runs of the same source: the second one does not load and says why.
sandbox_faults slow_ms=100
flowetl_bg first run
first=$FE_BG_PID
locked=$(wait_source_lock "$first") # the source's lock, not the run's own
assert_gt "$locked" 0 "the first run holds the source's advisory lock"
flowetl run
assert_exit 4 "a second concurrent run of the same source exits 4 (an overlap, not a failure)"
assert_stderr_contains "another flowetl run is loading source $SOURCE: run " \
    "the second run names the run that holds the source"
cp "$T/out" "$T/second.out"
cp "$T/err" "$T/second.err"
sandbox_faults ""
flowetl_bg_wait "$first" first
assert_exit 0 "the first run still succeeds"
assert_truth_matches "the first run loaded everything"

# No secret anywhere: outputs of every command above, the run log, the warehouse.
leaks=$(grep -rlF -e "$SANDBOX_PASSWORD" -e "$DB_PASSWORD" "$T"/*.out "$T"/*.err \
    "$T/history.log" 2>/dev/null | grep -v '/sandbox\.' || true)
assert_eq "" "$leaks" "no password in any output of flowetl"
stored=$(sql "select count(*) from etl.run
               where command_line like '%$SANDBOX_PASSWORD%' or command_line like '%$DB_PASSWORD%'")
assert_eq 0 "$stored" "no password in etl.run.command_line"
errors=$(sql "select count(*) from etl.run_stream
               where error like '%$SANDBOX_PASSWORD%' or error like '%$DB_PASSWORD%'")
assert_eq 0 "$errors" "no password in etl.run_stream.error"

finish
