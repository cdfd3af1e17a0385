#!/usr/bin/env bash
# [run] metrics_file: every run ends by writing the Prometheus text format, which
# parses (python3-prometheus-client's parser; promtool check metrics too when
# installed), with every family's HELP and TYPE; per-stream records, rows and 429s
# equal etl.run_stream, the last-success time equals the warehouse's. A failed
# run (a wrong password) keeps the earlier last-success times and sets failures;
# a run that cannot reach the warehouse still writes what it knows (warehouse_up
# 0, exit code 3); a file that cannot be written is a warning, not a failed run.
# The file is replaced by a rename, with no temporary file left. The example
# alert rules (contrib/prometheus) are valid YAML of the rule-file shape
# (promtool check rules when installed).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

pg_start
sandbox_start --scale 0.05
write_config "streams = stores, customers, orders"
mkdir -p "$T/prom"
PROM=$T/prom/flowetl.prom
printf '\n[run]\nmetrics_file = %s\n' "$PROM" >>"$CONF"

# Debian's python3-prometheus-client and python3-yaml (scripts/deps.sh) are in the
# system's python, which a python3 earlier in PATH (pyenv, a venv) may not see.
PY=python3
[[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3

# parse FILE: the samples, one "name{labels sorted} value" line each, checked by
# prometheus_client's parser: every family must have HELP and a gauge TYPE.
parse() {
    "$PY" - "$1" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
bad = []
for fam in text_string_to_metric_families(text):
    if not fam.name.startswith("flowetl_"):
        bad.append(fam.name + ": no flowetl_ prefix")
    if fam.type != "gauge":
        bad.append(fam.name + ": type " + fam.type)
    if not fam.documentation:
        bad.append(fam.name + ": no HELP")
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        v = s.value
        print("%s{%s} %s" % (s.name, labels, int(v) if v == int(v) else v))
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF
}

# metric NAME STREAM [STATUS]: the value of a stream's sample in $T/samples (labels
# sorted by name, as parse prints them).
metric() {
    local want="$1{source=$SOURCE,${3:+status=$3,}stream=$2,type=posiflora}"
    awk -v w="$want" '$1 == w { print $2 }' "$T/samples"
}

# run_metric NAME: the value of a per-run sample.
run_metric() {
    awk -v w="$1{}" '$1 == w { print $2 }' "$T/samples"
}

# check_parses LABEL: the file parses; its samples go to $T/samples.
check_parses() {
    if parse "$PROM" >"$T/samples" 2>"$T/parse.err"; then ok "$1: the metrics file parses"; else
        not_ok "$1: the metrics file parses"
        note_file "$T/parse.err"
        note_file "$PROM"
    fi
    if command -v promtool >/dev/null; then
        if promtool check metrics <"$PROM" >"$T/promtool.out" 2>&1; then
            ok "$1: promtool check metrics"
        else
            not_ok "$1: promtool check metrics"
            note_file "$T/promtool.out"
        fi
    fi
    local tmp
    tmp=$(find "$T/prom" -name 'flowetl.prom.tmp.*' | wc -l)
    assert_eq 0 "$tmp" "$1: no temporary file is left"
}

# warehouse_last_success STREAM: unix seconds of its latest succeeded row.
warehouse_last_success() {
    sql "select coalesce(extract(epoch from max(rs.finished_at))::bigint, 0)
         from etl.run_stream rs join dw.dim_source s using (source_key)
         where s.name = '$SOURCE' and rs.stream = '$1' and rs.status = 'succeeded'"
}

flowetl init
assert_exit 0 "init"

# ------------------------------------------------- a run that succeeds (with 429s)
sandbox_faults "p429=0.05&retry_after=0&seed=3"
flowetl run
assert_exit 0 "a run with 429 answers (retried) succeeds"
sandbox_faults ""
check_parses "success"
run1=$(last_run_id)
assert_eq "$run1" "$(run_metric flowetl_run_id)" "flowetl_run_id is the run's etl.run id"
assert_eq 0 "$(run_metric flowetl_run_exit_code)" "flowetl_run_exit_code 0"
assert_eq 1 "$(run_metric flowetl_warehouse_up)" "flowetl_warehouse_up 1"
for stream in stores customers orders; do
    for pair in records:records_read inserted:rows_inserted updated:rows_updated \
        rejects:records_rejected requests:requests http_429:http_429_responses; do
        col=${pair%%:*} name=flowetl_stream_last_run_${pair#*:}
        assert_eq "$(stream_stat "$SOURCE.$stream" "$col")" "$(metric "$name" "$stream")" \
            "$stream: $name equals etl.run_stream.$col"
    done
    assert_eq "$(warehouse_last_success "$stream")" \
        "$(metric flowetl_stream_last_success_timestamp_seconds "$stream")" \
        "$stream: the last-success time is the warehouse's"
    assert_eq 0 "$(metric flowetl_stream_last_run_failed "$stream")" "$stream: failed 0"
    assert_eq 1 "$(metric flowetl_stream_last_run_status "$stream" succeeded)" \
        "$stream: status succeeded 1"
done
assert_gt "$(metric flowetl_stream_last_run_records_read orders)" 0 "orders were read"
total429=$(awk '$1 ~ /^flowetl_stream_last_run_http_429_responses/ { n += $2 } END { print n + 0 }' \
    "$T/samples")
assert_gt "$total429" 0 "the 429 answers are counted"
first_success=$(metric flowetl_stream_last_success_timestamp_seconds orders)

# The summary on stdout says the same in each stream's unit, rows per table.
cp "$T/out" "$T/summary.out"
# block STREAM: the summary's lines of one stream.
block() {
    awk -v s="$SOURCE.$1" '/^[^ ]/ { on = ($1 == s) } on' "$T/summary.out"
}
for stream in stores customers orders; do
    n=$(stream_stat "$SOURCE.$stream" records)
    if block "$stream" | head -1 | grep -q " ok  *[0-9.]* s  $n $stream read"; then
        ok "summary: $stream says '$n $stream read'"
    else
        not_ok "summary: $stream says '$n $stream read'"
        note_file "$T/summary.out"
    fi
    by_table=$(block "$stream" | awk '/^    dw\./ { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
                                         END { print n + 0 }')
    assert_eq "$(stream_stat "$SOURCE.$stream" "inserted + unchanged + updated + deleted")" \
        "$by_table" "summary: $stream's rows per table add up to etl.run_stream's"
done
assert_gt "$(block orders | grep -c '^    dw\.fact_order_line: ')" 0 \
    "summary: the orders stream names its table fact_order_line"
assert_eq 0 "$(grep -cE '(^|[^0-9])1 [a-z]+s[ ,)]' "$T/summary.out" || true)" \
    "summary: no plural after 1"
cp "$PROM" "$T/success.prom"

# ------------------------------------------------- a run stopped by SIGTERM
sandbox_faults slow_ms=200
flowetl_bg term run "$SOURCE.orders" --full-refresh
for ((i = 0; i < 100; i++)); do
    grep -qs "orders: starting" "$T/term.err" && break
    sleep 0.1
done
sleep 0.5
kill -TERM "$FE_BG_PID"
flowetl_bg_wait "$FE_BG_PID" term
sandbox_faults ""
assert_exit 143 "SIGTERM exits 143"
check_parses "SIGTERM"
assert_eq 143 "$(run_metric flowetl_run_exit_code)" "SIGTERM: flowetl_run_exit_code 143"
assert_eq 1 "$(metric flowetl_stream_last_run_status orders interrupted)" \
    "SIGTERM: orders status interrupted 1"
assert_eq "$first_success" "$(metric flowetl_stream_last_success_timestamp_seconds orders)" \
    "SIGTERM: the last-success time is the earlier run's"
assert_eq "$(warehouse_last_success customers)" \
    "$(metric flowetl_stream_last_success_timestamp_seconds customers)" \
    "SIGTERM: a stream the run did not select keeps its last-success time"
assert_eq "" "$(metric flowetl_stream_last_run_failed customers)" \
    "SIGTERM: a stream the run did not select has no last-run series"

# ------------------------------------------------- a run that fails (wrong password)
sleep 1.1 # a later second, so that a moved last-success time would show
sed -i 's|^password = .*|password = wrong-password|' "$CONF"
# Taken just before the run: the file's inode is in use until the run's rename, so
# the run's new file cannot get it. (Taken before the SIGTERM run, it was freed by
# that run's rename and the file system could hand it to this run's file.)
inode1=$(stat -c %i "$PROM")
flowetl run
assert_exit 1 "a run with a wrong password exits 1"
check_parses "failure"
assert_eq 1 "$(run_metric flowetl_run_exit_code)" "flowetl_run_exit_code 1"
assert_eq "$(last_run_id)" "$(run_metric flowetl_run_id)" "flowetl_run_id is the new run's"
for stream in stores customers orders; do
    assert_eq 1 "$(metric flowetl_stream_last_run_failed "$stream")" "$stream: failed 1"
    assert_eq 1 "$(metric flowetl_stream_last_run_status "$stream" failed)" \
        "$stream: status failed 1"
    assert_eq "$(warehouse_last_success "$stream")" \
        "$(metric flowetl_stream_last_success_timestamp_seconds "$stream")" \
        "$stream: after a failure the last-success time is still the warehouse's"
done
assert_eq "$first_success" "$(metric flowetl_stream_last_success_timestamp_seconds orders)" \
    "the failed run keeps the earlier last-success time"
if [[ $(stat -c %i "$PROM") != "$inode1" ]]; then ok "the file was replaced (renamed over)"; else
    not_ok "the file was replaced (renamed over)"
fi
assert_eq 644 "$(stat -c %a "$PROM")" "the file is readable by node_exporter (0644)"

# ------------------------------------------------- the warehouse cannot be reached
sed -i "s|^dsn = .*|dsn = host=$PGHOST port=1 user=postgres dbname=dw connect_timeout=2|" "$CONF"
flowetl run
assert_exit 3 "a run without the warehouse exits 3"
check_parses "no warehouse"
assert_eq 0 "$(run_metric flowetl_warehouse_up)" "flowetl_warehouse_up 0"
assert_eq 3 "$(run_metric flowetl_run_exit_code)" "flowetl_run_exit_code 3"
assert_eq 0 "$(run_metric flowetl_run_id)" "flowetl_run_id 0 (no etl.run row)"
assert_eq 1 "$(metric flowetl_stream_last_run_failed orders)" "orders: failed 1"
assert_eq "" "$(metric flowetl_stream_last_success_timestamp_seconds orders)" \
    "without the warehouse the last-success time is left out (unknown, not never)"

# ------------------------------------------------- a file that cannot be written
sed -i "s|^dsn = .*|dsn = host=$PGHOST user=postgres dbname=dw|" "$CONF"
sed -i "s|^password = .*|password = \${FE_IT_PASSWORD}|" "$CONF"
sed -i "s|^metrics_file = .*|metrics_file = $T/missing/flowetl.prom|" "$CONF"
flowetl run
assert_exit 0 "a metrics file that cannot be written does not fail the run"
assert_stderr_contains "metrics not written" "it is a warning"

# ------------------------------------------------- the example alert rules
RULES=$SOURCE_DIR/contrib/prometheus/flowetl.rules.yml
if "$PY" - "$RULES" >"$T/rules.metrics" 2>"$T/rules.err" <<'EOF'; then
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
rules = [r for g in doc["groups"] for r in g["rules"]]
assert all(g["name"] for g in doc["groups"])
for r in rules:
    assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r
    assert r["alert"] and r["expr"], r
    for m in re.findall(r"flowetl_[a-z0-9_]+", r["expr"]):
        print(m)
assert len(rules) >= 4
EOF
    ok "the example rules are YAML of the rule-file shape"
else
    not_ok "the example rules are YAML of the rule-file shape"
    note_file "$T/rules.err"
fi
# Every metric the rules use is one the file has (from the successful run's names).
missing=""
while read -r m; do
    grep -q "^# TYPE $m gauge" "$T/success.prom" || missing+=" $m"
done < <(sort -u "$T/rules.metrics")
assert_gt "$(wc -l <"$T/rules.metrics")" 3 "the rules use flowetl's metrics"
assert_eq "" "$missing" "the rules use only metrics flowetl writes"
if command -v promtool >/dev/null; then
    if promtool check rules "$RULES" >"$T/promtool.out" 2>&1; then ok "promtool check rules"; else
        not_ok "promtool check rules"
        note_file "$T/promtool.out"
    fi
fi

finish
