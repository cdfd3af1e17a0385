/* Posiflora data: identities, money styles and the generation of the initial data.
 * See sb_pf.h for the layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_pf.h"
#include "sb_time.h"

const char *const pf_status_names[PF_ST_COUNT] = {"new",      "assembled",   "courier", "done",
                                                  "canceled", "notAccepted", "returned"};

/* The last 12 hex digits of an id carry the index through a bijection of 48-bit
 * numbers, so an id maps back to its record without a hash table; the other 20
 * digits are a hash, and parsing re-derives the whole id to reject forgeries. */
#define M48 ((UINT64_C(1) << 48) - 1)
#define ID_MUL1 UINT64_C(0xD1B54A32D193) /* odd: invertible modulo 2^48 */
#define ID_MUL2 UINT64_C(0x94D049BB1331)

static uint64_t inverse48(uint64_t odd)
{
    uint64_t x = odd; /* Newton: each round doubles the correct low bits */
    for (int i = 0; i < 6; i++)
        x *= 2 - odd * x;
    return x & M48;
}

/* A bijection of 48-bit numbers that scatters neighbours: multiply, fold the high
 * half into the low one, twice. (x ^= x >> 24 undoes itself on 48 bits.) */
static uint64_t mix48(uint64_t x)
{
    x = (x * ID_MUL1) & M48;
    x ^= x >> 24;
    x = (x * ID_MUL2) & M48;
    return x ^ (x >> 24);
}

static uint64_t unmix48(uint64_t x)
{
    x ^= x >> 24;
    x = (x * inverse48(ID_MUL2)) & M48;
    x ^= x >> 24;
    return (x * inverse48(ID_MUL1)) & M48;
}

static uint64_t id_head(const pf_data *d, int kind, uint32_t idx)
{
    return sb_hash3(d->seed, (uint64_t)kind, idx);
}

static uint64_t id_mask(const pf_data *d, int kind)
{
    return sb_hash64(d->seed ^ UINT64_C(0x1d5eed), (uint64_t)kind) & M48;
}

void pf_id(const pf_data *d, int kind, uint32_t idx, char *out)
{
    uint64_t h1 = id_head(d, kind, idx);
    uint64_t h2 = sb_hash64(h1, 0x7a11);
    uint64_t tail = mix48((uint64_t)idx ^ id_mask(d, kind));
    snprintf(out, PF_ID_LEN + 1, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h1 >> 32),
             (unsigned)((h1 >> 16) & 0xffff), (unsigned)(0x4000 | (h1 & 0x0fff)),
             (unsigned)(0x8000 | (h2 & 0x3fff)), (unsigned long long)tail);
}

bool pf_id_parse(const pf_data *d, int kind, const char *s, uint32_t limit, uint32_t *idx)
{
    if (strlen(s) != PF_ID_LEN)
        return false;
    uint64_t tail = 0;
    for (int i = PF_ID_LEN - 12; i < PF_ID_LEN; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        tail = tail << 4 | (uint64_t)v;
    }
    uint64_t i = unmix48(tail) ^ id_mask(d, kind);
    if (i >= limit)
        return false;
    char again[PF_ID_LEN + 1];
    pf_id(d, kind, (uint32_t)i, again);
    if (strcmp(again, s) != 0)
        return false;
    *idx = (uint32_t)i;
    return true;
}

/* The id's first 16 hex digits as a number: comparing these compares the texts. */
static uint64_t id_key(const pf_data *d, int kind, uint32_t idx)
{
    return (id_head(d, kind, idx) & ~UINT64_C(0xf000)) | UINT64_C(0x4000);
}

uint64_t pf_hash(const pf_data *d, int kind, uint32_t idx, uint64_t salt)
{
    return sb_hash64(sb_hash3(d->seed, (uint64_t)kind, idx), salt);
}

sb_money_style pf_style(const pf_data *d, int kind, uint32_t idx, int field)
{
    unsigned h = (unsigned)(pf_hash(d, kind, idx, 0x100 + (uint64_t)field) % 20);
    if (field == PF_F_QTY) /* quantities: mostly plain numbers, sometimes "1.00" */
        return h < 16 ? SB_MONEY_NUMBER : SB_MONEY_STRING2;
    if (h < 12)
        return SB_MONEY_NUMBER;
    if (h < 14)
        return SB_MONEY_NUMBER2;
    if (h < 18)
        return SB_MONEY_STRING2;
    return SB_MONEY_STRING;
}

bool pf_vec_reserve(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint64_t want = *cap < 16 ? 16 : (uint64_t)*cap * 2;
    if (want < need)
        want = need;
    if (want > UINT32_MAX - 1)
        return false;
    void *nv = realloc(*v, (size_t)want * elem);
    if (nv == NULL)
        return false;
    *v = nv;
    *cap = (uint32_t)want;
    return true;
}

void pf_data_free(pf_data *d)
{
    free(d->stores.v);
    free(d->cats.v);
    free(d->items.v);
    free(d->bouquets.v);
    free(d->customers.v);
    free(d->orders.v);
    free(d->lines.v);
    free(d->pays.v);
    memset(d, 0, sizeof *d);
}

/* ---- revisions: handed out in the order of updatedAt (ties by id) ---- */

typedef struct {
    int64_t updated;
    uint64_t tie;
    uint32_t idx;
} rev_key;

static int by_update(const void *a, const void *b)
{
    const rev_key *x = a, *y = b;
    if (x->updated != y->updated)
        return x->updated < y->updated ? -1 : 1;
    if (x->tie != y->tie)
        return x->tie < y->tie ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts keys and returns them; the caller sets revision = base + rank + 1. */
static bool sort_by_update(rev_key *keys, uint32_t n)
{
    if (keys == NULL)
        return n == 0;
    qsort(keys, n, sizeof *keys, by_update);
    return true;
}

static bool rank_customers(pf_data *d)
{
    uint32_t n = d->customers.n;
    rev_key *k = malloc(((size_t)n + 1) * sizeof *k);
    for (uint32_t i = 0; k != NULL && i < n; i++)
        k[i] = (rev_key){d->customers.v[i].updated, id_key(d, PF_K_CUSTOMER, i), i};
    if (!sort_by_update(k, n))
        return false;
    for (uint32_t r = 0; r < n; r++)
        d->customers.v[k[r].idx].revision = ++d->rev_customers;
    free(k);
    return true;
}

static bool rank_orders(pf_data *d)
{
    uint32_t n = d->orders.n;
    rev_key *k = malloc(((size_t)n + 1) * sizeof *k);
    for (uint32_t i = 0; k != NULL && i < n; i++)
        k[i] = (rev_key){d->orders.v[i].updated, d->orders.v[i].idkey, i};
    if (!sort_by_update(k, n))
        return false;
    for (uint32_t r = 0; r < n; r++)
        d->orders.v[k[r].idx].revision = ++d->rev_orders;
    free(k);
    return true;
}

static bool rank_bouquets(pf_data *d)
{
    uint32_t n = d->bouquets.n;
    rev_key *k = malloc(((size_t)n + 1) * sizeof *k);
    for (uint32_t i = 0; k != NULL && i < n; i++)
        k[i] = (rev_key){d->bouquets.v[i].updated, id_key(d, PF_K_BOUQUET, i), i};
    if (!sort_by_update(k, n))
        return false;
    for (uint32_t r = 0; r < n; r++)
        d->bouquets.v[k[r].idx].revision = ++d->rev_bouquets;
    free(k);
    return true;
}

/* ---- small generators ---- */

static uint32_t scaled(double scale, double base, uint32_t min)
{
    double v = base * scale + 0.5;
    return v < (double)min ? min : (uint32_t)v;
}

/* A shelf price: mostly whole roubles, some with .50, a few with kopecks. */
static int64_t shelf_price(sb_rng *r, int64_t lo, int64_t hi)
{
    int64_t rub = sb_rng_range(r, lo, hi) * PF_V4;
    unsigned kind = (unsigned)sb_rng_below(r, 10);
    if (kind == 7 || kind == 8)
        return rub + PF_V4 / 2;
    if (kind == 9)
        return rub + sb_rng_range(r, 1, 99) * 100;
    return rub;
}

static bool gen_stores(pf_data *d, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->stores, n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        d->stores.v[i].revision = ++d->rev_stores;
    d->stores.n = n;
    return true;
}

static bool gen_categories(pf_data *d, sb_rng *r, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->cats, n))
        return false;
    uint32_t roots = n / 3 < 3 ? (n < 3 ? n : 3) : n / 3;
    for (uint32_t i = 0; i < n; i++) {
        pf_category *c = &d->cats.v[i];
        c->parent = i < roots ? PF_NONE : (uint32_t)sb_rng_below(r, i);
        c->group = (uint8_t)(1 + sb_rng_below(r, 9));
        c->deleted = i >= roots && sb_rng_permille(r, 50);
        c->revision = ++d->rev_cats;
    }
    d->cats.n = n;
    return true;
}

static bool gen_items(pf_data *d, sb_rng *r, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->items, n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        pf_item *it = &d->items.v[i];
        memset(it, 0, sizeof *it);
        it->category = (uint32_t)sb_rng_below(r, d->cats.n);
        it->service = sb_rng_permille(r, 60);
        it->fractional = !it->service && sb_rng_permille(r, 100);
        it->is_public = sb_rng_permille(r, 300);
        if (it->service)
            it->price_min = sb_rng_range(r, 3, 15) * 100 * PF_V4;
        else
            it->price_min = shelf_price(r, 30, 600);
        it->price_max = it->price_min;
        if (sb_rng_permille(r, 300))
            it->price_max += (it->price_min / 5 / PF_V4 + 1) * PF_V4;
        it->updated = d->clock - sb_rng_range(r, SB_HOUR, 365 * SB_DAY);
    }
    d->items.n = n;
    return true;
}

static bool gen_bouquets(pf_data *d, sb_rng *r, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->bouquets, n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        pf_bouquet *b = &d->bouquets.v[i];
        b->store = (uint32_t)sb_rng_below(r, d->stores.n);
        b->amount = shelf_price(r, 1500, 9000);
        b->discount = sb_rng_permille(r, 200) ? sb_rng_range(r, 1, 5) * 100 * PF_V4 : 0;
        b->markup = sb_rng_permille(r, 200) ? sb_rng_range(r, 1, 10) * 50 * PF_V4 : 0;
        b->created = d->clock - sb_rng_range(r, SB_HOUR, 60 * SB_DAY);
        int64_t room = d->clock - 1 - b->created;
        b->updated = b->created + sb_rng_range(r, 0, room < 2 * SB_DAY ? room : 2 * SB_DAY);
        b->status = (uint8_t)sb_rng_below(r, 3);
    }
    d->bouquets.n = n;
    return rank_bouquets(d);
}

bool pf_customer_append(pf_data *d, sb_rng *r, int64_t t)
{
    if (!PF_VEC_RESERVE(d->customers, d->customers.n + 1))
        return false;
    pf_customer *c = &d->customers.v[d->customers.n];
    memset(c, 0, sizeof *c);
    c->created = c->updated = t;
    c->points = (int32_t)sb_rng_below(r, 2000);
    c->spent = (int32_t)sb_rng_below(r, 500);
    unsigned s = (unsigned)sb_rng_below(r, 1000);
    c->status = s < 920 ? 0 : s < 970 ? 1 : 2;
    c->revision = ++d->rev_customers;
    d->customers.n++;
    return true;
}

static bool gen_customers(pf_data *d, sb_rng *r, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->customers, n))
        return false;
    int64_t start = d->clock - 365 * SB_DAY, span = 365 * SB_DAY - SB_HOUR;
    int64_t slot = span / n > 0 ? span / n : 1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t created = start + (int64_t)i * span / n + sb_rng_range(r, 0, slot - 1);
        if (!pf_customer_append(d, r, created))
            return false;
        pf_customer *c = &d->customers.v[i];
        if (sb_rng_permille(r, 400))
            c->updated = created + sb_rng_range(r, 0, d->clock - 60 - created);
    }
    return rank_customers(d);
}

uint32_t pf_pick_customer(const pf_data *d, sb_rng *r, int64_t t)
{
    if (sb_rng_permille(r, 100))
        return PF_NONE;
    /* Customers are stored in creation order: count those created before t. */
    uint32_t lo = 0, hi = d->customers.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->customers.v[mid].created < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? PF_NONE : (uint32_t)sb_rng_below(r, lo);
}

/* ---- orders ---- */

static int32_t line_qty(sb_rng *r, const pf_item *it)
{
    static const int32_t stems[] = {5, 7, 9, 11, 15, 21, 25, 51};
    if (it->fractional)
        return (int32_t)sb_rng_range(r, 1, 40) * 2500; /* 0.25 .. 10.00 */
    if (it->service)
        return (int32_t)PF_V4;
    if (sb_rng_permille(r, 500))
        return (int32_t)(sb_rng_range(r, 1, 3) * PF_V4);
    return stems[sb_rng_below(r, sizeof stems / sizeof stems[0])] * (int32_t)PF_V4;
}

/* Fills one line: the price of its item, and a discount, a markup or neither. */
static void make_line(pf_data *d, sb_rng *r, pf_line *l, uint32_t item, uint32_t bouquet)
{
    static const uint8_t pcts[] = {5, 10, 15, 20, 30};
    const pf_item *it = &d->items.v[item];
    memset(l, 0, sizeof *l);
    l->item = item;
    l->bouquet = bouquet;
    l->qty = line_qty(r, it);
    l->price = sb_rng_permille(r, 700) ? it->price_max : it->price_min;
    int64_t amount = l->qty * l->price / PF_V4;
    unsigned kind = (unsigned)sb_rng_below(r, 100);
    if (kind < 10) {
        l->discount_pct = pcts[sb_rng_below(r, sizeof pcts)];
        int64_t dprice = (l->price * (100 - l->discount_pct) + 5000) / 10000 * 100;
        l->total = l->qty * dprice / PF_V4;
    } else if (kind < 15) {
        l->manual = true;
        l->total = amount + sb_rng_range(r, 1, 20) * 50 * PF_V4;
    } else {
        l->total = amount;
    }
}

static uint32_t pick_goods(pf_data *d, sb_rng *r)
{
    for (int tries = 0; tries < 8; tries++) {
        uint32_t i = (uint32_t)sb_rng_below(r, d->items.n);
        if (!d->items.v[i].service)
            return i;
    }
    return (uint32_t)sb_rng_below(r, d->items.n);
}

/* Appends 1-6 lines for order o (space reserved by the caller) and sets its total.
 * Lines sharing a bouquet are that bouquet's components. */
static void make_lines(pf_data *d, sb_rng *r, pf_order *o)
{
    static const unsigned cumulative[] = {35, 60, 78, 90, 96, 100};
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    unsigned n = 1;
    while (roll >= cumulative[n - 1])
        n++;
    o->line_start = d->lines.n;
    o->total = 0;
    unsigned done = 0;
    while (done < n) {
        unsigned group = 1;
        uint32_t bouquet = PF_NONE;
        if (d->bouquets.n > 0 && n - done >= 2 && sb_rng_permille(r, 250)) {
            group = (unsigned)sb_rng_range(r, 2, n - done < 4 ? n - done : 4);
            bouquet = (uint32_t)sb_rng_below(r, d->bouquets.n);
        }
        for (unsigned k = 0; k < group; k++) {
            uint32_t item =
                bouquet != PF_NONE ? pick_goods(d, r) : (uint32_t)sb_rng_below(r, d->items.n);
            pf_line *l = &d->lines.v[d->lines.n++];
            make_line(d, r, l, item, bouquet);
            o->total += l->total;
        }
        done += group;
    }
    o->nlines = (uint8_t)n;
}

bool pf_payment_append(pf_data *d, uint32_t o, int type, int64_t amount, int64_t bonus, int method,
                       int64_t t)
{
    if (!PF_VEC_RESERVE(d->pays, d->pays.n + 1))
        return false;
    pf_order *ord = &d->orders.v[o];
    uint32_t p = d->pays.n;
    pf_payment *pay = &d->pays.v[p];
    memset(pay, 0, sizeof *pay);
    pay->amount = amount;
    pay->bonus = bonus;
    pay->created = t;
    pay->order = o;
    pay->next = PF_NONE;
    pay->parent = type == PF_PAY_PAYMENT ? PF_NONE : ord->pay_head;
    pay->type = (uint8_t)type;
    pay->method = (uint8_t)method;
    if (ord->pay_tail != PF_NONE)
        d->pays.v[ord->pay_tail].next = p;
    else
        ord->pay_head = p;
    ord->pay_tail = p;
    ord->npay++;
    ord->paid += type == PF_PAY_PAYMENT ? amount : -amount;
    d->pays.n++;
    return true;
}

/* Pays amount in one go: cash sometimes with change, cards sometimes partly with
 * bonus points (bonusAmount is informational: part of amount). */
static void pay_in_full(pf_data *d, sb_rng *r, uint32_t o, int64_t amount, int64_t t)
{
    int method = (int)sb_rng_below(r, PF_METHODS);
    if (method == 0 && sb_rng_permille(r, 400)) {
        int64_t note = 500 * PF_V4;
        int64_t tendered = (amount + note - 1) / note * note;
        pf_payment_append(d, o, PF_PAY_PAYMENT, tendered, 0, method, t);
        if (tendered > amount)
            pf_payment_append(d, o, PF_PAY_CHANGE, tendered - amount, 0, method, t);
        return;
    }
    int64_t bonus = 0;
    if (method == 1 && sb_rng_permille(r, 150)) {
        bonus = sb_rng_range(r, 50, 500) * PF_V4;
        if (bonus > amount)
            bonus = amount;
    }
    pf_payment_append(d, o, PF_PAY_PAYMENT, amount, bonus, method, t);
}

/* The payments an order in status has gone through between t and updated. */
static void settle(pf_data *d, sb_rng *r, uint32_t o, int status, int64_t t, int64_t updated)
{
    const pf_order *ord = &d->orders.v[o];
    int64_t total = ord->total;
    int64_t paid_at = t + sb_rng_range(r, 0, updated - t < 600 ? updated - t : 600);
    int method = (int)sb_rng_below(r, PF_METHODS);
    switch (status) {
    case PF_ST_NEW:
        if (sb_rng_permille(r, 300) && total >= 2 * PF_V4) /* a prepayment of half */
            pf_payment_append(d, o, PF_PAY_PAYMENT, total / 2 / PF_V4 * PF_V4, 0, method, t);
        break;
    case PF_ST_ASSEMBLED:
    case PF_ST_COURIER:
        pay_in_full(d, r, o, total, paid_at);
        break;
    case PF_ST_DONE:
        pay_in_full(d, r, o, total, paid_at);
        if (sb_rng_permille(r, 30)) { /* a partial refund: one line given back */
            const pf_line *l = &d->lines.v[ord->line_start + sb_rng_below(r, ord->nlines)];
            int64_t back = l->total < d->orders.v[o].paid ? l->total : d->orders.v[o].paid;
            if (back > 0)
                pf_payment_append(d, o, PF_PAY_RETURN, back, 0, method, updated);
        }
        break;
    case PF_ST_CANCELED:
        if (!sb_rng_permille(r, 300))
            break;
        pf_payment_append(d, o, PF_PAY_PAYMENT, total, 0, method, t);
        pf_payment_append(d, o, PF_PAY_RETURN, total, 0, method, updated);
        break;
    case PF_ST_RETURNED:
        pf_payment_append(d, o, PF_PAY_PAYMENT, total, 0, method, paid_at);
        pf_payment_append(d, o, PF_PAY_RETURN, total, 0, method, updated);
        break;
    default: /* notAccepted: never paid */
        break;
    }
}

bool pf_order_append(pf_data *d, sb_rng *r, int64_t t, int64_t updated, int status,
                     uint32_t customer)
{
    /* Reserve everything first so that nothing below can fail half-way. */
    if (!PF_VEC_RESERVE(d->orders, d->orders.n + 1) || !PF_VEC_RESERVE(d->lines, d->lines.n + 6) ||
        !PF_VEC_RESERVE(d->pays, d->pays.n + 4))
        return false;
    uint32_t idx = d->orders.n;
    pf_order *o = &d->orders.v[idx];
    memset(o, 0, sizeof *o);
    o->created = t;
    o->updated = o->status_at = updated;
    o->modified = updated + sb_rng_range(r, 0, 4);
    o->posted_at = status == PF_ST_DONE || status == PF_ST_RETURNED ? updated : 0;
    o->idkey = id_key(d, PF_K_ORDER, idx);
    o->customer = customer;
    o->pay_head = o->pay_tail = PF_NONE;
    o->store = (uint16_t)sb_rng_below(r, d->stores.n);
    o->status = (uint8_t)status;
    o->worker = (uint8_t)sb_rng_below(r, PF_WORKERS);
    o->source = (uint8_t)sb_rng_below(r, PF_SOURCES);
    o->delivery = sb_rng_permille(r, 200);
    make_lines(d, r, o);
    settle(d, r, idx, status, t, updated);
    d->orders.v[idx].revision = ++d->rev_orders;
    d->orders.n++;
    return true;
}

/* The status of an initial order, by its age: recent orders are often still open. */
static int initial_status(sb_rng *r, int64_t age)
{
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    if (age < 2 * SB_DAY)
        return roll < 25   ? PF_ST_NEW
               : roll < 40 ? PF_ST_ASSEMBLED
               : roll < 50 ? PF_ST_COURIER
               : roll < 90 ? PF_ST_DONE
               : roll < 97 ? PF_ST_CANCELED
                           : PF_ST_NOT_ACCEPTED;
    return roll < 84   ? PF_ST_DONE
           : roll < 93 ? PF_ST_CANCELED
           : roll < 95 ? PF_ST_NOT_ACCEPTED
           : roll < 98 ? PF_ST_RETURNED
           : roll < 99 ? PF_ST_NEW
                       : PF_ST_ASSEMBLED;
}

/* How long after creation an initial order was last updated. */
static int64_t initial_age_of_update(sb_rng *r, int status)
{
    switch (status) {
    case PF_ST_DONE:
        return sb_rng_range(r, 5 * 60, 6 * SB_HOUR);
    case PF_ST_CANCELED:
    case PF_ST_NOT_ACCEPTED:
        return sb_rng_range(r, 10 * 60, SB_DAY);
    case PF_ST_RETURNED:
        return sb_rng_range(r, SB_HOUR, 3 * SB_DAY);
    default:
        return sb_rng_range(r, 0, 2 * SB_HOUR);
    }
}

static bool gen_orders(pf_data *d, sb_rng *r, uint32_t n)
{
    if (!PF_VEC_RESERVE(d->orders, n) || !PF_VEC_RESERVE(d->lines, n * 4) ||
        !PF_VEC_RESERVE(d->pays, n + n / 4))
        return false;
    int64_t start = d->clock - 90 * SB_DAY, span = 90 * SB_DAY - 600;
    int64_t slot = span / n > 0 ? span / n : 1;
    for (uint32_t i = 0; i < n; i++) {
        int64_t created = start + (int64_t)i * span / n + sb_rng_range(r, 0, slot - 1);
        int status = initial_status(r, d->clock - created);
        int64_t updated = created + initial_age_of_update(r, status);
        if (updated > d->clock - 10) /* not in the future: somewhere until now */
            updated = created + sb_rng_range(r, 0, d->clock - 10 - created);
        uint32_t customer = pf_pick_customer(d, r, created);
        if (!pf_order_append(d, r, created, updated, status, customer))
            return false;
    }
    return rank_orders(d);
}

bool pf_status_is_revenue(int status)
{
    return status <= PF_ST_COURIER || status == PF_ST_DONE;
}

static int by_idkey(const void *a, const void *b, void *ctx)
{
    const pf_data *d = ctx;
    uint64_t x = d->orders.v[*(const uint32_t *)a].idkey,
             y = d->orders.v[*(const uint32_t *)b].idkey;
    return x < y ? -1 : x > y;
}

/* median_order and off_order (see pf_data): ids order like idkey. */
static bool pick_mismatch_orders(pf_data *d)
{
    uint32_t n = d->orders.n;
    d->median_order = d->off_order = d->hidden_order = PF_NONE;
    if (n == 0)
        return true;
    uint32_t *pos = malloc(n * sizeof *pos);
    if (pos == NULL)
        return false;
    for (uint32_t i = 0; i < n; i++)
        pos[i] = i;
    qsort_r(pos, n, sizeof *pos, by_idkey, d);
    uint32_t m = (n - 1) / 2;
    d->median_order = pos[m];
    for (uint32_t k = 1; k < n && d->off_order == PF_NONE; k++) {
        uint32_t i = pos[(m + k) % n];
        if (pf_status_is_revenue(d->orders.v[i].status))
            d->off_order = i;
    }
    free(pos);
    return true;
}

void pf_data_mismatch(pf_data *d, const sb_mismatch *m)
{
    d->hidden_order = sb_mismatch_hides(m, SB_V_POSIFLORA) ? d->median_order : PF_NONE;
    d->amount_off = sb_mismatch_amount_off(m, SB_V_POSIFLORA) && d->off_order != PF_NONE;
}

bool pf_data_generate(pf_data *d, uint64_t seed, double scale)
{
    memset(d, 0, sizeof *d);
    d->seed = seed;
    d->scale = scale;
    d->clock = SB_CLOCK_START;
    d->rev_stores = (int64_t)(sb_hash64(seed, 1) % 50);
    d->rev_cats = (int64_t)(sb_hash64(seed, 2) % 50);
    d->rev_bouquets = 100 + (int64_t)(sb_hash64(seed, 3) % 900);
    d->rev_customers = 1000 + (int64_t)(sb_hash64(seed, 4) % 9000);
    d->rev_orders = 100000 + (int64_t)(sb_hash64(seed, 5) % 50000);
    sb_rng r;
    sb_rng_seed(&r, sb_hash64(seed, 0x9e4e));
    bool ok = gen_stores(d, scaled(scale, 5, 5)) && gen_categories(d, &r, scaled(scale, 30, 6)) &&
              gen_items(d, &r, scaled(scale, 400, 20)) &&
              gen_bouquets(d, &r, scaled(scale, 60, 5)) &&
              gen_customers(d, &r, scaled(scale, 2000, 20)) &&
              gen_orders(d, &r, scaled(scale, 5000, 50)) && pick_mismatch_orders(d);
    if (!ok) {
        pf_data_free(d);
        return false;
    }
    d->base_orders = d->orders.n;
    d->base_customers = d->customers.n;
    d->base_items = d->items.n;
    d->version = 1;
    return true;
}
