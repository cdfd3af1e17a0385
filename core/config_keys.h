/* config_keys: the key table behind core/config.c (private to the config module). */
#ifndef FE_CONFIG_KEYS_H
#define FE_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config.h"

/* Lower bound of "no upper limit" in config_key.max. */
#define NO_LIMIT 1e9

extern const config_key config_key_table[];
extern const size_t config_key_count;

/* True for the source types this version reads. */
bool config_type_supported(const char *type);

#endif
