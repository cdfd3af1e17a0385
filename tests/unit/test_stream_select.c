/* stream_select: the targets of `run` and `status` ("SOURCE", "SOURCE.STREAM") and
 * the `streams` key, resolved against a config; the errors are checked as logged. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/stream_select.h"
#include "core/config.h"
#include "sources/source.h"

#define POSIFLORA_KEYS                                                                             \
    "type = posiflora\n"                                                                           \
    "base_url = https://shop.example.com/api\n"                                                    \
    "username = u\n"                                                                               \
    "password = p\n"

/* shop2 comes first: a target "shop" must not stop at the name it prefixes. */
static const char CONFIG_TEXT[] =
    "[source.shop2]\n" POSIFLORA_KEYS "streams = orders, customers\n"
    "[source.shop]\n" POSIFLORA_KEYS "[source.typo]\n" POSIFLORA_KEYS "streams = orders, ordres\n";

static config *cfg;
static const source_def *posiflora;

static int suite_init(void)
{
    fe_err err = {0};
    if (config_load_string(CONFIG_TEXT, "t.conf", source_schema(), &cfg, &err) != FE_OK) {
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

/* What the code under test logs goes to stderr: kept in a file while it runs. */
typedef struct {
    FILE *file;
    int saved;
    char text[4096];
} capture;

static void capture_start(capture *c)
{
    fflush(stderr);
    c->file = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->file);
    c->saved = dup(STDERR_FILENO);
    CU_ASSERT_FATAL(c->saved >= 0);
    CU_ASSERT_FATAL(dup2(fileno(c->file), STDERR_FILENO) >= 0);
}

/* Restores stderr; returns what was logged meanwhile. */
static const char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    rewind(c->file);
    size_t n = fread(c->text, 1, sizeof c->text - 1, c->file);
    c->text[n] = '\0';
    fclose(c->file);
    return c->text;
}

/* "stores, categories, ...": the type's streams as the messages list them. */
static void stream_list(char *dst, size_t size)
{
    size_t used = 0;
    dst[0] = '\0';
    for (int i = 0; i < posiflora->nstreams; i++)
        used += (size_t)snprintf(dst + used, size - used, "%s%s", i ? ", " : "",
                                 posiflora->streams[i].name);
}

/* Resolves target; returns what was logged (static). */
static const char *target(const char *text, bool want, const source_config **conf,
                          const stream_def **stream)
{
    static capture c;
    capture_start(&c);
    bool got = stream_select_target(cfg, text, conf, stream);
    const char *logged = capture_end(&c);
    CU_ASSERT_EQUAL(got, want);
    return logged;
}

#define ASSERT_LOGGED(logged, want)                                                                \
    do {                                                                                           \
        if (!strstr((logged), (want)))                                                             \
            fprintf(stderr, "\n  want: %s\n  got:  %s\n", (want), (logged));                       \
        CU_ASSERT_PTR_NOT_NULL(strstr((logged), (want)));                                          \
    } while (0)

static void test_find_matches_whole_name(void)
{
    const stream_def *s = stream_select_find(posiflora, "orders", 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->name, "orders");
    /* only len bytes count: the name may sit inside a longer text */
    s = stream_select_find(posiflora, "orders.x", 6);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->name, "orders");
    CU_ASSERT_PTR_NULL(stream_select_find(posiflora, "orders", 5)); /* "order" */
    CU_ASSERT_PTR_NULL(stream_select_find(posiflora, "ord", 3));
    CU_ASSERT_PTR_NULL(stream_select_find(posiflora, "", 0));
    CU_ASSERT_PTR_NULL(stream_select_find(posiflora, "Orders", 6)); /* case matters */
}

static void test_target_source(void)
{
    const source_config *conf = NULL;
    const stream_def *stream = (const stream_def *)&conf; /* must be reset */
    const char *logged = target("shop", true, &conf, &stream);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_STRING_EQUAL(conf->name, "shop");
    CU_ASSERT_PTR_NULL(stream);
    CU_ASSERT_STRING_EQUAL(logged, "");

    logged = target("shop2", true, &conf, &stream);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_STRING_EQUAL(conf->name, "shop2");
    CU_ASSERT_PTR_NULL(stream);
}

static void test_target_stream(void)
{
    const source_config *conf = NULL;
    const stream_def *stream = NULL;
    target("shop.customers", true, &conf, &stream);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_STRING_EQUAL(conf->name, "shop");
    CU_ASSERT_PTR_NOT_NULL_FATAL(stream);
    CU_ASSERT_STRING_EQUAL(stream->name, "customers");
    CU_ASSERT_PTR_EQUAL(stream, stream_select_find(posiflora, "customers", 9));
    /* a stream the source's `streams` key leaves out is still a valid target */
    target("shop2.stores", true, &conf, &stream);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stream);
    CU_ASSERT_STRING_EQUAL(stream->name, "stores");
}

static void test_target_unknown_source(void)
{
    const source_config *conf = NULL;
    const stream_def *stream = NULL;
    const char *logged = target("nope", false, &conf, &stream);
    CU_ASSERT_PTR_NULL(conf);
    CU_ASSERT_PTR_NULL(stream);
    ASSERT_LOGGED(logged, "ERROR unknown source 'nope' in 'nope': no [source.nope] in the config");
    logged = target("nope.orders", false, &conf, &stream);
    ASSERT_LOGGED(logged, "unknown source 'nope' in 'nope.orders': no [source.nope] in the config");
    /* a prefix of a source is not that source */
    logged = target("sho.orders", false, &conf, &stream);
    ASSERT_LOGGED(logged, "unknown source 'sho' in 'sho.orders'");
    logged = target("", false, &conf, &stream);
    ASSERT_LOGGED(logged, "unknown source '' in '': no [source.] in the config");
}

static void test_target_unknown_stream(void)
{
    const source_config *conf = NULL;
    const stream_def *stream = NULL;
    char names[512], want[700];
    stream_list(names, sizeof names);
    const char *logged = target("shop.ordres", false, &conf, &stream);
    CU_ASSERT_PTR_NULL(stream);
    snprintf(want, sizeof want,
             "ERROR unknown stream 'ordres' of source 'shop' (type posiflora has: %s)", names);
    ASSERT_LOGGED(logged, want);
    logged = target("shop.", false, &conf, &stream);
    snprintf(want, sizeof want, "unknown stream '' of source 'shop' (type posiflora has: %s)",
             names);
    ASSERT_LOGGED(logged, want);
    /* everything after the first dot is the stream's name */
    logged = target("shop.orders.x", false, &conf, &stream);
    ASSERT_LOGGED(logged, "unknown stream 'orders.x' of source 'shop'");
}

static bool check_configured(const char *name, const char **logged)
{
    static capture c;
    const source_config *conf = config_source(cfg, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    capture_start(&c);
    bool ok = stream_select_check_configured(conf, posiflora);
    *logged = capture_end(&c);
    return ok;
}

static void test_check_configured(void)
{
    const char *logged;
    char names[512], want[700];
    CU_ASSERT_TRUE(check_configured("shop", &logged)); /* no `streams`: all of them */
    CU_ASSERT_STRING_EQUAL(logged, "");
    CU_ASSERT_TRUE(check_configured("shop2", &logged));
    CU_ASSERT_STRING_EQUAL(logged, "");
    CU_ASSERT_FALSE(check_configured("typo", &logged));
    stream_list(names, sizeof names);
    snprintf(want, sizeof want,
             "ERROR [source.typo] streams: unknown stream 'ordres' (type posiflora has: %s)",
             names);
    ASSERT_LOGGED(logged, want);
}

static void test_is_configured(void)
{
    const source_config *all = config_source(cfg, "shop");
    const source_config *some = config_source(cfg, "shop2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    CU_ASSERT_PTR_NOT_NULL_FATAL(some);
    for (int i = 0; i < posiflora->nstreams; i++) {
        const stream_def *s = &posiflora->streams[i];
        bool listed = strcmp(s->name, "orders") == 0 || strcmp(s->name, "customers") == 0;
        CU_ASSERT_TRUE(stream_select_is_configured(all, s));
        CU_ASSERT_EQUAL(stream_select_is_configured(some, s), listed);
    }
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("stream_select", suite_init, suite_term);
    CU_add_test(s, "find matches the whole name", test_find_matches_whole_name);
    CU_add_test(s, "target SOURCE", test_target_source);
    CU_add_test(s, "target SOURCE.STREAM", test_target_stream);
    CU_add_test(s, "unknown source", test_target_unknown_source);
    CU_add_test(s, "unknown stream", test_target_unknown_stream);
    CU_add_test(s, "streams key checked against the type", test_check_configured);
    CU_add_test(s, "streams key enables streams", test_is_configured);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
