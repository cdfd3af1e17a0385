/* posiflora: the Posiflora POS source (JSON:API at https://ACCOUNT.posiflora.com/api).
 *
 * Streams (in dependency order): stores, categories, inventory_items (full reads),
 * bouquets, customers (filter[revision] cursors), orders (list sorted by updatedAt
 * or modifiedAt from the cursor minus a look-back, read with keyset paging, then one
 * detail request per order with its lines and payments, run concurrently). Requests
 * and checkpoints live here, the list pager in posiflora_pages.c, the session in
 * posiflora_session.c; records become rows in sources/posiflora/posiflora_map.c. The rules
 * per stream are in README.md ("Streams and cursors", "Status mappings"). */
#ifndef FE_POSIFLORA_H
#define FE_POSIFLORA_H

#include "sources/source.h"

extern const source_def posiflora_source;

/* What `flowetl verify` compares (posiflora_verify.c). */
#define POSIFLORA_NVERIFY 5
extern const verify_def posiflora_verify[POSIFLORA_NVERIFY];

#endif
