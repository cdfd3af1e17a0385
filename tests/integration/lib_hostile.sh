# shellcheck shell=bash
# lib_hostile.sh: helpers of the hostile-API tests (it_hostile_*.sh), sourced by
# lib.sh. The sandbox's hostile switches and foreign host are described in
# docs/sandbox.md ("Hostile mode").

# sandbox_hostile SPEC: replaces the hostile switches ("" = off).
sandbox_hostile() {
    sandbox_post "/_sandbox/hostile?$1" >/dev/null
}

# foreign_stat NAME: one value of GET /_sandbox/foreign (requests,
# with_authorization, with_secret, url).
foreign_stat() {
    sandbox_get /_sandbox/foreign | awk -F'\t' -v k="$1" '$1 == k { print $2 }'
}

# hostile_truth METRIC: a `hostile` line of the truth (0 when absent).
hostile_truth() {
    sandbox_get /_sandbox/truth | awk -F'\t' -v m="$1" '$1 == "hostile" && $2 == m { v = $3 }
        END { print v + 0 }'
}

# flowetl_bounded SECONDS ARGS...: flowetl ARGS, killed after SECONDS (then FE_RC
# is 124); FE_SECONDS gets the wall time in whole seconds, FE_RSS_KB the run's peak
# resident size (GNU time; 0 when the run was killed).
flowetl_bounded() {
    local limit=$1 start
    shift
    # shellcheck disable=SC2034 # read by fe_after_run
    FE_LAST_ARGS="$*"
    rm -f "$T/time.txt"
    start=$(date +%s)
    fe_exec timeout -s KILL "$limit" /usr/bin/time -f 'max_rss_kb %M' -o "$T/time.txt" \
        "$FLOWETL_BIN" -c "$CONF" "$@"
    # shellcheck disable=SC2034 # read by the tests
    FE_SECONDS=$(($(date +%s) - start))
    FE_RSS_KB=$(awk '/^max_rss_kb/ { print $2 }' "$T/time.txt" 2>/dev/null || true)
    FE_RSS_KB=${FE_RSS_KB:-0}
    # timeout -s KILL exits 137; say 124 like timeout's own signal would.
    [[ $FE_RC != 137 ]] || FE_RC=124
}

# warehouse_fingerprint: one line per dw table, "table<TAB>md5 of its rows", the
# columns that only say when or by which run a row was written (loaded_at,
# run_id, captured_at) left out. Equal fingerprints: the same warehouse. (Cursors
# are etl's: stream_cursors.)
warehouse_fingerprint() {
    psql -XAtq -v ON_ERROR_STOP=1 -F $'\t' <<'SQL'
select format('select %L, md5(coalesce(string_agg(r, E''\n'' order by r), '''')) from '
              '(select row(%s)::text as r from dw.%I) s',
              c.table_name, string_agg(format('%I', c.column_name), ', '
                                       order by c.ordinal_position), c.table_name)
  from information_schema.columns c
  join information_schema.tables t using (table_schema, table_name)
 where c.table_schema = 'dw' and t.table_type = 'BASE TABLE'
   and c.column_name not in ('loaded_at', 'run_id', 'captured_at')
 group by c.table_name
 order by c.table_name
\gexec
SQL
}

# stream_cursors SOURCE.STREAM...: "source.stream<TAB>cursor" of each (empty when
# the stream has none).
stream_cursors() {
    local s
    for s in "$@"; do
        printf '%s\t%s\n' "$s" "$(sql "select ss.cursor::text from etl.sync_state ss
            join dw.dim_source d using (source_key)
            where d.name = '${s%%.*}' and ss.stream = '${s#*.}'")"
    done
}

# assert_warehouse_unchanged BEFORE_FILE LABEL: the fingerprint equals the one
# saved in BEFORE_FILE; on a difference the tables that changed are named.
assert_warehouse_unchanged() {
    warehouse_fingerprint >"$T/fingerprint.now"
    if diff -q "$1" "$T/fingerprint.now" >/dev/null; then
        ok "$2"
    else
        not_ok "$2"
        note "changed: $(diff "$1" "$T/fingerprint.now" | awk -F'\t' '/^>/ { print $1 }' |
            sed 's/^> //' | tr '\n' ' ')"
    fi
}

# deleted_members: "table<TAB>rows marked deleted" of every dw table with is_deleted.
deleted_members() {
    psql -XAtq -v ON_ERROR_STOP=1 -F $'\t' <<'SQL'
select format('select %L, count(*) filter (where is_deleted) from dw.%I', table_name, table_name)
  from information_schema.columns
 where table_schema = 'dw' and column_name = 'is_deleted'
 order by table_name
\gexec
SQL
}

# etl_text: every row of every etl.* table as text, one per line.
etl_text() {
    psql -XAtq -v ON_ERROR_STOP=1 <<'SQL'
select format('select t::text from etl.%I t', table_name)
  from information_schema.tables
 where table_schema = 'etl' and table_type = 'BASE TABLE'
 order by table_name
\gexec
SQL
}

# secret_pieces: every credential the sandbox knows (GET /_sandbox/secrets: the
# password, the configured tokens, every token it issued) and, for the long ones,
# three 20-byte pieces of each (a token cut short by a message is still a leak).
secret_pieces() {
    sandbox_get /_sandbox/secrets | awk 'length($0) >= 4 {
        print
        n = length($0)
        if (n >= 40) {
            print substr($0, int(n / 4), 20)
            print substr($0, int(n / 2), 20)
            print substr($0, n - 19, 20)
        }
    }' | sort -u
}

# assert_no_secrets LABEL: no credential (or piece of one) in anything flowetl
# wrote: the stdout and stderr of every run of the test ($T/history.log, which
# also has the command lines) and every etl.* table.
assert_no_secrets() {
    local found=() s
    secret_pieces >"$T/secrets.txt"
    etl_text >"$T/etl.txt"
    cat "$T/history.log" "$T/etl.txt" >"$T/written.txt"
    while IFS= read -r s; do
        grep -qF -- "$s" "$T/written.txt" && found+=("$s")
    done <"$T/secrets.txt"
    if ((${#found[@]} == 0)); then
        ok "$1 ($(wc -l <"$T/secrets.txt") secrets and pieces looked for)"
    else
        not_ok "$1"
        note "found ${#found[@]} of them, e.g. '${found[0]:0:12}...' in:"
        note "$(grep -lF -- "${found[0]}" "$T/history.log" "$T/etl.txt" | sed "s|$T/||")"
        note "$(grep -F -- "${found[0]}" "$T/written.txt" | head -n 3 | cut -c1-300)"
    fi
}

# assert_streams_failed SOURCE.STREAM...: stderr has "SOURCE.STREAM failed" for each.
assert_streams_failed() {
    local s missing=()
    for s in "$@"; do
        grep -qF -- "$s failed" "$T/err" || missing+=("$s")
    done
    if ((${#missing[@]} == 0)); then
        ok "stderr names each failed stream ($#)"
    else
        not_ok "stderr names each failed stream (missing: ${missing[*]})"
        note_file "$T/err" 30
    fi
}

# assert_streams_ok SOURCE.STREAM...: none of them failed.
assert_streams_ok() {
    local s bad=()
    for s in "$@"; do
        grep -qF -- "$s failed" "$T/err" && bad+=("$s")
    done
    if ((${#bad[@]} == 0)); then
        ok "the other streams succeeded ($#)"
    else
        not_ok "the other streams succeeded (failed: ${bad[*]})"
        note_file "$T/err" 30
    fi
}

# failure_line SOURCE.STREAM: the stream's "failed" line on stderr.
failure_line() {
    grep -F -- "$1 failed" "$T/err" | head -n 1 || true
}

# hostile_start SYSTEM...: the common start of a hostile test: a warehouse, a
# small sandbox (scale 0.05) with fast Goflow reports, and a config for the
# SYSTEMs with one retry and short retry waits (a refusal is retried like a 5xx).
# A CONFIG_EXTRA_<system> set before is kept, after the retry wait.
hostile_start() {
    local s v
    # shellcheck disable=SC2034 # read by write_config
    SYSTEMS="$*"
    for s in posiflora flowwow flowretail; do
        v="CONFIG_EXTRA_$s"
        printf -v "$v" '%s' "retry_base_ms = 10${!v:+$'\n'${!v}}"
    done
    pg_start
    sandbox_start --scale 0.05
    goflow_fast
    write_config "retries = 1"
}
