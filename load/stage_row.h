/* stage_row: the COPY text of one staged row, one function per staging table, in
 * the column order of its staging table (load/loader_sql.h, stage_sqls[].
 * copy_target). The loader stages rows with them, and the fuzzing oracle
 * (tests/fuzz) checks exactly this text against PostgreSQL's rules, so what is
 * checked is what the server would be sent.
 * Conventions: a foreign id that is NULL or "" is sent as NULL (not provided); a
 * referenced store without a kind is of kind "store"; a component without a slot
 * has slot "". Each function appends the row's fields (no line end: see
 * copy_end_row) and returns false when the buffer refused them (its cap); the
 * caller cuts the half-written row back out. Natural ids are not checked here
 * (the loader does). */
#ifndef FE_STAGE_ROW_H
#define FE_STAGE_ROW_H

#include <stdbool.h>
#include "core/buf.h"
#include "transform/rows.h"

bool stage_row_store(buf *b, const row_store *r) FE_MUST_CHECK;
bool stage_row_customer(buf *b, const row_customer *r) FE_MUST_CHECK;
bool stage_row_category(buf *b, const row_category *r) FE_MUST_CHECK;
bool stage_row_product(buf *b, const row_product *r) FE_MUST_CHECK;
bool stage_row_component(buf *b, const row_component *r) FE_MUST_CHECK;
bool stage_row_order(buf *b, const row_order *r) FE_MUST_CHECK;
bool stage_row_order_line(buf *b, const row_order_line *r) FE_MUST_CHECK;
bool stage_row_payment(buf *b, const row_payment *r) FE_MUST_CHECK;
bool stage_row_inventory(buf *b, const row_inventory *r) FE_MUST_CHECK;

/* NULL for a foreign id that was not provided ("" means the same). */
const char *stage_opt_id(const char *id);

#endif
