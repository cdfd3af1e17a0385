/* Unit tests for extract/json_stream. Each record is rendered as one text line,
 * "which|path=value;path=value;", with values typed: 'string', #number, ?bool,
 * null, {} and []. Tests compare the whole rendering with what they expect. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/buf.h"
#include "../../extract/json_stream.h"

typedef struct {
    buf out;
    int records;
    int stop_at; /* return FE_EABORT at this record (1-based), 0 = never */
} sink;

static fe_rc render(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    sink *s = ctx;
    s->records++;
    if (s->stop_at && s->records == s->stop_at)
        return fe_err_set(err, FE_EABORT, "stopped at record %d", s->records);
    bool ok = buf_printf(&s->out, "%d|", which);
    for (size_t i = 0; i < json_rec_count(rec); i++) {
        const json_field *f = json_rec_at(rec, i);
        ok = ok && buf_printf(&s->out, "%s=", f->path);
        switch (f->type) {
        case JV_STRING:
            ok = ok && buf_printf(&s->out, "'%s'", f->value);
            break;
        case JV_NUMBER:
            ok = ok && buf_printf(&s->out, "#%s", f->value);
            break;
        case JV_BOOL:
            ok = ok && buf_printf(&s->out, "?%s", f->value);
            break;
        case JV_NULL:
            ok = ok && buf_puts(&s->out, "null");
            break;
        case JV_EMPTY_OBJECT:
            ok = ok && buf_puts(&s->out, "{}");
            break;
        case JV_EMPTY_ARRAY:
            ok = ok && buf_puts(&s->out, "[]");
            break;
        }
        ok = ok && strlen(f->value) == f->len && buf_putc(&s->out, ';');
    }
    ok = ok && buf_putc(&s->out, '\n');
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "render");
}

static void sink_init(sink *s)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->out, 0);
}

/* Parses doc with the given paths, in one piece or `chunk` bytes at a time.
 * Returns the rendering (caller frees) and the final code in *rc. */
static char *parse(const char *const *paths, int npaths, bool multi, const char *doc, size_t chunk,
                   fe_rc *rc, fe_err *err)
{
    sink s;
    sink_init(&s);
    json_stream *js = json_stream_new(paths, npaths, multi, 1 << 20, render, &s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    size_t len = strlen(doc);
    if (chunk == 0)
        chunk = len ? len : 1;
    *rc = FE_OK;
    for (size_t off = 0; off < len && *rc == FE_OK; off += chunk)
        *rc = json_stream_feed(js, doc + off, len - off < chunk ? len - off : chunk, err);
    if (*rc == FE_OK) {
        *rc = json_stream_finish(js, err);
        CU_ASSERT_EQUAL(json_stream_bytes(js), len);
    }
    json_stream_free(js);
    char *text = buf_take(&s.out, NULL);
    return text ? text : strdup("");
}

/* Parses whole and byte by byte, checks both give `expect` and succeed. */
static void check(const char *const *paths, int npaths, bool multi, const char *doc,
                  const char *expect)
{
    fe_err err = {0};
    fe_rc rc;
    char *whole = parse(paths, npaths, multi, doc, 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_STRING_EQUAL(whole, expect);
    if (strcmp(whole, expect) != 0 || rc != FE_OK)
        fprintf(stderr, "\n--- got (rc %d %s):\n%s--- expected:\n%s", rc, err.msg, whole, expect);
    char *bytewise = parse(paths, npaths, multi, doc, 1, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_STRING_EQUAL(bytewise, expect);
    free(whole);
    free(bytewise);
}

static const char *const JSONAPI_PATHS[] = {"data[]", "included[]", "."};

#define ORDERS_DATA                                                                                \
    "\"data\":[{\"id\":\"o1\",\"type\":\"orders\",\"attributes\":{\"totalAmount\":\"1990.00\","    \
    "\"qty\":3,\"paid\":true,\"note\":null,\"tags\":[],\"extra\":{}},"                             \
    "\"relationships\":{\"lines\":{\"data\":[{\"id\":\"l1\",\"type\":\"order-lines\"},"            \
    "{\"id\":\"l2\",\"type\":\"order-lines\"}]}}},"                                                \
    "{\"id\":\"o2\",\"type\":\"orders\",\"attributes\":{\"totalAmount\":\"-10.00\"}}],"            \
    "\"included\":[{\"id\":\"l1\",\"type\":\"order-lines\",\"attributes\":{\"qty\":1.5}}]"

#define ORDERS_RECORDS                                                                             \
    "0|id='o1';type='orders';attributes.totalAmount='1990.00';attributes.qty=#3;"                  \
    "attributes.paid=?true;attributes.note=null;attributes.tags=[];attributes.extra={};"           \
    "relationships.lines.data.0.id='l1';relationships.lines.data.0.type='order-lines';"            \
    "relationships.lines.data.1.id='l2';relationships.lines.data.1.type='order-lines';\n"          \
    "0|id='o2';type='orders';attributes.totalAmount='-10.00';\n"                                   \
    "1|id='l1';type='order-lines';attributes.qty=#1.5;\n"

static void test_jsonapi_meta_after(void)
{
    check(JSONAPI_PATHS, 3, false,
          "{" ORDERS_DATA ",\"meta\":{\"total\":2,\"revision\":\"r7\"},"
          "\"links\":{\"next\":\"https://x/api/v1/orders?page[number]=2\"}}",
          ORDERS_RECORDS "2|meta.total=#2;meta.revision='r7';"
                         "links.next='https://x/api/v1/orders?page[number]=2';\n");
}

static void test_jsonapi_meta_before(void)
{
    check(JSONAPI_PATHS, 3, false, "{\"meta\":{\"total\":2}, " ORDERS_DATA " }",
          ORDERS_RECORDS "2|meta.total=#2;\n");
}

static void test_root_skips_claimed_even_empty(void)
{
    check(JSONAPI_PATHS, 3, false,
          "{\"data\":[],\"included\":null,\"meta\":{\"total\":0,\"empty\":{}}}",
          "2|meta.total=#0;meta.empty={};\n");
}

static void test_detail_document(void)
{
    static const char *const paths[] = {"data", "included[]"};
    check(paths, 2, false,
          "{\"data\":{\"id\":\"o9\",\"attributes\":{\"lines\":[1,2]}},"
          "\"included\":[{\"id\":\"c1\"},{\"id\":\"c2\"}],\"jsonapi\":{\"version\":\"1.0\"}}",
          "0|id='o9';attributes.lines.0=#1;attributes.lines.1=#2;\n"
          "1|id='c1';\n1|id='c2';\n");
}

static void test_scalar_record_value(void)
{
    static const char *const paths[] = {"data"};
    check(paths, 1, false, "{\"data\":null}", "0|=null;\n");
}

static void test_goflow_nested_arrays(void)
{
    static const char *const paths[] = {"data[]", "."};
    check(paths, 2, false,
          "{\"data\":[{\"id\":101,\"lines\":[{\"id\":\"a\",\"quantity\":{\"amount\":2,"
          "\"measure\":\"each\"},\"charges\":[{\"type\":\"price\",\"amount\":10.5}]},"
          "{\"id\":\"b\",\"quantity\":{\"amount\":1}}]}],"
          "\"next\":\"https://acme.api.goflow.com/v1/orders?cursor=abc\"}",
          "0|id=#101;lines.0.id='a';lines.0.quantity.amount=#2;lines.0.quantity.measure='each';"
          "lines.0.charges.0.type='price';lines.0.charges.0.amount=#10.5;"
          "lines.1.id='b';lines.1.quantity.amount=#1;\n"
          "1|next='https://acme.api.goflow.com/v1/orders?cursor=abc';\n");
}

static void test_root_array(void)
{
    static const char *const paths[] = {"[]"};
    check(paths, 1, false, "[{\"a\":1},{\"a\":[{}]},{},[],3]",
          "0|a=#1;\n0|a.0={};\n0|\n0|\n0|=#3;\n");
    check(paths, 1, false, "[]", "");
}

static void test_nested_record_path(void)
{
    static const char *const paths[] = {"result.items[]", "."};
    check(paths, 2, false,
          "{\"result\":{\"items\":[{\"x\":1},{\"x\":2}],\"total\":2},\"items\":[{\"x\":9}]}",
          "0|x=#1;\n0|x=#2;\n1|result.total=#2;items.0.x=#9;\n");
}

static void test_json_lines(void)
{
    static const char *const paths[] = {"."};
    check(paths, 1, true,
          "{\"sku\":\"A-1\",\"qty\":5}\n{\"sku\":\"B-2\",\"qty\":0,\"loc\":{\"bin\":\"x\"}}\n"
          "\n{\"sku\":\"C-3\",\"qty\":-1}\n",
          "0|sku='A-1';qty=#5;\n0|sku='B-2';qty=#0;loc.bin='x';\n0|sku='C-3';qty=#-1;\n");
}

static void test_multiple_values_refused_without_flag(void)
{
    static const char *const paths[] = {"."};
    fe_err err = {0};
    fe_rc rc;
    char *out = parse(paths, 1, false, "{\"a\":1}\n{\"a\":2}\n", 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_STRING_EQUAL(out, "0|a=#1;\n");
    free(out);
}

static void test_escapes_and_unicode(void)
{
    static const char *const paths[] = {"data[]"};
    check(paths, 1, false,
          "{\"data\":[{\"name\":\"\xD0\xA0\xD0\xBE\xD0\xB7\xD1\x8B \\\"red\\\"\\t\\n\\\\ "
          "\\u0416 \\ud83c\\udf39 \\/\",\"\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87\":\"v\"}]}",
          "0|name='\xD0\xA0\xD0\xBE\xD0\xB7\xD1\x8B \"red\"\t\n\\ \xD0\x96 \xF0\x9F\x8C\xB9 /';"
          "\xD0\xBA\xD0\xBB\xD1\x8E\xD1\x87='v';\n");
}

static void test_numbers_kept_exactly(void)
{
    static const char *const paths[] = {"data[]"};
    check(paths, 1, false,
          "{\"data\":[{\"s\":\"1990.00\",\"a\":1990.00,\"b\":1e3,\"c\":-0.5,\"d\":0,"
          "\"e\":123456789012345678901234567890,\"f\":2.50E-3}]}",
          "0|s='1990.00';a=#1990.00;b=#1e3;c=#-0.5;d=#0;e=#123456789012345678901234567890;"
          "f=#2.50E-3;\n");
}

static void test_dotted_keys(void)
{
    static const char *const paths[] = {"data[]"};
    check(paths, 1, false, "{\"data\":[{\"a.b\":{\"c\":1},\"\":{\"d\":2}}]}",
          "0|a.b.c=#1;.d=#2;\n");
}

static void test_malformed(void)
{
    static const char *const paths[] = {"data[]"};
    fe_err err = {0};
    fe_rc rc;
    const char *doc = "{\"data\":[{\"id\":1},{\"id\":2,}]}";
    char *out = parse(paths, 1, false, doc, 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_EQUAL(err.code, FE_EJSON);
    /* the first record was delivered before the error was seen */
    CU_ASSERT_STRING_EQUAL(out, "0|id=#1;\n");
    size_t at = 0;
    char tail[128] = "";
    CU_ASSERT_EQUAL(sscanf(err.msg, "invalid JSON at byte %zu: %127[^\n]", &at, tail), 2);
    CU_ASSERT_TRUE(at >= 25 && at <= 28); /* the '}' after the comma is byte 27 */
    CU_ASSERT_PTR_NOT_NULL(strstr(tail, "error"));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    free(out);

    /* the same offset when fed byte by byte */
    fe_err err1 = {0};
    out = parse(paths, 1, false, doc, 1, &rc, &err1);
    size_t at1 = 0;
    CU_ASSERT_EQUAL(sscanf(err1.msg, "invalid JSON at byte %zu:", &at1), 1);
    CU_ASSERT_EQUAL(at1, at);
    free(out);
}

static void test_truncated_and_raw_utf8(void)
{
    static const char *const paths[] = {"data[]"};
    fe_err err = {0};
    fe_rc rc;
    char *out = parse(paths, 1, false, "{\"data\":[{\"id\":1},{\"id\"", 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "invalid JSON at byte 23: parse error: premature EOF");
    CU_ASSERT_STRING_EQUAL(out, "0|id=#1;\n");
    free(out);
    /* Invalid UTF-8 inside a string reaches the record byte for byte: the mapping
     * rejects that one record instead of the whole page failing. */
    out = parse(paths, 1, false, "{\"data\":[{\"id\":\"\xD0\"}]}", 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "\xD0"));
    free(out);
    out = parse(paths, 1, false, "", 0, &rc, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    free(out);
}

static void test_reset_mid_document(void)
{
    sink s;
    sink_init(&s);
    json_stream *js = json_stream_new(JSONAPI_PATHS, 3, false, 1 << 20, render, &s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    fe_err err = {0};
    const char *half = "{\"meta\":{\"total\":5},\"data\":[{\"id\":\"x1\"},{\"id\":\"x2\",\"attr";
    CU_ASSERT_EQUAL(json_stream_feed(js, half, strlen(half), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_bytes(js), strlen(half));
    json_stream_reset(js);
    CU_ASSERT_EQUAL(json_stream_bytes(js), 0);
    buf_reset(&s.out);
    const char *doc = "{\"data\":[{\"id\":\"y1\"}],\"meta\":{\"total\":1}}";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.out), "0|id='y1';\n2|meta.total=#1;\n");

    /* after a syntax error too */
    json_stream_reset(js);
    buf_reset(&s.out);
    CU_ASSERT_EQUAL(json_stream_feed(js, "{]", 2, &err), FE_EJSON);
    CU_ASSERT_EQUAL(json_stream_feed(js, "{}", 2, &err), FE_EJSON); /* sticky */
    json_stream_reset(js);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.out), "0|id='y1';\n2|meta.total=#1;\n");
    json_stream_free(js);
    buf_term(&s.out);
}

static void test_record_cap(void)
{
    static const char *const paths[] = {"data[]"};
    sink s;
    sink_init(&s);
    json_stream *js = json_stream_new(paths, 1, false, 64, render, &s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    fe_err err = {0};
    const char *doc = "{\"data\":[{\"id\":\"small\"},{\"id\":\"this value is far longer than "
                      "sixty-four bytes, so the record must be refused\"},{\"id\":\"x\"}]}";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "record larger than 64 bytes");
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.out), "0|id='small';\n");
    /* the arena is per record: many small records pass one after another */
    json_stream_reset(js);
    buf_reset(&s.out);
    buf many;
    buf_init(&many, 0);
    CU_ASSERT_TRUE(buf_puts(&many, "{\"data\":["));
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_TRUE(
            buf_printf(&many, "%s{\"id\":%d,\"name\":\"record number %d\"}", i ? "," : "", i, i));
    CU_ASSERT_TRUE(buf_puts(&many, "]}"));
    CU_ASSERT_EQUAL(json_stream_feed(js, many.data, many.len, &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_EQUAL(s.records, 1 + 1000);
    buf_term(&many);
    json_stream_free(js);
    buf_term(&s.out);
}

static void test_callback_stops(void)
{
    static const char *const paths[] = {"[]"};
    sink s;
    sink_init(&s);
    s.stop_at = 2;
    json_stream *js = json_stream_new(paths, 1, false, 0, render, &s);
    fe_err err = {0};
    const char *doc = "[{\"a\":1},{\"a\":2},{\"a\":3}]";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_EABORT);
    CU_ASSERT_STRING_EQUAL(err.msg, "stopped at record 2");
    CU_ASSERT_EQUAL(s.records, 2);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_EABORT);
    json_stream_free(js);
    buf_term(&s.out);
}

typedef struct {
    int seen;
    bool ok;
} access_check;

static fe_rc check_access(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    (void)err;
    access_check *a = ctx;
    if (++a->seen > 1)
        return FE_OK;
    const json_field *f = json_rec_get(rec, "attributes.totalAmount");
    a->ok = f && f->type == JV_STRING && strcmp(f->value, "1990.00") == 0 && f->len == 7 &&
            json_rec_get(rec, "attributes.totalAmoun") == NULL &&
            json_rec_get(rec, "missing") == NULL &&
            strcmp(json_rec_str(rec, "attributes.qty"), "3") == 0 &&
            strcmp(json_rec_str(rec, "attributes.paid"), "true") == 0 &&
            json_rec_str(rec, "attributes.note") == NULL &&
            json_rec_str(rec, "attributes.tags") == NULL &&
            json_rec_get(rec, "attributes.tags")->type == JV_EMPTY_ARRAY &&
            json_rec_at(rec, json_rec_count(rec)) == NULL;
    char dump[512];
    size_t n = json_rec_dump(rec, dump, sizeof dump);
    a->ok = a->ok && n == strlen(dump) &&
            strncmp(dump, "id=o1\ntype=orders\nattributes.totalAmount=1990.00\n", 49) == 0 &&
            strstr(dump, "\nattributes.note=null\nattributes.tags=[]\nattributes.extra={}\n");
    char small[10];
    n = json_rec_dump(rec, small, sizeof small);
    a->ok = a->ok && n == 9 && strcmp(small, "id=o1\ntyp") == 0;
    return FE_OK;
}

static void test_record_access(void)
{
    static const char *const paths[] = {"data[]"};
    access_check a = {0, false};
    json_stream *js = json_stream_new(paths, 1, false, 0, check_access, &a);
    fe_err err = {0};
    const char *doc = "{" ORDERS_DATA "}";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(a.seen, 2); /* checked on the first record */
    CU_ASSERT_TRUE(a.ok);
    json_stream_free(js);
}

static void test_bad_paths(void)
{
    static const char *const bad1[] = {"data["};
    static const char *const bad2[] = {".data"};
    static const char *const bad3[] = {"a..b"};
    CU_ASSERT_PTR_NULL(json_stream_new(bad1, 1, false, 0, render, NULL));
    CU_ASSERT_PTR_NULL(json_stream_new(bad2, 1, false, 0, render, NULL));
    CU_ASSERT_PTR_NULL(json_stream_new(bad3, 1, false, 0, render, NULL));
    json_stream_free(NULL);
}

static fe_rc ignore_rec(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    (void)ctx, (void)which, (void)rec, (void)err;
    return FE_OK;
}

/* The shape at path `which` after parsing doc whole (paths "data[]", "meta", ".",
 * "items.sub[]"). */
static json_shape shape_of(const char *doc, int which)
{
    static const char *const paths[] = {"data[]", "meta", ".", "items.sub[]"};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 4, false, 1 << 20, ignore_rec, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    json_shape sh = json_stream_shape(js, which);
    json_stream_free(js);
    return sh;
}

/* An empty list is told from no list, and from a list key of another type. */
static void test_shape_of_record_containers(void)
{
    CU_ASSERT_EQUAL(shape_of("{\"data\":[],\"meta\":{}}", 0), JSON_AS_ARRAY);
    CU_ASSERT_EQUAL(shape_of("{\"data\":[],\"meta\":{}}", 1), JSON_AS_OBJECT);
    CU_ASSERT_EQUAL(shape_of("{\"data\":[{\"id\":1}]}", 0), JSON_AS_ARRAY);
    CU_ASSERT_EQUAL(shape_of("{}", 0), JSON_ABSENT);
    CU_ASSERT_EQUAL(shape_of("{}", 1), JSON_ABSENT);
    CU_ASSERT_EQUAL(shape_of("{}", 2), JSON_AS_OBJECT);
    CU_ASSERT_EQUAL(shape_of("{\"message\":\"Service temporarily unavailable\"}", 0), JSON_ABSENT);
    CU_ASSERT_EQUAL(shape_of("{\"data\":{\"id\":1}}", 0), JSON_AS_OBJECT);
    CU_ASSERT_EQUAL(shape_of("{\"data\":\"x\",\"meta\":null}", 0), JSON_AS_SCALAR);
    CU_ASSERT_EQUAL(shape_of("{\"data\":\"x\",\"meta\":null}", 1), JSON_AS_SCALAR);
    CU_ASSERT_EQUAL(shape_of("[]", 2), JSON_AS_ARRAY);
    CU_ASSERT_EQUAL(shape_of("[{\"data\":[]}]", 0), JSON_ABSENT); /* not at the root */
    CU_ASSERT_EQUAL(shape_of("{\"x\":{\"data\":[]}}", 0), JSON_ABSENT);
    CU_ASSERT_EQUAL(shape_of("{\"items\":{\"sub\":[]}}", 3), JSON_AS_ARRAY);
    CU_ASSERT_EQUAL(shape_of("{\"items\":{\"sub\":7}}", 3), JSON_AS_SCALAR);
    CU_ASSERT_EQUAL(shape_of("{\"items\":[]}", 3), JSON_ABSENT);
    /* Inside a record nothing is noted: a nested "data" is the record's own field. */
    CU_ASSERT_EQUAL(shape_of("{\"data\":[{\"data\":{}}]}", 0), JSON_AS_ARRAY);
}

/* A reset forgets the shapes seen. */
static void test_shape_reset(void)
{
    static const char *const paths[] = {"data[]"};
    const char *doc = "{\"data\":[]}";
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 0, ignore_rec, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT_EQUAL(json_stream_shape(js, 0), JSON_ABSENT);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_shape(js, 0), JSON_AS_ARRAY);
    json_stream_reset(js);
    CU_ASSERT_EQUAL(json_stream_shape(js, 0), JSON_ABSENT);
    CU_ASSERT_EQUAL(json_stream_shape(js, 5), JSON_ABSENT);
    json_stream_free(js);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("json_stream", NULL, NULL);
    CU_add_test(s, "JSON:API page, meta after data", test_jsonapi_meta_after);
    CU_add_test(s, "JSON:API page, meta before data", test_jsonapi_meta_before);
    CU_add_test(s, "root record skips claimed subtrees", test_root_skips_claimed_even_empty);
    CU_add_test(s, "detail document", test_detail_document);
    CU_add_test(s, "scalar record value", test_scalar_record_value);
    CU_add_test(s, "Goflow nested arrays", test_goflow_nested_arrays);
    CU_add_test(s, "root array", test_root_array);
    CU_add_test(s, "nested record path", test_nested_record_path);
    CU_add_test(s, "JSON Lines", test_json_lines);
    CU_add_test(s, "multiple values need the flag", test_multiple_values_refused_without_flag);
    CU_add_test(s, "escapes and unicode", test_escapes_and_unicode);
    CU_add_test(s, "numbers kept exactly", test_numbers_kept_exactly);
    CU_add_test(s, "dotted keys", test_dotted_keys);
    CU_add_test(s, "malformed input", test_malformed);
    CU_add_test(s, "truncated input, raw invalid UTF-8", test_truncated_and_raw_utf8);
    CU_add_test(s, "reset mid-document", test_reset_mid_document);
    CU_add_test(s, "record size cap", test_record_cap);
    CU_add_test(s, "callback stops parsing", test_callback_stops);
    CU_add_test(s, "record access", test_record_access);
    CU_add_test(s, "bad paths", test_bad_paths);
    CU_add_test(s, "shape of the record containers", test_shape_of_record_containers);
    CU_add_test(s, "shape after a reset", test_shape_reset);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
