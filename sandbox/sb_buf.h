/* sb_buf: the sandbox's growable byte buffer. Responses are rendered straight into
 * one of these and handed to libmicrohttpd without a copy (sb_buf_take).
 *
 * Errors are sticky: an allocation failure marks the buffer failed, later appends
 * become no-ops, and the owner checks sb_buf_failed() once when the text is done.
 * That keeps the hundreds of appends in the renderers free of error plumbing.
 * data is always NUL-terminated once anything was appended. */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} sb_buf;

/* Starts empty; reserve is a capacity hint (0 = none, allocated lazily). */
void sb_buf_init(sb_buf *b, size_t reserve);
/* Frees the storage and leaves b empty (reusable after sb_buf_init). Accepts NULL. */
void sb_buf_term(sb_buf *b);
/* Keeps the storage, forgets the content and the failure. */
void sb_buf_reset(sb_buf *b);

void sb_buf_put(sb_buf *b, const void *data, size_t len);
void sb_buf_puts(sb_buf *b, const char *s);
void sb_buf_putc(sb_buf *b, char c);
void sb_buf_printf(sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v in decimal. */
void sb_buf_put_i64(sb_buf *b, int64_t v);
/* Appends a fixed-point value held in units of 1/10000 with exactly 4 decimals and a
 * leading '-' when negative ("12345.6700", "-10.0000"): the ground-truth format. */
void sb_buf_put_fixed4(sb_buf *b, int64_t v4);

bool sb_buf_failed(const sb_buf *b);
/* Returns the content ("" when empty); valid until the next change. */
const char *sb_buf_cstr(const sb_buf *b);

/* Hands the storage over: the caller frees it with free(). b becomes empty.
 * Returns NULL (and frees everything) when the buffer failed; *len gets the length. */
char *sb_buf_take(sb_buf *b, size_t *len);

#endif
