/* config_keys: the keys of every type behind core/config.c, and the lookups over them
 * and a schema's types (private to the config module). */
#ifndef FE_CONFIG_KEYS_H
#define FE_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config.h"

/* The entry for key in section: type's own entry (type may be NULL) before the one of
 * every type. NULL when the key does not exist there. */
const config_key *config_key_find(const config_source_type *type, const char *section,
                                  const char *key);

/* Entry i of type's own keys followed by the keys of every type (all sections); NULL
 * past the end. An entry overridden by one of the type is listed too: compare with
 * config_key_find. */
const config_key *config_key_at(const config_source_type *type, size_t i);

/* The schema's type names in order into dst: "a, b, c" with last_sep ", ", "a, b or c"
 * with " or ". Cut at n - 1 bytes. */
void config_type_list(const config_schema *schema, const char *last_sep, char *dst, size_t n);

#endif
