/* Unit tests for extract/ratelimit, on a simulated clock (the *_at functions). */
#include <CUnit/Basic.h>
#include <pthread.h>

#include "../../extract/ratelimit.h"

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
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
