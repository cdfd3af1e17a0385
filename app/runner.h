/* runner: `flowetl run`. A pool of min([run] max_sources, selected sources)
 * worker threads takes the selected sources in config order, one at a time
 * each; inside a source, its streams run on its stream threads. Every run leaves an etl.run row and
 * every selected stream an etl.run_stream row, whatever stops them (when the
 * warehouse can be reached). Decides what is printed and the exit code:
 *   0    every stream succeeded
 *   1    some stream failed (the others were loaded)
 *   2    usage, configuration or source identity error: nothing was run
 *   3    the warehouse could not be reached, or went away during the run
 *   4    nothing failed, but some source was skipped because another flowetl run
 *        was loading it (a scheduler overlap)
 *   130  stopped by SIGINT, 143 stopped by SIGTERM (see runstop.h)
 * When several apply: a signal first, then 3, 1, 4, 0. */
#ifndef FE_RUNNER_H
#define FE_RUNNER_H

#include <stdbool.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/config.h"

/* The exit codes above. */
enum {
    RUN_EXIT_OK = 0,
    RUN_EXIT_FAILED = 1,
    RUN_EXIT_CONFIG = 2,
    RUN_EXIT_WAREHOUSE = 3,
    RUN_EXIT_OVERLAP = 4,
    RUN_EXIT_VERIFY = 5, /* loads committed, a verification with verify = fail differed */
};

typedef struct {
    const char *const *targets; /* "SOURCE" or "SOURCE.STREAM"; none = everything */
    int ntargets;
    bool full_refresh; /* --full-refresh: every selected stream, or only those of refresh */
    /* --full-refresh=SOURCE[.STREAM],...: stored as persistent requests (app/state.h). */
    const char *const *refresh;
    int nrefresh;
    /* --from DATE [--to DATE] (NULL: none): only date-windowed streams run, reading
     * that window; to NULL = today in each source's zone. */
    const char *window_from, *window_to;
    const char *command_line;    /* for etl.run, secrets already absent */
    long long progress_every_us; /* progress line interval; 0 = none */
    /* --shard I/N (or FLOWETL_SHARD): only the sources whose name hashes to
     * shard_index (run_shard_of, app/state_args.h); shard_count 0 = every source. */
    int shard_index, shard_count;
    int max_sources; /* --max-sources; 0 = [run] max_sources */
} run_request;

/* Returns the process exit code. Validates targets first (2 on an unknown one). */
int runner_run(const config *cfg, const run_request *req);

/* The identity (dw.dim_source.account) of a source: its `account` key when set,
 * else what its source module derives from the config. Appended to out. */
fe_rc runner_source_account(const source_config *conf, buf *out, fe_err *err) FE_MUST_CHECK;

#endif
