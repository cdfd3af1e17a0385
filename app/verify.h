/* verify: self-verifying loads (issue 13). `flowetl verify [SOURCE[.STREAM]...]
 * [--from DATE --to DATE] [--deep] [--json]`, and the verification `run` makes of
 * each stream after it committed (policy `[source.NAME] verify = off|warn|fail`,
 * `verify_tolerance`).
 *
 * One verification of one stream: the source's figures for a window (its
 * verify_def, sources/source.h) are each compared with the warehouse's figure for
 * the same scope (load/reconcile); a count that differs beyond the tolerance is
 * narrowed down by halving its window of days, and at one day (or a list without
 * days) the ids of both sides are diffed, naming the missing and extra records.
 * A revenue that differs is narrowed the same way and, where the source has a deep
 * reader, its day is compared row by row. With deep, the window's records are
 * re-read through the stream's reader and mapper and each mapped order is compared
 * with its warehouse row (canonical text of the compared columns). Every
 * comparison is an etl.reconcile row (one verification_id). Narrowing stops after
 * VERIFY_NARROW_MAX source requests for figures, so a verification stays bounded.
 *
 * Exit codes of `flowetl verify`: 0 no difference beyond the tolerance; 5
 * differences; 1 a source could not be read; 2 usage or configuration; 3
 * warehouse unreachable. */
#ifndef FE_VERIFY_H
#define FE_VERIFY_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "sources/source.h"

#define VERIFY_EXIT_MISMATCH 5
/* Figure requests narrowing may make per verification. */
#define VERIFY_NARROW_MAX 64

typedef enum { VERIFY_OFF, VERIFY_WARN, VERIFY_FAIL } verify_policy;

/* The source's `verify` key (default warn). */
verify_policy verify_policy_of(const source_config *conf);

/* The verify_def of stream in def, or NULL when the source verifies no such stream. */
const verify_def *verify_find(const source_def *def, const char *stream);

/* One verification's input. Everything is borrowed. */
typedef struct {
    PGconn *conn;
    const source_config *conf;
    const verify_def *vd;
    int source_key;
    int64_t run_id; /* the run whose commit is verified; 0: flowetl verify */
    http_client *http;
    void *state;           /* the source's open() state */
    stream_stats *stats;   /* requests count here; may be NULL */
    const char *from, *to; /* the window; NULL: the default (see after_run) */
    bool after_run;        /* default window: the def's run_days; else the warehouse's days */
    bool deep;
    const char *logctx; /* "NAME.stream" */
} verify_job;

/* What it found. mismatch and error lines are one per comparison. */
typedef struct {
    int checks, mismatches, errors;
    buf lines; /* text: one line per mismatch or error */
    buf json;  /* JSON objects of the mismatches and errors, comma separated */
} verify_outcome;

void verify_outcome_init(verify_outcome *o);
void verify_outcome_term(verify_outcome *o);

/* Runs one verification (see the top). FE_OK when it ran to the end, whatever it
 * found (out says); an error of the warehouse otherwise (a source that could not
 * be read is an `error` row and out->errors, not a failure). */
fe_rc verify_stream(const verify_job *job, verify_outcome *out, fe_err *err) FE_MUST_CHECK;

typedef struct {
    const char *const *targets;
    int ntargets;
    const char *from, *to;
    bool deep, json;
} verify_request;

/* `flowetl verify`: prints the result (text or --json on stdout) and returns the
 * exit code. */
int verify_command(const config *cfg, const verify_request *req);

#endif
