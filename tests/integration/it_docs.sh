#!/usr/bin/env bash
# it_docs.sh: README.md's config reference is exactly the binary's key table, so
# every key the parser accepts is documented and no documented key is stale.
set -euo pipefail
: "${FLOWETL_BIN:?}" "${SOURCE_DIR:?}"
readme=$SOURCE_DIR/README.md
documented=$(sed -n '/<!-- config-keys -->/,/<!-- \/config-keys -->/p' "$readme" | sed '1d;$d')
generated=$("$FLOWETL_BIN" --help-config=markdown)
if [[ "$documented" == "$generated" ]]; then
    echo "ok - README config reference matches the key table ($(grep -c '^| `' <<<"$generated") keys)"
else
    echo "not ok - README config reference differs from 'flowetl --help-config=markdown':"
    diff <(echo "$documented") <(echo "$generated") || true
    echo "regenerate it between the <!-- config-keys --> markers"
    exit 1
fi
