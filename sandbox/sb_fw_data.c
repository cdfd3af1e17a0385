/* Flowwow sandbox data: generation, change steps, texts and ground truth.
 * Everything is a function of (seed, scale, steps). See docs/sandbox.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_fw.h"
#include "sb_rng.h"
#include "sb_time.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a, h) ((a)[(h) % COUNT(a)])
/* Orders lie in the DAYS days before the clock. */
#define DAYS 60
/* New Year's Eve rush at shop 0: more orders than one orders/list page. */
#define SPIKE_ORDERS 150
#define RECENT (7 * SB_DAY)

enum { K_SHOP = 1, K_PRODUCT, K_CUSTOMER, K_ORDER, K_STEP, K_PHONE };

uint64_t fw_hash(const fw_data *d, uint64_t kind, uint64_t idx)
{
    return sb_hash3(d->seed ^ UINT64_C(0xf10770f10770), kind, idx);
}

int64_t fw_local_day(int64_t t)
{
    int64_t s = t + FW_TZ_OFFSET;
    return (s >= 0 ? s : s - (SB_DAY - 1)) / SB_DAY;
}

/* ---- texts --------------------------------------------------------------------- */

static const char *const shop_names[] = {"Цветы \"Весна\"", "Флористика «Пион» 🌸",
                                         "Букеты\tи торты", "Сад \\ Огород",
                                         "Lavanda & Co",    "Розовый сад"};
static const char *const streets[] = {"ул. Тверская", "пр-т Мира", "ул. Ленина", "Невский пр-т",
                                      "ул. Садовая"};
static const char *const flowers[] = {"Розы",      "Тюльпаны", "Пионы",  "Хризантемы",
                                      "Гортензии", "Эустомы",  "Ромашки"};
static const char *const product_tails[] = {
    "микс", "«Нежность»", "\"Премиум\"", "в коробке 🎁", "с открыткой\nи лентой", "\\ 25 шт"};
static const char *const first_names[] = {"Анна", "Мария", "Ольга",   "Иван",
                                          "Пётр", "Елена", "Дмитрий", "Zoë"};
static const char *const last_names[] = {
    "Иванова", "Петров", "Смирнова", "О'Нил", "Кузнецов \"младший\"", "Соколова"};

void fw_text_shop(const fw_data *d, uint32_t i, char *name, char *address, size_t len)
{
    uint64_t h = fw_hash(d, K_SHOP, i);
    if (i < COUNT(shop_names))
        snprintf(name, len, "%s", shop_names[i]);
    else
        snprintf(name, len, "%s №%u", PICK(shop_names, h), i + 1);
    snprintf(address, len, "г. Москва, %s, д. %u", PICK(streets, h >> 8),
             (unsigned)(h >> 16) % 90 + 1);
}

void fw_text_product(const fw_data *d, uint32_t i, char *name, size_t len)
{
    uint64_t h = fw_hash(d, K_PRODUCT, i);
    snprintf(name, len, "%s %s", PICK(flowers, h), PICK(product_tails, h >> 8));
}

void fw_text_customer(const fw_data *d, uint32_t c, char *name, size_t len)
{
    uint64_t h = fw_hash(d, K_CUSTOMER, c);
    snprintf(name, len, "%s %s", PICK(first_names, h), PICK(last_names, h >> 8));
}

void fw_customer_digits(const fw_data *d, uint32_t c, char *out)
{
    uint64_t h = fw_hash(d, K_CUSTOMER, c);
    /* Distinct per customer: the index is part of the number. */
    snprintf(out, 16, "79%02u%07u", (unsigned)(h % 90) + 10, (unsigned)(c % 10000000));
}

void fw_order_phone(const fw_data *d, const fw_order *o, char *out, size_t len)
{
    char g[16];
    fw_customer_digits(d, o->customer, g);
    /* g = 7 AAA BBB CC DD */
    switch (fw_hash(d, K_PHONE, (uint64_t)o->id) % 4) {
    case 0:
        snprintf(out, len, "+%s", g);
        break;
    case 1:
        snprintf(out, len, "+7 (%.3s) %.3s-%.2s-%.2s", g + 1, g + 4, g + 7, g + 9);
        break;
    case 2:
        snprintf(out, len, "8%s", g + 1);
        break;
    default:
        snprintf(out, len, "7 %.3s %.3s %.2s %.2s", g + 1, g + 4, g + 7, g + 9);
        break;
    }
}

/* ---- growth ------------------------------------------------------------------- */

static bool reserve(void **items, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*items, (size_t)ncap * size);
    if (!p)
        return false;
    *items = p;
    *cap = ncap;
    return true;
}

static uint32_t scaled(double scale, double n, uint32_t min)
{
    double v = n * scale + 0.5;
    return v < min ? min : (uint32_t)v;
}

/* ---- generation ---------------------------------------------------------------- */

static bool add_product(fw_data *d, sb_rng *r, uint32_t shop)
{
    if (!reserve((void **)&d->products, &d->cap_products, d->nproducts + 1, sizeof(fw_product)))
        return false;
    uint32_t i = d->nproducts++;
    fw_product *p = &d->products[i];
    unsigned roll = (unsigned)sb_rng_below(r, 100);
    *p = (fw_product){
        .id = 500001 + i,
        .shop = shop,
        .type = roll < 70   ? 1
                : roll < 90 ? 2
                            : 3,
        .active = sb_rng_permille(r, 920),
        .offer = sb_rng_permille(r, 850) ? 0 : (uint8_t)sb_rng_range(r, 1, 2),
        .discount = sb_rng_permille(r, 300) ? (uint8_t)(5 * sb_rng_range(r, 1, 6)) : 0,
        .price4 = sb_rng_range(r, 9, 250) * 100 * 10000 + sb_rng_range(r, 0, 1) * 50 * 100,
        .category = 10 + sb_rng_range(r, 0, 20),
        .stock = (int32_t)sb_rng_range(r, 0, 120),
    };
    p->available = sb_rng_permille(r, 50) ? 99999 : p->stock;
    return true;
}

/* A line of order o: a live product of its shop, or of any shop if it has none. */
static bool add_line(fw_data *d, sb_rng *r, const fw_order *o)
{
    uint32_t pick = UINT32_MAX;
    for (int tries = 0; tries < 64 && pick == UINT32_MAX; tries++) {
        uint32_t i = (uint32_t)sb_rng_below(r, d->nproducts);
        if (!d->products[i].deleted && (d->products[i].shop == o->shop || tries > 48))
            pick = i;
    }
    if (pick == UINT32_MAX)
        pick = 0;
    if (!reserve((void **)&d->lines, &d->cap_lines, d->nlines + 1, sizeof(fw_line)))
        return false;
    const fw_product *p = &d->products[pick];
    fw_line l = {.product = pick,
                 .count = (uint16_t)sb_rng_range(r, 1, 3),
                 .discount = p->discount,
                 .price4 = p->price4};
    /* The order's unit cost: usually the catalogue price, sometimes an older one. */
    l.cost4 = sb_rng_permille(r, 850) ? p->price4 : p->price4 + sb_rng_range(r, -20, 20) * 10000;
    if (l.cost4 < 10000)
        l.cost4 = 10000;
    int64_t gross_k = (int64_t)l.count * (l.cost4 / 100);
    int64_t sum_k = (gross_k * (100 - l.discount) + 50) / 100;
    l.sum4 = sum_k * 100;
    d->lines[d->nlines++] = l;
    return true;
}

static bool add_order(fw_data *d, sb_rng *r, uint32_t shop, int64_t created, uint8_t status)
{
    if (!reserve((void **)&d->orders, &d->cap_orders, d->norders + 1, sizeof(fw_order)))
        return false;
    fw_order o = {.id = 7000001 + d->norders,
                  .shop = shop,
                  .created = created,
                  .status = status,
                  .customer = FW_NO_CUSTOMER,
                  .first_line = d->nlines};
    unsigned who = (unsigned)sb_rng_below(r, 100);
    o.user_kind = who < 88 ? FW_USER_PHONE : who < 95 ? FW_USER_NULL : FW_USER_NO_PHONE;
    if (o.user_kind == FW_USER_PHONE)
        o.customer = (uint32_t)sb_rng_below(r, d->ncustomers);
    int n = (int)sb_rng_range(r, 1, 3);
    for (int k = 0; k < n; k++)
        if (!add_line(d, r, &o))
            return false;
    o.nlines = (uint16_t)n;
    d->orders[d->norders++] = o;
    return true;
}

/* Status of an initial order created at t: older ones are mostly finished. */
static uint8_t initial_status(sb_rng *r, int64_t t)
{
    static const uint8_t open[] = {1, 2, 4, 5, 7, 10, 11, 12};
    if (SB_CLOCK_START - t > 3 * SB_DAY && !sb_rng_permille(r, 30))
        return 3;
    return sb_rng_permille(r, 400) ? 3 : open[sb_rng_below(r, COUNT(open))];
}

static int cmp_created(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool generate_orders(fw_data *d, sb_rng *r, uint32_t n)
{
    /* Creation times in ascending order, so ids follow creation. */
    int64_t *times = malloc(((size_t)n + SPIKE_ORDERS) * sizeof *times);
    bool ok = times != NULL;
    uint32_t total = n + SPIKE_ORDERS;
    /* 2025-12-31 local: 2025-12-30T21:00Z .. 2025-12-31T20:59Z. */
    int64_t spike_from = SB_CLOCK_START - SB_DAY - FW_TZ_OFFSET;
    for (uint32_t i = 0; ok && i < total; i++) {
        if (i < n)
            times[i] = SB_CLOCK_START - DAYS * SB_DAY + sb_rng_range(r, 0, DAYS * SB_DAY - 1);
        else
            times[i] = spike_from + sb_rng_range(r, 0, SB_DAY - 1);
        times[i] = times[i] * 4 + (i >= n ? 1 : 0); /* the low bits say: spike */
    }
    if (ok)
        qsort(times, total, sizeof *times, cmp_created);
    for (uint32_t i = 0; ok && i < total; i++) {
        int64_t t = times[i] / 4;
        uint32_t shop = (times[i] & 1) ? 0 : (uint32_t)sb_rng_below(r, d->nshops);
        ok = add_order(d, r, shop, t, initial_status(r, t));
    }
    free(times);
    return ok;
}

bool fw_data_generate(fw_data *d, uint64_t seed, double scale)
{
    sb_rng r;
    memset(d, 0, sizeof *d);
    d->seed = seed;
    d->scale = scale;
    sb_rng_seed(&r, sb_hash64(seed, UINT64_C(0xf10770)));
    d->nshops = scaled(scale, 6, 4);
    d->shops = calloc(d->nshops, sizeof *d->shops);
    bool ok = d->shops != NULL;
    for (uint32_t i = 0; ok && i < d->nshops; i++) {
        d->shops[i].id = 1001 + 17 * (int64_t)i;
        d->shops[i].status = i == 2   ? FW_SHOP_MODERATION
                             : i == 3 ? FW_SHOP_DISABLED
                                      : FW_SHOP_ACTIVE;
    }
    uint32_t nproducts = scaled(scale, 300, 24);
    for (uint32_t i = 0; ok && i < nproducts; i++)
        ok = add_product(d, &r, i % d->nshops);
    d->ncustomers = scaled(scale, 800, 10);
    ok = ok && generate_orders(d, &r, scaled(scale, 2000, 50));
    d->initial_orders = d->norders;
    if (!ok)
        fw_data_free(d);
    return ok;
}

void fw_data_add_poison(fw_data *d)
{
    uint8_t kinds[] = {FW_POISON_YEAR0, FW_POISON_HUGE_SUM};
    uint32_t i = d->initial_orders / 3;
    for (size_t k = 0; k < sizeof kinds && i < d->initial_orders; i++) {
        fw_order *o = &d->orders[i];
        /* Finished long ago (no change step touches it); a sum needs two lines. */
        if (o->status != 3 || (kinds[k] == FW_POISON_HUGE_SUM && o->nlines < 2))
            continue;
        o->poison = kinds[k++];
    }
}

void fw_data_free(fw_data *d)
{
    free(d->shops);
    free(d->products);
    free(d->orders);
    free(d->lines);
    memset(d, 0, sizeof *d);
}

/* ---- change steps -------------------------------------------------------------- */

static uint8_t next_status(sb_rng *r, uint8_t s)
{
    switch (s) {
    case 1:
        return 2;
    case 2:
        return sb_rng_permille(r, 500) ? 4 : 5;
    case 10:
        return 11;
    case 11:
        return 12;
    default:
        return 3;
    }
}

/* Recent open orders move on: among orders created in the week before now. */
static int64_t change_statuses(fw_data *d, sb_rng *r, int64_t now, uint32_t n)
{
    int64_t changed = 0;
    uint32_t from = d->norders;
    while (from > 0 && d->orders[from - 1].created >= now - RECENT)
        from--;
    uint32_t span = d->norders - from;
    for (uint32_t k = 0; k < n && span > 0; k++) {
        for (int tries = 0; tries < 16; tries++) {
            fw_order *o = &d->orders[from + sb_rng_below(r, span)];
            if (o->status != 3) {
                o->status = next_status(r, o->status);
                changed++;
                break;
            }
        }
    }
    return changed;
}

static void change_products(fw_data *d, sb_rng *r, int64_t counts[FW_CH_COUNT], bool *ok)
{
    uint32_t victim = (uint32_t)sb_rng_below(r, d->nproducts);
    if (!d->products[victim].deleted) {
        d->products[victim].deleted = true;
        counts[FW_CH_PRODUCTS_DELETED]++;
    }
    *ok = add_product(d, r, (uint32_t)sb_rng_below(r, d->nshops));
    if (*ok)
        counts[FW_CH_PRODUCTS_CREATED]++;
    uint32_t n = scaled(d->scale, 6, 1);
    for (uint32_t k = 0; k < n; k++) {
        fw_product *p = &d->products[sb_rng_below(r, d->nproducts)];
        if (p->deleted)
            continue;
        p->stock = (int32_t)sb_rng_range(r, 0, 120);
        if (p->available != 99999)
            p->available = p->stock;
        counts[FW_CH_STOCK_CHANGED]++;
    }
}

bool fw_data_step(fw_data *d, int64_t counts[FW_CH_COUNT])
{
    sb_rng r;
    bool ok = true;
    uint32_t step = ++d->steps;
    int64_t start = SB_CLOCK_START + (int64_t)(step - 1) * SB_HOUR;
    sb_rng_seed(&r, fw_hash(d, K_STEP, step));
    uint32_t n_new = d->initial_orders / 100 > 0 ? d->initial_orders / 100 : 1;
    int64_t *times = malloc(n_new * sizeof *times);
    if (!times)
        return false;
    for (uint32_t k = 0; k < n_new; k++)
        times[k] = start + sb_rng_range(&r, 0, SB_HOUR - 1);
    qsort(times, n_new, sizeof *times, cmp_created);
    for (uint32_t k = 0; ok && k < n_new; k++) {
        unsigned roll = (unsigned)sb_rng_below(&r, 100);
        uint8_t status = roll < 60 ? 1 : roll < 90 ? 3 : 2;
        ok = add_order(d, &r, (uint32_t)sb_rng_below(&r, d->nshops), times[k], status);
        if (ok)
            counts[FW_CH_ORDERS_CREATED]++;
    }
    free(times);
    counts[FW_CH_STATUS_CHANGED] +=
        change_statuses(d, &r, start, scaled(d->initial_orders / 200.0, 1, 1));
    if (ok)
        change_products(d, &r, counts, &ok);
    return ok;
}

/* ---- truth ---------------------------------------------------------------------- */

static void line_i64(sb_buf *out, const char *metric, int64_t v)
{
    sb_buf_printf(out, "flowwow\t%s\t", metric);
    sb_buf_put_i64(out, v);
    sb_buf_putc(out, '\n');
}

static void line_sum(sb_buf *out, const char *metric, int64_t v4)
{
    sb_buf_printf(out, "flowwow\t%s\t", metric);
    sb_buf_put_fixed4(out, v4);
    sb_buf_putc(out, '\n');
}

static void truth_orders(const fw_data *d, sb_buf *out)
{
    int64_t n = 0, total = 0, open = 0, done = 0, nocust = 0, lines = 0, qty = 0, ltotal = 0,
            rejects = 0;
    int64_t dmin = INT64_MAX, dmax = INT64_MIN;
    for (uint32_t i = 0; i < d->norders; i++) {
        int64_t day = fw_local_day(d->orders[i].created);
        dmin = day < dmin ? day : dmin;
        dmax = day > dmax ? day : dmax;
    }
    size_t ndays = d->norders ? (size_t)(dmax - dmin + 1) : 0;
    int64_t *day_n = calloc(ndays + 1, sizeof *day_n), *day_t = calloc(ndays + 1, sizeof *day_t);
    int64_t *shop_n = calloc(d->nshops, sizeof *shop_n),
            *shop_t = calloc(d->nshops, sizeof *shop_t);
    if (!day_n || !day_t || !shop_n || !shop_t) {
        out->failed = true;
        goto done;
    }
    for (uint32_t i = 0; i < d->norders; i++) {
        const fw_order *o = &d->orders[i];
        int64_t sum = 0;
        if (o->poison != FW_POISON_NONE) {
            rejects++;
            continue;
        }
        for (uint32_t k = 0; k < o->nlines; k++) {
            const fw_line *l = &d->lines[o->first_line + k];
            sum += l->sum4;
            qty += l->count;
            lines++;
        }
        n++;
        total += sum;
        ltotal += sum;
        if (o->status == 3)
            done++;
        else
            open++;
        nocust += o->user_kind != FW_USER_PHONE;
        size_t day = (size_t)(fw_local_day(o->created) - dmin);
        day_n[day]++;
        day_t[day] += sum;
        shop_n[o->shop]++;
        shop_t[o->shop] += sum;
    }
    line_i64(out, "orders.count", n);
    line_sum(out, "orders.total", total);
    line_i64(out, "orders.status_group.open", open);
    line_i64(out, "orders.status_group.completed", done);
    line_i64(out, "orders.status_group.canceled", 0);
    line_i64(out, "orders.status_group.returned", 0);
    line_i64(out, "orders.no_customer", nocust);
    line_i64(out, "order_lines.count", lines);
    line_sum(out, "order_lines.quantity", qty * 10000);
    line_sum(out, "order_lines.line_total", ltotal);
    for (size_t k = 0; k < ndays; k++) {
        char date[16], metric[48];
        if (day_n[k] == 0)
            continue;
        sb_time_date(((int64_t)k + dmin) * SB_DAY, date);
        snprintf(metric, sizeof metric, "day.%s.orders", date);
        line_i64(out, metric, day_n[k]);
        snprintf(metric, sizeof metric, "day.%s.total", date);
        line_sum(out, metric, day_t[k]);
    }
    if (rejects > 0) {
        sb_buf_printf(out,
                      "hostile\tflowwow.orders.rejects\t%lld\nhostile\tflowwow.orders.reject_ids\t",
                      (long long)rejects);
        for (uint32_t i = 0, k = 0; i < d->norders; i++)
            if (d->orders[i].poison != FW_POISON_NONE)
                sb_buf_printf(out, "%s%lld", k++ ? "," : "", (long long)d->orders[i].id);
        sb_buf_putc(out, '\n');
    }
    for (uint32_t s = 0; s < d->nshops; s++) {
        char metric[48];
        snprintf(metric, sizeof metric, "store.%lld.orders", (long long)d->shops[s].id);
        line_i64(out, metric, shop_n[s]);
        snprintf(metric, sizeof metric, "store.%lld.total", (long long)d->shops[s].id);
        line_sum(out, metric, shop_t[s]);
    }
done:
    free(day_n);
    free(day_t);
    free(shop_n);
    free(shop_t);
}

static void truth_customers(const fw_data *d, sb_buf *out)
{
    uint8_t *seen = calloc(d->ncustomers ? d->ncustomers : 1, 1);
    int64_t n = 0;
    if (!seen) {
        out->failed = true;
        return;
    }
    for (uint32_t i = 0; i < d->norders; i++) {
        const fw_order *o = &d->orders[i];
        if (o->poison == FW_POISON_NONE && o->user_kind == FW_USER_PHONE && !seen[o->customer]) {
            seen[o->customer] = 1;
            n++;
        }
    }
    free(seen);
    line_i64(out, "customers.count", n);
}

void fw_data_truth(const fw_data *d, sb_buf *out)
{
    int64_t products = 0, on_hand = 0, available = 0;
    for (uint32_t i = 0; i < d->nproducts; i++) {
        const fw_product *p = &d->products[i];
        if (p->deleted)
            continue;
        products++;
        on_hand += p->stock;
        available += p->available;
    }
    line_i64(out, "stores.count", d->nshops);
    line_i64(out, "products.count", products);
    line_i64(out, "inventory.count", products);
    line_sum(out, "inventory.on_hand", on_hand * 10000);
    line_sum(out, "inventory.available", available * 10000);
    truth_customers(d, out);
    truth_orders(d, out);
}
