/* sb_gf: internals of the Goflow module, shared by its files:
 *   sb_gf_data.c    generation, advance steps, ground truth, record rendering
 *   sb_gf_report.c  inventory report files (json, jsonl, csv; gzip) and quotas
 *   sb_goflow.c     the sb_module glue: routing, auth, lists (filters, sorting,
 *                   opaque keyset `next`), per-endpoint rate limits, reports,
 *                   the module's control endpoint
 *
 * Money and quantities are int64 in 1/10000 units ("v4"); times are int64 in
 * 100-nanosecond ticks since the epoch, because Goflow writes 7 fractional digits.
 * Records live in arrays; orders reference their lines by range. */
#ifndef SB_GF_H
#define SB_GF_H

#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"
#include "sb_json.h"
#include "sb_module.h"
#include "sb_rng.h"

#define GF_V4 INT64_C(10000)
#define GF_TICKS INT64_C(10000000) /* ticks per second */
#define GF_TOKEN "gf-demo-token"

typedef struct {
    int64_t id;
    char name[48];
    const char *channel, *status, *currency;
} gf_store;

typedef struct {
    char id[37];
    char name[64];
    const char *type;
    char street[48], city[32], state[4], zip[12];
} gf_wh;

typedef struct {
    int64_t id;
    char sku[24];
    char name[80];
    const char *type;   /* standard kit group */
    const char *status; /* active inactive */
    const char *brand;
    int64_t price4, cost4;
    uint32_t child_first, nchild;
} gf_product;

typedef struct {
    int64_t product_id, qty4;
} gf_child;

typedef struct {
    char id[37];
    int64_t product_id;
    int64_t qty4, price4, disc4, tax4, cost4; /* disc4 >= 0, sent negative */
} gf_line;

typedef struct {
    int64_t id;
    int64_t store_id;
    uint32_t wh;
    int64_t date, status_at; /* ticks */
    int status;              /* index into gf_status_names */
    const char *currency;    /* lower case */
    int64_t disc4, ship4, tax4;
    uint32_t line_first, nlines;
    int64_t original_id; /* 0 when not split from another order */
    bool deleted;        /* split: gone from the API */
    int poison;          /* GF_POISON_*: how it is rendered wrong (--poison) */
} gf_order;

/* Poison orders (--poison, docs/sandbox.md), added after the regular data: */
enum {
    GF_POISON_NONE = 0,
    GF_POISON_YEAR0,     /* `date` in year 0000: PostgreSQL refuses it; a reject */
    GF_POISON_HUGE_LINE, /* a line price of 9e15 x 5 units: a line total above 10^16 */
    GF_POISON_ID0,       /* id 0, the vendor's own example: a good order, loaded */
};

typedef struct {
    int64_t on_hand, available, on_order; /* whole units */
} gf_stock;

enum { GF_ST_COUNT = 8 };
extern const char *const gf_status_names[GF_ST_COUNT];
/* Status group (open, completed, canceled) of a status index. */
const char *gf_status_group(int status);

typedef struct {
    uint64_t seed;
    double scale;
    int64_t clock; /* ticks */
    long steps;
    gf_store *stores;
    size_t nstores;
    gf_wh *whs;
    size_t nwhs;
    gf_product *products;
    size_t nproducts;
    gf_child *children;
    size_t nchildren;
    gf_order *orders;
    size_t norders, cap_orders;
    gf_line *lines;
    size_t nlines, cap_lines;
    gf_stock *stock; /* nproducts * nwhs, product-major */
    int64_t next_order_id;
    bool poison;      /* --poison: a report row whose product_id holds a NUL byte */
    uint64_t version; /* bumped by every change */
} gf_data;

typedef struct {
    long orders_created, orders_status_changed, orders_edited, orders_split, stock_changed;
} gf_changes;

bool gf_data_generate(gf_data *d, uint64_t seed, double scale);
/* Adds the poison orders: old, shipped (so no change step touches them). */
bool gf_data_add_poison(gf_data *d);
void gf_data_free(gf_data *d);
bool gf_data_advance(gf_data *d, int steps, gf_changes *ch);
void gf_data_truth(const gf_data *d, sb_buf *out);

/* Totals of one order, computed from its lines. */
typedef struct {
    int64_t subtotal4, total4, line_tax4;
} gf_order_sums;
void gf_order_sums_of(const gf_data *d, const gf_order *o, gf_order_sums *s);

/* A poison order a correct client rejects (the truth leaves it out). */
bool gf_order_rejected(const gf_order *o);

/* A group product has no stock of its own (no inventory rows). */
bool gf_product_stocked(const gf_product *p);

/* Appends "YYYY-MM-DDTHH:MM:SS.fffffffZ". */
void gf_put_time(sb_buf *b, int64_t ticks);
/* Parses ISO-8601 with up to 7 fractional digits (more are cut) into ticks. */
bool gf_parse_time(const char *s, int64_t *ticks);
/* Real time in ticks. */
int64_t gf_now_ticks(void);

void gf_render_store(sb_json *j, const gf_store *s);
void gf_render_wh(sb_json *j, const gf_wh *w);
void gf_render_product(sb_json *j, const gf_data *d, const gf_product *p);
void gf_render_order(sb_json *j, const gf_data *d, const gf_order *o);

/* Report files: rows for every stocked product x warehouse, ordered by warehouse
 * id then product id. kind 0 = counts, 1 = values; format "json", "jsonl", "csv";
 * columns: the requested names (unknown ones are skipped). The file is gzip'ed
 * into out; *rows gets the row count. False when memory ran out. */
bool gf_report_render(const gf_data *d, int kind, const char *format, const char *const *columns,
                      size_t ncolumns, sb_buf *out, long *rows);

#endif
