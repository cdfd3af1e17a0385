/* config_zone: a `timezone` value judged against a zone database directory (here a
 * small one made by the test: files that start with "TZif"). test_config checks
 * the messages as the config reports them; this checks the verdicts and hints. */
#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_zone.h"

static char db[] = "/tmp/test_config_zone_XXXXXX";

static const char *const dirs[] = {"Europe", "Etc", "Asia", "posix"};
static const char *const zones[] = {"UTC",       "Europe/Moscow", "Europe/Berlin",
                                    "Etc/GMT-3", "Asia/Kolkata",  "posix/Lisbon"};
static const char *const others[] = {"zone.tab"}; /* a file that is not TZif */

/* False when the file cannot be written. */
static bool put_file(const char *root, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static void remove_in(const char *root, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, name);
    remove(path);
}

static int suite_init(void)
{
    char path[512];
    if (!mkdtemp(db))
        return 1;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", db, dirs[i]);
        if (mkdir(path, 0700) != 0)
            return 1;
    }
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (!put_file(db, zones[i], "TZif2 (test)"))
            return 1;
    return put_file(db, others[0], "# not a zone\n") ? 0 : 1;
}

static int suite_term(void)
{
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        remove_in(db, zones[i]);
    remove_in(db, others[0]);
    for (size_t i = sizeof dirs / sizeof dirs[0]; i-- > 0;)
        remove_in(db, dirs[i]);
    return rmdir(db) == 0 ? 0 : 1;
}

/* The verdict on name; *why gets the hint. */
static zone_verdict check(const char *name, char *why, size_t n)
{
    return config_zone_check(db, name, why, n);
}

static void test_dir_from_environment(void)
{
    unsetenv("TZDIR");
    CU_ASSERT_STRING_EQUAL(config_zone_dir(), "/usr/share/zoneinfo");
    setenv("TZDIR", "", 1);
    CU_ASSERT_STRING_EQUAL(config_zone_dir(), "/usr/share/zoneinfo"); /* empty: unset */
    setenv("TZDIR", db, 1);
    CU_ASSERT_STRING_EQUAL(config_zone_dir(), db);
    unsetenv("TZDIR");
}

static void test_known_zones(void)
{
    char why[256] = "left over";
    CU_ASSERT_EQUAL(check("Europe/Moscow", why, sizeof why), ZONE_OK);
    CU_ASSERT_STRING_EQUAL(why, ""); /* emptied */
    CU_ASSERT_EQUAL(check("UTC", why, sizeof why), ZONE_OK);
    CU_ASSERT_EQUAL(check("Etc/GMT-3", why, sizeof why), ZONE_OK); /* a name, not an offset */
    CU_ASSERT_STRING_EQUAL(why, "");
}

static void test_not_zones(void)
{
    char why[256];
    /* a directory and a file without the TZif magic are not zones */
    CU_ASSERT_EQUAL(check("Europe", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_EQUAL(check("zone.tab", why, sizeof why), ZONE_UNKNOWN);
    /* names are case-sensitive, but the suggestion is not */
    CU_ASSERT_EQUAL(check("Europe/moscow", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean Europe/Moscow?");
    /* a path longer than the checker's buffer is simply not a zone */
    char longname[700];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CU_ASSERT_EQUAL(check(longname, why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "");
}

static void test_suggestions(void)
{
    char why[256];
    CU_ASSERT_EQUAL(check("Europe/Berln", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean Europe/Berlin?");
    /* a bare city: the regions one level down */
    CU_ASSERT_EQUAL(check("Kolkatta", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean Asia/Kolkata?");
    /* names of at most 4 bytes get one edit, longer ones two (a swap is two) */
    CU_ASSERT_EQUAL(check("UT", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean UTC?");
    CU_ASSERT_EQUAL(check("Mosc", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "");
    CU_ASSERT_EQUAL(check("Europe/Mocsow", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean Europe/Moscow?");
    /* posix/ repeats the database: never offered */
    CU_ASSERT_EQUAL(check("Lisbon", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "");
    /* nothing close */
    CU_ASSERT_EQUAL(check("Asia/Nowhere", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "");
}

static void test_posix_offsets(void)
{
    char why[512];
    CU_ASSERT_EQUAL(check("UTC+3", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_STRING_EQUAL(why, "'UTC+3' is a POSIX-style offset: in POSIX it means 3 hour(s) WEST "
                                "of UTC, so PostgreSQL would use UTC-03:00; write a city's zone "
                                "(e.g. Europe/Moscow), or Etc/GMT-3 for a fixed UTC+03:00 (note "
                                "the inverted sign)");
    CU_ASSERT_EQUAL(check("-05", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "5 hour(s) EAST of UTC, so PostgreSQL would use UTC+05:00"));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "or Etc/GMT+5 for a fixed UTC-05:00"));
    CU_ASSERT_EQUAL(check("+03:00:00", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "Etc/GMT-3 for a fixed UTC+03:00"));
    /* minutes, or more than 12 hours: no Etc/GMT zone, a city instead */
    CU_ASSERT_EQUAL(check("UTC+05:30", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "UTC-05:30; write the zone of a city with the offset you "
                                       "mean (e.g. Asia/Kolkata for UTC+05:30)"));
    CU_ASSERT_EQUAL(check("UTC+13", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "write the zone of a city"));
}

/* What looks like an offset but is not one: looked up as a name. */
static void test_not_offsets(void)
{
    char why[256];
    /* a zero offset is UTC in either reading: the name decides */
    CU_ASSERT_EQUAL(check("UTC+0", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(why, "did you mean UTC?");
    CU_ASSERT_EQUAL(check("GMT0", why, sizeof why), ZONE_UNKNOWN);
    /* minutes are two digits */
    CU_ASSERT_EQUAL(check("+3:0", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_EQUAL(check("UTC+3x", why, sizeof why), ZONE_UNKNOWN);
}

static void test_small_hint_buffer(void)
{
    char why[16];
    CU_ASSERT_EQUAL(check("UTC+3", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_EQUAL(strlen(why), sizeof why - 1); /* cut, terminated */
    CU_ASSERT_EQUAL(memcmp(why, "'UTC+3' is a PO", 15), 0);
    CU_ASSERT_EQUAL(check("Europe/Berln", why, sizeof why), ZONE_UNKNOWN);
    CU_ASSERT_EQUAL(strlen(why), sizeof why - 1);
    /* no room at all: nothing is written */
    char none[4] = "xyz";
    CU_ASSERT_EQUAL(check("UTC+3", none, 0), ZONE_POSIX);
    CU_ASSERT_EQUAL(check("Moscow", none, 0), ZONE_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(none, "xyz");
}

static void test_missing_database(void)
{
    char empty[] = "/tmp/test_config_zone_none_XXXXXX";
    char why[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(empty));
    CU_ASSERT_EQUAL(config_zone_check(empty, "Europe/Moscow", why, sizeof why), ZONE_NO_DB);
    CU_ASSERT_STRING_EQUAL(why, "");
    /* offsets are refused without a database too */
    CU_ASSERT_EQUAL(config_zone_check(empty, "UTC+3", why, sizeof why), ZONE_POSIX);
    CU_ASSERT_EQUAL(config_zone_check("/nonexistent/zoneinfo", "UTC", why, sizeof why), ZONE_NO_DB);
    /* a database with Etc/UTC but no UTC is a database */
    char path[512];
    snprintf(path, sizeof path, "%s/Etc", empty);
    CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
    CU_ASSERT_FATAL(put_file(empty, "Etc/UTC", "TZif2 (test)"));
    CU_ASSERT_EQUAL(config_zone_check(empty, "Etc/UTC", why, sizeof why), ZONE_OK);
    CU_ASSERT_EQUAL(config_zone_check(empty, "Europe/Moscow", why, sizeof why), ZONE_UNKNOWN);
    remove_in(empty, "Etc/UTC");
    rmdir(path);
    rmdir(empty);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("config_zone", suite_init, suite_term);
    CU_add_test(s, "database directory from TZDIR", test_dir_from_environment);
    CU_add_test(s, "known zones", test_known_zones);
    CU_add_test(s, "not zones", test_not_zones);
    CU_add_test(s, "suggestions", test_suggestions);
    CU_add_test(s, "POSIX offsets refused with a hint", test_posix_offsets);
    CU_add_test(s, "zero and malformed offsets are names", test_not_offsets);
    CU_add_test(s, "small hint buffer", test_small_hint_buffer);
    CU_add_test(s, "missing database", test_missing_database);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
