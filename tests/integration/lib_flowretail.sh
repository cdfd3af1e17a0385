# shellcheck shell=bash
# lib_flowretail.sh: the Flow Retail part of the integration harness (sourced by
# lib.sh). config_section_flowretail prints the [source.flowretail_test] section
# for the sandbox; the token comes from the environment so ${VAR} expansion is
# exercised. FR_STORES (default: the sandbox's three stores) sets `stores`;
# FR_TENANT (default demo; demo-major serves money in major units) the tenant.

FLOWRETAIL_TOKEN=demo-flowretail-token
# shellcheck disable=SC2034 # used by the tests
FLOWRETAIL_STREAMS=(products categories packages stock)

config_section_flowretail() {
    export FE_IT_FR_TOKEN=$FLOWRETAIL_TOKEN
    echo "[source.flowretail_test]"
    echo "type = flowretail"
    echo "base_url = $SANDBOX_URL/flowretail/v2"
    echo "tenant = ${FR_TENANT:-demo}"
    # shellcheck disable=SC2016 # a literal ${VAR} for flowetl to expand
    echo 'token = ${FE_IT_FR_TOKEN}'
    echo "timezone = Europe/Oslo"
    echo "stores = ${FR_STORES:-store-oslo, store-bergen, store-trondheim}"
}
