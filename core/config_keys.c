/* config_keys: the keys of every type (section, key, type, default, doc): [run],
 * [warehouse] and the [source.NAME] keys every source type has. Each source type adds
 * its own keys (config_source_type, in its folder). Together they validate files, supply
 * defaults, and are what `flowetl --help-config` prints and README.md's config section
 * follows. */
#include "core/config_keys.h"

#include "core/buf.h"

#include <stdio.h>
#include <string.h>

/* Sorted by section, then key. */
static const config_key common_keys[] = {
    {"run", "log_format", CK_STRING, "text",
     "Log line format on stderr: text (for people) or json (one JSON object per line, for log "
     "collectors); the --log-format option wins.",
     false, "text|json", 0, 0, CR_NONE},
    {"run", "log_level", CK_STRING, "info", "Log verbosity on stderr: error, warn, info or debug.",
     false, "error|warn|info|debug", 0, 0, CR_NONE},
    {"run", "max_sources", CK_INT, "8",
     "Sources loaded at once: a pool of this many worker threads takes the selected sources in "
     "config order, each thread the next source when its own is done (--max-sources wins). The "
     "run's warehouse sessions are then at most max_sources + 1 (its own) while the sources "
     "queue (more selected sources than max_sources), since an automatic stream_parallel (0) "
     "is then 1; an explicit stream_parallel > 1 adds its threads' sessions.",
     false, NULL, 1, 256, CR_NONE},
    {"run", "metrics_file", CK_STRING, NULL,
     "Prometheus metrics of each run, written (atomically) at its end for node_exporter's "
     "textfile collector, e.g. /var/lib/prometheus/node-exporter/flowetl.prom; empty: none. A "
     "file that cannot be written is a warning, not a failed run (README \"Metrics\").",
     false, NULL, 0, 0, CR_NONE},
    {"run", "progress", CK_STRING, "auto",
     "Live progress lines (records, rate, ETA) redrawn in place on stderr: auto (only when "
     "stderr is a terminal and log_format is text), always or never. Without them, progress is "
     "logged every progress_interval.",
     false, "auto|always|never", 0, 0, CR_NONE},
    {"run", "progress_interval", CK_DURATION, "10s",
     "How often a long-running stream logs a progress line.", false, NULL, 1, CONFIG_DAY, CR_NONE},
    {"source", "account", CK_STRING, NULL,
     "Pins the source's identity (dw.dim_source.account): set it to the account the name is "
     "bound to when a change of base_url, subdomain or tenant would otherwise derive another one "
     "for the same account (a run is refused when they differ; see `flowetl rebind`).",
     false, NULL, 0, 0, CR_NONE},
    {"source", "base_url", CK_STRING, NULL,
     "API root URL; its default depends on the type (see the type's own base_url); set it for "
     "sandboxes, proxies and tests.",
     false, NULL, 0, 0, CR_URL},
    {"source", "ca_file", CK_STRING, NULL,
     "CA bundle (PEM file) to verify the server's certificate with instead of the system store.",
     false, NULL, 0, 0, CR_NONE},
    {"source", "checkpoint_records", CK_INT, "5000",
     "Records per checkpoint (one committed transaction) on incremental streams.", false, NULL, 1,
     CONFIG_NO_LIMIT, CR_NONE},
    {"source", "connect_timeout", CK_DURATION, "10s",
     "Time allowed to establish a connection to the API.", false, NULL, 1, 3600, CR_NONE},
    {"source", "error_after", CK_DURATION, NULL,
     "`flowetl status` fails (exit 1) for a stream whose last success is older than this; unset "
     "= no freshness error.",
     false, NULL, 1, 366 * CONFIG_DAY, CR_NONE},
    {"source", "lookback", CK_DURATION, "2h",
     "Look-back window: each incremental read starts this long before the saved cursor, to catch "
     "late writes.",
     false, NULL, 0, 366 * CONFIG_DAY, CR_NONE},
    {"source", "low_speed_timeout", CK_DURATION, "60s",
     "A transfer that receives no data for this long is aborted and retried.", false, NULL, 1,
     CONFIG_DAY, CR_NONE},
    {"source", "max_delete_fraction", CK_DOUBLE, "0.5",
     "Largest share of a stream's live rows of a table (stores, customers, categories, products, "
     "components) that one full read may mark deleted; a full read that would mark more fails "
     "its stream and marks nothing (a wrong or empty list from the API looks like a mass "
     "deletion). Set 1 for one run when the deletion is real.",
     false, NULL, 0, 1, CR_NONE},
    {"source", "max_parallel", CK_INT, "4",
     "Concurrent requests to this source (e.g. order detail calls), within the rate limit.", false,
     NULL, 1, 256, CR_NONE},
    {"source", "max_rejects", CK_INT, "100",
     "A stream that rejects more records than this fails and its open checkpoint rolls back.",
     false, NULL, 0, CONFIG_NO_LIMIT, CR_NONE},
    {"source", "rate_burst", CK_DOUBLE, "5",
     "Requests that may go out at once after an idle period (token bucket size).", false, NULL, 1,
     10000, CR_NONE},
    {"source", "rate_limit", CK_DOUBLE, "5", "Requests per second sent to the API at most.", false,
     NULL, 0.01, 10000, CR_NONE},
    {"source", "rate_window", CK_DURATION, "0",
     "0: rate_limit and rate_burst make a token bucket. Set (e.g. 1s, for an API that allows N "
     "requests in any sliding window): at most rate_limit x rate_window requests in any "
     "rate_window (plus a guard of 2 % or 20 ms), so idle moments do not waste the budget; "
     "rate_burst is then unused.",
     false, NULL, 0, 3600, CR_NONE},
    {"source", "request_timeout", CK_DURATION, "5m",
     "Longest one HTTP exchange may take, from connecting to the last byte of the answer (an "
     "answer that never ends stops here, and is not retried); besides low_speed_timeout.",
     false, NULL, 1, CONFIG_DAY, CR_NONE},
    {"source", "retries", CK_INT, "8",
     "Retries of a request that failed with 429, 5xx, a timeout or a dropped connection before "
     "its stream fails.",
     false, NULL, 0, 100, CR_NONE},
    {"source", "retry_base_ms", CK_INT, "500",
     "First retry delay in milliseconds; it doubles on each retry, with jitter.", false, NULL, 1,
     600000, CR_NONE},
    {"source", "retry_max", CK_DURATION, "60s", "Longest backoff delay between two retries.", false,
     NULL, 1, 3600, CR_NONE},
    {"source", "retry_total", CK_DURATION, "15m",
     "Longest time one request may spend on its attempts and the waits between them, "
     "Retry-After included: a server that asks for a longer wait fails the request at once, "
     "saying so.",
     false, NULL, 1, CONFIG_DAY, CR_NONE},
    {"source", "start_date", CK_STRING, NULL,
     "Lower bound (YYYY-MM-DD) of the first backfill; default: everything the API has.", false,
     NULL, 0, 0, CR_DATE},
    {"source", "stream_parallel", CK_INT, "0",
     "Streams of this source read at once, each on its own thread with its own warehouse "
     "connection and HTTP client, all within the source's one rate limit (at most the source's "
     "streams, at most 8). 0: automatic, 4 where the source's session is safe to share "
     "between threads (Goflow, Flowwow), 1 where it is not (Posiflora's token refresh, Flow "
     "Retail's last status), since each extra thread would open its own session: one more "
     "request per thread and run. 1 reads the streams one after another. 4 lets the long orders "
     "stream overlap the dimension streams without holding many connections. Automatic is 1 "
     "for every source when the run's sources queue ([run] max_sources).",
     false, NULL, 0, 8, CR_NONE},
    {"source", "streams", CK_LIST, NULL,
     "Comma list of the streams to read; default: all streams of the type.", false, NULL, 0, 0,
     CR_NONE},
    {"source", "timezone", CK_STRING, "UTC",
     "IANA time zone of the source's business dates, e.g. Europe/Moscow or Etc/GMT-3 (checked "
     "against the system's zone database; POSIX offsets such as UTC+3 are refused).",
     false, NULL, 0, 0, CR_TIMEZONE},
    {"source", "tls_verify", CK_BOOL, "true",
     "Verify the server's TLS certificate and host name (turn off only for test servers).", false,
     NULL, 0, 0, CR_NONE},
    {"source", "type", CK_STRING, NULL, NULL /* config_schema_each names the types */, true, NULL,
     0, 0, CR_NONE},
    {"source", "verify", CK_STRING, "warn",
     "After each stream commits, compare the warehouse with the source's own totals for the "
     "window the run covered (README, \"Verification\"): off, warn (a mismatch is a warning "
     "line) or fail (a mismatch makes the run exit 5).",
     false, "off|warn|fail", 0, 0, CR_NONE},
    {"source", "verify_tolerance", CK_DOUBLE, "0",
     "Records (for counts) or money units (for revenue) a verification may find apart before it "
     "counts as a mismatch.",
     false, NULL, 0, CONFIG_NO_LIMIT, CR_NONE},
    {"source", "warn_after", CK_DURATION, NULL,
     "`flowetl status` warns (on stderr, exit 0) about a stream whose last success is older "
     "than this; unset = no freshness warning.",
     false, NULL, 1, 366 * CONFIG_DAY, CR_NONE},
    {"warehouse", "connect_timeout", CK_DURATION, "10s",
     "Longest wait to connect to the warehouse (also bounds a server that accepts the connection "
     "but never answers); used when the dsn sets no connect_timeout (libpq counts it in whole "
     "seconds, at least 2).",
     false, NULL, 1, 3600, CR_NONE},
    {"warehouse", "dsn", CK_STRING, "",
     "libpq connection string or URI; empty = libpq defaults (PGHOST, PGDATABASE... from the "
     "environment).",
     false, NULL, 0, 0, CR_NONE},
    {"warehouse", "layout", CK_STRING, "auto",
     "Warehouse layout `flowetl init` makes: auto (citus when the citus extension is installed "
     "in the database, else single), single (plain PostgreSQL tables, also on a Citus "
     "coordinator) or citus (the per-source tables distributed by source_key; refused without "
     "the extension). A warehouse once distributed stays so (README \"Scaling out\").",
     false, "auto|single|citus", 0, 0, CR_NONE},
    {"warehouse", "lock_timeout", CK_DURATION, "5m",
     "Longest wait of a loading statement for a table lock someone else holds (e.g. an "
     "analyst's ACCESS EXCLUSIVE); the stream then fails naming the table and the blocking "
     "session.",
     false, NULL, 1, CONFIG_DAY, CR_NONE},
};

static const size_t ncommon = sizeof common_keys / sizeof common_keys[0];

const config_key *config_key_find(const config_source_type *type, const char *section,
                                  const char *key)
{
    if (type && buf_str_eq(section, "source")) {
        for (size_t i = 0; i < type->nkeys; i++)
            if (buf_str_eq(type->keys[i].key, key))
                return &type->keys[i];
    }
    for (size_t i = 0; i < ncommon; i++)
        if (buf_str_eq(common_keys[i].section, section) && buf_str_eq(common_keys[i].key, key))
            return &common_keys[i];
    return NULL;
}

const config_key *config_key_at(const config_source_type *type, size_t i)
{
    size_t own = type ? type->nkeys : 0;
    if (i < own)
        return &type->keys[i];
    return i - own < ncommon ? &common_keys[i - own] : NULL;
}

const config_source_type *config_schema_type(const config_schema *schema, const char *name)
{
    for (size_t i = 0; name && i < schema->ntypes; i++)
        if (buf_str_eq(schema->types[i]->name, name))
            return schema->types[i];
    return NULL;
}

void config_type_list(const config_schema *schema, const char *last_sep, char *dst, size_t n)
{
    size_t len = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < schema->ntypes && len < n; i++) {
        const char *sep = i == 0 ? "" : i + 1 == schema->ntypes ? last_sep : ", ";
        int w = snprintf(dst + len, n - len, "%s%s", sep, schema->types[i]->name);
        if (w < 0)
            return;
        len += (size_t)w;
    }
}

/* The type whose name comes next after prev (NULL: the first) in alphabetical order. */
static const config_source_type *next_type(const config_schema *schema, const char *prev)
{
    const config_source_type *best = NULL;
    for (size_t i = 0; i < schema->ntypes; i++) {
        const char *name = schema->types[i]->name;
        if ((!prev || strcmp(name, prev) > 0) && (!best || strcmp(name, best->name) < 0))
            best = schema->types[i];
    }
    return best;
}

static void each_type_key(const config_schema *schema, void (*fn)(const config_key_info *, void *),
                          void *ctx)
{
    for (const config_source_type *t = next_type(schema, NULL); t; t = next_type(schema, t->name))
        for (size_t k = 0; k < t->nkeys; k++)
            fn(&(config_key_info){&t->keys[k], t->name, t->keys[k].doc}, ctx);
}

void config_schema_each(const config_schema *schema, void (*fn)(const config_key_info *, void *),
                        void *ctx)
{
    char types[512], type_doc[600];
    config_type_list(schema, " or ", types, sizeof types);
    snprintf(type_doc, sizeof type_doc, "Source type: %s.", types);
    for (size_t i = 0; i < ncommon; i++) {
        const config_key *k = &common_keys[i];
        bool source = buf_str_eq(k->section, "source");
        if (source)
            fn(&(config_key_info){k, NULL, buf_str_eq(k->key, "type") ? type_doc : k->doc}, ctx);
        else
            fn(&(config_key_info){k, NULL, k->doc}, ctx);
        bool last_source =
            source && (i + 1 == ncommon || !buf_str_eq(common_keys[i + 1].section, "source"));
        if (last_source)
            each_type_key(schema, fn, ctx);
    }
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
