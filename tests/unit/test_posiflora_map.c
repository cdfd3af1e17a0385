/* Tests for sources/posiflora/posiflora_map (and, in a second suite, the keyset paging of
 * sources/posiflora/posiflora_pages): fixture documents (tests/data/posiflora_*.json)
 * are fed through json_stream in small chunks, the records mapped into the shared
 * row recorder, and the rows compared as text ("NULL" for SQL NULL, t/f for
 * booleans). The order documents are tested in test_posiflora_order. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/row_recorder.h"
#include "extract/json_stream.h"
#include "sources/posiflora/posiflora_pages.h"
#include "sources/posiflora/posiflora_map.h"

/* ---- the recorder sink ------------------------------------------------------ */

static recorder rec;
static row_sink sink;
static const posiflora_map_opts opts = {.currency = "RUB"};

/* ---- feeding documents ------------------------------------------------------ */

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

/* A list page: each data[] (and included[] of included_type) record is mapped;
 * rejects are counted and the last reason kept, as the extractor would. */
typedef struct {
    fe_rc (*map)(const json_rec *, const posiflora_map_opts *, const row_sink *, fe_err *);
    fe_rc (*map_included)(const json_rec *, const posiflora_map_opts *, const row_sink *, fe_err *);
    const char *included_type;
    int rejects;
    char last_reason[768];
    char last_reject_id[128];
} list_run;

static fe_rc on_list_record(void *ctx, int which, const json_rec *r, fe_err *err)
{
    list_run *lr = ctx;
    fe_rc rc;
    if (which == 1) {
        const char *type = json_rec_str(r, "type");
        if (!lr->map_included || !type || strcmp(type, lr->included_type) != 0)
            return FE_OK;
        rc = lr->map_included(r, &opts, &sink, err);
    } else {
        rc = lr->map(r, &opts, &sink, err);
    }
    if (rc == FE_EINVAL) {
        const char *id = json_rec_str(r, "id");
        lr->rejects++;
        snprintf(lr->last_reason, sizeof lr->last_reason, "%s", err->msg);
        snprintf(lr->last_reject_id, sizeof lr->last_reject_id, "%s", id ? id : "");
        return FE_OK;
    }
    return rc;
}

static void run_list(const char *fixture, list_run *lr)
{
    static const char *const paths[] = {"data[]", "included[]"};
    size_t len;
    char *text = recorder_fixture(fixture, &len);
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 2, false, 0, on_list_record, lr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    fe_rc rc = feed_text(js, text, len, &err);
    if (rc != FE_OK)
        fprintf(stderr, "\n%s: %s\n", fixture, err.msg);
    CU_ASSERT_EQUAL(rc, FE_OK);
    json_stream_free(js);
    free(text);
}

static int setup(void)
{
    recorder_clear(&rec);
    return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_stores(void)
{
    list_run lr = {.map = posiflora_map_store};
    static const char *const want[] = {
        "store|store|3258d1db-fb18-4bcb-b2e0-65ce92514e7c|sofiabratsk|Komsomolskaya 91A, "
        "Bratsk|RUB|NULL|NULL|f",
        "store|store|038e9ff7-6bf7-4b17-a50d-0fe3a081999d|sofiabratsk Mira|Mira "
        "31/1|RUB|NULL|NULL|f",
    };
    setup();
    run_list("posiflora_stores.json", &lr);
    CU_ASSERT_EQUAL(lr.rejects, 0);
    recorder_assert_rows(&rec, want, 2);
}

static void test_items_and_included_categories(void)
{
    list_run lr = {.map = posiflora_map_item,
                   .map_included = posiflora_map_category,
                   .included_type = "categories"};
    static const char *const want[] = {
        "product|a905a878-8791-4ab4-aa88-298ec527f3d3|NULL|Роза белая|standard|"
        "8d48b9d1-a4f1-42e2-a2dd-763e6e29d82d|NULL|150.0000|RUB|NULL|2022-07-18T13:08:14Z|t|f",
        "product|d2000000-0000-4000-8000-000000000002|DLV-1|Delivery|service|NULL|NULL|80.5000|"
        "RUB|2022-07-01T08:00:00Z|2022-07-18T13:08:14Z|t|f",
        /* vendor codes "", "  ", null, "RIB-2", "RIB-3": the first non-blank one */
        "product|d3000000-0000-4000-8000-000000000003|RIB-2|Ribbon|standard|"
        "df99a11e-f059-4709-af50-9571dc3513e8|NULL|NULL|RUB|NULL|NULL|t|f",
        "category|8d48b9d1-a4f1-42e2-a2dd-763e6e29d82d|Красные розы|"
        "26f4c2bb-7195-4995-8c42-8f89fbf342e5|f",
        "category|df99a11e-f059-4709-af50-9571dc3513e8|White roses|NULL|t",
    };
    setup();
    run_list("posiflora_inventory_items.json", &lr);
    CU_ASSERT_EQUAL(lr.rejects, 0);
    recorder_assert_rows(&rec, want, 5);
}

static void test_bouquets(void)
{
    list_run lr = {.map = posiflora_map_bouquet};
    static const char *const want[] = {
        "product|06264b56-d928-43a6-a02d-914b991cd961|91001|Bouquet 1|bouquet|NULL|NULL|76.8000|"
        "RUB|2022-07-25T11:06:45Z|2022-07-27T08:58:17Z|t|f",
        "product|b2000000-0000-4000-8000-000000000002|91001|Букет «Нежность»|bouquet|NULL|NULL|"
        "1990.0000|RUB|2022-07-25T11:06:45Z|2022-07-27T08:58:17Z|f|f",
    };
    setup();
    run_list("posiflora_bouquets.json", &lr);
    CU_ASSERT_EQUAL(lr.rejects, 0);
    recorder_assert_rows(&rec, want, 2);
}

/* Two good customers (phone with country code, a deleted one with empty contact
 * fields) and two rejects: a lone surrogate escape (invalid UTF-8 after decoding)
 * and an unreadable createdAt. */
static void test_customers_rows_and_rejects(void)
{
    list_run lr = {.map = posiflora_map_customer};
    static const char *const want[] = {
        "customer|0b655f42-70f5-483d-8519-29547c294604|Иван Петров|+79268693645|ivan@example.ru|"
        "on|120.5000|2022-07-15T11:04:13Z|2022-07-15T11:04:13Z|f",
        "customer|8096a6f8-395a-45b4-b87e-9bfbc0f30e79|Bob Ross|NULL|NULL|deleted|0.0000|"
        "2022-07-15T11:55:19Z|2022-07-15T12:28:01Z|t",
    };
    setup();
    run_list("posiflora_customers.json", &lr);
    recorder_assert_rows(&rec, want, 2);
    CU_ASSERT_EQUAL(lr.rejects, 2);
    CU_ASSERT_STRING_EQUAL(lr.last_reject_id, "c4000000-0000-4000-8000-000000000004");
    CU_ASSERT_STRING_EQUAL(lr.last_reason, "attributes.createdAt: 'yesterday' is not a date-time");
}

static void test_customer_utf8_reject_reason(void)
{
    static const char doc[] = "{\"data\":[{\"type\":\"customers\",\"id\":\"x1\",\"attributes\":"
                              "{\"title\":\"Bad \\udc00 name\",\"status\":\"on\"}},"
                              "{\"type\":\"customers\",\"id\":\"x2\",\"attributes\":"
                              "{\"title\":\"nul\\u0000inside\",\"status\":\"on\"}}]}";
    static const char *const paths[] = {"data[]"};
    list_run lr = {.map = posiflora_map_customer};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 1, false, 0, on_list_record, &lr);
    setup();
    CU_ASSERT_EQUAL(feed_text(js, doc, strlen(doc), &err), FE_OK);
    json_stream_free(js);
    CU_ASSERT_EQUAL(rec.n, 0);
    CU_ASSERT_EQUAL(lr.rejects, 2);
    CU_ASSERT_STRING_EQUAL(lr.last_reason, "attributes.title contains a NUL byte");
}

/* ---- PostgreSQL's rules (transform/value.h), the same for every source -------- */

static void run_list_text(const char *doc, list_run *lr)
{
    static const char *const paths[] = {"data[]", "included[]"};
    fe_err err = {0};
    json_stream *js = json_stream_new(paths, 2, false, 0, on_list_record, lr);
    CU_ASSERT_EQUAL(feed_text(js, doc, strlen(doc), &err), FE_OK);
    json_stream_free(js);
}

/* One customer list whose records each break one rule: only the good ones map. */
static void test_rules_list_records(void)
{
    static const char doc[] =
        "{\"data\":["
        /* id 0 is an id like any other, as a string or as a number */
        "{\"type\":\"customers\",\"id\":\"0\",\"attributes\":{\"title\":\"Zero\"}},"
        "{\"type\":\"customers\",\"id\":0,\"attributes\":{\"title\":\"Zero too\"}},"
        /* a NUL in the id: cut at it, it would collide with id 12 */
        "{\"type\":\"customers\",\"id\":\"12\\u00003\",\"attributes\":{\"title\":\"x\"}},"
        /* year 0000 does not exist; 10000 has five digits; 9999-12-31 has no
         * business date in every zone */
        "{\"type\":\"customers\",\"id\":\"y0\",\"attributes\":{\"createdAt\":"
        "\"0000-06-01T00:00:00Z\"}},"
        "{\"type\":\"customers\",\"id\":\"y10k\",\"attributes\":{\"createdAt\":"
        "\"10000-01-01T00:00:00Z\"}},"
        "{\"type\":\"customers\",\"id\":\"yend\",\"attributes\":{\"updatedAt\":"
        "\"9999-12-31T12:00:00Z\"}},"
        "{\"type\":\"customers\",\"id\":\"y1\",\"attributes\":{\"createdAt\":"
        "\"0001-01-02T00:00:00Z\"}},"
        /* 17 integer digits do not fit numeric(20,4) */
        "{\"type\":\"customers\",\"id\":\"big\",\"attributes\":{\"currentPoints\":"
        "12345678901234567}},"
        /* an empty id is no id */
        "{\"type\":\"customers\",\"id\":\"\",\"attributes\":{\"title\":\"none\"}}"
        "]}";
    static const char *const want[] = {
        "customer|0|Zero|NULL|NULL|NULL|NULL|NULL|NULL|f",
        "customer|0|Zero too|NULL|NULL|NULL|NULL|NULL|NULL|f",
        "customer|y1|NULL|NULL|NULL|NULL|NULL|0001-01-02T00:00:00Z|NULL|f",
    };
    setup();
    list_run lr = {.map = posiflora_map_customer};
    run_list_text(doc, &lr);
    recorder_assert_rows(&rec, want, 3);
    CU_ASSERT_EQUAL(lr.rejects, 6);
}

/* Each poison record alone: its reason names the field and the rule. */
static void test_rules_reasons(void)
{
    static const struct {
        const char *record, *reason;
    } cases[] = {
        {"\"id\":\"12\\u00003\"", "id contains a NUL byte"},
        {"\"id\":\"c1\",\"attributes\":{\"title\":\"Ann\\u0000a\"}",
         "attributes.title contains a NUL byte"},
        {"\"id\":\"c1\",\"attributes\":{\"createdAt\":\"0000-06-01T00:00:00Z\"}",
         "attributes.createdAt: '0000-06-01T00:00:00Z' is out of range (years 1..9999)"},
        {"\"id\":\"c1\",\"attributes\":{\"createdAt\":\"10000-01-01T00:00:00Z\"}",
         "attributes.createdAt: '10000-01-01T00:00:00Z' is not a date-time"},
        {"\"id\":\"c1\",\"attributes\":{\"updatedAt\":\"9999-12-31T12:00:00Z\"}",
         "attributes.updatedAt: '9999-12-31T12:00:00Z' is out of range (years 1..9999)"},
        {"\"id\":\"c1\",\"attributes\":{\"currentPoints\":12345678901234567}",
         "attributes.currentPoints: '12345678901234567' is out of range (numeric(20,4))"},
        {"\"id\":\"\"", "record without id"},
        {"\"id\":null", "record without id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, "{\"data\":[{\"type\":\"customers\",%s}]}", cases[i].record);
        list_run lr = {.map = posiflora_map_customer};
        setup();
        run_list_text(doc, &lr);
        CU_ASSERT_EQUAL(rec.n, 0);
        CU_ASSERT_EQUAL(lr.rejects, 1);
        if (strcmp(lr.last_reason, cases[i].reason) != 0)
            fprintf(stderr, "\ncase %zu: %s\n", i, lr.last_reason);
        CU_ASSERT_STRING_EQUAL(lr.last_reason, cases[i].reason);
    }
}

/* A failing sink stops the stream with the sink's code, in err->code too; a sink's
 * FE_EINVAL comes back as FE_EABORT, so it never looks like a reject. Every list
 * mapping: the four list resources and an included category (the order document
 * is tried in test_posiflora_order). */
static void test_sink_failure(void)
{
    static const fe_rc codes[][2] = {{FE_EINVAL, FE_EABORT}, {FE_EPG, FE_EPG}};
    static const struct {
        fe_rc (*map)(const json_rec *, const posiflora_map_opts *, const row_sink *, fe_err *);
        const char *type;
    } lists[] = {
        {posiflora_map_store, "stores"},         {posiflora_map_category, "categories"},
        {posiflora_map_item, "inventory-items"}, {posiflora_map_bouquet, "bouquets"},
        {posiflora_map_customer, "customers"},
    };
    static const char *const paths[] = {"data[]"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        setup();
        rec.fail_with = codes[i][0];
        for (size_t j = 0; j < sizeof lists / sizeof lists[0]; j++) {
            char doc[128];
            fe_err err = {0};
            list_run lr = {.map = lists[j].map};
            snprintf(doc, sizeof doc, "{\"data\":[{\"type\":\"%s\",\"id\":\"x1\"}]}",
                     lists[j].type);
            json_stream *js = json_stream_new(paths, 1, false, 0, on_list_record, &lr);
            CU_ASSERT_PTR_NOT_NULL_FATAL(js);
            CU_ASSERT_EQUAL(feed_text(js, doc, strlen(doc), &err), codes[i][1]);
            CU_ASSERT_EQUAL(err.code, codes[i][1]);
            CU_ASSERT_EQUAL(lr.rejects, 0);
            json_stream_free(js);
        }
        CU_ASSERT_EQUAL(rec.n, 0);
    }
    rec.fail_with = FE_OK;
}

static void test_status_groups(void)
{
    static const char *const pairs[][2] = {
        {"new", "open"},          {"assembled", "open"},    {"courier", "open"},
        {"done", "completed"},    {"canceled", "canceled"}, {"notAccepted", "canceled"},
        {"returned", "returned"},
    };
    bool known = false;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        CU_ASSERT_STRING_EQUAL(posiflora_status_group(pairs[i][0], &known), pairs[i][1]);
        CU_ASSERT_TRUE(known);
    }
    CU_ASSERT_STRING_EQUAL(posiflora_status_group("credit", &known), "open");
    CU_ASSERT_FALSE(known);
    CU_ASSERT_STRING_EQUAL(posiflora_status_group(NULL, &known), "open");
    CU_ASSERT_FALSE(known);
}

/* ---- keyset paging (sources/posiflora/posiflora_pages.c) ------------------------------
 *
 * A simulated order list (sorted by value, then id; inclusive from filter; page
 * numbers) is read by posiflora_keyset while a mutation runs before each request,
 * as writes do on a live account. The same list read by plain page numbers is the
 * control: it must miss an order, or the scenario proves nothing. */

#define SIM_MAX 600
#define SIM_PAGE 100
#define SEC INT64_C(1000000)

typedef struct {
    char id[16];
    int64_t at;
    int64_t read_at; /* value of the version last read; INT64_MIN: never read */
} sim_order;

typedef struct sim sim;
/* Called before request number `request` (1-based). */
typedef void (*sim_mutate_fn)(sim *s, int request);

struct sim {
    sim_order v[SIM_MAX];
    int n;
    int64_t clock; /* the value an update stamps: later than everything */
    sim_mutate_fn mutate;
    int requests;
};

static void sim_add(sim *s, const char *id, int64_t at)
{
    CU_ASSERT_FATAL(s->n < SIM_MAX);
    snprintf(s->v[s->n].id, sizeof s->v[s->n].id, "%s", id);
    s->v[s->n].at = at;
    s->v[s->n].read_at = INT64_MIN;
    s->n++;
    if (at >= s->clock)
        s->clock = at + SEC;
}

/* n orders "o0000".., one second apart from 1000 s. */
static void sim_init_unique(sim *s, int n)
{
    char id[16];
    memset(s, 0, sizeof *s);
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "o%04d", i);
        sim_add(s, id, (1000 + i) * SEC);
    }
}

static void sim_update(sim *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i].id, id) == 0) {
            s->v[i].at = s->clock;
            s->clock += SEC;
            return;
        }
    CU_FAIL("sim_update: no such order");
}

static int sim_cmp(const void *a, const void *b)
{
    const sim_order *x = *(const sim_order *const *)a, *y = *(const sim_order *const *)b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* The page as the server would answer it now (value >= from, sorted); returns
 * the number of orders put in out. */
static int sim_list(sim *s, int64_t from, long page, sim_order **out)
{
    sim_order *sorted[SIM_MAX];
    int m = 0, k = 0;
    if (s->mutate)
        s->mutate(s, ++s->requests);
    else
        s->requests++;
    for (int i = 0; i < s->n; i++)
        if (s->v[i].at >= from)
            sorted[m++] = &s->v[i];
    qsort(sorted, (size_t)m, sizeof *sorted, sim_cmp);
    for (long i = (page - 1) * SIM_PAGE; i < m && k < SIM_PAGE; i++)
        out[k++] = sorted[i];
    return k;
}

/* Reads the whole list with keyset paging, marking what it processes; returns
 * the cursor a checkpoint would store. */
static int64_t sim_read_keyset(sim *s, posiflora_keyset *ks)
{
    posiflora_keyset_next next = {.from = INT64_MIN, .page = 1};
    int64_t max_at = INT64_MIN;
    fe_err err = {0};
    for (int guard = 0; guard < 1000; guard++) {
        sim_order *page[SIM_PAGE];
        int n = sim_list(s, next.from, next.page, page);
        posiflora_keyset_page_reset(ks);
        for (int i = 0; i < n; i++) {
            bool is_new = false;
            CU_ASSERT_FATAL(posiflora_keyset_see(ks, page[i]->id, page[i]->at, &is_new, &err) ==
                            FE_OK);
            if (is_new) {
                page[i]->read_at = page[i]->at;
                if (page[i]->at > max_at)
                    max_at = page[i]->at;
            }
        }
        CU_ASSERT_FATAL(posiflora_keyset_page_end(ks, SIM_PAGE, &next, &err) == FE_OK);
        if (n == 0 || next.stop)
            break;
    }
    return posiflora_keyset_cap(ks) < max_at ? posiflora_keyset_cap(ks) : max_at;
}

/* The control: page numbers 1, 2, ... over the same sorted list. */
static void sim_read_pages(sim *s)
{
    for (long page = 1; page < 1000; page++) {
        sim_order *out[SIM_PAGE];
        int n = sim_list(s, INT64_MIN, page, out);
        for (int i = 0; i < n; i++)
            out[i]->read_at = out[i]->at;
        if (n < SIM_PAGE)
            break;
    }
}

/* Orders whose current version was not read and that a checkpoint at cursor
 * (inclusive lower bound next run) would leave behind. */
static int sim_lost(const sim *s, int64_t cursor)
{
    int lost = 0;
    for (int i = 0; i < s->n; i++)
        if (s->v[i].read_at != s->v[i].at && s->v[i].at < cursor)
            lost++;
    return lost;
}

static int sim_never_read(const sim *s)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->v[i].read_at == INT64_MIN;
    return n;
}

/* Before the third request, an order on page 1 (already read) is updated: it moves
 * to the end and the first order of page 3 slides onto page 2. */
static void mutate_read_order(sim *s, int request)
{
    if (request == 3)
        sim_update(s, "o0050");
}

static void test_keyset_update_mid_read(void)
{
    static sim s;
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    CU_ASSERT_FATAL(ks != NULL);
    CU_ASSERT_STRING_EQUAL(posiflora_keyset_field_path(ks), "attributes.updatedAt");

    sim_init_unique(&s, 500);
    s.mutate = mutate_read_order;
    sim_read_pages(&s);
    CU_ASSERT_EQUAL(sim_never_read(&s), 1); /* the control misses o0200 */
    CU_ASSERT_EQUAL(s.v[200].read_at, INT64_MIN);

    sim_init_unique(&s, 500);
    s.mutate = mutate_read_order;
    int64_t cursor = sim_read_keyset(&s, ks);
    CU_ASSERT_EQUAL(sim_never_read(&s), 0);
    CU_ASSERT_EQUAL(sim_lost(&s, INT64_MAX), 0); /* o0050 read again at its new value */
    CU_ASSERT_EQUAL(cursor, s.clock - SEC);
    CU_ASSERT_EQUAL(posiflora_keyset_cap(ks), INT64_MAX);
    /* 500 orders, pages of 100 overlapping by one (the last order re-listed):
     * 6 requests, where page numbers need 5 (6 with a full last page). */
    CU_ASSERT(s.requests <= 7);
    CU_ASSERT(posiflora_keyset_skipped(ks) >= 5);
    posiflora_keyset_free(ks);
}

/* Updates of orders still unread, and an insert, between every request. */
static void mutate_every_request(sim *s, int request)
{
    char id[16];
    snprintf(id, sizeof id, "o%04d", request * 37 % 400);
    sim_update(s, id);
    snprintf(id, sizeof id, "n%04d", request);
    sim_add(s, id, s->clock);
}

static void test_keyset_churn(void)
{
    static sim s;
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    CU_ASSERT_FATAL(ks != NULL);
    sim_init_unique(&s, 400);
    s.mutate = mutate_every_request;
    sim_read_pages(&s);
    CU_ASSERT(sim_lost(&s, INT64_MAX) > 0);

    sim_init_unique(&s, 400);
    s.mutate = mutate_every_request;
    int64_t cursor = sim_read_keyset(&s, ks);
    CU_ASSERT_EQUAL(sim_lost(&s, INT64_MAX), 0);
    CU_ASSERT_EQUAL(sim_never_read(&s), 0);
    CU_ASSERT_EQUAL(posiflora_keyset_cap(ks), INT64_MAX);
    CU_ASSERT(cursor >= s.clock - 2 * SEC);
    posiflora_keyset_free(ks);
}

/* 90 unique orders, 250 sharing one value T, `after` orders after it: the keyset
 * falls back to page numbers for T and reads all of them. */
static void sim_init_ties(sim *s, int after)
{
    char id[16];
    sim_init_unique(s, 90);
    for (int i = 0; i < 250; i++) {
        snprintf(id, sizeof id, "t%04d", i);
        sim_add(s, id, 5000 * SEC);
    }
    for (int i = 0; i < after; i++) {
        snprintf(id, sizeof id, "z%04d", i);
        sim_add(s, id, (6000 + i) * SEC);
    }
}

static void test_keyset_ties(void)
{
    static sim s;
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    CU_ASSERT_FATAL(ks != NULL);
    sim_init_ties(&s, 60);
    int64_t cursor = sim_read_keyset(&s, ks);
    CU_ASSERT_EQUAL(sim_never_read(&s), 0);
    CU_ASSERT_EQUAL(cursor, 6059 * SEC);
    CU_ASSERT_EQUAL(posiflora_keyset_cap(ks), INT64_MAX);
    CU_ASSERT(s.requests <= 7);
    posiflora_keyset_free(ks);
}

/* During the page-number fallback for T, an order at T already listed changes: the
 * order that slides onto the page already read is missed in this run, so the
 * cursor must not pass T (the next run reads T again, the bound is inclusive). */
static void mutate_tie(sim *s, int request)
{
    if (request == 3) /* page 2 for T */
        sim_update(s, "t0005");
}

/* after = 60: the changed order turns up on a later keyset page (the watch);
 * after = 0: on the last page of the fallback itself. */
static void check_tie_shift(int after)
{
    static sim s;
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    CU_ASSERT_FATAL(ks != NULL);
    sim_init_ties(&s, after);
    s.mutate = mutate_tie;
    int64_t cursor = sim_read_keyset(&s, ks);
    CU_ASSERT_EQUAL(posiflora_keyset_cap(ks), 5000 * SEC);
    CU_ASSERT_EQUAL(cursor, 5000 * SEC);
    CU_ASSERT_EQUAL(sim_never_read(&s), 1); /* missed now, read next run */
    CU_ASSERT_EQUAL(sim_lost(&s, cursor + 1), 1);
    CU_ASSERT_EQUAL(sim_lost(&s, cursor), 0);
    posiflora_keyset_free(ks);
}

static void test_keyset_tie_shift_caps_cursor(void)
{
    check_tie_shift(60);
    check_tie_shift(0);
}

static void see_ok(posiflora_keyset *ks, const char *id, int64_t at, bool expect_new)
{
    fe_err err = {0};
    bool is_new = !expect_new;
    CU_ASSERT_EQUAL_FATAL(posiflora_keyset_see(ks, id, at, &is_new, &err), FE_OK);
    CU_ASSERT_EQUAL(is_new, expect_new);
}

/* A cut page read again does not count its records as listed; records without a
 * value are always new and do not move the keyset; a short page ends the list. */
static void test_keyset_reset_and_missing_values(void)
{
    posiflora_keyset *ks = posiflora_keyset_new("modifiedAt");
    posiflora_keyset_next next;
    fe_err err = {0};
    CU_ASSERT_FATAL(ks != NULL);
    CU_ASSERT_STRING_EQUAL(posiflora_keyset_field_path(ks), "attributes.modifiedAt");
    posiflora_keyset_page_reset(ks);
    see_ok(ks, "a", 10, true);
    posiflora_keyset_page_reset(ks); /* cut: the page starts again */
    see_ok(ks, "a", 10, true);
    see_ok(ks, NULL, 11, true);
    see_ok(ks, "b", INT64_MIN, true);
    see_ok(ks, "c", 12, true);
    CU_ASSERT_EQUAL_FATAL(posiflora_keyset_page_end(ks, 4, &next, &err), FE_OK);
    CU_ASSERT_FALSE(next.stop);
    CU_ASSERT_EQUAL(next.from, 12);
    CU_ASSERT_EQUAL(next.page, 1);

    posiflora_keyset_page_reset(ks);
    see_ok(ks, "c", 12, false);
    see_ok(ks, "b", INT64_MIN, true);
    see_ok(ks, "a", 10, false); /* below the keyset: listed before */
    CU_ASSERT_EQUAL(posiflora_keyset_page_end(ks, 4, &next, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ascending modifiedAt"));

    posiflora_keyset_page_reset(ks);
    see_ok(ks, "c", 12, false);
    see_ok(ks, "d", 12, true);
    CU_ASSERT_EQUAL_FATAL(posiflora_keyset_page_end(ks, 4, &next, &err), FE_OK);
    CU_ASSERT_TRUE(next.stop);
    CU_ASSERT_EQUAL(posiflora_keyset_skipped(ks), 3);
    posiflora_keyset_free(ks);
    posiflora_keyset_free(NULL);
}

/* A server that ignores filter[FIELD][from] answers page 1 with what lies below
 * it: the keyset stops with a reason instead of reading the list again and again. */
static void test_keyset_filter_ignored(void)
{
    posiflora_keyset *ks = posiflora_keyset_new("updatedAt");
    posiflora_keyset_next next;
    fe_err err = {0};
    CU_ASSERT_FATAL(ks != NULL);
    posiflora_keyset_page_reset(ks);
    see_ok(ks, "a", 1, true);
    see_ok(ks, "b", 2, true);
    CU_ASSERT_EQUAL_FATAL(posiflora_keyset_page_end(ks, 2, &next, &err), FE_OK);
    CU_ASSERT_EQUAL(next.from, 2);
    posiflora_keyset_page_reset(ks);
    see_ok(ks, "a", 1, false);
    see_ok(ks, "a0", 1, false);
    CU_ASSERT_EQUAL(posiflora_keyset_page_end(ks, 2, &next, &err), FE_EJSON);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "filter[updatedAt][from]"));
    posiflora_keyset_free(ks);
}

int main(void)
{
    sink = recorder_sink(&rec);
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"stores", test_stores},
        {"items and included categories", test_items_and_included_categories},
        {"bouquets", test_bouquets},
        {"customers: rows and rejects", test_customers_rows_and_rejects},
        {"customer: UTF-8 and NUL rejects", test_customer_utf8_reject_reason},
        {"rules: a list of poison records", test_rules_list_records},
        {"rules: the reason of each", test_rules_reasons},
        {"sink failure", test_sink_failure},
        {"status groups", test_status_groups},
    };
    static const struct {
        const char *name;
        void (*fn)(void);
    } keyset_tests[] = {
        {"keyset: an order read already is updated", test_keyset_update_mid_read},
        {"keyset: updates and inserts between requests", test_keyset_churn},
        {"keyset: more ties than a page", test_keyset_ties},
        {"keyset: a tie shifts during the fallback", test_keyset_tie_shift_caps_cursor},
        {"keyset: cut page, missing values, order check", test_keyset_reset_and_missing_values},
        {"keyset: filter ignored", test_keyset_filter_ignored},
    };
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite suite = CU_add_suite("posiflora_map", NULL, NULL);
    for (size_t i = 0; suite && i < sizeof tests / sizeof tests[0]; i++)
        CU_add_test(suite, tests[i].name, tests[i].fn);
    CU_pSuite keyset = CU_add_suite("posiflora_pages keyset", NULL, NULL);
    for (size_t i = 0; keyset && i < sizeof keyset_tests / sizeof keyset_tests[0]; i++)
        CU_add_test(keyset, keyset_tests[i].name, keyset_tests[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failures = (int)CU_get_number_of_failures();
    recorder_clear(&rec);
    CU_cleanup_registry();
    return failures != 0;
}
