/* stage_row: the COPY text of one staged row, one function per staging table
 * (stage_row_<table> for row_<table>), generated from the row's column table
 * (transform/rows.h), so the fields come in the staging table's column order
 * (load/loader_sql.h derives the COPY column list from the same table). The
 * loader stages rows with them, and the fuzzing oracle (tests/fuzz) checks
 * exactly this text against PostgreSQL's rules, so what is checked is what the
 * server would be sent.
 * Conventions (the column kinds of rows.h): a foreign id (REF) that is NULL or ""
 * is sent as NULL (not provided); a store kind (KIND, REF_KIND) that is NULL or ""
 * is "store", and NULL when the row names no store_id; a SLOT that is NULL is "".
 * Each function appends the row's fields (no line end: see copy_end_row) and
 * returns false when the buffer refused them (its cap); the caller cuts the
 * half-written row back out. Natural ids are not checked here (the loader does). */
#ifndef FE_STAGE_ROW_H
#define FE_STAGE_ROW_H

#include <stdbool.h>
#include "core/buf.h"
#include "transform/rows.h"

#define STAGE_ROW_DECL(table, TABLE)                                                               \
    bool stage_row_##table(buf *b, const row_##table *r) FE_MUST_CHECK;
ROW_TABLES(STAGE_ROW_DECL)
#undef STAGE_ROW_DECL

/* NULL for a foreign id that was not provided ("" means the same). */
const char *stage_opt_id(const char *id);

#endif
