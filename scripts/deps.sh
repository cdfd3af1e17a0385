#!/usr/bin/env bash
# deps.sh: installs the Debian packages flowetl needs to build, test and run the demo.
# A quick no-op when everything is there (dpkg-query only, no network). Otherwise it
# runs `apt-get update` once and installs what is missing: directly as root, through
# sudo when available, else it prints the command to run and exits 1.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config
    libcurl4-openssl-dev libyajl-dev libpq-dev zlib1g-dev libcunit1-dev libinih-dev
    libmicrohttpd-dev
    postgresql postgresql-client
    curl jq valgrind clang-format python3 time tzdata
    python3-prometheus-client python3-yaml # it_metrics: the metrics file's parser, the rules
    clang-14 libclang-rt-14-dev # libFuzzer: tests/fuzz (scripts/test.sh step 7)
)

installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

# postgresql-client is a metapackage: a versioned postgresql-client-N (which the
# postgresql package pulls in) gives the same psql.
satisfied() {
    installed "$1" && return 0
    if [[ $1 == postgresql-client ]]; then
        dpkg-query -W -f='${Package} ${Status}\n' 'postgresql-client-[0-9]*' 2>/dev/null |
            grep -q ' install ok installed$'
        return
    fi
    return 1
}

command -v dpkg-query >/dev/null || {
    echo "deps: this script needs a Debian-like system (dpkg, apt-get)." >&2
    echo "deps: install by hand: ${PACKAGES[*]}" >&2
    exit 1
}

missing=()
for p in "${PACKAGES[@]}"; do
    satisfied "$p" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "deps: installing ${missing[*]}" >&2
if [[ $EUID -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "deps: not root and no sudo; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y \
    -o Dpkg::Use-Pty=0 install --no-install-recommends "${missing[@]}" >/dev/null

still=()
for p in "${missing[@]}"; do
    satisfied "$p" || still+=("$p")
done
if ((${#still[@]})); then
    echo "deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}" >&2
