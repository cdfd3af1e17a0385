/* config_keys: the key table behind app/config.c (private to the config module). */
#ifndef FE_CONFIG_KEYS_H
#define FE_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

/* Lower bound of "no upper limit" in conf_key.max. */
#define NO_LIMIT 1e9

extern const conf_key config_key_table[];
extern const size_t config_key_count;

/* True for the source types this version reads. */
bool config_type_supported(const char *type);

#endif
