/* Unit tests for extract/json_stream. Each record is rendered as one text line,
 * "which|path=value;path=value;", with values typed: 'string', #number, ?bool,
 * null, {} and []. Tests compare the whole rendering with what they expect. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "extract/json_stream.h"

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

/* Parses whole, byte by byte and in chunks of 2, 3, 5 and 7 bytes (tokens then
 * span feeds at every position), checks each gives `expect` and succeeds. */
static void check(const char *const *paths, int npaths, bool multi, const char *doc,
                  const char *expect)
{
    static const size_t chunks[] = {0, 1, 2, 3, 5, 7};
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        fe_err err = {0};
        fe_rc rc;
        char *out = parse(paths, npaths, multi, doc, chunks[i], &rc, &err);
        CU_ASSERT_EQUAL(rc, FE_OK);
        CU_ASSERT_STRING_EQUAL(out, expect);
        if (strcmp(out, expect) != 0 || rc != FE_OK)
            fprintf(stderr, "\n--- chunk %zu, got (rc %d %s):\n%s--- expected:\n%s", chunks[i], rc,
                    err.msg, out, expect);
        free(out);
    }
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
    CU_ASSERT_TRUE(out && strstr(out, "\xD0"));
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
    /* Fields that fit one by one, not together. */
    const char *doc = "{\"data\":[{\"id\":\"small\"},{\"id\":\"twenty bytes of text\","
                      "\"name\":\"twenty more bytes....\",\"note\":\"and twenty more......\"},"
                      "{\"id\":\"x\"}]}";
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

/* A doc {"data":[{"s":"xxx...x"}]} with a string of n bytes (caller frees). */
static char *long_string_doc(size_t n, size_t *len)
{
    static const char head[] = "{\"data\":[{\"s\":\"", tail[] = "\"}]}";
    *len = sizeof head - 1 + n + sizeof tail - 1;
    char *doc = malloc(*len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    memcpy(doc, head, sizeof head - 1);
    memset(doc + sizeof head - 1, 'x', n);
    memcpy(doc + sizeof head - 1 + n, tail, sizeof tail - 1);
    return doc;
}

typedef struct {
    int records;
    size_t len; /* of field "s" */
    bool all_x;
} long_seen;

static fe_rc on_long(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    long_seen *l = ctx;
    const json_field *f = json_rec_get(rec, "s");
    (void)which;
    (void)err;
    l->records++;
    l->len = f ? f->len : 0;
    l->all_x = f != NULL;
    for (size_t i = 0; f && i < f->len && l->all_x; i++)
        l->all_x = f->value[i] == 'x';
    return FE_OK;
}

/* Feeds doc in 16 KiB pieces, the way libcurl hands a body over; *fed: bytes
 * handed in by the feed that failed (or all). */
static fe_rc feed_16k(json_stream *js, const char *doc, size_t len, size_t *fed, fe_err *err)
{
    const size_t chunk = 16 * 1024;
    fe_rc rc = FE_OK;
    *fed = 0;
    for (size_t at = 0; at < len && rc == FE_OK; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        rc = json_stream_feed(js, doc + at, n, err);
        *fed = at + n;
    }
    return rc == FE_OK ? json_stream_finish(js, err) : rc;
}

/* One 16 MiB string: refused as soon as it passes the 4 MiB cap (yajl alone took
 * seconds, re-reading the open token on every feed, before the cap applied). */
static void test_long_string_refused(void)
{
    static const char *const paths[] = {"data[]"};
    const size_t cap = (size_t)4 << 20;
    long_seen seen = {0};
    size_t len, fed;
    char *doc = long_string_doc((size_t)16 << 20, &len);
    json_stream *js = json_stream_new(paths, 1, false, cap, on_long, &seen);
    fe_err err = {0};
    CU_ASSERT_EQUAL(feed_16k(js, doc, len, &fed, &err), FE_EJSON);
    /* The value's opening quote is byte 14. */
    CU_ASSERT_STRING_EQUAL(err.msg, "string longer than 4194304 bytes at byte 14");
    CU_ASSERT_TRUE(fed > cap && fed <= cap + 14 + 16 * 1024);
    CU_ASSERT_EQUAL(seen.records, 0);
    CU_ASSERT_EQUAL(json_stream_feed(js, "}", 1, &err), FE_EJSON); /* sticky */
    /* The same string inside one feed is refused too. */
    json_stream_reset(js);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, len, &err), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "string longer than 4194304 bytes at byte 14");
    /* A string just under the cap is read whole, across feeds. */
    free(doc);
    doc = long_string_doc(cap - 100, &len);
    json_stream_reset(js);
    CU_ASSERT_EQUAL(feed_16k(js, doc, len, &fed, &err), FE_OK);
    CU_ASSERT_EQUAL(seen.records, 1);
    CU_ASSERT_EQUAL(seen.len, cap - 100);
    CU_ASSERT_TRUE(seen.all_x);
    json_stream_free(js);
    free(doc);
}

/* Without a cap a 16 MiB string is read whole (one yajl call, linear time). */
static void test_long_string_uncapped(void)
{
    static const char *const paths[] = {"data[]"};
    long_seen seen = {0};
    size_t len, fed;
    char *doc = long_string_doc((size_t)16 << 20, &len);
    json_stream *js = json_stream_new(paths, 1, false, 0, on_long, &seen);
    fe_err err = {0};
    CU_ASSERT_EQUAL(feed_16k(js, doc, len, &fed, &err), FE_OK);
    CU_ASSERT_EQUAL(seen.records, 1);
    CU_ASSERT_EQUAL(seen.len, (size_t)16 << 20);
    CU_ASSERT_TRUE(seen.all_x);
    CU_ASSERT_EQUAL(json_stream_bytes(js), len);
    json_stream_free(js);
    free(doc);
}

/* Keys, numbers and paths are capped like strings, wherever they are. */
static void test_token_caps(void)
{
    static const char *const paths[] = {"data[]"};
    fe_err err = {0};
    sink s;
    sink_init(&s);
    json_stream *js = json_stream_new(paths, 1, false, 64, render, &s);
    buf doc;
    buf_init(&doc, 0);
    /* a key outside any record */
    CU_ASSERT_TRUE(buf_puts(&doc, "{\"meta\":{\""));
    for (int i = 0; i < 100; i++)
        CU_ASSERT_TRUE(buf_putc(&doc, 'k'));
    CU_ASSERT_TRUE(buf_puts(&doc, "\":1}}"));
    for (size_t at = 0; at < doc.len; at += 10)
        if (json_stream_feed(js, doc.data + at, doc.len - at < 10 ? doc.len - at : 10, &err))
            break;
    CU_ASSERT_STRING_EQUAL(err.msg, "string longer than 64 bytes at byte 9");
    /* a number, fed in pieces */
    json_stream_reset(js);
    buf_reset(&doc);
    CU_ASSERT_TRUE(buf_puts(&doc, "{\"data\":[{\"n\":1"));
    for (int i = 0; i < 100; i++)
        CU_ASSERT_TRUE(buf_putc(&doc, '0'));
    CU_ASSERT_TRUE(buf_puts(&doc, "}]}"));
    fe_rc rc = FE_OK;
    for (size_t at = 0; at < doc.len && rc == FE_OK; at += 8)
        rc = json_stream_feed(js, doc.data + at, doc.len - at < 8 ? doc.len - at : 8, &err);
    CU_ASSERT_EQUAL(rc, FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "number longer than 64 bytes at byte 14");
    /* a path: nested short keys */
    json_stream_reset(js);
    buf_reset(&doc);
    CU_ASSERT_TRUE(buf_puts(&doc, "{\"data\":[{"));
    for (int i = 0; i < 20; i++)
        CU_ASSERT_TRUE(buf_puts(&doc, "\"abcd\":{"));
    CU_ASSERT_EQUAL(json_stream_feed(js, doc.data, doc.len, &err), FE_EJSON);
    CU_ASSERT_STRING_EQUAL(err.msg, "field path longer than 64 bytes");
    CU_ASSERT_STRING_EQUAL(buf_cstr(&s.out), "");
    buf_term(&doc);
    buf_term(&s.out);
    json_stream_free(js);
}

/* Tokens cut at every position, escapes at chunk edges, a number that ends the
 * document: the same records, and errors at the same byte, however it is fed. */
static void test_tokens_across_feeds(void)
{
    static const char *const paths[] = {"[]"};
    check(paths, 1, false, "[\"a\\\\\",\"\\\"q\\\"\",\"\\\\\\\\\",12345,-1.5e+3,true,null,\"\"]",
          "0|='a\\';\n0|='\"q\"';\n0|='\\\\';\n0|=#12345;\n0|=#-1.5e+3;\n0|=?true;\n0|=null;\n"
          "0|='';\n");
    static const char *const root[] = {"."};
    check(root, 1, true, "1 2\n\"x\"\n345", "0|=#1;\n0|=#2;\n0|='x';\n0|=#345;\n");
    static const char *const data[] = {"data[]"};
    /* Found by the fuzzer: a number that yajl reads as two ("0" "999..."), or one
     * right before a string, moved the error with the cuts between feeds. */
    static const struct {
        const char *doc, *error;
    } bad[] = {
        {"{\"data\":[{\"a\":\"long enough value\",\"b\":12}@]}", "invalid JSON at byte 42: "},
        {"{\"data\":[{\"n\":0999999999999,\"x\":1}]}", "invalid JSON at byte 15: "},
        {"{\"data\":[{\"n\":0123\"s\"}]}", "invalid JSON at byte 15: "},
        {"{\"data\":[{\"n\":0123\"s}]}", "invalid JSON at byte 15: "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (size_t chunk = 0; chunk < 9; chunk++) {
            fe_err err = {0};
            fe_rc rc;
            char *out = parse(data, 1, false, bad[i].doc, chunk, &rc, &err);
            CU_ASSERT_EQUAL(rc, FE_EJSON);
            if (!strstr(err.msg, bad[i].error))
                fprintf(stderr, "\n%s, chunk %zu: %s\n", bad[i].doc, chunk, err.msg);
            CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].error));
            free(out);
        }
    }
}

typedef struct {
    size_t len, slen;
    char dump[64];
} nul_seen;

static fe_rc on_nul(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    nul_seen *n = ctx;
    const json_field *f = json_rec_get(rec, "id");
    (void)which;
    (void)err;
    n->len = f->len;
    n->slen = strlen(f->value);
    json_rec_dump(rec, n->dump, sizeof n->dump);
    return FE_OK;
}

/* \u0000 decodes to a NUL byte: len keeps the true length so a mapping can tell
 * "12\u00003" from "12", and the dump spells it the JSON way. */
static void test_nul_in_string(void)
{
    static const char *const paths[] = {"data[]"};
    nul_seen n = {0};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 0, on_nul, &n);
    const char *doc = "{\"data\":[{\"id\":\"12\\u00003\"}]}";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_EQUAL(n.len, 4);
    CU_ASSERT_EQUAL(n.slen, 2);
    CU_ASSERT_STRING_EQUAL(n.dump, "id=12\\u00003");
    json_stream_free(js);
}

typedef struct {
    bool ok;
    int records;
} lookup_check;

static fe_rc check_lookups(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    lookup_check *c = ctx;
    (void)which;
    (void)err;
    c->records++;
    /* every field is found by its path; of two equal paths, the first */
    for (size_t i = 0; i < json_rec_count(rec); i++) {
        const json_field *f = json_rec_at(rec, i), *g = json_rec_get(rec, f->path);
        c->ok = c->ok && g && strcmp(g->path, f->path) == 0 && (g == f || g < f);
    }
    const json_field *dup = json_rec_get(rec, "dup");
    c->ok = c->ok && dup && strcmp(dup->value, "first") == 0;
    c->ok = c->ok && !json_rec_get(rec, "missing") && !json_rec_get(rec, "k1.x") &&
            !json_rec_get(rec, "");
    return FE_OK;
}

/* Records with many fields are looked up through an index: the same answers as a
 * scan, duplicates included. */
static void test_lookup_many_fields(void)
{
    static const char *const paths[] = {"[]"};
    lookup_check c = {true, 0};
    buf doc;
    fe_err err = {0};
    buf_init(&doc, 0);
    CU_ASSERT_TRUE(buf_puts(&doc, "[{\"dup\":\"first\""));
    for (int i = 0; i < 1000; i++)
        CU_ASSERT_TRUE(buf_printf(&doc, ",\"k%d\":%d", i, i));
    CU_ASSERT_TRUE(buf_puts(&doc, ",\"dup\":\"second\",\"n\":{\"a\":[1,2,{\"b\":null}]}},"
                                  "{\"dup\":\"first\",\"x\":1}]"));
    json_stream *js = json_stream_new(paths, 1, false, 0, check_lookups, &c);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc.data, doc.len, &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_EQUAL(c.records, 2);
    CU_ASSERT_TRUE(c.ok);
    json_stream_free(js);
    buf_term(&doc);
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

#define SECRET "tok-STRADDLE-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"

typedef struct {
    char *whole; /* json_rec_dump_dup of the record */
    size_t len;
} dup_seen;

static fe_rc on_dup(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    dup_seen *d = ctx;
    (void)which;
    (void)err;
    d->whole = json_rec_dump_dup(rec, &d->len);
    return FE_OK;
}

/* True when text holds any 20-byte piece of SECRET. */
static bool holds_piece(const char *text)
{
    char piece[21];
    for (size_t i = 0; i + 20 <= strlen(SECRET); i++) {
        memcpy(piece, SECRET + i, 20);
        piece[20] = '\0';
        if (strstr(text, piece))
            return true;
    }
    return false;
}

/* A reject's raw text (etl.reject, stream_reject) is the record dumped whole, then
 * masked, then cut: a long secret that straddles the 8 KiB a dump used to be cut
 * at is masked entirely, not left with its head. NUL bytes (spelled \u0000, six
 * bytes each) count in the dump's size. */
static void test_dump_dup_whole_for_redaction(void)
{
    static const char *const paths[] = {"data[]"};
    static const char *const secrets[] = {SECRET};
    dup_seen d = {0};
    fe_err err = {0};
    buf doc;
    buf_init(&doc, 0);
    /* "nul=" 4 + 6 * 3 + "\nnote=" 6 + 8118 + "\necho=Bearer " 13: SECRET (61 bytes)
     * takes bytes 8159..8219 of the dump, across the 8 KiB cut a dump used to get
     * before the mask (which kept its first 32 bytes). A bound that counted each
     * nul as one byte would cut it too. */
    CU_ASSERT_TRUE_FATAL(
        buf_puts(&doc, "{\"data\":[{\"nul\":\"\\u0000\\u0000\\u0000\",\"note\":\""));
    for (int i = 0; i < 8118; i++)
        CU_ASSERT_TRUE_FATAL(buf_putc(&doc, 'a'));
    CU_ASSERT_TRUE_FATAL(buf_puts(&doc, "\",\"echo\":\"Bearer " SECRET " (echoed)\"}]}"));
    log_init(LOG_ERROR, secrets, 1);
    json_stream *js = json_stream_new(paths, 1, false, 1 << 20, on_dup, &d);
    CU_ASSERT_EQUAL(json_stream_feed(js, doc.data, doc.len, &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d.whole);
    CU_ASSERT_EQUAL(d.len, strlen(d.whole));
    CU_ASSERT_EQUAL(d.len, 4 + 18 + 6 + 8118 + 13 + strlen(SECRET) + 9);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.whole, "Bearer " SECRET " (echoed)"));
    char *clean = log_redact_dup(d.whole);
    CU_ASSERT_PTR_NOT_NULL_FATAL(clean);
    CU_ASSERT_PTR_NOT_NULL(strstr(clean, "\necho=Bearer *** (echoed)"));
    CU_ASSERT_FALSE(holds_piece(clean));
    if (strlen(clean) > 8191) /* the loader's cut, after the mask */
        clean[buf_utf8_floor(clean, 8191)] = '\0';
    CU_ASSERT_FALSE(holds_piece(clean));
    free(clean);
    free(d.whole);
    json_stream_free(js);
    buf_term(&doc);
    log_term();
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

static fe_rc check_nul_str(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    (void)which;
    (void)err;
    bool *ok = ctx;
    const json_field *f = json_rec_get(rec, "id");
    *ok = f && f->len == 5 && json_rec_str(rec, "id") == NULL &&
          strcmp(json_rec_str(rec, "next"), "b") == 0;
    return FE_OK;
}

/* A string holding a NUL byte is never handed out cut: json_rec_str gives NULL
 * (as if absent), json_rec_get the whole value. */
static void test_str_with_nul_is_absent(void)
{
    static const char *const paths[] = {"data[]"};
    bool ok = false;
    json_stream *js = json_stream_new(paths, 1, false, 0, check_nul_str, &ok);
    fe_err err = {0};
    const char *doc = "{\"data\":[{\"id\":\"12\\u000034\",\"next\":\"b\"}]}";
    CU_ASSERT_EQUAL(json_stream_feed(js, doc, strlen(doc), &err), FE_OK);
    CU_ASSERT_EQUAL(json_stream_finish(js, &err), FE_OK);
    CU_ASSERT_TRUE(ok);
    json_stream_free(js);
}

static void test_parse_count(void)
{
    int64_t v = -7;
    CU_ASSERT_TRUE(json_parse_count("0", &v) && v == 0);
    CU_ASSERT_TRUE(json_parse_count("9223372036854775807", &v) && v == INT64_MAX);
    CU_ASSERT_FALSE(json_parse_count("9223372036854775808", &v));
    CU_ASSERT_FALSE(json_parse_count(NULL, &v));
    CU_ASSERT_FALSE(json_parse_count("", &v));
    CU_ASSERT_FALSE(json_parse_count("-1", &v));
    CU_ASSERT_FALSE(json_parse_count("+1", &v));
    CU_ASSERT_FALSE(json_parse_count(" 1", &v));
    CU_ASSERT_FALSE(json_parse_count("1.5", &v));
    CU_ASSERT_FALSE(json_parse_count("12x", &v));
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
    CU_add_test(s, "a long string is refused at the cap", test_long_string_refused);
    CU_add_test(s, "a long string without a cap", test_long_string_uncapped);
    CU_add_test(s, "keys, numbers and paths are capped", test_token_caps);
    CU_add_test(s, "tokens across feeds", test_tokens_across_feeds);
    CU_add_test(s, "NUL inside a string", test_nul_in_string);
    CU_add_test(s, "lookups in a record of many fields", test_lookup_many_fields);
    CU_add_test(s, "callback stops parsing", test_callback_stops);
    CU_add_test(s, "record access", test_record_access);
    CU_add_test(s, "counts in JSON text", test_parse_count);
    CU_add_test(s, "a string with a NUL is not handed out cut", test_str_with_nul_is_absent);
    CU_add_test(s, "bad paths", test_bad_paths);
    CU_add_test(s, "shape of the record containers", test_shape_of_record_containers);
    CU_add_test(s, "shape after a reset", test_shape_reset);
    CU_add_test(s, "dump whole for redaction", test_dump_dup_whole_for_redaction);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
