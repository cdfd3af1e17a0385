/* state_args: run's --full-refresh[=LIST] / --from / --to and the state command's
 * arguments, parsed without a config; and stream_cursor_check, the shape check
 * `flowetl state set` applies, against the real source types. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "app/state_args.h"
#include "sources/source.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char why[512];

static bool run_parse(int n, const char *const *args, run_args *a)
{
    why[0] = '\0';
    return run_args_parse(n, args, a, why, sizeof why);
}

static void test_parse_date(void)
{
    int64_t d = -1;
    CU_ASSERT_TRUE(state_parse_date("1970-01-02", &d));
    CU_ASSERT_EQUAL(d, 1);
    CU_ASSERT_TRUE(state_parse_date("2024-02-29", &d));
    CU_ASSERT_TRUE(state_parse_date("1969-12-31", &d));
    CU_ASSERT_EQUAL(d, -1);
    CU_ASSERT_FALSE(state_parse_date("2023-02-29", NULL));
    CU_ASSERT_FALSE(state_parse_date("2026-13-01", NULL));
    CU_ASSERT_FALSE(state_parse_date("2026-1-01", NULL));
    CU_ASSERT_FALSE(state_parse_date("2026-01-01T00:00:00Z", NULL));
    CU_ASSERT_FALSE(state_parse_date("20260101", NULL));
    CU_ASSERT_FALSE(state_parse_date("", NULL));
    CU_ASSERT_FALSE(state_parse_date(NULL, NULL));
}

static void test_run_targets_and_plain_refresh(void)
{
    const char *args[] = {"shop", "--full-refresh", "shop2.orders"};
    run_args a;
    CU_ASSERT_TRUE_FATAL(run_parse(N(args), args, &a));
    CU_ASSERT_EQUAL(a.ntargets, 2);
    CU_ASSERT_STRING_EQUAL(a.targets[1], "shop2.orders");
    CU_ASSERT_TRUE(a.full_refresh);
    CU_ASSERT_EQUAL(a.nrefresh, 0);
    CU_ASSERT_PTR_NULL(a.from);
}

static void test_run_refresh_lists(void)
{
    const char *args[] = {"--full-refresh=shop.orders,shop2", "--full-refresh=shop.customers"};
    run_args a;
    CU_ASSERT_TRUE_FATAL(run_parse(N(args), args, &a));
    CU_ASSERT_TRUE(a.full_refresh);
    CU_ASSERT_EQUAL_FATAL(a.nrefresh, 3);
    CU_ASSERT_STRING_EQUAL(a.refresh[0], "shop.orders");
    CU_ASSERT_STRING_EQUAL(a.refresh[1], "shop2");
    CU_ASSERT_STRING_EQUAL(a.refresh[2], "shop.customers");
    CU_ASSERT_STRING_EQUAL(args[0], "--full-refresh=shop.orders,shop2"); /* not split in place */
    CU_ASSERT_EQUAL(a.ntargets, 0);
    const char *empty[][1] = {{"--full-refresh="}, {"--full-refresh=a,,b"}, {"--full-refresh=a,"}};
    for (int i = 0; i < N(empty); i++) {
        CU_ASSERT_FALSE(run_parse(1, empty[i], &a));
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "empty item"));
    }
}

static void test_run_window(void)
{
    run_args a;
    const char *both[] = {"--from", "2026-01-01", "--to=2026-01-31", "shop"};
    CU_ASSERT_TRUE_FATAL(run_parse(N(both), both, &a));
    CU_ASSERT_STRING_EQUAL(a.from, "2026-01-01");
    CU_ASSERT_STRING_EQUAL(a.to, "2026-01-31");
    CU_ASSERT_EQUAL(a.ntargets, 1);
    const char *from_only[] = {"--from=2026-01-01"};
    CU_ASSERT_TRUE(run_parse(N(from_only), from_only, &a));
    CU_ASSERT_PTR_NULL(a.to);
    const char *same_day[] = {"--from", "2026-01-01", "--to", "2026-01-01"};
    CU_ASSERT_TRUE(run_parse(N(same_day), same_day, &a));
}

/* Each usage error is refused with a message naming what is wrong. */
static void test_run_usage_errors(void)
{
    static const struct {
        const char *args[4];
        int n;
        const char *says;
    } bad[] = {
        {{"--to", "2026-01-01"}, 2, "--to needs --from"},
        {{"--from"}, 1, "--from needs a DATE"},
        {{"--from", "2026-02-30"}, 2, "not a date"},
        {{"--from", "2026-01-01", "--to", "yesterday"}, 4, "not a date"},
        {{"--from", "2026-02-01", "--to", "2026-01-31"}, 4, "is after --to"},
        {{"--from", "2026-01-01", "--full-refresh"}, 3, "exclude each other"},
        {{"--full-refresh=shop.orders", "--from", "2026-01-01"}, 3, "exclude each other"},
        {{"--from", "2026-01-01", "--from", "2026-01-02"}, 4, "given twice"},
        {{"--json"}, 1, "unknown option '--json'"},
        {{"--fromage"}, 1, "unknown option"},
    };
    for (int i = 0; i < N(bad); i++) {
        run_args a;
        CU_ASSERT_FALSE(run_parse(bad[i].n, bad[i].args, &a));
        CU_ASSERT_PTR_NOT_NULL(strstr(why, bad[i].says));
        if (!strstr(why, bad[i].says))
            fprintf(stderr, "case %d: '%s' lacks '%s'\n", i, why, bad[i].says);
    }
}

static void test_state_args(void)
{
    state_args s;
    const char *list[] = {"list", "shop", "shop2.orders", "--json"};
    CU_ASSERT_TRUE_FATAL(state_args_parse(N(list), list, &s, why, sizeof why));
    CU_ASSERT_EQUAL(s.verb, STATE_LIST);
    CU_ASSERT_EQUAL(s.ntargets, 2);
    CU_ASSERT_TRUE(s.json);
    const char *set[] = {"set", "shop.orders", "{\"updatedAt\":\"2026-01-01T00:00:00Z\"}", "--yes"};
    CU_ASSERT_TRUE_FATAL(state_args_parse(N(set), set, &s, why, sizeof why));
    CU_ASSERT_EQUAL(s.verb, STATE_SET);
    CU_ASSERT_STRING_EQUAL(s.cursor, set[2]);
    CU_ASSERT_TRUE(s.yes);
    const char *neg[] = {"set", "shop.orders", "-1"}; /* JSON may start with '-' */
    CU_ASSERT_TRUE(state_args_parse(N(neg), neg, &s, why, sizeof why));
    CU_ASSERT_STRING_EQUAL(s.cursor, "-1");
    const char *reset[] = {"reset", "shop", "--yes"};
    CU_ASSERT_TRUE_FATAL(state_args_parse(N(reset), reset, &s, why, sizeof why));
    CU_ASSERT_EQUAL(s.verb, STATE_RESET);

    static const struct {
        const char *args[4];
        int n;
    } bad[] = {
        {{"frob"}, 1},
        {{"show", "shop"}, 2},
        {{"show"}, 1},
        {{"show", "a.b", "c.d"}, 3},
        {{"set", "shop.orders"}, 2},
        {{"set", "shop", "{}"}, 3},
        {{"reset"}, 1},
        {{"reset", "a", "b", "--yes"}, 4},
        {{"list", "--yes"}, 2},
        {{"show", "a.b", "--yes"}, 3},
        {{"reset", "a", "--json"}, 3},
        {{"list", "--all"}, 2},
    };
    CU_ASSERT_FALSE(state_args_parse(0, NULL, &s, why, sizeof why));
    for (int i = 0; i < N(bad); i++) {
        CU_ASSERT_FALSE(state_args_parse(bad[i].n, bad[i].args, &s, why, sizeof why));
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "usage: flowetl state"));
    }
}

static const stream_def *stream_of(const char *type, const char *name)
{
    const source_def *def = source_find(type);
    for (int i = 0; def && i < def->nstreams; i++)
        if (strcmp(def->streams[i].name, name) == 0)
            return &def->streams[i];
    return NULL;
}

static void test_cursor_check(void)
{
    fe_err err = {0};
    const stream_def *orders = stream_of("posiflora", "orders");
    const stream_def *stores = stream_of("posiflora", "stores");
    const stream_def *fw = stream_of("flowwow", "orders");
    const stream_def *inv = stream_of("goflow", "inventory");
    CU_ASSERT_PTR_NOT_NULL_FATAL(orders);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stores);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fw);
    CU_ASSERT_PTR_NOT_NULL_FATAL(inv);
    CU_ASSERT_EQUAL(stream_cursor_check(orders, "{\"updatedAt\":\"2026-01-01T00:00:00Z\"}", &err),
                    FE_OK);
    CU_ASSERT_EQUAL(
        stream_cursor_check(orders, "{\"modifiedAt\":\"2026-01-01T03:00:00+03:00\"}", &err), FE_OK);
    CU_ASSERT_EQUAL(stream_cursor_check(stores, "{\"read_at\":\"2026-01-01T00:00:00Z\"}", &err),
                    FE_OK);
    CU_ASSERT_EQUAL(stream_cursor_check(fw, "{\"day\":\"2026-01-01\"}", &err), FE_OK);
    CU_ASSERT_EQUAL(stream_cursor_check(inv,
                                        "{\"pending_report\":{\"counts\":1,\"values\":0,"
                                        "\"requested_at\":\"2026-01-01T00:00:00Z\"}}",
                                        &err),
                    FE_OK);
    CU_ASSERT_EQUAL(
        stream_cursor_check(inv, "{\"snapshot_date\":\"2026-01-01\",\"report_id\":7}", &err),
        FE_OK);

    static const struct {
        int which; /* 0 orders, 1 flowwow orders, 2 goflow inventory */
        const char *cursor, *says;
    } bad[] = {
        {0, "not json", "not JSON"},
        {0, "[1]", "not a JSON object"},
        {0, "{}", "none of the stream's keys"},
        {0, "{\"updatedAt\":5}", "\"updatedAt\" must be"},
        {0, "{\"updatedAt\":\"soon\"}", "\"updatedAt\" must be"},
        {0, "{\"day\":\"2026-01-01\"}", "no key \"day\""},
        {1, "{\"day\":\"2026-01-01T00:00:00Z\"}", "\"day\" must be \"<YYYY-MM-DD>\""},
        {1, "{\"day\":\"2026-02-30\"}", "\"day\" must be"},
        {2, "{\"report_id\":\"7\"}", "must be <integer>"},
        {2, "{\"pending_report\":[]}", "must be {...}"},
    };
    const stream_def *defs[] = {orders, fw, inv};
    for (int i = 0; i < N(bad); i++) {
        fe_err_clear(&err);
        CU_ASSERT_EQUAL(stream_cursor_check(defs[bad[i].which], bad[i].cursor, &err), FE_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].says));
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "; expected {"));
        if (!strstr(err.msg, bad[i].says))
            fprintf(stderr, "case %d: '%s' lacks '%s'\n", i, err.msg, bad[i].says);
    }
}

/* Every stream of every source declares a cursor shape with at least one key, and
 * only the date-windowed ones name a window. */
static void test_every_stream_has_a_shape(void)
{
    size_t n;
    const source_def *const *all = source_all(&n);
    int windowed = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < all[i]->nstreams; k++) {
            const cursor_spec *c = stream_cursor_spec(&all[i]->streams[k]);
            CU_ASSERT_TRUE(c->nfields > 0 && c->meaning && *c->meaning);
            windowed += all[i]->streams[k].window != NULL;
        }
    CU_ASSERT_EQUAL(windowed, 3); /* posiflora, flowwow and goflow orders */
}

static void test_window_advances(void)
{
    stream_window w = {.from_us = 1000, .end_us = 5000};
    CU_ASSERT_TRUE(stream_window_advances(&w, 2000, 3000));       /* covers the cursor, goes past */
    CU_ASSERT_TRUE(stream_window_advances(&w, 1000, 3000));       /* starts exactly at it */
    CU_ASSERT_FALSE(stream_window_advances(&w, 2000, 2000));      /* not past it */
    CU_ASSERT_FALSE(stream_window_advances(&w, 2000, 1500));      /* never backwards */
    CU_ASSERT_FALSE(stream_window_advances(&w, 500, 3000));       /* a gap before the window */
    CU_ASSERT_FALSE(stream_window_advances(&w, INT64_MIN, 3000)); /* no first cursor */
    CU_ASSERT_FALSE(stream_window_advances(&w, 2000, INT64_MIN)); /* nothing read */
    CU_ASSERT_FALSE(stream_window_advances(NULL, 2000, 3000));
}

static void test_run_shard(void)
{
    const char *eq[] = {"--shard=2/3", "shop"}, *sep[] = {"--shard", "0/1", "--max-sources", "16"};
    run_args a;
    CU_ASSERT_TRUE(run_parse(N(eq), eq, &a));
    CU_ASSERT_EQUAL(a.shard_index, 2);
    CU_ASSERT_EQUAL(a.shard_count, 3);
    CU_ASSERT_EQUAL(a.ntargets, 1);
    CU_ASSERT_EQUAL(a.max_sources, 0);
    CU_ASSERT_TRUE(run_parse(N(sep), sep, &a));
    CU_ASSERT_EQUAL(a.shard_index, 0);
    CU_ASSERT_EQUAL(a.shard_count, 1);
    CU_ASSERT_EQUAL(a.max_sources, 16);
    const char *none[] = {"shop"};
    CU_ASSERT_TRUE(run_parse(N(none), none, &a));
    CU_ASSERT_EQUAL(a.shard_count, 0); /* no sharding */
}

static void test_run_shard_usage_errors(void)
{
    static const char *const bad[] = {"3/3",   "4/3",  "0/0",  "1/0",          "-1/3",
                                      "a/3",   "1/b",  "1",    "/3",           "1/",
                                      "1/3/4", " 1/3", "1/3 ", "99999/100000", ""};
    run_args a;
    for (int i = 0; i < N(bad); i++) {
        const char *args[] = {"--shard", bad[i]};
        CU_ASSERT_FALSE(run_parse(2, args, &a));
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "--shard"));
    }
    const char *missing[] = {"--shard"}, *twice[] = {"--shard=0/2", "--shard=1/2"};
    CU_ASSERT_FALSE(run_parse(N(missing), missing, &a));
    CU_ASSERT_FALSE(run_parse(N(twice), twice, &a));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "twice"));
    static const char *const bad_max[] = {"0", "257", "x", "-1", ""};
    for (int i = 0; i < N(bad_max); i++) {
        const char *args[] = {"--max-sources", bad_max[i]};
        CU_ASSERT_FALSE(run_parse(2, args, &a));
    }
    int i = -1, n = -1;
    CU_ASSERT_FALSE(run_shard_parse("5/2", "FLOWETL_SHARD", &i, &n, why, sizeof why));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "FLOWETL_SHARD"));
    CU_ASSERT_EQUAL(n, -1); /* untouched on error */
    CU_ASSERT_TRUE(run_shard_parse("4095/4096", "FLOWETL_SHARD", &i, &n, why, sizeof why));
    CU_ASSERT_EQUAL(i, 4095);
}

/* The shard of a name must never change between releases: a source would move
 * to another process of a deployment. Expected values: FNV-1a 64-bit, computed
 * independently (0x35dd01e1a1d35e96 for posiflora_main). */
static void test_shard_of_is_stable(void)
{
    CU_ASSERT_EQUAL(run_shard_of("posiflora_main", 3), 0);
    CU_ASSERT_EQUAL(run_shard_of("posiflora_main", 4), 2);
    CU_ASSERT_EQUAL(run_shard_of("posiflora_main", 7), 1);
    CU_ASSERT_EQUAL(run_shard_of("flowwow_main", 3), 1);
    CU_ASSERT_EQUAL(run_shard_of("flowwow_main", 7), 6);
    CU_ASSERT_EQUAL(run_shard_of("acct_01", 7), 6);
    CU_ASSERT_EQUAL(run_shard_of("a", 7), 5);
    CU_ASSERT_EQUAL(run_shard_of("", 3), 2); /* the offset basis alone */
    CU_ASSERT_EQUAL(run_shard_of("anything", 1), 0);
    /* Spread: 300 names over 3 shards, none nearly empty. */
    int count[3] = {0};
    for (int k = 0; k < 300; k++) {
        char name[32];
        snprintf(name, sizeof name, "acct_%03d", k);
        count[run_shard_of(name, 3)]++;
    }
    for (int k = 0; k < 3; k++)
        CU_ASSERT_TRUE(count[k] > 60);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("state_args", NULL, NULL);
    CU_add_test(s, "dates", test_parse_date);
    CU_add_test(s, "run targets and plain --full-refresh", test_run_targets_and_plain_refresh);
    CU_add_test(s, "run --full-refresh=LIST", test_run_refresh_lists);
    CU_add_test(s, "run --from/--to", test_run_window);
    CU_add_test(s, "run usage errors", test_run_usage_errors);
    CU_add_test(s, "run --shard and --max-sources", test_run_shard);
    CU_add_test(s, "run --shard usage errors", test_run_shard_usage_errors);
    CU_add_test(s, "a name's shard is stable", test_shard_of_is_stable);
    CU_add_test(s, "state arguments", test_state_args);
    CU_add_test(s, "cursor shapes", test_cursor_check);
    CU_add_test(s, "every stream has a cursor shape", test_every_stream_has_a_shape);
    CU_add_test(s, "window cursor rule", test_window_advances);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
