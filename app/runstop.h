/* runstop: turns SIGTERM and SIGINT into a run's stop flag.
 *
 * runstop_start blocks both signals in the calling thread, so it must be called
 * before any other thread starts: every later thread (workers, libcurl's resolver
 * threads) inherits the mask, no thread is ever interrupted by them, and one
 * thread of runstop's own takes them with sigtimedwait:
 * - the first signal sets the stop flag (fe_stop_request) and logs one line; the
 *   run then sends no new request, rolls its open checkpoints back and ends;
 * - a second signal exits the process at once with 128 + that signal (_exit: the
 *   server rolls back the closed sessions' transactions and releases their locks;
 *   the run's rows stay `running` until the next run marks them `abandoned`);
 * - should the process still be alive deadline_s after the first signal (a call
 *   that hangs), it exits the same way: the exit after a signal is bounded.
 * runstop_end stops the thread. The signals stay blocked afterwards: one arriving
 * once the run is over is ignored. */
#ifndef FE_RUNSTOP_H
#define FE_RUNSTOP_H

#include "core/err.h"
#include "core/stop.h"

typedef struct runstop runstop;

/* stop is borrowed and must outlive runstop_end. NULL with err when the thread
 * cannot start (the signals are then unblocked again). */
runstop *runstop_start(fe_stop *stop, int deadline_s, fe_err *err);
/* Accepts NULL. */
void runstop_end(runstop *rs);

/* "SIGTERM", "SIGINT", else "a signal" (static strings). */
const char *runstop_signal_name(int signo);

#endif
