/* metrics: the end-of-run metrics file, in the Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector. Pure formatting plus
 * one atomic file write; app/metrics_run.c gathers what a run knows into a
 * metrics_run.
 *
 * Every metric is a gauge: the file describes the LAST run (and the last success
 * of each stream, from the warehouse), and its values start again at each run, so
 * they are not counters and carry no `_total` suffix. Names start with
 * `flowetl_`; per-stream series carry the labels source, stream and type (the
 * source's type). README "Metrics" lists them. */
#ifndef FE_METRICS_H
#define FE_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"
#include "core/stats.h"

/* The statuses a stream's last run can have ("status" label of
 * flowetl_stream_last_run_status: one series each, the one that holds 1). */
#define METRICS_NSTATUS 4
extern const char *const metrics_statuses[METRICS_NSTATUS]; /* succeeded, failed, ... */

typedef struct {
    const char *source; /* [source.NAME] */
    const char *stream;
    const char *type;   /* the source's type: posiflora, goflow, ... */
    bool ran;           /* selected by this run: the last-run series are written */
    const char *status; /* one of metrics_statuses (when ran) */
    double seconds;     /* how long it ran */
    stream_stats stats;
    /* Unix seconds of its latest succeeded run; 0: none (written as 0, "never",
     * when the warehouse is up; left out when it is not: unknown). */
    int64_t last_success;
} metrics_stream;

typedef struct {
    int64_t run_id; /* 0: the run had no etl.run row (the warehouse was not reached) */
    int exit_code;
    int64_t started, ended; /* unix seconds */
    bool warehouse_up;      /* the warehouse answered at the end of the run */
    const metrics_stream *streams;
    int nstreams;
} metrics_run;

/* Appends s to out as a label value: backslash, double quote and line feed
 * escaped as \\, \" and \n (the exposition format's rules). False when out is
 * full. */
bool metrics_put_label_value(buf *out, const char *s) FE_MUST_CHECK;

/* Appends the whole exposition text of r to out: HELP and TYPE lines once per
 * metric family, then its samples. FE_ENOMEM when out is full. */
fe_rc metrics_format(const metrics_run *r, buf *out, fe_err *err) FE_MUST_CHECK;

/* Replaces the file at path with len bytes of text atomically: writes
 * PATH.tmp.<pid> in the same directory, fsyncs it, renames it over path and
 * fsyncs the directory. A reader sees the old file or the new one, never a part.
 * The file is made mode 0644 (node_exporter usually runs as another user). On
 * failure the temporary file is removed and FE_EIO says why. */
fe_rc metrics_write_file(const char *path, const char *text, size_t len, fe_err *err) FE_MUST_CHECK;

#endif
