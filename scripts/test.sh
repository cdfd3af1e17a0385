#!/usr/bin/env bash
# test.sh: everything CI checks, in one command (.ci/run calls it).
#
#   1. scripts/deps.sh                       missing Debian packages (as root)
#   2. clang-format check of every *.c / *.h; scripts/check_layers.sh (includes
#      point down the layers; long files and functions are warned about)
#   3. build/       RelWithDebInfo build, the type a plain `cmake` gets (leaves
#                   build/flowetl and the sandbox); then scripts/demo.sh on it:
#                   all four sources, each checked against the sandbox truth
#   4. build-asan/  Debug + ASan/UBSan build; ctest there runs the unit and the
#                   integration tests under the sanitizers, some of them twice: on
#                   single-node PostgreSQL and (citus.*) on a Citus cluster of a
#                   coordinator and two workers (Citus is built first from
#                   ../shared/vendor when missing)
#   5. the unit tests once more, from build/, under valgrind
#   6. flowetl itself under valgrind, end to end (full load; malformed JSON)
#   7. build-fuzz/: a short libFuzzer pass over every target of tests/fuzz (clang
#      with -fsanitize=fuzzer; skipped, not failed, when there is none)
#
# The last line is "N passed, N failed" (ctest tests); the exit status is non-zero
# when any step failed. No terminal needed (CI=true, no colours).
# Environment: JOBS (default 2), SKIP_DEPS=1, SKIP_VALGRIND=1, SKIP_FUZZ=1,
# FUZZ_SECONDS (per target, default 25), CTEST_ARGS (extra arguments for ctest,
# e.g. "-R integration.it_cli"), BUILD_DIR, ASAN_DIR and FUZZ_DIR (other build
# directories than build, build-asan and build-fuzz, relative to the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build}
ASAN_DIR=${ASAN_DIR:-build-asan}
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-25}
FUZZ_TARGETS=(json_stream posiflora posiflora_order flowwow goflow flowretail)

failed_steps=()
ctest_passed=0
ctest_failed=0

step() {
    printf '\n== %s\n' "$*"
}

fail_step() {
    failed_steps+=("$1")
    echo "FAILED: $1"
}

# ---------------------------------------------------------------- 1. deps
if [[ ${SKIP_DEPS:-0} != 1 ]]; then
    step "dependencies"
    scripts/deps.sh || {
        echo "test: cannot install the dependencies" >&2
        exit 1
    }
fi

# ---------------------------------------------------------------- 2. format
format_check() {
    local files=() f bad=()
    if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        while IFS= read -r f; do
            [[ -f $f ]] && files+=("$f")
        done < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | LC_ALL=C sort -u)
    else
        while IFS= read -r f; do
            files+=("$f")
        done < <(find . -path './build*' -prune -o -path './.git' -prune -o \
            -type f \( -name '*.c' -o -name '*.h' \) -print | sort)
    fi
    for f in "${files[@]}"; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done
    if ((${#bad[@]})); then
        echo "not formatted (fix with: clang-format -i FILE...):"
        printf '  %s\n' "${bad[@]}"
        return 1
    fi
    echo "${#files[@]} files formatted"
}
step "clang-format"
format_check || fail_step "clang-format"

# ---------------------------------------------------------------- 2b. layers
step "layers (scripts/check_layers.sh)"
scripts/check_layers.sh || fail_step "layers"

# ---------------------------------------------------------------- 3-4. builds
build() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$ROOT/$dir" "$@" >"$ROOT/$dir.configure.log" 2>&1 || {
        cat "$ROOT/$dir.configure.log"
        return 1
    }
    rm -f "$ROOT/$dir.configure.log"
    cmake --build "$ROOT/$dir" -j "$JOBS"
}

step "$BUILD_DIR/ (RelWithDebInfo, the default build type)"
release_ok=1
build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo || {
    release_ok=0
    fail_step "RelWithDebInfo build"
}

# ---------------------------------------------------------------- 3b. demo
# scripts/demo.sh on the build of step 3 (small scale): all four sources into one
# warehouse, checked against the sandbox truth per source; any FAIL fails the step.
if ((release_ok)); then
    step "demo (scripts/demo.sh on $BUILD_DIR/, all four sources, truth check)"
    demo_log=$ROOT/$BUILD_DIR/demo.log
    demo_dir=$BUILD_DIR/demo
    if DEMO_BUILD=0 DEMO_SCALE=0.2 BUILD_DIR=$BUILD_DIR DEMO_DIR=$demo_dir \
        scripts/demo.sh >"$demo_log" 2>&1 && grep -q '^demo: PASS' "$demo_log" &&
        ! grep -q 'FAIL' "$demo_log"; then
        sed -n '/^== ground truth/,/^$/p' "$demo_log"
        tail -n 2 "$demo_log"
    else
        tail -n 60 "$demo_log"
        fail_step "demo"
    fi
    DEMO_DIR=$demo_dir scripts/demo.sh stop || fail_step "demo stop"
fi

step "$ASAN_DIR/ (Debug, ASan + UBSan)"
asan_ok=1
build "$ASAN_DIR" -DCMAKE_BUILD_TYPE=Debug -DFLOWETL_SANITIZE=ON || {
    asan_ok=0
    fail_step "sanitizer build"
}

# ---------------------------------------------------------------- Citus
# The citus.* tests and it_citus run on a Citus cluster of this machine; Debian 12
# packages no Citus, so it is built from ../shared/vendor once (2-4 minutes, root).
step "Citus (for the tests on a Citus cluster)"
scripts/citus-cluster.sh install || fail_step "Citus install (the Citus tests will fail)"

# ---------------------------------------------------------------- ctest
if ((asan_ok)); then
    step "ctest ($ASAN_DIR: unit + integration under ASan/UBSan)"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    log=$(mktemp)
    # shellcheck disable=SC2086 # CTEST_ARGS is a list of words
    (cd "$ASAN_DIR" && ctest --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}) 2>&1 |
        tee "$log" || true
    summary=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
    if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
        ctest_failed=${BASH_REMATCH[1]}
        ctest_passed=$((BASH_REMATCH[2] - BASH_REMATCH[1]))
    elif grep -q 'No tests were found' "$log"; then
        echo "no tests were found"
    else
        fail_step "ctest did not finish"
    fi
    ((ctest_failed == 0)) || fail_step "ctest: $ctest_failed failed"
    rm -f "$log"
    unset ASAN_OPTIONS UBSAN_OPTIONS
fi

# ---------------------------------------------------------------- 5. valgrind
# The unit test executables ctest knows (label unit), from the RelWithDebInfo build.
unit_tests() {
    (cd "$BUILD_DIR" && ctest -N -L unit) | sed -n 's/^ *Test *#[0-9]*: unit\.//p'
}

if ((release_ok)) && [[ ${SKIP_VALGRIND:-0} != 1 ]]; then
    step "unit tests under valgrind ($BUILD_DIR/)"
    vg_fail=()
    vg_count=0
    while IFS= read -r t; do
        dir=$ROOT/$BUILD_DIR/tests
        [[ -x $dir/$t ]] || continue
        vg_count=$((vg_count + 1))
        # test_runstop's children end by _exit from the signal thread while other
        # threads live (that is what it checks): their stacks are "possibly lost"
        # by design, and counted as errors valgrind's exit code would replace the
        # 128 + signal the test asserts. Definite leaks still fail it.
        leak_kinds=definite,possible
        [[ $t == test_runstop ]] && leak_kinds=definite
        if (cd "$dir" && valgrind -q --error-exitcode=1 --leak-check=full \
            --errors-for-leak-kinds=$leak_kinds "./$t" >"$dir/$t.valgrind.log" 2>&1); then
            echo "ok   $t"
        else
            echo "FAIL $t"
            tail -n 40 "$dir/$t.valgrind.log"
            vg_fail+=("$t")
        fi
    done < <(unit_tests)
    echo "$vg_count unit tests under valgrind, ${#vg_fail[@]} failed"
    ((${#vg_fail[@]} == 0)) || fail_step "valgrind: ${vg_fail[*]}"
fi

# ---------------------------------------------------------------- 6. valgrind e2e
# The real binary under valgrind, end to end: a full load with re-run and status,
# and a malformed-JSON failure (the error paths). Any memory error or definite leak
# makes flowetl exit 99, which fails the test.
if ((release_ok)) && [[ ${SKIP_VALGRIND:-0} != 1 ]]; then
    step "flowetl end to end under valgrind ($BUILD_DIR/)"
    vg_dir=$(mktemp -d)
    cat >"$vg_dir/flowetl" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
    --errors-for-leak-kinds=definite "$ROOT/$BUILD_DIR/flowetl" "\$@"
WRAP
    chmod +x "$vg_dir/flowetl"
    for it in it_full_load it_malformed; do
        if FLOWETL_BIN=$vg_dir/flowetl SANDBOX_BIN=$ROOT/$BUILD_DIR/sandbox/flowetl-sandbox \
            SOURCE_DIR=$ROOT bash "tests/integration/$it.sh" >"$vg_dir/$it.log" 2>&1; then
            echo "ok   $it (flowetl under valgrind)"
        else
            echo "FAIL $it (flowetl under valgrind)"
            tail -n 60 "$vg_dir/$it.log"
            fail_step "valgrind e2e: $it"
        fi
    done
    rm -rf "$vg_dir"
fi

# ---------------------------------------------------------------- 7. fuzz
# A C compiler that links libFuzzer (clang-14 and libclang-rt-14-dev on Debian).
fuzz_compiler() {
    local cc probe
    probe=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$probe/probe.c"
    for cc in clang-14 clang; do
        if command -v "$cc" >/dev/null &&
            "$cc" -fsanitize=fuzzer "$probe/probe.c" -o "$probe/probe" >/dev/null 2>&1; then
            rm -rf "$probe"
            echo "$cc"
            return 0
        fi
    done
    rm -rf "$probe"
    return 1
}

# Every target for FUZZ_SECONDS, seeded with its corpus; new inputs go to a temp
# folder (the corpus in git is not touched), failures to $FUZZ_DIR/findings/.
fuzz_pass() {
    local cc=$1 t work log fails=()
    CC=$cc cmake -S "$ROOT" -B "$ROOT/$FUZZ_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DFLOWETL_FUZZ=ON -DFLOWETL_SANITIZE=ON >"$ROOT/$FUZZ_DIR.configure.log" 2>&1 || {
        cat "$ROOT/$FUZZ_DIR.configure.log"
        return 1
    }
    rm -f "$ROOT/$FUZZ_DIR.configure.log"
    cmake --build "$ROOT/$FUZZ_DIR" -j "$JOBS" --target "${FUZZ_TARGETS[@]/#/fuzz_}" >/dev/null || {
        echo "building the fuzzers failed"
        return 1
    }
    work=$(mktemp -d)
    mkdir -p "$ROOT/$FUZZ_DIR/findings"
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$work/$t"
        log=$work/$t.log
        if "$ROOT/$FUZZ_DIR/tests/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
            -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$ROOT/$FUZZ_DIR/findings/$t-" \
            "$work/$t" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1; then
            echo "ok   fuzz_$t ($(grep -o 'Done [0-9]* runs' "$log" | head -n 1))"
        else
            echo "FAIL fuzz_$t (the input is in $FUZZ_DIR/findings/)"
            grep -a -A3 'fuzz check failed\|ERROR:' "$log" | head -n 20
            fails+=("$t")
        fi
    done
    rm -rf "$work"
    ((${#fails[@]} == 0))
}

if [[ ${SKIP_FUZZ:-0} != 1 ]]; then
    step "fuzz ($FUZZ_DIR/, ${FUZZ_SECONDS}s per target)"
    if fuzz_cc=$(fuzz_compiler); then
        fuzz_pass "$fuzz_cc" || fail_step "fuzz"
    else
        echo "fuzz: skipped (no clang with -fsanitize=fuzzer; scripts/deps.sh installs clang-14" \
            "and libclang-rt-14-dev); the corpus still runs as unit.fuzz_corpus"
    fi
fi

# ---------------------------------------------------------------- summary
echo
if ((${#failed_steps[@]})); then
    echo "failed steps:"
    printf '  %s\n' "${failed_steps[@]}"
fi
echo "$ctest_passed passed, $ctest_failed failed"
((${#failed_steps[@]} == 0))
