/* status: `flowetl status [SOURCE[.STREAM]...] [--json]`. For each selected stream
 * (default: every configured stream of every source) it reports the latest run's
 * outcome and error, the last success, the age of the data, the cursor and a
 * freshness verdict from the source's warn_after / error_after, plus the last runs.
 * Streams are matched by the config NAME (etl.run_stream.source_name), so a stream
 * whose source never registered is still seen. Needs only the warehouse DSN and the
 * source keys status_config_keys lists: no API secret.
 *
 * Exit code: 0 every selected stream's latest run succeeded (a skipped run or one
 * still running counts as the run before it) and none is older than error_after
 * (one older than warn_after is a warning line on stderr); 1 some stream's latest
 * run failed, was interrupted or abandoned, never succeeded (or never ran), or its
 * data is older than error_after (one line on stderr each); 2 usage or config error
 * (unknown source or stream, schema not initialised); 3 warehouse unreachable.
 *
 * Text goes to stdout; with --json stdout holds one JSON document (shape in
 * README.md, "flowetl status"). */
#ifndef FE_STATUS_H
#define FE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config.h"

typedef struct {
    const char *const *targets; /* "SOURCE" or "SOURCE.STREAM"; none = everything */
    int ntargets;
    bool json;
} status_request;

/* The source keys status reads: the CLI expands only these (config_resolve_source)
 * for the sources status reports on. Static storage. */
const char *const *status_config_keys(size_t *n);

/* Prints the report and returns the exit code. */
int status_run(const config *cfg, const status_request *req);

#endif
