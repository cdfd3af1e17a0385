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

fe_rc migrate_apply(PGconn *conn, int *applied, fe_err *err)
{
    fe_rc rc;

    *applied = 0;
    if ((rc = pg_exec(conn, bootstrap_sql, err)) != FE_OK) {
        rollback_quietly(conn);
        fe_err_wrap(err, "creating etl.schema_migration");
        return rc;
    }
    for (int i = 0; i < sql_files_count; i++) {
        int done = 0;
        if ((rc = apply_one(conn, &sql_files[i], &done, err)) != FE_OK)
            return rc;
        *applied += done;
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

    for (int i = 0; i < sql_files_count; i++) {
        const char *params[2] = {sql_files[i].name, sql_files[i].text};
        res = pg_query(conn, applied_sql, 2, params, err);
        if (!res)
            return fe_err_wrap(err, "checking the warehouse schema");
        int rows = PQntuples(res);
        bool same = rows == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (rows == 0)
            return fe_err_set(err, FE_ECONFIG, "%s (%s is not applied)", stale, sql_files[i].name);
        if (!same)
            return fe_err_set(err, FE_ECONFIG, changed_fmt, sql_files[i].name);
    }
    return FE_OK;
}
