/* migrate: the migrations runner behind `flowetl init`. */
#include "load/migrate.h"

#include <stdio.h>
#include <string.h>

#include "load/pg.h"
#include "load/sql_embed.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define LOCK_SQL "SELECT pg_advisory_xact_lock(" STR(MIGRATE_LOCK_CLASS) ", 0)"

/* The bookkeeping table must exist before any file can be recorded, and on a
 * fresh database no file has created its schema yet. 001_schema.sql repeats the
 * definition (IF NOT EXISTS) so it also works when applied by hand. */
static const char bootstrap_sql[] = "BEGIN;" LOCK_SQL ";"
                                    "CREATE SCHEMA IF NOT EXISTS etl;"
                                    "CREATE TABLE IF NOT EXISTS etl.schema_migration ("
                                    " name text PRIMARY KEY,"
                                    " applied_at timestamptz NOT NULL DEFAULT now(),"
                                    " checksum text NOT NULL);"
                                    "COMMIT";

/* 0 rows: not applied; 1 row: t when the recorded checksum matches the text. */
static const char applied_sql[] =
    "SELECT checksum = md5($2) FROM etl.schema_migration WHERE name = $1";

static const char record_sql[] =
    "INSERT INTO etl.schema_migration (name, applied_at, checksum) VALUES ($1, now(), md5($2))";

static const char *const changed_fmt =
    "migration %s was changed after it was applied (checksum differs): applied migrations "
    "must not be edited; put the change in a new sql/NNN_name.sql file";

/* Ends an aborted or open transaction so the connection is usable again. */
static void rollback_quietly(PGconn *conn)
{
    PGresult *res = PQexec(conn, "ROLLBACK");
    PQclear(res);
}

/* Applies one file in its own transaction unless it is recorded already.
 * *done: whether it was applied now. */
static fe_rc apply_one(PGconn *conn, const struct sql_file *f, int *done, fe_err *err)
{
    const char *params[2] = {f->name, f->text};
    PGresult *res = NULL;
    fe_rc rc;

    *done = 0;
    if ((rc = pg_exec(conn, "BEGIN;" LOCK_SQL, err)) != FE_OK)
        goto fail;
    res = pg_query(conn, applied_sql, 2, params, err);
    if (!res) {
        rc = FE_EPG;
        goto fail;
    }
    if (PQntuples(res) == 1) {
        bool same = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        res = NULL;
        rollback_quietly(conn);
        return same ? FE_OK : fe_err_set(err, FE_ECONFIG, changed_fmt, f->name);
    }
    PQclear(res);
    res = NULL;
    if ((rc = pg_exec(conn, f->text, err)) != FE_OK)
        goto fail;
    res = pg_query(conn, record_sql, 2, params, err);
    if (!res) {
        rc = FE_EPG;
        goto fail;
    }
    PQclear(res);
    res = NULL;
    if ((rc = pg_exec(conn, "COMMIT", err)) != FE_OK)
        goto fail;
    *done = 1;
    return FE_OK;
fail:
    PQclear(res);
    rollback_quietly(conn);
    fe_err_wrap(err, "migration %s", f->name);
    return rc;
}

bool migrate_layout_parse(const char *text, migrate_layout *out)
{
    static const char *const names[] = {"auto", "single", "citus"};
    for (int i = 0; text && i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (migrate_layout)i;
            return true;
        }
    return false;
}

const char *migrate_layout_name(migrate_layout layout)
{
    return layout == LAYOUT_CITUS ? "citus" : "single";
}

/* The answer of a query whose one row holds one boolean, in *yes. */
static fe_rc query_bool(PGconn *conn, const char *sql, bool *yes, fe_err *err)
{
    PGresult *res = pg_query(conn, sql, 0, NULL, err);
    if (!res)
        return err->code;
    *yes = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return FE_OK;
}

fe_rc migrate_current_layout(PGconn *conn, migrate_layout *layout, fe_err *err)
{
    bool citus = false;
    *layout = LAYOUT_SINGLE;
    FE_TRY(query_bool(conn, "SELECT to_regclass('etl.schema_migration') IS NOT NULL", &citus, err));
    if (citus)
        FE_TRY(query_bool(conn,
                          "SELECT EXISTS (SELECT 1 FROM etl.schema_migration"
                          " WHERE name LIKE 'citus/%')",
                          &citus, err));
    if (citus)
        *layout = LAYOUT_CITUS;
    return FE_OK;
}

fe_rc migrate_check_layout(PGconn *conn, migrate_layout want, fe_err *err)
{
    migrate_layout now;
    if (want != LAYOUT_CITUS)
        return FE_OK;
    if (migrate_current_layout(conn, &now, err) != FE_OK)
        return fe_err_wrap(err, "checking the warehouse layout");
    if (now != LAYOUT_CITUS)
        return fe_err_set(err, FE_ECONFIG,
                          "[warehouse] layout = citus, but the warehouse is not distributed: run "
                          "`flowetl init` (it says why it cannot distribute it)");
    return FE_OK;
}

/* The layout init makes: want, checked against what the database has. */
static fe_rc decide_layout(PGconn *conn, migrate_layout want, migrate_layout *out, fe_err *err)
{
    bool installed = false, coordinator = false, in_metadata = false;
    migrate_layout now;
    FE_TRY(migrate_current_layout(conn, &now, err));
    FE_TRY(query_bool(conn, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
                      &installed, err));
    if (want == LAYOUT_SINGLE && now == LAYOUT_CITUS)
        return fe_err_set(err, FE_ECONFIG,
                          "[warehouse] layout = single, but this warehouse has the Citus layout "
                          "already (its tables are distributed); a layout is not undone: set "
                          "layout = citus or auto");
    if (want == LAYOUT_CITUS && !installed)
        return fe_err_set(err, FE_ECONFIG,
                          "[warehouse] layout = citus, but the citus extension is not installed "
                          "in this database: with shared_preload_libraries = 'citus' on the "
                          "coordinator and every worker, run CREATE EXTENSION citus on each and "
                          "add the workers (citus_add_node) first");
    *out = want == LAYOUT_AUTO ? (installed || now == LAYOUT_CITUS ? LAYOUT_CITUS : LAYOUT_SINGLE)
                               : want;
    if (*out != LAYOUT_CITUS)
        return FE_OK;
    FE_TRY(query_bool(conn, "SELECT citus_is_coordinator()", &coordinator, err));
    if (!coordinator)
        return fe_err_set(err, FE_ECONFIG,
                          "this database is a Citus worker, not the coordinator: point "
                          "[warehouse] dsn at the coordinator");
    /* Without it Citus runs a write to a reference table on a worker, where the
     * smallint identity of dw.dim_source cannot draw a key: registering a new
     * source would fail at its first run. */
    FE_TRY(query_bool(conn, "SELECT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid = 0)",
                      &in_metadata, err));
    if (!in_metadata)
        return fe_err_set(err, FE_ECONFIG,
                          "the Citus coordinator is not in its own metadata: run SELECT "
                          "citus_set_coordinator_host('HOST', PORT) on it first, with the host "
                          "and port the workers reach it at (flowetl registers sources in the "
                          "reference table dw.dim_source from the coordinator)");
    return FE_OK;
}

/* Applies the missing files of files[0..count); adds how many to *applied. */
static fe_rc apply_files(PGconn *conn, const struct sql_file *files, int count, int *applied,
                         fe_err *err)
{
    for (int i = 0; i < count; i++) {
        int done = 0;
        FE_TRY(apply_one(conn, &files[i], &done, err));
        *applied += done;
    }
    return FE_OK;
}

fe_rc migrate_apply(PGconn *conn, migrate_layout want, int *applied, migrate_layout *layout,
                    fe_err *err)
{
    fe_rc rc;
    migrate_layout target = LAYOUT_SINGLE;

    *applied = 0;
    if ((rc = pg_exec(conn, bootstrap_sql, err)) != FE_OK) {
        rollback_quietly(conn);
        fe_err_wrap(err, "creating etl.schema_migration");
        return rc;
    }
    if ((rc = decide_layout(conn, want, &target, err)) != FE_OK)
        return fe_err_wrap(err, "choosing the warehouse layout");
    FE_TRY(apply_files(conn, sql_files, sql_files_count, applied, err));
    if (target == LAYOUT_CITUS)
        FE_TRY(apply_files(conn, sql_citus_files, sql_citus_files_count, applied, err));
    if (layout)
        *layout = target;
    return FE_OK;
}

/* Every file of files[0..count) is applied with the same text. */
static fe_rc check_files(PGconn *conn, const struct sql_file *files, int count, fe_err *err)
{
    static const char *const stale =
        "warehouse schema is missing or out of date: run `flowetl init`";
    for (int i = 0; i < count; i++) {
        const char *params[2] = {files[i].name, files[i].text};
        PGresult *res = pg_query(conn, applied_sql, 2, params, err);
        if (!res)
            return fe_err_wrap(err, "checking the warehouse schema");
        int rows = PQntuples(res);
        bool same = rows == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (rows == 0)
            return fe_err_set(err, FE_ECONFIG, "%s (%s is not applied)", stale, files[i].name);
        if (!same)
            return fe_err_set(err, FE_ECONFIG, changed_fmt, files[i].name);
    }
    return FE_OK;
}

fe_rc migrate_check(PGconn *conn, fe_err *err)
{
    static const char *const stale =
        "warehouse schema is missing or out of date: run `flowetl init`";
    PGresult *res =
        pg_query(conn, "SELECT to_regclass('etl.schema_migration') IS NOT NULL", 0, NULL, err);
    if (!res)
        return fe_err_wrap(err, "checking the warehouse schema");
    bool exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists)
        return fe_err_set(err, FE_ECONFIG, "%s", stale);

    FE_TRY(check_files(conn, sql_files, sql_files_count, err));
    migrate_layout layout;
    if (migrate_current_layout(conn, &layout, err) != FE_OK)
        return fe_err_wrap(err, "checking the warehouse schema");
    return layout == LAYOUT_CITUS ? check_files(conn, sql_citus_files, sql_citus_files_count, err)
                                  : FE_OK;
}
