/* runstop: SIGTERM and SIGINT become the run's stop flag; a second signal, or the
 * deadline after the first, ends the process with 128 + the signal. Every case runs
 * in a child process: runstop blocks the signals of the process it runs in, and the
 * exits under test end it. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/runstop.h"

/* Exit codes of a child whose checks failed (0 = all held). */
enum { CHILD_OK = 0, CHILD_NO_START = 2, CHILD_NO_FLAG, CHILD_STILL_ALIVE, CHILD_WRONG };

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Waits up to ms for the stop flag; the signal that set it, or 0. */
static int wait_for_flag(const fe_stop *stop, long ms)
{
    for (long waited = 0; waited < ms; waited += 10) {
        int sig = fe_stop_requested(stop);
        if (sig)
            return sig;
        sleep_ms(10);
    }
    return fe_stop_requested(stop);
}

/* Runs fn in a child and returns its wait status; *ms: how long the child lived. */
static int in_child(int (*fn)(void), int64_t *ms)
{
    int64_t start = now_ms();
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status = 0;
    CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
    if (ms)
        *ms = now_ms() - start;
    return status;
}

static void test_signal_names(void)
{
    CU_ASSERT_STRING_EQUAL(runstop_signal_name(SIGTERM), "SIGTERM");
    CU_ASSERT_STRING_EQUAL(runstop_signal_name(SIGINT), "SIGINT");
    CU_ASSERT_STRING_EQUAL(runstop_signal_name(SIGHUP), "a signal");
    CU_ASSERT_STRING_EQUAL(runstop_signal_name(0), "a signal");
}

static void test_end_accepts_null(void)
{
    runstop_end(NULL); /* must not crash */
    CU_PASS("runstop_end(NULL)");
}

/* The first SIGINT sets the flag to SIGINT, and the process goes on. */
static int child_first_signal(void)
{
    fe_stop stop = {0};
    fe_err err = {0};
    runstop *rs = runstop_start(&stop, 30, &err);
    if (!rs)
        return CHILD_NO_START;
    if (fe_stop_requested(&stop))
        return CHILD_WRONG; /* set before any signal */
    kill(getpid(), SIGINT);
    int sig = wait_for_flag(&stop, 5000);
    runstop_end(rs);
    if (sig == 0)
        return CHILD_NO_FLAG;
    return sig == SIGINT && fe_stop_since_us(&stop) > 0 ? CHILD_OK : CHILD_WRONG;
}

static void test_first_signal_sets_flag(void)
{
    int status = in_child(child_first_signal, NULL);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), CHILD_OK);
}

/* A second signal ends the process at once with 128 + that signal. */
static int child_second_signal(void)
{
    fe_stop stop = {0};
    fe_err err = {0};
    runstop *rs = runstop_start(&stop, 30, &err);
    if (!rs)
        return CHILD_NO_START;
    kill(getpid(), SIGINT);
    if (!wait_for_flag(&stop, 5000))
        return CHILD_NO_FLAG;
    kill(getpid(), SIGTERM);
    sleep_ms(5000);
    return CHILD_STILL_ALIVE;
}

static void test_second_signal_exits(void)
{
    int64_t ms = 0;
    int status = in_child(child_second_signal, &ms);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 128 + SIGTERM);
    CU_ASSERT_TRUE(ms < 4000);
}

/* Still alive deadline_s after the first signal: the process exits with 128 +
 * the first signal. */
static int child_deadline(void)
{
    fe_stop stop = {0};
    fe_err err = {0};
    runstop *rs = runstop_start(&stop, 1, &err);
    if (!rs)
        return CHILD_NO_START;
    kill(getpid(), SIGTERM);
    if (!wait_for_flag(&stop, 5000))
        return CHILD_NO_FLAG;
    sleep_ms(8000); /* a call that hangs */
    return CHILD_STILL_ALIVE;
}

static void test_deadline_exits(void)
{
    int64_t ms = 0;
    int status = in_child(child_deadline, &ms);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), 128 + SIGTERM);
    /* the deadline counts whole seconds of the monotonic clock (at most 2 s later),
     * well before the child's own 8 s sleep ends */
    CU_ASSERT_TRUE(ms < 6000);
}

/* After runstop_end the signals stay blocked: one arriving then is ignored (it
 * stays pending, the flag is not set, the process lives). */
static int child_after_end(void)
{
    fe_stop stop = {0};
    fe_err err = {0};
    runstop *rs = runstop_start(&stop, 30, &err);
    if (!rs)
        return CHILD_NO_START;
    runstop_end(rs);
    kill(getpid(), SIGTERM);
    sleep_ms(400); /* two of the thread's ticks, were it still there */
    sigset_t pending;
    sigpending(&pending);
    if (fe_stop_requested(&stop))
        return CHILD_WRONG;
    return sigismember(&pending, SIGTERM) == 1 ? CHILD_OK : CHILD_WRONG;
}

static void test_signal_after_end_ignored(void)
{
    int status = in_child(child_after_end, NULL);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), CHILD_OK);
}

/* runstop_start blocks SIGTERM and SIGINT in the calling thread (so every thread
 * started later inherits the mask), and not other signals. */
static int child_mask(void)
{
    fe_stop stop = {0};
    fe_err err = {0};
    sigset_t before, after;
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    if (sigismember(&before, SIGTERM))
        return CHILD_WRONG;
    runstop *rs = runstop_start(&stop, 30, &err);
    if (!rs)
        return CHILD_NO_START;
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    runstop_end(rs);
    bool ok = sigismember(&after, SIGTERM) == 1 && sigismember(&after, SIGINT) == 1 &&
              sigismember(&after, SIGHUP) == sigismember(&before, SIGHUP);
    return ok ? CHILD_OK : CHILD_WRONG;
}

static void test_blocks_signals(void)
{
    int status = in_child(child_mask, NULL);
    CU_ASSERT_TRUE(WIFEXITED(status));
    CU_ASSERT_EQUAL(WEXITSTATUS(status), CHILD_OK);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("runstop", NULL, NULL);
    CU_add_test(s, "signal names", test_signal_names);
    CU_add_test(s, "end accepts NULL", test_end_accepts_null);
    CU_add_test(s, "start blocks SIGTERM and SIGINT", test_blocks_signals);
    CU_add_test(s, "first signal sets the stop flag", test_first_signal_sets_flag);
    CU_add_test(s, "second signal exits with 128 + signal", test_second_signal_exits);
    CU_add_test(s, "deadline after the first signal exits", test_deadline_exits);
    CU_add_test(s, "signal after end is ignored", test_signal_after_end_ignored);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
