/* runstop: the signal thread of a run. */
#include "app/runstop.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* How often the thread looks at its end flag and the deadline. */
#define TICK_NS (200 * 1000000L)

struct runstop {
    fe_stop *stop;
    int deadline_s;
    sigset_t set;
    sigset_t old; /* the caller's mask before runstop_start */
    atomic_bool done;
    pthread_t thread;
};

const char *runstop_signal_name(int signo)
{
    return signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "a signal";
}

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void *signal_thread(void *arg)
{
    runstop *rs = arg;
    const struct timespec tick = {0, TICK_NS};
    int64_t first_at = 0;

    while (!atomic_load(&rs->done)) {
        int sig = sigtimedwait(&rs->set, NULL, &tick);
        int first = fe_stop_requested(rs->stop);
        if (sig < 0) {
            if (first && mono_s() - first_at >= rs->deadline_s) {
                log_error(NULL, "the run did not end within %d s of %s: exiting now",
                          rs->deadline_s, runstop_signal_name(first));
                _exit(128 + first);
            }
            continue; /* EAGAIN (the tick) or EINTR */
        }
        if (!first) {
            first_at = mono_s();
            fe_stop_request(rs->stop, sig);
            log_warn(NULL,
                     "%s received: stopping (no new requests, open checkpoints rolled back; "
                     "a second signal exits at once)",
                     runstop_signal_name(sig));
            continue;
        }
        log_error(NULL, "second signal (%s): exiting at once", runstop_signal_name(sig));
        _exit(128 + sig);
    }
    return NULL;
}

runstop *runstop_start(fe_stop *stop, int deadline_s, fe_err *err)
{
    runstop *rs = calloc(1, sizeof *rs);
    if (!rs) {
        fe_err_set(err, FE_ENOMEM, "out of memory");
        return NULL;
    }
    rs->stop = stop;
    rs->deadline_s = deadline_s;
    atomic_init(&rs->done, false);
    sigemptyset(&rs->set);
    sigaddset(&rs->set, SIGTERM);
    sigaddset(&rs->set, SIGINT);
    int e = pthread_sigmask(SIG_BLOCK, &rs->set, &rs->old);
    if (e == 0 && (e = pthread_create(&rs->thread, NULL, signal_thread, rs)) == 0)
        return rs;
    pthread_sigmask(SIG_SETMASK, &rs->old, NULL);
    fe_err_set(err, FE_EIO, "cannot start the signal thread (error %d)", e);
    free(rs);
    return NULL;
}

void runstop_end(runstop *rs)
{
    if (!rs)
        return;
    atomic_store(&rs->done, true);
    pthread_join(rs->thread, NULL);
    free(rs);
}
