/* source: the shape every source module has. A module exports one source_def,
 * NAME_source in sources/NAME/NAME.c: its type name and config keys, its streams
 * table, an open/close pair for per-run state (e.g. a session), and a check that
 * reports what it sees of an account. A newcomer adds a fifth source by copying a
 * sibling's folder (CMake picks up every .c file of sources/NAME/) and adding one line to
 * sources/registry.c. */
#ifndef FE_SOURCE_H
#define FE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"
#include "core/stop.h"
#include "load/loader.h"
#include "load/reconcile.h"
#include "extract/http.h"
#include "extract/json_stream.h"
#include "extract/ratelimit.h"

/* `run --from DATE [--to DATE]`: the window a date-windowed stream reads instead of
 * its cursor's range. Days are the source's own (its `timezone`); the instants are
 * where they start in UTC. */
typedef struct {
    char from[11], to[11]; /* "YYYY-MM-DD", to inclusive */
    int64_t from_us;       /* local midnight starting `from`, UTC microseconds */
    int64_t end_us;        /* local midnight after `to` (exclusive) */
} stream_window;

/* What a stream's run function gets. Everything is owned by the runner. */
typedef struct {
    const source_config *conf;
    const char *stream; /* e.g. "orders" */
    const char *logctx; /* "NAME.stream", for log lines */
    int source_key;
    int64_t run_id;
    bool full_refresh;  /* a full read: cursor is NULL, whatever is stored */
    const char *cursor; /* JSON text from etl.sync_state, NULL on a first run */
    /* run --from/--to (NULL: none). Given only to a stream whose def has a window.
     * The stream reads that window, with cursor still the stored one, and writes
     * a cursor only to move it forward from a stored one the window covers
     * (window->from_us <= stored): never backwards, never past a gap, never a
     * first cursor (stream_window_advances). */
    const stream_window *window;
    loader *ld;
    http_client *http;
    stream_stats *stats;
    void *state;               /* the source's per-run state from open() */
    long max_rejects;          /* more rejected records than this fail the stream */
    int64_t started_us;        /* monotonic start of the stream */
    int64_t progress_every_us; /* periodic progress log lines; 0 = none */
    int64_t last_progress_us;
    /* Live progress (may be NULL): called by stream_progress at most every
     * live_every_us with the stream's stats. */
    void (*on_progress)(void *user, const stream_stats *stats);
    void *progress_user;
    int64_t live_every_us;
    int64_t last_live_us;
    const fe_stop *stop; /* the run's stop flag (NULL: never stopped) */
} stream_ctx;

/* FE_EINTR ("stopped by SIGTERM") once the run was asked to stop, else FE_OK. A
 * stream calls it between pages so that it sends no new request after a
 * signal; stream_checkpoint calls it before committing, so a stopped stream's
 * open checkpoint is rolled back whole, never committed in part. */
fe_rc stream_stop_check(const stream_ctx *ctx, fe_err *err) FE_MUST_CHECK;

/* Logs "NAME.stream: N pages, N records, N rec/s" (an event "progress", with
 * expected and eta_s when the API reported a count) when progress_every_us has
 * passed since the last such line, and calls on_progress when live_every_us has.
 * Cheap to call per record. */
void stream_progress(stream_ctx *ctx);

/* Records a record that could not be mapped in etl.reject (through the loader, in
 * the open checkpoint) and counts it. The raw text is `raw` when given, else the
 * fields of rec when given (a mapping that outlives its records passes raw).
 * record_id may be NULL. Returns FE_EREJECTS once the count passes max_rejects:
 * the stream must then fail. */
fe_rc stream_reject(stream_ctx *ctx, const json_rec *rec, const char *raw, const char *record_id,
                    const char *reason, fe_err *err) FE_MUST_CHECK;

/* stream_reject for a record its mapping refused: the reason is err->msg (what the
 * mapping said), the record_id the id at id_path when field_id accepts it, else
 * none (an id cut at a NUL could name another record). */
fe_rc stream_reject_mapped(stream_ctx *ctx, const json_rec *rec, const char *id_path,
                           fe_err *err) FE_MUST_CHECK;

/* Writes {"read_at":"<now, ISO 8601 UTC>"} into dst and returns it: the cursor of a
 * full read, which keeps no position, only when it ran. size >= 64. */
const char *stream_read_at_cursor(char *dst, size_t size);

/* Commits the stream's checkpoint with c. Mid-stream (again) the commit is only
 * sent (loader_commit_send): the next pages are fetched while the server merges,
 * and the next checkpoint is open. The last one (!again) is waited for. Once the
 * run is asked to stop, nothing is committed: FE_EINTR (stream_stop_check). */
fe_rc stream_checkpoint(stream_ctx *ctx, const load_commit *c, bool again,
                        fe_err *err) FE_MUST_CHECK;

/* Runs one stream to the end: its own checkpoints (loader_begin/put/commit).
 * On failure returns non-FE_OK with err filled; the runner rolls back. */
typedef fe_rc (*stream_run_fn)(stream_ctx *ctx, fe_err *err);

/* What a cursor key holds: an ISO 8601 date-time, a date (YYYY-MM-DD), an integer,
 * a JSON object (a nested document the stream owns). */
typedef enum { CURSOR_TIME, CURSOR_DATE, CURSOR_INT, CURSOR_OBJECT } cursor_kind;

typedef struct {
    const char *key;
    cursor_kind kind;
    const char *meaning; /* one phrase, for `flowetl state show` */
} cursor_field;

/* The shape of the cursor a stream writes: a JSON object whose keys are among
 * fields (at least one of them), and what it means as a whole. */
typedef struct {
    const char *meaning;
    const cursor_field *fields;
    int nfields;
} cursor_spec;

/* The cursor of a stream that reads everything each run ({"read_at": ...}). */
extern const cursor_spec stream_cursor_read_at;

typedef struct {
    const char *name;
    stream_run_fn run;
    const cursor_spec *cursor; /* the cursor it writes (NULL: stream_cursor_read_at) */
    /* What `run --from/--to` reads for this stream, e.g. "orders by updatedAt";
     * NULL: the stream has no date window (it is skipped by such a run). */
    const char *window;
} stream_def;

/* stream must start after `after` has ended (source_def.deps). */
typedef struct {
    const char *stream, *after;
} stream_dep;

/* The cursor spec of s (never NULL). */
const cursor_spec *stream_cursor_spec(const stream_def *s);

/* FE_OK when cursor (JSON text) has the shape s writes: an object, every key one
 * of its fields, at least one, each value of its field's kind. Else FE_EINVAL,
 * err saying what is wrong and the expected shape (stream_cursor_shape). */
fe_rc stream_cursor_check(const stream_def *s, const char *cursor, fe_err *err) FE_MUST_CHECK;

/* The expected shape of s's cursor as text, e.g.
 * {"updatedAt": "<date-time>"} | {"modifiedAt": "<date-time>"}... appended to out. */
bool stream_cursor_shape(const stream_def *s, buf *out);

/* For a window run (see stream_ctx.window): true when the stream may write a
 * cursor at reached (UTC microseconds) given stored, the stored cursor's position
 * (INT64_MIN: none): stored exists, the window started at or before it, and
 * reached is past it. */
bool stream_window_advances(const stream_window *w, int64_t stored, int64_t reached);

/* --- verification (issue 13: `flowetl verify`, and after each stream of run) ---
 * A source publishes figures about its lists (a count per list and window, per
 * store and day, money where it sums it); app/verify.c compares each with the
 * same figure of the warehouse (load/reconcile) and narrows a difference down to
 * the ids. A source's verify_def callbacks read through its own pagers with the
 * smallest pages the API allows, reading only the totals where it can. */
typedef struct verify_query verify_query;
struct verify_query {
    const source_config *conf;
    http_client *http;
    void *state;           /* the source's per-run state from open() */
    stream_stats *stats;   /* requests count here; may be NULL */
    const char *from, *to; /* days YYYY-MM-DD inclusive (the source's business days or
                              UTC days, as the def's basis says); NULL: the whole list */
    const char *store_id;  /* NULL: every store (figures may still come per store) */
    bool counts_only;      /* narrowing: only the count figures are wanted */
    /* Set by the caller. figure: one published figure (scope's from/to/store_id
     * say what it covers; value is decimal text). id: one record of the window
     * (text: the canonical text of its mapped row for deep, else NULL). */
    fe_rc (*figure)(verify_query *q, const rc_scope *scope, const char *value, fe_err *err);
    fe_rc (*id)(verify_query *q, const char *id, const char *text, fe_err *err);
    void *user;
};

/* A row_sink for deep verification: the order row a mapping hands over becomes
 * its canonical text (reconcile_order_text) and goes to q->id; every other row is
 * dropped. Built by verify_order_sink over a verify_capture the caller owns. */
typedef struct {
    verify_query *q;
    fe_rc last; /* the last q->id answer */
} verify_capture;
row_sink verify_order_sink(verify_capture *c);

/* A day YYYY-MM-DD plus delta days into dst (11 bytes); false when not a date. */
bool verify_day_add(const char *day, long delta, char *dst);

typedef struct {
    const char *stream;
    rc_entity entity;
    rc_basis basis;         /* which day a window cuts on (RC_BY_NONE: no window) */
    const char *store_kind; /* the dim_store kind of the store ids it names */
    /* Figures of the window: calls q->figure for each. */
    fe_rc (*figures)(verify_query *q, fe_err *err);
    /* The ids of the window (of q->store_id when set): calls q->id for each. */
    fe_rc (*ids)(verify_query *q, fe_err *err);
    /* Deep: re-reads the window through the stream's reader and mapper and calls
     * q->id with each order's canonical text (reconcile_order_text). NULL: none. */
    fe_rc (*deep)(verify_query *q, fe_err *err);
    /* After run: 0 = the figures of the whole list (a source whose list total is one
     * request), else the last run_days days. */
    int run_days;
} verify_def;

typedef struct {
    /* The config `type` value (type.name) and the source's own [source.NAME] keys,
     * besides the keys of every type (core/config_keys.c). */
    config_source_type type;
    const stream_def *streams;
    int nstreams;
    /* Base URL after defaults (e.g. from subdomain); written into out. */
    fe_rc (*base_url)(const source_config *conf, buf *out, fe_err *err);
    /* dim_source.account (subdomain, tenant...) into out; NULL: the host (with
     * ":port" when the URL names one) of base_url. Read it with source_account. */
    fe_rc (*account)(const source_config *conf, buf *out, fe_err *err);
    /* The keys base_url and account read besides `account` and `base_url` (e.g.
     * "subdomain"), NULL-terminated; NULL: none. `flowetl rebind` expands only
     * these, so it runs without the source's secrets. */
    const char *const *identity_keys;
    /* Requests per second and burst the rate limiter starts with. */
    void (*rate)(const source_config *conf, double *rate, double *burst);
    /* Per-run state (sessions): *state may stay NULL. close accepts NULL. open
     * makes at least one cheap authenticated request (a login, the first page of
     * a short list): the runner registers a new source in dw.dim_source only
     * after open succeeded, so a wrong host, base_url or credential leaves no row. */
    fe_rc (*open)(const source_config *conf, http_client *http, stream_stats *stats, void **state,
                  fe_err *err);
    void (*close)(void *state);
    /* `flowetl check`: credentials and connectivity; appends human lines to out. */
    fe_rc (*check)(const source_config *conf, http_client *http, void *state, buf *out,
                   fe_err *err);
    /* `flowetl check`, after check succeeded: one line per stream whose read method
     * a probe chooses ("  orders: paged list (probed: ...)\n", or "... (probe
     * failed: ...)"), appended to out. state is open()'s (may be NULL). NULL = none. */
    fe_rc (*describe_methods)(const source_config *conf, void *state, buf *out, fe_err *err);
    /* What `flowetl verify` can compare (sources/NAME/NAME_verify.c); nverify 0: nothing. */
    const verify_def *verify;
    int nverify;
    /* The order its streams must keep: the streams of a source run concurrently
     * (`stream_parallel`), a stream starting once every stream it is declared
     * `after` here has ended (whatever its outcome) when the run reads that one
     * too. Only a stream listed earlier in `streams` can be waited for (so there
     * is no cycle). Terminated by {NULL, NULL}; NULL: none. Dimensions named by
     * facts need none: a fact's merge creates an inferred member, which the
     * dimension's merge completes later. */
    const stream_dep *deps;
    /* The state open() makes may be used by several streams on different threads
     * at once (each with its own http client, passed in stream_ctx): the stream
     * threads of a run then share the worker's instead of opening their own (one
     * request each). Leave false for a session a request may rewrite (a token
     * refresh) or any state a request writes. */
    bool share_state;
} source_def;

/* The value of a top-level key of a stored cursor (JSON text) into out, "" when
 * the cursor is NULL or lacks the key. FE_EJSON when the cursor is not JSON, with
 * a hint to run --full-refresh. */
fe_rc stream_cursor_value(const char *cursor, const char *key, char *out, size_t size,
                          fe_err *err) FE_MUST_CHECK;

/* The config's base_url without trailing slashes, else default_url; with
 * neither, FE_ECONFIG naming the section and `example`. Appended to out. */
fe_rc source_base_url(const source_config *conf, const char *default_url, const char *example,
                      buf *out, fe_err *err) FE_MUST_CHECK;

/* dim_source.account that def derives from conf (its account callback, else the
 * host[:port] of its base URL), appended to out. The `account` key that pins it is
 * the runner's business, not read here. */
fe_rc source_account(const source_def *def, const source_config *conf, buf *out,
                     fe_err *err) FE_MUST_CHECK;

/* The keys source_account reads of a source of type def: "account", "base_url"
 * and def's identity_keys, into keys (at most max). Returns the count. */
size_t source_identity_keys(const source_def *def, const char **keys, size_t max);

/* dim_source.account from a URL: its host, with ":port" when the URL names one.
 * FE_ECONFIG when url is not a URL. Appended to out. */
fe_rc source_url_host(const source_config *conf, const char *url, buf *out,
                      fe_err *err) FE_MUST_CHECK;

/* One request whose answer only has to be a 2xx: the cheap authenticated request
 * a source's open() makes. The body is read and dropped, its shape not judged
 * (each stream judges the pages it reads). what names the request in messages,
 * cred_key the config key of the credential. FE_EAUTH for a 401 or 403 ("what:
 * HTTP 401 (the credentials were refused: check `cred_key`)"), the client's error
 * for anything else; stats may be NULL. */
fe_rc source_probe(http_client *http, stream_stats *stats, const http_request *req,
                   const char *what, const char *cred_key, fe_err *err) FE_MUST_CHECK;

/* The common `rate_limit` and `rate_burst` keys (defaults from the key table),
 * usable directly as a source_def's rate callback. */
void source_rate_from_conf(const source_config *conf, double *rate, double *burst);

/* The registry (sources/registry.c), in its order. Static storage. */
const source_def *const *source_all(size_t *n);
/* NULL when the type is unknown. */
const source_def *source_find(const char *type);
/* Every registered type with its keys: what config_load checks a file against.
 * Static storage. */
const config_schema *source_schema(void);

#endif
