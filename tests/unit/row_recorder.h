/* row_recorder: a row_sink for mapping unit tests, and the fixture and row
 * checks those tests share. Every row is recorded as
 * one text line "kind|field|field|..." (NULL fields spelled NULL, booleans t/f),
 * in the order the mapping handed them over, so a test compares exact rows
 * without a database. An order row with tombstone set is "tombstone|order_id"
 * (the loader reads nothing else of it). */
#ifndef FE_ROW_RECORDER_H
#define FE_ROW_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "transform/rows.h"

#define RECORDER_MAX_ROWS 64

typedef struct {
    char *rows[RECORDER_MAX_ROWS]; /* owned: freed by recorder_clear */
    int n;
    fe_rc fail_with;       /* != FE_OK: callbacks fail with it (none is recorded) */
    const char *fail_kind; /* with fail_with: only rows of this kind ("line") fail; NULL: all */
} recorder;

/* Frees the recorded rows and stops failing (fail_with FE_OK, fail_kind NULL). */
void recorder_clear(recorder *r);

/* A sink recording into r, for every staging table. */
row_sink recorder_sink(recorder *r);

/* Asserts (CUnit) that r holds exactly the n rows want, in order; prints each
 * row that differs. */
void recorder_assert_rows(const recorder *r, const char *const *want, int n);

/* True when r holds a row of kind ("line": a row "line|..."). */
bool recorder_has_kind(const recorder *r, const char *kind);

/* The test data file tests/data/NAME (or $FLOWETL_TEST_DATA/NAME), read whole
 * and NUL-terminated; *len is its length. Fails the test when it cannot be read.
 * Caller frees. */
char *recorder_fixture(const char *name, size_t *len);

#endif
