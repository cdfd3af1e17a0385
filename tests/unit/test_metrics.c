/* test_metrics: label escaping, the exposition text of a run, the atomic write. */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/metrics.h"

static char *escaped(const char *s)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(metrics_put_label_value(&b, s));
    char *t = buf_take(&b, NULL);
    return t ? t : strdup("");
}

static void test_escape(void)
{
    char *e = escaped("plain");
    CU_ASSERT_STRING_EQUAL(e, "plain");
    free(e);
    e = escaped("a\\b\"c\nd");
    CU_ASSERT_STRING_EQUAL(e, "a\\\\b\\\"c\\nd");
    free(e);
    e = escaped("магазин\t{x=1}");
    CU_ASSERT_STRING_EQUAL(e, "магазин\t{x=1}"); /* UTF-8 and tabs stay as they are */
    free(e);
    e = escaped("");
    CU_ASSERT_STRING_EQUAL(e, "");
    free(e);
}

/* Two configured streams: one ran (failed), one did not run in this run. */
static char *formatted(bool warehouse_up)
{
    metrics_stream streams[2] = {
        {.source = "shop\"1",
         .stream = "orders",
         .type = "posiflora",
         .ran = true,
         .status = "failed",
         .seconds = 1.5,
         .stats = {.records = 5000, .inserted = 22000, .rejects = 2, .http_429 = 3},
         .last_success = 1700000000},
        {.source = "shop\"1", .stream = "stores", .type = "posiflora", .last_success = 0},
    };
    metrics_run r = {.run_id = 42,
                     .exit_code = 1,
                     .started = 1700000100,
                     .ended = 1700000200,
                     .warehouse_up = warehouse_up,
                     .streams = streams,
                     .nstreams = 2};
    buf b;
    fe_err err = {0};
    buf_init(&b, 0);
    CU_ASSERT_EQUAL(metrics_format(&r, &b, &err), FE_OK);
    return buf_take(&b, NULL);
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static void test_format(void)
{
    char *t = formatted(true);
    const char *l = "{source=\"shop\\\"1\",stream=\"orders\",type=\"posiflora\"";
    char want[512];
    CU_ASSERT_TRUE(has_line(t, "flowetl_run_id 42"));
    CU_ASSERT_TRUE(has_line(t, "flowetl_run_exit_code 1"));
    CU_ASSERT_TRUE(has_line(t, "flowetl_warehouse_up 1"));
    CU_ASSERT_TRUE(has_line(t, "# TYPE flowetl_stream_last_run_records_read gauge"));
    snprintf(want, sizeof want, "flowetl_stream_last_run_records_read%s} 5000", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_run_rows_inserted%s} 22000", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_run_failed%s} 1", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_run_duration_seconds%s} 1.500", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_run_status%s,status=\"failed\"} 1", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_run_status%s,status=\"succeeded\"} 0", l);
    CU_ASSERT_TRUE(has_line(t, want));
    snprintf(want, sizeof want, "flowetl_stream_last_success_timestamp_seconds%s} 1700000000", l);
    CU_ASSERT_TRUE(has_line(t, want));
    /* The stream that did not run: its last success (0: never), no last-run series. */
    CU_ASSERT_TRUE(has_line(t, "flowetl_stream_last_success_timestamp_seconds{source=\"shop\\\"1\","
                               "stream=\"stores\",type=\"posiflora\"} 0"));
    CU_ASSERT_PTR_NULL(
        strstr(t, "stream=\"stores\",type=\"posiflora\"} 0\nflowetl_stream_last_run"));
    CU_ASSERT_PTR_NULL(
        strstr(t, "flowetl_stream_last_run_failed{source=\"shop\\\"1\",stream=\"stores\""));
    /* Every metric family has one HELP and one TYPE line, and no counter suffix. */
    int help = 0, type = 0;
    for (const char *p = t; (p = strstr(p, "# HELP ")) != NULL; p++)
        help++;
    for (const char *p = t; (p = strstr(p, "# TYPE ")) != NULL; p++)
        type++;
    CU_ASSERT_EQUAL(help, type);
    CU_ASSERT_TRUE(help >= 20);
    CU_ASSERT_PTR_NULL(strstr(t, "_total"));
    CU_ASSERT_EQUAL(t[strlen(t) - 1], '\n');
    free(t);
}

/* Without the warehouse a last success not seen is unknown: left out, not 0. */
static void test_format_no_warehouse(void)
{
    char *t = formatted(false);
    CU_ASSERT_TRUE(has_line(t, "flowetl_warehouse_up 0"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(t, "flowetl_stream_last_success_timestamp_seconds{source=\"shop\\\"1\","
                  "stream=\"orders\",type=\"posiflora\"} 1700000000\n"));
    CU_ASSERT_PTR_NULL(strstr(t, "stream=\"stores\""));
    free(t);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char text[256];
    if (!f)
        return NULL;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_write_file(void)
{
    char dir[] = "/tmp/test_metrics.XXXXXX", path[128];
    fe_err err = {0};
    struct stat st;
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/flowetl.prom", dir);
    CU_ASSERT_EQUAL(metrics_write_file(path, "a 1\n", 4, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(slurp(path), "a 1\n");
    ino_t first = stat(path, &st) == 0 ? st.st_ino : 0;
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
    /* Replaced by a rename (a new inode), nothing else left in the directory. */
    CU_ASSERT_EQUAL(metrics_write_file(path, "b 2\n", 4, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(slurp(path), "b 2\n");
    CU_ASSERT_TRUE(stat(path, &st) == 0 && st.st_ino != first);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    /* A directory that does not exist: FE_EIO naming the file, nothing written. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/flowetl.prom", dir);
    CU_ASSERT_EQUAL(metrics_write_file(bad, "c 3\n", 4, &err), FE_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing/flowetl.prom"));
    /* The target is a directory: the rename fails and the temporary file is removed. */
    char sub[160];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
    CU_ASSERT_EQUAL(metrics_write_file(sub, "d 4\n", 4, &err), FE_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rename"));
    CU_ASSERT_EQUAL(count_entries(dir), 2);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
    CU_add_test(s, "label values are escaped", test_escape);
    CU_add_test(s, "the exposition text of a run", test_format);
    CU_add_test(s, "without the warehouse", test_format_no_warehouse);
    CU_add_test(s, "the file is replaced atomically", test_write_file);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
