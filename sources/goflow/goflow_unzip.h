/* goflow_unzip: the decoder of a Goflow report file. */
#ifndef FE_GOFLOW_UNZIP_H
#define FE_GOFLOW_UNZIP_H

#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

/* The decoder of a report file: gzip (told by its first two bytes, members one
 * after another) or plain, handing the plain bytes to `out` as they come, in
 * pieces of at most 64 KiB, so memory stays flat whatever the file inflates to.
 * FE_EJSON with a message naming the cap when the output passes max_bytes
 * (0 = none) or, for gzip once 8 MiB came out, max_ratio times the compressed
 * input (0 = none); FE_EJSON for broken gzip data; out's own code when it fails. */
typedef fe_rc (*goflow_bytes_fn)(void *ctx, const char *data, size_t len, fe_err *err);
typedef struct goflow_unzip goflow_unzip;

/* NULL on allocation failure. Free with goflow_unzip_free (accepts NULL). */
goflow_unzip *goflow_unzip_new(int64_t max_bytes, long max_ratio, goflow_bytes_fn out, void *ctx);
fe_rc goflow_unzip_feed(goflow_unzip *u, const char *data, size_t len, fe_err *err) FE_MUST_CHECK;
/* After the last byte: FE_EJSON when a gzip file ends inside its data. */
fe_rc goflow_unzip_finish(goflow_unzip *u, fe_err *err) FE_MUST_CHECK;
/* Forgets everything fed (a transfer is retried from its start). */
void goflow_unzip_reset(goflow_unzip *u);
void goflow_unzip_free(goflow_unzip *u);

#endif
