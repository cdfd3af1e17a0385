/* test_pg: the libpq helpers that need no server: the DSN with flowetl's
 * connection defaults. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "load/pg.h"

static const pg_dsn_defaults defaults = {.connect_timeout_s = 10,
                                         .keepalives_idle_s = 30,
                                         .keepalives_interval_s = 10,
                                         .keepalives_count = 3};

/* The value libpq reads for key from conninfo (NULL when unset), copied. */
static char *option(const char *conninfo, const char *key)
{
    char *out = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val)
            out = strdup(o->val);
    PQconninfoFree(opts);
    return out;
}

static void assert_option(const char *conninfo, const char *key, const char *want)
{
    char *got = option(conninfo, key);
    if (want) {
        CU_ASSERT_PTR_NOT_NULL(got);
        if (got)
            CU_ASSERT_STRING_EQUAL(got, want);
    } else {
        CU_ASSERT_PTR_NULL(got);
    }
    free(got);
}

static void test_defaults_added(void)
{
    fe_err err = {0};
    char *d = pg_dsn_with_defaults("host=db.example.com dbname=dw user=etl", &defaults, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    assert_option(d, "host", "db.example.com");
    assert_option(d, "dbname", "dw");
    assert_option(d, "user", "etl");
    assert_option(d, "connect_timeout", "10");
    assert_option(d, "keepalives_idle", "30");
    assert_option(d, "keepalives_interval", "10");
    assert_option(d, "keepalives_count", "3");
    free(d);
}

static void test_dsn_wins(void)
{
    fe_err err = {0};
    char *d = pg_dsn_with_defaults(
        "postgresql://etl:p%27w%5Cd@db:5433/dw?connect_timeout=25&keepalives_idle=5", &defaults,
        &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    assert_option(d, "connect_timeout", "25");
    assert_option(d, "keepalives_idle", "5");
    assert_option(d, "keepalives_count", "3");
    assert_option(d, "port", "5433");
    assert_option(d, "password", "p'w\\d"); /* quoting survives the round trip */
    free(d);
}

static void test_empty_and_env(void)
{
    fe_err err = {0};
    char *d = pg_dsn_with_defaults("", &defaults, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    assert_option(d, "connect_timeout", "10");
    assert_option(d, "host", NULL); /* libpq's PG* environment still applies */
    free(d);
    setenv("PGCONNECT_TIMEOUT", "7", 1);
    d = pg_dsn_with_defaults(NULL, &defaults, &err);
    unsetenv("PGCONNECT_TIMEOUT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    assert_option(d, "connect_timeout", NULL);
    free(d);
}

static void test_bad_dsn(void)
{
    fe_err err = {0};
    CU_ASSERT_PTR_NULL(pg_dsn_with_defaults("host=x nosuchoption=1", &defaults, &err));
    CU_ASSERT_EQUAL(err.code, FE_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "[warehouse] dsn: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nosuchoption"));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("pg", NULL, NULL);
    CU_add_test(s, "defaults added to a conninfo", test_defaults_added);
    CU_add_test(s, "what the DSN sets wins", test_dsn_wins);
    CU_add_test(s, "empty DSN, PGCONNECT_TIMEOUT", test_empty_and_env);
    CU_add_test(s, "a DSN libpq cannot parse", test_bad_dsn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
