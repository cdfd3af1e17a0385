/* test_loader_pg: the loader, migrations and run log against a real PostgreSQL
 * server. Needs a server reachable through libpq's PG* environment (PGHOST,
 * PGUSER, ...) whose user may create databases; it creates and drops its own
 * database flowetl_test_loader. Without a server every test fails (no skipping):
 * ctest runs it under scripts/pgcluster.sh (see tests/CMakeLists.txt). */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "load/loader.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "load/runlog.h"
#include "load/source_id.h"

#define TEST_DB "flowetl_test_loader"
#define TEST_DSN "dbname=" TEST_DB

static PGconn *db; /* checks and run log */
static loader *ld;
static int src;
static int64_t run_id;

/* First column of the first row of sql, as text ("NULL", "(none)" or "ERROR ..."). */
static const char *sqlval(const char *sql)
{
    static char out[1024];
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        snprintf(out, sizeof out, "ERROR %s", PQerrorMessage(db));
    else if (PQntuples(r) == 0)
        snprintf(out, sizeof out, "(none)");
    else
        snprintf(out, sizeof out, "%s", PQgetisnull(r, 0, 0) ? "NULL" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return out;
}

static int suite_init(void)
{
    fe_err err = {0};
    PGconn *admin = pg_connect("", &err);
    if (!admin) {
        fprintf(stderr, "test_loader_pg: no PostgreSQL server (PG* environment): %s\n", err.msg);
        return 1;
    }
    bool ok = pg_exec(admin, "DROP DATABASE IF EXISTS " TEST_DB, &err) == FE_OK &&
              pg_exec(admin, "CREATE DATABASE " TEST_DB " ENCODING 'UTF8' TEMPLATE template0",
                      &err) == FE_OK;
    PQfinish(admin);
    if (!ok) {
        fprintf(stderr, "test_loader_pg: %s\n", err.msg);
        return 1;
    }
    db = pg_connect(TEST_DSN, &err);
    return db ? 0 : 1;
}

static int suite_clean(void)
{
    fe_err err = {0};
    loader_free(ld);
    ld = NULL;
    PQfinish(db);
    db = NULL;
    PGconn *admin = pg_connect("", &err);
    if (admin) {
        if (pg_exec(admin, "DROP DATABASE IF EXISTS " TEST_DB, &err) != FE_OK)
            fprintf(stderr, "test_loader_pg: %s\n", err.msg);
        PQfinish(admin);
    }
    return 0;
}

static void test_migrate(void)
{
    fe_err err = {0};
    int applied = -1;
    CU_ASSERT_EQUAL(migrate_check(db, &err), FE_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "run `flowetl init`"));
    CU_ASSERT_EQUAL_FATAL(migrate_apply(db, LAYOUT_SINGLE, &applied, NULL, &err), FE_OK);
    CU_ASSERT(applied >= 2);
    CU_ASSERT_EQUAL(migrate_apply(db, LAYOUT_SINGLE, &applied, NULL, &err), FE_OK);
    CU_ASSERT_EQUAL(applied, 0);
    CU_ASSERT_EQUAL(migrate_check(db, &err), FE_OK);
    /* Unknown members and the calendar. */
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.dim_date WHERE date_key <> 0"), "14976");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT name FROM dw.dim_customer WHERE customer_key = 0"),
                           "unknown");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT current_setting('TimeZone')"), "UTC");
}

static void test_register_and_lock(void)
{
    fe_err err = {0};
    int again = 0, key = -1;
    bool by_run = true;
    int orphan = -1;
    char app[96], holder[64];
    CU_ASSERT_EQUAL_FATAL(runlog_run_start(db, "0.0.0", "flowetl run test", &run_id, &err), FE_OK);
    ld = loader_open(TEST_DSN, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ld);
    PGconn *c = loader_conn(ld);
    /* A name never loaded: no row yet, none is created by the check. */
    CU_ASSERT_EQUAL(source_id_check(c, "main", "posiflora", "demo", &key, &err), FE_OK);
    CU_ASSERT_EQUAL(key, 0);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.dim_source WHERE source_key > 0"), "0");
    CU_ASSERT_EQUAL_FATAL(
        source_id_register(c, "posiflora", "demo", "main", "Europe/Moscow", &src, &err), FE_OK);
    CU_ASSERT(src > 0);
    CU_ASSERT_EQUAL(source_id_register(c, "posiflora", "demo", "main2", NULL, &again, &err), FE_OK);
    CU_ASSERT_EQUAL(again, src);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT name || ' ' || timezone FROM dw.dim_source"
                                  " WHERE source_key > 0"),
                           "main2 UTC");
    CU_ASSERT_EQUAL(
        source_id_register(c, "posiflora", "demo", "main", "Europe/Moscow", &again, &err), FE_OK);
    CU_ASSERT_EQUAL(source_id_check_timezone(c, "x", "No/Such_Zone", &err), FE_ECONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'No/Such_Zone' is not known to the warehouse"));
    CU_ASSERT_EQUAL(source_id_check_timezone(c, "x", "Europe/Moscow", &err), FE_OK);

    /* The name is bound: its identity passes, another account is refused with
     * both accounts and the way forward. */
    CU_ASSERT_EQUAL(source_id_check(c, "main", "posiflora", "demo", &key, &err), FE_OK);
    CU_ASSERT_EQUAL(key, src);
    CU_ASSERT_EQUAL(source_id_check(c, "main", "posiflora", "demo2", &key, &err), FE_EIDENTITY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bound to posiflora account 'demo'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "now gives account 'demo2'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "`account = demo`"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "`flowetl rebind main`"));
    CU_ASSERT_EQUAL(source_id_check(c, "main", "goflow", "demo", &key, &err), FE_EIDENTITY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is now type goflow"));

    /* The lock is the identity's: another name for the same account is locked out. */
    CU_ASSERT_EQUAL(source_id_lock(c, "main", "posiflora", "demo", 0, 0, &by_run, &orphan, &err),
                    FE_OK);
    loader *other = loader_open(TEST_DSN, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", 0, 0, &by_run,
                                   &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_FALSE(by_run);
    snprintf(holder, sizeof holder, "pid %d (application 'flowetl'", PQbackendPID(c));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, holder));
    /* Held by a run: named by the run's application_name. */
    snprintf(app, sizeof app, "flowetl run=%" PRId64 " pid=1 host=h", run_id);
    CU_ASSERT_EQUAL(pg_set(c, "application_name", app, &err), FE_OK);
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", 0, 0, &by_run,
                                   &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_TRUE(by_run);
    CU_ASSERT_EQUAL(orphan, 0); /* the run's process (this one) is alive */
    snprintf(holder, sizeof holder, "another flowetl run is loading source alias: run %" PRId64,
             run_id);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, holder));
    /* The taking run's own session whose connection broke (stale_pid) is no
     * other run: an orphan to end. Any other session of the same run (a second
     * name for the account) or a stale pid of another run is a holder. */
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", run_id,
                                   PQbackendPID(c), &by_run, &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_FALSE(by_run);
    CU_ASSERT_EQUAL(orphan, PQbackendPID(c));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "this run's own previous session"));
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", run_id, 0,
                                   &by_run, &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_TRUE(by_run);
    CU_ASSERT_EQUAL(orphan, 0);
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", run_id + 1,
                                   PQbackendPID(c), &by_run, &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_TRUE(by_run);
    CU_ASSERT_EQUAL(orphan, 0);
    /* The run's process is gone (kill -9): its session is an orphan, named. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    char dead[128];
    snprintf(dead, sizeof dead, "UPDATE etl.run SET pid = %d WHERE run_id = %" PRId64, (int)child,
             run_id);
    CU_ASSERT_EQUAL(pg_exec(loader_conn(other), dead, &err), FE_OK);
    CU_ASSERT_EQUAL(source_id_lock(loader_conn(other), "alias", "posiflora", "demo", 0, 0, &by_run,
                                   &orphan, &err),
                    FE_ELOCKED);
    CU_ASSERT_EQUAL(orphan, PQbackendPID(c));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "that process is gone"));
    snprintf(dead, sizeof dead, "UPDATE etl.run SET pid = %d WHERE run_id = %" PRId64,
             (int)getpid(), run_id);
    CU_ASSERT_EQUAL(pg_exec(loader_conn(other), dead, &err), FE_OK);
    /* Another account is free. */
    CU_ASSERT_EQUAL(
        source_id_lock(loader_conn(other), "x", "posiflora", "demo2", 0, 0, &by_run, &orphan, &err),
        FE_OK);

    /* rebind: refused while a run holds the old account, else renames. */
    buf report;
    buf_init(&report, 0);
    CU_ASSERT_EQUAL(source_id_rebind(db, "main", "posiflora", "demo2", &report, &err), FE_ELOCKED);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT name FROM dw.dim_source WHERE account = 'demo'"), "main");
    CU_ASSERT_EQUAL(source_id_register(db, "flowwow", "acc1", "fw", NULL, &key, &err), FE_OK);
    CU_ASSERT_EQUAL(source_id_rebind(db, "fw", "flowwow", "acc2", &report, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&report), "renamed from 'fw' to 'fw@acc1'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&report), "the next run binds fw to flowwow account "
                                                     "'acc2' (a new dw.dim_source row"));
    CU_ASSERT_EQUAL(source_id_check(db, "fw", "flowwow", "acc2", &again, &err), FE_OK);
    CU_ASSERT_EQUAL(again, 0);
    buf_reset(&report);
    CU_ASSERT_EQUAL(source_id_rebind(db, "fw", "flowwow", "acc2", &report, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf_cstr(&report), "not bound to any account yet"));
    CU_ASSERT_EQUAL(pg_exec(db, "DELETE FROM dw.dim_source WHERE system = 'flowwow'", &err), FE_OK);
    buf_term(&report);
    loader_free(other);
}

/* Only the server's refusal of a zone is a config error: a session the server
 * ended is FE_EPG (the worker then reports the warehouse gone, exit 3). */
static void test_timezone_check_lost_connection(void)
{
    fe_err err = {0};
    char sql[96];
    PGconn *c = pg_connect(TEST_DSN, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%d)", PQbackendPID(c));
    CU_ASSERT_STRING_EQUAL(sqlval(sql), "t");
    CU_ASSERT_EQUAL(source_id_check_timezone(c, "x", "Europe/Moscow", &err), FE_EPG);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "is not known"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "checking the time zone of source x"));
    PQfinish(c);
}

/* Stages one orders checkpoint: 1001 (complete, 3 lines, 2 payments; staged twice,
 * the later version wins), 1002 with total2 (unknown customer and product: inferred
 * members), 1003 without customer. with_line3 = false drops a line of 1001. */
static stream_stats orders_checkpoint(const char *total2, bool with_line3, const char *cursor)
{
    fe_err err = {0};
    stream_stats st = {0};
    row_order old1 = {.order_id = "1001",
                      .status_group = "open",
                      .total = "1",
                      .ordered_at = "2025-12-31T22:30:00Z"};
    row_order o1 = {.order_id = "1001",
                    .store_id = "s1",
                    .customer_id = "c1",
                    .ordered_at = "2025-12-31T22:30:00Z",
                    .status = "done",
                    .status_group = "completed",
                    .currency = "rub",
                    .total = "2500.00",
                    .lines_complete = true,
                    .payments_complete = true};
    row_order o2 = {.order_id = "1002",
                    .store_id = "s1",
                    .customer_id = "c999",
                    .ordered_at = "2025-12-30T10:00:00Z",
                    .order_date = "2025-12-30",
                    .status = "new",
                    .status_group = "open",
                    .currency = "RUB",
                    .total = total2};
    row_order o3 = {.order_id = "1003",
                    .store_id = "s1",
                    .customer_id = "",
                    .ordered_at = "2026-01-02T12:00:00+03:00",
                    .status_group = "canceled",
                    .total = "100.5"};
    row_order_line lines[] = {
        {.order_id = "1001",
         .line_id = "1",
         .product_id = "rose",
         .bundle_id = "bq-7",
         .quantity = "15",
         .line_total = "1500"},
        {.order_id = "1001",
         .line_id = "2",
         .product_id = "ribbon",
         .bundle_id = "bq-7",
         .quantity = "1",
         .line_total = "100"},
        {.order_id = "1002",
         .line_id = "1",
         .product_id = "mystery",
         .quantity = "2.5",
         .line_total = "100"},
        {.order_id = "1001",
         .line_id = "3",
         .product_id = "card",
         .quantity = "1",
         .line_total = "900"},
    };
    row_payment p1 = {.payment_id = "p1",
                      .order_id = "1001",
                      .paid_at = "2025-12-31T22:35:00Z",
                      .payment_type = "payment",
                      .method = "card",
                      .amount = "2600"};
    row_payment p2 = {.payment_id = "p2",
                      .order_id = "1001",
                      .paid_at = "2025-12-31T22:36:00Z",
                      .payment_type = "change",
                      .method = "cash",
                      .amount = "-100"};

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &old1, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &o1, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &o2, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &o3, &err), FE_OK);
    for (int i = 0; i < (with_line3 ? 4 : 3); i++)
        CU_ASSERT_EQUAL(loader_put_order_line(ld, &lines[i], &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_payment(ld, &p1, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_payment(ld, &p2, &err), FE_OK);
    load_commit c = {.cursor = cursor};
    fe_rc rc = loader_commit(ld, &c, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    return st;
}

static void test_orders_first_load(void)
{
    fe_err err = {0};
    row_store s1 = {.kind = "store",
                    .store_id = "s1",
                    .name = "Цветы на Тверской",
                    .address = "Москва,\tТверская 1\nофис \\2"};
    stream_stats st = {0};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "stores", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_store(ld, &s1, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT address FROM dw.dim_store WHERE store_id = 's1'"),
                           "Москва,\tТверская 1\nофис \\2");

    st = orders_checkpoint("200.00", true, "{\"from\": \"2026-01-01T08:00:00Z\"}");
    CU_ASSERT_EQUAL(st.inserted, 9); /* 3 orders, 4 lines, 2 payments */
    CU_ASSERT_EQUAL(st.updated, 0);
    CU_ASSERT_EQUAL(st.unchanged, 0);
    CU_ASSERT_STRING_EQUAL(
        sqlval("SELECT total || ' ' || currency || ' ' || order_date_key FROM dw.fact_order"
               " WHERE order_id = '1001'"),
        "2500.0000 RUB 20260101"); /* 22:30 UTC is the next day in Moscow */
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT order_date_key FROM dw.fact_order"
                                  " WHERE order_id = '1002'"),
                           "20251230");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT customer_key FROM dw.fact_order"
                                  " WHERE order_id = '1003'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.dim_customer WHERE is_inferred"), "2");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.dim_product WHERE is_inferred"), "5");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT b.product_id FROM dw.fact_order_line l"
                                  " JOIN dw.dim_product b ON b.product_key = l.bundle_product_key"
                                  " WHERE l.order_id = '1001' AND l.line_id = '2'"),
                           "bq-7");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT sum(amount) FROM dw.fact_payment"), "2500.0000");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'from' FROM etl.sync_state"
                                  " WHERE stream = 'orders'"),
                           "2026-01-01T08:00:00Z");
}

static void test_orders_reload_unchanged(void)
{
    char before[128];
    snprintf(before, sizeof before, "%s",
             sqlval("SELECT max(loaded_at)::text FROM dw.fact_order WHERE source_key > 0"));
    stream_stats st = orders_checkpoint("200.00", true, NULL);
    CU_ASSERT_EQUAL(st.inserted, 0);
    CU_ASSERT_EQUAL(st.updated, 0);
    CU_ASSERT_EQUAL(st.unchanged, 9);
    CU_ASSERT_STRING_EQUAL(
        sqlval("SELECT max(loaded_at)::text FROM dw.fact_order WHERE source_key > 0"), before);
}

static void test_orders_one_change(void)
{
    stream_stats st = orders_checkpoint("250.00", true, "{\"from\": \"2026-01-01T09:00:00Z\"}");
    CU_ASSERT_EQUAL(st.inserted, 0);
    CU_ASSERT_EQUAL(st.updated, 1);
    CU_ASSERT_EQUAL(st.unchanged, 8);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT total FROM dw.fact_order WHERE order_id = '1002'"),
                           "250.0000");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'from' FROM etl.sync_state"
                                  " WHERE stream = 'orders'"),
                           "2026-01-01T09:00:00Z");
}

static void test_lines_complete(void)
{
    stream_stats st = orders_checkpoint("250.00", false, NULL);
    CU_ASSERT_EQUAL(st.deleted, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT is_deleted FROM dw.fact_order_line"
                                  " WHERE order_id = '1001' AND line_id = '3'"),
                           "t");
    st = orders_checkpoint("250.00", true, NULL);
    CU_ASSERT_EQUAL(st.updated, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT is_deleted FROM dw.fact_order_line"
                                  " WHERE order_id = '1001' AND line_id = '3'"),
                           "f");
}

/* A line and a payment that arrive before their order point to no order (NULL: there
 * is no unknown-order row to count), and get the order's key once it is loaded. */
static void test_line_before_its_order(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    row_order_line line = {
        .order_id = "late-1", .line_id = "1", .quantity = "1", .line_total = "10"};
    row_payment pay = {.payment_id = "late-p1",
                       .order_id = "late-1",
                       .paid_at = "2026-01-03T10:00:00Z",
                       .payment_type = "payment",
                       .amount = "10"};
    row_order order = {.order_id = "late-1",
                       .store_id = "s1",
                       .ordered_at = "2026-01-03T09:00:00Z",
                       .status_group = "open",
                       .currency = "RUB",
                       .total = "10"};

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order_line(ld, &line, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_payment(ld, &pay, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE source_key = 0"
                                  " OR order_id = 'late-1'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT coalesce(order_key::text, 'NULL') FROM dw.fact_order_line"
                                  " WHERE order_id = 'late-1'"),
                           "NULL");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT coalesce(order_key::text, 'NULL') FROM dw.fact_payment"
                                  " WHERE payment_id = 'late-p1'"),
                           "NULL");

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &order, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order o"
                                  " JOIN dw.fact_order_line l USING (order_key)"
                                  " JOIN dw.fact_payment p USING (order_key)"
                                  " WHERE o.order_id = 'late-1' AND l.store_key = o.store_key"
                                  " AND l.store_key <> 0 AND p.store_key = o.store_key"),
                           "1");
}

static void test_inferred_member_filled(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    row_customer c = {.customer_id = "c999", .name = "Анна\t\"Тест\"\\", .loyalty_points = "12.5"};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "customers", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_customer(ld, &c, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 0);
    CU_ASSERT_EQUAL(st.updated, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT is_inferred::text || '|' || name FROM dw.dim_customer"
                                  " WHERE customer_id = 'c999'"),
                           "false|Анна\t\"Тест\"\\");
}

static void test_categories_and_full_read(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    row_category cats[] = {
        {.category_id = "k3", .name = "Красные", .parent_id = "k2"},
        {.category_id = "k2", .name = "Розы", .parent_id = "k1"},
        {.category_id = "k1", .name = "Цветы"},
        {.category_id = "k4", .name = "Старое"},
    };
    load_commit full = {.full_read = 1u << STG_CATEGORY};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "categories", run_id, &err), FE_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(loader_put_category(ld, &cats[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 4);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT path FROM dw.dim_category WHERE category_id = 'k3'"),
                           "Цветы / Розы / Красные");

    /* Another stream writing the same row unchanged (Posiflora inventory_items maps
     * its included categories) neither counts as an update nor takes the row. */
    st = (stream_stats){0};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "inventory_items", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_category(ld, &cats[2], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.updated, 0);
    CU_ASSERT_EQUAL(st.unchanged, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT origin_stream FROM dw.dim_category"
                                  " WHERE category_id = 'k1'"),
                           "categories");

    /* The next full read spans two checkpoints and no longer returns k4. */
    st = (stream_stats){0};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "categories", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_category(ld, &cats[0], &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_category(ld, &cats[1], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "categories", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_category(ld, &cats[2], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.deleted, 1);
    CU_ASSERT_EQUAL(st.unchanged, 3);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(category_id, ',') FROM dw.dim_category"
                                  " WHERE is_deleted"),
                           "k4");
}

static void test_failures_roll_back(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    char cursor[128];
    snprintf(cursor, sizeof cursor, "%s",
             sqlval("SELECT cursor::text FROM etl.sync_state WHERE stream = 'orders'"));
    load_commit c = {.cursor = "{\"from\": \"2030-01-01T00:00:00Z\"}"};

    /* A value outside the schema's sets (a mapper's defect, not a bad record)
     * fails the checkpoint rather than being rejected. */
    row_order bad_group = {.order_id = "9002", .status_group = "shipped"};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &bad_group, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_commit(ld, &c, &st, &err), FE_EPG);
    CU_ASSERT_EQUAL(strncmp(err.msg, "merge fact_order: ", 18), 0);

    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id LIKE '900%'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor::text FROM etl.sync_state"
                                  " WHERE stream = 'orders'"),
                           cursor);
    CU_ASSERT_EQUAL(st.inserted + st.updated + st.unchanged, 0);

    row_order no_id = {.order_id = ""};
    CU_ASSERT_EQUAL(loader_put_order(ld, &no_id, &err), FE_EINVAL); /* no checkpoint */
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &no_id, &err), FE_EINVAL);
    loader_rollback(ld);
}

static fe_rc put_async_order(const char *id, const char *status_group)
{
    fe_err err = {0};
    row_order o = {.order_id = id,
                   .ordered_at = "2026-02-01T10:00:00Z",
                   .status_group = status_group,
                   .total = "7"};
    return loader_put_order(ld, &o, &err);
}

static const char *async_cursor(void)
{
    return sqlval("SELECT cursor->>'at' FROM etl.sync_state WHERE stream = 'async'");
}

/* loader_commit_send: the commit runs while the next checkpoint fills; its outcome
 * arrives with the next call that needs the server. */
static void test_commit_in_flight(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    load_commit c1 = {.cursor = "{\"at\": \"1\"}"}, c2 = {.cursor = "{\"at\": \"2\"}"};
    load_commit c3 = {.cursor = "{\"at\": \"3\"}"}, c9 = {.cursor = "{\"at\": \"9\"}"};

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "async", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(put_async_order("a1", "open"), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(ld, &c1, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_staged_rows(ld), 0);
    CU_ASSERT_EQUAL(put_async_order("a2", "open"), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(ld, &c2, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_wait(ld, &err), FE_OK); /* a2 is committed, a3 not yet put */
    CU_ASSERT_STRING_EQUAL(async_cursor(), "2");
    CU_ASSERT_EQUAL(st.inserted, 2);
    CU_ASSERT_EQUAL(put_async_order("a3", "open"), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &c3, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 3);
    CU_ASSERT_STRING_EQUAL(async_cursor(), "3");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id ~ '^a[123]$'"),
                           "3");

    /* The merge of f1 fails on the server while f2 is put: the failure comes back
     * with the next commit, and neither f1, f2 nor their cursors are written. */
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "async", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(put_async_order("f1", "shipped"), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(ld, &c9, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(put_async_order("f2", "open"), FE_OK);
    CU_ASSERT_EQUAL(loader_commit(ld, &c9, &st, &err), FE_EPG);
    CU_ASSERT_EQUAL(strncmp(err.msg, "merge fact_order: ", 18), 0);
    loader_rollback(ld);
    CU_ASSERT_STRING_EQUAL(async_cursor(), "3");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id ~ '^f'"), "0");
    CU_ASSERT_EQUAL(st.inserted, 3);

    /* The loader is usable again after the rollback. */
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "async", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(put_async_order("a4", "open"), FE_OK);
    CU_ASSERT_EQUAL(loader_commit(ld, &c9, &st, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(async_cursor(), "9");
}

/* Stages n new customers (ids "PREFIX-i") into l's open checkpoint. */
static void put_customers(loader *l, const char *prefix, int n)
{
    fe_err err = {0};
    char id[48];
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        row_customer c = {.customer_id = id, .name = "ANALYZE probe"};
        if (loader_put_customer(l, &c, &err) != FE_OK) {
            CU_FAIL("put customer");
            return;
        }
    }
}

/* The statistics refresh (ANALYZE, sent after the COMMIT) fails behind another
 * session's lock: the checkpoint committed, so its commit succeeds with its
 * counts, and the checkpoint after a loader_commit_send is not refused. */
static void test_analyze_failure_after_commit(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    loader *l = loader_open(TEST_DSN, &err); /* fresh: ANALYZE after 2000 rows */
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_EQUAL(pg_set(loader_conn(l), "lock_timeout", "200ms", &err), FE_OK);
    /* Conflicts with ANALYZE, not with the merges' row locks. */
    CU_ASSERT_EQUAL_FATAL(pg_exec(db,
                                  "BEGIN; LOCK TABLE dw.dim_customer IN SHARE UPDATE EXCLUSIVE"
                                  " MODE",
                                  &err),
                          FE_OK);

    CU_ASSERT_EQUAL_FATAL(loader_begin(l, src, "analyze", run_id, &err), FE_OK);
    put_customers(l, "az1", 2100);
    fe_rc rc = loader_commit(l, NULL, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 2100);

    /* In flight: the outcome arrives with the next checkpoint's commit. */
    CU_ASSERT_EQUAL_FATAL(loader_begin(l, src, "analyze", run_id, &err), FE_OK);
    put_customers(l, "az2", 2100);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(l, NULL, &st, &err), FE_OK);
    put_customers(l, "az3", 1);
    rc = loader_commit(l, NULL, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit after the commit in flight: %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 4201);

    CU_ASSERT_EQUAL(pg_exec(db, "ROLLBACK", &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.dim_customer"
                                  " WHERE customer_id ~ '^az[123]-'"),
                           "4201");
    CU_ASSERT_EQUAL(
        pg_exec(db, "DELETE FROM dw.dim_customer WHERE customer_id ~ '^az[123]-'", &err), FE_OK);
    loader_free(l);
}

static void test_rejects_keep_invalid_utf8_readable(void)
{
    fe_err err = {0};
    row_reject r = {.record_id = "r1", .reason = "bad total", .raw = "{\"t\": \"x\xff\"}"};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_reject(ld, &r, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_staged_rows(ld), 0);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, NULL, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT raw || ' ' || raw_length FROM etl.reject"
                                  " WHERE record_id = 'r1'"),
                           "{\"t\": \"x\\xFF\"} 11");
}

/* More than 4 MiB in one checkpoint: the buffer is sent mid-checkpoint. */
static void test_large_checkpoint(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    char id[32];
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "orders", run_id, &err), FE_OK);
    for (int i = 0; i < 40000; i++) {
        snprintf(id, sizeof id, "bulk-%d", i);
        row_order o = {.order_id = id,
                       .store_id = "s1",
                       .ordered_at = "2026-01-10T10:00:00Z",
                       .status = "done with a longer status text to fill the buffer faster",
                       .status_group = "completed",
                       .currency = "RUB",
                       .total = "10.5"};
        if (loader_put_order(ld, &o, &err) != FE_OK) {
            CU_FAIL("put");
            break;
        }
    }
    CU_ASSERT_EQUAL(loader_staged_rows(ld), 40000);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 40000);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order"
                                  " WHERE order_id LIKE 'bulk-%'"),
                           "40000");
}

/* An order of the refusal tests: open, placed on 2026-01-05, total 10. */
static row_order plain_order(const char *id)
{
    return (row_order){.order_id = id,
                       .ordered_at = "2026-01-05T10:00:00Z",
                       .status_group = "open",
                       .total = "10"};
}

#define TOO_BIG "100000000000000000" /* 10^17: beyond numeric(20,4) */

/* Values PostgreSQL refuses cost their record, one reject each; the rest loads
 * and the cursor moves. An order whose line is refused goes whole. */
static void test_refused_values_are_rejects(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    row_order ok1 = plain_order("v-ok-1"), ok2 = plain_order("v-ok-2");
    row_order year0 = plain_order("v-year0"), huge = plain_order("v-huge");
    row_order bytes = plain_order("v-bytes"), with_line = plain_order("v-line");
    year0.ordered_at = "0000-01-01T00:00:00Z";
    huge.total = TOO_BIG;
    bytes.order_number = "N\xff";
    with_line.lines_complete = true;
    row_order_line lines[] = {
        {.order_id = "v-line", .line_id = "1", .product_id = "rose", .quantity = "1"},
        {.order_id = "v-line", .line_id = "2", .product_id = "rose", .quantity = TOO_BIG},
        {.order_id = "v-ok-2", .line_id = "1", .product_id = "rose", .quantity = "2"},
    };
    row_payment pay = {.payment_id = "v-line-p", .order_id = "v-line", .amount = "5"};

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "refused", run_id, &err), FE_OK);
    const row_order *orders[] = {&ok1, &year0, &huge, &bytes, &ok2, &with_line};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        CU_ASSERT_EQUAL(loader_put_order(ld, orders[i], &err), FE_OK);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        CU_ASSERT_EQUAL(loader_put_order_line(ld, &lines[i], &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_payment(ld, &pay, &err), FE_OK);
    load_commit c = {.cursor = "{\"at\": \"v1\"}"};
    fe_rc rc = loader_commit(ld, &c, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    CU_ASSERT_EQUAL(st.rejects, 4);
    CU_ASSERT_EQUAL(st.inserted, 3); /* v-ok-1, v-ok-2 and its line */

    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(order_id, ',' ORDER BY order_id)"
                                  " FROM dw.fact_order WHERE order_id LIKE 'v-%'"),
                           "v-ok-1,v-ok-2");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order_line"
                                  " WHERE order_id = 'v-line'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_payment"
                                  " WHERE order_id = 'v-line'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(record_id, ',' ORDER BY record_id)"
                                  " FROM etl.reject WHERE stream = 'refused'"),
                           "v-bytes,v-huge,v-line,v-year0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT reason FROM etl.reject WHERE record_id = 'v-year0'"),
                           "PostgreSQL refused order.ordered_at: date/time field value out of"
                           " range: \"0000-01-01T00:00:00Z\"");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT reason FROM etl.reject WHERE record_id = 'v-huge'"),
                           "PostgreSQL refused order.total: numeric field overflow (A field with"
                           " precision 20, scale 4 must round to an absolute value less than"
                           " 10^16.)");
    CU_ASSERT_STRING_EQUAL(
        sqlval("SELECT reason FROM etl.reject WHERE record_id = 'v-line'"),
        "PostgreSQL refused order_line.quantity: numeric field overflow (A field with precision"
        " 20, scale 4 must round to an absolute value less than 10^16.)");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT reason FROM etl.reject WHERE record_id = 'v-bytes'"),
                           "PostgreSQL refused order: invalid byte sequence for encoding"
                           " \"UTF8\": 0xff");
    /* raw: the refused row as COPY text (the line's, for the order), made valid UTF-8. */
    CU_ASSERT_STRING_EQUAL(
        sqlval(
            "SELECT raw = 'v-year0' || E'\\t\\\\N\\t\\\\N\\t\\\\N\\t\\\\N\\t0000-01-01T00:00:00Z'"
            " || E'\\t\\\\N\\t\\\\N\\topen\\t\\\\N\\t\\\\N\\t\\\\N\\t\\\\N\\t\\\\N\\t10\\t\\\\N'"
            " || E'\\t\\\\N\\t\\\\N\\tf\\tf\\tf\\tf' AND raw_length = length(raw)"
            " FROM etl.reject WHERE record_id = 'v-year0'"),
        "t");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT split_part(raw, E'\\t', 2) FROM etl.reject"
                                  " WHERE record_id = 'v-bytes'"),
                           "N\\xFF");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT split_part(raw, E'\\t', 5) FROM etl.reject"
                                  " WHERE record_id = 'v-line'"),
                           TOO_BIG);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'at' FROM etl.sync_state"
                                  " WHERE stream = 'refused'"),
                           "v1");
}

/* A poison line among 10,000 orders, its order sent by COPY long before (the
 * order buffer is flushed mid-checkpoint): one reject, the order and its rows
 * purged, everything else loaded, the cursor moves and the stream goes on. */
static void test_poison_among_ten_thousand(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    char id[32], status[640];
    memset(status, 's', sizeof status - 1);
    status[sizeof status - 1] = '\0';

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "poison", run_id, &err), FE_OK);
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "p-%d", i);
        row_order o = plain_order(id);
        o.status = status;
        row_order_line line = {.order_id = id,
                               .line_id = "1",
                               .quantity = i == 10 ? TOO_BIG : "1",
                               .line_total = "10"};
        row_payment pay = {.payment_id = id, .order_id = id, .amount = "10"};
        bool detail = i % 10 == 0; /* every tenth order has a line and a payment */
        if (loader_put_order(ld, &o, &err) != FE_OK ||
            (detail && loader_put_order_line(ld, &line, &err) != FE_OK) ||
            (detail && loader_put_payment(ld, &pay, &err) != FE_OK)) {
            CU_FAIL("put");
            break;
        }
    }
    load_commit c = {.cursor = "{\"at\": \"p1\"}"};
    fe_rc rc = loader_commit(ld, &c, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    CU_ASSERT_EQUAL(st.rejects, 1);
    CU_ASSERT_EQUAL(st.inserted, 9999 + 2 * 999);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id LIKE 'p-%'"),
                           "9999");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id = 'p-10'"
                                  " UNION ALL SELECT count(*) FROM dw.fact_payment"
                                  " WHERE order_id = 'p-10' ORDER BY 1 DESC LIMIT 1"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order_line"
                                  " WHERE order_id LIKE 'p-%'"),
                           "999");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT record_id || ' ' || starts_with(reason,"
                                  " 'PostgreSQL refused order_line.quantity: numeric field"
                                  " overflow') FROM etl.reject WHERE stream = 'poison'"),
                           "p-10 true");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'at' FROM etl.sync_state"
                                  " WHERE stream = 'poison'"),
                           "p1");

    /* The next checkpoint is not stuck on it. */
    row_order next = plain_order("p-next");
    load_commit c2 = {.cursor = "{\"at\": \"p2\"}"};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "poison", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &next, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &c2, &st, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'at' FROM etl.sync_state"
                                  " WHERE stream = 'poison'"),
                           "p2");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id = 'p-next'"),
                           "1");
}

/* A dimension row PostgreSQL refuses in a full read is a reject, not a member
 * the source deleted: the warehouse keeps it as it was. */
static void test_refused_dimension_row_in_full_read(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    load_commit full = {.full_read = 1u << STG_PRODUCT};
    row_product p[3] = {
        {.product_id = "rp-1", .product_type = "standard", .list_price = "1"},
        {.product_id = "rp-2", .product_type = "standard", .list_price = "2"},
        {.product_id = "rp-3", .product_type = "standard", .list_price = "3"},
    };
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "refprod", run_id, &err), FE_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(loader_put_product(ld, &p[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 3);

    st = (stream_stats){0};
    p[2].list_price = TOO_BIG;
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "refprod", run_id, &err), FE_OK);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(loader_put_product(ld, &p[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.rejects, 1);
    CU_ASSERT_EQUAL(st.deleted, 0);
    CU_ASSERT_EQUAL(st.unchanged, 2);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT is_deleted || ' ' || list_price FROM dw.dim_product"
                                  " WHERE product_id = 'rp-3'"),
                           "false 3.0000");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT record_id || ' ' || starts_with(reason,"
                                  " 'PostgreSQL refused product.list_price: numeric field"
                                  " overflow') FROM etl.reject WHERE stream = 'refprod'"),
                           "rp-3 true");
}

/* A refused component takes its parent's whole recipe out of the checkpoint:
 * the warehouse keeps the recipe it had, also through a full read. */
static void test_refused_component_keeps_recipe(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    load_commit full = {.full_read = 1u << STG_COMPONENT};
    row_component comps[2] = {
        {.parent_id = "kit-1", .component_id = "kc-a", .quantity = "1"},
        {.parent_id = "kit-1", .component_id = "kc-b", .quantity = "2"},
    };
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "recipes", run_id, &err), FE_OK);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(loader_put_component(ld, &comps[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 2);

    st = (stream_stats){0};
    comps[0].quantity = "3";
    comps[1].quantity = TOO_BIG;
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "recipes", run_id, &err), FE_OK);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(loader_put_component(ld, &comps[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, &full, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.rejects, 1);
    CU_ASSERT_EQUAL(st.updated + st.deleted, 0);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(cp.product_id || '=' || t.quantity || ' '"
                                  " || t.is_deleted, ',' ORDER BY cp.product_id)"
                                  " FROM dw.bridge_product_component t"
                                  " JOIN dw.dim_product pp ON pp.product_key = t.parent_product_key"
                                  " JOIN dw.dim_product cp"
                                  " ON cp.product_key = t.component_product_key"
                                  " WHERE pp.product_id = 'kit-1'"),
                           "kc-a=1.0000 false,kc-b=2.0000 false");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT record_id || ' ' || starts_with(reason,"
                                  " 'PostgreSQL refused component.quantity: ')"
                                  " FROM etl.reject WHERE stream = 'recipes'"),
                           "kit-1 true");
}

/* 2,000 orders, one placed in year 250000: COPY takes it (timestamptz goes to
 * 294276 AD), the merge does not (its date key overflows an integer). The row is
 * found by bisection and rejected with its order's line and payment. */
static void test_merge_refusal_bisected(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    char id[32];
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "mergepoison", run_id, &err), FE_OK);
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "m-%d", i);
        row_order o = plain_order(id);
        if (i == 777)
            o.ordered_at = "250000-01-01T00:00:00Z";
        row_order_line line = {.order_id = id, .line_id = "1", .quantity = "1"};
        row_payment pay = {.payment_id = id, .order_id = id, .amount = "10"};
        if (loader_put_order(ld, &o, &err) != FE_OK ||
            loader_put_order_line(ld, &line, &err) != FE_OK ||
            (i == 777 && loader_put_payment(ld, &pay, &err) != FE_OK)) {
            CU_FAIL("put");
            break;
        }
    }
    load_commit c = {.cursor = "{\"at\": \"m1\"}"};
    fe_rc rc = loader_commit(ld, &c, &st, &err);
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    CU_ASSERT_EQUAL(st.rejects, 1);
    CU_ASSERT_EQUAL(st.inserted, 2 * 1999);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id LIKE 'm-%'"),
                           "1999");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order_line"
                                  " WHERE order_id LIKE 'm-%'"),
                           "1999");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_payment WHERE order_id = 'm-777'"),
                           "0");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT record_id || ' ' || reason FROM etl.reject"
                                  " WHERE stream = 'mergepoison'"),
                           "m-777 PostgreSQL refused order in ensure dim_date: integer out of"
                           " range");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT split_part(raw, E'\\t', 6) FROM etl.reject"
                                  " WHERE stream = 'mergepoison'"),
                           "250000-01-01 00:00:00+00");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'at' FROM etl.sync_state"
                                  " WHERE stream = 'mergepoison'"),
                           "m1");
}

/* The same in a commit in flight: its outcome is read (and its merge retried)
 * by the next call that needs the server. */
static void test_merge_refusal_in_flight(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    load_commit c1 = {.cursor = "{\"at\": \"x1\"}"}, c2 = {.cursor = "{\"at\": \"x2\"}"};
    load_commit c3 = {.cursor = "{\"at\": \"x3\"}"};
    row_order a[4] = {plain_order("a-1"), plain_order("a-bad"), plain_order("a-2"),
                      plain_order("a-3")};
    row_order b1 = plain_order("b-1"), b2 = plain_order("b-bad"), b3 = plain_order("b-3");
    a[1].ordered_at = "250000-01-01T00:00:00Z";
    b2.ordered_at = "260000-06-01T00:00:00Z";

    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "asyncpoison", run_id, &err), FE_OK);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(loader_put_order(ld, &a[i], &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(ld, &c1, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &b1, &err), FE_OK);
    fe_rc rc = loader_commit_send(ld, &c2, &st, &err); /* reads c1's outcome first */
    if (rc != FE_OK)
        fprintf(stderr, "commit: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    CU_ASSERT_EQUAL(put_async_order("b-2", "open"), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &b2, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &b3, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit_send(ld, &c3, &st, &err), FE_OK);
    rc = loader_wait(ld, &err);
    if (rc != FE_OK)
        fprintf(stderr, "wait: %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, FE_OK);
    loader_rollback(ld); /* the checkpoint opened behind the last commit */
    CU_ASSERT_EQUAL(st.rejects, 2);
    CU_ASSERT_EQUAL(st.inserted, 6);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(order_id, ',' ORDER BY order_id)"
                                  " FROM dw.fact_order WHERE order_id ~ '^[ab]-'"),
                           "a-1,a-2,a-3,b-1,b-2,b-3");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(record_id, ',' ORDER BY record_id)"
                                  " FROM etl.reject WHERE stream = 'asyncpoison'"),
                           "a-bad,b-bad");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT cursor->>'at' FROM etl.sync_state"
                                  " WHERE stream = 'asyncpoison'"),
                           "x3");
}

/* Puts products fr-0 .. fr-(n-1) and commits them as a finished full read. */
static fe_rc full_read_products(int n, stream_stats *st, fe_err *err)
{
    char id[16];
    load_commit full = {.full_read = 1u << STG_PRODUCT};
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "fraction", run_id, err), FE_OK);
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "fr-%d", i);
        row_product p = {.product_id = id, .product_type = "standard"};
        CU_ASSERT_EQUAL(loader_put_product(ld, &p, err), FE_OK);
    }
    *st = (stream_stats){0};
    return loader_commit(ld, &full, st, err);
}

static const char *deleted_fr(void)
{
    return sqlval(
        "SELECT count(*) FROM dw.dim_product WHERE product_id LIKE 'fr-%' AND is_deleted");
}

/* max_delete_fraction: a full read may mark at most that share of the stream's
 * live rows deleted; above it nothing is marked and the message says how to
 * allow it. */
static void test_delete_fraction_guard(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    CU_ASSERT_EQUAL_FATAL(full_read_products(10, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.inserted, 10);

    CU_ASSERT_EQUAL(full_read_products(4, &st, &err), FE_EPG); /* 6 of 10 */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "full read product: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "would mark 6 of 10 live rows of dw.dim_product"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "max_delete_fraction = 0.5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "set max_delete_fraction = 1 in [source.main] for one"
                                           " run if this is intended"));
    CU_ASSERT_STRING_EQUAL(deleted_fr(), "0");

    CU_ASSERT_EQUAL(full_read_products(5, &st, &err), FE_OK); /* 5 of 10: at the limit */
    CU_ASSERT_EQUAL(st.deleted, 5);
    CU_ASSERT_STRING_EQUAL(deleted_fr(), "5");

    CU_ASSERT_EQUAL(full_read_products(0, &st, &err), FE_EPG); /* 5 of 5 */
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "would mark 5 of 5 live rows"));
    CU_ASSERT_STRING_EQUAL(deleted_fr(), "5");
    loader_set_max_delete_fraction(ld, 1);
    CU_ASSERT_EQUAL(full_read_products(0, &st, &err), FE_OK);
    CU_ASSERT_EQUAL(st.deleted, 5);
    CU_ASSERT_STRING_EQUAL(deleted_fr(), "10");
    loader_set_max_delete_fraction(ld, 0.5);
}

/* More refused rows than one checkpoint may reject: the checkpoint fails whole. */
static void test_refusal_cap(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    char id[32];
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "cap", run_id, &err), FE_OK);
    for (int i = 0; i < 101; i++) {
        snprintf(id, sizeof id, "cap-%d", i);
        row_order o = plain_order(id);
        o.total = TOO_BIG;
        CU_ASSERT_EQUAL(loader_put_order(ld, &o, &err), FE_OK);
    }
    row_order ok = plain_order("cap-ok");
    CU_ASSERT_EQUAL(loader_put_order(ld, &ok, &err), FE_OK);
    load_commit c = {.cursor = "{\"at\": \"cap\"}"};
    CU_ASSERT_EQUAL(loader_commit(ld, &c, &st, &err), FE_EREJECTS);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "more than 100 rows of one checkpoint refused"));
    CU_ASSERT_EQUAL(st.rejects, 0);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM dw.fact_order WHERE order_id LIKE 'cap-%'"
                                  " UNION ALL SELECT count(*) FROM etl.reject WHERE stream = 'cap'"
                                  " UNION ALL SELECT count(*) FROM etl.sync_state"
                                  " WHERE stream = 'cap' ORDER BY 1 DESC LIMIT 1"),
                           "0");
}

/* A reject made from row text is redacted like every other output. */
static void test_refused_row_is_redacted(void)
{
    fe_err err = {0};
    stream_stats st = {0};
    const char *secrets[1] = {"s3cr3t-t0ken-42"};
    log_init(LOG_ERROR, secrets, 1);
    row_order o = plain_order("sec-1");
    o.order_number = "paid with s3cr3t-t0ken-42";
    o.total = TOO_BIG;
    CU_ASSERT_EQUAL_FATAL(loader_begin(ld, src, "secret", run_id, &err), FE_OK);
    CU_ASSERT_EQUAL(loader_put_order(ld, &o, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(loader_commit(ld, NULL, &st, &err), FE_OK);
    log_term();
    CU_ASSERT_EQUAL(st.rejects, 1);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT split_part(raw, E'\\t', 2) FROM etl.reject"
                                  " WHERE stream = 'secret'"),
                           "paid with ***");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) FROM etl.reject"
                                  " WHERE raw LIKE '%s3cr3t%' OR reason LIKE '%s3cr3t%'"),
                           "0");
}

static void test_cursor_api_and_runlog(void)
{
    fe_err err = {0};
    char *cursor = NULL;
    int64_t rs = 0;
    CU_ASSERT_EQUAL(loader_get_cursor(ld, src, "orders", &cursor, &err), FE_OK);
    CU_ASSERT_PTR_NOT_NULL(cursor);
    CU_ASSERT_PTR_NOT_NULL(cursor ? strstr(cursor, "2026-01-01T09:00:00Z") : NULL);
    free(cursor);
    CU_ASSERT_EQUAL(loader_clear_cursor(ld, src, "orders", &err), FE_OK);
    CU_ASSERT_EQUAL(loader_get_cursor(ld, src, "orders", &cursor, &err), FE_OK);
    CU_ASSERT_PTR_NULL(cursor);

    stream_stats st = {.pages = 3, .records = 10, .inserted = 9, .http_429 = 1};
    CU_ASSERT_EQUAL(runlog_stream_start(db, run_id, src, "main2", "orders", &rs, &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_stream_finish(db, rs, "failed", &st, 1.25, "boom", &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_run_finish(db, run_id, "partial", "1 stream(s) failed", &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT concat_ws(' ', status, pages, inserted, http_429,"
                                  " seconds, error) FROM etl.run_stream"),
                           "failed 3 9 1 1.250 boom");
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT status FROM etl.run"), "partial");
}

/* Waits (up to 5 s) until no session holds run id's lock. */
static void wait_run_lock_gone(int64_t id)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %d"
             " AND objid = %" PRId64,
             RUNLOG_LOCK_CLASS, id);
    for (int i = 0; i < 50 && strcmp(sqlval(q), "0") != 0; i++) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void test_run_lifecycle(void)
{
    fe_err err = {0};
    int64_t dead_id = 0, rs = 0;
    int n = -1;
    char q[256], desc[512];

    /* A live run holds its lock: it is not abandoned. */
    snprintf(q, sizeof q,
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %d"
             " AND objid = %" PRId64 " AND granted",
             RUNLOG_LOCK_CLASS, run_id);
    CU_ASSERT_STRING_EQUAL(sqlval(q), "1");
    CU_ASSERT_EQUAL(pg_exec(db, "UPDATE etl.run SET status = 'running'", &err), FE_OK);

    /* A run whose session ended without finishing is abandoned, with its
     * running stream. */
    PGconn *dead = pg_connect(TEST_DSN, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dead);
    CU_ASSERT_EQUAL_FATAL(runlog_run_start(dead, "0.0.0", "flowetl run", &dead_id, &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_stream_start(dead, dead_id, src, "main", "orders", &rs, &err), FE_OK);
    PQfinish(dead);
    wait_run_lock_gone(dead_id);
    CU_ASSERT_EQUAL(runlog_mark_abandoned(db, run_id, &n, desc, sizeof desc, &err), FE_OK);
    CU_ASSERT_EQUAL(n, 1);
    snprintf(q, sizeof q, "run %" PRId64 " (pid ", dead_id);
    CU_ASSERT_PTR_NOT_NULL(strstr(desc, q));
    snprintf(q, sizeof q, "SELECT status FROM etl.run WHERE run_id = %" PRId64, dead_id);
    CU_ASSERT_STRING_EQUAL(sqlval(q), "abandoned");
    snprintf(q, sizeof q, "SELECT status FROM etl.run_stream WHERE run_id = %" PRId64, dead_id);
    CU_ASSERT_STRING_EQUAL(sqlval(q), "abandoned");
    snprintf(q, sizeof q, "SELECT status FROM etl.run WHERE run_id = %" PRId64, run_id);
    CU_ASSERT_STRING_EQUAL(sqlval(q), "running");

    /* A stream that never started: one row, no source_key, once. */
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(
            runlog_stream_record(db, run_id, 0, "nosrc", "orders", "failed", "login refused", &err),
            FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT count(*) || ' ' || count(source_key) || ' ' ||"
                                  " min(error) FROM etl.run_stream WHERE source_name = 'nosrc'"),
                           "1 0 login refused");

    /* Secrets never reach etl.* columns. */
    const char *secrets[1] = {"s3cret-value"};
    log_init(LOG_ERROR, secrets, 1);
    CU_ASSERT_EQUAL(runlog_stream_record(db, run_id, src, "main", "stores", "failed",
                                         "token s3cret-value refused", &err),
                    FE_OK);
    CU_ASSERT_EQUAL(runlog_run_finish(db, run_id, "failed", "first: s3cret-value", &err), FE_OK);
    log_init(LOG_ERROR, NULL, 0);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT error FROM etl.run_stream WHERE stream = 'stores'"),
                           "token *** refused");
    snprintf(q, sizeof q, "SELECT reason FROM etl.run WHERE run_id = %" PRId64, run_id);
    CU_ASSERT_STRING_EQUAL(sqlval(q), "first: ***");

    /* Text that is not UTF-8 (an API's error page in windows-1251) is stored with
     * '?' for its bytes: the server would refuse it (22021) and the row be lost. */
    const char *cp1251 = "HTTP 502: \xCE\xF8\xE8\xE1\xEA\xE0 \xF8\xEB\xFE\xE7\xE0";
    int64_t rs2 = 0;
    stream_stats none = {0};
    CU_ASSERT_EQUAL(
        runlog_stream_record(db, run_id, src, "main", "bouquets", "failed", cp1251, &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_stream_start(db, run_id, src, "main", "customers", &rs2, &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_stream_finish(db, rs2, "failed", &none, 0.5, cp1251, &err), FE_OK);
    CU_ASSERT_EQUAL(runlog_run_finish(db, run_id, "failed", cp1251, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT string_agg(DISTINCT error, '|') FROM etl.run_stream"
                                  " WHERE stream IN ('bouquets', 'customers')"),
                           "HTTP 502: ?????? ?????");
    CU_ASSERT_STRING_EQUAL(sqlval(q), "HTTP 502: ?????? ?????");
    CU_ASSERT_EQUAL(runlog_run_refused(db, "0.0.0", "flowetl run", cp1251, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT reason FROM etl.run ORDER BY run_id DESC LIMIT 1"),
                           "HTTP 502: ?????? ?????");

    /* A refused run: one failed row with its reason. */
    CU_ASSERT_EQUAL(runlog_run_refused(db, "0.0.0", "flowetl run", "schema out of date", &err),
                    FE_OK);
    CU_ASSERT_STRING_EQUAL(sqlval("SELECT status || ' ' || reason || ' ' || (finished_at IS NOT"
                                  " NULL) FROM etl.run ORDER BY run_id DESC LIMIT 1"),
                           "failed schema out of date true");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("loader_pg", suite_init, suite_clean);
    CU_add_test(s, "migrations apply once", test_migrate);
    CU_add_test(s, "register source, advisory lock", test_register_and_lock);
    CU_add_test(s, "time zone check on a lost connection", test_timezone_check_lost_connection);
    CU_add_test(s, "orders first load, inferred members", test_orders_first_load);
    CU_add_test(s, "re-load changes nothing", test_orders_reload_unchanged);
    CU_add_test(s, "one changed order is one update", test_orders_one_change);
    CU_add_test(s, "lines_complete marks missing lines", test_lines_complete);
    CU_add_test(s, "a line and a payment before their order", test_line_before_its_order);
    CU_add_test(s, "inferred member filled by its dimension", test_inferred_member_filled);
    CU_add_test(s, "category paths, full read over checkpoints", test_categories_and_full_read);
    CU_add_test(s, "failures roll back and name the step", test_failures_roll_back);
    CU_add_test(s, "commit in flight (loader_commit_send)", test_commit_in_flight);
    CU_add_test(s, "a failed ANALYZE after COMMIT", test_analyze_failure_after_commit);
    CU_add_test(s, "rejects with invalid UTF-8", test_rejects_keep_invalid_utf8_readable);
    CU_add_test(s, "checkpoint over 4 MiB", test_large_checkpoint);
    CU_add_test(s, "refused values are one reject per record", test_refused_values_are_rejects);
    CU_add_test(s, "a poison line among 10,000 orders", test_poison_among_ten_thousand);
    CU_add_test(s, "a refused dimension row survives a full read",
                test_refused_dimension_row_in_full_read);
    CU_add_test(s, "a refused component keeps its parent's recipe",
                test_refused_component_keeps_recipe);
    CU_add_test(s, "merge refusal found by bisection", test_merge_refusal_bisected);
    CU_add_test(s, "merge refusal in a commit in flight", test_merge_refusal_in_flight);
    CU_add_test(s, "max_delete_fraction guards full reads", test_delete_fraction_guard);
    CU_add_test(s, "more refusals than the cap fail the checkpoint", test_refusal_cap);
    CU_add_test(s, "rejects from row text are redacted", test_refused_row_is_redacted);
    CU_add_test(s, "cursor API and run log", test_cursor_api_and_runlog);
    CU_add_test(s, "run lock, abandoned runs, stream rows, redaction, invalid UTF-8",
                test_run_lifecycle);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    /* A suite whose init failed counts no test failures: report it as one. */
    int failures = (int)CU_get_number_of_failures() + (int)CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failures != 0;
}
