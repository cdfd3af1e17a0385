/* migrate: applies the SQL files of sql/ (embedded in the binary at build time)
 * in name order, each once, each in its own transaction, recording them in
 * etl.schema_migration. Idempotent: `flowetl init` run twice changes nothing. */
#ifndef FE_MIGRATE_H
#define FE_MIGRATE_H

#include <libpq-fe.h>
#include "../core/err.h"

/* applied: how many migrations this call applied (0 when up to date). */
fe_rc migrate_apply(PGconn *conn, int *applied, fe_err *err) FE_MUST_CHECK;

/* FE_OK when every embedded migration is applied; FE_ECONFIG (with a message
 * telling the user to run `flowetl init`) otherwise. */
fe_rc migrate_check(PGconn *conn, fe_err *err) FE_MUST_CHECK;

#endif
