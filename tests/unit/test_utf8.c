#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"

static bool valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

static void test_valid_text(void)
{
    CU_ASSERT_TRUE(utf8_valid("", 0));
    CU_ASSERT_TRUE(valid("plain ASCII, 123 ~!"));
    CU_ASSERT_TRUE(valid("Букет «Нежность», 25 роз — доставка по Москве"));
    CU_ASSERT_TRUE(valid("Ёлка ёжик ЪЬ эюя"));
    CU_ASSERT_TRUE(valid("€ ₽ 中文 日本語"));
    CU_ASSERT_TRUE(valid("🌹💐")); /* 4-byte sequences */
    /* Boundaries of each sequence length. */
    CU_ASSERT_TRUE(valid("\x7F"));
    CU_ASSERT_TRUE(valid("\xC2\x80"));         /* U+0080 */
    CU_ASSERT_TRUE(valid("\xDF\xBF"));         /* U+07FF */
    CU_ASSERT_TRUE(valid("\xE0\xA0\x80"));     /* U+0800 */
    CU_ASSERT_TRUE(valid("\xED\x9F\xBF"));     /* U+D7FF, just below the surrogates */
    CU_ASSERT_TRUE(valid("\xEE\x80\x80"));     /* U+E000, just above them */
    CU_ASSERT_TRUE(valid("\xEF\xBF\xBF"));     /* U+FFFF */
    CU_ASSERT_TRUE(valid("\xF0\x90\x80\x80")); /* U+10000 */
    CU_ASSERT_TRUE(valid("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
    CU_ASSERT_TRUE(valid("\xEF\xBB\xBF"
                         "BOM")); /* a BOM is a valid character */
}

static void test_nul(void)
{
    CU_ASSERT_FALSE(utf8_valid("\0", 1));
    CU_ASSERT_FALSE(utf8_valid("ab\0cd", 5));
    CU_ASSERT_FALSE(utf8_valid("Роза\0", sizeof "Роза"));
    CU_ASSERT_FALSE(utf8_valid("\xC0\x80", 2)); /* overlong NUL ("modified UTF-8") */
    /* len bounds the check: a NUL after it is not looked at. */
    CU_ASSERT_TRUE(utf8_valid("ab\0cd", 2));
}

static void test_overlong(void)
{
    CU_ASSERT_FALSE(valid("\xC0\xAF"));         /* '/' in 2 bytes */
    CU_ASSERT_FALSE(valid("\xC1\xBF"));         /* U+007F in 2 bytes */
    CU_ASSERT_FALSE(valid("\xE0\x80\xAF"));     /* '/' in 3 bytes */
    CU_ASSERT_FALSE(valid("\xE0\x9F\xBF"));     /* U+07FF in 3 bytes */
    CU_ASSERT_FALSE(valid("\xF0\x80\x80\xAF")); /* '/' in 4 bytes */
    CU_ASSERT_FALSE(valid("\xF0\x8F\xBF\xBF")); /* U+FFFF in 4 bytes */
}

static void test_surrogates(void)
{
    CU_ASSERT_FALSE(valid("\xED\xA0\x80"));             /* U+D800 */
    CU_ASSERT_FALSE(valid("\xED\xAF\xBF"));             /* U+DBFF */
    CU_ASSERT_FALSE(valid("\xED\xB0\x80"));             /* U+DC00 */
    CU_ASSERT_FALSE(valid("\xED\xBF\xBF"));             /* U+DFFF */
    CU_ASSERT_FALSE(valid("\xED\xA0\xBD\xED\xB8\x80")); /* CESU-8 pair for U+1F600 */
}

static void test_out_of_range(void)
{
    CU_ASSERT_FALSE(valid("\xF4\x90\x80\x80")); /* U+110000 */
    CU_ASSERT_FALSE(valid("\xF5\x80\x80\x80"));
    CU_ASSERT_FALSE(valid("\xF7\xBF\xBF\xBF"));
    CU_ASSERT_FALSE(valid("\xF8\x88\x80\x80\x80")); /* old 5-byte form */
    CU_ASSERT_FALSE(valid("\xFC\x84\x80\x80\x80\x80"));
    CU_ASSERT_FALSE(valid("\xFE"));
    CU_ASSERT_FALSE(valid("\xFF"));
}

static void test_truncated_and_stray(void)
{
    CU_ASSERT_FALSE(valid("\xD0"));         /* lead byte at the end */
    CU_ASSERT_FALSE(valid("Роз\xD0"));      /* Russian text cut inside a letter */
    CU_ASSERT_FALSE(valid("\xE2\x82"));     /* 2 of 3 bytes of € */
    CU_ASSERT_FALSE(valid("\xF0\x9F\x8C")); /* 3 of 4 bytes of 🌹 */
    CU_ASSERT_FALSE(valid("\xE2\x82"
                          "a")); /* ASCII where a continuation must be */
    CU_ASSERT_FALSE(valid("\xF0\x9F\x8C"
                          "a"));
    CU_ASSERT_FALSE(valid("\xD0\xD0\xB0")); /* lead followed by a lead */
    CU_ASSERT_FALSE(valid("\x80"));         /* stray continuation */
    CU_ASSERT_FALSE(valid("a\xBF"
                          "b"));
    CU_ASSERT_FALSE(valid("\xD0\xA0\xB0"));             /* one continuation too many */
    CU_ASSERT_FALSE(valid("caf\xE9"));                  /* Latin-1 é */
    CU_ASSERT_FALSE(valid("\xCF\xF0\xE8\xE2\xE5\xF2")); /* "Привет" in Windows-1251 */
    /* The full text is valid; every cut inside a multi-byte letter is not. */
    const char *ru = "Привет";
    CU_ASSERT_TRUE(utf8_valid(ru, strlen(ru)));
    for (size_t n = 1; n < strlen(ru); n += 2)
        CU_ASSERT_FALSE(utf8_valid(ru, n));
    for (size_t n = 0; n <= strlen(ru); n += 2)
        CU_ASSERT_TRUE(utf8_valid(ru, n));
}

/* buf_utf8_scrub on a copy of s: the result, and how many bytes it replaced. */
static size_t scrubbed(const char *s, char *out, size_t size)
{
    snprintf(out, size, "%s", s);
    return buf_utf8_scrub(out, strlen(out));
}

static void test_scrub(void)
{
    char out[128];
    /* Valid text is left alone, multi-byte letters included. */
    CU_ASSERT_EQUAL(scrubbed("a Ж € 🌹 Привет", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "a Ж € 🌹 Привет");
    /* Windows-1251 (a gateway's error page): every byte is one '?'. */
    CU_ASSERT_EQUAL(scrubbed("HTTP 502: \xCE\xF8\xE8\xE1\xEA\xE0", out, sizeof out), 6);
    CU_ASSERT_STRING_EQUAL(out, "HTTP 502: ??????");
    /* Mixed: valid letters stay, the stray, overlong, surrogate and cut ones go. */
    CU_ASSERT_EQUAL(scrubbed("Ж\x80Ж\xC0\xAF\xED\xA0\x80\xE2\x82", out, sizeof out), 8);
    CU_ASSERT_STRING_EQUAL(out, "Ж?Ж???????");
    CU_ASSERT_EQUAL(scrubbed("caf\xE9 \xF4\x90\x80\x80.", out, sizeof out), 5);
    CU_ASSERT_STRING_EQUAL(out, "caf? ????.");
    /* The length never changes and the result is always valid. */
    const char *hostile[] = {"\xFF\xFE", "\xD0\xD0\xB0", "\xF0\x9F\x8C", "Роз\xD0", "\xCF\xF0\xE8"};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        scrubbed(hostile[i], out, sizeof out);
        CU_ASSERT_EQUAL(strlen(out), strlen(hostile[i]));
        CU_ASSERT_TRUE(valid(out));
    }
    /* Only the n bytes given are looked at. */
    char cut[] = "ab\xFF\xFF";
    CU_ASSERT_EQUAL(buf_utf8_scrub(cut, 3), 1);
    CU_ASSERT_EQUAL(memcmp(cut, "ab?\xFF", 4), 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("utf8", NULL, NULL);
    CU_add_test(s, "valid text", test_valid_text);
    CU_add_test(s, "NUL byte", test_nul);
    CU_add_test(s, "overlong forms", test_overlong);
    CU_add_test(s, "surrogates", test_surrogates);
    CU_add_test(s, "above U+10FFFF", test_out_of_range);
    CU_add_test(s, "truncated and stray bytes", test_truncated_and_stray);
    CU_add_test(s, "scrub makes any text valid", test_scrub);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
