#include <CUnit/Basic.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "sources/source.h"

#define SEC INT64_C(1000000)

/* A valid posiflora section to build error cases on. */
#define POSIFLORA_OK                                                                               \
    "type = posiflora\n"                                                                           \
    "base_url = https://shop.posiflora.com/api\n"                                                  \
    "username = u\n"                                                                               \
    "password = p\n"

/* Loads text and expands every source, as `run` with no argument does. */
static fe_rc load_resolved(const char *text, config **out, fe_err *err)
{
    fe_rc rc = config_load_string(text, "t.conf", source_schema(), out, err);
    for (size_t i = 0; rc == FE_OK && i < (*out)->nsources; i++)
        rc = config_resolve_source(*out, (*out)->sources[i].name, NULL, 0, err);
    if (rc != FE_OK) {
        config_free(*out);
        *out = NULL;
    }
    return rc;
}

static config *load_ok(const char *text)
{
    config *c = NULL;
    fe_err err = {0};
    fe_rc rc = load_resolved(text, &c, &err);
    if (rc != FE_OK)
        fprintf(stderr, "\nunexpected error: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, FE_OK);
    return c;
}

/* Loads text that must fail (at load or when its sources are expanded); returns the
 * message (static). */
static const char *load_err(const char *text)
{
    static fe_err err;
    config *c = NULL;
    memset(&err, 0, sizeof err);
    fe_rc rc = load_resolved(text, &c, &err);
    CU_ASSERT_EQUAL(rc, FE_ECONFIG);
    CU_ASSERT_EQUAL(err.code, FE_ECONFIG);
    CU_ASSERT_PTR_NULL(c);
    config_free(c);
    return err.msg;
}

/* "posiflora, goflow, ..." from the registry. Static storage. */
static const char *registered_types(void)
{
    static char list[256];
    size_t n, len = 0;
    const source_def *const *all = source_all(&n);
    list[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                all[i]->type.name);
    return list;
}

/* The same, "a, b or c" (as the messages that offer a choice write it). */
static const char *registered_types_or(void)
{
    static char list[256];
    const char *all = registered_types();
    const char *last = strrchr(all, ',');
    if (!last)
        return all;
    snprintf(list, sizeof list, "%.*s or %s", (int)(last - all), all, last + 2);
    return list;
}

#define ASSERT_ERR(text, want)                                                                     \
    do {                                                                                           \
        const char *got_ = load_err(text);                                                         \
        if (strcmp(got_, want) != 0)                                                               \
            fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, got_);                             \
        CU_ASSERT_STRING_EQUAL(got_, want);                                                        \
    } while (0)

static void test_full_file(void)
{
    setenv("FE_TEST_USER", "florist", 1);
    setenv("FE_TEST_PASSWORD", "s3cret!", 1);
    config *c = load_ok(
        "[warehouse]\n"
        "dsn = postgresql://etl@localhost/dw   ; libpq conninfo or URI; empty = libpq defaults\n"
        "\n"
        "[source.posiflora_main]               ; source.NAME: NAME is yours\n"
        "type = posiflora                      ; posiflora | goflow | flowwow | flowretail\n"
        "base_url = https://myshop.posiflora.com/api\n"
        "username = ${FE_TEST_USER}\n"
        "password = ${FE_TEST_PASSWORD}\n"
        "timezone = Europe/Moscow              ; business dates of this source (default UTC)\n"
        "lookback = 3h\n"
        "streams = orders, customers\n"
        "start_date = 2024-01-01\n"
        "page_size = 50\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->path, "t.conf");
    CU_ASSERT_STRING_EQUAL(c->dsn, "postgresql://etl@localhost/dw");
    int64_t us = 0;
    CU_ASSERT_STRING_EQUAL(config_run_str(c, "log_level"), "info");
    CU_ASSERT_TRUE(config_run_duration(c, "progress_interval", &us));
    CU_ASSERT_EQUAL(us, 10 * SEC);
    CU_ASSERT_EQUAL_FATAL(c->nsources, 1);
    const source_config *s = config_source(c, "posiflora_main");
    CU_ASSERT_PTR_EQUAL_FATAL(s, &c->sources[0]);
    CU_ASSERT_STRING_EQUAL(s->name, "posiflora_main");
    CU_ASSERT_STRING_EQUAL(s->type, "posiflora");
    CU_ASSERT_EQUAL(s->line, 4);
    CU_ASSERT_EQUAL(s->nkv, 9);
    CU_ASSERT_STRING_EQUAL(s->kv[0].key, "type");
    CU_ASSERT_EQUAL(s->kv[0].line, 5);
    CU_ASSERT_STRING_EQUAL(config_str(s, "base_url"), "https://myshop.posiflora.com/api");
    CU_ASSERT_STRING_EQUAL(config_str(s, "username"), "florist");
    CU_ASSERT_STRING_EQUAL(config_str(s, "password"), "s3cret!");
    CU_ASSERT_STRING_EQUAL(config_str(s, "timezone"), "Europe/Moscow");
    CU_ASSERT_STRING_EQUAL(config_str(s, "start_date"), "2024-01-01");
    us = 0;
    CU_ASSERT_TRUE(config_duration(s, "lookback", &us));
    CU_ASSERT_EQUAL(us, 3 * 3600 * SEC);
    long l = 0;
    CU_ASSERT_TRUE(config_int(s, "page_size", &l));
    CU_ASSERT_EQUAL(l, 50);
    CU_ASSERT_TRUE(config_list_has(s, "streams", "orders"));
    CU_ASSERT_TRUE(config_list_has(s, "streams", "customers"));
    CU_ASSERT_FALSE(config_list_has(s, "streams", "stores"));
    CU_ASSERT_FALSE(config_list_has(s, "streams", "order"));
    const char *item;
    size_t len;
    CU_ASSERT_TRUE(config_list_at(s, "streams", 1, &item, &len));
    CU_ASSERT_EQUAL(len, 9);
    CU_ASSERT_EQUAL(strncmp(item, "customers", len), 0);
    CU_ASSERT_FALSE(config_list_at(s, "streams", 2, &item, &len));
    CU_ASSERT_PTR_NULL(config_source(c, "posiflora"));
    config_free(c);
}

static void test_defaults(void)
{
    config *c = load_ok("[source.p]\n" POSIFLORA_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->dsn, "");
    const source_config *s = config_source(c, "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    long l;
    double d;
    bool b;
    int64_t us;
    struct {
        const char *key;
        long want;
    } ints[] = {{"page_size", 100},     {"max_parallel", 4},          {"retries", 8},
                {"retry_base_ms", 500}, {"checkpoint_records", 5000}, {"max_rejects", 100}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        l = -1;
        CU_ASSERT_TRUE(config_int(s, ints[i].key, &l));
        CU_ASSERT_EQUAL(l, ints[i].want);
    }
    struct {
        const char *key;
        int64_t want;
    } durs[] = {{"lookback", 7200 * SEC},
                {"connect_timeout", 10 * SEC},
                {"low_speed_timeout", 60 * SEC},
                {"retry_max", 60 * SEC},
                {"refresh_margin", 60 * SEC}};
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        us = -1;
        CU_ASSERT_TRUE(config_duration(s, durs[i].key, &us));
        CU_ASSERT_EQUAL(us, durs[i].want);
    }
    CU_ASSERT_TRUE(config_double(s, "rate_limit", &d));
    CU_ASSERT_DOUBLE_EQUAL(d, 5.0, 1e-9);
    CU_ASSERT_TRUE(config_double(s, "rate_burst", &d));
    CU_ASSERT_DOUBLE_EQUAL(d, 5.0, 1e-9);
    b = false;
    CU_ASSERT_TRUE(config_bool(s, "tls_verify", &b));
    CU_ASSERT_TRUE(b);
    b = false;
    CU_ASSERT_TRUE(config_bool(s, "orders_sort", &b));
    CU_ASSERT_TRUE(b);
    CU_ASSERT_STRING_EQUAL(config_str(s, "timezone"), "UTC");
    CU_ASSERT_STRING_EQUAL(config_str(s, "currency"), "RUB");
    CU_ASSERT_STRING_EQUAL(config_str(s, "orders_cursor_field"), "updatedAt");
    /* No value and no default. */
    CU_ASSERT_PTR_NULL(config_str(s, "start_date"));
    CU_ASSERT_PTR_NULL(config_str(s, "ca_file"));
    CU_ASSERT_PTR_NULL(config_str(s, "streams"));
    CU_ASSERT_PTR_NULL(config_str(s, "no_such_key"));
    CU_ASSERT_FALSE(config_list_has(s, "streams", "orders"));
    CU_ASSERT_FALSE(config_int(s, "no_such_key", &l));
    CU_ASSERT_FALSE(config_duration(s, "start_date", &us));
    CU_ASSERT_EQUAL(config_int_or(s, "no_such_key", 7), 7);
    CU_ASSERT_EQUAL(config_int_or(s, "page_size", 7), 100); /* the table's default */
    config_free(c);

    /* An empty file is valid: no sources, warehouse and run defaults. */
    c = load_ok("");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->nsources, 0);
    CU_ASSERT_STRING_EQUAL(c->dsn, "");
    CU_ASSERT_STRING_EQUAL(config_run_str(c, "log_level"), "info");
    CU_ASSERT_TRUE(config_run_duration(c, "progress_interval", &us));
    CU_ASSERT_EQUAL(us, 10 * SEC);
    config_free(c);
    config_free(NULL);
}

static void test_values_given(void)
{
    config *c = load_ok("[run]\nlog_level = debug\nprogress_interval = 1m\n"
                        "[source.p]\n" POSIFLORA_OK "tls_verify = off\norders_sort = No\n"
                        "rate_limit = 2.5\nretries = 0\nrefresh_margin = 0\n"
                        "orders_cursor_field = modifiedAt\ncurrency = EUR\n"
                        "ca_file = /etc/ssl/x.pem\nmax_rejects = 0\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(config_run_str(c, "log_level"), "debug");
    int64_t us = -1;
    CU_ASSERT_TRUE(config_run_duration(c, "progress_interval", &us));
    CU_ASSERT_EQUAL(us, 60 * SEC);
    CU_ASSERT_PTR_NULL(config_run_str(c, "no_such_key"));
    CU_ASSERT_FALSE(config_run_duration(c, "no_such_key", &us));
    const source_config *s = &c->sources[0];
    bool b = true;
    CU_ASSERT_TRUE(config_bool(s, "tls_verify", &b));
    CU_ASSERT_FALSE(b);
    b = true;
    CU_ASSERT_TRUE(config_bool(s, "orders_sort", &b));
    CU_ASSERT_FALSE(b);
    double d = 0;
    CU_ASSERT_TRUE(config_double(s, "rate_limit", &d));
    CU_ASSERT_DOUBLE_EQUAL(d, 2.5, 1e-9);
    long l = -1;
    CU_ASSERT_TRUE(config_int(s, "retries", &l));
    CU_ASSERT_EQUAL(l, 0);
    us = -1;
    CU_ASSERT_TRUE(config_duration(s, "refresh_margin", &us));
    CU_ASSERT_EQUAL(us, 0);
    CU_ASSERT_STRING_EQUAL(config_str(s, "orders_cursor_field"), "modifiedAt");
    CU_ASSERT_STRING_EQUAL(config_str(s, "currency"), "EUR");
    CU_ASSERT_STRING_EQUAL(config_str(s, "ca_file"), "/etc/ssl/x.pem");
    config_free(c);

    /* Every bool spelling. */
    const char *yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
    const char *no[] = {"false", "no", "off", "0", "False", "OFF"};
    for (size_t i = 0; i < 6; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "[source.p]\n" POSIFLORA_OK "tls_verify = %s\norders_sort = %s\n", yes[i], no[i]);
        c = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        bool t = false, f = true;
        CU_ASSERT_TRUE(config_bool(&c->sources[0], "tls_verify", &t));
        CU_ASSERT_TRUE(config_bool(&c->sources[0], "orders_sort", &f));
        CU_ASSERT_TRUE(t);
        CU_ASSERT_FALSE(f);
        config_free(c);
    }
}

static void test_type_after_other_keys(void)
{
    config *c = load_ok("[source.late]\n"
                        "page_size = 20\n"
                        "username = u\n"
                        "password = p\n"
                        "base_url = http://127.0.0.1:8080/posiflora/api\n"
                        "type = posiflora\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    long l = 0;
    CU_ASSERT_TRUE(config_int(&c->sources[0], "page_size", &l));
    CU_ASSERT_EQUAL(l, 20);
    CU_ASSERT_STRING_EQUAL(c->sources[0].type, "posiflora");
    config_free(c);
    /* A posiflora-only key before the type line is judged by the type. */
    ASSERT_ERR("[source.late]\nsubdomain = x\n" POSIFLORA_OK,
               "t.conf:2: unknown key 'subdomain' in [source.late] (type posiflora)");
}

static void test_several_sources(void)
{
    config *c = load_ok("[source.a]\n" POSIFLORA_OK "[warehouse]\ndsn=\n[source.b_2]\n" POSIFLORA_OK
                        "page_size = 7\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL_FATAL(c->nsources, 2);
    CU_ASSERT_STRING_EQUAL(c->sources[0].name, "a");
    CU_ASSERT_STRING_EQUAL(c->sources[1].name, "b_2");
    CU_ASSERT_EQUAL(c->sources[1].line, 8);
    long l = 0;
    CU_ASSERT_TRUE(config_int(config_source(c, "a"), "page_size", &l));
    CU_ASSERT_EQUAL(l, 100);
    CU_ASSERT_TRUE(config_int(config_source(c, "b_2"), "page_size", &l));
    CU_ASSERT_EQUAL(l, 7);
    config_free(c);
}

static void test_errors_structure(void)
{
    ASSERT_ERR("[warehouse]\ndsn=\n\n[foo]\nx = 1\n",
               "t.conf:4: unknown section [foo] (expected [warehouse], [run] or [source.NAME])");
    ASSERT_ERR("[source.posiflora_main]\n" POSIFLORA_OK "colour = red\n",
               "t.conf:6: unknown key 'colour' in [source.posiflora_main] (type posiflora)");
    ASSERT_ERR("[warehouse]\ndsn = x\nhost = y\n", "t.conf:3: unknown key 'host' in [warehouse]");
    ASSERT_ERR("[run]\nverbose = 1\n", "t.conf:2: unknown key 'verbose' in [run]");
    ASSERT_ERR("[source.a-b]\n" POSIFLORA_OK,
               "t.conf:1: invalid source name 'a-b' in [source.a-b]: use letters, digits and _");
    ASSERT_ERR("[source.]\n" POSIFLORA_OK,
               "t.conf:1: invalid source name '' in [source.]: use letters, digits and _");
    ASSERT_ERR("[source.a]\n" POSIFLORA_OK "\n[source.b]\n" POSIFLORA_OK "[source.a]\n",
               "t.conf:12: duplicate section [source.a] (first at line 1)");
    ASSERT_ERR("[warehouse]\n[warehouse]\n",
               "t.conf:2: duplicate section [warehouse] (first at line 1)");
    ASSERT_ERR("[source.a]\n" POSIFLORA_OK "page_size = 10\npage_size = 20\n",
               "t.conf:7: duplicate key 'page_size' in [source.a] (first at line 6)");
    ASSERT_ERR("dsn = x\n[warehouse]\n", "t.conf:1: key 'dsn' outside any section");
    ASSERT_ERR("[warehouse]\ndsn = x\nthis is not ini\n",
               "t.conf:3: syntax error: expected [section], key = value or a comment");
    ASSERT_ERR("[warehouse\ndsn = x\n",
               "t.conf:1: syntax error: expected [section], key = value or a comment");
    ASSERT_ERR("[warehouse] extra\n", "t.conf:1: unexpected text after [warehouse]");
    ASSERT_ERR("[warehouse]\n= x\n", "t.conf:2: missing key name before '='");
}

static void test_errors_source_type(void)
{
    ASSERT_ERR("[source.g]\nsubdomain = x\n",
               "t.conf:1: missing required key 'type' in [source.g]");
    ASSERT_ERR("[source.f]\ntype = flowwow\n",
               "t.conf:1: missing required key 'token' in [source.f] (type flowwow)");
    ASSERT_ERR("[source.f]\ntype = flowretail\ntoken = t\n",
               "t.conf:1: missing required key 'tenant' in [source.f] (type flowretail)");
    /* The list is the registry's, in its order (a fifth source joins it unasked). */
    char want[256];
    snprintf(want, sizeof want, "t.conf:2: unknown source type 'shopify' (one of: %s)",
             registered_types());
    CU_ASSERT_PTR_NOT_NULL(strstr(want, "(one of: posiflora, goflow, flowwow, flowretail"));
    ASSERT_ERR("[source.s]\ntype = shopify\n", want);
    snprintf(want, sizeof want, "t.conf:2: unknown source type 'Posiflora' (one of: %s)",
             registered_types());
    ASSERT_ERR("[source.s]\ntype = Posiflora\n", want);
    ASSERT_ERR("[source.p]\ntype = posiflora\nbase_url = http://x\npassword = p\n",
               "t.conf:1: missing required key 'username' in [source.p] (type posiflora)");
    ASSERT_ERR("[source.p]\ntype = posiflora\nusername = u\npassword = p\n",
               "t.conf:1: missing required key 'base_url' in [source.p] (type posiflora)");
    ASSERT_ERR("[source.p]\ntype = posiflora\nbase_url = http://x\nusername = u\n",
               "t.conf:1: missing required key 'password' in [source.p] (type posiflora)");
    ASSERT_ERR("[source.p]\n" POSIFLORA_OK "[source.q]\ntype = posiflora\nbase_url = http://x\n"
               "username = \npassword = p\n",
               "t.conf:9: key 'username' in [source.q] must not be empty");
}

static void test_errors_values(void)
{
    struct {
        const char *line, *want;
    } cases[] = {
        {"page_size = 101",
         "t.conf:6: invalid value '101' for 'page_size' in [source.p]: expected an integer from 1 "
         "to 100"},
        {"page_size = 0",
         "t.conf:6: invalid value '0' for 'page_size' in [source.p]: expected an integer from 1 "
         "to 100"},
        {"page_size = 10x",
         "t.conf:6: invalid value '10x' for 'page_size' in [source.p]: expected an integer from 1 "
         "to 100"},
        {"page_size = 99999999999999999999999",
         "t.conf:6: invalid value '99999999999999999999999' for 'page_size' in [source.p]: "
         "expected an integer from 1 to 100"},
        {"max_rejects = -1",
         "t.conf:6: invalid value '-1' for 'max_rejects' in [source.p]: expected an integer >= 0"},
        {"rate_limit = fast",
         "t.conf:6: invalid value 'fast' for 'rate_limit' in [source.p]: expected a number from "
         "0.01 to 10000"},
        {"rate_limit = 0",
         "t.conf:6: invalid value '0' for 'rate_limit' in [source.p]: expected a number from "
         "0.01 to 10000"},
        {"rate_burst = nan",
         "t.conf:6: invalid value 'nan' for 'rate_burst' in [source.p]: expected a number from 1 "
         "to 10000"},
        {"tls_verify = maybe",
         "t.conf:6: invalid value 'maybe' for 'tls_verify' in [source.p]: expected true or false "
         "(or yes/no, on/off, 1/0)"},
        {"lookback = 2 hours",
         "t.conf:6: invalid value '2 hours' for 'lookback' in [source.p]: expected a duration "
         "from 0s to 366d such as 90s, 10m, 2h, 1h30m or 7d"},
        {"connect_timeout = 0",
         "t.conf:6: invalid value '0' for 'connect_timeout' in [source.p]: expected a duration "
         "from 1s to 1h such as 90s, 10m, 2h, 1h30m or 7d"},
        {"streams = orders,,customers",
         "t.conf:6: invalid value 'orders,,customers' for 'streams' in [source.p]: expected a "
         "comma-separated list of names"},
        {"streams = orders,",
         "t.conf:6: invalid value 'orders,' for 'streams' in [source.p]: expected a "
         "comma-separated list of names"},
        {"currency = rub",
         "t.conf:6: invalid value 'rub' for 'currency' in [source.p]: expected 3 upper-case "
         "letters (ISO 4217), e.g. RUB"},
        {"start_date = 2023-02-29",
         "t.conf:6: invalid value '2023-02-29' for 'start_date' in [source.p]: expected a date "
         "YYYY-MM-DD"},
        {"start_date = 2023-02-01T00:00:00Z",
         "t.conf:6: invalid value '2023-02-01T00:00:00Z' for 'start_date' in [source.p]: "
         "expected a date YYYY-MM-DD"},
        {"timezone = Europe/Moscow time",
         "t.conf:6: invalid value 'Europe/Moscow time' for 'timezone' in [source.p]: expected an "
         "IANA time zone name, e.g. Europe/Moscow"},
        {"orders_cursor_field = createdAt",
         "t.conf:6: invalid value 'createdAt' for 'orders_cursor_field' in [source.p]: expected "
         "one of updatedAt|modifiedAt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "[source.p]\n" POSIFLORA_OK "%s\n", cases[i].line);
        ASSERT_ERR(text, cases[i].want);
    }
    ASSERT_ERR("[source.p]\ntype = posiflora\nbase_url = ftp://x\nusername = u\npassword = p\n",
               "t.conf:3: invalid value 'ftp://x' for 'base_url' in [source.p]: expected an "
               "http:// or https:// URL");
    ASSERT_ERR("[run]\nlog_level = verbose\n",
               "t.conf:2: invalid value 'verbose' for 'log_level' in [run]: expected one of "
               "error|warn|info|debug");
    ASSERT_ERR("[run]\nprogress_interval = 0\n",
               "t.conf:2: invalid value '0' for 'progress_interval' in [run]: expected a duration "
               "from 1s to 1d such as 90s, 10m, 2h, 1h30m or 7d");
}

/* The reported error is the first one in the file, whatever the check that finds it;
 * a section-wide complaint (missing key) comes after the section's own lines, so a
 * misspelt key is named rather than the key it hides. */
static void test_error_order(void)
{
    unsetenv("FE_TEST_UNSET");
    ASSERT_ERR("[source.p]\ntype = posiflora\nbase_url = http://x\nusername = u\n"
               "pasword = p\n",
               "t.conf:5: unknown key 'pasword' in [source.p] (type posiflora)");
    ASSERT_ERR("[source.p]\ntype = posiflora\nbase_url = http://x\nusername = u\n"
               "password = ${FE_TEST_UNSET}\n",
               "t.conf:5: environment variable FE_TEST_UNSET is not set");
    ASSERT_ERR(
        "[source.p]\n" POSIFLORA_OK "page_size = 0\n[bogus]\n",
        "t.conf:6: invalid value '0' for 'page_size' in [source.p]: expected an integer from "
        "1 to 100");
    ASSERT_ERR("[source.p]\ntype = posiflora\n[bogus]\n[source.q]\n" POSIFLORA_OK "x=1\n",
               "t.conf:1: missing required key 'base_url' in [source.p] (type posiflora)");
    ASSERT_ERR("[warehouse]\ndsn = ${FE_TEST_UNSET}\n[source.p]\ntype = goflow\n",
               "t.conf:2: environment variable FE_TEST_UNSET is not set");
}

static void test_env_expansion(void)
{
    setenv("FE_TEST_HOST", "shop.example", 1);
    setenv("FE_TEST_PORT", "8443", 1);
    setenv("FE_TEST_EMPTY", "", 1);
    setenv("FE_TEST_SPACES", "a ; b", 1);
    unsetenv("FE_TEST_UNSET");
    config *c = load_ok(
        "[warehouse]\n"
        "dsn = host=${FE_TEST_HOST} port=${FE_TEST_PORT}${FE_TEST_EMPTY} x=$HOME $\n"
        "[source.p]\ntype = posiflora\nbase_url = https://${FE_TEST_HOST}:${FE_TEST_PORT}/api\n"
        "username = ${FE_TEST_HOST}${FE_TEST_HOST}\npassword = ${FE_TEST_SPACES}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->dsn, "host=shop.example port=8443 x=$HOME $");
    const source_config *s = &c->sources[0];
    CU_ASSERT_STRING_EQUAL(config_str(s, "base_url"), "https://shop.example:8443/api");
    CU_ASSERT_STRING_EQUAL(config_str(s, "username"), "shop.exampleshop.example");
    /* A value from the environment is taken as is: " ;" there is not a comment. */
    CU_ASSERT_STRING_EQUAL(config_str(s, "password"), "a ; b");
    config_free(c);

    ASSERT_ERR("[warehouse]\n\ndsn = host=${FE_TEST_HOST} password=${FE_TEST_UNSET}\n",
               "t.conf:3: environment variable FE_TEST_UNSET is not set");
    ASSERT_ERR("[warehouse]\ndsn = ${FE_TEST_HOST\n",
               "t.conf:2: unterminated ${ in the value of 'dsn'");
    ASSERT_ERR("[warehouse]\ndsn = ${}\n",
               "t.conf:2: invalid environment variable name '${}' in the value of 'dsn'");
    ASSERT_ERR("[warehouse]\ndsn = ${A-B}\n",
               "t.conf:2: invalid environment variable name '${A-B}' in the value of 'dsn'");
    /* Expansion happens before validation: a bad expanded value is reported. */
    setenv("FE_TEST_SIZE", "500", 1);
    ASSERT_ERR("[source.p]\n" POSIFLORA_OK "page_size = ${FE_TEST_SIZE}\n",
               "t.conf:6: invalid value '500' for 'page_size' in [source.p]: expected an integer "
               "from 1 to 100");
}

static void test_comments_and_layout(void)
{
    config *c = load_ok("; full-line comment\n"
                        "# another one\n"
                        "[warehouse] ; comment after a section\n"
                        "dsn = host=/tmp dbname=dw ; the warehouse\n"
                        "[source.p]\n"
                        "  type = posiflora\n"
                        "\tbase_url = http://127.0.0.1:1/api\t; indented keys are fine\n"
                        "    username = u\n"
                        "password = pa;ss#word\n"
                        "streams = orders ; only orders\n"
                        "\n"
                        "   \n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->dsn, "host=/tmp dbname=dw");
    const source_config *s = &c->sources[0];
    CU_ASSERT_STRING_EQUAL(config_str(s, "base_url"), "http://127.0.0.1:1/api");
    CU_ASSERT_STRING_EQUAL(config_str(s, "username"), "u");
    /* ';' and '#' without white space before them are part of the value. */
    CU_ASSERT_STRING_EQUAL(config_str(s, "password"), "pa;ss#word");
    CU_ASSERT_TRUE(config_list_has(s, "streams", "orders"));
    CU_ASSERT_FALSE(config_list_has(s, "streams", "only"));
    CU_ASSERT_EQUAL(s->kv[4].line, 10);
    config_free(c);

    /* Same result when inih is run without inline comment support (the module strips
     * " ;..." itself). The switch is global in Debian's libinih: tests only. */
    ini_allow_inline_comments = false;
    c = load_ok("[warehouse]\ndsn = host=/tmp dbname=dw ; the warehouse\n");
    ini_allow_inline_comments = true;
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->dsn, "host=/tmp dbname=dw");
    config_free(c);

    /* Windows line ends and a UTF-8 BOM. */
    c = load_ok("\xEF\xBB\xBF[warehouse]\r\ndsn = x\r\n[run]\r\nlog_level = warn\r\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->dsn, "x");
    CU_ASSERT_STRING_EQUAL(config_run_str(c, "log_level"), "warn");
    config_free(c);

    /* A line longer than inih's buffer is an error, not a silently split line. */
    char text[600];
    char longval[400];
    memset(longval, 'a', sizeof longval - 1);
    longval[sizeof longval - 1] = '\0';
    snprintf(text, sizeof text, "[warehouse]\n\ndsn = %s\n", longval);
    const char *msg = load_err(text);
    CU_ASSERT_STRING_EQUAL(msg, "t.conf:3: line longer than 198 characters (put a long value "
                                "in an environment variable and write ${NAME})");
    /* 198 characters fit. */
    memset(longval, 'a', sizeof longval);
    snprintf(text, sizeof text, "[warehouse]\ndsn = %.*s\n", 192, longval);
    CU_ASSERT_EQUAL(strlen(text) - strlen("[warehouse]\n") - 1, 198);
    config *c2 = load_ok(text);
    CU_ASSERT_PTR_NOT_NULL(c2);
    config_free(c2);
    /* A directory is not a config file. */
    fe_err err = {0};
    CU_ASSERT_EQUAL(config_load("/tmp", source_schema(), &c2, &err), FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "/tmp: cannot read: Is a directory");
}

static void test_secrets(void)
{
    setenv("FE_TEST_PASSWORD", "s3cret!", 1);
    config *c =
        load_ok("[warehouse]\ndsn = postgresql://etl:p%40ss@db.local:5432/dw?sslmode=require\n"
                "[source.a]\n" POSIFLORA_OK "[source.b]\ntype = posiflora\n"
                "base_url = http://x\nusername = u\npassword = ${FE_TEST_PASSWORD}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    const char *sec[8];
    int n = config_secrets(c, sec, 8);
    /* The DSN's password as libpq decodes it (the DSN itself is never printed). */
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(sec[0], "p");
    CU_ASSERT_STRING_EQUAL(sec[1], "s3cret!");
    CU_ASSERT_STRING_EQUAL(sec[2], "p@ss");
    CU_ASSERT_EQUAL(config_secrets(c, sec, 2), 2);
    CU_ASSERT_EQUAL(config_secrets(c, sec, 0), 0);
    config_free(c);

    struct {
        const char *dsn, *want;
    } dsns[] = {
        {"host=db password=plain user=etl", "plain"},
        {"host=db password = 'with space\\'s' user=etl", "with space's"},
        {"password=last", "last"},
        {"postgres://etl:pw@db/dw", "pw"},
        {"postgresql://db/dw?user=etl&password=qpw&sslmode=require", "qpw"},
    };
    for (size_t i = 0; i < sizeof dsns / sizeof dsns[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[warehouse]\ndsn = %s\n", dsns[i].dsn);
        c = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        n = config_secrets(c, sec, 8);
        CU_ASSERT_EQUAL(n, 1);
        if (n >= 1)
            CU_ASSERT_STRING_EQUAL(sec[0], dsns[i].want);
        config_free(c);
    }
    const char *none[] = {"", "host=db user=etl", "postgresql://etl@db/dw", "postgresql://db/dw"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "[warehouse]\ndsn = %s\n", none[i]);
        c = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(config_secrets(c, sec, 8), 0);
        config_free(c);
    }
    /* A secret's value is never echoed in an error. */
    setenv("FE_TEST_PASSWORD", "", 1);
    const char *msg = load_err("[source.p]\ntype = posiflora\nbase_url = http://x\nusername = u\n"
                               "password = ${FE_TEST_PASSWORD}\n");
    CU_ASSERT_STRING_EQUAL(msg, "t.conf:5: key 'password' in [source.p] must not be empty");
}

/* Only what a command uses is expanded: a source's ${NAME}s wait for
 * config_resolve_source, and its values are validated then. */
static void test_lazy_expansion(void)
{
    fe_err err = {0};
    config *c = NULL;
    unsetenv("FE_TEST_UNSET");
    unsetenv("FE_TEST_SIZE");
    setenv("FE_TEST_HOST", "db.local", 1);
    const char *text = "[warehouse]\ndsn = host=${FE_TEST_HOST}\n"
                       "[source.p]\ntype = posiflora\nbase_url = http://x\nusername = u\n"
                       "password = ${FE_TEST_UNSET}\npage_size = ${FE_TEST_SIZE}\n"
                       "[source.q]\n" POSIFLORA_OK;
    CU_ASSERT_EQUAL_FATAL(config_load_string(text, "t.conf", source_schema(), &c, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(c->dsn, "host=db.local");
    const source_config *p = config_source(c, "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Unexpanded values read as absent, never as the default. */
    CU_ASSERT_PTR_NULL(config_str(p, "password"));
    long l = 0;
    CU_ASSERT_FALSE(config_int(p, "page_size", &l));
    CU_ASSERT_STRING_EQUAL(config_str(p, "username"), "u");
    const char *sec[8];
    CU_ASSERT_EQUAL(config_secrets(c, sec, 8), 1); /* q's password only */

    /* Another source, or only the keys status reads: no error. */
    CU_ASSERT_EQUAL(config_resolve_source(c, "q", NULL, 0, &err), FE_OK);
    static const char *const status_keys[] = {"streams", "warn_after", "error_after"};
    CU_ASSERT_EQUAL(config_resolve_source(c, "p", status_keys, 3, &err), FE_OK);
    CU_ASSERT_PTR_NULL(config_str(p, "password"));

    CU_ASSERT_EQUAL(config_resolve_source(c, "p", NULL, 0, &err), FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:7: environment variable FE_TEST_UNSET is not set");
    setenv("FE_TEST_UNSET", "pw-now-set", 1);
    CU_ASSERT_EQUAL(config_resolve_source(c, "p", NULL, 0, &err), FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:8: environment variable FE_TEST_SIZE is not set");
    /* The password was expanded: it is a secret from now on. */
    CU_ASSERT_EQUAL(config_secrets(c, sec, 8), 2);
    /* Validation waits for the expanded value. */
    setenv("FE_TEST_SIZE", "500", 1);
    CU_ASSERT_EQUAL(config_resolve_source(c, "p", NULL, 0, &err), FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:8: invalid value '500' for 'page_size' in "
                                    "[source.p]: expected an integer from 1 to 100");
    CU_ASSERT_FALSE(config_int(p, "page_size", &l));
    setenv("FE_TEST_SIZE", "50", 1);
    CU_ASSERT_EQUAL(config_resolve_source(c, "p", NULL, 0, &err), FE_OK);
    CU_ASSERT_TRUE(config_int(p, "page_size", &l));
    CU_ASSERT_EQUAL(l, 50);
    CU_ASSERT_STRING_EQUAL(config_str(p, "password"), "pw-now-set");
    CU_ASSERT_EQUAL(config_resolve_source(c, "nope", NULL, 0, &err), FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf: no [source.nope]");
    config_free(c);
    unsetenv("FE_TEST_UNSET");

    /* The ${NAME} syntax of every value, and a source's type, are checked at load. */
    c = NULL;
    CU_ASSERT_EQUAL(config_load_string("[source.p]\n" POSIFLORA_OK "streams = ${A-B}\n", "t.conf",
                                       source_schema(), &c, &err),
                    FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "t.conf:6: invalid environment variable name '${A-B}' in the value "
                           "of 'streams'");
    CU_ASSERT_EQUAL(config_load_string("[source.p]\ntype = ${FE_TEST_UNSET}\n", "t.conf",
                                       source_schema(), &c, &err),
                    FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:2: environment variable FE_TEST_UNSET is not set");
    CU_ASSERT_PTR_NULL(c);
}

/* A tiny zone database: UTC, Europe/Moscow, Europe/Berlin, Etc/GMT-3, a directory
 * and a file that is not TZif. */
static void make_zone_db(const char *dir)
{
    static const char *const zones[] = {"UTC", "Europe/Moscow", "Europe/Berlin", "Etc/GMT-3"};
    char path[512];
    snprintf(path, sizeof path, "%s/Europe", dir);
    CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/Etc", dir);
    CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, zones[i]);
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs("TZif2 (test)", f);
        fclose(f);
    }
    snprintf(path, sizeof path, "%s/zone.tab", dir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("# not a zone\n", f);
    fclose(f);
}

static void remove_zone_db(const char *dir)
{
    static const char *const files[] = {
        "UTC", "Europe/Moscow", "Europe/Berlin", "Etc/GMT-3", "zone.tab", "Europe", "Etc"};
    char path[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        remove(path);
    }
    rmdir(dir);
}

static const char *zone_err(const char *zone)
{
    static char text[512];
    snprintf(text, sizeof text, "[source.p]\n" POSIFLORA_OK "timezone = %s\n", zone);
    return load_err(text);
}

static bool zone_loads(const char *zone)
{
    char text[512];
    config *c = NULL;
    fe_err err = {0};
    snprintf(text, sizeof text, "[source.p]\n" POSIFLORA_OK "timezone = %s\n", zone);
    fe_rc rc = load_resolved(text, &c, &err);
    config_free(c);
    return rc == FE_OK;
}

static void test_timezones(void)
{
    char db[] = "/tmp/test_config_tz_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(db));
    make_zone_db(db);
    setenv("TZDIR", db, 1);
    char want[700];

    CU_ASSERT_TRUE(zone_loads("Europe/Moscow"));
    CU_ASSERT_TRUE(zone_loads("Etc/GMT-3"));
    CU_ASSERT_TRUE(zone_loads("UTC"));
    snprintf(want, sizeof want,
             "t.conf:6: invalid value 'Europe/Mscow' for 'timezone' in [source.p]: unknown time "
             "zone (not in the zone database %s); did you mean Europe/Moscow?",
             db);
    CU_ASSERT_STRING_EQUAL(zone_err("Europe/Mscow"), want);
    snprintf(want, sizeof want,
             "t.conf:6: invalid value 'Moscow' for 'timezone' in [source.p]: unknown time zone "
             "(not in the zone database %s); did you mean Europe/Moscow?",
             db);
    CU_ASSERT_STRING_EQUAL(zone_err("Moscow"), want);
    snprintf(want, sizeof want,
             "t.conf:6: invalid value 'Asia/Nowhere' for 'timezone' in [source.p]: unknown time "
             "zone (not in the zone database %s)",
             db);
    CU_ASSERT_STRING_EQUAL(zone_err("Asia/Nowhere"), want);
    /* Directories and files that are not TZif are not zones. */
    CU_ASSERT_FALSE(zone_loads("Europe"));
    CU_ASSERT_FALSE(zone_loads("zone.tab"));

    /* POSIX offsets: refused with the inverted-sign hint, whatever the database. */
    CU_ASSERT_STRING_EQUAL(
        zone_err("UTC+3"),
        "t.conf:6: invalid value 'UTC+3' for 'timezone' in [source.p]: 'UTC+3' is a POSIX-style "
        "offset: in POSIX it means 3 hour(s) WEST of UTC, so PostgreSQL would use UTC-03:00; "
        "write a city's zone (e.g. Europe/Moscow), or Etc/GMT-3 for a fixed UTC+03:00 (note the "
        "inverted sign)");
    CU_ASSERT_STRING_EQUAL(
        zone_err("GMT-5"),
        "t.conf:6: invalid value 'GMT-5' for 'timezone' in [source.p]: 'GMT-5' is a POSIX-style "
        "offset: in POSIX it means 5 hour(s) EAST of UTC, so PostgreSQL would use UTC+05:00; "
        "write a city's zone (e.g. Europe/Moscow), or Etc/GMT+5 for a fixed UTC-05:00 (note the "
        "inverted sign)");
    CU_ASSERT_PTR_NOT_NULL(strstr(zone_err("+03:00"), "or Etc/GMT-3 for a fixed UTC+03:00"));
    CU_ASSERT_PTR_NOT_NULL(strstr(zone_err("3"), "3 hour(s) WEST of UTC"));
    CU_ASSERT_PTR_NOT_NULL(strstr(zone_err("UTC+05:30"), "PostgreSQL would use UTC-05:30; write "
                                                         "the zone of a city"));

    /* A ${NAME} zone is checked when it is expanded. */
    setenv("FE_TEST_TZ", "Europe/Mscow", 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(zone_err("${FE_TEST_TZ}"), "did you mean Europe/Moscow?"));
    setenv("FE_TEST_TZ", "Europe/Berlin", 1);
    CU_ASSERT_TRUE(zone_loads("${FE_TEST_TZ}"));

    /* No database: zones are left to the server, and the config says so. */
    char empty[] = "/tmp/test_config_notz_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(empty));
    setenv("TZDIR", empty, 1);
    config *c = load_ok("[source.p]\n" POSIFLORA_OK "timezone = Europe/Mscow\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_TRUE(c->zone_db_missing);
    CU_ASSERT_STRING_EQUAL(c->zone_db_dir, empty);
    config_free(c);
    c = load_ok("[source.p]\n" POSIFLORA_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_FALSE(c->zone_db_missing); /* nothing had to be checked */
    config_free(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(zone_err("UTC+3"), "POSIX-style"));
    rmdir(empty);
    unsetenv("TZDIR");
    remove_zone_db(db);
}

static void test_no_sources(void)
{
    fe_err err = {0};
    config *c = load_ok("[warehouse]\ndsn = host=/tmp\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->nsources, 0);
    CU_ASSERT_EQUAL(config_require_sources(c, &err), FE_ECONFIG);
    char want[512];
    snprintf(want, sizeof want,
             "t.conf: no source configured: add a [source.NAME] section with type = %s and "
             "that type's keys (flowetl --help-config lists every key)",
             registered_types_or());
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(want, "posiflora, goflow, flowwow or flowretail"));
    config_free(c);
    c = load_ok("[source.p]\n" POSIFLORA_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(config_require_sources(c, &err), FE_OK);
    config_free(c);
}

static int compare_nullable(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* Every key in documentation order, as config_schema_each lists them. */
typedef struct {
    config_key_info k[256];
    char doc[256][800]; /* info->doc lives only during the call (the `type` doc) */
    size_t n;
} key_list;

static void collect_key(const config_key_info *info, void *user)
{
    key_list *l = user;
    CU_ASSERT_FATAL(l->n < sizeof l->k / sizeof l->k[0]);
    CU_ASSERT_FATAL(strlen(info->doc) < sizeof l->doc[0]);
    l->k[l->n] = *info;
    l->k[l->n].doc = strcpy(l->doc[l->n], info->doc);
    l->n++;
}

static void test_key_table(void)
{
    static key_list l;
    l.n = 0;
    config_schema_each(source_schema(), collect_key, &l);
    size_t n = l.n;
    const config_key_info *k = l.k;
    CU_ASSERT_FATAL(n > 20);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(k[i].doc);
        size_t len = strlen(k[i].doc);
        CU_ASSERT(len > 10 && k[i].doc[len - 1] == '.');
        CU_ASSERT(!k[i].key->required || k[i].key->def == NULL);
        CU_ASSERT_STRING_NOT_EQUAL(config_type_name(k[i].key->type), "?");
        CU_ASSERT(!k[i].source_type || strcmp(k[i].key->section, "source") == 0);
        if (i == 0)
            continue;
        int c = strcmp(k[i - 1].key->section, k[i].key->section);
        if (c == 0)
            c = compare_nullable(k[i - 1].source_type, k[i].source_type);
        if (c == 0)
            c = strcmp(k[i - 1].key->key, k[i].key->key);
        if (c >= 0)
            fprintf(stderr, "\nnot sorted: %s\n", k[i].key->key);
        CU_ASSERT(c < 0);
    }
    /* Every default is a valid value of its key: a file spelling out all defaults
     * (plus the required keys) loads, for every source type. */
    const config_schema *schema = source_schema();
    CU_ASSERT_FATAL(schema->ntypes >= 4);
    for (size_t t = 0; t < schema->ntypes; t++) {
        const char *type = schema->types[t]->name;
        char text[8192];
        size_t o = (size_t)snprintf(text, sizeof text, "[source.s]\ntype = %s\n", type);
        for (size_t i = 0; i < n; i++) {
            const config_key *e = k[i].key;
            if (strcmp(e->section, "source") != 0 || strcmp(e->key, "type") == 0 ||
                (k[i].source_type && strcmp(k[i].source_type, type) != 0))
                continue;
            const char *v = e->def;
            if (!v && e->required)
                v = strcmp(e->key, "base_url") == 0 ? "http://x" : "x";
            if (!v)
                continue;
            /* A typed key overrides the untyped one of the same name: write it once. */
            bool shadowed = false;
            for (size_t j = 0; !k[i].source_type && j < n; j++)
                shadowed |= k[j].source_type && strcmp(k[j].source_type, type) == 0 &&
                            strcmp(k[j].key->key, e->key) == 0;
            if (!shadowed)
                o += (size_t)snprintf(text + o, sizeof text - o, "%s = %s\n", e->key, v);
            CU_ASSERT_FATAL(o < sizeof text);
        }
        config *c = load_ok(text);
        CU_ASSERT_PTR_NOT_NULL(c);
        config_free(c);
    }
    char text[1024];
    size_t o = 0;
    const char *section = "";
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k[i].key->section, "source") == 0 || !k[i].key->def)
            continue;
        if (strcmp(k[i].key->section, section) != 0)
            o += (size_t)snprintf(text + o, sizeof text - o, "[%s]\n", section = k[i].key->section);
        o += (size_t)snprintf(text + o, sizeof text - o, "%s = %s\n", k[i].key->key, k[i].key->def);
    }
    config *c = load_ok(text);
    CU_ASSERT_PTR_NOT_NULL(c);
    config_free(c);
}

static void test_load_file(void)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char *text = "[source.p]\n" POSIFLORA_OK "page_size = 0\n";
    CU_ASSERT_FATAL(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    config *c = NULL;
    fe_err err = {0};
    CU_ASSERT_EQUAL(config_load(path, source_schema(), &c, &err), FE_ECONFIG);
    char want[256];
    snprintf(want, sizeof want,
             "%s:6: invalid value '0' for 'page_size' in [source.p]: expected an integer from 1 "
             "to 100",
             path);
    CU_ASSERT_STRING_EQUAL(err.msg, want);
    CU_ASSERT_PTR_NULL(c);

    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("[source.p]\n" POSIFLORA_OK, f);
    fclose(f);
    CU_ASSERT_EQUAL(config_load(path, source_schema(), &c, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->path, path);
    CU_ASSERT_EQUAL(c->nsources, 1);
    config_free(c);
    unlink(path);

    c = NULL;
    CU_ASSERT_EQUAL(config_load("/nonexistent/flowetl.conf", source_schema(), &c, &err),
                    FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "/nonexistent/flowetl.conf: cannot open: No such file or directory");
    CU_ASSERT_PTR_NULL(c);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("config", NULL, NULL);
    CU_add_test(s, "full file", test_full_file);
    CU_add_test(s, "defaults", test_defaults);
    CU_add_test(s, "values given", test_values_given);
    CU_add_test(s, "type after other keys", test_type_after_other_keys);
    CU_add_test(s, "several sources", test_several_sources);
    CU_add_test(s, "errors: structure", test_errors_structure);
    CU_add_test(s, "errors: source type", test_errors_source_type);
    CU_add_test(s, "errors: values", test_errors_values);
    CU_add_test(s, "error order", test_error_order);
    CU_add_test(s, "env expansion", test_env_expansion);
    CU_add_test(s, "comments and layout", test_comments_and_layout);
    CU_add_test(s, "secrets", test_secrets);
    CU_add_test(s, "lazy expansion", test_lazy_expansion);
    CU_add_test(s, "time zones", test_timezones);
    CU_add_test(s, "no sources", test_no_sources);
    CU_add_test(s, "key table", test_key_table);
    CU_add_test(s, "load file", test_load_file);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
