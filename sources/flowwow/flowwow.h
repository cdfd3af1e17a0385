/* flowwow: the Flowwow Seller API source (type = flowwow).
 *
 * Streams: shops (POST /apiseller/shops once per status of shop_statuses, full
 * read -> dim_store kind shop), products (POST /apiseller/products?shopId= per
 * shop, one full-read checkpoint over all shops -> dim_product, with today's
 * stock and available -> fact_inventory_snapshot), orders (GET
 * /apiseller/orders/list?shopId=&createdDate= per day and shop; a read longer than
 * the re-scan window pages each shop's whole list instead when its probe holds;
 * the cursor is the last day read in full for every shop, and each run reads the
 * last rescan_days days again because statuses change after creation). Paging lives in
 * flowwow_pages.c, records become rows in sources/flowwow/flowwow_map.c. The rules are
 * in README.md ("Flowwow"). */
#ifndef FE_FLOWWOW_H
#define FE_FLOWWOW_H

#include "sources/source.h"

extern const source_def flowwow_source;

/* What `flowetl verify` compares (flowwow_verify.c). */
#define FLOWWOW_NVERIFY 1
extern const verify_def flowwow_verify[FLOWWOW_NVERIFY];

#endif
