/* posiflora_order: one Posiflora order detail document -> fact_order,
 * fact_order_line and fact_payment rows (transform/rows.h), under the result
 * contract of posiflora_map.h (FE_OK rows handed over; FE_EINVAL a reject with
 * its reason and no row handed over; other: the sink failed, its FE_EINVAL read
 * as FE_EABORT). The dimensions of the same source are in posiflora_map.h. */
#ifndef FE_POSIFLORA_ORDER_H
#define FE_POSIFLORA_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "extract/json_stream.h"
#include "sources/posiflora/posiflora_map.h"
#include "transform/rows.h"

/* The order accumulator: one order detail document (GET /v1/orders/{id}
 * ?include=lines,payments,payments.method) arrives as a "data" record and
 * "included[]" records in any order (payments may come before the payment
 * methods they reference), so the order is mapped when the document ends.
 * add() copies, parses and checks the few fields it needs from each record
 * (bounded by one order); the first problem is remembered with a dump of the
 * record that caused it, and flush() reports it as a reject. */
typedef struct posiflora_order_acc posiflora_order_acc;

/* Returns NULL on allocation failure. Free with posiflora_order_acc_free. */
posiflora_order_acc *posiflora_order_acc_new(void);
void posiflora_order_acc_free(posiflora_order_acc *a);
/* Forgets everything added (keeps storage): call before each document, and when a
 * transfer is retried after a partial body. */
void posiflora_order_acc_reset(posiflora_order_acc *a);

/* is_data: the record is the document's "data" (the order); otherwise it is one
 * element of "included" (order-lines, order-payments and payment-methods are
 * used, other types ignored). Returns FE_OK, or FE_ENOMEM (the stream fails);
 * record problems are kept for flush. */
fe_rc posiflora_order_acc_add(posiflora_order_acc *a, bool is_data, const json_rec *rec,
                              fe_err *err) FE_MUST_CHECK;

/* Whether the order added so far is whole as a list page carries it (GET
 * /v1/orders?include=lines,payments,payments.method): the order record arrived
 * without a problem, its relationships list its lines and its payments (both
 * given, possibly empty), every one of them arrived, and every payment's method
 * arrived too. False means the order's detail must be read instead. */
bool posiflora_order_acc_whole(const posiflora_order_acc *a);

/* What flush found; the strings live until the next reset or add. */
typedef struct {
    const char *order_id;   /* NULL when the document had no order */
    const char *reject_id;  /* on FE_EINVAL: id of the record at fault (may be NULL) */
    const char *reject_raw; /* on FE_EINVAL: "path=value" dump of the record at fault;
                               for a problem found only at flush (lines missing,
                               sums beyond numeric(20,4)) the dumps of the
                               document's records, a blank line apart (8 KiB at
                               most); "" when the document held no record */
    bool unknown_status;    /* status not in the known list: mapped to open */
    const char *status;     /* the order's status (for the unknown-status log line) */
    size_t lines, payments; /* rows handed to the sink */
} posiflora_order_info;

/* Maps the accumulated order: one order row (total = totalAmount, paid_total =
 * paymentsAmount, subtotal = sum of line amounts, discount_total = max(subtotal -
 * total, 0), tax and shipping 0, lines_complete and payments_complete true), then
 * its lines, then its payments (payment +|amount|, return -> refund -|amount|,
 * change -> change -|amount|). Every computed amount must fit numeric(20,4).
 * Nothing reaches the sink unless the whole order is valid. Results as for the
 * other mapping functions; info is always filled. */
fe_rc posiflora_order_acc_flush(posiflora_order_acc *a, const posiflora_map_opts *o,
                                const row_sink *out, posiflora_order_info *info,
                                fe_err *err) FE_MUST_CHECK;

#endif
