#!/usr/bin/env bash
# fn_lengths.sh [MAX] FILE...: prints "LINES FILE:LINE NAME" for every C function
# longer than MAX lines (default 60), longest first. A function is a line that
# starts in column 0 with an identifier and a '(' (its signature may go on over
# the next lines), from there to its closing '}' in column 0 (the house clang-format style puts both there).
set -euo pipefail
max=60
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    max=$1
    shift
fi
awk -v max="$max" '
    FNR == 1 { start = 0 }
    /^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ { start = FNR; name = $0; next }
    /^\{/ && start { open = start; start = 0; next }
    /^[^[:space:]{}]/ && !/\(/ && !/^\/\// { start = 0 }
    /^\}/ && open {
        n = FNR - open + 1
        if (n > max) {
            sub(/\(.*/, "", name); k = split(name, w, /[ *]+/)
            printf "%d %s:%d %s\n", n, FILENAME, open, w[k]
        }
        open = 0
    }
' "$@" | sort -rn
