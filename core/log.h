/* log: the only place lines are written to stderr. Thread-safe. Every line goes
 * through redaction: each registered secret is replaced by "***".
 *
 * The secret registry is the project's one deliberate piece of global mutable
 * state. Secrets from the config are registered by log_init before threads start;
 * secrets that only exist at run time (a Posiflora access or refresh token, issued
 * by the server in the middle of a run, on a worker thread) are added with
 * log_add_secret the moment they arrive. Redaction must know every secret of every
 * source wherever text is written (stderr, stdout, etl.* columns), and those
 * writers do not know which source a piece of text came from, so the list is
 * process-wide: append-only (a secret is never forgotten during a run, so text
 * written later is still masked) and guarded by a mutex.
 *
 * Two more process-wide settings, both set before worker threads start:
 *  - the line format (text or JSON lines, log_set_format), config read once;
 *  - the run id (log_set_run_id), printed on every line once etl.run has its row.
 *    It is set by the main thread right after that insert, before the workers
 *    start. It is process-wide rather than carried in each call because one
 *    process runs one run and every thread's lines belong to it, and because the
 *    ~100 existing log calls (sources, loader, runner) would otherwise all need a
 *    run handle they have no other use for. The signal thread (app/runstop) is
 *    already running when it is set, so it is an atomic, not a plain variable.
 * And one per thread: the "SOURCE.STREAM" a worker thread is working on
 * (log_thread_ctx), which names the stream in JSON lines whose ctx names only the
 * source (the HTTP client's request and retry lines, which are per source).
 *
 * Formats. text: "2026-11-23T07:10:00Z INFO  run=42 posiflora_main.orders: msg"
 * (run= once the run id is set, ctx when given). json: one object per line,
 *   {"time":"2026-11-23T07:10:00.123Z","level":"info","run_id":42,
 *    "source":"posiflora_main","stream":"orders","event":"stream_end",
 *    "msg":"done in 1.2 s: ...", <the event's fields>}
 * time is RFC 3339 UTC with milliseconds; run_id, source and stream are null when
 * unknown (source and stream are ctx split at its first '.'); event is "log" for
 * plain log_msg lines. Every string (msg, ctx, string fields) is redacted, cut at
 * 4 KiB between characters, invalid UTF-8 bytes become '?', and it is escaped as
 * JSON: a line always parses, whatever the message held.
 *
 * Live lines (progress on a terminal): log_live draws a block of lines at the
 * bottom of stderr; every log line first erases it and draws it again after
 * itself, so the two never garble each other. */
#ifndef FE_LOG_H
#define FE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;
typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON } log_format;

/* Sets the threshold and replaces the registry with these secrets (copied). Call
 * once, before threads. */
void log_init(log_level level, const char *const *secrets, int nsecrets);
/* Forgets every secret (end of the process, tests). No thread may log meanwhile. */
void log_term(void);

/* Registers a secret obtained at run time (copied); thread-safe. Secrets shorter
 * than 4 bytes and ones already registered are ignored (true). Returns false when
 * memory runs out: the caller must then not keep using the secret, since it could
 * not be masked. */
bool log_add_secret(const char *secret) FE_MUST_CHECK;

/* One line to stderr, "2026-11-23T07:10:00Z INFO  ctx: message" (UTC; ctx may be
 * NULL, e.g. "posiflora_main.orders"), redacted, at most 4 KiB. */
void log_msg(log_level level, const char *ctx, const char *fmt, ...) FE_PRINTF(3, 4);

bool log_enabled(log_level level);

/* The line format (default text). Call before threads start. */
void log_set_format(log_format format);
log_format log_get_format(void);
/* "text" or "json" into *out; false for anything else. */
bool log_format_parse(const char *name, log_format *out);

/* The run id every later line carries (0 = none yet, the default). Thread-safe,
 * meant to be set once by the main thread as soon as etl.run has the row. */
void log_set_run_id(int64_t run_id);
int64_t log_run_id(void);

/* This thread's "SOURCE.STREAM" (NULL: none); the string must live until it is
 * replaced. A JSON line whose ctx is NULL, or is just SOURCE, takes its source and
 * stream from it. Text lines are not changed. */
void log_thread_ctx(const char *ctx);

/* ---- structured lines -------------------------------------------------------- */

typedef enum { LOG_F_STR, LOG_F_INT, LOG_F_NUM, LOG_F_BOOL } log_field_type;

/* One event-specific field: key (a literal, not one of time, level, run_id,
 * source, stream, event, msg) and a value; a string value may be NULL (null). */
typedef struct {
    const char *key;
    log_field_type type;
    const char *s;
    int64_t i;
    double d; /* LOG_F_NUM; NaN and infinities are written as null */
} log_field;

#define LOG_STR(k, v) ((log_field){.key = (k), .type = LOG_F_STR, .s = (v)})
#define LOG_INT(k, v) ((log_field){.key = (k), .type = LOG_F_INT, .i = (int64_t)(v)})
#define LOG_NUM(k, v) ((log_field){.key = (k), .type = LOG_F_NUM, .d = (double)(v)})
#define LOG_BOOL(k, v) ((log_field){.key = (k), .type = LOG_F_BOOL, .i = (v) ? 1 : 0})
/* The fields and their count, for log_event: LOG_FIELDS(LOG_INT("status", 200), ...). */
#define LOG_FIELDS(...)                                                                            \
    (const log_field[]){__VA_ARGS__}, sizeof((const log_field[]){__VA_ARGS__}) / sizeof(log_field)
#define LOG_NO_FIELDS NULL, 0

/* One line with an event name (e.g. "request", "retry", "stream_end"; a short
 * snake_case word, not escaped) and nfields fields. A text line shows only the
 * message (which should say what the fields hold); a JSON line has both. Nothing
 * is formatted when level is above the threshold. */
void log_event(log_level level, const char *ctx, const char *event, const log_field *fields,
               size_t nfields, const char *fmt, ...) FE_PRINTF(6, 7);

/* ---- live lines ---------------------------------------------------------------- */

/* Replaces the block of live lines kept at the bottom of stderr with text (lines
 * separated by '\n', no trailing one; each must fit the terminal's width, or the
 * erase goes wrong); NULL or "" removes it. Redacted like any line. For a caller
 * that knows stderr is a terminal (or was told to draw anyway); never in JSON
 * format. Thread-safe. */
void log_live(const char *text);

/* ---- URLs ------------------------------------------------------------------------ */

/* url for a log line into dst (size > 0, always NUL-terminated, cut between
 * characters): user information ("user:pass@") dropped and the value of every
 * query parameter whose name looks like a credential (contains token, key,
 * secret, pass, pwd, auth, sig, session or credential, in any case) replaced by
 * "***"; then every registered secret is masked (log_redact). */
void log_mask_url(const char *url, char *dst, size_t size);

/* Copies src into dst (size n > 0, always NUL-terminated) with every registered
 * secret replaced by "***" (the longest one where two start at the same byte).
 * Secrets shorter than 4 bytes are not registered. Output that does not fit is cut
 * between characters; a secret that does not fit is dropped whole, never cut. */
void log_redact(char *dst, size_t n, const char *src);

/* src redacted like log_redact, whole (no length limit), in a malloc'd string the
 * caller frees. NULL when src is NULL or memory runs out. For text stored beyond
 * stderr (etl.run_stream.error, etl.reject), redacted before any cut. */
char *log_redact_dup(const char *src);

#define log_error(ctx, ...) log_msg(LOG_ERROR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_WARN, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(LOG_DEBUG, ctx, __VA_ARGS__)

#endif
