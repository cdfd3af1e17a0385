#!/usr/bin/env bash
# it_install.sh: `cmake --install` of the tested build into a temporary prefix puts
# the binary, the man page, the example config, README.md and contrib/ where the
# README says; the installed binary runs (--version, help); the man page renders
# and documents every command of `flowetl help`; the example config has every key
# of --help-config and loads with the real config loader, as installed and with
# every commented-out value uncommented; the systemd units verify and the Airflow
# DAG compiles.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# The build directory is the one of the binary under test (ctest's FLOWETL_BIN).
BUILD_DIR=$(dirname "$FLOWETL_BIN")
[[ -f $BUILD_DIR/cmake_install.cmake ]] || bail "$BUILD_DIR is not a CMake build directory"
# The generated man page and example config: an ALL target, so a full build made
# them; a build of some targets only may not have (then they are made here; never
# otherwise, so a test never rebuilds the binary other tests are running).
if [[ ! -s $BUILD_DIR/flowetl.1 || ! -s $BUILD_DIR/flowetl.conf.example ]]; then
    cmake --build "$BUILD_DIR" --target fe_docs >"$T/build.log" 2>&1 || {
        note_file "$T/build.log"
        bail "could not generate the man page and the example config (target fe_docs)"
    }
fi
P=$T/prefix
cmake --install "$BUILD_DIR" --prefix "$P" >"$T/install.log" 2>&1 || {
    note_file "$T/install.log"
    bail "cmake --install failed"
}

DOC=$P/share/doc/flowetl
for f in bin/flowetl share/man/man1/flowetl.1 share/doc/flowetl/flowetl.conf.example \
    share/doc/flowetl/README.md share/doc/flowetl/contrib/systemd/flowetl.service \
    share/doc/flowetl/contrib/systemd/flowetl.timer \
    share/doc/flowetl/contrib/airflow/flowetl_dag.py; do
    check "installed $f" test -s "$P/$f"
done
check "bin/flowetl is executable" test -x "$P/bin/flowetl"
extra=$(find "$P" -type f -printf '%P\n' |
    grep -v -e '^bin/flowetl$' -e '^share/man/man1/flowetl.1$' -e '^share/doc/flowetl/' || true)
assert_eq "" "$extra" "nothing else is installed (no sandbox, no tests)"

# The installed binary.
FLOWETL_BIN=$P/bin/flowetl
flowetl_bare --version
assert_exit 0 "installed flowetl --version exits 0"
if grep -qE '^flowetl [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown)\)$' "$T/out"; then
    ok "--version prints 'flowetl X.Y.Z (commit C)': $(<"$T/out")"
else
    not_ok "--version prints 'flowetl X.Y.Z (commit C)'"
    note_file "$T/out"
fi
if git -C "$SOURCE_DIR" rev-parse --short=7 HEAD >/dev/null 2>&1 &&
    [[ $(git -C "$SOURCE_DIR" rev-parse --show-toplevel) -ef $SOURCE_DIR ]]; then
    head=$(git -C "$SOURCE_DIR" rev-parse HEAD)
    commit=$(sed -nE 's/.*\(commit ([0-9a-f]+)(-dirty)?\)$/\1/p' "$T/out")
    if [[ -n $commit && $head == "$commit"* ]]; then
        ok "the commit is the checkout's HEAD ($commit)"
    else
        # A build older than the last commit: the binary was not rebuilt since.
        note "HEAD $head, binary built from '$commit' (not rebuilt since the last commit?)"
        ok "the commit is a commit ($commit)"
    fi
fi
flowetl_bare help
assert_exit 0 "installed flowetl help exits 0"
cp "$T/out" "$T/help.out"
mapfile -t commands < <(sed -n '/^Commands:/,/^$/p' "$T/help.out" | awk 'NF && !/:$/ { print $1 }')
assert_gt "${#commands[@]}" 6 "flowetl help lists the commands"

# The man page: renders without warnings and has every command of flowetl help.
MAN=$P/share/man/man1/flowetl.1
if command -v man >/dev/null; then
    man_text=$(MANWIDTH=80 man -l "$MAN" 2>"$T/man.err") || not_ok "man -l renders the man page"
    check "man -l prints no warnings" test ! -s "$T/man.err"
elif command -v nroff >/dev/null; then
    man_text=$(nroff -man "$MAN" 2>"$T/man.err")
else
    man_text=$(cat "$MAN")
    note "neither man nor nroff: the man page is checked as roff source"
fi
if command -v groff >/dev/null; then
    groff -man -ww -z "$MAN" 2>"$T/groff.err" || true
    check "groff -ww finds nothing to warn about in the man page" test ! -s "$T/groff.err"
    note_file "$T/groff.err"
fi
for cmd in "${commands[@]}"; do
    if grep -qE "^ +flowetl $cmd( |$)" <<<"$man_text"; then
        ok "the man page documents 'flowetl $cmd'"
    else
        not_ok "the man page documents 'flowetl $cmd'"
    fi
done
check "the man page documents --version" grep -q -- '--version' <<<"$man_text"

# Every command's help: flowetl help C and flowetl C --help say the same.
for cmd in "${commands[@]}"; do
    flowetl_bare help "$cmd"
    cp "$T/out" "$T/help-$cmd.out"
    flowetl_bare "$cmd" --help
    if [[ $FE_RC == 0 ]] && cmp -s "$T/out" "$T/help-$cmd.out" && grep -q '^Usage:' "$T/out"; then
        ok "flowetl help $cmd and flowetl $cmd --help print the same help"
    else
        not_ok "flowetl help $cmd and flowetl $cmd --help print the same help (exit $FE_RC)"
    fi
done

# The example config: every key of --help-config, in the right section.
EX=$DOC/flowetl.conf.example
"$FLOWETL_BIN" --help-config >"$T/keys.txt"
check "the installed example is --help-config=ini" cmp -s "$EX" <("$FLOWETL_BIN" --help-config=ini)
# section of each key line of the example: "run", "warehouse", "source" (+ type).
awk '/^\[/ { sect = $0; gsub(/[][]/, "", sect); type = ""; next }
     /^type = / { type = $3 }
     /^;?[a-z_]+ =/ { k = $1; sub(/^;/, "", k); print sect "\t" type "\t" k }' "$EX" >"$T/ex-keys.txt"
missing=0
nkeys=0
while IFS='|' read -r section type key; do
    nkeys=$((nkeys + 1))
    case $section in
    run | warehouse) pattern="^$section\t\t$key\$" ;;
    # A key of every type: in a source section (the first); a type's own: in its section.
    source) pattern="^source\.[a-z_]+\t${type:-[a-z]+}\t$key\$" ;;
    *) pattern="no such section" ;;
    esac
    if ! grep -qP "$pattern" "$T/ex-keys.txt"; then
        not_ok "the example config has [$section]${type:+ type $type} $key"
        missing=$((missing + 1))
    fi
done < <(sed -nE 's/^\[([a-z]+)(\.NAME)?\]( type=([a-z]+))? ([a-z_]+) \(.*/\1|\4|\5/p' "$T/keys.txt")
assert_gt "$nkeys" 30 "--help-config lists the keys"
assert_eq 0 "$missing" "the example config has every key --help-config lists ($nkeys)"

# It loads with the real loader: a run against a warehouse that is not there gets
# past the config (exit 3, not 2) once the secrets it names are in the environment.
mkdir -p "$T/nopg"
for v in $(grep -oE '[{][A-Z_]+[}]' "$EX" | tr -d '{}' | sort -u); do
    export "$v=example-$v"
done
sed "s|^;dsn =.*|dsn = host=$T/nopg dbname=dw connect_timeout=2|" "$EX" >"$T/as-installed.conf"
flowetl_bare -c "$T/as-installed.conf" run
assert_exit 3 "the example config as installed loads (run then finds no warehouse)"
# Every commented-out key that has a value, uncommented.
sed -E 's/^;([a-z_]+ = .+)$/\1/' "$T/as-installed.conf" >"$T/uncommented.conf"
uncommented=$(grep -cE '^[a-z_]+ = ' "$T/uncommented.conf")
assert_gt "$uncommented" 50 "keys set in the uncommented example"
flowetl_bare -c "$T/uncommented.conf" run
assert_exit 3 "the example config with every value uncommented loads"
# The check is real: a wrong value in it is a config error.
sed 's/^page_size = 100$/page_size = 1000/' "$T/uncommented.conf" >"$T/wrong.conf"
flowetl_bare -c "$T/wrong.conf" run
assert_exit 2 "a value out of range in the example is refused (the loader did read it)"

# contrib: the systemd units verify (with ExecStart pointing at the installed
# binary), the DAG compiles.
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$T/units"
    sed "s|/usr/local/bin/flowetl|$P/bin/flowetl|" "$DOC/contrib/systemd/flowetl.service" \
        >"$T/units/flowetl.service"
    cp "$DOC/contrib/systemd/flowetl.timer" "$T/units/"
    if (cd "$T/units" && systemd-analyze verify --man=no flowetl.service flowetl.timer) \
        >"$T/verify.out" 2>&1 && ! grep -q . "$T/verify.out"; then
        ok "systemd-analyze verify accepts flowetl.service and flowetl.timer"
    else
        not_ok "systemd-analyze verify accepts flowetl.service and flowetl.timer"
        note_file "$T/verify.out"
    fi
else
    note "systemd-analyze not installed: the units are not verified"
fi
check "the service treats exit 4 (overlap) as success" \
    grep -qx 'SuccessExitStatus=4' "$DOC/contrib/systemd/flowetl.service"
if python3 -c 'import sys' 2>/dev/null; then
    check "the Airflow DAG compiles" python3 -c \
        "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')" \
        "$DOC/contrib/airflow/flowetl_dag.py"
fi

finish
