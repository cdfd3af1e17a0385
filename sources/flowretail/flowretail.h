/* flowretail: the Flow Retail API v2 source (https://api.flowretail.com/v2,
 * everything under /tenants/{tenant}, integration token as a bearer).
 *
 * Streams, in the order they run: products (sorted by lastModifiedAt, newest
 * first: a full read on the first run, with --full-refresh and once every
 * full_read_every, else only down to the cursor minus the look-back), categories
 * (the tree walked from the roots, each category read once per configured store
 * for its store prices and stock; a full read of categories and of the products
 * it lists), packages (the slots and components of every product of type
 * PACKAGE; a full read), stock (POST products/stock; one snapshot per day).
 * Requests and paging live in flowretail_api.c; records become rows in
 * sources/flowretail/flowretail_map.c. The rules are in README.md ("Flow Retail"). */
#ifndef FE_FLOWRETAIL_H
#define FE_FLOWRETAIL_H

#include "sources/source.h"

extern const source_def flowretail_source;

/* What `flowetl verify` compares (flowretail_verify.c). */
#define FLOWRETAIL_NVERIFY 1
extern const verify_def flowretail_verify[FLOWRETAIL_NVERIFY];

#endif
