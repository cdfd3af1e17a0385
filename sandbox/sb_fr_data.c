/* Flow Retail data: generation, change steps and ground truth. See sb_fr.h.
 *
 * The tenant has 3 stores and 5 warehouses (store-oslo: 2, store-bergen: 1,
 * store-trondheim: 2), a fixed tree of 30 categories (5 roots, 3 children each,
 * 2 grandchildren under each first child) and about 400 x scale products: ~8 %
 * packages (slots of stock products), ~8 % services, ~4 % excluded from
 * statistics (services), the rest stock products. Every product sits in one or
 * two categories. Initial times lie in 2025, before the sandbox clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sb_fr.h"
#include "sb_time.h"

#define MS 1000
#define YEAR_2025_MS (INT64_C(1735689600) * MS)

const char *const fr_store_uids[FR_STORES] = {"store-oslo", "store-bergen", "store-trondheim"};
const char *const fr_warehouse_uids[FR_WAREHOUSES] = {"wh-oslo-main", "wh-oslo-back", "wh-bergen",
                                                      "wh-trd-main", "wh-trd-cold"};
const int fr_warehouse_store[FR_WAREHOUSES] = {0, 0, 1, 2, 2};
const char *const fr_brands[] = {"Dutch Flower Group", "Blomsterlandet", "Interflora",
                                 "Mester Grønn", NULL};

static const char *const root_names[] = {"Blomster", "Planter", "Buketter", "Tilbehør", "Gaver"};
static const char *const product_names[] = {
    "Rose «Freedom» 60 cm", "Tulipan gul",  "Orkidé Phalaenopsis",
    "Bukett Sommerfryd",    "Liljer hvite", "Gerbera miks",
    "Роза кустовая",        "Peon rosa",    "Eukalyptus",
    "Vase glass",           "Gavekort",     "Krans jul ★"};
#define NPRODUCT_NAMES (int)(sizeof product_names / sizeof product_names[0])

int fr_store_index(const char *uid)
{
    for (int i = 0; i < FR_STORES; i++)
        if (strcmp(uid, fr_store_uids[i]) == 0)
            return i;
    return -1;
}

int fr_category_index(const fr_data *d, const char *uid)
{
    for (int i = 0; i < d->ncats; i++)
        if (strcmp(uid, d->cats[i].uid) == 0)
            return i;
    return -1;
}

/* "prd-000123": the index is in the uid. */
int fr_product_index(const fr_data *d, const char *uid)
{
    char *end;
    if (strncmp(uid, "prd-", 4) != 0 || uid[4] < '0' || uid[4] > '9')
        return -1;
    long i = strtol(uid + 4, &end, 10);
    if (*end != '\0' || i < 0 || i >= d->nprods || strcmp(d->prods[i].uid, uid) != 0)
        return -1;
    return (int)i;
}

int64_t fr_store_stock(const fr_product *p, int store)
{
    int64_t s = 0;
    for (int w = 0; w < FR_WAREHOUSES; w++)
        if (fr_warehouse_store[w] == store)
            s += p->stock[w];
    return s;
}

int64_t fr_store_reserved(const fr_product *p, int store)
{
    int64_t s = 0;
    for (int w = 0; w < FR_WAREHOUSES; w++)
        if (fr_warehouse_store[w] == store)
            s += p->reserved[w];
    return s;
}

/* ---- generation ---------------------------------------------------------------- */

static int add_category(fr_data *d, const char *name, int parent, sb_rng *r)
{
    fr_category *c = &d->cats[d->ncats];
    snprintf(c->uid, sizeof c->uid, "cat-%03d", d->ncats);
    snprintf(c->name, sizeof c->name, "%s", name);
    c->parent = parent;
    c->created_ms = YEAR_2025_MS + sb_rng_range(r, 0, 100) * SB_DAY * MS;
    c->modified_ms = c->created_ms + sb_rng_range(r, 0, 200) * SB_DAY * MS;
    return d->ncats++;
}

static bool make_categories(fr_data *d, sb_rng *r)
{
    char name[64];
    if (!(d->cats = calloc(30, sizeof *d->cats)))
        return false;
    for (int root = 0; root < 5; root++) {
        int ri = add_category(d, root_names[root], -1, r);
        for (int ch = 0; ch < 3; ch++) {
            snprintf(name, sizeof name, "%s %d", root_names[root], ch + 1);
            int ci = add_category(d, name, ri, r);
            for (int g = 0; ch == 0 && g < 2; g++) {
                snprintf(name, sizeof name, "%s %d.%d", root_names[root], ch + 1, g + 1);
                add_category(d, name, ci, r);
            }
        }
    }
    return true;
}

static fr_product *new_product(fr_data *d)
{
    if (d->nprods == d->cap_prods) {
        int cap = d->cap_prods ? d->cap_prods * 2 : 256;
        fr_product *p = realloc(d->prods, (size_t)cap * sizeof *p);
        if (!p)
            return NULL;
        d->prods = p;
        d->cap_prods = cap;
    }
    fr_product *p = &d->prods[d->nprods];
    memset(p, 0, sizeof *p);
    snprintf(p->uid, sizeof p->uid, "prd-%06d", d->nprods);
    snprintf(p->sku, sizeof p->sku, "SKU%06d", 100000 + d->nprods);
    d->nprods++;
    return p;
}

/* Store prices and costs follow the recommended price: Bergen sells 10 % lower. */
static void set_prices(fr_product *p, int64_t rrp)
{
    p->rrp = rrp;
    p->purchase = rrp * 45 / 100;
    for (int s = 0; s < FR_STORES; s++) {
        p->price[s] = s == 1 ? rrp * 9 / 10 : rrp;
        p->cost[s] = rrp * (45 + 5 * s) / 100;
    }
}

static void set_stock(fr_product *p, int w, sb_rng *r)
{
    /* hundredths: whole units mostly, a quarter now and then (cut greens by weight) */
    p->stock[w] = sb_rng_range(r, 0, 120) * 100 + (sb_rng_permille(r, 100) ? 25 : 0);
    p->reserved[w] = p->stock[w] > 0 ? sb_rng_range(r, 0, p->stock[w] / 400) * 100 : 0;
}

static void fill_product(fr_data *d, fr_product *p, int type, bool excluded, int64_t created,
                         sb_rng *r)
{
    int idx = (int)(p - d->prods);
    p->type = type;
    p->excluded = excluded;
    snprintf(p->name, sizeof p->name, "%s %d", product_names[idx % NPRODUCT_NAMES], idx);
    p->ncat = 1 + (int)sb_rng_below(r, 2);
    for (int k = 0; k < p->ncat; k++)
        p->cat[k] = (int)sb_rng_below(r, (uint64_t)d->ncats);
    if (p->ncat == 2 && p->cat[1] == p->cat[0])
        p->ncat = 1;
    p->brand = (int)sb_rng_below(r, 5) - 1; /* -1: no brand */
    set_prices(p, sb_rng_range(r, 49, 1499) * 100 + (sb_rng_permille(r, 300) ? 50 : 0));
    p->created_ms = created;
    p->modified_ms = created;
    for (int s = 0; s < FR_STORES; s++)
        p->ordered[s] = type == FR_STOCK ? sb_rng_range(r, 0, 5) * 100 : 0;
    for (int w = 0; w < FR_WAREHOUSES && type == FR_STOCK; w++)
        set_stock(p, w, r);
}

static void make_slots(fr_data *d, fr_product *p, const int *stock_idx, int nstock, sb_rng *r)
{
    static const char *const slot_names[] = {"Hovedblomst", "Grønt", "Innpakning"};
    p->nslots = 1 + (int)sb_rng_below(r, FR_SLOTS_MAX);
    for (int s = 0; s < p->nslots; s++) {
        fr_slot *sl = &p->slots[s];
        snprintf(sl->name, sizeof sl->name, "%s", slot_names[s]);
        sl->ncomp = 1 + (int)sb_rng_below(r, FR_COMPONENTS_MAX);
        for (int c = 0; c < sl->ncomp; c++) {
            int pick = stock_idx[sb_rng_below(r, (uint64_t)nstock)];
            for (int k = 0; k < c; k++) /* distinct within a slot */
                if (sl->comp[k] == pick)
                    pick = stock_idx[(c * 7 + k) % nstock];
            sl->comp[c] = pick;
            d->prods[pick].is_component = true;
            sl->qty[c] = sb_rng_range(r, 1, 5) * 100 + (sb_rng_permille(r, 150) ? 50 : 0);
            sl->has_special[c] = sb_rng_permille(r, 600);
            sl->special[c] = sl->has_special[c] ? sb_rng_range(r, 5, 200) * 100 : 0;
        }
    }
}

bool fr_data_generate(fr_data *d, uint64_t seed, double scale)
{
    sb_rng r;
    int n = (int)(400.0 * scale + 0.5);
    memset(d, 0, sizeof *d);
    d->seed = seed;
    sb_rng_seed(&r, sb_hash64(seed, 0xf10e7a11));
    if (n < 24)
        n = 24;
    if (!make_categories(d, &r))
        return false;
    for (int i = 0; i < n; i++) {
        fr_product *p = new_product(d);
        if (!p) {
            fr_data_free(d);
            return false;
        }
        bool excluded = i % 25 == 7;
        int type = excluded || i % 12 == 9 ? FR_SERVICE : i % 12 == 5 ? FR_PACKAGE : FR_STOCK;
        int64_t created = YEAR_2025_MS + sb_rng_range(&r, 0, 300 * SB_DAY) * MS;
        fill_product(d, p, type, excluded, created, &r);
        p->modified_ms = created + sb_rng_range(&r, 0, 60 * SB_DAY) * MS + sb_rng_range(&r, 0, 999);
    }
    int *stock_idx = malloc((size_t)n * sizeof *stock_idx), nstock = 0;
    if (!stock_idx) {
        fr_data_free(d);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (d->prods[i].type == FR_STOCK)
            stock_idx[nstock++] = i;
    for (int i = 0; i < n; i++)
        if (d->prods[i].type == FR_PACKAGE)
            make_slots(d, &d->prods[i], stock_idx, nstock, &r);
    free(stock_idx);
    return true;
}

bool fr_data_add_poison(fr_data *d)
{
    static const int kinds[] = {FR_POISON_NUL_UID, FR_POISON_NUL_NAME};
    sb_rng r;
    sb_rng_seed(&r, sb_hash64(d->seed, 0x9015));
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        fr_product *p = new_product(d);
        if (!p)
            return false;
        fill_product(d, p, FR_SERVICE, false, YEAR_2025_MS + (int64_t)k * MS, &r);
        p->ncat = 0;
        p->poison = kinds[k];
        set_prices(p, 99999900); /* 999999.00: a twin that wins shows in the sums */
    }
    return true;
}

void fr_data_free(fr_data *d)
{
    free(d->cats);
    free(d->prods);
    memset(d, 0, sizeof *d);
}

/* ---- change steps -------------------------------------------------------------- */

/* A random live product matching want (type, or -1 for any), or -1. */
static int pick_product(const fr_data *d, sb_rng *r, int want, bool removable)
{
    for (int tries = 0; tries < 64; tries++) {
        int i = (int)sb_rng_below(r, (uint64_t)d->nprods);
        const fr_product *p = &d->prods[i];
        if (p->removed || p->poison || (want >= 0 && p->type != want) ||
            (removable && p->is_component))
            continue;
        return i;
    }
    return -1;
}

static int64_t stamp(sb_rng *r, int64_t step)
{
    int64_t hour = (SB_CLOCK_START + (step - 1) * SB_HOUR) * MS;
    return hour + sb_rng_range(r, 0, SB_HOUR * MS - 1);
}

static bool one_step(fr_data *d, fr_changes *ch)
{
    sb_rng r;
    int64_t step = ++d->steps;
    sb_rng_seed(&r, sb_hash3(d->seed, 0xadfa, (uint64_t)step));
    for (int k = 0; k < 3; k++) {
        int i = pick_product(d, &r, -1, false);
        if (i < 0)
            continue;
        set_prices(&d->prods[i], sb_rng_range(&r, 49, 1499) * 100);
        d->prods[i].modified_ms = stamp(&r, step);
        ch->products_updated++;
    }
    for (int k = 0; k < 4; k++) {
        int i = pick_product(d, &r, FR_STOCK, false);
        if (i < 0)
            continue;
        set_stock(&d->prods[i], (int)sb_rng_below(&r, FR_WAREHOUSES), &r);
        ch->stock_changed++;
    }
    fr_product *p = new_product(d);
    if (!p)
        return false;
    fill_product(d, p, FR_STOCK, false, stamp(&r, step), &r);
    ch->products_created++;
    if (step % 2 == 1) {
        int i = pick_product(d, &r, FR_STOCK, true);
        if (i >= 0) {
            d->prods[i].removed = true;
            ch->products_removed++;
        }
    }
    return true;
}

bool fr_data_advance(fr_data *d, int steps, fr_changes *ch)
{
    for (int s = 0; s < steps; s++)
        if (!one_step(d, ch))
            return false;
    return true;
}

/* ---- ground truth ------------------------------------------------------------ */

static void metric(sb_buf *out, const char *name, int64_t v)
{
    sb_buf_printf(out, "flowretail\t%s\t", name);
    sb_buf_put_i64(out, v);
    sb_buf_putc(out, '\n');
}

/* v in hundredths (minor units, quantities) as a 4-decimal sum. */
static void metric100(sb_buf *out, const char *name, int64_t v)
{
    sb_buf_printf(out, "flowretail\t%s\t", name);
    sb_buf_put_fixed4(out, v * 100);
    sb_buf_putc(out, '\n');
}

static bool exported(const fr_product *p)
{
    return !p->removed && !p->excluded;
}

static void truth_components(const fr_data *d, sb_buf *out)
{
    int64_t count = 0, qty = 0, special = 0;
    for (int i = 0; i < d->nprods; i++) {
        const fr_product *p = &d->prods[i];
        if (!exported(p) || p->type != FR_PACKAGE)
            continue;
        for (int s = 0; s < p->nslots; s++)
            for (int c = 0; c < p->slots[s].ncomp; c++) {
                count++;
                qty += p->slots[s].qty[c];
                special += p->slots[s].has_special[c] ? p->slots[s].special[c] : 0;
            }
    }
    metric(out, "components.count", count);
    metric100(out, "components.quantity", qty);
    metric100(out, "components.special_price", special);
}

static void truth_inventory(const fr_data *d, sb_buf *out)
{
    int64_t st_on[FR_STORES] = {0}, st_av[FR_STORES] = {0};
    int64_t wh_on[FR_WAREHOUSES] = {0}, wh_av[FR_WAREHOUSES] = {0};
    char name[96];
    for (int i = 0; i < d->nprods; i++) {
        const fr_product *p = &d->prods[i];
        if (!exported(p) || p->type != FR_STOCK)
            continue;
        for (int w = 0; w < FR_WAREHOUSES; w++) {
            wh_on[w] += p->stock[w];
            wh_av[w] += p->stock[w] - p->reserved[w];
            st_on[fr_warehouse_store[w]] += p->stock[w];
            st_av[fr_warehouse_store[w]] += p->stock[w] - p->reserved[w];
        }
    }
    for (int s = 0; s < FR_STORES; s++) {
        snprintf(name, sizeof name, "inventory.store.%s.on_hand", fr_store_uids[s]);
        metric100(out, name, st_on[s]);
        snprintf(name, sizeof name, "inventory.store.%s.available", fr_store_uids[s]);
        metric100(out, name, st_av[s]);
    }
    for (int w = 0; w < FR_WAREHOUSES; w++) {
        snprintf(name, sizeof name, "inventory.warehouse.%s.on_hand", fr_warehouse_uids[w]);
        metric100(out, name, wh_on[w]);
        snprintf(name, sizeof name, "inventory.warehouse.%s.available", fr_warehouse_uids[w]);
        metric100(out, name, wh_av[w]);
    }
}

void fr_data_truth(const fr_data *d, sb_buf *out)
{
    int64_t count = 0, list_price = 0, by_type[3] = {0}, rejects = 0;
    for (int i = 0; i < d->nprods; i++) {
        const fr_product *p = &d->prods[i];
        rejects += p->poison != FR_POISON_NONE && !p->removed;
        if (!exported(p) || p->poison)
            continue;
        count++;
        list_price += p->rrp;
        by_type[p->type]++;
    }
    metric(out, "categories.count", d->ncats);
    metric(out, "products.count", count);
    metric100(out, "products.list_price", list_price);
    metric(out, "products.type.standard", by_type[FR_STOCK]);
    metric(out, "products.type.bundle", by_type[FR_PACKAGE]);
    metric(out, "products.type.service", by_type[FR_SERVICE]);
    truth_components(d, out);
    truth_inventory(d, out);
    if (rejects > 0)
        sb_buf_printf(out, "hostile\tflowretail.products.rejects\t%lld\n", (long long)rejects);
}
