/* posiflora_orders_stream: the Posiflora orders stream. Each page of the order list
 * (keyset paging on the cursor field, or page numbers) is followed by concurrent
 * detail requests (lines, payments, payment methods); an order is mapped from its
 * detail document, and checkpoints are committed as the list goes (see README.md,
 * "Streams and cursors"). */
#ifndef FE_POSIFLORA_ORDERS_STREAM_H
#define FE_POSIFLORA_ORDERS_STREAM_H

#include "core/err.h"
#include "sources/source.h"

/* The stream's run function (stream_run_fn); needs the session from open(). */
fe_rc posiflora_run_orders(stream_ctx *ctx, fe_err *err) FE_MUST_CHECK;

#endif
