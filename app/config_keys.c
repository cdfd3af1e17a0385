/* config_keys: the table of every config key (section, key, type, default, doc).
 * It validates files, supplies defaults, and is the reference that
 * `flowetl --help-config` prints and README.md's config section follows. */
#include "config_keys.h"

#include <string.h>

#define DAY 86400.0

const conf_key config_key_table[] = {
    {"run", NULL, "log_level", CK_STRING, "info",
     "Log verbosity on stderr: error, warn, info or debug.", false, "error|warn|info|debug", 0, 0,
     CR_NONE},
    {"run", NULL, "progress_interval", CK_DURATION, "10s",
     "How often a long-running stream logs a progress line.", false, NULL, 1, DAY, CR_NONE},

    {"source", NULL, "base_url", CK_STRING, NULL,
     "API root URL; its default depends on the type (see the type's own base_url); set it for "
     "sandboxes, proxies and tests.",
     false, NULL, 0, 0, CR_URL},
    {"source", NULL, "ca_file", CK_STRING, NULL,
     "CA bundle (PEM file) to verify the server's certificate with instead of the system store.",
     false, NULL, 0, 0, CR_NONE},
    {"source", NULL, "checkpoint_records", CK_INT, "5000",
     "Records per checkpoint (one committed transaction) on incremental streams.", false, NULL, 1,
     NO_LIMIT, CR_NONE},
    {"source", NULL, "connect_timeout", CK_DURATION, "10s",
     "Time allowed to establish a connection to the API.", false, NULL, 1, 3600, CR_NONE},
    {"source", NULL, "lookback", CK_DURATION, "2h",
     "Look-back window: each incremental read starts this long before the saved cursor, to catch "
     "late writes.",
     false, NULL, 0, 366 * DAY, CR_NONE},
    {"source", NULL, "low_speed_timeout", CK_DURATION, "60s",
     "A transfer that receives no data for this long is aborted and retried.", false, NULL, 1, DAY,
     CR_NONE},
    {"source", NULL, "max_parallel", CK_INT, "4",
     "Concurrent requests to this source (e.g. order detail calls), within the rate limit.", false,
     NULL, 1, 64, CR_NONE},
    {"source", NULL, "max_rejects", CK_INT, "100",
     "A stream that rejects more records than this fails and its open checkpoint rolls back.",
     false, NULL, 0, NO_LIMIT, CR_NONE},
    {"source", NULL, "rate_burst", CK_DOUBLE, "5",
     "Requests that may go out at once after an idle period (token bucket size).", false, NULL, 1,
     10000, CR_NONE},
    {"source", NULL, "rate_limit", CK_DOUBLE, "5", "Requests per second sent to the API at most.",
     false, NULL, 0.01, 10000, CR_NONE},
    {"source", NULL, "retries", CK_INT, "8",
     "Retries of a request that failed with 429, 5xx, a timeout or a dropped connection before "
     "its stream fails.",
     false, NULL, 0, 100, CR_NONE},
    {"source", NULL, "retry_base_ms", CK_INT, "500",
     "First retry delay in milliseconds; it doubles on each retry, with jitter.", false, NULL, 1,
     600000, CR_NONE},
    {"source", NULL, "retry_max", CK_DURATION, "60s", "Longest backoff delay between two retries.",
     false, NULL, 1, 3600, CR_NONE},
    {"source", NULL, "start_date", CK_STRING, NULL,
     "Lower bound (YYYY-MM-DD) of the first backfill; default: everything the API has.", false,
     NULL, 0, 0, CR_DATE},
    {"source", NULL, "streams", CK_LIST, NULL,
     "Comma list of the streams to read; default: all streams of the type.", false, NULL, 0, 0,
     CR_NONE},
    {"source", NULL, "timezone", CK_STRING, "UTC",
     "IANA time zone of the source's business dates, e.g. Europe/Moscow.", false, NULL, 0, 0,
     CR_TIMEZONE},
    {"source", NULL, "tls_verify", CK_BOOL, "true",
     "Verify the server's TLS certificate and host name (turn off only for test servers).", false,
     NULL, 0, 0, CR_NONE},
    {"source", NULL, "type", CK_STRING, NULL,
     "Source type: posiflora (goflow, flowwow and flowretail are not supported yet).", true, NULL,
     0, 0, CR_NONE},

    {"source", "posiflora", "base_url", CK_STRING, NULL,
     "Account API root, e.g. https://myshop.posiflora.com/api; required because every Posiflora "
     "account has its own host.",
     true, NULL, 0, 0, CR_URL},
    {"source", "posiflora", "currency", CK_STRING, "RUB",
     "ISO 4217 code stored with every amount (Posiflora sends no currency).", false, NULL, 0, 0,
     CR_CURRENCY},
    {"source", "posiflora", "orders_cursor_field", CK_STRING, "updatedAt",
     "Order timestamp the incremental orders read filters and sorts on: updatedAt or modifiedAt.",
     false, "updatedAt|modifiedAt", 0, 0, CR_NONE},
    {"source", "posiflora", "orders_sort", CK_BOOL, "true",
     "Send sort=<cursor field> and read orders by keyset paging: no order is skipped when "
     "orders change during the read, and checkpoints are committed as it goes. false: page "
     "numbers in the server's order, one checkpoint at the end.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "posiflora", "page_size", CK_INT, "100",
     "Records per page, 1 to 100 (the API answers 422 to more).", false, NULL, 1, 100, CR_NONE},
    {"source", "posiflora", "password", CK_SECRET, NULL, "Password of the Posiflora API user.",
     true, NULL, 0, 0, CR_NONE},
    {"source", "posiflora", "refresh_margin", CK_DURATION, "60s",
     "Refresh the session this long before its access token expires.", false, NULL, 0, DAY,
     CR_NONE},
    {"source", "posiflora", "username", CK_STRING, NULL, "Posiflora API user name.", true, NULL, 0,
     0, CR_NONE},

    {"warehouse", NULL, "dsn", CK_STRING, "",
     "libpq connection string or URI; empty = libpq defaults (PGHOST, PGDATABASE... from the "
     "environment).",
     false, NULL, 0, 0, CR_NONE},
};

const size_t config_key_count = sizeof config_key_table / sizeof config_key_table[0];

/* Source types this version reads, and the ones the design plans. */
static const char *const supported_types[] = {"posiflora"};
static const char *const planned_types[] = {"goflow", "flowwow", "flowretail"};

const conf_key *config_keys(size_t *n)
{
    *n = config_key_count;
    return config_key_table;
}

const char *conf_type_name(conf_type t)
{
    switch (t) {
    case CK_STRING:
        return "string";
    case CK_SECRET:
        return "secret";
    case CK_INT:
        return "int";
    case CK_DOUBLE:
        return "number";
    case CK_BOOL:
        return "bool";
    case CK_DURATION:
        return "duration";
    case CK_LIST:
        return "list";
    }
    return "?";
}

static bool in_names(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

bool config_type_supported(const char *type)
{
    return in_names(type, supported_types, sizeof supported_types / sizeof supported_types[0]);
}

bool config_type_planned(const char *type)
{
    return in_names(type, planned_types, sizeof planned_types / sizeof planned_types[0]);
}
