#include <CUnit/Basic.h>
#include <string.h>

#include "load/copy.h"

/* Encodes fields (NULL entries are SQL NULL) as one COPY text row. Static storage. */
static const char *row_of(const char *const *fields, int n)
{
    static char out[4096];
    buf b;
    bool ok = true;
    buf_init(&b, 0);
    for (int i = 0; i < n; i++)
        ok = ok && copy_field(&b, fields[i], i == 0);
    ok = ok && copy_end_row(&b);
    CU_ASSERT_FATAL(ok);
    CU_ASSERT_FATAL(b.len < sizeof out);
    memcpy(out, b.data, b.len + 1);
    buf_term(&b);
    return out;
}

static const char *one(const char *value)
{
    const char *fields[1] = {value};
    return row_of(fields, 1);
}

static void test_plain_fields_are_tab_separated(void)
{
    const char *fields[3] = {"a", "b c", "42.5000"};
    CU_ASSERT_STRING_EQUAL(row_of(fields, 3), "a\tb c\t42.5000\n");
}

static void test_escapes(void)
{
    CU_ASSERT_STRING_EQUAL(one("a\tb"), "a\\tb\n");
    CU_ASSERT_STRING_EQUAL(one("line1\nline2"), "line1\\nline2\n");
    CU_ASSERT_STRING_EQUAL(one("C:\\dir\\file"), "C:\\\\dir\\\\file\n");
    CU_ASSERT_STRING_EQUAL(one("cr\rlf\n"), "cr\\rlf\\n\n");
    /* A value that looks like the NULL marker or an escape stays data. */
    CU_ASSERT_STRING_EQUAL(one("\\N"), "\\\\N\n");
    CU_ASSERT_STRING_EQUAL(one("\\."), "\\\\.\n");
    /* Escapes at both ends and back to back. */
    CU_ASSERT_STRING_EQUAL(one("\t\t\\"), "\\t\\t\\\\\n");
}

static void test_null_and_empty_differ(void)
{
    const char *fields[3] = {NULL, "", NULL};
    CU_ASSERT_STRING_EQUAL(one(NULL), "\\N\n");
    CU_ASSERT_STRING_EQUAL(one(""), "\n");
    CU_ASSERT_STRING_EQUAL(row_of(fields, 3), "\\N\t\t\\N\n");
}

static void test_utf8_unchanged(void)
{
    const char *name = "Букет «Весна» — 101 роза";
    CU_ASSERT_STRING_EQUAL(one(name), "Букет «Весна» — 101 роза\n");
    CU_ASSERT_STRING_EQUAL(one("Москва\tул. Ленина\\1"), "Москва\\tул. Ленина\\\\1\n");
}

static void test_field_len_stops_at_len(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(copy_field_len(&b, "abc\tdef", 4, true));
    CU_ASSERT_TRUE(copy_field_len(&b, NULL, 5, false));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "abc\\t\t\\N");
    buf_term(&b);
}

static void test_bool_fields(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(copy_field_bool(&b, true, true));
    CU_ASSERT_TRUE(copy_field_bool(&b, false, false));
    CU_ASSERT_TRUE(copy_field(&b, "x", false));
    CU_ASSERT_TRUE(copy_end_row(&b));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "t\tf\tx\n");
    buf_term(&b);
}

static void test_cap_reports_failure(void)
{
    buf b;
    buf_init(&b, 8);
    CU_ASSERT_TRUE(copy_field(&b, "1234", true));
    /* The escaped form needs more than the cap allows. */
    CU_ASSERT_FALSE(copy_field(&b, "\\\\\\", false));
    buf_term(&b);
}

static void test_send_without_server_fails_cleanly(void)
{
    /* A connection that never got up: copy_send must report, not crash or hang. */
    PGconn *conn = PQconnectdb("host=/nonexistent-flowetl-socket-dir connect_timeout=1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(conn);
    CU_ASSERT_EQUAL(PQstatus(conn), CONNECTION_BAD);
    fe_err err = {0};
    copy_refusal why;
    CU_ASSERT_EQUAL(copy_send(conn, "stg_order (order_id)", "1\n", 2, &why, &err), FE_EPG);
    CU_ASSERT_EQUAL(err.code, FE_EPG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "COPY stg_order"));
    CU_ASSERT_PTR_NULL(strstr(err.msg, "(order_id)"));
    /* Not the server's refusal of a row: nothing names one. */
    CU_ASSERT_STRING_EQUAL(why.sqlstate, "");
    CU_ASSERT_EQUAL(why.line, 0);
    PQfinish(conn);
}

static void test_context_line(void)
{
    unsigned long line = 99;
    char col[16];
    CU_ASSERT_TRUE(copy_context_line("COPY stg_order, line 3, column total: \"1e20\"", &line, col,
                                     sizeof col));
    CU_ASSERT_EQUAL(line, 3);
    CU_ASSERT_STRING_EQUAL(col, "total");
    /* No column (an encoding error), and a translated server: the shape counts. */
    CU_ASSERT_TRUE(copy_context_line("COPY stg_payment, line 12", &line, col, sizeof col));
    CU_ASSERT_EQUAL(line, 12);
    CU_ASSERT_STRING_EQUAL(col, "");
    CU_ASSERT_TRUE(copy_context_line("COPY stg_order, строка 7, столбец ordered_at: \"0000\"",
                                     &line, col, sizeof col));
    CU_ASSERT_EQUAL(line, 7);
    CU_ASSERT_STRING_EQUAL(col, "ordered_at");
    /* A column name longer than the room is left out, the line is kept. */
    CU_ASSERT_TRUE(copy_context_line("COPY t, line 2, column a_very_long_column_name: \"x\"", &line,
                                     col, sizeof col));
    CU_ASSERT_EQUAL(line, 2);
    CU_ASSERT_STRING_EQUAL(col, "");
    CU_ASSERT_FALSE(copy_context_line("SQL statement \"SELECT 1\"", &line, col, sizeof col));
    CU_ASSERT_EQUAL(line, 0);
    CU_ASSERT_FALSE(copy_context_line("COPY stg_order, line 0", &line, col, sizeof col));
    CU_ASSERT_FALSE(copy_context_line(NULL, &line, col, sizeof col));
}

static void test_row_split_undoes_the_encoding(void)
{
    const char *in[5] = {"a\tb", NULL, "", "C:\\x\n", "\\N"};
    const char *row = row_of(in, 5);
    const char *f[8];
    buf out;
    buf_init(&out, 0);
    CU_ASSERT_EQUAL_FATAL(copy_row_split(row, strlen(row) - 1, &out, f, 8), 5);
    CU_ASSERT_STRING_EQUAL(f[0], "a\tb");
    CU_ASSERT_PTR_NULL(f[1]);
    CU_ASSERT_STRING_EQUAL(f[2], "");
    CU_ASSERT_STRING_EQUAL(f[3], "C:\\x\n");
    CU_ASSERT_STRING_EQUAL(f[4], "\\N");
    /* At most max fields; an empty row is one empty field. */
    CU_ASSERT_EQUAL(copy_row_split(row, strlen(row) - 1, &out, f, 2), 2);
    CU_ASSERT_STRING_EQUAL(f[0], "a\tb");
    CU_ASSERT_EQUAL(copy_row_split("", 0, &out, f, 8), 1);
    CU_ASSERT_STRING_EQUAL(f[0], "");
    CU_ASSERT_EQUAL(copy_row_split("x\t", 2, &out, f, 8), 2);
    CU_ASSERT_STRING_EQUAL(f[1], "");
    buf_term(&out);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("copy", NULL, NULL);
    CU_add_test(s, "plain fields are tab separated", test_plain_fields_are_tab_separated);
    CU_add_test(s, "backslash, tab, newline, CR are escaped", test_escapes);
    CU_add_test(s, "NULL is \\N, empty string is empty", test_null_and_empty_differ);
    CU_add_test(s, "Russian UTF-8 is unchanged", test_utf8_unchanged);
    CU_add_test(s, "copy_field_len uses len", test_field_len_stops_at_len);
    CU_add_test(s, "bool fields are t/f", test_bool_fields);
    CU_add_test(s, "buffer cap reports failure", test_cap_reports_failure);
    CU_add_test(s, "line and column of a COPY error's context", test_context_line);
    CU_add_test(s, "copy_row_split undoes copy_field", test_row_split_undoes_the_encoding);
    CU_add_test(s, "copy_send without a server fails cleanly",
                test_send_without_server_fails_cleanly);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
