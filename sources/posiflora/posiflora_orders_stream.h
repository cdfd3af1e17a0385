/* posiflora_orders_stream: the Posiflora orders stream. Each page of the order list
 * (keyset paging on the cursor field, or page numbers) is followed by concurrent
 * detail requests (lines, payments, payment methods); an order is mapped from its
 * detail document, and checkpoints are committed as the list goes (see README.md,
 * "Streams and cursors"). */
#ifndef FE_POSIFLORA_ORDERS_STREAM_H
#define FE_POSIFLORA_ORDERS_STREAM_H

#include "core/err.h"
#include "extract/http.h"
#include "sources/posiflora/posiflora_session.h"
#include "sources/source.h"

/* The stream's run function (stream_run_fn); needs the session from open(). */
fe_rc posiflora_run_orders(stream_ctx *ctx, fe_err *err) FE_MUST_CHECK;

/* For `flowetl check`: one page of 10 orders asked with the list include
 * the stream uses, judged as the stream judges it; the verdict (one line, e.g.
 * "detail per order (probe failed: ...)") into out (size bytes) and into the
 * session (posiflora_session_set_orders_method). A list refusing the include is a
 * verdict, not a failure; other failures as posiflora_pager_fetch. */
fe_rc posiflora_orders_probe(http_client *http, posiflora_session *sess, const char *base,
                             char *out, size_t size, fe_err *err) FE_MUST_CHECK;

#endif
