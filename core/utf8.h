/* utf8: validation of text before it reaches the warehouse (byte-exact otherwise). */
#ifndef FE_UTF8_H
#define FE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF)
 * and contains no NUL byte (PostgreSQL text cannot hold one). */
bool utf8_valid(const char *s, size_t len);

#endif
