/* Tests for sources/posiflora/posiflora_order: order detail documents
 * (tests/data/posiflora_order_detail*.json, and inline ones) fed through
 * json_stream in small chunks into the accumulator, flushed into the shared row
 * recorder, and the rows compared as text: the order, its lines and payments,
 * rejects with their reasons and raw text under transform/value.h's rules, and a
 * sink failure passing with its code. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "extract/json_stream.h"
#include "sources/posiflora/posiflora_order.h"
#include "tests/unit/row_recorder.h"

static recorder rec;
static row_sink sink;
static const posiflora_map_opts opts = {.currency = "RUB"};

/* Feeds text to a stream in 7-byte pieces (records straddle chunk borders). */
static fe_rc feed_text(json_stream *js, const char *text, size_t len, fe_err *err)
{
    for (size_t at = 0; at < len; at += 7) {
        fe_rc rc = json_stream_feed(js, text + at, len - at < 7 ? len - at : 7, err);
        if (rc != FE_OK)
            return rc;
    }
    return json_stream_finish(js, err);
}

/* An order detail document through an accumulator; returns flush's code. */
static fe_rc on_detail_record(void *ctx, int which, const json_rec *r, fe_err *err)
{
    return posiflora_order_acc_add(ctx, which == 0, r, err);
}

static fe_rc run_detail_text(posiflora_order_acc *acc, const char *text, size_t len,
                             posiflora_order_info *info, fe_err *err)
{
    static const char *const paths[] = {"data", "included[]"};
    json_stream *js = json_stream_new(paths, 2, false, 0, on_detail_record, acc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    posiflora_order_acc_reset(acc);
    fe_rc rc = feed_text(js, text, len, err);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    json_stream_free(js);
    return posiflora_order_acc_flush(acc, &opts, &sink, info, err);
}

/* The suite's accumulator: info strings point into it, so it outlives each test's
 * assertions (created and freed by the suite). */
static posiflora_order_acc *acc;

static fe_rc run_detail(const char *fixture, posiflora_order_info *info, fe_err *err)
{
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    fe_rc rc = run_detail_text(acc, text, len, info, err);
    free(text);
    return rc;
}

static int setup(void)
{
    recorder_clear(&rec);
    return 0;
}

static int suite_init(void)
{
    acc = posiflora_order_acc_new();
    return acc ? 0 : 1;
}

static int suite_clean(void)
{
    posiflora_order_acc_free(acc);
    acc = NULL;
    return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static const char *const detail_want[] = {
    "order|11850286-baf3-4e6b-82f1-6f97e56c81e7|aaab22002767|store|"
    "f54d270d-6b83-48bb-aa4b-2efcf6dd8cfa|705887d3-1312-415a-89fa-5f8eca944940|"
    "2022-07-17T17:32:48Z|2022-07-17|done|completed|RUB|2140.2500|50.2500|0.0000|0.0000|"
    "2090.0000|2090.0000|3|2022-07-18T09:59:45Z|f|t|t",
    "line|11850286-baf3-4e6b-82f1-6f97e56c81e7|12f18153-853c-49fa-b0f5-046d8a81d8a6|"
    "a905a878-8791-4ab4-aa88-298ec527f3d3|06264b56-d928-43a6-a02d-914b991cd961|2.0000|500.0000|"
    "50.0000|0.0000|950.0000|NULL|RUB",
    "line|11850286-baf3-4e6b-82f1-6f97e56c81e7|23bdcda7-0f24-42bf-bf6c-d22a11d5e44c|"
    "b1b1b1b1-0000-4000-8000-000000000001|06264b56-d928-43a6-a02d-914b991cd961|1.0000|700.0000|"
    "0.0000|0.0000|700.0000|NULL|RUB",
    "line|11850286-baf3-4e6b-82f1-6f97e56c81e7|2f6534ec-cc3f-46fe-b0cb-864e8e94b791|"
    "c2c2c2c2-0000-4000-8000-000000000002|NULL|0.5000|880.5000|0.2500|0.0000|440.0000|NULL|RUB",
    "payment|f9ad7716-ad08-40e3-b2c7-06feab1c77d9|11850286-baf3-4e6b-82f1-6f97e56c81e7|"
    "2022-07-18T09:59:40Z|2022-07-18|payment|Наличные|2500.0000|100.0000|RUB",
    "payment|0a1b2c3d-0000-4000-8000-000000000002|11850286-baf3-4e6b-82f1-6f97e56c81e7|"
    "2022-07-18T06:59:41Z|2022-07-18|change|Наличные|-410.0000|0.0000|RUB",
    "payment|0a1b2c3d-0000-4000-8000-000000000003|11850286-baf3-4e6b-82f1-6f97e56c81e7|"
    "2022-07-19T10:00:00Z|2022-07-18|refund|7c1d2e3f-1111-4222-8333-444455556666|-100.0000|NULL|"
    "RUB",
};

/* Lines and payments in `included`, a payment before the method it names, a
 * method that is not included (-> its id), change given with a negative amount and
 * a return with a positive string amount (both end negative), money as numbers
 * and strings, a line discount and a fractional quantity. */
static void test_order_detail(void)
{
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_detail("posiflora_order_detail.json", &info, &err), FE_OK);
    recorder_assert_rows(&rec, detail_want, 7);
    CU_ASSERT_STRING_EQUAL(info.order_id, "11850286-baf3-4e6b-82f1-6f97e56c81e7");
    CU_ASSERT_EQUAL(info.lines, 3);
    CU_ASSERT_EQUAL(info.payments, 3);
    CU_ASSERT_FALSE(info.unknown_status);
}

/* included[] before data; no customer (-> NULL, the unknown member); notAccepted
 * -> canceled; paymentsAmount as a string; no payments. */
static void test_order_included_first_no_customer(void)
{
    static const char *const want[] = {
        "order|21360847-c158-4b68-9b93-6d68169b8d6c|aabn22000008|store|"
        "af32a044-3ae6-40bb-9ffc-d9f609ee39bf|NULL|2022-07-19T09:01:55Z|2022-07-19|notAccepted|"
        "canceled|RUB|800.0000|0.0000|0.0000|0.0000|800.0000|0.0000|1|2022-07-19T09:01:55Z|f|t|t",
        "line|21360847-c158-4b68-9b93-6d68169b8d6c|1b5d8282-4cf1-4d23-9d33-b8ce080a83bb|"
        "a6b7febf-fb5d-4ae1-bad4-ba7954d9e767|NULL|1.0000|800.0000|0.0000|0.0000|800.0000|NULL|RUB",
    };
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_detail("posiflora_order_detail_nocustomer.json", &info, &err), FE_OK);
    recorder_assert_rows(&rec, want, 2);
    CU_ASSERT_EQUAL(info.payments, 0);
}

static fe_rc run_inline(const char *doc, posiflora_order_info *info, fe_err *err)
{
    return run_detail_text(acc, doc, strlen(doc), info, err);
}

#define ORDER_HEAD(status, lines)                                                                  \
    "{\"data\":{\"type\":\"orders\",\"id\":\"o1\",\"attributes\":{\"status\":\"" status "\","      \
    "\"date\":\"2026-01-02\",\"createdAt\":\"2026-01-02T10:00:00+03:00\",\"totalAmount\":90,"      \
    "\"paymentsAmount\":90},\"relationships\":{\"customer\":{\"data\":null},\"lines\":{\"data\":"  \
    "[" lines "]}}}"

static void test_order_unknown_status_is_open(void)
{
    static const char doc[] = ORDER_HEAD(
        "credit",
        "{\"type\":\"order-lines\",\"id\":\"l1\"}") ",\"included\":[{\"type\":"
                                                    "\"order-lines\",\"id\":\"l1\",\"attributes\":{"
                                                    "\"qty\":1,\"price\":100,\"totalAmount\":"
                                                    "90}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL_FATAL(run_inline(doc, &info, &err), FE_OK);
    CU_ASSERT_TRUE(info.unknown_status);
    CU_ASSERT_STRING_EQUAL(info.status, "credit");
    CU_ASSERT_EQUAL_FATAL(rec.n, 2);
    /* amount missing: qty x price = 100; discount 10; ordered_at in UTC */
    CU_ASSERT_STRING_EQUAL(rec.rows[0], "order|o1|NULL|store|NULL|NULL|2026-01-02T07:00:00Z|"
                                        "2026-01-02|credit|open|RUB|100.0000|10.0000|0.0000|"
                                        "0.0000|90.0000|90.0000|1|NULL|f|t|t");
    CU_ASSERT_STRING_EQUAL(rec.rows[1],
                           "line|o1|l1|NULL|NULL|1.0000|100.0000|10.0000|0.0000|90.0000|NULL|RUB");
}

/* A bad decimal in one line rejects the whole order: no row at all, the reason
 * names the line, the raw text is that line's dump. */
static void test_order_bad_line_rejects_order(void)
{
    static const char doc[] =
        ORDER_HEAD("done", "{\"type\":\"order-lines\",\"id\":\"l1\"},{\"type\":\"order-lines\","
                           "\"id\":\"l2\"}") ",\"included\":[{\"type\":\"order-lines\",\"id\":"
                                             "\"l1\",\"attributes\":{\"qty\":1,\"price\":50,"
                                             "\"totalAmount\":50}},{\"type\":\"order-"
                                             "lines\",\"id\":\"l2\",\"attributes\":{\"qty\":\"1,"
                                             "5\",\"price\":20,\"totalAmount\":40}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "order-lines l2: attributes.qty: '1,5' is not a decimal");
    CU_ASSERT_STRING_EQUAL(info.reject_id, "o1");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "1,5"));
}

/* A line id with a newline in it (any text without NUL is an id) keeps the
 * reject's reason on one line: control bytes show as '?' (the fuzzer found it). */
static void test_order_reason_one_line(void)
{
    static const char doc[] =
        ORDER_HEAD("done", "{\"type\":\"order-lines\",\"id\":\"l\\n2\"}") ",\"included\":[{"
                                                                          "\"type\":\"order-"
                                                                          "lines\",\"id\":"
                                                                          "\"l\\n2\"}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "order-lines l?2: attributes.qty is missing");
}

/* Two legal factors whose product passes 10^16: a reject, not a COPY failure. */
static void test_order_line_product_out_of_range(void)
{
    static const char doc[] = ORDER_HEAD(
        "done", "{\"type\":\"order-lines\",\"id\":\"l1\"}") ",\"included\":[{\"type\":"
                                                            "\"order-lines\",\"id\":\"l1\","
                                                            "\"attributes\":{\"qty\":"
                                                            "1000000000,\"price\":"
                                                            "100000000,\"totalAmount\":90}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(
        err.msg,
        "order-lines l1: attributes.qty x attributes.price is out of range (numeric(20,4))");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "attributes.qty=1000000000"));
}

/* Lines that fit one by one but not summed: found at flush, when the records are
 * gone, and the reject still keeps the document's raw text. */
static void test_order_sum_out_of_range_keeps_raw(void)
{
    static const char doc[] =
        ORDER_HEAD("done", "{\"type\":\"order-lines\",\"id\":\"l1\"},{\"type\":\"order-lines\","
                           "\"id\":\"l2\"}") ","
                                             "\"included\":"
                                             "[{\"type\":"
                                             "\"order-"
                                             "lines\","
                                             "\"id\":\"l1\","
                                             "\"attributes\":"
                                             "{\"qty\":1,"
                                             "\"price\":"
                                             "9000000000000000,"
                                             "\"totalAmount\":"
                                             "45}},{\"type\":"
                                             "\"order-"
                                             "lines\","
                                             "\"id\":\"l2\","
                                             "\"attributes\":"
                                             "{\"qty\":1,"
                                             "\"price\":"
                                             "9000000000000000,"
                                             "\"totalAmount\":"
                                             "45}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "subtotal (sum of the line amounts) is out of range (numeric(20,4))");
    CU_ASSERT_STRING_EQUAL(info.reject_id, "o1");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "id=o1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "id=l2"));
}

/* A refused order keeps its record as raw text, masked whole before the 8 KiB
 * cut: a secret straddling the cut leaves no piece (cut first, its first bytes
 * would stay, unknown to the mask). */
static void test_order_reject_raw_masked_before_cut(void)
{
    static const char *const secrets[] = {
        "pf-LONG-0123456789abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOP"};
    buf doc;
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    buf_init(&doc, 0);
    CU_ASSERT_TRUE_FATAL(buf_puts(&doc,
                                  "{\"data\":{\"type\":\"orders\",\"id\":\"o1\",\"attributes\":{"
                                  "\"note\":\""));
    for (int i = 0; i < 8120; i++)
        CU_ASSERT_TRUE_FATAL(buf_putc(&doc, 'a'));
    CU_ASSERT_TRUE_FATAL(buf_printf(&doc,
                                    "\",\"echo\":\"%s\",\"status\":\"done\",\"date\":"
                                    "\"0000-12-31\",\"totalAmount\":1}}}",
                                    secrets[0]));
    log_init(LOG_ERROR, secrets, 1);
    CU_ASSERT_EQUAL(run_detail_text(acc, doc.data, doc.len, &info, &err), FE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "attributes.note=aaa"));
    char piece[21];
    memcpy(piece, secrets[0], 20);
    piece[20] = '\0';
    CU_ASSERT_PTR_NULL(strstr(info.reject_raw, piece));
    log_term();
    buf_term(&doc);
}

/* The order's own values follow the rules: a business date in year 0, a NUL in
 * the order id. */
static void test_order_rules(void)
{
    static const char year0[] =
        "{\"data\":{\"type\":\"orders\",\"id\":\"o1\",\"attributes\":{\"status\":\"done\","
        "\"date\":\"0000-12-31\",\"createdAt\":\"2026-01-02T10:00:00Z\",\"totalAmount\":1}}}";
    static const char nul_id[] =
        "{\"data\":{\"type\":\"orders\",\"id\":\"o\\u00001\",\"attributes\":{\"status\":"
        "\"done\",\"createdAt\":\"2026-01-02T10:00:00Z\",\"totalAmount\":1}}}";
    static const char id0[] =
        "{\"data\":{\"type\":\"orders\",\"id\":0,\"attributes\":{\"status\":\"done\","
        "\"createdAt\":\"2026-01-02T10:00:00Z\",\"totalAmount\":1}}}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(year0, &info, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        err.msg, "order o1: attributes.date: '0000-12-31' is out of range (years 1..9999)");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "attributes.date=0000-12-31"));
    CU_ASSERT_EQUAL(run_inline(nul_id, &info, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "order: id contains a NUL byte");
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "id=o\\u00001"));
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_EQUAL(run_inline(id0, &info, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(info.order_id, "0");
    CU_ASSERT_EQUAL(rec.n, 1);
}

/* Payment methods are found by id however many there are: the first of a repeated
 * id that has a title names the payment; an id without a method stays the label. */
static void test_order_payment_methods(void)
{
    static const char doc[] = ORDER_HEAD(
        "done",
        "") ",\"included\":["
            "{\"type\":\"order-payments\",\"id\":\"p1\",\"attributes\":{\"paymentType\":"
            "\"payment\",\"amount\":50,\"createdAt\":\"2026-01-02T10:00:00Z\"},"
            "\"relationships\":{\"method\":{\"data\":{\"id\":\"m2\"}}}},"
            "{\"type\":\"order-payments\",\"id\":\"p2\",\"attributes\":{\"paymentType\":"
            "\"payment\",\"amount\":40,\"createdAt\":\"2026-01-02T10:00:00Z\"},"
            "\"relationships\":{\"method\":{\"data\":{\"id\":\"m9\"}}}},"
            "{\"type\":\"payment-methods\",\"id\":\"m3\",\"attributes\":{\"title\":\"Card\"}},"
            "{\"type\":\"payment-methods\",\"id\":\"m2\",\"attributes\":{}},"
            "{\"type\":\"payment-methods\",\"id\":\"m2\",\"attributes\":{\"title\":\"Cash\"}},"
            "{\"type\":\"payment-methods\",\"id\":\"m2\",\"attributes\":{\"title\":\"Later\"}},"
            "{\"type\":\"payment-methods\",\"id\":\"m1\",\"attributes\":{\"title\":\"Bonus\"}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL_FATAL(run_inline(doc, &info, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(rec.n, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.rows[1], "|payment|Cash|50.0000|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.rows[2], "|payment|m9|40.0000|"));
}

static void test_order_missing_included_lines_rejected(void)
{
    static const char doc[] = ORDER_HEAD(
        "done",
        "{\"type\":\"order-lines\",\"id\":\"l1\"},{\"type\":\"order-lines\","
        "\"id\":\"l2\"}") ",\"included\":[{\"type\":\"order-lines\",\"id\":"
                          "\"l1\",\"attributes\":{\"qty\":1,\"price\":90,\"totalAmount\":90}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "lists 2 lines but the document includes 1"));
    /* found at flush: the raw text is the document's records */
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "id=o1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(info.reject_raw, "\n\ntype=order-lines\nid=l1\n"));
}

static void test_order_invalid_utf8_method_rejected(void)
{
    static const char doc[] =
        ORDER_HEAD("done", "") ",\"included\":[{\"type\":\"payment-methods\",\"id\":\"m1\","
                               "\"attributes\":{\"title\":\"\\udc00\"}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "payment-methods m1: attributes.title is not valid UTF-8");
}

static void test_order_unknown_payment_type_rejected(void)
{
    static const char doc[] = ORDER_HEAD(
        "done", "") ",\"included\":[{\"type\":\"order-payments\",\"id\":\"p1\","
                    "\"attributes\":{\"paymentType\":\"gift\",\"amount\":5,\"createdAt\":"
                    "\"2026-01-02T10:00:00Z\"}}]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_STRING_EQUAL(err.msg, "order-payments p1: unknown paymentType 'gift'");
}

static void test_order_without_data_rejected(void)
{
    static const char doc[] = "{\"data\":null,\"included\":[]}";
    posiflora_order_info info;
    fe_err err = {0};
    setup();
    CU_ASSERT_EQUAL(run_inline(doc, &info, &err), FE_EINVAL);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_PTR_NULL(info.order_id);
    /* Found by the fuzzer: a second refused "data" record replaced the first
     * problem, and an empty one left the reject without raw text. */
    static const char twice[] = "{\"data\":{\"type\":null},\"data\":{}}";
    CU_ASSERT_EQUAL(run_inline(twice, &info, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(err.msg, "order: record without id");
    CU_ASSERT_STRING_EQUAL(info.reject_raw, "type=null");
    static const char empty[] = "{\"data\":{}}";
    CU_ASSERT_EQUAL(run_inline(empty, &info, &err), FE_EINVAL);
    CU_ASSERT_STRING_EQUAL(info.reject_raw, "{}");
}

/* A transfer cut mid-way and retried: the partial document is forgotten after a
 * reset, and the complete one maps exactly as a clean read. */
static void test_order_acc_reset_after_partial_document(void)
{
    static const char *const paths[] = {"data", "included[]"};
    size_t len;
    char *text = recorder_fixture("posiflora_order_detail.json", &len);
    posiflora_order_info info;
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 2, false, 0, on_detail_record, acc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    setup();
    CU_ASSERT_EQUAL(json_stream_feed(js, text, len * 3 / 4, &err), FE_OK);
    json_stream_reset(js);
    posiflora_order_acc_reset(acc);
    CU_ASSERT_EQUAL(feed_text(js, text, len, &err), FE_OK);
    CU_ASSERT_EQUAL(posiflora_order_acc_flush(acc, &opts, &sink, &info, &err), FE_OK);
    recorder_assert_rows(&rec, detail_want, 7);
    json_stream_free(js);
    free(text);
}

/* A failing sink stops the document with the sink's code, in err->code too; a
 * sink's FE_EINVAL comes back as FE_EABORT, so it never looks like a reject. The
 * document fails at its order, at a line and at a payment. */
/* Feeds doc into the accumulator without flushing; returns whether it is whole. */
static bool whole_after(const char *doc)
{
    static const char *const paths[] = {"data", "included[]"};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 2, false, 0, on_detail_record, acc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    posiflora_order_acc_reset(acc);
    CU_ASSERT_EQUAL_FATAL(feed_text(js, doc, strlen(doc), &err), FE_OK);
    json_stream_free(js);
    return posiflora_order_acc_whole(acc);
}

#define LIST_ORDER(rels)                                                                           \
    "{\"data\":{\"type\":\"orders\",\"id\":\"o1\",\"attributes\":{\"status\":\"done\","            \
    "\"date\":\"2026-01-02\",\"createdAt\":\"2026-01-02T10:00:00+03:00\",\"totalAmount\":90},"     \
    "\"relationships\":{" rels "}},\"included\":["
#define RELS_L1_P1                                                                                 \
    "\"lines\":{\"data\":[{\"type\":\"order-lines\",\"id\":\"l1\"}]},\"payments\":{\"data\":"      \
    "[{\"type\":\"order-payments\",\"id\":\"p1\"}]}"
#define INC_L1                                                                                     \
    "{\"type\":\"order-lines\",\"id\":\"l1\",\"attributes\":{\"qty\":1,\"price\":90,"              \
    "\"totalAmount\":90}}"
#define INC_P1                                                                                     \
    "{\"type\":\"order-payments\",\"id\":\"p1\",\"attributes\":{\"paymentType\":\"payment\","      \
    "\"amount\":90,\"createdAt\":\"2026-01-02T10:00:00Z\"},\"relationships\":{\"method\":"         \
    "{\"data\":{\"id\":\"m1\"}}}}"
#define INC_M1 "{\"type\":\"payment-methods\",\"id\":\"m1\",\"attributes\":{\"title\":\"Cash\"}}"

/* What an orders list page must carry of an order for it to be mapped without its
 * detail: both relationships given, every line, payment and method included, and
 * nothing refused; an empty relationship is whole. */
static void test_order_whole_as_listed(void)
{
    CU_ASSERT_TRUE(whole_after(LIST_ORDER(RELS_L1_P1) INC_M1 "," INC_P1 "," INC_L1 "]}"));
    CU_ASSERT_TRUE(
        whole_after(LIST_ORDER("\"lines\":{\"data\":[]},\"payments\":{\"data\":[]}") "]}"));
    /* the vendor's list: no lines relationship */
    CU_ASSERT_FALSE(whole_after(LIST_ORDER("\"payments\":{\"data\":[{\"type\":\"order-payments\","
                                           "\"id\":\"p1\"}]}") INC_P1 "," INC_M1 "]}"));
    /* no payments relationship */
    CU_ASSERT_FALSE(whole_after(
        LIST_ORDER("\"lines\":{\"data\":[{\"type\":\"order-lines\",\"id\":\"l1\"}]}") INC_L1 "]}"));
    CU_ASSERT_FALSE(whole_after(LIST_ORDER(RELS_L1_P1) INC_P1 "," INC_M1 "]}")); /* line missing */
    CU_ASSERT_FALSE(whole_after(LIST_ORDER(RELS_L1_P1) INC_L1 "," INC_M1 "]}")); /* payment */
    CU_ASSERT_FALSE(whole_after(LIST_ORDER(RELS_L1_P1) INC_L1 "," INC_P1 "]}")); /* method */
    /* a line that does not map: the detail decides */
    CU_ASSERT_FALSE(whole_after(LIST_ORDER(RELS_L1_P1) INC_M1
                                "," INC_P1
                                ",{\"type\":\"order-lines\",\"id\":\"l1\",\"attributes\":{}}]}"));
    /* a line twice: counts differ */
    CU_ASSERT_FALSE(
        whole_after(LIST_ORDER(RELS_L1_P1) INC_M1 "," INC_P1 "," INC_L1 "," INC_L1 "]}"));
}

static void test_sink_failure(void)
{
    static const fe_rc codes[][2] = {{FE_EINVAL, FE_EABORT}, {FE_EPG, FE_EPG}};
    static const char *const order_rows[] = {"order", "line", "payment"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        for (size_t k = 0; k < 3; k++) {
            posiflora_order_info info;
            fe_err err = {0};
            setup();
            rec.fail_with = codes[i][0];
            rec.fail_kind = order_rows[k];
            CU_ASSERT_EQUAL(run_detail("posiflora_order_detail.json", &info, &err), codes[i][1]);
            CU_ASSERT_EQUAL(err.code, codes[i][1]);
            CU_ASSERT_EQUAL(rec.n, k == 0 ? 0 : k == 1 ? 1 : 4); /* the rows before it */
        }
    }
    setup();
}

int main(void)
{
    sink = recorder_sink(&rec);
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"order: line product beyond numeric(20,4)", test_order_line_product_out_of_range},
        {"order: sum beyond numeric(20,4) keeps raw text", test_order_sum_out_of_range_keeps_raw},
        {"order: reject raw masked before the cut", test_order_reject_raw_masked_before_cut},
        {"order: date, NUL and 0 in the order", test_order_rules},
        {"order: payment methods by id", test_order_payment_methods},
        {"order detail", test_order_detail},
        {"order: included first, no customer", test_order_included_first_no_customer},
        {"order: unknown status is open", test_order_unknown_status_is_open},
        {"order: bad line rejects the order", test_order_bad_line_rejects_order},
        {"order: a reason stays one line", test_order_reason_one_line},
        {"order: missing included lines", test_order_missing_included_lines_rejected},
        {"order: invalid UTF-8 method", test_order_invalid_utf8_method_rejected},
        {"order: unknown payment type", test_order_unknown_payment_type_rejected},
        {"order: no data", test_order_without_data_rejected},
        {"order: reset after a partial document", test_order_acc_reset_after_partial_document},
        {"order: whole as a list page carries it", test_order_whole_as_listed},
        {"sink failure", test_sink_failure},
    };
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite suite = CU_add_suite("posiflora_order", suite_init, suite_clean);
    for (size_t i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failures = (int)CU_get_number_of_failures();
    recorder_clear(&rec);
    CU_cleanup_registry();
    return failures != 0;
}
