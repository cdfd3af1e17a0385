/* commands: `flowetl init`, `status` and `check`. Each returns the process exit
 * code (0 ok, 1 some source failed its check, 2 configuration, or for check a
 * source whose identity `run` would refuse, 3 warehouse unreachable) and prints
 * its own report on stdout. */
#ifndef FE_COMMANDS_H
#define FE_COMMANDS_H

#include "config.h"

int command_init(const config *cfg);
int command_status(const config *cfg);
int command_check(const config *cfg);

#endif
