/* Unit tests for core/err: the error record (set, wrap, clear), its cut at the
 * size limit between UTF-8 characters, the code names and FE_TRY. */
#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/utf8.h"

static void test_err_set_wrap(void)
{
    fe_err e;
    fe_err_clear(&e);
    CU_ASSERT_EQUAL(e.code, FE_OK);
    CU_ASSERT_STRING_EQUAL(e.msg, "");
    CU_ASSERT_EQUAL(fe_err_set(&e, FE_EHTTP, "HTTP %d", 500), FE_EHTTP);
    CU_ASSERT_EQUAL(e.code, FE_EHTTP);
    CU_ASSERT_STRING_EQUAL(e.msg, "HTTP 500");
    CU_ASSERT_EQUAL(fe_err_wrap(&e, "orders page %d", 3), FE_EHTTP);
    CU_ASSERT_STRING_EQUAL(e.msg, "orders page 3: HTTP 500");
    /* an argument may be the message itself */
    CU_ASSERT_EQUAL(fe_err_set(&e, FE_EJSON, "again: %s", e.msg), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(e.msg, "again: orders page 3: HTTP 500");
    CU_ASSERT_EQUAL(fe_err_set(NULL, FE_EIO, "x"), FE_EIO);
    CU_ASSERT_EQUAL(fe_err_wrap(NULL, "x"), FE_EINVAL);
}

static void test_err_truncation_keeps_utf8(void)
{
    fe_err e;
    char big[2000];
    /* 2 ASCII bytes then 2-byte letters: a cut at an odd length splits one, and
     * vsnprintf keeps 767 bytes */
    big[0] = 'x';
    big[1] = 'y';
    for (size_t i = 2; i + 2 < sizeof big; i += 2) {
        big[i] = '\xD0';
        big[i + 1] = '\x96';
    }
    big[sizeof big - 2] = 'y';
    big[sizeof big - 1] = '\0';
    fe_err_set(&e, FE_EHTTP, "%s", big);
    size_t len = strlen(e.msg);
    CU_ASSERT_TRUE(len < sizeof e.msg);
    CU_ASSERT_TRUE(len >= sizeof e.msg - 4);
    CU_ASSERT_EQUAL(buf_utf8_floor(e.msg, len), len);
    CU_ASSERT_EQUAL(len, 766); /* "xy" + whole 2-byte letters */
    fe_err_wrap(&e, "cc");
    len = strlen(e.msg);
    CU_ASSERT_EQUAL(memcmp(e.msg, "cc: xy", 6), 0);
    CU_ASSERT_EQUAL(len, 766);
    CU_ASSERT_EQUAL(buf_utf8_floor(e.msg, len), len);
}

static void test_rc_names(void)
{
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_OK), "ok");
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_EHTTP), "http");
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_EJSON), "json");
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_EIO), "io");
    CU_ASSERT_STRING_EQUAL(fe_rc_name((fe_rc)999), "unknown");
}

/* Every code has its own name; none is "unknown". */
static void test_rc_names_distinct(void)
{
    const fe_rc last = FE_EIDENTITY;
    for (int a = FE_OK; a <= (int)last; a++) {
        const char *name = fe_rc_name((fe_rc)a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT_STRING_NOT_EQUAL(name, "unknown");
        for (int b = FE_OK; b < a; b++)
            CU_ASSERT_STRING_NOT_EQUAL(name, fe_rc_name((fe_rc)b));
    }
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_EINTR), "interrupted");
    CU_ASSERT_STRING_EQUAL(fe_rc_name(FE_EIDENTITY), "identity");
    CU_ASSERT_STRING_EQUAL(fe_rc_name((fe_rc)(last + 1)), "unknown");
    CU_ASSERT_STRING_EQUAL(fe_rc_name((fe_rc)-1), "unknown");
}

/* A second set replaces the first, code and message; clear empties both. */
static void test_set_overwrites_and_clear(void)
{
    fe_err e;
    fe_err_set(&e, FE_EPG, "a long first message that the second must not leave behind");
    fe_err_set(&e, FE_EIO, "short");
    CU_ASSERT_EQUAL(e.code, FE_EIO);
    CU_ASSERT_STRING_EQUAL(e.msg, "short");
    fe_err_clear(&e);
    CU_ASSERT_EQUAL(e.code, FE_OK);
    CU_ASSERT_STRING_EQUAL(e.msg, "");
    fe_err_clear(NULL); /* accepted */
}

/* Wrapping keeps the code, also of an empty message, and nests outward. */
static void test_wrap_nests(void)
{
    fe_err e;
    fe_err_clear(&e);
    CU_ASSERT_EQUAL(fe_err_wrap(&e, "ctx"), FE_OK);
    CU_ASSERT_STRING_EQUAL(e.msg, "ctx: ");
    fe_err_set(&e, FE_EJSON, "invalid JSON at byte %d", 12);
    fe_err_wrap(&e, "page %d", 2);
    fe_err_wrap(&e, "%s.%s", "shop", "orders");
    CU_ASSERT_EQUAL(e.code, FE_EJSON);
    CU_ASSERT_STRING_EQUAL(e.msg, "shop.orders: page 2: invalid JSON at byte 12");
    /* the message itself as the prefix's argument */
    fe_err_set(&e, FE_EHTTP, "x");
    fe_err_wrap(&e, "%s", e.msg);
    CU_ASSERT_STRING_EQUAL(e.msg, "x: x");
}

/* A prefix longer than the record: cut between characters (a cut inside one
 * would leave a broken byte before ": "), the cause pushed out. */
static void test_wrap_long_prefix(void)
{
    fe_err e;
    char prefix[1000];
    size_t n = 0;
    prefix[n++] = 'p';
    prefix[n++] = 'p';
    while (n + 2 < sizeof prefix) { /* "pp" then 2-byte letters: 767 bytes end inside one */
        prefix[n++] = '\xD0';
        prefix[n++] = '\x96';
    }
    prefix[n] = '\0';
    fe_err_set(&e, FE_EPG, "cause");
    CU_ASSERT_EQUAL(fe_err_wrap(&e, "%s", prefix), FE_EPG);
    size_t len = strlen(e.msg);
    CU_ASSERT_EQUAL(len, sizeof e.msg - 1);
    CU_ASSERT_TRUE(utf8_valid(e.msg, len));
    CU_ASSERT_EQUAL(memcmp(e.msg, "pp\xD0\x96", 4), 0);
    CU_ASSERT_EQUAL(e.msg[len - 1], ':'); /* 766 bytes of whole letters, then ": " cut */
    CU_ASSERT_PTR_NULL(strstr(e.msg, "cause"));
}

/* A message that fits exactly is kept whole. */
static void test_exact_fit(void)
{
    fe_err e;
    char text[sizeof e.msg];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    fe_err_set(&e, FE_EIO, "%s", text);
    CU_ASSERT_EQUAL(strlen(e.msg), sizeof e.msg - 1);
    CU_ASSERT_STRING_EQUAL(e.msg, text);
}

static int try_calls;

static fe_rc step(fe_rc rc)
{
    try_calls++;
    return rc;
}

static fe_rc two_steps(fe_rc first, fe_rc second)
{
    FE_TRY(step(first));
    FE_TRY(step(second));
    return FE_OK;
}

/* FE_TRY returns the first failure and runs nothing after it. */
static void test_try(void)
{
    try_calls = 0;
    CU_ASSERT_EQUAL(two_steps(FE_OK, FE_OK), FE_OK);
    CU_ASSERT_EQUAL(try_calls, 2);
    try_calls = 0;
    CU_ASSERT_EQUAL(two_steps(FE_EPG, FE_EIO), FE_EPG);
    CU_ASSERT_EQUAL(try_calls, 1);
    try_calls = 0;
    CU_ASSERT_EQUAL(two_steps(FE_OK, FE_EIO), FE_EIO);
    CU_ASSERT_EQUAL(try_calls, 2);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("err", NULL, NULL);
    CU_add_test(s, "set and wrap", test_err_set_wrap);
    CU_add_test(s, "truncation keeps utf8", test_err_truncation_keeps_utf8);
    CU_add_test(s, "rc names", test_rc_names);
    CU_add_test(s, "rc names distinct", test_rc_names_distinct);
    CU_add_test(s, "set overwrites, clear empties", test_set_overwrites_and_clear);
    CU_add_test(s, "wrap nests", test_wrap_nests);
    CU_add_test(s, "wrap with a long prefix", test_wrap_long_prefix);
    CU_add_test(s, "exact fit", test_exact_fit);
    CU_add_test(s, "FE_TRY", test_try);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
