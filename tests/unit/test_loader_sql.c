/* loader_sql and stage_row: every staging table described once (the column tables
 * of transform/rows.h), and every loader statement compiled in from sql/merge. */
#include <CUnit/Basic.h>
#include <string.h>

#include "load/loader_sql.h"
#include "load/sql_embed.h"
#include "load/stage_row.h"

static int count_char(const char *s, size_t n, char c)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == c;
    return k;
}

static void test_every_statement_is_compiled_in(void)
{
    fe_err err = {0};
    CU_ASSERT_EQUAL(loader_sql_check(&err), FE_OK);
    CU_ASSERT_PTR_NULL(loader_sql_text("no_such_statement.sql"));
}

static bool file_used(const char *name)
{
    for (int t = 0; t < STG__COUNT; t++)
        if ((stage_sqls[t].full_read && strcmp(stage_sqls[t].full_read, name) == 0) ||
            (stage_sqls[t].claim && strcmp(stage_sqls[t].claim, name) == 0))
            return true;
    for (int i = 0; i < MERGE_STEPS; i++)
        if (strcmp(merge_steps[i].file, name) == 0)
            return true;
    for (int i = 0; i < PURGE_STEPS; i++)
        if (strcmp(purge_files[i], name) == 0)
            return true;
    return strcmp(cursor_upsert_file, name) == 0 || strcmp(rejects_insert_file, name) == 0;
}

/* A file of sql/merge that no table names would be dead SQL. */
static void test_every_merge_file_is_used(void)
{
    CU_ASSERT(sql_merge_files_count >= MERGE_STEPS);
    for (int i = 0; i < sql_merge_files_count; i++) {
        if (!file_used(sql_merge_files[i].name))
            CU_FAIL(sql_merge_files[i].name);
    }
}

/* The embedding drops the comment lines and joins the statement on one line. */
static void test_merge_statements_are_one_line(void)
{
    for (int i = 0; i < sql_merge_files_count; i++) {
        const char *text = sql_merge_files[i].text;
        CU_ASSERT(strlen(text) > 20);
        CU_ASSERT_PTR_NULL(strchr(text, '\n'));
        CU_ASSERT_PTR_NULL(strstr(text, "--"));
        CU_ASSERT_PTR_NULL(strchr(text, ';'));
        CU_ASSERT(text[strlen(text) - 1] != ' ');
    }
}

/* Migrations and merge statements stay apart: `flowetl init` applies only
 * sql/NNN_name.sql. */
static void test_migrations_are_only_numbered_files(void)
{
    CU_ASSERT(sql_files_count >= 4);
    for (int i = 0; i < sql_files_count; i++) {
        const char *n = sql_files[i].name;
        CU_ASSERT(n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' && n[2] >= '0' &&
                  n[2] <= '9' && n[3] == '_');
        CU_ASSERT(loader_sql_text(n) == NULL);
    }
}

static void test_copy_target_and_ddl_follow_the_column_table(void)
{
    char target[512];
    CU_ASSERT_FATAL(stage_copy_target(STG_ORDER, target, sizeof target));
    CU_ASSERT_STRING_EQUAL(
        target, "stg_order (order_id, order_number, store_kind, store_id, customer_id, ordered_at,"
                " order_date, status, status_group, currency, subtotal, discount_total, tax_total,"
                " shipping_total, total, paid_total, line_count, source_updated_at, is_deleted,"
                " lines_complete, payments_complete, tombstone)");
    CU_ASSERT(stage_copy_target(STG_REJECT, target, sizeof target));
    CU_ASSERT_STRING_EQUAL(target, "stg_reject (record_id, reason, raw, raw_length)");
    CU_ASSERT_FALSE(stage_copy_target(STG_STORE, target, 12));
    CU_ASSERT_PTR_NOT_NULL(strstr(stage_ddl_sql,
                                  "CREATE TEMP TABLE stg_component (seq bigint GENERATED ALWAYS AS"
                                  " IDENTITY, parent_id text NOT NULL, component_id text NOT NULL,"
                                  " slot text NOT NULL, quantity numeric(20,4), special_price"
                                  " numeric(20,4)) ON COMMIT DELETE ROWS;"));
}

/* Each encoder writes as many fields as its table has COPY columns. */
#define CHECK_WIDTH(table, TABLE)                                                                  \
    {                                                                                              \
        row_##table r;                                                                             \
        memset(&r, 0, sizeof r);                                                                   \
        buf b;                                                                                     \
        buf_init(&b, 0);                                                                           \
        CU_ASSERT_FATAL(stage_row_##table(&b, &r));                                                \
        const char *cols = stage_sqls[STG_##TABLE].columns;                                        \
        CU_ASSERT_EQUAL(count_char(b.data, b.len, '\t'), count_char(cols, strlen(cols), ','));     \
        buf_term(&b);                                                                              \
    }

static void test_encoders_match_the_column_lists(void)
{
    ROW_TABLES(CHECK_WIDTH)
}

/* The conventions of the column kinds: REF "" is NULL, a store kind defaults to
 * "store" only when a store is named, a NULL slot is "". */
static void test_kind_conventions(void)
{
    buf b;
    buf_init(&b, 0);
    row_order o = {.order_id = "7", .store_id = "s1", .customer_id = ""};
    CU_ASSERT_FATAL(stage_row_order(&b, &o));
    CU_ASSERT_EQUAL(strncmp(b.data, "7\t\\N\tstore\ts1\t\\N\t", 17), 0);
    buf_reset(&b);
    row_inventory inv = {.snapshot_date = "2024-01-02", .store_kind = "shop"};
    CU_ASSERT_FATAL(stage_row_inventory(&b, &inv));
    CU_ASSERT_EQUAL(strncmp(b.data, "2024-01-02\t\\N\t\\N\t\\N\t", 20), 0);
    buf_reset(&b);
    row_component c = {.parent_id = "p", .component_id = "c"};
    CU_ASSERT_FATAL(stage_row_component(&b, &c));
    CU_ASSERT_STRING_EQUAL(b.data, "p\tc\t\t\\N\t\\N");
    buf_term(&b);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("loader_sql", NULL, NULL);
    CU_add_test(s, "every statement is compiled in", test_every_statement_is_compiled_in);
    CU_add_test(s, "every sql/merge file is used", test_every_merge_file_is_used);
    CU_add_test(s, "merge statements are sent on one line", test_merge_statements_are_one_line);
    CU_add_test(s, "migrations are only sql/NNN_*.sql", test_migrations_are_only_numbered_files);
    CU_add_test(s, "COPY target and DDL follow the column table",
                test_copy_target_and_ddl_follow_the_column_table);
    CU_add_test(s, "encoders match the column lists", test_encoders_match_the_column_lists);
    CU_add_test(s, "column kind conventions", test_kind_conventions);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    int failures = (int)CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
