/* Tests for transform/value (PostgreSQL's rules) and transform/field (reading a
 * record's values under them): the range bounds exactly, text with NUL bytes and
 * bad UTF-8, ids (0 included), and the reasons each refusal gives. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "extract/json_stream.h"
#include "transform/field.h"
#include "core/timeutil.h"
#include "transform/value.h"

static int64_t at(const char *iso)
{
    int64_t us = 0;
    CU_ASSERT_FATAL(time_parse_iso(iso, strlen(iso), &us));
    return us;
}

static void test_time_range(void)
{
    CU_ASSERT_FALSE(value_time_ok(at("0000-12-31T23:59:59Z")));
    CU_ASSERT_FALSE(value_time_ok(at("0001-01-01T23:59:59.999999Z")));
    CU_ASSERT_TRUE(value_time_ok(at("0001-01-02T00:00:00Z")));
    CU_ASSERT_TRUE(value_time_ok(at("2026-01-01T00:00:00Z")));
    CU_ASSERT_TRUE(value_time_ok(at("1969-12-31T23:59:59Z")));
    CU_ASSERT_TRUE(value_time_ok(at("9999-12-30T23:59:59.999999Z")));
    CU_ASSERT_FALSE(value_time_ok(at("9999-12-31T00:00:00Z")));
    CU_ASSERT_FALSE(value_time_ok(INT64_MAX));
    CU_ASSERT_FALSE(value_time_ok(INT64_MIN));
}

static void test_date_range(void)
{
    CU_ASSERT_TRUE(value_date_text_ok("0001-01-01", 10));
    CU_ASSERT_TRUE(value_date_text_ok("9999-12-31", 10));
    CU_ASSERT_TRUE(value_date_text_ok("2024-02-29", 10));
    CU_ASSERT_FALSE(value_date_text_ok("0000-01-01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-02-29", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-13-01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-1-01", 9));
    CU_ASSERT_FALSE(value_date_text_ok("2023/01/01", 10));
    CU_ASSERT_FALSE(value_date_text_ok("2023-01-01T", 11));
    CU_ASSERT_FALSE(value_date_text_ok(NULL, 10));
    CU_ASSERT_FALSE(value_date_ok(10000, 1, 1));
    CU_ASSERT_TRUE(value_date_ok(1, 1, 1));
}

static void test_text_and_currency(void)
{
    char c[4];
    CU_ASSERT_PTR_NULL(value_text_problem("Роза", strlen("Роза")));
    CU_ASSERT_PTR_NULL(value_text_problem("", 0));
    CU_ASSERT_STRING_EQUAL(value_text_problem("a\0b", 3), "contains a NUL byte");
    CU_ASSERT_STRING_EQUAL(value_text_problem("\xD0", 1), "is not valid UTF-8");
    CU_ASSERT_STRING_EQUAL(value_currency("rub", 3, c), "RUB");
    CU_ASSERT_PTR_NULL(value_currency("RUBL", 4, c));
    CU_ASSERT_PTR_NULL(value_currency("R1B", 3, c));
    CU_ASSERT_PTR_NULL(value_currency("R\0B", 3, c));
    CU_ASSERT_PTR_NULL(value_currency(NULL, 0, c));
    decimal d;
    CU_ASSERT_TRUE(decimal_parse("-9999999999999999.9999", 22, &d) && value_amount_ok(d));
    CU_ASSERT_FALSE(value_amount_ok((decimal){.units = (__int128)10000000000000000 * 10000}));
}

/* ---- field: one record through json_stream ---------------------------------- */

typedef void (*rec_check)(const json_rec *rec);

static fe_rc on_rec(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    (void)err;
    ((rec_check)ctx)(rec);
    return FE_OK;
}

/* Runs check on the one record of {"data":[RECORD]}. */
static void with_record(const char *record, rec_check check)
{
    static const char *const paths[] = {"data[]"};
    char doc[1024];
    fe_err err = {0};
    snprintf(doc, sizeof doc, "{\"data\":[%s]}", record);
    json_stream *js = json_stream_new(paths, 1, false, 0, on_rec, (void *)check);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    json_stream_free(js);
}

static void check_text(const json_rec *r)
{
    const char *v;
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_text(r, "name", &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "Ann");
    CU_ASSERT_EQUAL(field_text(r, "empty", &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "");
    CU_ASSERT_EQUAL(field_text_opt(r, "empty", &v, &err), FE_OK);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(field_text(r, "num", &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "12.50");
    CU_ASSERT_EQUAL(field_text(r, "flag", &v, &err), FE_OK);
    CU_ASSERT_PTR_NULL(v); /* booleans are not text */
    CU_ASSERT_EQUAL(field_text(r, "nothing", &v, &err), FE_OK);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(field_text(r, "nul", &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "nul contains a NUL byte");
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(field_text(r, "bad", &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "bad is not valid UTF-8");
    CU_ASSERT_TRUE(field_true(r, "flag"));
    CU_ASSERT_TRUE(field_true(r, "strtrue"));
    CU_ASSERT_FALSE(field_true(r, "nultrue"));
    CU_ASSERT_TRUE(field_bool(r, "flag", false));
    CU_ASSERT_TRUE(field_bool(r, "nothing", true));
}

static void test_field_text(void)
{
    with_record("{\"name\":\"Ann\",\"empty\":\"\",\"num\":12.50,\"flag\":true,\"nothing\":null,"
                "\"nul\":\"A\\u0000nn\",\"bad\":\"\\udc00\",\"strtrue\":\"true\","
                "\"nultrue\":\"true\\u0000\"}",
                check_text);
}

static void check_ids(const json_rec *r)
{
    const char *v;
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_id(r, "zero", &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "0");
    CU_ASSERT_EQUAL(field_id(r, "zerostr", &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "0");
    CU_ASSERT_EQUAL(field_id(r, "empty", &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "record without empty");
    CU_ASSERT_EQUAL(field_id(r, "null", &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "record without null");
    CU_ASSERT_EQUAL(field_id(r, "missing", &v, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(field_id(r, "nul", &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "nul contains a NUL byte");
}

static void test_field_ids(void)
{
    with_record(
        "{\"zero\":0,\"zerostr\":\"0\",\"empty\":\"\",\"null\":null,\"nul\":\"12\\u00003\"}",
        check_ids);
}

static void check_values(const json_rec *r)
{
    decimal d;
    int64_t us;
    bool present;
    char date[11];
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_decimal(r, "amount", 1, &d, &present, &err), FE_OK);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(field_decimal(r, "minor", 100, &d, &present, &err), FE_OK);
    CU_ASSERT_TRUE(present && d.units == 123450);
    CU_ASSERT_EQUAL(field_decimal(r, "emptystr", 1, &d, &present, &err), FE_OK);
    CU_ASSERT_FALSE(present);
    CU_ASSERT_EQUAL(field_decimal_req(r, "emptystr", 1, &d, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "emptystr is missing");
    CU_ASSERT_EQUAL(field_decimal(r, "huge", 1, &d, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "huge: '12345678901234567' is out of range (numeric(20,4))");
    CU_ASSERT_EQUAL(field_decimal(r, "comma", 1, &d, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "comma: '1,5' is not a decimal");
    CU_ASSERT_EQUAL(field_decimal(r, "nulnum", 1, &d, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "nulnum: '12?' is not a decimal");
    CU_ASSERT_EQUAL(field_time(r, "t", &us, &present, &err), FE_OK);
    CU_ASSERT_TRUE(present && us == at("2026-01-02T07:00:00Z"));
    CU_ASSERT_EQUAL(field_time(r, "t0", &us, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "t0: '0000-03-01T00:00:00Z' is out of range (years 1..9999)");
    CU_ASSERT_EQUAL(field_time(r, "tnum", &us, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "tnum: '1700000000' is not a date-time");
    CU_ASSERT_EQUAL(field_unix_time(r, "tnum", &us, &present, &err), FE_OK);
    CU_ASSERT_EQUAL(field_unix_time(r, "tneg", &us, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "tneg: '-62135596800' is out of range (years 1..9999)"); /* 0001-01-01 */
    CU_ASSERT_EQUAL(field_date(r, "d", date, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(date, "2026-01-02");
    CU_ASSERT_EQUAL(field_date(r, "d0", date, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "d0: '0000-01-01' is out of range (years 1..9999)");
    CU_ASSERT_EQUAL(field_date(r, "dt", date, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "dt: '2026-01-02T00:00Z' is not a date (YYYY-MM-DD)");
    CU_ASSERT_EQUAL(field_date(r, "missing", date, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(date, "");
}

static void test_field_values(void)
{
    with_record("{\"amount\":\"1990.00\",\"minor\":1234.5,\"emptystr\":\"\","
                "\"huge\":12345678901234567,\"comma\":\"1,5\",\"nulnum\":\"12\\u0000\","
                "\"t\":\"2026-01-02T10:00:00+03:00\",\"t0\":\"0000-03-01T00:00:00Z\","
                "\"tnum\":1700000000,\"tneg\":-62135596800,\"d\":\"2026-01-02\","
                "\"d0\":\"0000-01-01\",\"dt\":\"2026-01-02T00:00Z\"}",
                check_values);
}

static void test_field_show(void)
{
    char out[FIELD_SHOW_MAX];
    CU_ASSERT_STRING_EQUAL(field_show("it's", 4, out, sizeof out), "it?s");
    CU_ASSERT_STRING_EQUAL(field_show("a\0\xD0", 3, out, sizeof out), "a??");
    char long_text[100];
    memset(long_text, 'x', sizeof long_text);
    field_show(long_text, sizeof long_text, out, sizeof out);
    CU_ASSERT_EQUAL(strlen(out), FIELD_SHOW_MAX - 1);
    CU_ASSERT_STRING_EQUAL(out + FIELD_SHOW_MAX - 4, "...");
}

/* A bad value quoted in a reason is server text, and the quote is cut: a secret
 * in it is masked whole first, so its head does not survive the cut. */
static void test_field_show_masks_before_cut(void)
{
    static const char *const secrets[] = {"tok-FIELD-0123456789abcdefghijklmnop"};
    const char *v = "amount: tok-FIELD-0123456789abcdefghijklmnop\0tail";
    char out[FIELD_SHOW_MAX];
    log_init(LOG_ERROR, secrets, 1);
    field_show(v, strlen(v) + 5, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "amount: ***?tail");
    log_term();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("value and field", NULL, NULL);
    CU_add_test(s, "instants: years 1..9999 with a day of margin", test_time_range);
    CU_add_test(s, "dates: years 1..9999", test_date_range);
    CU_add_test(s, "text and currency codes", test_text_and_currency);
    CU_add_test(s, "field: text", test_field_text);
    CU_add_test(s, "field: ids", test_field_ids);
    CU_add_test(s, "field: amounts, times, dates", test_field_values);
    CU_add_test(s, "field: bad values shown", test_field_show);
    CU_add_test(s, "field: secrets masked before the cut", test_field_show_masks_before_cut);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
