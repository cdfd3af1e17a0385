/* migrate: applies the SQL files of sql/ (embedded in the binary at build time)
 * in name order, each once, each in its own transaction, recording them in
 * etl.schema_migration (name, applied_at, md5 checksum of the text). Idempotent:
 * `flowetl init` run twice changes nothing. Concurrent inits serialise on a
 * transaction-level advisory lock (MIGRATE_LOCK_CLASS, 0). */
#ifndef FE_MIGRATE_H
#define FE_MIGRATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include "core/err.h"

/* Advisory lock class ("FEMG") of `flowetl init`; the per-source locks
 * (source_id.h) and the per-run locks (runlog.h) use other classes, so none collide. */
#define MIGRATE_LOCK_CLASS 1178946887

/* The warehouse's layout. Single: plain PostgreSQL tables (sql/NNN_*.sql). Citus:
 * the same schema, then the files of sql/citus, which distribute the per-source tables
 * by source_key (docs/warehouse-layouts.md). */
typedef enum { LAYOUT_AUTO, LAYOUT_SINGLE, LAYOUT_CITUS } migrate_layout;

/* [warehouse] layout's text ("auto", "single", "citus") as a migrate_layout; false
 * for anything else. */
bool migrate_layout_parse(const char *text, migrate_layout *out);

/* "single" or "citus". */
const char *migrate_layout_name(migrate_layout layout);

/* Applies the missing migrations, then, when the layout is Citus, the missing
 * files of sql/citus/. want AUTO: Citus when the citus extension is installed in
 * the database (or the warehouse has the Citus layout already), else single.
 * want CITUS without the extension, or on a Citus node that is not the
 * coordinator, and want SINGLE on a warehouse distributed already, are refused
 * (FE_ECONFIG, nothing applied). *layout (may be NULL): the layout the warehouse
 * has after the call. applied: how many files this call applied (0 when up to
 * date). A file whose applied checksum differs from the embedded text is an error
 * (FE_ECONFIG): applied migrations are never edited, a change is a new file. On
 * error, the files applied before the failing one stay applied. Must be called
 * outside a transaction block. */
fe_rc migrate_apply(PGconn *conn, migrate_layout want, int *applied, migrate_layout *layout,
                    fe_err *err) FE_MUST_CHECK;

/* FE_OK when every embedded migration is applied with the same text, and so is
 * every sql/citus file when any is (a Citus warehouse); FE_ECONFIG "warehouse
 * schema is missing or out of date: run `flowetl init`" otherwise; FE_EPG when the
 * check itself fails. */
fe_rc migrate_check(PGconn *conn, fe_err *err) FE_MUST_CHECK;

/* FE_ECONFIG when want is CITUS and the warehouse has the single-node layout (an
 * init that could not distribute it rolled back): "... run `flowetl init`". FE_OK
 * otherwise: AUTO and SINGLE take the layout there is (a Citus coordinator may
 * hold a single-node warehouse). FE_EPG when the check itself fails. */
fe_rc migrate_check_layout(PGconn *conn, migrate_layout want, fe_err *err) FE_MUST_CHECK;

/* The layout the warehouse has now: *layout CITUS when sql/citus files are
 * recorded as applied, else SINGLE. */
fe_rc migrate_current_layout(PGconn *conn, migrate_layout *layout, fe_err *err) FE_MUST_CHECK;

#endif
