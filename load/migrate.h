/* migrate: applies the SQL files of sql/ (embedded in the binary at build time)
 * in name order, each once, each in its own transaction, recording them in
 * etl.schema_migration (name, applied_at, md5 checksum of the text). Idempotent:
 * `flowetl init` run twice changes nothing. Concurrent inits serialise on a
 * transaction-level advisory lock (MIGRATE_LOCK_CLASS, 0). */
#ifndef FE_MIGRATE_H
#define FE_MIGRATE_H

#include <libpq-fe.h>
#include "core/err.h"

/* Advisory lock class ("FEMG") of `flowetl init`; the per-source locks
 * (source_id.h) and the per-run locks (runlog.h) use other classes, so none collide. */
#define MIGRATE_LOCK_CLASS 1178946887

/* applied: how many migrations this call applied (0 when up to date). A file
 * whose applied checksum differs from the embedded text is an error (FE_ECONFIG):
 * applied migrations are never edited, a change is a new file. On error, the files
 * applied before the failing one stay applied. Must be called outside a
 * transaction block. */
fe_rc migrate_apply(PGconn *conn, int *applied, fe_err *err) FE_MUST_CHECK;

/* FE_OK when every embedded migration is applied with the same text; FE_ECONFIG
 * "warehouse schema is missing or out of date: run `flowetl init`" otherwise;
 * FE_EPG when the check itself fails. */
fe_rc migrate_check(PGconn *conn, fe_err *err) FE_MUST_CHECK;

#endif
