# shellcheck shell=bash
# lib_flowwow.sh: the Flowwow part of the integration harness (sourced by lib.sh).

# The Flowwow streams, in the order flowetl reads them.
# shellcheck disable=SC2034 # used by the tests
FLOWWOW_STREAMS=(shops products orders)
FLOWWOW_TOKEN=demo-flowwow-token

# config_section_flowwow: the [source.flowwow_test] section for the sandbox. The
# sandbox's orders lie in Nov-Dec 2025 and advance writes from 2026-01-01 on, so
# the window is pinned with start_date and end_date instead of today.
# FLOWWOW_PATH (e.g. /q/ignore-page) is put between the module prefix and the API.
config_section_flowwow() {
    export FE_IT_FLOWWOW_TOKEN=$FLOWWOW_TOKEN
    echo "[source.flowwow_test]"
    echo "type = flowwow"
    echo "base_url = $SANDBOX_URL/flowwow${FLOWWOW_PATH:-}"
    # shellcheck disable=SC2016 # a literal ${VAR} for flowetl to expand
    echo 'token = ${FE_IT_FLOWWOW_TOKEN}'
    echo "timezone = Europe/Moscow"
    echo "start_date = 2025-11-01"
    echo "end_date = 2026-01-05"
}
