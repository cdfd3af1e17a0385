/* progress: the live progress lines of `flowetl run` on a terminal.
 *
 * One line per running stream, "posiflora_main.orders  1200/5000 records  840 rec/s
 * ETA 4s" (the total and the ETA only where the API reported a count, see
 * stream_stats.expected), redrawn in place at most PROGRESS_REDRAW_MS apart through
 * core/log's live block, so log lines printed meanwhile are never garbled (log
 * erases the block, prints, draws it again). Without live lines (not a terminal,
 * JSON logs, `[run] progress = never`) the runner keeps its periodic progress log
 * lines instead (stream_progress, every progress_interval).
 *
 * Thread-safe: worker threads update their own line, the block is drawn by
 * whichever update comes due. */
#ifndef FE_PROGRESS_H
#define FE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include "core/config.h"

#define PROGRESS_REDRAW_MS 250

typedef struct progress progress;
typedef struct progress_line progress_line;

/* Whether this run draws live lines: `[run] progress` always, or auto (the
 * default) when stderr is a terminal; never in JSON log format or with never. */
bool progress_live_wanted(const config *cfg);

/* A progress block of at most max_lines lines at once; NULL when memory runs out
 * (the run goes on without live lines). */
progress *progress_new(int max_lines);
/* Removes the block from the screen and frees p (NULL is ignored). No line may be
 * in use. */
void progress_free(progress *p);

/* A line for a stream that starts; label "SOURCE.STREAM" (copied). NULL when p is
 * NULL or every line is in use: updates and closing accept NULL. */
progress_line *progress_line_open(progress *p, const char *label);
/* The stream's records so far and the records expected (0 = unknown); redraws
 * the block when PROGRESS_REDRAW_MS passed since the last draw. */
void progress_line_update(progress_line *l, int64_t records, int64_t expected);
/* The stream ended: its line goes away (at once). */
void progress_line_close(progress_line *l);

/* "NAME  12/50 records  3 rec/s  ETA 13s", what a live line shows after seconds
 * of the stream (no rate when 0), into dst (size > 0), cut between characters at
 * size - 1 bytes, at most 79 (the block's lines are cut to the terminal's width). */
void progress_format(char *dst, size_t size, const char *label, int64_t records, int64_t expected,
                     double seconds);

#endif
