/* sb_gf_data: the Goflow module's data: generation from (seed, scale), advance
 * steps, ground truth and the JSON of each record. See sb_gf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sb_gf.h"
#include "sb_time.h"

const char *const gf_status_names[GF_ST_COUNT] = {"awaiting_confirmation",
                                                  "ready_to_pick",
                                                  "in_picking",
                                                  "in_packing",
                                                  "on_hold",
                                                  "backorder",
                                                  "shipped",
                                                  "canceled"};
enum { ST_SHIPPED = 6, ST_CANCELED = 7 };

const char *gf_status_group(int status)
{
    if (status == ST_SHIPPED)
        return "completed";
    if (status == ST_CANCELED)
        return "canceled";
    return "open";
}

bool gf_product_stocked(const gf_product *p)
{
    return strcmp(p->type, "group") != 0;
}

/* ---- time ------------------------------------------------------------------------ */

void gf_put_time(sb_buf *b, int64_t ticks)
{
    char iso[32];
    int64_t secs = ticks / GF_TICKS, frac = ticks % GF_TICKS;
    if (frac < 0) {
        frac += GF_TICKS;
        secs--;
    }
    sb_time_date(secs, iso); /* YYYY-MM-DD */
    char full[32];
    sb_time_iso(secs, full); /* YYYY-MM-DDTHH:MM:SS+00:00 */
    full[19] = '\0';
    sb_buf_printf(b, "%s.%07lldZ", full, (long long)frac);
}

bool gf_parse_time(const char *s, int64_t *ticks)
{
    char head[64];
    const char *dot = strchr(s, '.');
    int64_t secs, frac = 0;
    size_t n = strlen(s);
    if (n >= sizeof head)
        return false;
    if (!dot) {
        if (!sb_time_parse(s, &secs))
            return false;
        *ticks = secs * GF_TICKS;
        return true;
    }
    size_t pre = (size_t)(dot - s), i = 1, digits = 0;
    memcpy(head, s, pre);
    for (; dot[i] >= '0' && dot[i] <= '9'; i++) {
        if (digits < 7) {
            frac = frac * 10 + (dot[i] - '0');
            digits++;
        }
    }
    if (digits == 0)
        return false;
    for (; digits < 7; digits++)
        frac *= 10;
    snprintf(head + pre, sizeof head - pre, "%s", dot + i);
    if (!sb_time_parse(head, &secs))
        return false;
    *ticks = secs * GF_TICKS + frac;
    return true;
}

int64_t gf_now_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * GF_TICKS + ts.tv_nsec / 100;
}

/* ---- generation ------------------------------------------------------------------- */

static void put_uuid(char dst[37], uint64_t a, uint64_t b)
{
    snprintf(dst, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static const char *const channels[] = {"amazon_seller_central", "shopify", "ebay", "walmart",
                                       "etsy"};
static const char *const brands[] = {"Acme", "Globex", "Initech", "Umbrella", "Ромашка"};
static const char *const nouns[] = {"Vase",   "Rose bouquet", "Tulip set", "Планшет",
                                    "Ribbon", "Gift box",     "Card",      "Орхидея"};

static bool gen_stores(gf_data *d, sb_rng *r)
{
    d->nstores = 5;
    d->stores = calloc(d->nstores, sizeof *d->stores);
    if (!d->stores)
        return false;
    for (size_t i = 0; i < d->nstores; i++) {
        gf_store *s = &d->stores[i];
        s->id = 1001 + (int64_t)i * 7;
        s->channel = channels[i];
        snprintf(s->name, sizeof s->name, "%s store %zu", channels[i], i + 1);
        s->status = i == 4 ? "inactive" : "active";
        s->currency = i == 2 ? "eur" : "usd";
    }
    (void)r;
    return true;
}

static bool gen_whs(gf_data *d, sb_rng *r)
{
    static const char *const names[] = {"Main \"A\" Warehouse", "East 3PL, Reno", "Склад Москва"};
    static const char *const types[] = {"standard", "third_party", "standard"};
    d->nwhs = 3;
    d->whs = calloc(d->nwhs, sizeof *d->whs);
    if (!d->whs)
        return false;
    for (size_t i = 0; i < d->nwhs; i++) {
        gf_wh *w = &d->whs[i];
        put_uuid(w->id, sb_hash3(d->seed, 2, i), sb_hash3(d->seed, 3, i));
        snprintf(w->name, sizeof w->name, "%s", names[i]);
        w->type = types[i];
        snprintf(w->street, sizeof w->street, "%d Commerce Way", 100 + (int)sb_rng_below(r, 800));
        snprintf(w->city, sizeof w->city, "%s", i == 2 ? "Москва" : "Reno");
        snprintf(w->state, sizeof w->state, "%s", i == 2 ? "" : "NV");
        snprintf(w->zip, sizeof w->zip, "%05u", 89500u + (unsigned)(i % 100));
    }
    return true;
}

static bool gen_products(gf_data *d, sb_rng *r)
{
    size_t n = 60 + (size_t)(240 * d->scale);
    d->nproducts = n;
    d->products = calloc(n, sizeof *d->products);
    d->children = calloc(n * 3, sizeof *d->children);
    if (!d->products || !d->children)
        return false;
    for (size_t i = 0; i < n; i++) {
        gf_product *p = &d->products[i];
        p->id = 50000 + (int64_t)i * 3;
        snprintf(p->sku, sizeof p->sku, "GF-%05zu", i);
        snprintf(p->name, sizeof p->name, "%s %zu", nouns[sb_rng_below(r, 8)], i);
        p->brand = brands[sb_rng_below(r, 5)];
        p->status = sb_rng_permille(r, 900) ? "active" : "inactive";
        p->price4 = sb_rng_range(r, 199, 19999) * 100;
        p->cost4 = p->price4 * sb_rng_range(r, 30, 70) / 100 / 100 * 100;
        p->type = "standard";
        unsigned roll = (unsigned)sb_rng_below(r, 100);
        if (i >= 10 && roll < 15) {
            p->type = roll < 10 ? "kit" : "group";
            p->child_first = (uint32_t)d->nchildren;
            p->nchild = 2 + (uint32_t)sb_rng_below(r, 2);
            for (uint32_t c = 0; c < p->nchild; c++) {
                gf_child *ch = &d->children[d->nchildren++];
                ch->product_id = d->products[(i + c * 7) % 10].id;
                ch->qty4 = (1 + (int64_t)sb_rng_below(r, 4)) * GF_V4;
            }
        }
    }
    return true;
}

static bool grow_orders(gf_data *d, size_t more_orders, size_t more_lines)
{
    if (d->norders + more_orders > d->cap_orders) {
        size_t cap = (d->norders + more_orders) * 2;
        gf_order *p = realloc(d->orders, cap * sizeof *p);
        if (!p)
            return false;
        d->orders = p;
        d->cap_orders = cap;
    }
    if (d->nlines + more_lines > d->cap_lines) {
        size_t cap = (d->nlines + more_lines) * 2;
        gf_line *p = realloc(d->lines, cap * sizeof *p);
        if (!p)
            return false;
        d->lines = p;
        d->cap_lines = cap;
    }
    return true;
}

static void gen_line(gf_data *d, sb_rng *r, gf_line *l)
{
    const gf_product *p;
    do
        p = &d->products[sb_rng_below(r, d->nproducts)];
    while (strcmp(p->type, "group") == 0);
    put_uuid(l->id, sb_rng_next(r), sb_rng_next(r));
    l->product_id = p->id;
    l->qty4 = (1 + (int64_t)sb_rng_below(r, 5)) * GF_V4;
    l->price4 = p->price4;
    l->disc4 = sb_rng_permille(r, 300) ? sb_rng_range(r, 1, 500) * 100 : 0;
    l->tax4 = sb_rng_permille(r, 500) ? sb_rng_range(r, 1, 900) * 100 : 0;
    l->cost4 = p->cost4 * (l->qty4 / GF_V4);
}

/* A new order at time `at` (ticks) with 1-4 lines. */
static bool add_order(gf_data *d, sb_rng *r, int64_t at, int status)
{
    uint32_t nl = 1 + (uint32_t)sb_rng_below(r, 4);
    if (!grow_orders(d, 1, nl))
        return false;
    gf_order *o = &d->orders[d->norders++];
    memset(o, 0, sizeof *o);
    o->id = d->next_order_id;
    d->next_order_id += 1 + (int64_t)sb_rng_below(r, 3);
    const gf_store *s = &d->stores[sb_rng_below(r, d->nstores)];
    o->store_id = s->id;
    o->currency = s->currency;
    o->wh = (uint32_t)sb_rng_below(r, d->nwhs);
    o->date = at;
    o->status = status;
    o->status_at =
        at + (status == 0 ? 0 : (int64_t)sb_rng_below(r, 48 * 3600) * GF_TICKS + 1234567);
    if (o->status_at > d->clock)
        o->status_at = d->clock - (int64_t)sb_rng_below(r, 3600) * GF_TICKS - 1;
    if (o->status_at < o->date)
        o->status_at = o->date;
    o->disc4 = sb_rng_permille(r, 200) ? sb_rng_range(r, 1, 1000) * 100 : 0;
    o->ship4 = sb_rng_permille(r, 600) ? sb_rng_range(r, 299, 1999) * 100 : 0;
    o->tax4 = sb_rng_permille(r, 200) ? sb_rng_range(r, 1, 300) * 100 : 0;
    o->line_first = (uint32_t)d->nlines;
    o->nlines = nl;
    for (uint32_t i = 0; i < nl; i++)
        gen_line(d, r, &d->lines[d->nlines++]);
    return true;
}

static int random_status(sb_rng *r)
{
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    if (roll < 60)
        return ST_SHIPPED;
    if (roll < 70)
        return ST_CANCELED;
    return (int)sb_rng_below(r, 6);
}

static bool gen_orders(gf_data *d, sb_rng *r)
{
    size_t n = 20 + (size_t)(2000 * d->scale);
    int64_t span = 120 * (int64_t)SB_DAY;
    d->next_order_id = 700000;
    for (size_t i = 0; i < n; i++) {
        int64_t at = (SB_CLOCK_START - span + (int64_t)sb_rng_below(r, (uint64_t)span)) * GF_TICKS +
                     (int64_t)sb_rng_below(r, GF_TICKS);
        if (!add_order(d, r, at, random_status(r)))
            return false;
        /* One order in a hundred is a piece of a split whose original is gone. */
        if (sb_rng_permille(r, 10))
            d->orders[d->norders - 1].original_id = 900000000 + (int64_t)i;
    }
    return true;
}

static bool gen_stock(gf_data *d, sb_rng *r)
{
    d->stock = calloc(d->nproducts * d->nwhs, sizeof *d->stock);
    if (!d->stock)
        return false;
    for (size_t p = 0; p < d->nproducts; p++)
        for (size_t w = 0; w < d->nwhs; w++) {
            gf_stock *s = &d->stock[p * d->nwhs + w];
            s->on_hand = (int64_t)sb_rng_below(r, 200);
            s->available = s->on_hand - (int64_t)sb_rng_below(r, (uint64_t)s->on_hand / 4 + 1);
            s->on_order = sb_rng_permille(r, 300) ? (int64_t)sb_rng_below(r, 100) : 0;
        }
    return true;
}

void gf_data_free(gf_data *d)
{
    free(d->stores);
    free(d->whs);
    free(d->products);
    free(d->children);
    free(d->orders);
    free(d->lines);
    free(d->stock);
    memset(d, 0, sizeof *d);
}

bool gf_data_generate(gf_data *d, uint64_t seed, double scale)
{
    sb_rng r;
    memset(d, 0, sizeof *d);
    d->seed = seed;
    d->scale = scale;
    d->clock = SB_CLOCK_START * GF_TICKS;
    sb_rng_seed(&r, sb_hash64(seed, 0x60f10));
    if (!gen_stores(d, &r) || !gen_whs(d, &r) || !gen_products(d, &r) || !gen_orders(d, &r) ||
        !gen_stock(d, &r)) {
        gf_data_free(d);
        return false;
    }
    return true;
}

bool gf_data_add_poison(gf_data *d)
{
    static const int kinds[] = {GF_POISON_YEAR0, GF_POISON_HUGE_LINE, GF_POISON_ID0};
    sb_rng r;
    sb_rng_seed(&r, sb_hash64(d->seed, 0x9015));
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        /* 100 days before the clock, a few hours apart, shipped at once. */
        int64_t at = (SB_CLOCK_START - 100 * (int64_t)SB_DAY + (int64_t)k * 3 * 3600) * GF_TICKS;
        int64_t next_id = d->next_order_id;
        if (!add_order(d, &r, at, ST_SHIPPED))
            return false;
        gf_order *o = &d->orders[d->norders - 1];
        o->status_at = at + 60 * GF_TICKS;
        o->poison = kinds[k];
        if (kinds[k] == GF_POISON_ID0) {
            o->id = 0;
            d->next_order_id = next_id;
        }
    }
    d->poison = true;
    d->version++;
    return true;
}

/* ---- advance ---------------------------------------------------------------------- */

/* An open, not deleted order picked at random (NULL after a few misses). */
static gf_order *pick_order(gf_data *d, sb_rng *r, bool open_only, int64_t min_date)
{
    for (int tries = 0; tries < 64; tries++) {
        gf_order *o = &d->orders[sb_rng_below(r, d->norders)];
        if (o->deleted || o->date < min_date ||
            (open_only && strcmp(gf_status_group(o->status), "open") != 0))
            continue;
        return o;
    }
    return NULL;
}

/* The original disappears; two pieces with its lines split between them (the
 * first line to the first piece) carry original_order_id. */
static bool split_order(gf_data *d, sb_rng *r, size_t idx, int64_t now)
{
    gf_order orig = d->orders[idx];
    if (orig.nlines < 2)
        return true;
    if (!grow_orders(d, 2, orig.nlines))
        return false;
    d->orders[idx].deleted = true;
    for (int piece = 0; piece < 2; piece++) {
        gf_order *o = &d->orders[d->norders++];
        *o = orig;
        o->id = d->next_order_id++;
        o->original_id = orig.id;
        o->status_at = now;
        o->line_first = (uint32_t)d->nlines;
        o->nlines = piece == 0 ? 1 : orig.nlines - 1;
        if (piece == 1) {
            o->disc4 = o->ship4 = o->tax4 = 0;
        }
        for (uint32_t i = 0; i < o->nlines; i++) {
            gf_line *l = &d->lines[d->nlines++];
            *l = d->lines[orig.line_first + (piece == 0 ? 0 : 1 + i)];
            put_uuid(l->id, sb_rng_next(r), sb_rng_next(r));
        }
    }
    return true;
}

static bool advance_step(gf_data *d, gf_changes *ch)
{
    sb_rng r;
    int64_t start = d->clock;
    sb_rng_seed(&r, sb_hash3(d->seed, 0xadd, (uint64_t)d->steps));
    d->clock += 3600 * GF_TICKS;
    d->steps++;
    long created = 1 + (long)(d->scale * 2);
    for (long i = 0; i < created; i++) {
        int64_t at = start + (int64_t)sb_rng_below(&r, 3600 * GF_TICKS);
        if (!add_order(d, &r, at, 0))
            return false;
        d->orders[d->norders - 1].status_at = at;
        ch->orders_created++;
    }
    for (int i = 0; i < 2; i++) {
        gf_order *o = pick_order(d, &r, true, 0);
        if (!o)
            continue;
        o->status = sb_rng_permille(&r, 800) ? ST_SHIPPED : ST_CANCELED;
        o->status_at = start + (int64_t)sb_rng_below(&r, 3600 * GF_TICKS);
        ch->orders_status_changed++;
    }
    /* An edit that keeps the status: only a re-scan by date finds it. */
    gf_order *e = pick_order(d, &r, false, d->clock - 3 * (int64_t)SB_DAY * GF_TICKS);
    if (e) {
        e->ship4 += 150 * 100;
        ch->orders_edited++;
    }
    if (d->steps % 6 == 0) {
        gf_order *s = pick_order(d, &r, true, 0);
        if (s && s->nlines >= 2) {
            if (!split_order(d, &r, (size_t)(s - d->orders), start + 1800 * GF_TICKS))
                return false;
            ch->orders_split++;
        }
    }
    for (int i = 0; i < 5; i++) {
        gf_stock *s = &d->stock[sb_rng_below(&r, d->nproducts * d->nwhs)];
        s->on_hand += 10;
        s->available += 7;
        ch->stock_changed++;
    }
    d->version++;
    return true;
}

bool gf_data_advance(gf_data *d, int steps, gf_changes *ch)
{
    for (int i = 0; i < steps; i++)
        if (!advance_step(d, ch))
            return false;
    return true;
}

/* ---- sums and truth -------------------------------------------------------------- */

bool gf_order_rejected(const gf_order *o)
{
    return o->poison == GF_POISON_YEAR0 || o->poison == GF_POISON_HUGE_LINE;
}

static int64_t line_total4(const gf_line *l)
{
    return l->price4 * (l->qty4 / GF_V4) - l->disc4;
}

void gf_order_sums_of(const gf_data *d, const gf_order *o, gf_order_sums *s)
{
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < o->nlines; i++) {
        const gf_line *l = &d->lines[o->line_first + i];
        s->subtotal4 += line_total4(l);
        s->line_tax4 += l->tax4;
    }
    s->total4 = s->subtotal4 - o->disc4 + o->ship4 + o->tax4 + s->line_tax4;
}

typedef struct {
    char date[11];
    long orders;
    int64_t total4;
} day_sum;

static int by_date(const void *a, const void *b)
{
    return strcmp(((const day_sum *)a)->date, ((const day_sum *)b)->date);
}

static void truth_days(const gf_data *d, sb_buf *out)
{
    day_sum *days = calloc(d->norders + 1, sizeof *days);
    size_t n = 0;
    if (!days) {
        out->failed = true;
        return;
    }
    for (size_t i = 0; i < d->norders; i++) {
        const gf_order *o = &d->orders[i];
        gf_order_sums s;
        if (o->deleted || gf_order_rejected(o))
            continue;
        gf_order_sums_of(d, o, &s);
        sb_time_date(o->date / GF_TICKS, days[n].date);
        days[n].orders = 1;
        days[n].total4 = s.total4;
        n++;
    }
    qsort(days, n, sizeof *days, by_date);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        long cnt = days[i].orders;
        int64_t tot = days[i].total4;
        for (; j < n && strcmp(days[j].date, days[i].date) == 0; j++) {
            cnt += days[j].orders;
            tot += days[j].total4;
        }
        sb_buf_printf(out, "goflow\tday.%s.orders\t%ld\ngoflow\tday.%s.total\t", days[i].date, cnt,
                      days[i].date);
        sb_buf_put_fixed4(out, tot);
        sb_buf_putc(out, '\n');
        i = j;
    }
    free(days);
}

static void metric4(sb_buf *out, const char *name, int64_t v4)
{
    sb_buf_printf(out, "goflow\t%s\t", name);
    sb_buf_put_fixed4(out, v4);
    sb_buf_putc(out, '\n');
}

void gf_data_truth(const gf_data *d, sb_buf *out)
{
    long orders = 0, lines = 0, groups[3] = {0}, components = 0, inv_rows = 0, rejects = 0,
         poisoned = 0;
    int64_t total4 = 0, qty4 = 0, line_total = 0, on_hand = 0, avail = 0, on_order = 0, value4 = 0;
    for (size_t i = 0; i < d->nproducts; i++) {
        const gf_product *p = &d->products[i];
        components += p->nchild;
        if (!gf_product_stocked(p))
            continue;
        for (size_t w = 0; w < d->nwhs; w++) {
            const gf_stock *s = &d->stock[i * d->nwhs + w];
            inv_rows++;
            on_hand += s->on_hand;
            avail += s->available;
            on_order += s->on_order;
            value4 += s->on_hand * p->cost4;
        }
    }
    for (size_t i = 0; i < d->norders; i++) {
        const gf_order *o = &d->orders[i];
        gf_order_sums s;
        if (o->deleted || gf_order_rejected(o)) {
            rejects += gf_order_rejected(o);
            continue;
        }
        poisoned += o->poison != GF_POISON_NONE;
        gf_order_sums_of(d, o, &s);
        orders++;
        total4 += s.total4;
        const char *g = gf_status_group(o->status);
        groups[strcmp(g, "open") == 0 ? 0 : strcmp(g, "completed") == 0 ? 1 : 2]++;
        for (uint32_t k = 0; k < o->nlines; k++) {
            const gf_line *l = &d->lines[o->line_first + k];
            lines++;
            qty4 += l->qty4;
            line_total += line_total4(l);
        }
    }
    sb_buf_printf(out,
                  "goflow\tstores.count\t%zu\ngoflow\twarehouses.count\t%zu\n"
                  "goflow\tproducts.count\t%zu\ngoflow\tcomponents.count\t%ld\n"
                  "goflow\torders.count\t%ld\ngoflow\torder_lines.count\t%ld\n"
                  "goflow\torders.status_group.open\t%ld\n"
                  "goflow\torders.status_group.completed\t%ld\n"
                  "goflow\torders.status_group.canceled\t%ld\n"
                  "goflow\tinventory.rows\t%ld\n",
                  d->nstores, d->nwhs, d->nproducts, components, orders, lines, groups[0],
                  groups[1], groups[2], inv_rows);
    metric4(out, "orders.total", total4);
    metric4(out, "order_lines.quantity", qty4);
    metric4(out, "order_lines.line_total", line_total);
    metric4(out, "inventory.on_hand", on_hand * GF_V4);
    metric4(out, "inventory.available", avail * GF_V4);
    metric4(out, "inventory.on_order", on_order * GF_V4);
    metric4(out, "inventory.value", value4);
    truth_days(d, out);
    if (d->poison)
        sb_buf_printf(out, "hostile\tgoflow.inventory.rejects\t1\n");
    if (rejects > 0 || poisoned > 0) {
        sb_buf_printf(
            out,
            "hostile\tgoflow.orders.rejects\t%ld\nhostile\tgoflow.orders.loaded_id0\t%ld\n"
            "hostile\tgoflow.orders.reject_ids\t",
            rejects, poisoned);
        for (size_t i = 0, k = 0; i < d->norders; i++)
            if (gf_order_rejected(&d->orders[i]))
                sb_buf_printf(out, "%s%lld", k++ ? "," : "", (long long)d->orders[i].id);
        sb_buf_putc(out, '\n');
    }
}

/* ---- rendering --------------------------------------------------------------------- */

static void money(sb_json *j, const char *key, int64_t v4, const char *cur, const char *type)
{
    if (key)
        sb_json_key(j, key);
    sb_json_obj(j);
    sb_json_kmoney(j, "amount", v4, SB_MONEY_NUMBER2);
    sb_json_key(j, "currency");
    sb_json_obj(j);
    sb_json_kstr(j, "code", cur);
    sb_json_kint(j, "exchange_rate", 1);
    sb_json_end(j);
    if (type)
        sb_json_kstr(j, "type", type);
    sb_json_end(j);
}

void gf_render_store(sb_json *j, const gf_store *s)
{
    sb_json_obj(j);
    sb_json_kint(j, "id", s->id);
    sb_json_kstr(j, "name", s->name);
    sb_json_kstr(j, "channel", s->channel);
    sb_json_kstr(j, "status", s->status);
    sb_json_kstr(j, "status_updated_at", "2025-06-01T08:00:00.0000000Z");
    sb_json_key(j, "settings");
    sb_json_obj(j);
    sb_json_kbool(j, "capture_funds", true);
    sb_json_kstr(j, "currency", s->currency);
    sb_json_end(j);
    sb_json_end(j);
}

void gf_render_wh(sb_json *j, const gf_wh *w)
{
    sb_json_obj(j);
    sb_json_kstr(j, "id", w->id);
    sb_json_kstr(j, "name", w->name);
    sb_json_kstr(j, "type", w->type);
    sb_json_key(j, "address");
    sb_json_obj(j);
    sb_json_kstr(j, "street1", w->street);
    sb_json_kstr(j, "city", w->city);
    sb_json_kstr(j, "state", w->state);
    sb_json_kstr(j, "zip_code", w->zip);
    sb_json_kstr(j, "country_code", "us");
    sb_json_end(j);
    sb_json_end(j);
}

void gf_render_product(sb_json *j, const gf_data *d, const gf_product *p)
{
    sb_json_obj(j);
    sb_json_kint(j, "id", p->id);
    sb_json_kstr(j, "type", p->type);
    sb_json_kstr(j, "item_number", p->sku);
    sb_json_kstr(j, "status", p->status);
    sb_json_key(j, "children");
    sb_json_arr(j);
    for (uint32_t i = 0; i < p->nchild; i++) {
        const gf_child *c = &d->children[p->child_first + i];
        sb_json_obj(j);
        sb_json_kint(j, "product_id", c->product_id);
        sb_json_kmoney(j, "quantity", c->qty4, SB_MONEY_NUMBER);
        sb_json_end(j);
    }
    sb_json_end(j);
    sb_json_key(j, "details");
    sb_json_obj(j);
    sb_json_kstr(j, "name", p->name);
    sb_json_kstr(j, "brand", p->brand);
    sb_json_kstr(j, "category", "Flowers");
    sb_json_end(j);
    sb_json_key(j, "pricing");
    sb_json_obj(j);
    sb_json_kmoney(j, "default_cost", p->cost4, SB_MONEY_NUMBER);
    sb_json_kmoney(j, "default_price", p->price4, SB_MONEY_NUMBER);
    sb_json_end(j);
    sb_json_end(j);
}

static void put_time_key(sb_json *j, const char *key, int64_t ticks)
{
    sb_buf t;
    sb_buf_init(&t, 40);
    gf_put_time(&t, ticks);
    sb_json_kstr(j, key, sb_buf_cstr(&t));
    if (sb_buf_failed(&t))
        j->out->failed = true;
    sb_buf_term(&t);
}

/* huge: the price of a poison order's first line, beyond what int64 v4 holds. */
static void render_line(sb_json *j, const gf_data *d, const gf_line *l, const char *cur, bool huge)
{
    sb_json_obj(j);
    sb_json_kstr(j, "id", l->id);
    sb_json_key(j, "product");
    sb_json_obj(j);
    sb_json_kint(j, "id", l->product_id);
    sb_json_end(j);
    sb_json_key(j, "quantity");
    sb_json_obj(j);
    sb_json_kmoney(j, "amount", l->qty4, SB_MONEY_NUMBER);
    sb_json_end(j);
    sb_json_key(j, "charges");
    sb_json_arr(j);
    if (huge) {
        sb_json_obj(j);
        sb_json_key(j, "amount");
        sb_json_raw(j, "9000000000000000.00");
        sb_json_key(j, "currency");
        sb_json_obj(j);
        sb_json_kstr(j, "code", cur);
        sb_json_kint(j, "exchange_rate", 1);
        sb_json_end(j);
        sb_json_kstr(j, "type", "price");
        sb_json_end(j);
    } else
        money(j, NULL, l->price4, cur, "price");
    if (l->disc4)
        money(j, NULL, -l->disc4, cur, "discount");
    sb_json_end(j);
    sb_json_key(j, "taxes");
    sb_json_arr(j);
    if (l->tax4)
        money(j, NULL, l->tax4, cur, "price");
    sb_json_end(j);
    sb_json_key(j, "costs");
    sb_json_arr(j);
    money(j, NULL, l->cost4, cur, "cogs");
    sb_json_end(j);
    sb_json_end(j);
    (void)d;
}

void gf_render_order(sb_json *j, const gf_data *d, const gf_order *o)
{
    gf_order_sums s;
    char num[24];
    gf_order_sums_of(d, o, &s);
    sb_json_obj(j);
    sb_json_kint(j, "id", o->id);
    snprintf(num, sizeof num, "GF%lld", (long long)o->id);
    sb_json_kstr(j, "order_number", num);
    if (o->poison == GF_POISON_YEAR0)
        sb_json_kstr(j, "date", "0000-06-15T10:00:00.0000000Z");
    else
        put_time_key(j, "date", o->date);
    sb_json_kstr(j, "status", gf_status_names[o->status]);
    put_time_key(j, "status_updated_at", o->status_at);
    sb_json_kstr(j, "source", "channel");
    sb_json_key(j, "store");
    sb_json_obj(j);
    sb_json_kint(j, "id", o->store_id);
    sb_json_end(j);
    sb_json_key(j, "warehouse");
    sb_json_obj(j);
    sb_json_kstr(j, "id", d->whs[o->wh].id);
    sb_json_kstr(j, "name", d->whs[o->wh].name);
    sb_json_end(j);
    sb_json_key(j, "lines");
    sb_json_arr(j);
    for (uint32_t i = 0; i < o->nlines; i++)
        render_line(j, d, &d->lines[o->line_first + i], o->currency,
                    i == 0 && o->poison == GF_POISON_HUGE_LINE);
    sb_json_end(j);
    sb_json_key(j, "charges");
    sb_json_arr(j);
    if (o->disc4)
        money(j, NULL, -o->disc4, o->currency, "discount");
    if (o->ship4)
        money(j, NULL, o->ship4, o->currency, "shipping");
    sb_json_end(j);
    sb_json_key(j, "taxes");
    sb_json_arr(j);
    if (o->tax4)
        money(j, NULL, o->tax4, o->currency, "price");
    sb_json_end(j);
    if (o->original_id)
        sb_json_kint(j, "original_order_id", o->original_id);
    else
        sb_json_knull(j, "original_order_id");
    sb_json_key(j, "summary");
    sb_json_obj(j);
    money(j, "subtotal", s.subtotal4, o->currency, NULL);
    money(j, "total", s.total4, o->currency, NULL);
    sb_json_end(j);
    sb_json_end(j);
}
