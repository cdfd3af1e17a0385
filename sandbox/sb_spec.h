/* sb_spec: the "key=value&key&..." switch lists of the sandbox's control
 * endpoints (/_sandbox/faults, /_sandbox/hostile) and flags. */
#ifndef SB_SPEC_H
#define SB_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* Sets one switch: value is NULL for a bare "key". False, with err filled, when
 * the switch or its value is refused. */
typedef bool (*sb_spec_set_fn)(void *ctx, const char *key, const char *value, char *err,
                               size_t errlen);

/* Calls set for each non-empty item of spec, in order, and stops at the first
 * refusal. An item of item_max bytes or more is refused as "WHAT item too long". */
bool sb_spec_each(const char *spec, size_t item_max, const char *what, sb_spec_set_fn set,
                  void *ctx, char *err, size_t errlen);

#endif
