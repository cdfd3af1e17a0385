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
 * written later is still masked) and guarded by a mutex. */
#ifndef FE_LOG_H
#define FE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

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
