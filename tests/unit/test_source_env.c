/* source_env: the limiter and the HTTP client a source gets from its config, for
 * `run` and for the `check` probe. Nothing here contacts an API (source_env_open
 * is not called). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/source_env.h"
#include "core/config.h"
#include "extract/http.h"
#include "extract/ratelimit.h"

#define US INT64_C(1000000)

#define POSIFLORA_KEYS                                                                             \
    "type = posiflora\n"                                                                           \
    "base_url = https://Shop.Example.com/api\n"                                                    \
    "username = u\n"                                                                               \
    "password = p\n"

static const char CONFIG_TEXT[] =
    "[source.plain]\n" POSIFLORA_KEYS "[source.tuned]\n" POSIFLORA_KEYS "connect_timeout = 1500ms\n"
    "low_speed_timeout = 20s\n"
    "request_timeout = 90s\n"
    "retry_total = 2m\n"
    "max_parallel = 2\n"
    "retries = 3\n"
    "retry_base_ms = 250\n"
    "retry_max = 20s\n"
    "tls_verify = false\n"
    "ca_file = /nonexistent/ca.pem\n"
    "rate_limit = 0.5\n"
    "rate_burst = 2\n"
    "[source.window]\n" POSIFLORA_KEYS "rate_limit = 2\n"
    "rate_window = 3s\n"
    "retries = 0\n"
    "[source.huge]\n" POSIFLORA_KEYS "rate_limit = 100\n"
    "rate_window = 1h\n";

static config *cfg;
static const source_def *posiflora;

static int suite_init(void)
{
    fe_err err = {0};
    if (config_load_string(CONFIG_TEXT, "t.conf", source_schema(), &cfg, &err) != FE_OK) {
        fprintf(stderr, "config: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < cfg->nsources; i++)
        if (config_resolve_source(cfg, cfg->sources[i].name, NULL, 0, &err) != FE_OK) {
            fprintf(stderr, "config: %s\n", err.msg);
            return 1;
        }
    posiflora = source_find("posiflora");
    return posiflora ? 0 : 1;
}

static int suite_term(void)
{
    config_free(cfg);
    return 0;
}

static const source_config *source(const char *name)
{
    const source_config *conf = config_source(cfg, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    return conf;
}

/* Grants of rl at one instant, up to max. */
static int grants_at_once(ratelimit *rl, int max)
{
    int64_t now = ratelimit_now_us();
    int n = 0;
    while (n < max && ratelimit_try_acquire_at(rl, now) == 0)
        n++;
    return n;
}

static void test_defaults(void)
{
    source_env env;
    fe_err err = {0};
    fe_stop stop = {0};
    http_opts o, def;
    http_opts_default(&def);
    CU_ASSERT_EQUAL_FATAL(source_env_init(&env, source("plain"), posiflora, &stop, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(env.http);
    CU_ASSERT_PTR_NOT_NULL_FATAL(env.rl);
    CU_ASSERT_PTR_NULL(env.state); /* not opened */
    CU_ASSERT_PTR_EQUAL(env.def, posiflora);
    http_client_opts(env.http, &o);
    CU_ASSERT_EQUAL(o.connect_timeout_s, 10);
    CU_ASSERT_EQUAL(o.low_speed_time_s, 60);
    CU_ASSERT_EQUAL(o.request_timeout_us, 300 * US);
    CU_ASSERT_EQUAL(o.retry_total_us, 900 * US);
    CU_ASSERT_EQUAL(o.max_parallel, 4);
    CU_ASSERT_EQUAL(o.backoff.max_retries, 8);
    CU_ASSERT_EQUAL(o.backoff.base_us, 500000);
    CU_ASSERT_EQUAL(o.backoff.max_us, 60 * US);
    CU_ASSERT_FALSE(o.insecure);
    CU_ASSERT_PTR_NULL(o.ca_file);
    CU_ASSERT_STRING_EQUAL(o.user_agent, def.user_agent);
    /* credentials belong to the source's base URL; the run's stop flag is honoured */
    CU_ASSERT_STRING_EQUAL(o.origin_url, "https://Shop.Example.com/api");
    CU_ASSERT_PTR_EQUAL(o.stop, &stop);
    CU_ASSERT_PTR_NOT_NULL(o.on_event);
    /* the default limiter: a bucket of 5 requests/s, 5 at once */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(env.rl), 5.0, 1e-9);
    CU_ASSERT_EQUAL(grants_at_once(env.rl, 20), 5);
    source_env_term(&env);
    CU_ASSERT_PTR_NULL(env.http);
    CU_ASSERT_PTR_NULL(env.rl);
}

static void test_config_keys_applied(void)
{
    source_env env;
    fe_err err = {0};
    http_opts o;
    CU_ASSERT_EQUAL_FATAL(source_env_init(&env, source("tuned"), posiflora, NULL, &err), FE_OK);
    http_client_opts(env.http, &o);
    CU_ASSERT_EQUAL(o.connect_timeout_s, 1); /* whole seconds, at least one */
    CU_ASSERT_EQUAL(o.low_speed_time_s, 20);
    CU_ASSERT_EQUAL(o.request_timeout_us, 90 * US);
    CU_ASSERT_EQUAL(o.retry_total_us, 120 * US);
    CU_ASSERT_EQUAL(o.max_parallel, 2);
    CU_ASSERT_EQUAL(o.backoff.max_retries, 3);
    CU_ASSERT_EQUAL(o.backoff.base_us, 250000);
    CU_ASSERT_EQUAL(o.backoff.max_us, 20 * US);
    CU_ASSERT_TRUE(o.insecure); /* tls_verify = false */
    CU_ASSERT_PTR_NOT_NULL_FATAL(o.ca_file);
    CU_ASSERT_STRING_EQUAL(o.ca_file, "/nonexistent/ca.pem");
    CU_ASSERT_PTR_NULL(o.stop);
    /* rate_limit 0.5 with a burst of 2 */
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(env.rl), 0.5, 1e-9);
    CU_ASSERT_EQUAL(grants_at_once(env.rl, 20), 2);
    source_env_term(&env);
}

static void test_rate_window(void)
{
    source_env env;
    fe_err err = {0};
    CU_ASSERT_EQUAL_FATAL(source_env_init(&env, source("window"), posiflora, NULL, &err), FE_OK);
    /* floor(2/s x 3 s) = 6 requests in any 3 s: the rate is 6 / 3 s */
    CU_ASSERT_EQUAL(grants_at_once(env.rl, 20), 6);
    CU_ASSERT_DOUBLE_EQUAL(ratelimit_rate(env.rl), 2.0, 1e-9);
    source_env_term(&env);
}

static void test_rate_window_too_big(void)
{
    source_env env;
    fe_err err = {0};
    CU_ASSERT_EQUAL(source_env_init(&env, source("huge"), posiflora, NULL, &err), FE_ECONFIG);
    CU_ASSERT_EQUAL(err.code, FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "huge: rate_limit x rate_window allows 360000 requests per "
                                    "window; at most 100000 are supported (shorten rate_window)");
    /* left closed */
    CU_ASSERT_PTR_NULL(env.http);
    CU_ASSERT_PTR_NULL(env.rl);
    source_env_term(&env);
}

/* `check` is a probe: at most one retry, all of a request within 10 s. */
static void test_check_probe_policy(void)
{
    source_env env;
    fe_err err = {0};
    http_opts o;
    CU_ASSERT_EQUAL_FATAL(source_env_init_check(&env, source("tuned"), posiflora, &err), FE_OK);
    http_client_opts(env.http, &o);
    CU_ASSERT_EQUAL(o.backoff.max_retries, 1);
    CU_ASSERT_EQUAL(o.retry_total_us, SOURCE_ENV_CHECK_RETRY_TOTAL_S * US);
    CU_ASSERT_EQUAL(o.request_timeout_us, 90 * US); /* timeouts stay as configured */
    CU_ASSERT_PTR_NULL(o.stop);
    source_env_term(&env);

    /* fewer retries configured than the probe allows: kept */
    CU_ASSERT_EQUAL_FATAL(source_env_init_check(&env, source("window"), posiflora, &err), FE_OK);
    http_client_opts(env.http, &o);
    CU_ASSERT_EQUAL(o.backoff.max_retries, 0);
    CU_ASSERT_EQUAL(o.retry_total_us, SOURCE_ENV_CHECK_RETRY_TOTAL_S * US);
    source_env_term(&env);
}

/* The client's notices (retries, long waits) are log lines under the source's name. */
static void test_events_logged_under_source(void)
{
    source_env env;
    fe_err err = {0};
    http_opts o;
    char text[1024] = "";
    CU_ASSERT_EQUAL_FATAL(source_env_init(&env, source("plain"), posiflora, NULL, &err), FE_OK);
    http_client_opts(env.http, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o.on_event);
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    CU_ASSERT_FATAL(saved >= 0);
    dup2(fileno(f), STDERR_FILENO);
    http_event ev = {.kind = HTTP_EV_RETRY,
                     .level = LOG_INFO,
                     .name = "retry",
                     .text = "retry 1/8 in 0.5 s after HTTP 503 on GET /v1/orders"};
    o.on_event(o.event_ctx, &ev);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "INFO  plain: retry 1/8 in 0.5 s after HTTP 503 on GET /v1/orders\n"));
    source_env_term(&env);
}

/* A stream thread's env: its own client on the source's one limiter, which its
 * term leaves to its owner; grants of either env spend the one budget. */
static void test_sharing_one_limiter(void)
{
    source_env owner, thread;
    fe_err err = {0};
    CU_ASSERT_EQUAL_FATAL(source_env_init(&owner, source("window"), posiflora, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(
        source_env_init_sharing(&thread, source("window"), posiflora, NULL, owner.rl, &err), FE_OK);
    CU_ASSERT_PTR_EQUAL(thread.rl, owner.rl);
    CU_ASSERT_PTR_NOT_NULL(thread.http);
    CU_ASSERT_PTR_NOT_EQUAL(thread.http, owner.http);
    CU_ASSERT_EQUAL(grants_at_once(thread.rl, 4), 4);
    CU_ASSERT_EQUAL(grants_at_once(owner.rl, 20), 2); /* 6 in any 3 s, 4 spent */
    source_env_term(&thread);
    CU_ASSERT_PTR_NULL(thread.rl);
    CU_ASSERT_EQUAL(ratelimit_try_acquire(owner.rl) > 0, 1); /* still there, still spent */
    source_env_term(&owner);
}

static void test_term_on_zeroed_env(void)
{
    source_env env;
    memset(&env, 0, sizeof env);
    source_env_term(&env);
    source_env_term(&env);
    CU_ASSERT_PTR_NULL(env.http);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("source_env", suite_init, suite_term);
    CU_add_test(s, "defaults", test_defaults);
    CU_add_test(s, "config keys applied", test_config_keys_applied);
    CU_add_test(s, "rate_window makes a sliding window", test_rate_window);
    CU_add_test(s, "rate_window too big", test_rate_window_too_big);
    CU_add_test(s, "check probe policy", test_check_probe_policy);
    CU_add_test(s, "events logged under the source", test_events_logged_under_source);
    CU_add_test(s, "term on a zeroed env", test_term_on_zeroed_env);
    CU_add_test(s, "a stream thread shares the limiter", test_sharing_one_limiter);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
