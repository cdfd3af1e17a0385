#!/usr/bin/env bash
# Flow Retail page sizes: every list asks for page_size (default 1000, the largest
# size seen in use). A server that silently serves fewer items a page than asked
# (the sandbox fault fr_page_cap=N; with fr_page_cap_echo=1 paging.pageSize even
# repeats the size asked) is adapted to: the short page is not taken for the end,
# pages of the served size follow (page 1 read once more at that size only when
# paging.pageSize hides the cap), the load stays exact. `flowetl check` shows the page size chosen and its evidence. Prints the
# requests per 1,000 records of each stream (README, "Flow Retail").
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2119
source "$(dirname "$0")/lib.sh"

SYSTEMS=flowretail
SOURCE=flowretail_test

pg_start
sandbox_start --scale 1
write_config

flowetl init
assert_exit 0 "init exits 0"

# per_stream: "stream requests records per-1000" lines of the last run.
per_stream() {
    sql "select rs.stream || ' ' || rs.requests || ' ' || rs.records || ' ' ||
                round(1000.0 * rs.requests / greatest(rs.records, 1), 1)
           from etl.run_stream rs where rs.run_id = (select max(run_id) from etl.run)
          order by rs.stream"
}

products=$(curl -fsS -H "Authorization: Bearer $FLOWRETAIL_TOKEN" \
    "$SANDBOX_URL/flowretail/v2/tenants/demo/products?pageSize=1" |
    sed -n 's/.*"totalCount":\([0-9]*\).*/\1/p')
assert_gt "$products" 300 "the sandbox serves more products than the caps below"

# 1. No cap: one page of products (all fit in 1000).
flowetl run
assert_exit 0 "full run (no cap) exits 0"
assert_truth_matches "full load (no cap) matches the truth"
assert_eq 1 "$(stream_stat "$SOURCE.products" requests)" "products: one request for the whole list"
note "no cap (stream requests records per-1000):"
while read -r line; do note "  $line"; done < <(per_stream)

flowetl check
assert_exit 0 "check exits 0"
assert_stdout_contains "lists: pageSize 1000 (probed: all $products products fit on page 1" \
    "check shows the page size probed: no cap could show"

# 2. A silent cap the server reports in paging.pageSize.
sandbox_faults "fr_page_cap=150"
flowetl run --full-refresh
assert_exit 0 "full run (cap 150, reported) exits 0"
assert_truth_matches "full load under a reported cap matches the truth"
pages=$(((products + 149) / 150))
assert_eq "$pages" "$(stream_stat "$SOURCE.products" requests)" \
    "products: ceil($products / 150) requests, page 1 not read twice"
assert_stderr_contains "served 150 items a page of the 1000 asked" "the cap is logged"

# 3. A silent cap that repeats the size asked in paging.pageSize (the old reader
#    refused page 1 as a page that lost items).
sandbox_faults "fr_page_cap=150&fr_page_cap_echo=1"
flowetl run --full-refresh
assert_exit 0 "full run (cap 150, pageSize echoed) exits 0"
assert_truth_matches "full load under an unreported cap matches the truth"
assert_eq $((pages + 1)) "$(stream_stat "$SOURCE.products" requests)" \
    "products: ceil($products / 150) requests and page 1 once more at 150 (confirms the cap)"
assert_eq 0 "$(stream_stat "$SOURCE.products" retries)" "no page was retried"
note "cap 150 (stream requests records per-1000):"
while read -r line; do note "  $line"; done < <(per_stream)

flowetl check
assert_exit 0 "check under the cap exits 0"
assert_stdout_contains "lists: pageSize 150 (probed: products page 1 served 150 of the 1000 asked" \
    "check shows the cap adapted to"

# 4. A configured page size below the cap is kept as asked.
sandbox_faults ""
write_config "page_size = 100"
flowetl run --full-refresh
assert_exit 0 "full run (page_size 100) exits 0"
assert_truth_matches "full load at page_size 100 matches the truth"
assert_eq $(((products + 99) / 100)) "$(stream_stat "$SOURCE.products" requests)" \
    "products: pages of the configured 100"

finish
