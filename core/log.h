/* log: the only place lines are written to stderr. Thread-safe. Every line goes
 * through redaction: the secrets registered at start are replaced by "***".
 * The secret list is set once, before threads start (config read once). */
#ifndef FE_LOG_H
#define FE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

/* Sets the threshold and the secrets to redact (copied). Call once, before threads. */
void log_init(log_level level, const char *const *secrets, int nsecrets);
void log_term(void);

/* One line to stderr, "2026-11-23T07:10:00Z INFO  ctx: message" (UTC; ctx may be
 * NULL, e.g. "posiflora_main.orders"), redacted, at most 4 KiB. */
void log_msg(log_level level, const char *ctx, const char *fmt, ...) FE_PRINTF(3, 4);

bool log_enabled(log_level level);

/* Copies src into dst (size n > 0, always NUL-terminated) with every registered
 * secret replaced by "***" (the longest one where two start at the same byte).
 * Secrets shorter than 4 bytes are not registered. Output that does not fit is cut
 * between characters; a secret that does not fit is dropped whole, never cut. */
void log_redact(char *dst, size_t n, const char *src);

#define log_error(ctx, ...) log_msg(LOG_ERROR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_WARN, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(LOG_DEBUG, ctx, __VA_ARGS__)

#endif
