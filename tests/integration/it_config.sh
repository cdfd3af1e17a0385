#!/usr/bin/env bash
# Config checked up front (exit 2 with FILE:LINE, one line, nothing run): a time zone
# the zone database does not know, a POSIX offset such as UTC+3, a config without a
# source. Commands expand only the ${VAR}s they use: init and status need no API
# secret, `run SOURCE` none of another source, and a value holding a ${VAR} is
# checked when it is expanded.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
write_config "streams = stores"

# conf_with FILE SED-SCRIPT: a copy of $CONF edited by sed.
conf_with() {
    sed "$2" "$CONF" >"$1"
}

# run_conf FILE ARGS...: flowetl -c FILE ARGS with the API password unset unless
# WITH_SECRET=1.
run_conf() {
    local file=$1
    shift
    FE_LAST_ARGS="-c ${file#"$T"/} $*"
    if [[ ${WITH_SECRET:-0} == 1 ]]; then
        fe_exec "$FLOWETL_BIN" -c "$file" "$@"
    else
        fe_exec env -u FE_IT_PASSWORD "$FLOWETL_BIN" -c "$file" "$@"
    fi
}

# assert_one_error_line TEXT: stderr is exactly one line and holds TEXT.
assert_one_error_line() {
    local lines
    lines=$(wc -l <"$T/err")
    assert_eq 1 "$lines" "one line on stderr"
    assert_stderr_contains "$1"
}

line_of() {
    grep -n "$2" "$1" | head -n 1 | cut -d: -f1
}

runs_before=0

flowetl init
assert_exit 0 "init"

# ------------------------------------------------------------- time zones
conf_with "$T/mscow.conf" 's|^timezone = .*|timezone = Europe/Mscow|'
tz_line=$(line_of "$T/mscow.conf" '^timezone')
WITH_SECRET=1 run_conf "$T/mscow.conf" run
assert_exit 2 "an unknown time zone exits 2 before anything runs"
assert_one_error_line "$T/mscow.conf:$tz_line: invalid value 'Europe/Mscow' for 'timezone'"
assert_stderr_contains "did you mean Europe/Moscow?"
assert_eq "$runs_before" "$(sql 'select count(*) from etl.run')" "no etl.run row was written"

conf_with "$T/utc3.conf" 's|^timezone = .*|timezone = UTC+3|'
WITH_SECRET=1 run_conf "$T/utc3.conf" run
assert_exit 2 "timezone = UTC+3 exits 2"
assert_one_error_line "$T/utc3.conf:$tz_line: invalid value 'UTC+3'"
assert_stderr_contains "WEST of UTC"
assert_stderr_contains "Etc/GMT-3 for a fixed UTC+03:00"
conf_with "$T/iso.conf" 's|^timezone = .*|timezone = +03:00|'
run_conf "$T/iso.conf" status
assert_exit 2 "timezone = +03:00 exits 2 (status too)"
assert_stderr_contains "Etc/GMT-3"

conf_with "$T/etc.conf" 's|^timezone = .*|timezone = Etc/GMT-3|'
WITH_SECRET=1 run_conf "$T/etc.conf" run
assert_exit 0 "timezone = Etc/GMT-3 is accepted and runs"
assert_eq "Etc/GMT-3" "$(sql "select timezone from dw.dim_source where name = '$SOURCE'")" \
    "the zone reached dim_source as written"

# Without a zone database the zone is left to the server, and flowetl says so once.
FE_LAST_ARGS="init with TZDIR=$T/nozones"
mkdir -p "$T/nozones"
fe_exec env TZDIR="$T/nozones" "$FLOWETL_BIN" -c "$T/mscow.conf" init
assert_exit 0 "no zone database: the config is accepted"
assert_eq 1 "$(grep -c 'no time zone database' "$T/err")" "the missing database is said once"
FE_LAST_ARGS="run with TZDIR=$T/nozones"
fe_exec env TZDIR="$T/nozones" "$FLOWETL_BIN" -c "$T/mscow.conf" run
assert_exit 1 "no zone database: the server refuses the zone at run time"
assert_stderr_contains "Europe/Mscow"
assert_eq "stores failed" "$(sql "select stream || ' ' || status from etl.run_stream
                                  where run_id = (select max(run_id) from etl.run)
                                    and error like '%Europe/Mscow%'")" \
    "the refused zone is recorded on the stream"
# A good run again, so that status below starts from green.
WITH_SECRET=1 run_conf "$CONF" run
assert_exit 0 "a run with the zone fixed exits 0"
runs_before=$(sql 'select count(*) from etl.run')

# ------------------------------------------------------------- no source
printf '[warehouse]\ndsn = host=%s user=postgres dbname=dw\n' "$PGHOST" >"$T/nosource.conf"
run_conf "$T/nosource.conf" run
assert_exit 2 "run without any [source.NAME] exits 2"
assert_one_error_line "$T/nosource.conf: no source configured: add a [source.NAME] section"
run_conf "$T/nosource.conf" check
assert_exit 2 "check without any [source.NAME] exits 2"
run_conf "$T/nosource.conf" init
assert_exit 0 "init works without a source"
run_conf "$T/nosource.conf" status
assert_exit 0 "status works without a source"
assert_stdout_contains "no source configured"
assert_eq "$runs_before" "$(sql 'select count(*) from etl.run')" "no run was recorded meanwhile"

# ------------------------------------------------------------- expanding only what is used
# A second source whose variable is not set, and a value of the first one that is
# valid only once expanded.
unset FE_IT_OTHER_TOKEN
{
    cat "$CONF"
    echo
    echo "[source.other]"
    echo "type = flowwow"
    echo "base_url = $SANDBOX_URL/flowwow"
    # shellcheck disable=SC2016 # literal ${VAR}s for flowetl
    echo 'token = ${FE_IT_OTHER_TOKEN}'
    echo 'timezone = ${FE_IT_OTHER_TZ}'
} >"$T/two.conf"
token_line=$(line_of "$T/two.conf" '^token')
run_conf "$T/two.conf" init
assert_exit 0 "init needs no API secret of any source"
run_conf "$T/two.conf" status "$SOURCE"
assert_exit 0 "status needs no API secret"
run_conf "$T/two.conf" status
assert_exit 1 "status of every source: other never ran (exit 1, not a config error)"
WITH_SECRET=1 run_conf "$T/two.conf" run "$SOURCE"
assert_exit 0 "run SOURCE needs no variable of another source"
WITH_SECRET=1 run_conf "$T/two.conf" run
assert_exit 2 "run of every source needs every source's variables"
assert_one_error_line "$T/two.conf:$token_line: environment variable FE_IT_OTHER_TOKEN is not set"
run_conf "$T/two.conf" run "$SOURCE.stores"
assert_exit 2 "run SOURCE.STREAM needs that source's variables"
assert_stderr_contains "environment variable FE_IT_PASSWORD is not set"
WITH_SECRET=1 run_conf "$T/two.conf" check
assert_exit 2 "check needs every source's variables"
# A value holding a ${VAR} is validated once expanded, at its own line.
export FE_IT_OTHER_TOKEN=demo-flowwow-token FE_IT_OTHER_TZ=UTC+3
tz2_line=$(line_of "$T/two.conf" '^timezone = \${')
run_conf "$T/two.conf" status
assert_exit 1 "status does not expand other's timezone"
WITH_SECRET=1 run_conf "$T/two.conf" run other
assert_exit 2 "an expanded timezone = UTC+3 exits 2"
assert_one_error_line "$T/two.conf:$tz2_line: invalid value 'UTC+3' for 'timezone' in [source.other]"
export FE_IT_OTHER_TZ=Europe/Moscow
WITH_SECRET=1 run_conf "$T/two.conf" run other.shops
assert_exit 0 "with the variables set, other runs"

# The secrets of the sources that were expanded are redacted; nothing leaks.
leaks=$(grep -lF -e "$SANDBOX_PASSWORD" -e demo-flowwow-token "$T/history.log" || true)
assert_eq "" "$leaks" "no secret in any output"

finish
