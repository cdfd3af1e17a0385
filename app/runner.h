/* runner: `flowetl run`. One worker thread per selected source, concurrently;
 * inside a worker, its streams run in order. Decides what is printed and the
 * exit code: 0 all streams succeeded, 1 some failed, 3 warehouse unreachable. */
#ifndef FE_RUNNER_H
#define FE_RUNNER_H

#include <stdbool.h>
#include "config.h"

typedef struct {
    const char *const *targets; /* "SOURCE" or "SOURCE.STREAM"; none = everything */
    int ntargets;
    bool full_refresh;
    const char *command_line;    /* for etl.run, secrets already absent */
    long long progress_every_us; /* progress line interval; 0 = none */
} run_request;

/* Returns the process exit code. Validates targets first (2 on an unknown one). */
int runner_run(const config *cfg, const run_request *req);

#endif
