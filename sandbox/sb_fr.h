/* sb_fr: the Flow Retail module's data (generation, change steps, ground truth),
 * shared by sb_fr_data.c and the routing and rendering in sb_flowretail.c.
 *
 * Money is held as the API sends it: integer minor units (øre), quantities as
 * integer hundredths. Times are unix milliseconds. Nothing here is locked: the
 * module takes its rwlock around every use. */
#ifndef SB_FR_H
#define SB_FR_H

#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"
#include "sb_rng.h"

#define FR_TENANT "demo"
#define FR_TOKEN "demo-flowretail-token"
#define FR_STORES 3
#define FR_WAREHOUSES 5
#define FR_SLOTS_MAX 3
#define FR_COMPONENTS_MAX 4

enum { FR_STOCK = 0, FR_PACKAGE, FR_SERVICE };

typedef struct {
    char uid[24];
    char name[64];
    int parent; /* index, -1 for a root */
    int64_t created_ms, modified_ms;
} fr_category;

typedef struct {
    char name[32];
    int ncomp;
    int comp[FR_COMPONENTS_MAX]; /* product indexes */
    int64_t qty[FR_COMPONENTS_MAX];
    int64_t special[FR_COMPONENTS_MAX];
    bool has_special[FR_COMPONENTS_MAX];
} fr_slot;

typedef struct {
    char uid[24], sku[24], name[96];
    int type; /* FR_STOCK, FR_PACKAGE, FR_SERVICE */
    bool excluded, removed, is_component;
    int ncat;
    int cat[2];
    int brand; /* -1: none */
    int64_t rrp, purchase;
    int64_t created_ms, modified_ms;
    int64_t price[FR_STORES], cost[FR_STORES], ordered[FR_STORES];
    int64_t stock[FR_WAREHOUSES], reserved[FR_WAREHOUSES];
    int nslots;
    fr_slot slots[FR_SLOTS_MAX];
    int poison; /* FR_POISON_*: how it is rendered wrong (--poison) */
} fr_product;

/* Poison products (--poison, docs/sandbox.md): two services in no category, in
 * the product list only, each a reject for a correct client. */
enum {
    FR_POISON_NONE = 0,
    FR_POISON_NUL_UID,  /* productUid = the first product's uid, "\u0000", "twin": a
                         * client that cuts at the NUL overwrites that product */
    FR_POISON_NUL_NAME, /* "\u0000" inside the name */
};

typedef struct {
    fr_category *cats;
    int ncats;
    fr_product *prods;
    int nprods, cap_prods;
    uint64_t seed;
    int64_t steps;
    /* --mismatch (set by the module after each generation, never by fr_data_*):
     * the product with the median uid among the initial plain stock products, and
     * the one the API hides (that one under hide-order=flowretail, else -1). */
    int median_product, hidden_product;
} fr_data;

typedef struct {
    long products_created, products_updated, products_removed, stock_changed;
} fr_changes;

extern const char *const fr_store_uids[FR_STORES];
extern const char *const fr_warehouse_uids[FR_WAREHOUSES];
extern const int fr_warehouse_store[FR_WAREHOUSES];
extern const char *const fr_brands[];

bool fr_data_generate(fr_data *d, uint64_t seed, double scale);
/* Appends the poison products (no change step touches them). */
bool fr_data_add_poison(fr_data *d);
void fr_data_free(fr_data *d);
bool fr_data_advance(fr_data *d, int steps, fr_changes *ch);
/* "flowretail\tMETRIC\tVALUE\n" lines (see docs/internals.md). */
void fr_data_truth(const fr_data *d, sb_buf *out);

/* The index of a store / category / product by uid, or -1. */
int fr_store_index(const char *uid);
int fr_category_index(const fr_data *d, const char *uid);
int fr_product_index(const fr_data *d, const char *uid);

/* Store stock of a product: the sum over the store's warehouses. */
int64_t fr_store_stock(const fr_product *p, int store);
int64_t fr_store_reserved(const fr_product *p, int store);

#endif
