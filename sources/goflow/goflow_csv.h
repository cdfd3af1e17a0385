/* goflow_csv: a streaming RFC 4180 reader for Goflow report files.
 * Bytes are fed as they arrive; each complete row is handed to a callback as an
 * array of NUL-terminated fields with their lengths (a field may hold NUL bytes
 * of its own: its length, not strlen, says where it ends). Quoted fields may hold commas, doubled
 * quotes
 * ("") and line breaks; rows end with LF or CRLF (a final row without a line
 * break is delivered by goflow_csv_finish). Memory is one row (capped). */
#ifndef FE_GOFLOW_CSV_H
#define FE_GOFLOW_CSV_H

#include <stddef.h>
#include "core/err.h"

/* Called once per row (the header row included); fields live for the call.
 * Returning non-FE_OK stops the reader and is returned by the feed. */
typedef fe_rc (*goflow_csv_row_fn)(void *ctx, const char *const *fields, const size_t *lens,
                                   size_t nfields, fe_err *err);

typedef struct goflow_csv goflow_csv;

/* max_row_bytes caps one row's text (0 = 1 MiB). NULL on allocation failure.
 * Free with goflow_csv_free (accepts NULL). */
goflow_csv *goflow_csv_new(size_t max_row_bytes, goflow_csv_row_fn fn, void *ctx);
void goflow_csv_free(goflow_csv *c);

/* FE_EJSON (the project's "bad document" code) with "csv: ..." for a quote inside
 * an unquoted field, text after a closing quote, or a row over the cap; the
 * callback's code when it stopped. Failures are sticky until goflow_csv_reset. */
fe_rc goflow_csv_feed(goflow_csv *c, const char *data, size_t len, fe_err *err) FE_MUST_CHECK;
/* End of input: delivers a last row without line break; FE_EJSON inside quotes. */
fe_rc goflow_csv_finish(goflow_csv *c, fe_err *err) FE_MUST_CHECK;
/* Ready for a new document (discards a partial one before a retry). */
void goflow_csv_reset(goflow_csv *c);

#endif
