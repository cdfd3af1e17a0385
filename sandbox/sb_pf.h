/* sb_pf: internals of the Posiflora module, shared by its files:
 *   sb_pf_data.c     ids, money styles, generation of the initial data
 *   sb_pf_change.c   advance steps and the ground truth
 *   sb_pf_text.c     Russian text of every record (derived, never stored)
 *   sb_pf_render.c   JSON:API rendering of each resource type
 *   sb_pf_api.c      list and detail endpoints (query parsing, paging, cache)
 *   sb_pf_auth.c     sessions: login, refresh, bearer check
 *   sb_posiflora.c   the sb_module glue (state, locking, routing)
 *
 * Records are compact structs in arrays; their index is their identity. Ids,
 * text and money styles are derived from (seed, kind, index) on demand, so the
 * data stays small at scale 100. All money and quantities are int64 in units of
 * 1/10000 ("v4"); no value passes through a double. Times are unix seconds. */
#ifndef SB_PF_H
#define SB_PF_H

#include <pthread.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "sb_buf.h"
#include "sb_json.h"
#include "sb_module.h"
#include "sb_qcache.h"
#include "sb_rng.h"

#define PF_NONE UINT32_MAX
#define PF_V4 INT64_C(10000) /* one unit of money or quantity, in v4 */
#define PF_ID_LEN 36         /* a UUID's text, without the NUL */

/* Kinds of identity: each gets its own id space. */
enum pf_kind {
    PF_K_STORE = 1,
    PF_K_CATEGORY,
    PF_K_ITEM,
    PF_K_BOUQUET,
    PF_K_CUSTOMER,
    PF_K_ORDER,
    PF_K_LINE,
    PF_K_PAYMENT,
    PF_K_METHOD,
    PF_K_WORKER,
    PF_K_SOURCE,
    PF_K_MEASURE,
    PF_K_USER,
    PF_K_SHIFT
};

enum pf_status {
    PF_ST_NEW,
    PF_ST_ASSEMBLED,
    PF_ST_COURIER,
    PF_ST_DONE,
    PF_ST_CANCELED,
    PF_ST_NOT_ACCEPTED,
    PF_ST_RETURNED,
    PF_ST_COUNT
};
extern const char *const pf_status_names[PF_ST_COUNT];

enum pf_pay_type { PF_PAY_PAYMENT, PF_PAY_RETURN, PF_PAY_CHANGE };

/* Fields whose money style is drawn per record (see pf_style). */
enum pf_field {
    PF_F_TOTAL,
    PF_F_PAID,
    PF_F_QTY,
    PF_F_PRICE,
    PF_F_AMOUNT,
    PF_F_LINE_TOTAL,
    PF_F_LINE_TOTAL_WD,
    PF_F_DISCOUNT_PRICE,
    PF_F_PAY_AMOUNT,
    PF_F_PAY_BONUS,
    PF_F_PRICE_MIN,
    PF_F_PRICE_MAX,
    PF_F_B_AMOUNT,
    PF_F_B_SALE,
    PF_F_B_TRUE_SALE,
    PF_F_C_AVERAGE
};

#define PF_METHODS 4 /* payment methods */
#define PF_WORKERS 8
#define PF_SOURCES 3

typedef struct {
    int64_t revision;
} pf_store;

typedef struct {
    int64_t revision;
    uint32_t parent; /* PF_NONE for a root */
    uint8_t group;   /* inventory-groups id */
    bool deleted;
} pf_category;

typedef struct {
    int64_t price_min, price_max;
    int64_t updated;
    uint32_t category;
    uint16_t version; /* bumped by each edit: varies the derived text */
    bool service;
    bool fractional;
    bool is_public;
} pf_item;

typedef struct {
    int64_t amount, discount, markup; /* saleAmount = amount - discount + markup */
    int64_t created, updated, revision;
    uint32_t store;
    uint8_t status;
} pf_bouquet;

typedef struct {
    int64_t created, updated, revision;
    int32_t points, spent;
    uint16_t version;
    uint8_t status; /* 0 on, 1 off, 2 deleted */
} pf_customer;

typedef struct {
    int64_t created, updated, modified, status_at;
    int64_t posted_at; /* 0 = not posted */
    int64_t revision;
    int64_t total, paid;         /* totalAmount (= sum of line totals), paymentsAmount */
    uint64_t idkey;              /* orders like the id's text: tie-break of sorts */
    uint32_t customer;           /* PF_NONE = no customer */
    uint32_t line_start;         /* lines are contiguous: [line_start, line_start + nlines) */
    uint32_t pay_head, pay_tail; /* payment list in creation order, PF_NONE = empty */
    uint16_t store;
    uint8_t nlines, npay, status, worker, source;
    bool delivery;
    bool poison; /* --poison: totalAmount is 90000000000000000.00, beyond numeric(20,4) */
} pf_order;

typedef struct {
    int64_t price, total; /* unit price; totalAmount of the line */
    uint32_t item;
    uint32_t bouquet; /* PF_NONE = not a bouquet component */
    int32_t qty;
    uint8_t discount_pct; /* > 0: discountPrice = price less this percent */
    bool manual;          /* manualSetting: a markup, total > amount */
} pf_line;

typedef struct {
    int64_t amount, bonus, created; /* amount is positive for every type */
    uint32_t order;
    uint32_t next;   /* next payment of the same order, PF_NONE = last */
    uint32_t parent; /* the payment a return or change refers to, PF_NONE */
    uint8_t type, method;
} pf_payment;

/* A growable array of records; count and cap in records. */
#define PF_VEC(T)                                                                                  \
    struct {                                                                                       \
        T *v;                                                                                      \
        uint32_t n, cap;                                                                           \
    }

typedef struct {
    uint64_t seed;
    double scale;
    int64_t clock; /* sandbox now: initial data lies before it */
    int64_t steps; /* advance steps applied */
    PF_VEC(pf_store) stores;
    PF_VEC(pf_category) cats;
    PF_VEC(pf_item) items;
    PF_VEC(pf_bouquet) bouquets;
    PF_VEC(pf_customer) customers;
    PF_VEC(pf_order) orders;
    PF_VEC(pf_line) lines;
    PF_VEC(pf_payment) pays;
    /* Per-collection revision counters: the last revision handed out. */
    int64_t rev_stores, rev_cats, rev_bouquets, rev_customers, rev_orders;
    /* Initial sizes: advance rates are relative to them. */
    uint32_t base_orders, base_customers, base_items;
    uint64_t version; /* bumped by every change: keys the list cache */
    /* --mismatch (sb_mismatch.h), picked among the initial orders by pf_data_generate:
     * median_order has the median id; off_order is the next one in id order whose
     * status counts for revenue. hidden_order is median_order under hide-order (the
     * API does not show it) and amount_off tells the analytics to count off_order's
     * totalAmount 0.01 higher; pf_data_mismatch sets both. */
    uint32_t median_order, off_order;
    uint32_t hidden_order; /* PF_NONE: none */
    bool amount_off;
} pf_data;

/* What one advance call changed. */
typedef struct {
    long orders_created, orders_status_changed, payments_created, refunds_created;
    long customers_created, customers_updated, items_updated;
} pf_changes;

/* ---- sb_pf_data.c ---- */

/* Generates the initial data for seed and scale into d (zeroed first). Returns
 * false when memory ran out (d is then freed). */
bool pf_data_generate(pf_data *d, uint64_t seed, double scale);
/* --poison: one old done order gets a totalAmount beyond numeric(20,4) (a reject
 * for a correct client, left out of the truth). No change step touches it. */
void pf_data_add_poison(pf_data *d);
/* Frees d's arrays; d may be generated again. */
void pf_data_free(pf_data *d);
/* Applies the --mismatch switches of m to freshly generated d (sets hidden_order
 * and amount_off; the data itself is not touched). */
void pf_data_mismatch(pf_data *d, const sb_mismatch *m);
/* True when status counts for revenue in the order analytics (open or completed). */
bool pf_status_is_revenue(int status);

/* Writes the UUID text of record idx of kind into out (PF_ID_LEN + 1 bytes). */
void pf_id(const pf_data *d, int kind, uint32_t idx, char *out);
/* Reads an id of kind back to its index; false when s is no id of that kind or
 * the index is not below limit. */
bool pf_id_parse(const pf_data *d, int kind, const char *s, uint32_t limit, uint32_t *idx);
/* The money style of field of record idx of kind: fixed per record. */
sb_money_style pf_style(const pf_data *d, int kind, uint32_t idx, int field);
/* A hash of (seed, kind, idx, salt) for derived values (text variants, flags). */
uint64_t pf_hash(const pf_data *d, int kind, uint32_t idx, uint64_t salt);

/* Grows a PF_VEC to hold at least need records; false when memory ran out. */
#define PF_VEC_RESERVE(vec, need)                                                                  \
    pf_vec_reserve((void **)&(vec).v, &(vec).cap, (need), sizeof *(vec).v)
bool pf_vec_reserve(void **v, uint32_t *cap, uint32_t need, size_t elem);

/* Appends a new order created at t with status status, with lines and the
 * payments its status implies, stamped between t and updated; customer may be
 * PF_NONE. Returns false when memory ran out; all the room is reserved before
 * anything is written, so a failure leaves no half-made order behind. */
bool pf_order_append(pf_data *d, sb_rng *r, int64_t t, int64_t updated, int status,
                     uint32_t customer);
/* Appends a payment event of type to order o at time t and updates the order's
 * paid sum; a return or change gets the order's first payment as its parent.
 * Returns false when memory ran out. */
bool pf_payment_append(pf_data *d, uint32_t o, int type, int64_t amount, int64_t bonus, int method,
                       int64_t t);
/* A customer for an order created at t (one created before t), or PF_NONE for
 * about one order in ten. */
uint32_t pf_pick_customer(const pf_data *d, sb_rng *r, int64_t t);
/* Appends a customer created at t; false when memory ran out. */
bool pf_customer_append(pf_data *d, sb_rng *r, int64_t t);

/* ---- sb_pf_change.c ---- */

/* Applies steps advance steps; adds what changed to ch. Returns false when memory
 * ran out mid-way (the data stays consistent; the failed step is incomplete). */
bool pf_data_advance(pf_data *d, int steps, pf_changes *ch);
/* Appends the ground-truth lines "posiflora\tMETRIC\tVALUE\n" (unsorted). */
void pf_data_truth(const pf_data *d, sb_buf *out);

/* ---- sb_pf_text.c: each writes NUL-terminated text into out (size len) ---- */

#define PF_TEXT_MAX 512

void pf_text_store(const pf_data *d, uint32_t idx, char *title, char *city, char *address,
                   char *external, size_t len);
void pf_text_category(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_item(const pf_data *d, uint32_t idx, char *title, char *description, size_t len);
void pf_text_bouquet(const pf_data *d, uint32_t idx, char *title, char *description, size_t len);
void pf_text_customer_name(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_customer_notes(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_customer_email(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_customer_phone(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_order_description(const pf_data *d, uint32_t idx, char *out, size_t len);
void pf_text_order_doc_no(const pf_data *d, uint32_t idx, char *out, size_t len);
/* Delivery address parts of an order with delivery. */
void pf_text_order_delivery(const pf_data *d, uint32_t idx, char *city, char *street, char *house,
                            char *contact, size_t len);
const char *pf_text_method(uint32_t method);

/* ---- sb_pf_render.c: each appends one resource object to j ---- */

void pf_render_store(sb_json *j, const pf_data *d, uint32_t idx);
void pf_render_category(sb_json *j, const pf_data *d, uint32_t idx);
void pf_render_item(sb_json *j, const pf_data *d, uint32_t idx);
void pf_render_bouquet(sb_json *j, const pf_data *d, uint32_t idx);
void pf_render_customer(sb_json *j, const pf_data *d, uint32_t idx);
/* detail adds the relationships only the detail carries (lines, history, images);
 * lines alone adds the lines relationship (a list that honours include=lines). */
void pf_render_order(sb_json *j, const pf_data *d, uint32_t idx, bool detail, bool lines);
void pf_render_line(sb_json *j, const pf_data *d, uint32_t idx);
/* A line's discountPrice: its price less discount_pct, rounded to kopecks. */
int64_t pf_line_discount_price(const pf_line *l);
void pf_render_payment(sb_json *j, const pf_data *d, uint32_t idx);
void pf_render_method(sb_json *j, const pf_data *d, uint32_t method);
/* Appends {"type":type,"id":<id of kind idx>} (or null when idx is PF_NONE). */
void pf_render_ref(sb_json *j, const pf_data *d, const char *type, int kind, uint32_t idx);

/* ---- sb_pf_api.c: d is read-locked by the caller for all of these ---- */

/* Fills resp with a JSON:API error document {"errors":[{status,title,detail,source}]};
 * detail and parameter (source.parameter) may be NULL (then left out). */
void pf_error(sb_response *resp, int status, const char *title, const char *detail,
              const char *parameter);
void pf_api_stores(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
void pf_api_categories(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
void pf_api_items(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
void pf_api_bouquets(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
void pf_api_customers(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
void pf_api_orders(const pf_data *d, sb_qcache *c, const sb_request *req, sb_response *resp);
/* GET /v1/orders/analytics/{kind}: kind is the path segment after analytics/
 * (docs/sandbox.md, "Order analytics"); an unknown kind answers 404. */
void pf_api_analytics(const pf_data *d, sb_qcache *c, const char *kind, const sb_request *req,
                      sb_response *resp);
/* True when kind names one of the analytics reports. */
bool pf_analytics_kind_known(const char *kind);
/* GET /v1/orders/{id}: id is the path segment after /v1/orders/. */
void pf_api_order(const pf_data *d, const char *id, const sb_request *req, sb_response *resp);

/* ---- sb_pf_auth.c: sessions. Tokens are self-validating (a keyed hash signs
 * them), so the sandbox keeps no session table; it remembers the last
 * PF_ISSUED_MAX tokens it issued only to name them as secrets (pf_auth_secrets). ---- */

#define PF_ISSUED_MAX 1024

typedef struct {
    uint64_t secret;    /* signs tokens; differs per process */
    atomic_uint serial; /* tells apart tokens issued in the same millisecond */
    pthread_mutex_t issued_mu;
    char *issued[PF_ISSUED_MAX]; /* a ring of access and refresh tokens */
    size_t next_issued;
} pf_auth;

void pf_auth_init(pf_auth *a, uint64_t seed);
void pf_auth_term(pf_auth *a);
/* The password and every token issued (the last PF_ISSUED_MAX), one per line. */
void pf_auth_secrets(pf_auth *a, sb_buf *out);
/* POST /v1/sessions. */
void pf_auth_login(pf_auth *a, const pf_data *d, const sb_request *req, sb_response *resp);
/* PATCH /v1/sessions. */
void pf_auth_refresh(pf_auth *a, const pf_data *d, const sb_request *req, sb_response *resp);
/* True when the request's Bearer token is valid now; otherwise fills resp with
 * the 401 and returns false. */
bool pf_auth_check(pf_auth *a, const sb_request *req, sb_response *resp);

#endif
