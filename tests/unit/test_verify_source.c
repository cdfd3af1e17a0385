/* What sources/source.c gives the sources' verify readers: the day arithmetic of
 * their windows, the deep sink that turns a mapped order into its canonical text
 * (and drops every other row and a split's tombstone), and the verify tables every
 * registered source exports (streams it names exist, callbacks set). */
#include <CUnit/Basic.h>
#include <string.h>

#include "sources/source.h"

static void test_day_add(void)
{
    char out[11];
    CU_ASSERT_TRUE(verify_day_add("2025-12-31", 1, out));
    CU_ASSERT_STRING_EQUAL(out, "2026-01-01");
    CU_ASSERT_TRUE(verify_day_add("2024-03-01", -1, out));
    CU_ASSERT_STRING_EQUAL(out, "2024-02-29");
    CU_ASSERT_TRUE(verify_day_add("2025-11-05", -2, out));
    CU_ASSERT_STRING_EQUAL(out, "2025-11-03");
    CU_ASSERT_FALSE(verify_day_add("2025-02-29", 1, out));
    CU_ASSERT_FALSE(verify_day_add("20251105", 1, out));
    CU_ASSERT_FALSE(verify_day_add(NULL, 1, out));
}

typedef struct {
    int calls;
    char id[64], text[256];
} seen;

static fe_rc remember(verify_query *q, const char *id, const char *text, fe_err *err)
{
    seen *s = q->user;
    (void)err;
    s->calls++;
    strncpy(s->id, id, sizeof s->id - 1);
    strncpy(s->text, text ? text : "", sizeof s->text - 1);
    return FE_OK;
}

static void test_order_sink(void)
{
    seen s = {0};
    fe_err err = {0};
    verify_query q = {.id = remember, .user = &s};
    verify_capture cap = {.q = &q};
    row_sink sink = verify_order_sink(&cap);
    row_order o = {.order_id = "42",
                   .status = "done",
                   .status_group = "completed",
                   .currency = "RUB",
                   .subtotal = "100",
                   .discount_total = "0.5",
                   .tax_total = "0",
                   .shipping_total = "0",
                   .total = "99.5",
                   .paid_total = NULL};
    row_order_line line = {.order_id = "42", .line_id = "1"};
    CU_ASSERT_EQUAL(sink.order_line(sink.ctx, &line, &err), FE_OK);
    CU_ASSERT_EQUAL(s.calls, 0);
    CU_ASSERT_EQUAL(sink.order(sink.ctx, &o, &err), FE_OK);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_STRING_EQUAL(s.id, "42");
    CU_ASSERT_STRING_EQUAL(s.text, "done|completed|RUB|100.0000|0.5000|0.0000|0.0000|99.5000|");
    row_order tomb = {.order_id = "41", .tombstone = true, .is_deleted = true};
    CU_ASSERT_EQUAL(sink.order(sink.ctx, &tomb, &err), FE_OK);
    CU_ASSERT_EQUAL(s.calls, 1);
    o.total = "not a number";
    CU_ASSERT_NOT_EQUAL(sink.order(sink.ctx, &o, &err), FE_OK);
}

static void test_registered_tables(void)
{
    size_t n;
    const source_def *const *all = source_all(&n);
    int verified = 0;
    for (size_t i = 0; i < n; i++) {
        const source_def *d = all[i];
        CU_ASSERT_TRUE(d->nverify == 0 || d->verify != NULL);
        for (int v = 0; v < d->nverify; v++) {
            const verify_def *vd = &d->verify[v];
            bool stream = false;
            for (int k = 0; k < d->nstreams; k++)
                stream = stream || strcmp(d->streams[k].name, vd->stream) == 0;
            CU_ASSERT_TRUE(stream);
            CU_ASSERT_PTR_NOT_NULL(vd->figures);
            CU_ASSERT_PTR_NOT_NULL(vd->ids);
            CU_ASSERT_TRUE(vd->run_days >= 0);
            verified++;
        }
    }
    CU_ASSERT_TRUE(verified >= 4); /* every registered source verifies something */
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("verify_source", NULL, NULL);
    CU_add_test(s, "window days", test_day_add);
    CU_add_test(s, "deep order sink", test_order_sink);
    CU_add_test(s, "registered verify tables", test_registered_tables);
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    int failed = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed != 0;
}
