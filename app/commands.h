/* commands: `flowetl init` and `check` (`status` is its own module). Each returns
 * the process exit code (0 ok, 1 some source failed its check, 2 configuration, or
 * for check a source whose identity `run` would refuse, 3 warehouse unreachable)
 * and prints its own report on stdout. `check` reads every
 * key of every source: the caller expands them first (config_resolve_source). */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H

#include "core/config.h"

int command_init(const config *cfg);
int command_check(const config *cfg);

#endif
