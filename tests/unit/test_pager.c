/* Unit tests for extract/pager: each end-of-list rule on a scripted list (no
 * HTTP: the fetch hook reads pages from a table), the refusals and their order,
 * the page bound with and without a count, next links with loop detection, and
 * the small helpers (expected rows, the ids hash). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "extract/pager.h"

#define MAX_PAGES 16

/* A scripted list: the fetch hook answers pages[at->index]. */
typedef struct {
    pager_page pages[MAX_PAGES];
    int npages;
    const char *urls[MAX_PAGES]; /* the next link of page i (next_link lists) */
    long fetched[MAX_PAGES];     /* at->page of each fetch */
    char fetched_url[MAX_PAGES][64];
    int nfetched, ndone;
    int stop_after; /* page_done stops after this many pages; 0 = never */
    int fail_done;  /* page_done fails at this page; 0 = never */
    pager_refusal why;
    int refusals;
} script;

static fe_rc fetch(void *user, const pager_at *at, pager_page *page, fe_err *err)
{
    script *s = user;
    CU_ASSERT_FATAL(s->nfetched < MAX_PAGES);
    s->fetched[s->nfetched] = at->page;
    snprintf(s->fetched_url[s->nfetched], sizeof s->fetched_url[0], "%s", at->url ? at->url : "");
    s->nfetched++;
    if (at->index >= s->npages)
        return fe_err_set(err, FE_EHTTP, "no page %ld", at->index);
    *page = s->pages[at->index];
    page->next = s->urls[at->index];
    return FE_OK;
}

static fe_rc page_done(void *user, const pager_page *page, bool *stop, fe_err *err)
{
    script *s = user;
    (void)page;
    s->ndone++;
    if (s->ndone == s->fail_done)
        return fe_err_set(err, FE_EPG, "checkpoint failed");
    *stop = s->ndone == s->stop_after;
    return FE_OK;
}

static fe_rc refuse(void *user, pager_refusal why, const pager_at *at, const pager_page *last,
                    fe_err *err)
{
    script *s = user;
    s->why = why;
    s->refusals++;
    return fe_err_set(err, FE_EJSON, "refused %d at page %ld (url %s, last total %lld)", (int)why,
                      at->page, at->url ? at->url : "-", (long long)last->total);
}

static const pager_hooks HOOKS = {.fetch = fetch, .page_done = page_done, .refuse = refuse};

static pager_page page_of(int64_t rows, int64_t total, uint64_t hash)
{
    return (pager_page){.rows = rows, .total = total, .ids_hash = hash};
}

/* The rules of a numbered list with a count (Posiflora's, Flowwow's). */
static pager_rules numbered(long page_size)
{
    return (pager_rules){.first_page = 1,
                         .page_size = page_size,
                         .count = true,
                         .short_page = true,
                         .short_needs_no_count = true,
                         .empty_ends = true,
                         .refuse_repeat = true,
                         .max_pages = 1000,
                         .slack = 2,
                         .count_per_page = true};
}

static void test_count_ends(void)
{
    script s = {.npages = 3};
    pager_rules r = numbered(2);
    pager_result res;
    fe_err err = {0};
    s.pages[0] = page_of(2, 4, 1);
    s.pages[1] = page_of(2, 4, 2);
    s.pages[2] = page_of(0, 4, 3); /* never asked for */
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, &res, &err), FE_OK);
    CU_ASSERT_EQUAL(s.nfetched, 2);
    CU_ASSERT_EQUAL(s.fetched[0], 1);
    CU_ASSERT_EQUAL(s.fetched[1], 2);
    CU_ASSERT_EQUAL(res.pages, 2);
    CU_ASSERT_EQUAL(res.rows, 4);
    CU_ASSERT_FALSE(res.total_changed);
    CU_ASSERT_EQUAL(s.ndone, 2);
}

/* Without a count, a short page ends the list; with one it does not
 * (short_needs_no_count), unless the rules say so. */
static void test_short_page(void)
{
    script s = {.npages = 3};
    pager_rules r = numbered(2);
    fe_err err = {0};
    s.pages[0] = page_of(2, -1, 1);
    s.pages[1] = page_of(1, -1, 2);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(s.nfetched, 2);

    script c = {.npages = 3};
    c.pages[0] = page_of(1, 5, 1); /* short, but the count says more */
    c.pages[1] = page_of(2, 5, 2);
    c.pages[2] = page_of(2, 5, 3);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &c, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(c.nfetched, 3);

    script d = {.npages = 3};
    r.short_needs_no_count = false;
    d.pages[0] = page_of(1, 5, 1);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &d, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(d.nfetched, 1);

    /* The page's own size (a server's) wins over the rules' page_size. */
    script e = {.npages = 3};
    e.pages[0] = (pager_page){.rows = 1, .total = -1, .size = 1, .ids_hash = 1};
    e.pages[1] = (pager_page){.rows = 0, .total = -1, .size = 1, .ids_hash = 2};
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &e, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(e.nfetched, 2);
}

/* An empty page ends the list before the page hook (empty_ends); without the
 * rule it is a page like any other. */
static void test_empty_page(void)
{
    script s = {.npages = 2};
    pager_rules r = numbered(2);
    fe_err err = {0};
    s.pages[0] = page_of(2, -1, 1);
    s.pages[1] = page_of(0, -1, 2);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(s.nfetched, 2);
    CU_ASSERT_EQUAL(s.ndone, 1);
}

static void test_repeat_refused(void)
{
    script s = {.npages = 3};
    pager_rules r = numbered(2);
    fe_err err = {0};
    pager_result res;
    s.pages[0] = page_of(2, -1, 7);
    s.pages[1] = page_of(2, -1, 7);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, &res, &err), FE_EJSON);
    CU_ASSERT_EQUAL(s.why, PAGER_REPEATED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "at page 2"));
    CU_ASSERT_EQUAL(s.ndone, 1); /* the repeat is refused before its page hook */
    CU_ASSERT_EQUAL(res.rows, 2);

    script t = {.npages = 3};
    r.refuse_repeat = false;
    t.pages[0] = page_of(2, -1, 7);
    t.pages[1] = page_of(1, -1, 7);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &t, NULL, NULL, &err), FE_OK);
}

/* The page bound: max_pages without a count; with one, the count's pages +
 * slack (per page or per record, capped or not). */
static void test_page_bound(void)
{
    script s = {.npages = 16};
    pager_rules r = numbered(2);
    fe_err err = {0};
    for (int i = 0; i < 16; i++)
        s.pages[i] = page_of(2, -1, (uint64_t)i + 1);
    r.max_pages = 3;
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(s.why, PAGER_TOO_MANY);
    CU_ASSERT_EQUAL(s.nfetched, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "at page 4"));

    /* A count of 100 that the pages never reach: 100 / 2 + 2 pages (capped at
     * max_pages 8 when cap_count_pages). */
    script c = {.npages = 16};
    for (int i = 0; i < 16; i++)
        c.pages[i] = page_of(2, 100, (uint64_t)i + 1);
    r.max_pages = 8;
    r.cap_count_pages = true;
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &c, NULL, NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(c.nfetched, 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "last total 100"));

    /* A count of 6 records, 2 a page, that pages of 1 record never reach: 6 / 2
     * + 2 = 5 pages (count_per_page, not capped). */
    script d = {.npages = 16};
    for (int i = 0; i < 16; i++)
        d.pages[i] = page_of(1, 6, (uint64_t)i + 1);
    r.max_pages = 1000;
    r.cap_count_pages = false;
    r.short_page = false;
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &d, NULL, NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(d.why, PAGER_TOO_MANY);
    CU_ASSERT_EQUAL(d.nfetched, 5);

    /* Counted in records (count_per_page false), capped at max_pages: min(100,
     * 5) + 2 = 7 pages. */
    script e = {.npages = 16};
    for (int i = 0; i < 16; i++)
        e.pages[i] = page_of(1, 100, (uint64_t)i + 1);
    r.count_per_page = false;
    r.max_pages = 5;
    r.cap_count_pages = true; /* min(100, 5) + 2 */
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &e, NULL, NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(e.nfetched, 7);
}

static void test_total_changed(void)
{
    script s = {.npages = 3};
    pager_rules r = numbered(2);
    pager_result res;
    fe_err err = {0};
    s.pages[0] = page_of(2, 5, 1);
    s.pages[1] = page_of(2, 6, 2);
    s.pages[2] = page_of(2, 6, 3);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, &res, &err), FE_OK);
    CU_ASSERT_TRUE(res.total_changed);
    CU_ASSERT_EQUAL(res.rows, 6);
}

/* The page hook's stop ends the list; its failure fails it. */
static void test_page_hook(void)
{
    script s = {.npages = 4, .stop_after = 2};
    pager_rules r = numbered(2);
    fe_err err = {0};
    for (int i = 0; i < 4; i++)
        s.pages[i] = page_of(2, -1, (uint64_t)i + 1);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(s.nfetched, 2);

    script f = {.npages = 4, .fail_done = 1};
    for (int i = 0; i < 4; i++)
        f.pages[i] = page_of(2, -1, (uint64_t)i + 1);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &f, NULL, NULL, &err), FE_EPG);
    CU_ASSERT_STRING_EQUAL(err.msg, "checkpoint failed");
    CU_ASSERT_EQUAL(f.nfetched, 1);
}

/* A fetch failure is the list's. */
static void test_fetch_failure(void)
{
    script s = {.npages = 1};
    pager_rules r = numbered(2);
    fe_err err = {0};
    s.pages[0] = page_of(2, -1, 1);
    CU_ASSERT_EQUAL(pager_run(&r, &HOOKS, &s, NULL, NULL, &err), FE_EHTTP);
    CU_ASSERT_STRING_EQUAL(err.msg, "no page 1");
}

static const pager_rules NEXT_RULES = {.next_link = true};

/* Next links: followed as sent until one is empty; empty pages go on. */
static void test_next_links(void)
{
    script s = {.npages = 3, .urls = {"/b", "/c", NULL}};
    pager_result res;
    fe_err err = {0};
    s.pages[0] = page_of(1, -1, 0);
    s.pages[1] = page_of(0, -1, 0);
    s.pages[2] = page_of(1, -1, 0);
    CU_ASSERT_EQUAL(pager_run(&NEXT_RULES, &HOOKS, &s, "/a", &res, &err), FE_OK);
    CU_ASSERT_EQUAL(s.nfetched, 3);
    CU_ASSERT_STRING_EQUAL(s.fetched_url[0], "/a");
    CU_ASSERT_STRING_EQUAL(s.fetched_url[1], "/b");
    CU_ASSERT_STRING_EQUAL(s.fetched_url[2], "/c");
    CU_ASSERT_EQUAL(s.ndone, 3);
    CU_ASSERT_EQUAL(res.rows, 2);

    script e = {.npages = 2, .urls = {"", NULL}};
    e.pages[0] = page_of(1, -1, 0);
    CU_ASSERT_EQUAL(pager_run(&NEXT_RULES, &HOOKS, &e, "/a", NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(e.nfetched, 1);
}

/* A next link back to any page already read is refused before it is fetched. */
static void test_next_loop(void)
{
    script s = {.npages = 4, .urls = {"/b", "/c", "/b"}};
    fe_err err = {0};
    for (int i = 0; i < 4; i++)
        s.pages[i] = page_of(1, -1, 0);
    CU_ASSERT_EQUAL(pager_run(&NEXT_RULES, &HOOKS, &s, "/a", NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(s.why, PAGER_LOOP);
    CU_ASSERT_EQUAL(s.nfetched, 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "url /b"));

    script t = {.npages = 2, .urls = {"/a"}};
    t.pages[0] = page_of(1, -1, 0);
    CU_ASSERT_EQUAL(pager_run(&NEXT_RULES, &HOOKS, &t, "/a", NULL, &err), FE_EJSON);
    CU_ASSERT_EQUAL(t.nfetched, 1);
}

/* Many distinct links: the URL set grows and still tells them apart. */
static void test_many_links(void)
{
    pager_step st;
    pager_refusal why;
    bool oom;
    char url[32];
    pager_step_init(&st, &NEXT_RULES);
    for (int i = 0; i < 1000; i++) {
        snprintf(url, sizeof url, "/p?i=%d", i);
        CU_ASSERT_EQUAL(pager_step_before(&st, url, &why, &oom), PAGER_MORE);
    }
    CU_ASSERT_EQUAL(pager_step_before(&st, "/p?i=517", &why, &oom), PAGER_REFUSED);
    CU_ASSERT_FALSE(oom);
    CU_ASSERT_EQUAL(why, PAGER_LOOP);
    pager_step_term(&st);
}

static void test_expected_rows(void)
{
    CU_ASSERT_EQUAL(pager_expected_rows(5, 0, 2), 2);
    CU_ASSERT_EQUAL(pager_expected_rows(5, 2, 2), 1);
    CU_ASSERT_EQUAL(pager_expected_rows(5, 3, 2), 0);
    CU_ASSERT_EQUAL(pager_expected_rows(-1, 0, 2), -1);
    CU_ASSERT_EQUAL(pager_expected_rows(5, 0, 0), -1);
    CU_ASSERT_EQUAL(pager_expected_rows(5, INT64_MAX / 2, 4), -1); /* overflow */
}

static void test_ids_hash(void)
{
    uint64_t a = pager_hash_add(pager_hash_add(PAGER_HASH_INIT, "ab", 2), "c", 1);
    uint64_t b = pager_hash_add(pager_hash_add(PAGER_HASH_INIT, "a", 1), "bc", 2);
    uint64_t c = pager_hash_add(PAGER_HASH_INIT,
                                "1\0"
                                "2",
                                3);
    uint64_t d = pager_hash_add(PAGER_HASH_INIT, "1", 1);
    CU_ASSERT_NOT_EQUAL(a, b);
    CU_ASSERT_NOT_EQUAL(c, d);
    CU_ASSERT_EQUAL(a, pager_hash_add(pager_hash_add(PAGER_HASH_INIT, "ab", 2), "c", 1));
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("pager", NULL, NULL);
    CU_add_test(s, "the count ends the list", test_count_ends);
    CU_add_test(s, "a short page ends it", test_short_page);
    CU_add_test(s, "an empty page ends it", test_empty_page);
    CU_add_test(s, "a repeated page is refused", test_repeat_refused);
    CU_add_test(s, "the page bound", test_page_bound);
    CU_add_test(s, "a change of the count is noted", test_total_changed);
    CU_add_test(s, "the page hook stops or fails the list", test_page_hook);
    CU_add_test(s, "a fetch failure fails the list", test_fetch_failure);
    CU_add_test(s, "next links are followed", test_next_links);
    CU_add_test(s, "a next link loop is refused", test_next_loop);
    CU_add_test(s, "many links stay apart", test_many_links);
    CU_add_test(s, "expected rows", test_expected_rows);
    CU_add_test(s, "the ids hash", test_ids_hash);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
