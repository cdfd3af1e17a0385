# shellcheck shell=bash
# lib_goflow.sh: the Goflow part of the integration harness (sourced by lib.sh).

# The Goflow streams, in the order flowetl reads them.
# shellcheck disable=SC2034 # used by the tests
GOFLOW_STREAMS=(stores warehouses products orders inventory)
GOFLOW_TOKEN=gf-demo-token

# config_section_goflow: the [source.goflow_test] section for the sandbox. The
# budgets default to values far above what a test spends; GOFLOW_LIST_RATE and
# GOFLOW_REPORT_RATE lower them (goflow_limits sets the sandbox's side).
config_section_goflow() {
    export FE_IT_GOFLOW_TOKEN=$GOFLOW_TOKEN
    echo "[source.goflow_test]"
    echo "type = goflow"
    echo "base_url = $SANDBOX_URL/goflow/v1"
    # shellcheck disable=SC2016 # a literal ${VAR} for flowetl to expand
    echo 'token = ${FE_IT_GOFLOW_TOKEN}'
    echo "beta_contact = it@example.com"
    echo "inventory_values = true"
    echo "report_format = ${GOFLOW_REPORT_FORMAT:-json}"
    echo "list_rate_per_minute = ${GOFLOW_LIST_RATE:-60000}"
    echo "report_rate_per_hour = ${GOFLOW_REPORT_RATE:-3600}"
    echo "retry_base_ms = 50"
}

# goflow_limits K=V...: the sandbox module's own switches (list_per_min,
# reports_per_hour, report_polls, expire_reports=1); prints the settings.
goflow_limits() {
    local IFS='&'
    curl -fsS -X POST "$SANDBOX_URL/goflow/_control?$*"
}

# goflow_control NAME: one value of the module's counters (GET /goflow/_control).
goflow_control() {
    curl -fsS "$SANDBOX_URL/goflow/_control" | awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# goflow_fast: lifts the sandbox's documented budgets (60/min, 6/hour) for tests
# that are not about rate limits.
goflow_fast() {
    goflow_limits list_per_min=60000 reports_per_hour=3600 report_polls=1 >/dev/null
}
