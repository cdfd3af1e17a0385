/* Tests for transform/field (reading one value of a record under the rules of
 * transform/value.h): text, ids (0 included), amounts, times, dates, the shared
 * optional-value helpers, array lengths from flat paths, currency codes, how a
 * bad value is shown in a reason, and the sink-failure rule of every mapping. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/timeutil.h"
#include "extract/json_stream.h"
#include "transform/field.h"

static int64_t at(const char *iso)
{
    int64_t us = 0;
    CU_ASSERT_FATAL(time_parse_iso(iso, strlen(iso), &us));
    return us;
}

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

static void check_more_text(const json_rec *r)
{
    const char *v;
    char cur[4];
    fe_err err = {0};
    CU_ASSERT_STRING_EQUAL(field_id_or_null(r, "id"), "7");
    CU_ASSERT_PTR_NULL(field_id_or_null(r, "empty"));
    CU_ASSERT_PTR_NULL(field_id_or_null(r, "nul"));
    CU_ASSERT_PTR_NULL(field_id_or_null(r, "missing"));
    CU_ASSERT_EQUAL(field_currency(r, "cur", cur, &v, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(v, "RUB");
    CU_ASSERT_EQUAL(field_currency(r, "unknown", cur, &v, &err), FE_OK);
    CU_ASSERT_PTR_NULL(v); /* kept as NULL: the record is not refused */
    CU_ASSERT_EQUAL(field_currency(r, "missing", cur, &v, &err), FE_OK);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(field_currency(r, "nul", cur, &v, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "nul contains a NUL byte");
    CU_ASSERT_TRUE(field_is("STOCK", "STOCK"));
    CU_ASSERT_FALSE(field_is("STOCKS", "STOCK"));
    CU_ASSERT_FALSE(field_is(NULL, "STOCK"));
    static const char *const kinds[] = {"kit", "group"};
    CU_ASSERT_TRUE(field_is_one_of("group", kinds, 2));
    CU_ASSERT_FALSE(field_is_one_of("kits", kinds, 2));
    CU_ASSERT_FALSE(field_is_one_of(NULL, kinds, 2));
    CU_ASSERT_FALSE(field_is_one_of("kit", kinds, 0));
    CU_ASSERT_FALSE(field_bool(r, "cur", false)); /* a string is not a boolean */
}

static void test_field_more_text(void)
{
    with_record("{\"id\":7,\"empty\":\"\",\"nul\":\"R\\u0000B\",\"cur\":\"rub\","
                "\"unknown\":\"unknown\"}",
                check_more_text);
}

/* Text that does not come from a record (a report's CSV column). */
static void test_field_checks_outside_records(void)
{
    decimal d;
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_check_text("col", "ok", 2, &err), FE_OK);
    CU_ASSERT_EQUAL(field_check_text("col", "a\0b", 3, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "col contains a NUL byte");
    CU_ASSERT_EQUAL(field_check_text("col", "\xC3", 1, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "col is not valid UTF-8");
    CU_ASSERT_EQUAL(field_check_decimal("col", "12.5", 4, 1, &d, &err), FE_OK);
    CU_ASSERT_TRUE(d.units == 125000);
    CU_ASSERT_EQUAL(field_check_decimal("col", "1250", 4, 100, &d, &err), FE_OK);
    CU_ASSERT_TRUE(d.units == 125000);
    CU_ASSERT_EQUAL(field_check_decimal("col", "12x", 3, 1, &d, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "col: '12x' is not a decimal");
    CU_ASSERT_EQUAL(field_check_decimal("col", "12345678901234567", 17, 1, &d, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "col: '12345678901234567' is out of range (numeric(20,4))");
}

static void check_optional_texts(const json_rec *r)
{
    char num[DECIMAL_TEXT_MAX], when[TIME_TEXT_MAX];
    const char *text;
    decimal d = decimal_zero();
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_decimal_text(r, "price", 100, num, &text, &d, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(text, "12.3400");
    CU_ASSERT_PTR_EQUAL(text, num);
    CU_ASSERT_TRUE(d.units == 123400);
    d = decimal_zero();
    CU_ASSERT_EQUAL(field_decimal_text(r, "nothing", 1, num, &text, &d, &err), FE_OK);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_TRUE(decimal_is_zero(d)); /* untouched when absent */
    CU_ASSERT_EQUAL(field_decimal_text(r, "empty", 1, num, &text, NULL, &err), FE_OK);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(field_decimal_text(r, "flag", 1, num, &text, NULL, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "flag: 'true' is not a decimal");
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(field_time_text(r, "t", when, &text, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(text, "2026-01-02T07:00:00.500000Z");
    CU_ASSERT_EQUAL(field_time_text(r, "nothing", when, &text, &err), FE_OK);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(field_time_text(r, "empty", when, &text, &err), FE_OK);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(field_time_text(r, "t0", when, &text, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "t0: '0000-06-01T00:00:00Z' is out of range (years 1..9999)");
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(field_time_text(r, "bad", when, &text, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "bad: 'soon' is not a date-time");
}

static void test_field_optional_texts(void)
{
    with_record("{\"price\":1234,\"nothing\":null,\"empty\":\"\",\"flag\":true,"
                "\"t\":\"2026-01-02T10:00:00.5+03:00\",\"t0\":\"0000-06-01T00:00:00Z\","
                "\"bad\":\"soon\"}",
                check_optional_texts);
}

static void check_unix_times(const json_rec *r)
{
    int64_t us;
    bool present;
    fe_err err = {0};
    CU_ASSERT_EQUAL(field_unix_time(r, "s", &us, &present, &err), FE_OK);
    CU_ASSERT_TRUE(present && us == at("2023-11-14T22:13:20Z"));
    CU_ASSERT_EQUAL(field_unix_time(r, "empty", &us, &present, &err), FE_OK);
    CU_ASSERT_FALSE(present);
    CU_ASSERT_EQUAL(field_unix_time(r, "word", &us, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "word: 'noon' is not unix seconds");
    CU_ASSERT_EQUAL(field_unix_time(r, "big", &us, &present, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "big: '253402300800' is out of range (years 1..9999)");
}

static void test_field_unix_times(void)
{
    with_record("{\"s\":\"1700000000\",\"empty\":\"\",\"word\":\"noon\",\"big\":253402300800}",
                check_unix_times);
}

static void check_array_len(const json_rec *r)
{
    bool beyond;
    CU_ASSERT_EQUAL(field_array_len(r, "lines", 100, &beyond), 3); /* 0, 2: the highest counts */
    CU_ASSERT_FALSE(beyond);
    CU_ASSERT_EQUAL(field_array_len(r, "none", 100, &beyond), 0);
    CU_ASSERT_FALSE(beyond);
    CU_ASSERT_EQUAL(field_array_len(r, "empty", 100, &beyond), 0);
    CU_ASSERT_EQUAL(field_array_len(r, "scalars", 100, NULL), 2);
    /* an index at or beyond the maximum is not counted, and is flagged */
    CU_ASSERT_EQUAL(field_array_len(r, "lines", 2, &beyond), 2);
    CU_ASSERT_TRUE(beyond);
    /* "linesx.0" and "lines_b" are other fields; an object key "1x" under the
     * prefix is no index: flagged */
    CU_ASSERT_EQUAL(field_array_len(r, "obj", 100, &beyond), 0);
    CU_ASSERT_TRUE(beyond);
}

static void test_field_array_len(void)
{
    with_record("{\"lines\":[{\"id\":1},{\"id\":2},{\"id\":3,\"q\":[1,2]}],\"linesx\":[1],"
                "\"lines_b\":5,\"empty\":[],\"scalars\":[7,8],\"obj\":{\"1x\":1}}",
                check_array_len);
}

/* A sink's FE_EINVAL must not read as a reject of the record: it becomes FE_EABORT,
 * in err too; every other code passes as it is. */
static void test_field_sink_rc(void)
{
    fe_err err = {0};
    fe_err_set(&err, FE_EINVAL, "sink refused");
    CU_ASSERT_EQUAL(field_sink_rc(FE_EINVAL, &err), FE_EABORT);
    CU_ASSERT_EQUAL(err.code, FE_EABORT);
    CU_ASSERT_STRING_EQUAL(err.msg, "sink refused");
    CU_ASSERT_EQUAL(field_sink_rc(FE_EINVAL, NULL), FE_EABORT);
    fe_err_set(&err, FE_EPG, "COPY failed");
    CU_ASSERT_EQUAL(field_sink_rc(FE_EPG, &err), FE_EPG);
    CU_ASSERT_EQUAL(err.code, FE_EPG);
    CU_ASSERT_EQUAL(field_sink_rc(FE_OK, &err), FE_OK);
    CU_ASSERT_EQUAL(field_sink_rc(FE_ENOMEM, NULL), FE_ENOMEM);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("field", NULL, NULL);
    CU_add_test(s, "text", test_field_text);
    CU_add_test(s, "ids", test_field_ids);
    CU_add_test(s, "amounts, times, dates", test_field_values);
    CU_add_test(s, "ids or NULL, currencies, field_is(_one_of)", test_field_more_text);
    CU_add_test(s, "checks of text outside records", test_field_checks_outside_records);
    CU_add_test(s, "optional amounts and times as text", test_field_optional_texts);
    CU_add_test(s, "unix seconds", test_field_unix_times);
    CU_add_test(s, "array lengths from flat paths", test_field_array_len);
    CU_add_test(s, "sink failures are not rejects", test_field_sink_rc);
    CU_add_test(s, "bad values shown", test_field_show);
    CU_add_test(s, "secrets masked before the cut", test_field_show_masks_before_cut);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
