/* test_goflow_csv: the streaming RFC 4180 reader of sources/goflow/goflow_csv: quotes,
 * doubled quotes, separators and line breaks inside quotes, CRLF and LF, a last
 * row without a line break, empty fields, byte-by-byte feeding, errors. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "sources/goflow/goflow_csv.h"

typedef struct {
    char rows[16][256]; /* fields joined with '|' */
    size_t lens[16][8]; /* the lengths the reader gave the first 8 fields */
    int n;
    int stop_at; /* row index whose callback fails, -1 none */
} rows_seen;

static fe_rc on_row(void *ctx, const char *const *f, const size_t *lens, size_t n, fe_err *err)
{
    rows_seen *r = ctx;
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT(lens[i] >= strlen(f[i]));
        if (r->n < 16 && i < 8)
            r->lens[r->n][i] = lens[i];
    }
    if (r->n == r->stop_at)
        return fe_err_set(err, FE_EABORT, "stop");
    if (r->n >= 16)
        return FE_OK;
    size_t len = 0;
    r->rows[r->n][0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(r->rows[r->n] + len, sizeof r->rows[0] - len, "%s%s", i ? "|" : "",
                                f[i]);
    r->n++;
    return FE_OK;
}

/* Parses len bytes of text fed `step` bytes at a time; returns the first failure
 * code. */
static fe_rc parse_n(const char *text, size_t len, size_t step, rows_seen *r)
{
    fe_err err = {0};
    goflow_csv *c = goflow_csv_new(0, on_row, r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    fe_rc rc = FE_OK;
    for (size_t at = 0; at < len && rc == FE_OK; at += step)
        rc = goflow_csv_feed(c, text + at, len - at < step ? len - at : step, &err);
    if (rc == FE_OK)
        rc = goflow_csv_finish(c, &err);
    goflow_csv_free(c);
    return rc;
}

static fe_rc parse(const char *text, size_t step, rows_seen *r)
{
    return parse_n(text, strlen(text), step, r);
}

static void test_rfc4180(void)
{
    static const char text[] = "product_id,warehouse_name,on_hand\r\n"
                               "1,\"Main \"\"A\"\" Warehouse\",5\r\n"
                               "2,\"East 3PL, Reno\",0\r\n"
                               "3,\"two\r\nlines\",\r\n"
                               "4,Склад Москва,7";
    for (size_t step = 1; step <= 7; step += 3) {
        rows_seen r = {.stop_at = -1};
        CU_ASSERT_EQUAL(parse(text, step, &r), FE_OK);
        CU_ASSERT_EQUAL_FATAL(r.n, 5);
        CU_ASSERT_STRING_EQUAL(r.rows[0], "product_id|warehouse_name|on_hand");
        CU_ASSERT_STRING_EQUAL(r.rows[1], "1|Main \"A\" Warehouse|5");
        CU_ASSERT_STRING_EQUAL(r.rows[2], "2|East 3PL, Reno|0");
        CU_ASSERT_STRING_EQUAL(r.rows[3], "3|two\r\nlines|");
        CU_ASSERT_STRING_EQUAL(r.rows[4], "4|Склад Москва|7");
    }
}

static void test_lf_and_empty(void)
{
    rows_seen r = {.stop_at = -1};
    CU_ASSERT_EQUAL(parse("a,b\n\n,\"\"\nx,\n", 2, &r), FE_OK);
    CU_ASSERT_EQUAL_FATAL(r.n, 3);
    CU_ASSERT_STRING_EQUAL(r.rows[0], "a|b");
    CU_ASSERT_STRING_EQUAL(r.rows[1], "|");
    CU_ASSERT_STRING_EQUAL(r.rows[2], "x|");
    rows_seen t = {.stop_at = -1};
    CU_ASSERT_EQUAL(parse("a,b,", 1, &t), FE_OK);
    CU_ASSERT_EQUAL_FATAL(t.n, 1);
    CU_ASSERT_STRING_EQUAL(t.rows[0], "a|b|");
}

/* A NUL byte in the file is data: the field's length counts past it, so the
 * caller can refuse the value instead of reading an id cut at the NUL. */
static void test_nul_bytes(void)
{
    static const char text[] = "id,name\n1\0x,\"a\0\"\n\0\n,\n";
    rows_seen r = {.stop_at = -1};
    CU_ASSERT_EQUAL(parse_n(text, sizeof text - 1, 1, &r), FE_OK);
    CU_ASSERT_EQUAL_FATAL(r.n, 4);
    CU_ASSERT_EQUAL(r.lens[0][0], 2);
    CU_ASSERT_EQUAL(r.lens[1][0], 3);
    CU_ASSERT_EQUAL(r.lens[1][1], 2);
    CU_ASSERT_EQUAL(r.lens[2][0], 1); /* a line of one NUL byte is a row, not a blank line */
    CU_ASSERT_EQUAL(r.lens[3][0], 0);
    CU_ASSERT_EQUAL(r.lens[3][1], 0);
}

static void test_errors(void)
{
    rows_seen r = {.stop_at = -1};
    CU_ASSERT_EQUAL(parse("a,b\"c\n", 1, &r), FE_EJSON);
    CU_ASSERT_EQUAL(parse("\"a\"b,c\n", 1, &r), FE_EJSON);
    CU_ASSERT_EQUAL(parse("\"open\n", 1, &r), FE_EJSON);
    rows_seen s = {.stop_at = 1};
    CU_ASSERT_EQUAL(parse("a\nb\nc\n", 1, &s), FE_EABORT);
    CU_ASSERT_EQUAL(s.n, 1);
}

static void test_row_cap(void)
{
    fe_err err = {0};
    rows_seen r = {.stop_at = -1};
    goflow_csv *c = goflow_csv_new(8, on_row, &r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(goflow_csv_feed(c, "abc,def\n", 8, &err), FE_OK);
    CU_ASSERT_EQUAL(goflow_csv_feed(c, "abcdefghij\n", 11, &err), FE_EJSON);
    CU_ASSERT_EQUAL(goflow_csv_feed(c, "a\n", 2, &err), FE_EJSON); /* sticky */
    goflow_csv_reset(c);
    CU_ASSERT_EQUAL(goflow_csv_feed(c, "a\n", 2, &err), FE_OK);
    CU_ASSERT_EQUAL(r.n, 2);
    goflow_csv_free(c);
    goflow_csv_free(NULL);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("goflow_csv", NULL, NULL);
    CU_add_test(s, "RFC 4180 quoting, CRLF, chunking", test_rfc4180);
    CU_add_test(s, "LF, blank lines, empty fields", test_lf_and_empty);
    CU_add_test(s, "NUL bytes inside fields", test_nul_bytes);
    CU_add_test(s, "syntax errors and callback stops", test_errors);
    CU_add_test(s, "row cap and reset", test_row_cap);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
