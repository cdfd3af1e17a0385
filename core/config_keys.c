/* config_keys: the table of every config key (section, key, type, default, doc).
 * It validates files, supplies defaults, and is the reference that
 * `flowetl --help-config` prints and README.md's config section follows. */
#include "core/config_keys.h"

#include <string.h>

#define DAY 86400.0

const config_key config_key_table[] = {
    {"run", NULL, "log_level", CK_STRING, "info",
     "Log verbosity on stderr: error, warn, info or debug.", false, "error|warn|info|debug", 0, 0,
     CR_NONE},
    {"run", NULL, "progress_interval", CK_DURATION, "10s",
     "How often a long-running stream logs a progress line.", false, NULL, 1, DAY, CR_NONE},

    {"source", NULL, "account", CK_STRING, NULL,
     "Pins the source's identity (dw.dim_source.account): set it to the account the name is "
     "bound to when a change of base_url, subdomain or tenant would otherwise derive another one "
     "for the same account (a run is refused when they differ; see `flowetl rebind`).",
     false, NULL, 0, 0, CR_NONE},
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
    {"source", NULL, "error_after", CK_DURATION, NULL,
     "`flowetl status` fails (exit 1) for a stream whose last success is older than this; unset "
     "= no freshness error.",
     false, NULL, 1, 366 * DAY, CR_NONE},
    {"source", NULL, "lookback", CK_DURATION, "2h",
     "Look-back window: each incremental read starts this long before the saved cursor, to catch "
     "late writes.",
     false, NULL, 0, 366 * DAY, CR_NONE},
    {"source", NULL, "low_speed_timeout", CK_DURATION, "60s",
     "A transfer that receives no data for this long is aborted and retried.", false, NULL, 1, DAY,
     CR_NONE},
    {"source", NULL, "max_delete_fraction", CK_DOUBLE, "0.5",
     "Largest share of a stream's live rows of a table (stores, customers, categories, products, "
     "components) that one full read may mark deleted; a full read that would mark more fails "
     "its stream and marks nothing (a wrong or empty list from the API looks like a mass "
     "deletion). Set 1 for one run when the deletion is real.",
     false, NULL, 0, 1, CR_NONE},
    {"source", NULL, "max_parallel", CK_INT, "4",
     "Concurrent requests to this source (e.g. order detail calls), within the rate limit.", false,
     NULL, 1, 256, CR_NONE},
    {"source", NULL, "max_rejects", CK_INT, "100",
     "A stream that rejects more records than this fails and its open checkpoint rolls back.",
     false, NULL, 0, NO_LIMIT, CR_NONE},
    {"source", NULL, "rate_burst", CK_DOUBLE, "5",
     "Requests that may go out at once after an idle period (token bucket size).", false, NULL, 1,
     10000, CR_NONE},
    {"source", NULL, "rate_limit", CK_DOUBLE, "5", "Requests per second sent to the API at most.",
     false, NULL, 0.01, 10000, CR_NONE},
    {"source", NULL, "rate_window", CK_DURATION, "0",
     "0: rate_limit and rate_burst make a token bucket. Set (e.g. 1s, for an API that allows N "
     "requests in any sliding window): at most rate_limit x rate_window requests in any "
     "rate_window (plus a guard of 2 % or 20 ms), so idle moments do not waste the budget; "
     "rate_burst is then unused.",
     false, NULL, 0, 3600, CR_NONE},
    {"source", NULL, "request_timeout", CK_DURATION, "5m",
     "Longest one HTTP exchange may take, from connecting to the last byte of the answer (an "
     "answer that never ends stops here, and is not retried); besides low_speed_timeout.",
     false, NULL, 1, DAY, CR_NONE},
    {"source", NULL, "retries", CK_INT, "8",
     "Retries of a request that failed with 429, 5xx, a timeout or a dropped connection before "
     "its stream fails.",
     false, NULL, 0, 100, CR_NONE},
    {"source", NULL, "retry_base_ms", CK_INT, "500",
     "First retry delay in milliseconds; it doubles on each retry, with jitter.", false, NULL, 1,
     600000, CR_NONE},
    {"source", NULL, "retry_max", CK_DURATION, "60s", "Longest backoff delay between two retries.",
     false, NULL, 1, 3600, CR_NONE},
    {"source", NULL, "retry_total", CK_DURATION, "15m",
     "Longest time one request may spend on its attempts and the waits between them, "
     "Retry-After included: a server that asks for a longer wait fails the request at once, "
     "saying so.",
     false, NULL, 1, DAY, CR_NONE},
    {"source", NULL, "start_date", CK_STRING, NULL,
     "Lower bound (YYYY-MM-DD) of the first backfill; default: everything the API has.", false,
     NULL, 0, 0, CR_DATE},
    {"source", NULL, "streams", CK_LIST, NULL,
     "Comma list of the streams to read; default: all streams of the type.", false, NULL, 0, 0,
     CR_NONE},
    {"source", NULL, "timezone", CK_STRING, "UTC",
     "IANA time zone of the source's business dates, e.g. Europe/Moscow or Etc/GMT-3 (checked "
     "against the system's zone database; POSIX offsets such as UTC+3 are refused).",
     false, NULL, 0, 0, CR_TIMEZONE},
    {"source", NULL, "tls_verify", CK_BOOL, "true",
     "Verify the server's TLS certificate and host name (turn off only for test servers).", false,
     NULL, 0, 0, CR_NONE},
    {"source", NULL, "type", CK_STRING, NULL,
     "Source type: posiflora, goflow, flowwow or flowretail.", true, NULL, 0, 0, CR_NONE},

    {"source", NULL, "warn_after", CK_DURATION, NULL,
     "`flowetl status` warns (on stderr, exit 0) about a stream whose last success is older "
     "than this; unset = no freshness warning.",
     false, NULL, 1, 366 * DAY, CR_NONE},

    {"source", "flowretail", "amount_scale", CK_INT, "100",
     "Minor units per currency unit of Flow Retail amounts (prices arrive as integers, 19900 = "
     "199.00); check it with `flowetl check`.",
     false, NULL, 1, 10000, CR_NONE},
    {"source", "flowretail", "base_url", CK_STRING, "https://api.flowretail.com/v2",
     "Flow Retail API root (staging: https://api.stage.flowretail.com/v2).", false, NULL, 0, 0,
     CR_URL},
    {"source", "flowretail", "full_read_every", CK_DURATION, "1d",
     "The products stream reads the whole list (and marks deleted products) when its last full "
     "read is older than this; 0 = every run.",
     false, NULL, 0, 366 * DAY, CR_NONE},
    {"source", "flowretail", "page_size", CK_INT, "1000",
     "Records per page, 1 to 1000 (the largest size seen in use; not documented).", false, NULL, 1,
     1000, CR_NONE},
    {"source", "flowretail", "quantity_scale", CK_INT, "100",
     "API quantity units per unit of Flow Retail quantities (stock arrives in hundredths, 250 = "
     "2.5); check it with `flowetl check`.",
     false, NULL, 1, 10000, CR_NONE},
    {"source", "flowretail", "stores", CK_LIST, NULL,
     "Comma list of store uids whose prices and stock are read (categories once per store, stock "
     "filtered to them); empty = no store prices, stock of every store the token sees.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "flowretail", "tenant", CK_STRING, NULL,
     "Tenant uid (the {tenantUid} of every path); it becomes dim_source.account.", true, NULL, 0, 0,
     CR_NONE},
    {"source", "flowretail", "token", CK_SECRET, NULL,
     "Integration token of a Flow Retail API user (sent as a bearer token).", true, NULL, 0, 0,
     CR_NONE},

    {"source", "flowwow", "base_url", CK_STRING, "https://apis.flowwow.com",
     "Seller API root (note the s in apis); set it for sandboxes and proxies.", false, NULL, 0, 0,
     CR_URL},
    {"source", "flowwow", "end_date", CK_STRING, NULL,
     "Last order creation day (YYYY-MM-DD) the orders stream reads; default: today in the "
     "source's time zone (set it to replay a past window).",
     false, NULL, 0, 0, CR_DATE},
    {"source", "flowwow", "line_sum_is_total", CK_BOOL, "true",
     "An order line's `sum` is its total after discount (unit price = `cost`); false: the line "
     "total is count x `cost` less the `discount` percent.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "flowwow", "orders_page_base", CK_INT, "1",
     "Number of the first page of orders/list (0 or 1; undocumented, most clients send 1).", false,
     NULL, 0, 1, CR_NONE},
    {"source", "flowwow", "rescan_days", CK_INT, "14",
     "Each orders run reads the orders created in this many days before the last day again, "
     "because their statuses change after creation.",
     false, NULL, 0, 366, CR_NONE},
    {"source", "flowwow", "shop_statuses", CK_LIST, "active,moderation,disabled",
     "Shop statuses whose shops are listed and read (active, moderation, disabled).", false, NULL,
     0, 0, CR_NONE},
    {"source", "flowwow", "token", CK_SECRET, NULL,
     "Seller API token (Bearer), issued by Flowwow support or in the seller cabinet.", true, NULL,
     0, 0, CR_NONE},

    {"source", "goflow", "base_url", CK_STRING, NULL,
     "API root; default https://SUBDOMAIN.api.goflow.com/v1 from subdomain (one of the two is "
     "required).",
     false, NULL, 0, 0, CR_URL},
    {"source", "goflow", "beta_contact", CK_STRING, NULL,
     "E-mail address sent as X-Beta-Contact, which Goflow's beta endpoints (reports) require.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "goflow", "inventory_values", CK_BOOL, "false",
     "Also request the inventory values report (its own 6/hour budget) for inventory_value and "
     "unit_cost of the snapshot.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "goflow", "line_price_is_unit", CK_BOOL, "true",
     "The `price` charge of an order line is the unit price (false: it is the extended line "
     "amount, divided by the quantity).",
     false, NULL, 0, 0, CR_NONE},
    {"source", "goflow", "list_rate_per_minute", CK_DOUBLE, "60",
     "Budget of list, poll and download requests per minute (Goflow documents 60 per endpoint).",
     false, NULL, 1, 100000, CR_NONE},
    {"source", "goflow", "report_format", CK_STRING, "json",
     "File format requested for inventory reports: json, jsonl or csv.", false, "json|jsonl|csv", 0,
     0, CR_NONE},
    {"source", "goflow", "report_max_bytes", CK_INT, "1073741824",
     "Largest inventory report file, in bytes after decompression (1 GiB); a bigger one fails "
     "the inventory stream with nothing committed from it.",
     false, NULL, 1048576, 1e15, CR_NONE},
    {"source", "goflow", "report_max_ratio", CK_INT, "200",
     "Largest ratio of a gzip report file's decompressed size to its compressed size, judged "
     "once 8 MiB came out (a gzip bomb fails the stream in a moment, not after 1 GiB).",
     false, NULL, 2, 1000000, CR_NONE},
    {"source", "goflow", "report_poll_max", CK_DURATION, "10m",
     "How long one run waits for a report; a report still pending then is resumed by the next "
     "run.",
     false, NULL, 1, DAY, CR_NONE},
    {"source", "goflow", "report_rate_per_hour", CK_DOUBLE, "6",
     "Budget of requests per hour to each report generator (Goflow documents 6).", false, NULL, 1,
     100000, CR_NONE},
    {"source", "goflow", "rescan_days", CK_INT, "7",
     "Each orders run also re-reads the orders dated in this many days before the newest status "
     "change, since edits that keep the status do not move status_updated_at; 0 = off.",
     false, NULL, 0, 366, CR_NONE},
    {"source", "goflow", "subdomain", CK_STRING, NULL,
     "Account subdomain (SUBDOMAIN.api.goflow.com); it becomes dim_source.account.", false, NULL, 0,
     0, CR_NONE},
    {"source", "goflow", "token", CK_SECRET, NULL, "Goflow API token (sent as a bearer token).",
     true, NULL, 0, 0, CR_NONE},

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

    {"warehouse", NULL, "connect_timeout", CK_DURATION, "10s",
     "Longest wait to connect to the warehouse (also bounds a server that accepts the connection "
     "but never answers); used when the dsn sets no connect_timeout (libpq counts it in whole "
     "seconds, at least 2).",
     false, NULL, 1, 3600, CR_NONE},
    {"warehouse", NULL, "dsn", CK_STRING, "",
     "libpq connection string or URI; empty = libpq defaults (PGHOST, PGDATABASE... from the "
     "environment).",
     false, NULL, 0, 0, CR_NONE},
    {"warehouse", NULL, "lock_timeout", CK_DURATION, "5m",
     "Longest wait of a loading statement for a table lock someone else holds (e.g. an "
     "analyst's ACCESS EXCLUSIVE); the stream then fails naming the table and the blocking "
     "session.",
     false, NULL, 1, DAY, CR_NONE},
};

const size_t config_key_count = sizeof config_key_table / sizeof config_key_table[0];

/* Source types this version reads, and the ones the design plans. */
static const char *const supported_types[] = {"posiflora", "flowwow", "flowretail", "goflow"};

const config_key *config_keys(size_t *n)
{
    *n = config_key_count;
    return config_key_table;
}

const char *config_type_name(config_type t)
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
