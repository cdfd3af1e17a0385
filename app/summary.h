/* summary: the end-of-run summary `flowetl run` prints on stdout, one block per
 * stream, in each stream's own unit:
 *
 *   posiflora_test.orders  ok  3.2 s: 1250 orders read (13 pages, 14 requests, 1 retry)
 *       fact_order: 1250 inserted
 *       fact_order_line: 4410 inserted
 *       rejected: 1 order (etl.reject)
 *
 * The unit of a stream is what one of its records is: its name made singular
 * ("orders": 1 order, 2 orders), but for the streams whose name is no noun of a
 * record (flowretail "stock": stock rows, goflow "inventory": inventory rows). */
#ifndef FE_SUMMARY_H
#define FE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/stats.h"

/* Appends "1 order" / "2 orders" / "0 orders" to out. False when out is full. */
bool summary_count(buf *out, int64_t n, const char *singular, const char *plural) FE_MUST_CHECK;

/* The unit of the stream named stream: singular and plural into the buffers
 * (cut to fit). */
void summary_unit(const char *stream, char *singular, size_t ssize, char *plural, size_t psize);

/* Appends one stream's block: its name (SOURCE.STREAM), status word ("ok",
 * "FAILED" ...), seconds, what it read in its unit and the rows per warehouse
 * table (tables with no row counted are left out; "no warehouse rows written"
 * when none). False when out is full. */
bool summary_stream(buf *out, const char *name, const char *stream, const char *status,
                    double seconds, const stream_stats *st) FE_MUST_CHECK;

#endif
