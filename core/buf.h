/* buf: the one growable byte buffer, with a size cap, used wherever bytes
 * accumulate (COPY text, URLs, JSON request bodies, error messages).
 * The data is always NUL-terminated after data[len] once anything was appended. */
#ifndef FE_BUF_H
#define FE_BUF_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* len may not exceed this (0 = no cap); the NUL is not counted */
} buf;

/* Initialises an empty buffer (no allocation yet). */
void buf_init(buf *b, size_t max);
/* Frees the storage; b may be reused after buf_init. Accepts NULL. */
void buf_term(buf *b);
/* Keeps the storage, sets len to 0. */
void buf_reset(buf *b);

/* Every append either succeeds whole or returns false (allocation failure or the
 * cap reached) and leaves the buffer as it was. */
bool buf_append(buf *b, const void *data, size_t len) FE_MUST_CHECK;
bool buf_puts(buf *b, const char *s) FE_MUST_CHECK;
bool buf_putc(buf *b, char c) FE_MUST_CHECK;
bool buf_printf(buf *b, const char *fmt, ...) FE_PRINTF(2, 3) FE_MUST_CHECK;
/* Appends s percent-encoded for a URL query component (RFC 3986 unreserved kept). */
bool buf_put_urlenc(buf *b, const char *s) FE_MUST_CHECK;
/* Appends s as a JSON string literal, quotes included: '"' and backslash are escaped,
 * control characters become \uXXXX; other bytes (UTF-8) are copied as they are. */
bool buf_put_jsonstr(buf *b, const char *s) FE_MUST_CHECK;

/* Appends "name=value" to a URL as a query parameter, both percent-encoded,
 * preceded by '&' unless the URL ends in '?'. */
bool buf_put_query(buf *b, const char *name, const char *value) FE_MUST_CHECK;
bool buf_put_query_long(buf *b, const char *name, long value) FE_MUST_CHECK;

/* Returns a NUL-terminated view (never NULL: "" when empty). Valid until the next change. */
const char *buf_cstr(buf *b);

/* Hands the storage to the caller, who frees it with free(); b becomes empty.
 * Returns NULL when nothing was ever appended. */
char *buf_take(buf *b, size_t *len);

/* The largest length <= n at which s[0..len) does not end inside a UTF-8
 * sequence, for truncating text that may be stored or printed (s has >= n bytes). */
size_t buf_utf8_floor(const char *s, size_t n);

/* snprintf into dst[size] that, when it cuts, steps back to a character
 * boundary: for text that goes into etl.* columns or JSON, which refuse a cut
 * UTF-8 sequence. */
void buf_textf(char *dst, size_t size, const char *fmt, ...) FE_PRINTF(3, 4);
void buf_vtextf(char *dst, size_t size, const char *fmt, va_list ap) FE_PRINTF(3, 0);

/* Length of the well-formed UTF-8 sequence at s[0..n) (n > 0), 0 when none starts
 * there. PostgreSQL's rules: no overlong forms, surrogates or code points past
 * U+10FFFF. A NUL byte counts as a sequence of 1 (C strings never hold one). */
size_t buf_utf8_seq_len(const char *s, size_t n);

/* Replaces, in place, every byte of s[0..n) that is not part of a well-formed
 * UTF-8 sequence with '?', keeping the length: text from outside (an API's error
 * body in windows-1251) becomes text PostgreSQL stores (it refuses invalid UTF-8
 * with SQLSTATE 22021) and JSON carries. Returns how many bytes were replaced. */
size_t buf_utf8_scrub(char *s, size_t n);

/* FNV-1a over len bytes, continuing from h (start with BUF_FNV_INIT): the one
 * 64-bit hash of in-process sets and page fingerprints. Not for anything stored. */
#define BUF_FNV_INIT UINT64_C(14695981039346656037)
uint64_t buf_fnv1a(uint64_t h, const void *bytes, size_t len);

/* a and b are the same string; false when either is NULL. */
bool buf_str_eq(const char *a, const char *b);

/* Room for element n of a growable array of elsize-byte elements holding *cap:
 * when n < *cap, items itself; else the array realloc'ed to twice *cap (`first`
 * when *cap is 0), *cap updated. NULL when memory runs out or the size would
 * overflow: items is then unchanged and still the caller's. Use as
 *   T *p = buf_array_room(a->v, &a->cap, a->n, sizeof *p, 16); if (!p) fail; a->v = p; */
void *buf_array_room(void *items, size_t *cap, size_t n, size_t elsize, size_t first);

#endif
