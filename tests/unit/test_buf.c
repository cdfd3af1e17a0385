/* Unit tests for core/buf (core/err: test_err). */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void test_empty_and_append(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "");
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_TRUE(buf_append(&b, "abc", 3));
    CU_ASSERT_TRUE(buf_putc(&b, '-'));
    CU_ASSERT_TRUE(buf_puts(&b, "xyz"));
    CU_ASSERT_EQUAL(b.len, 7);
    CU_ASSERT_EQUAL(b.data[7], '\0');
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "abc-xyz");
    CU_ASSERT_TRUE(buf_append(&b, NULL, 0));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "abc-xyz");
    buf_term(&b);
    CU_ASSERT_PTR_NULL(b.data);
    buf_term(NULL);
}

static void test_growth_keeps_content(void)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 10000; i++)
        CU_ASSERT_FATAL(buf_putc(&b, (char)('a' + i % 26)));
    CU_ASSERT_EQUAL(b.len, 10000);
    CU_ASSERT_TRUE(b.cap > b.len);
    /* doubling: capacity never more than twice what is needed (plus the minimum) */
    CU_ASSERT_TRUE(b.cap <= 2 * (b.len + 1));
    int bad = 0;
    for (int i = 0; i < 10000; i++)
        bad += b.data[i] != (char)('a' + i % 26);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(b.data[10000], '\0');
    buf_term(&b);
}

static void test_cap(void)
{
    buf b;
    buf_init(&b, 10);
    CU_ASSERT_TRUE(buf_puts(&b, "0123456789"));
    CU_ASSERT_FALSE(buf_putc(&b, 'x'));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "0123456789");
    CU_ASSERT_TRUE(b.cap <= 11);
    buf_reset(&b);
    CU_ASSERT_TRUE(buf_puts(&b, "012"));
    CU_ASSERT_FALSE(buf_printf(&b, "%s", "this is too long"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "012");
    CU_ASSERT_FALSE(buf_put_jsonstr(&b, "abcdefgh"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "012");
    CU_ASSERT_FALSE(buf_put_urlenc(&b, "a b c d"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "012");
    CU_ASSERT_EQUAL(b.len, 3);
    buf_term(&b);
}

static void test_printf(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(buf_printf(&b, "page=%d", 12));
    CU_ASSERT_TRUE(buf_printf(&b, "&q=%s", ""));
    char big[3000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CU_ASSERT_TRUE(buf_printf(&b, "%s!", big));
    CU_ASSERT_EQUAL(b.len, strlen("page=12&q=") + 2999 + 1);
    CU_ASSERT_EQUAL(memcmp(b.data, "page=12&q=zzz", 13), 0);
    CU_ASSERT_EQUAL(b.data[b.len - 1], '!');
    buf_term(&b);
}

static void test_query(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(buf_puts(&b, "https://x/v1/orders?"));
    CU_ASSERT_TRUE(buf_put_query(&b, "filter[updatedAt][from]", "2026-01-01T00:00:00+03:00"));
    CU_ASSERT_TRUE(buf_put_query_long(&b, "page[size]", 100));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "https://x/v1/orders?filter%5BupdatedAt%5D%5Bfrom%5D="
                                         "2026-01-01T00%3A00%3A00%2B03%3A00&page%5Bsize%5D=100");
    buf_reset(&b);
    CU_ASSERT_TRUE(buf_puts(&b, "https://x/v1/orders?sort=a"));
    CU_ASSERT_TRUE(buf_put_query_long(&b, "n", -7));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "https://x/v1/orders?sort=a&n=-7");
    buf_term(&b);
}

static void test_urlenc(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(buf_put_urlenc(&b, "a b&c=d/\xC3\xA9~._-Z9"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "a%20b%26c%3Dd%2F%C3%A9~._-Z9");
    buf_reset(&b);
    CU_ASSERT_TRUE(buf_put_urlenc(&b, "2026-01-01T00:00:00+03:00"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "2026-01-01T00%3A00%3A00%2B03%3A00");
    buf_term(&b);
}

static void test_jsonstr(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(
        buf_put_jsonstr(&b, "say \"hi\" \\ \n\t\x01\x1f \xD0\xA0\xD0\xBE\xD0\xB7\xD1\x8B"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "\"say \\\"hi\\\" \\\\ \\u000A\\u0009\\u0001\\u001F "
                                         "\xD0\xA0\xD0\xBE\xD0\xB7\xD1\x8B\"");
    buf_reset(&b);
    CU_ASSERT_TRUE(buf_put_jsonstr(&b, ""));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "\"\"");
    buf_term(&b);
}

static void test_take(void)
{
    buf b;
    buf_init(&b, 100);
    size_t len = 99;
    CU_ASSERT_PTR_NULL(buf_take(&b, &len));
    CU_ASSERT_EQUAL(len, 0);
    CU_ASSERT_TRUE(buf_puts(&b, "hello"));
    char *p = buf_take(&b, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(len, 5);
    CU_ASSERT_STRING_EQUAL(p, "hello");
    CU_ASSERT_PTR_NULL(b.data);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_EQUAL(b.max, 100);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "");
    free(p);
    CU_ASSERT_TRUE(buf_puts(&b, "again"));
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "again");
    buf_term(&b);
}

static void test_reset_keeps_storage(void)
{
    buf b;
    buf_init(&b, 0);
    CU_ASSERT_TRUE(buf_puts(&b, "some text"));
    char *before = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_PTR_EQUAL(b.data, before);
    CU_ASSERT_EQUAL(b.cap, cap);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&b), "");
    buf_term(&b);
}

/* buf_textf cuts on a character boundary, never inside one. */
static void test_textf_cuts_whole_characters(void)
{
    char out[6];
    buf_textf(out, sizeof out, "ab%s", "\xD0\x96\xD0\x96"); /* "abЖЖ": 6 bytes + NUL */
    CU_ASSERT_STRING_EQUAL(out, "ab\xD0\x96");
    buf_textf(out, sizeof out, "%d", 42);
    CU_ASSERT_STRING_EQUAL(out, "42");
}

static void test_utf8_floor(void)
{
    const char *s = "a\xD0\x96\xE2\x82\xAC\xF0\x9F\x8C\xB9"; /* a Ж € 🌹 */
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 0), 0);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 1), 1);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 2), 1);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 3), 3);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 4), 3);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 5), 3);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 6), 6);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 9), 6);
    CU_ASSERT_EQUAL(buf_utf8_floor(s, 10), 10);
}

static void test_array_room(void)
{
    size_t cap = 0, n = 0;
    int *v = NULL;
    for (int i = 0; i < 100; i++, n++) {
        int *p = buf_array_room(v, &cap, n, sizeof *p, 4);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        v = p;
        v[n] = i;
    }
    CU_ASSERT_EQUAL(cap, 128); /* 4, 8, ... doubling */
    CU_ASSERT_EQUAL(v[99], 99);
    CU_ASSERT_PTR_EQUAL(buf_array_room(v, &cap, 100, sizeof *v, 4), v); /* room left */
    size_t huge = SIZE_MAX / 2; /* doubling would overflow: refused, v unchanged */
    CU_ASSERT_PTR_NULL(buf_array_room(v, &huge, huge, sizeof *v, 4));
    CU_ASSERT_EQUAL(huge, SIZE_MAX / 2);
    free(v);
}

static void test_fnv_and_str_eq(void)
{
    /* the published FNV-1a 64-bit test vectors */
    CU_ASSERT_EQUAL(buf_fnv1a(BUF_FNV_INIT, "", 0), UINT64_C(0xcbf29ce484222325));
    CU_ASSERT_EQUAL(buf_fnv1a(BUF_FNV_INIT, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
    CU_ASSERT_EQUAL(buf_fnv1a(BUF_FNV_INIT, "foobar", 6), UINT64_C(0x85944171f73967e8));
    CU_ASSERT_EQUAL(buf_fnv1a(buf_fnv1a(BUF_FNV_INIT, "foo", 3), "bar", 3),
                    UINT64_C(0x85944171f73967e8)); /* continues */
    CU_ASSERT_TRUE(buf_str_eq("x", "x"));
    CU_ASSERT_FALSE(buf_str_eq("x", "y"));
    CU_ASSERT_FALSE(buf_str_eq(NULL, "x"));
    CU_ASSERT_FALSE(buf_str_eq(NULL, NULL));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("buf", NULL, NULL);
    CU_add_test(s, "empty and append", test_empty_and_append);
    CU_add_test(s, "query parameters", test_query);
    CU_add_test(s, "growth keeps content", test_growth_keeps_content);
    CU_add_test(s, "cap refuses and leaves buffer as it was", test_cap);
    CU_add_test(s, "printf", test_printf);
    CU_add_test(s, "url encoding", test_urlenc);
    CU_add_test(s, "json string", test_jsonstr);
    CU_add_test(s, "take hands over storage", test_take);
    CU_add_test(s, "reset keeps storage", test_reset_keeps_storage);
    CU_add_test(s, "utf8 floor", test_utf8_floor);
    CU_add_test(s, "textf cuts whole characters", test_textf_cuts_whole_characters);
    CU_add_test(s, "array room doubles, refuses overflow", test_array_room);
    CU_add_test(s, "fnv1a vectors, str_eq", test_fnv_and_str_eq);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
