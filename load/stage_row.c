/* stage_row: the COPY text of each staging table's rows, generated from the
 * column tables of transform/rows.h. See stage_row.h. */
#include "load/stage_row.h"

#include "load/copy.h"

const char *stage_opt_id(const char *id)
{
    return id && *id ? id : NULL;
}

/* The kind of a referenced store: "store" when the row names none. */
static const char *store_kind(const char *kind, const char *store_id)
{
    if (!stage_opt_id(store_id))
        return NULL;
    return kind && *kind ? kind : "store";
}

/* The text staged for field f of row r, by the field's kind (transform/rows.h). */
#define STAGE_TEXT_ID(r, f) (r)->f
#define STAGE_TEXT_DAY_ID(r, f) (r)->f
#define STAGE_TEXT_KIND(r, f) store_kind((r)->f, (r)->store_id)
#define STAGE_TEXT_REF_KIND(r, f) store_kind((r)->f, (r)->store_id)
#define STAGE_TEXT_REF(r, f) stage_opt_id((r)->f)
#define STAGE_TEXT_SLOT(r, f) ((r)->f ? (r)->f : "")
#define STAGE_TEXT_TEXT(r, f) (r)->f
#define STAGE_TEXT_AMOUNT(r, f) (r)->f
#define STAGE_TEXT_CURRENCY(r, f) (r)->f
#define STAGE_TEXT_TIME(r, f) (r)->f
#define STAGE_TEXT_DATE(r, f) (r)->f
#define STAGE_TEXT_INT(r, f) (r)->f

/* Appends field f (a bool as "t"/"f", anything else as text), tab-separated
 * from the previous one; stops at the first append the buffer refused. */
#define STAGE_APPEND_TEXT(kind, f) copy_field(b, STAGE_TEXT_##kind(r, f), first)
#define STAGE_APPEND_BOOL(kind, f) copy_field_bool(b, r->f, first)
#define STAGE_APPEND_ID STAGE_APPEND_TEXT
#define STAGE_APPEND_DAY_ID STAGE_APPEND_TEXT
#define STAGE_APPEND_KIND STAGE_APPEND_TEXT
#define STAGE_APPEND_REF_KIND STAGE_APPEND_TEXT
#define STAGE_APPEND_REF STAGE_APPEND_TEXT
#define STAGE_APPEND_SLOT STAGE_APPEND_TEXT
#define STAGE_APPEND_AMOUNT STAGE_APPEND_TEXT
#define STAGE_APPEND_CURRENCY STAGE_APPEND_TEXT
#define STAGE_APPEND_TIME STAGE_APPEND_TEXT
#define STAGE_APPEND_DATE STAGE_APPEND_TEXT
#define STAGE_APPEND_INT STAGE_APPEND_TEXT
#define STAGE_FIELD(kind, f)                                                                       \
    ok = ok && STAGE_APPEND_##kind(kind, f);                                                       \
    first = false;

#define STAGE_ROW_FN(table, TABLE)                                                                 \
    bool stage_row_##table(buf *b, const row_##table *r)                                           \
    {                                                                                              \
        bool ok = true, first = true;                                                              \
        ROW_##TABLE##_COLUMNS(STAGE_FIELD) return ok;                                              \
    }

ROW_TABLES(STAGE_ROW_FN)
