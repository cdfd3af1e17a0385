#!/usr/bin/env bash
# check_layers.sh: the layers of the product code point down (issue 11).
#
#   core/ < extract/ < transform/ < load/ < sources/ < app/
#
# Every #include "..." names its file from the repository root ("DIR/...", DIR one
# of the layers; no ../, no bare names). A file may include only its own layer or a
# lower one; core/ only core/; a source folder sources/NAME/ no other source folder,
# and the files of sources/ itself (the interface, the registry) no source folder.
# Prints "FILE:LINE: ..." for each violation and exits 1 when there is one.
# Also prints, as warnings that do not fail the check, the files over MAX_LINES
# (800) lines and the functions over MAX_FN (60) lines (scripts/fn_lengths.sh).
# Run from anywhere; it checks the repository it lives in.
set -euo pipefail
cd "$(dirname "$0")/.."
MAX_LINES=${MAX_LINES:-800}
MAX_FN=${MAX_FN:-60}
LAYERS=(core extract transform load sources app)

mapfile -t files < <(find "${LAYERS[@]}" -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null |
    LC_ALL=C sort)

awk -v layers="${LAYERS[*]}" '
    BEGIN {
        n = split(layers, names, " ")
        for (i = 1; i <= n; i++) rank[names[i]] = i
        bad = 0
    }
    FNR == 1 {
        split(FILENAME, part, "/")
        layer = part[1]
        folder = (layer == "sources" && FILENAME ~ /^sources\/[^\/]+\//) ? part[2] : ""
    }
    /^[[:space:]]*#[[:space:]]*include[[:space:]]*"/ {
        inc = $0
        sub(/^[^"]*"/, "", inc)
        sub(/".*$/, "", inc)
        split(inc, ip, "/")
        top = ip[1]
        why = ""
        if (!(top in rank) || inc ~ /(^|\/)\.\.?\//)
            why = "not repository-rooted (write \"DIR/file.h\" with DIR one of: " layers ")"
        else if (layer == "core" && top != "core")
            why = "core/ may include only core/"
        else if (top in rank && rank[top] > rank[layer])
            why = layer "/ may not include " top "/ (layers point down: " layers ")"
        else if (folder != "" && top == "sources" && inc ~ /^sources\/[^\/]+\// && ip[2] != folder)
            why = "a source folder may not include another (sources/" folder "/ -> sources/" ip[2] "/)"
        else if (layer == "sources" && folder == "" && inc ~ /^sources\/[^\/]+\//)
            why = "sources/*.c|h (the interface, the registry) include no source folder"
        if (why != "") {
            printf "%s:%d: includes \"%s\": %s\n", FILENAME, FNR, inc, why
            bad = 1
        }
    }
    END { exit bad }
' "${files[@]}" && rc=0 || rc=$?

for f in "${files[@]}"; do
    n=$(wc -l <"$f")
    if ((n > MAX_LINES)); then
        echo "warning: $f: $n lines (over $MAX_LINES)"
    fi
done
scripts/fn_lengths.sh "$MAX_FN" "${files[@]}" | sed "s/^/warning: function over $MAX_FN lines: /"

if ((rc)); then
    echo "check_layers: include rules broken (see above)"
    exit 1
fi
echo "check_layers: ${#files[@]} files, every include points down"
