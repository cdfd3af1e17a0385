/* Posiflora data over time: the advance steps (what changes in a sandbox hour) and
 * the ground truth of what the API serves now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_pf.h"
#include "sb_time.h"

/* About rate (per mille of base) events, +-20 %, at least one. */
static long how_many(sb_rng *r, uint32_t base, unsigned per_mille)
{
    int64_t n = (int64_t)base * per_mille / 1000;
    n = n * sb_rng_range(r, 80, 120) / 100;
    return n < 1 ? 1 : (long)n;
}

/* The first order created at or after t (orders are stored in creation order). */
static uint32_t first_order_since(const pf_data *d, int64_t t)
{
    uint32_t lo = 0, hi = d->orders.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->orders.v[mid].created < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A random order of the last week (or any order when the week is empty). */
static uint32_t pick_recent_order(const pf_data *d, sb_rng *r, int64_t t)
{
    uint32_t from = first_order_since(d, t - 7 * SB_DAY);
    if (from >= d->orders.n)
        from = 0;
    return from + (uint32_t)sb_rng_below(r, d->orders.n - from);
}

/* Stamps a write to order o at t: updatedAt, modifiedAt, a new revision. */
static void touch_order(pf_data *d, sb_rng *r, uint32_t o, int64_t t)
{
    pf_order *ord = &d->orders.v[o];
    ord->updated = t;
    ord->modified = t + sb_rng_range(r, 0, 4);
    ord->revision = ++d->rev_orders;
}

/* The status an order moves to next, or -1 when it stays. */
static int next_status(sb_rng *r, int status)
{
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    switch (status) {
    case PF_ST_NEW:
        return roll < 60 ? PF_ST_ASSEMBLED : roll < 75 ? PF_ST_CANCELED : PF_ST_DONE;
    case PF_ST_ASSEMBLED:
        return roll < 50 ? PF_ST_COURIER : PF_ST_DONE;
    case PF_ST_COURIER:
        return roll < 95 ? PF_ST_DONE : PF_ST_NOT_ACCEPTED;
    case PF_ST_DONE:
        return roll < 5 ? PF_ST_RETURNED : -1;
    default:
        return -1;
    }
}

static bool change_status(pf_data *d, sb_rng *r, int64_t t, pf_changes *ch)
{
    for (int tries = 0; tries < 32; tries++) {
        uint32_t o = pick_recent_order(d, r, t);
        pf_order *ord = &d->orders.v[o];
        int next = next_status(r, ord->status);
        if (next < 0)
            continue;
        int method = (int)sb_rng_below(r, PF_METHODS);
        if (next == PF_ST_DONE && ord->total > ord->paid) {
            if (!pf_payment_append(d, o, PF_PAY_PAYMENT, ord->total - ord->paid, 0, method, t))
                return false;
            ch->payments_created++;
        } else if (next != PF_ST_DONE && ord->paid > 0) {
            if (!pf_payment_append(d, o, PF_PAY_RETURN, ord->paid, 0, method, t))
                return false;
            ch->refunds_created++;
        }
        ord->status = (uint8_t)next;
        ord->status_at = t;
        if (next == PF_ST_DONE)
            ord->posted_at = t;
        touch_order(d, r, o, t);
        ch->orders_status_changed++;
        return true;
    }
    return true;
}

/* A payment on an open order that is not fully paid, or a refund of one line on
 * a completed one. */
static bool add_payment(pf_data *d, sb_rng *r, int64_t t, pf_changes *ch)
{
    for (int tries = 0; tries < 32; tries++) {
        uint32_t o = pick_recent_order(d, r, t);
        pf_order *ord = &d->orders.v[o];
        int method = (int)sb_rng_below(r, PF_METHODS);
        bool open = ord->status == PF_ST_NEW || ord->status == PF_ST_ASSEMBLED ||
                    ord->status == PF_ST_COURIER;
        if (open && ord->paid < ord->total) {
            if (!pf_payment_append(d, o, PF_PAY_PAYMENT, ord->total - ord->paid, 0, method, t))
                return false;
            ch->payments_created++;
        } else if (ord->status == PF_ST_DONE && ord->paid > 0) {
            const pf_line *l = &d->lines.v[ord->line_start + sb_rng_below(r, ord->nlines)];
            int64_t back = l->total < ord->paid ? l->total : ord->paid;
            if (!pf_payment_append(d, o, PF_PAY_RETURN, back, 0, method, t))
                return false;
            ch->refunds_created++;
        } else {
            continue;
        }
        touch_order(d, r, o, t);
        return true;
    }
    return true;
}

static bool new_order(pf_data *d, sb_rng *r, int64_t t, pf_changes *ch)
{
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    int status = roll < 60 ? PF_ST_NEW : roll < 95 ? PF_ST_DONE : PF_ST_ASSEMBLED;
    if (!pf_order_append(d, r, t, t, status, pf_pick_customer(d, r, t)))
        return false;
    ch->orders_created++;
    return true;
}

static void edit_customer(pf_data *d, sb_rng *r, int64_t t, pf_changes *ch)
{
    pf_customer *c = &d->customers.v[sb_rng_below(r, d->customers.n)];
    c->version++;
    c->points += (int32_t)sb_rng_range(r, -100, 300);
    if (c->points < 0)
        c->points = 0;
    if (sb_rng_permille(r, 50))
        c->status = (uint8_t)sb_rng_below(r, 3);
    c->updated = t;
    c->revision = ++d->rev_customers;
    ch->customers_updated++;
}

/* Moves an item's prices by -10..+10 % (whole roubles, at least 1). */
static void edit_item(pf_data *d, sb_rng *r, int64_t t, pf_changes *ch)
{
    pf_item *it = &d->items.v[sb_rng_below(r, d->items.n)];
    int64_t pct = sb_rng_range(r, 90, 110);
    int64_t spread = it->price_max - it->price_min;
    it->price_min = it->price_min * pct / 100 / PF_V4 * PF_V4;
    if (it->price_min < PF_V4)
        it->price_min = PF_V4;
    it->price_max = it->price_min + spread;
    it->updated = t;
    it->version++;
    ch->items_updated++;
}

enum { EV_NEW_CUSTOMER, EV_EDIT_CUSTOMER, EV_EDIT_ITEM, EV_NEW_ORDER, EV_STATUS, EV_PAYMENT, EV_N };

/* One sandbox hour. Events are stamped at increasing seconds inside the hour, in
 * the order they are applied, so revisions grow with updatedAt. */
static bool advance_step(pf_data *d, pf_changes *ch)
{
    sb_rng r;
    sb_rng_seed(&r, sb_hash3(d->seed, 0xadd, (uint64_t)d->steps + 1));
    long count[EV_N] = {
        [EV_NEW_CUSTOMER] = how_many(&r, d->base_customers, 5),
        [EV_EDIT_CUSTOMER] = how_many(&r, d->base_customers, 5),
        [EV_EDIT_ITEM] = how_many(&r, d->base_items, 5),
        [EV_NEW_ORDER] = how_many(&r, d->base_orders, 10),
        [EV_STATUS] = how_many(&r, d->base_orders, 5),
        [EV_PAYMENT] = how_many(&r, d->base_orders, 2),
    };
    long total = 0;
    for (int k = 0; k < EV_N; k++)
        total += count[k];
    long e = 0;
    for (int k = 0; k < EV_N; k++)
        for (long i = 0; i < count[k]; i++, e++) {
            int64_t t = d->clock + (int64_t)e * (SB_HOUR - 10) / total;
            bool ok = true;
            switch (k) {
            case EV_NEW_CUSTOMER:
                ok = pf_customer_append(d, &r, t);
                ch->customers_created += ok;
                break;
            case EV_EDIT_CUSTOMER:
                edit_customer(d, &r, t, ch);
                break;
            case EV_EDIT_ITEM:
                edit_item(d, &r, t, ch);
                break;
            case EV_NEW_ORDER:
                ok = new_order(d, &r, t, ch);
                break;
            case EV_STATUS:
                ok = change_status(d, &r, t, ch);
                break;
            default:
                ok = add_payment(d, &r, t, ch);
                break;
            }
            if (!ok)
                return false;
        }
    d->clock += SB_HOUR;
    d->steps++;
    return true;
}

bool pf_data_advance(pf_data *d, int steps, pf_changes *ch)
{
    bool ok = true;
    for (int s = 0; s < steps && ok; s++)
        ok = advance_step(d, ch);
    d->version++;
    return ok;
}

void pf_data_add_poison(pf_data *d)
{
    for (uint32_t i = d->orders.n / 3; i < d->orders.n; i++)
        if (d->orders.v[i].status == PF_ST_DONE && d->orders.v[i].npay > 0) {
            d->orders.v[i].poison = true;
            d->version++;
            return;
        }
}

/* ---- ground truth ---- */

typedef struct {
    long count;
    int64_t total;
} tally;

static void put_count(sb_buf *out, const char *metric, long long v)
{
    sb_buf_printf(out, "posiflora\t%s\t%lld\n", metric, v);
}

static void put_sum(sb_buf *out, const char *metric, int64_t v4)
{
    sb_buf_printf(out, "posiflora\t%s\t", metric);
    sb_buf_put_fixed4(out, v4);
    sb_buf_putc(out, '\n');
}

static void truth_orders(const pf_data *d, sb_buf *out, tally *days, int64_t first_day,
                         tally *stores)
{
    long groups[4] = {0}, no_customer = 0, lines = 0, count = 0;
    int64_t total = 0, paid = 0, qty = 0, line_total = 0;
    for (uint32_t i = 0; i < d->orders.n; i++) {
        const pf_order *o = &d->orders.v[i];
        if (o->poison)
            continue;
        count++;
        total += o->total;
        paid += o->paid;
        int s = o->status;
        groups[s <= PF_ST_COURIER ? 0 : s == PF_ST_DONE ? 1 : s == PF_ST_RETURNED ? 3 : 2]++;
        no_customer += o->customer == PF_NONE;
        for (uint32_t l = o->line_start; l < o->line_start + o->nlines; l++) {
            qty += d->lines.v[l].qty;
            line_total += d->lines.v[l].total;
        }
        lines += o->nlines;
        tally *day = &days[o->created / SB_DAY - first_day];
        day->count++;
        day->total += o->total;
        stores[o->store].count++;
        stores[o->store].total += o->total;
    }
    put_count(out, "orders.count", count);
    put_sum(out, "orders.total", total);
    put_sum(out, "orders.paid_total", paid);
    put_count(out, "orders.status_group.open", groups[0]);
    put_count(out, "orders.status_group.completed", groups[1]);
    put_count(out, "orders.status_group.canceled", groups[2]);
    put_count(out, "orders.status_group.returned", groups[3]);
    put_count(out, "orders.no_customer", no_customer);
    put_count(out, "order_lines.count", lines);
    put_sum(out, "order_lines.quantity", qty);
    put_sum(out, "order_lines.line_total", line_total);
}

static void truth_payments(const pf_data *d, sb_buf *out)
{
    int64_t amount = 0, bonus = 0, count = 0;
    for (uint32_t i = 0; i < d->pays.n; i++) {
        const pf_payment *p = &d->pays.v[i];
        if (d->orders.v[p->order].poison)
            continue;
        count++;
        amount += p->type == PF_PAY_PAYMENT ? p->amount : -p->amount;
        bonus += p->bonus;
    }
    put_count(out, "payments.count", count);
    put_sum(out, "payments.amount", amount);
    put_sum(out, "payments.bonus_amount", bonus);
}

/* The `mismatch` lines (docs/sandbox.md): which order the switches pick, whether
 * they are on. The posiflora lines always describe the full data. */
static void truth_mismatch(const pf_data *d, sb_buf *out)
{
    char id[PF_ID_LEN + 1];
    if (d->median_order == PF_NONE)
        return;
    pf_id(d, PF_K_ORDER, d->median_order, id);
    sb_buf_printf(out, "mismatch\tposiflora.median_order\t%s\n", id);
    if (d->hidden_order != PF_NONE)
        sb_buf_printf(out, "mismatch\tposiflora.hidden_order\t%s\n", id);
    if (d->off_order == PF_NONE)
        return;
    pf_id(d, PF_K_ORDER, d->off_order, id);
    sb_buf_printf(out, "mismatch\tposiflora.amount_off_order\t%s\n", id);
    if (d->amount_off)
        sb_buf_printf(out, "mismatch\tposiflora.amount_off\t0.0100\n");
}

void pf_data_truth(const pf_data *d, sb_buf *out)
{
    put_count(out, "stores.count", d->stores.n);
    put_count(out, "categories.count", d->cats.n);
    put_count(out, "products.count", (long long)d->items.n + d->bouquets.n);
    put_count(out, "customers.count", d->customers.n);
    truth_payments(d, out);
    /* Orders are stored in creation order, so the first and last give the day range. */
    int64_t first_day = d->orders.n ? d->orders.v[0].created / SB_DAY : 0;
    int64_t ndays = d->orders.n ? d->orders.v[d->orders.n - 1].created / SB_DAY - first_day + 1 : 1;
    tally *days = calloc((size_t)ndays, sizeof *days);
    tally *stores = calloc(d->stores.n + 1, sizeof *stores);
    if (days == NULL || stores == NULL) {
        out->failed = true;
        goto done;
    }
    truth_orders(d, out, days, first_day, stores);
    for (int64_t k = 0; k < ndays; k++) {
        if (days[k].count == 0)
            continue;
        char date[16], metric[64];
        sb_time_date((first_day + k) * SB_DAY, date);
        snprintf(metric, sizeof metric, "day.%s.orders", date);
        put_count(out, metric, days[k].count);
        snprintf(metric, sizeof metric, "day.%s.total", date);
        put_sum(out, metric, days[k].total);
    }
    for (uint32_t s = 0; s < d->stores.n; s++) {
        char id[PF_ID_LEN + 1], metric[96];
        pf_id(d, PF_K_STORE, s, id);
        snprintf(metric, sizeof metric, "store.%s.orders", id);
        put_count(out, metric, stores[s].count);
        snprintf(metric, sizeof metric, "store.%s.total", id);
        put_sum(out, metric, stores[s].total);
    }
    for (uint32_t i = 0; i < d->orders.n; i++)
        if (d->orders.v[i].poison) {
            char id[PF_ID_LEN + 1];
            pf_id(d, PF_K_ORDER, i, id);
            sb_buf_printf(out,
                          "hostile\tposiflora.orders.rejects\t1\n"
                          "hostile\tposiflora.orders.reject_ids\t%s\n",
                          id);
        }
    truth_mismatch(d, out);
done:
    free(days);
    free(stores);
}
