/* rebind: `flowetl rebind NAME`. Moves the config name NAME off the dw.dim_source
 * rows of the account it was bound to, so that the next run binds it to the
 * account its config now gives (see load/source_id.h). Needs only the warehouse:
 * it never calls the source's API. */
#ifndef FE_REBIND_H
#define FE_REBIND_H

#include "core/config.h"

/* Returns the exit code: 0 done (or nothing to do), 1 refused (a run holds the
 * old account's lock) or failed, 2 no [source.NAME] in the config or the schema
 * is out of date, 3 warehouse unreachable. Prints what it did on stdout. */
int rebind_command(const config *cfg, const char *name);

#endif
