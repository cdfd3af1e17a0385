/* Unit tests for extract/ratelimit, on a simulated clock (the *_at functions). */
#include <CUnit/Basic.h>
#include <pthread.h>

#include "extract/ratelimit.h"

#define SEC 1000000LL

/* Polls every `step` microseconds over [from, to) and counts the grants. */
static int grants_between(ratelimit *rl, int64_t from, int64_t to, int64_t step)
{
    int n = 0;
    for (int64_t t = from; t < to; t += step)
        n += ratelimit_try_acquire_at(rl, t) == 0;
    return n;
}

static void test_rate_per_second_exact(void)
{
    ratelimit *rl = ratelimit_new(5, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    CU_ASSERT_EQUAL(grants_between(rl, 0, SEC, 1000), 5);
    CU_ASSERT_EQUAL(grants_between(rl, SEC, 2 * SEC, 1000), 5);
    CU_ASSERT_EQUAL(grants_between(rl, 2 * SEC, 12 * SEC, 997), 50);
    ratelimit_free(rl);
}

static void test_wait_hint(void)
{
    ratelimit *rl = ratelimit_new(5, 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 1000), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 1000), 200000);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 101000), 100000);
    /* refusing takes nothing: the hint is still honoured exactly */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 200999), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 201000), 0);
    ratelimit_free(rl);
}

static void test_burst(void)
{
    ratelimit *rl = ratelimit_new(2, 3);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), SEC / 2);
    /* a long idle time refills at most the burst */
    CU_ASSERT_EQUAL(grants_between(rl, 100 * SEC, 100 * SEC + 1, 1), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 100 * SEC), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 100 * SEC), 0);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, 100 * SEC) > 0);
    ratelimit_free(rl);
}

static void test_pause(void)
{
    ratelimit *rl = ratelimit_new(5, 1);
    ratelimit_pause_at(rl, 0, 2 * SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 2 * SEC);
    CU_ASSERT_EQUAL(grants_between(rl, 0, 2 * SEC, 1000), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 2 * SEC - 1), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 2 * SEC), 0);
    /* after the pause the normal rate applies */
    CU_ASSERT_EQUAL(grants_between(rl, 2 * SEC + 1, 3 * SEC, 1000), 4);
    ratelimit_free(rl);
}

static void test_pause_only_extends(void)
{
    ratelimit *rl = ratelimit_new(100, 1);
    ratelimit_pause_at(rl, 0, 3 * SEC);
    ratelimit_pause_at(rl, SEC, SEC); /* ends at 2 s: earlier, ignored */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 2 * SEC + 500000), 500000);
    ratelimit_pause_at(rl, 2 * SEC, 2 * SEC); /* ends at 4 s: later, taken */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 3 * SEC), SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 4 * SEC), 0);
    ratelimit_pause_at(rl, 4 * SEC, 0);
    ratelimit_pause_at(rl, 4 * SEC, -5);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 5 * SEC), 0);
    ratelimit_free(rl);
}

static void test_set_rate(void)
{
    ratelimit *rl = ratelimit_new(5, 1);
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 5.0, 1e-12);
    ratelimit_set_rate(rl, 1);
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 1.0, 1e-12);
    CU_ASSERT_EQUAL(grants_between(rl, 0, 3 * SEC, 1000), 3);
    ratelimit_set_rate(rl, 50); /* never above the configured rate */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 5.0, 1e-12);
    CU_ASSERT_EQUAL(grants_between(rl, 3 * SEC, 4 * SEC, 1000), 5);
    ratelimit_set_rate(rl, 0);
    ratelimit_set_rate(rl, -1);
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 5.0, 1e-12);
    ratelimit_free(rl);
}

static void test_invalid_arguments(void)
{
    CU_ASSERT_PTR_NULL(ratelimit_new(0, 1));
    CU_ASSERT_PTR_NULL(ratelimit_new(-3, 1));
    ratelimit *rl = ratelimit_new(1, 0); /* burst below 1 is taken as 1 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), SEC);
    ratelimit_free(rl);
    ratelimit_free(NULL);
}

static void test_real_clock(void)
{
    ratelimit *rl = ratelimit_new(1, 1);
    int64_t t0 = ratelimit_now_us();
    CU_ASSERT_EQUAL(ratelimit_try_acquire(rl), 0);
    int64_t wait = ratelimit_try_acquire(rl);
    CU_ASSERT_TRUE(wait > 0 && wait <= SEC);
    CU_ASSERT_TRUE(ratelimit_now_us() >= t0);
    ratelimit_pause(rl, 5 * SEC);
    CU_ASSERT_TRUE(ratelimit_try_acquire(rl) > 4 * SEC);
    ratelimit_free(rl);
}

/* ---- sliding window ---- */

#define GUARD 20000 /* ratelimit_window_guard_us(SEC) */

/* Largest number of times in t[0..n) (sorted) that fit in any half-open
 * interval of length span: the most grants a server counting that window saw. */
static long max_in_window(const int64_t *t, long n, int64_t span)
{
    long best = 0, lo = 0;
    for (long hi = 0; hi < n; hi++) {
        while (t[hi] - t[lo] >= span)
            lo++;
        if (hi - lo + 1 > best)
            best = hi - lo + 1;
    }
    return best;
}

static void test_window_guard(void)
{
    CU_ASSERT_EQUAL(ratelimit_window_guard_us(SEC), 20000);
    CU_ASSERT_EQUAL(ratelimit_window_guard_us(10 * SEC), 200000);
    CU_ASSERT_EQUAL(ratelimit_window_guard_us(100), 20000);
}

static void test_window_invalid_arguments(void)
{
    CU_ASSERT_PTR_NULL(ratelimit_new_window(0, SEC));
    CU_ASSERT_PTR_NULL(ratelimit_new_window(-1, SEC));
    CU_ASSERT_PTR_NULL(ratelimit_new_window(RATELIMIT_WINDOW_MAX + 1, SEC));
    CU_ASSERT_PTR_NULL(ratelimit_new_window(10, 0));
    CU_ASSERT_PTR_NULL(ratelimit_new_window(10, RATELIMIT_WINDOW_US_MAX + 1));
    ratelimit *rl = ratelimit_new_window(RATELIMIT_WINDOW_MAX, SEC);
    CU_ASSERT_PTR_NOT_NULL(rl);
    ratelimit_free(rl);
}

static void test_window_burst_then_wait(void)
{
    ratelimit *rl = ratelimit_new_window(10, SEC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 5 * SEC), 0);
    /* the 11th waits until the first leaves the window plus the guard */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 5 * SEC), SEC + GUARD);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 6 * SEC), GUARD);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 6 * SEC + GUARD - 1), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 6 * SEC + GUARD), 0);
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 10.0, 1e-9);
    ratelimit_free(rl);
}

/* Polls like a client loop, with busy phases and idle gaps of varying length,
 * and checks every window of the grant times: never more than count, and a
 * burst after idle gets the full count at once. */
static void test_window_never_exceeds_across_gaps(void)
{
    enum { COUNT = 50, MAXG = 20000 };
    static int64_t t[MAXG];
    long n = 0;
    ratelimit *rl = ratelimit_new_window(COUNT, SEC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    int64_t now = 0;
    uint64_t rng = 12345;
    for (int phase = 0; phase < 60 && n < MAXG; phase++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t busy = (int64_t)(rng >> 33) % (2 * SEC);
        int64_t gap = (int64_t)(rng >> 20) % (3 * SEC / 2);
        for (int64_t end = now + busy; now < end && n < MAXG; now += 137) {
            while (n < MAXG && ratelimit_try_acquire_at(rl, now) == 0)
                t[n++] = now;
        }
        now += gap;
    }
    CU_ASSERT_TRUE(n > 1000);
    CU_ASSERT_EQUAL(max_in_window(t, n, SEC), COUNT);
    CU_ASSERT_EQUAL(max_in_window(t, n, SEC + GUARD), COUNT);
    /* after a full idle window, the whole count goes out at once */
    now += SEC + GUARD;
    int burst = 0;
    while (ratelimit_try_acquire_at(rl, now) == 0)
        burst++;
    CU_ASSERT_EQUAL(burst, COUNT);
    ratelimit_free(rl);
}

/* A partly used window lends the rest: after 30 grants and a pause shorter than
 * the window, 20 more go out at once, not one by one. */
static void test_window_uses_leftover_after_pause(void)
{
    ratelimit *rl = ratelimit_new_window(50, SEC);
    CU_ASSERT_EQUAL(grants_between(rl, 0, 30, 1), 30);
    CU_ASSERT_EQUAL(grants_between(rl, SEC / 2, SEC / 2 + 1, 1), 1);
    int more = 0;
    while (ratelimit_try_acquire_at(rl, SEC / 2) == 0)
        more++;
    CU_ASSERT_EQUAL(more, 19);
    /* the first 30 leave the span at SEC + GUARD + 0..29 us */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, SEC / 2), SEC / 2 + GUARD);
    CU_ASSERT_EQUAL(grants_between(rl, SEC + GUARD, SEC + GUARD + 30, 1), 30);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, SEC + GUARD + 30) > 0);
    ratelimit_free(rl);
}

static void test_window_pause(void)
{
    ratelimit *rl = ratelimit_new_window(5, SEC);
    ratelimit_pause_at(rl, 0, 2 * SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 2 * SEC);
    CU_ASSERT_EQUAL(grants_between(rl, 0, 2 * SEC, 1000), 0);
    CU_ASSERT_EQUAL(grants_between(rl, 2 * SEC, 3 * SEC, 1000), 5);
    ratelimit_pause_at(rl, 3 * SEC, SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 3 * SEC + GUARD), SEC - GUARD);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 4 * SEC), 0);
    ratelimit_free(rl);
}

static void test_window_set_rate(void)
{
    ratelimit *rl = ratelimit_new_window(10, SEC);
    ratelimit_set_rate(rl, 4.5); /* 4 per window */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 4.0, 1e-9);
    CU_ASSERT_EQUAL(grants_between(rl, 0, SEC, 1000), 4);
    ratelimit_set_rate(rl, 0.01); /* never below one per window */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 1.0, 1e-9);
    ratelimit_set_rate(rl, 1000); /* restored up to the configured count */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(rl), 10.0, 1e-9);
    CU_ASSERT_EQUAL(grants_between(rl, 2 * SEC, 3 * SEC, 1000), 10);
    ratelimit_free(rl);
}

/* Clock readings that arrive out of order never place a grant before the last
 * one, so the window still holds. */
static void test_window_clock_out_of_order(void)
{
    ratelimit *rl = ratelimit_new_window(2, SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 10 * SEC), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 10 * SEC - 500), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 11 * SEC + GUARD - 1), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 11 * SEC + GUARD), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 11 * SEC + GUARD), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 11 * SEC + GUARD), SEC + GUARD);
    ratelimit_free(rl);
}

typedef struct {
    ratelimit *rl;
    int granted;
} worker_arg;

static void *grab(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < 10000; i++)
        a->granted += ratelimit_try_acquire_at(a->rl, 0) == 0;
    return NULL;
}

static void test_threads_share_one_bucket(void)
{
    ratelimit *rl = ratelimit_new(1, 100);
    worker_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){rl, 0};
        pthread_create(&th[i], NULL, grab, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].granted;
    }
    CU_ASSERT_EQUAL(total, 100);
    ratelimit_free(rl);
}

static void test_threads_share_one_window(void)
{
    ratelimit *rl = ratelimit_new_window(100, SEC);
    worker_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){rl, 0};
        pthread_create(&th[i], NULL, grab, &args[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += args[i].granted;
    }
    CU_ASSERT_EQUAL(total, 100);
    ratelimit_free(rl);
}

/* A report generator's bucket (6 an hour: burst 1, 5 more per hour): a creation
 * that produced nothing gives its token back, so the retry need not wait 12
 * minutes; a refund never raises the bucket above its burst. */
static void test_refund_bucket(void)
{
    ratelimit *rl = ratelimit_new(5.0 / 3600, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    ratelimit_refund_at(rl, 0); /* nothing granted yet: nothing to give back */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, SEC) > 600 * SEC);
    ratelimit_refund_at(rl, 2 * SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 2 * SEC), 0);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, 3 * SEC) > 600 * SEC);
    /* full bucket: a stray refund does not make two */
    ratelimit_refund_at(rl, 4 * SEC);
    ratelimit_refund_at(rl, 4 * SEC);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 4 * SEC), 0);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, 4 * SEC) > 0);
    ratelimit_free(rl);

    rl = ratelimit_new(2, 3);
    CU_ASSERT_EQUAL(grants_between(rl, 0, 1, 1), 1);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    ratelimit_refund_at(rl, 0);
    ratelimit_refund_at(rl, 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), SEC / 2);
    ratelimit_free(rl);
}

static void test_refund_window(void)
{
    ratelimit *rl = ratelimit_new_window(2, SEC);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rl);
    ratelimit_refund_at(rl, 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 0), 0);
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 100), 0);
    CU_ASSERT_TRUE(ratelimit_try_acquire_at(rl, 200) > 0);
    ratelimit_refund_at(rl, 300); /* the grant at 100 is forgotten */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 300), 0);
    /* the grant at 0 still counts: the next waits for it to leave the window */
    CU_ASSERT_EQUAL(ratelimit_try_acquire_at(rl, 400), SEC + GUARD - 400);
    ratelimit_free(rl);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("ratelimit", NULL, NULL);
    CU_add_test(s, "5/s burst 1 grants 5 per second", test_rate_per_second_exact);
    CU_add_test(s, "wait hint", test_wait_hint);
    CU_add_test(s, "burst", test_burst);
    CU_add_test(s, "pause blocks until its end", test_pause);
    CU_add_test(s, "pause only extends", test_pause_only_extends);
    CU_add_test(s, "set_rate lowers and restores", test_set_rate);
    CU_add_test(s, "invalid arguments", test_invalid_arguments);
    CU_add_test(s, "real clock", test_real_clock);
    CU_add_test(s, "threads share one bucket", test_threads_share_one_bucket);
    CU_add_test(s, "window guard", test_window_guard);
    CU_add_test(s, "window invalid arguments", test_window_invalid_arguments);
    CU_add_test(s, "window burst then wait", test_window_burst_then_wait);
    CU_add_test(s, "window never exceeds across gaps", test_window_never_exceeds_across_gaps);
    CU_add_test(s, "window uses leftover after pause", test_window_uses_leftover_after_pause);
    CU_add_test(s, "window pause", test_window_pause);
    CU_add_test(s, "window set_rate", test_window_set_rate);
    CU_add_test(s, "window clock out of order", test_window_clock_out_of_order);
    CU_add_test(s, "threads share one window", test_threads_share_one_window);
    CU_add_test(s, "refund gives a bucket its token back", test_refund_bucket);
    CU_add_test(s, "refund forgets a window's newest grant", test_refund_window);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
