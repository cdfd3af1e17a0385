/* sb_fw: the Flowwow Seller API module of the sandbox, internal interface.
 * sb_fw_data.c generates, advances and sums the data; sb_flowwow.c routes,
 * authenticates and renders. Money is held in 1/10000 units (always whole
 * kopecks: the API writes decimal strings with 2 decimals). Business dates are
 * Europe/Moscow (UTC+3, no DST since 2014), as the shops' local days. */
#ifndef SB_FW_H
#define SB_FW_H

#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"

#define FW_TZ_OFFSET (3 * 3600)
#define FW_NO_CUSTOMER UINT32_MAX

enum { FW_SHOP_ACTIVE = 0, FW_SHOP_MODERATION, FW_SHOP_DISABLED };
/* How an order names its buyer. */
enum { FW_USER_PHONE = 0, FW_USER_NULL, FW_USER_NO_PHONE };

typedef struct {
    int64_t id;
    uint8_t status;
} fw_shop;

typedef struct {
    int64_t id;
    uint32_t shop;
    uint8_t type; /* 1 regular, 2 ready-made, 3 add-on */
    bool active, deleted;
    uint8_t offer; /* 0 "SKU-...", 1 null, 2 "" */
    uint8_t discount;
    int64_t price4;
    int64_t category;
    int32_t stock, available;
} fw_product;

typedef struct {
    uint32_t product;
    uint16_t count;
    uint8_t discount;
    int64_t cost4, price4, sum4;
} fw_line;

typedef struct {
    int64_t id;
    uint32_t shop;
    int64_t created; /* unix seconds */
    uint8_t status;
    uint8_t user_kind;
    uint32_t customer; /* FW_NO_CUSTOMER unless FW_USER_PHONE */
    uint32_t first_line;
    uint16_t nlines;
    uint8_t poison; /* FW_POISON_*: how it is rendered wrong (--poison) */
} fw_order;

/* Poison orders (--poison, docs/sandbox.md): two old finished orders rendered so
 * that a correct client rejects each (the truth leaves them out). */
enum {
    FW_POISON_NONE = 0,
    FW_POISON_YEAR0,   /* createdDate -62135596801: 0000-12-31T23:59:59Z, before year 1 */
    FW_POISON_HUGE_SUM /* every line's cost and sum 9000000000000000.00: above 10^16 summed */
};

typedef struct {
    uint64_t seed;
    double scale;
    uint32_t steps;
    fw_shop *shops;
    uint32_t nshops;
    fw_product *products;
    uint32_t nproducts, cap_products;
    fw_order *orders;
    uint32_t norders, cap_orders, initial_orders;
    fw_line *lines;
    uint32_t nlines, cap_lines;
    uint32_t ncustomers;
} fw_data;

/* Generates the initial data; false when memory ran out (d is then empty). */
bool fw_data_generate(fw_data *d, uint64_t seed, double scale);
/* Makes two old finished orders poison (see FW_POISON_*). */
void fw_data_add_poison(fw_data *d);
void fw_data_free(fw_data *d);
/* Applies one change step (the next hour); appends nothing, counts into n[]. */
enum {
    FW_CH_ORDERS_CREATED,
    FW_CH_STATUS_CHANGED,
    FW_CH_PRODUCTS_CREATED,
    FW_CH_PRODUCTS_DELETED,
    FW_CH_STOCK_CHANGED,
    FW_CH_COUNT
};
bool fw_data_step(fw_data *d, int64_t counts[FW_CH_COUNT]);
/* Appends the flowwow truth lines. */
void fw_data_truth(const fw_data *d, sb_buf *out);

/* Local (Moscow) day number of a unix time. */
int64_t fw_local_day(int64_t t);
/* Canonical phone digits of customer c ("79261234567"), into out (>= 16). */
void fw_customer_digits(const fw_data *d, uint32_t c, char *out);
/* The phone as order o writes it (one of several spellings), into out (>= 32). */
void fw_order_phone(const fw_data *d, const fw_order *o, char *out, size_t len);
/* Names and addresses: valid, deliberately hostile UTF-8, into out. */
void fw_text_shop(const fw_data *d, uint32_t i, char *name, char *address, size_t len);
void fw_text_product(const fw_data *d, uint32_t i, char *name, size_t len);
void fw_text_customer(const fw_data *d, uint32_t c, char *name, size_t len);
uint64_t fw_hash(const fw_data *d, uint64_t kind, uint64_t idx);

#endif
