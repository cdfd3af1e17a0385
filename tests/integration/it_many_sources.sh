#!/usr/bin/env bash
# Many accounts in one run (issue 15): 40 [source.NAME] sections of the four types
# against one sandbox, each its own identity (account = acct-NN), loaded by a pool
# of [run] max_sources = 3 workers. Every source equals the sandbox truth of its
# system; a re-run writes nothing; the run's warehouse sessions never exceed
# max_sources + 1; a SIGTERM mid-run ends every queued stream `interrupted` with a
# reason; run --shard 0/3, 1/3, 2/3 on a fresh warehouse load every source exactly
# once, each shard's run only its sources (those the name hashes to, computed here
# independently); --shard's usage errors exit 2.
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS="posiflora goflow flowwow flowretail"
NSOURCES=40
MAX_SOURCES=3

pg_start
sandbox_start --scale 0.02
goflow_fast

# The sections' names, in config order: posiflora_01, goflow_02, ...
NAMES=()
SYSTEM_OF=()
read -r -a sys <<<"$SYSTEMS"
for ((k = 1; k <= NSOURCES; k++)); do
    s=${sys[$(((k - 1) % 4))]}
    NAMES+=("$(printf '%s_%02d' "$s" "$k")")
    SYSTEM_OF+=("$s")
done

# write_many DBNAME FILE: the config of the 40 sections into FILE, warehouse DBNAME.
write_many() {
    local k s
    for s in $SYSTEMS; do
        "config_section_$s" >/dev/null # exports the secrets' variables here
    done
    {
        echo "[warehouse]"
        echo "dsn = host=$PGHOST user=postgres dbname=$1"
        echo
        echo "[run]"
        echo "max_sources = $MAX_SOURCES"
        for ((k = 0; k < NSOURCES; k++)); do
            s=${SYSTEM_OF[$k]}
            echo
            "config_section_$s" | sed "1s/^\[source\.${s}_test\]$/[source.${NAMES[$k]}]/"
            echo "account = acct-$(printf '%02d' $((k + 1)))"
            echo "rate_limit = 1000"
            echo "rate_burst = 100"
        done
    } >"$2"
}

write_many dw "$T/flowetl.conf"
CONF=$T/flowetl.conf

# Sessions of flowetl runs, polled every 50 ms by one psql (\watch) in the
# background until stopped; sessions_watch_stop prints the largest count seen
# and the largest seen by two polls in a row. The second is the one held to the
# bound: a worker that closed its session starts the next source's at once, and
# the server may list the closed one's backend for a moment while it exits; a
# session the run really holds stays listed.
sessions_watch_start() {
    printf '%s\n' "select count(*) from pg_stat_activity where application_name like 'flowetl run=%'" \
        '\watch 0.05' | psql -XAtq >"$T/sessions.txt" 2>"$T/sessions.err" &
    WATCH_PID=$!
    FE_PIDS+=("$WATCH_PID")
}
sessions_watch_stop() {
    kill -TERM "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
    grep -E '^[0-9]+$' "$T/sessions.txt" |
        awk '{ if ($1 > raw) raw = $1; m = $1 < prev ? $1 : prev; if (NR > 1 && m > held) held = m;
               prev = $1 } END { print raw + 0, held + 0 }'
}

# run_rows RUN_ID: "source<TAB>stream<TAB>status<TAB>error" of the run's streams.
run_rows() {
    sql "select source_name, stream, status, coalesce(error, '')
           from etl.run_stream where run_id = $1 order by 1, 2"
}

flowetl init
assert_exit 0 "init exits 0"

# --- the first run: every source, three at a time
sessions_watch_start
flowetl run
read -r peak_raw peak < <(sessions_watch_stop)
note "peak sessions: $peak_raw in one poll, $peak in two polls in a row"
assert_exit 0 "a run of $NSOURCES sources exits 0"
assert_stderr_contains "$NSOURCES sources, $MAX_SOURCES at a time (max_sources)" \
    "the run says the sources queue"
assert_le "${peak:-999}" $((MAX_SOURCES + 1)) "the run's sessions stay within max_sources + 1"
assert_gt "${peak:-0}" 1 "the watcher saw the run's workers"
run1=$(last_run_id)
nstreams=$(sql "select count(*) from etl.run_stream where run_id = $run1 and status = 'succeeded'")
nsrc=$(sql "select count(distinct source_key) from etl.run_stream where run_id = $run1")
assert_eq "$NSOURCES" "$nsrc" "the run loaded $NSOURCES sources"
assert_eq "$nstreams" "$(sql "select count(*) from etl.run_stream where run_id = $run1")" \
    "every stream of the run succeeded ($nstreams)"
nkeys=$(sql "select count(distinct account) from dw.dim_source where account like 'acct-%'")
assert_eq "$NSOURCES" "$nkeys" "each section is its own identity"

# Each source equals the sandbox truth of its system.
mkdir -p "$T/truth"
bad=0
for ((k = 0; k < NSOURCES; k++)); do
    rc=0
    truth_compare "${SYSTEM_OF[$k]}" "${NAMES[$k]}" "$T/truth" || rc=$?
    if ((rc != 0)); then
        bad=$((bad + 1))
        note "${NAMES[$k]}: truth_compare returned $rc"
        ((rc == 1)) && note "$(head -n 20 "$T/truth/truth.diff")"
    fi
done
assert_eq 0 "$bad" "all $NSOURCES sources equal the sandbox truth of their system"

# --- a re-run writes nothing (two at a time: --max-sources wins over the key)
flowetl run --max-sources 2
assert_exit 0 "the re-run exits 0"
assert_stderr_contains "$NSOURCES sources, 2 at a time (max_sources)" "--max-sources 2 wins"
run2=$(last_run_id)
written=$(sql "select coalesce(sum(inserted + updated), -1) from etl.run_stream where run_id = $run2")
assert_eq 0 "$written" "the re-run writes nothing (inserted + updated)"

# --- SIGTERM while the first sources load: the queued ones never start
sandbox_faults slow_ms=20
flowetl_bg term run --full-refresh
pid=$FE_BG_PID
for ((i = 0; i < 200; i++)); do
    n=$(sql "select count(*) from etl.run_stream where run_id > $run2")
    ((n > 0)) && break
    sleep 0.05
done
kill -TERM "$pid"
flowetl_bg_wait "$pid" term
sandbox_faults ""
assert_exit 143 "SIGTERM mid-run exits 143"
run3=$(last_run_id)
assert_eq interrupted "$(sql "select status from etl.run where run_id = $run3")" \
    "the signalled run is interrupted"
run_rows "$run3" >"$T/run3.txt"
assert_eq "$nstreams" "$(wc -l <"$T/run3.txt")" "every selected stream has its row"
assert_eq 0 "$(awk -F'\t' '$3 == "running"' "$T/run3.txt" | wc -l)" "no stream is left running"
assert_eq 0 "$(awk -F'\t' '$3 == "interrupted" && $4 == ""' "$T/run3.txt" | wc -l)" \
    "every interrupted stream says why"
queued=$(grep -c $'\tinterrupted\tnot started: the run was interrupted by SIGTERM' "$T/run3.txt" || true)
assert_gt "$queued" $((nstreams / 2)) "the queued sources' streams end 'not started' by SIGTERM"
last=${NAMES[$((NSOURCES - 1))]}
assert_eq "interrupted" "$(awk -F'\t' -v s="$last" '$1 == s { print $3 }' "$T/run3.txt" | sort -u)" \
    "the last source in config order never ran"

# --- --shard usage errors (exit 2, nothing run)
before=$(last_run_id)
for spec in 3/3 0/0 x/3 1/ -1/2; do
    flowetl run --shard "$spec"
    assert_exit 2 "run --shard $spec is a usage error"
done
FLOWETL_SHARD=5/2 flowetl run
assert_exit 2 "FLOWETL_SHARD=5/2 is a usage error"
assert_stderr_contains "FLOWETL_SHARD"
flowetl run --shard 0/1 --shard 0/1
assert_exit 2 "--shard given twice is a usage error"
flowetl run --max-sources 0
assert_exit 2 "--max-sources 0 is a usage error"

# The shard of each name, computed here (FNV-1a 64-bit, mod 3).
shard_of() {
    python3 -c '
import sys
n = int(sys.argv[1])
for name in sys.argv[2:]:
    h = 0xcbf29ce484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    print(name, h % n)' "$@"
}
shard_of 3 "${NAMES[@]}" >"$T/shards.txt"
other=$(awk '$2 != 0 { print $1; exit }' "$T/shards.txt")
flowetl run --shard 0/3 "$other"
assert_exit 2 "a target of another shard is a usage error"
assert_stderr_contains "is of shard $(awk -v n="$other" '$1 == n { print $2 }' "$T/shards.txt")/3" \
    "the error names the target's shard"
assert_eq "$before" "$(last_run_id)" "no usage error started a run"

# An empty shard succeeds doing nothing (one source: every other shard of 2 of
# them is empty for a config with one section).
head -n 5 "$T/flowetl.conf" >"$T/one.conf"
sed -n "/^\[source.${NAMES[0]}\]/,/^rate_burst/p" "$T/flowetl.conf" >>"$T/one.conf"
empty=$((1 - $(shard_of 2 "${NAMES[0]}" | awk '{ print $2 }')))
CONF=$T/one.conf flowetl run --shard "$empty/2"
assert_exit 0 "a shard with no source exits 0"
assert_stderr_contains "shard $empty/2: no source of this config hashes here"
assert_eq "succeeded 0" "$(sql "select r.status, (select count(*) from etl.run_stream s
                                 where s.run_id = r.run_id) from etl.run r
                                 where r.run_id = $(last_run_id)" | tr '\t' ' ')" \
    "the empty shard's run is recorded, with no stream"

# --- three shards one after another on a fresh warehouse: each source once
sql "create database dw_shards" >/dev/null
write_many dw_shards "$T/shards.conf"
CONF=$T/shards.conf
flowetl init
assert_exit 0 "init of the fresh warehouse exits 0"
for i in 0 1 2; do
    if ((i == 1)); then
        FLOWETL_SHARD=1/3 flowetl run # the environment's form
    else
        flowetl run --shard "$i/3"
    fi
    assert_exit 0 "shard $i/3 exits 0"
    PGDATABASE=dw_shards sql "select distinct source_name from etl.run_stream
                               where run_id = (select max(run_id) from etl.run)" >"$T/shard$i.got"
    awk -v i="$i" '$2 == i { print $1 }' "$T/shards.txt" | LC_ALL=C sort >"$T/shard$i.want"
    LC_ALL=C sort -o "$T/shard$i.got" "$T/shard$i.got"
    check "shard $i/3's run lists exactly its sources ($(wc -l <"$T/shard$i.want"))" \
        cmp -s "$T/shard$i.want" "$T/shard$i.got"
done
assert_eq "succeeded" "$(PGDATABASE=dw_shards sql "select distinct status from etl.run")" \
    "every shard's run succeeded"
assert_eq 2 "$(PGDATABASE=dw_shards sql "select count(*) from etl.run
                                         where command_line ~ '--shard [02]/3'")" \
    "the typed --shard is in etl.run.command_line"
loads=$(PGDATABASE=dw_shards sql "select count(*) from (select source_name from etl.run_stream
                                   where status = 'succeeded' group by source_name
                                   having count(distinct run_id) = 1) x")
assert_eq "$NSOURCES" "$loads" "every source was loaded by exactly one shard"
bad=0
for ((k = 0; k < NSOURCES; k++)); do
    rc=0
    PGDATABASE=dw_shards truth_compare "${SYSTEM_OF[$k]}" "${NAMES[$k]}" "$T/truth" || rc=$?
    ((rc == 0)) || bad=$((bad + 1))
done
assert_eq 0 "$bad" "after the three shards, every source equals its truth"

# --- the warehouse goes away while the first sources load: the queued ones are
# not started (no connection attempt each), the run ends soon with exit 3 and
# counts them among the streams not run.
before=$(PGDATABASE=dw_shards last_run_id)
sandbox_faults slow_ms=20
flowetl_bg lost run --full-refresh
pid=$FE_BG_PID
for ((i = 0; i < 200; i++)); do
    n=$(PGDATABASE=dw_shards sql "select count(*) from etl.run_stream where run_id > $before")
    ((n > 0)) && break
    sleep 0.05
done
pg_ctl_owner -D "$PG_DIR/data" stop -m immediate -w >/dev/null 2>&1 ||
    bail "could not stop PostgreSQL"
stopped=$(date +%s)
flowetl_bg_wait "$pid" lost
PG_DIR= # stopped
assert_exit 3 "a run that lost the warehouse exits 3"
assert_le $(($(date +%s) - stopped)) 20 "it ended soon after (s)"
notrun=$(sed -n 's/.*the warehouse went away at [0-9:]* UTC: .*; \([0-9]*\) stream(s) not run.*/\1/p' "$T/err")
assert_gt "${notrun:-0}" $((nstreams / 2)) "the queued sources' streams are counted not run"
last=${NAMES[$((NSOURCES - 1))]}
assert_eq FAILED "$(awk -v s="$last." 'index($1, s) == 1 { print $2 }' "$T/out" | sort -u)" \
    "the last source's streams are failed in the summary"

finish
