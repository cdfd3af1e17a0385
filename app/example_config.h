/* example_config: `flowetl --help-config=ini`, an example config file with every
 * section and key of the schema, generated from the key tables (so it cannot miss
 * a key): each key's meaning, type and default as comments, its line commented out
 * (";key = default") unless the type requires it, and one [source.NAME] section per
 * source type with the required keys set to examples (secrets as ${TYPE_KEY}).
 * The build installs it as share/doc/flowetl/flowetl.conf.example; it loads with
 * config_load as it is, and with every commented-out value that has one uncommented
 * (tests/integration/it_install.sh checks both). */
#ifndef FE_EXAMPLE_CONFIG_H
#define FE_EXAMPLE_CONFIG_H

#include <stdio.h>
#include "core/config.h"

/* Writes the example to out. False when memory runs out (out then holds part). */
bool example_config_print(FILE *out, const config_schema *schema);

#endif
