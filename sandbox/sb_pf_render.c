/* Posiflora JSON:API rendering: one function per resource type, shaped after the
 * examples of the vendor's OpenAPI document (attribute names and order,
 * relationships, links.self relative to the API root without /v1). */
#include <stdio.h>
#include <string.h>
#include "sb_pf.h"
#include "sb_time.h"

void pf_render_ref(sb_json *j, const pf_data *d, const char *type, int kind, uint32_t idx)
{
    if (idx == PF_NONE) {
        sb_json_null(j);
        return;
    }
    char id[PF_ID_LEN + 1];
    pf_id(d, kind, idx, id);
    sb_json_obj(j);
    sb_json_kstr(j, "type", type);
    sb_json_kstr(j, "id", id);
    sb_json_end(j);
}

/* "name":{"data":<ref or null>} */
static void rel(sb_json *j, const char *name, const pf_data *d, const char *type, int kind,
                uint32_t idx)
{
    sb_json_key(j, name);
    sb_json_obj(j);
    sb_json_key(j, "data");
    pf_render_ref(j, d, type, kind, idx);
    sb_json_end(j);
}

/* "name":{"data":{"type":type,"id":id}} for the small numeric-id dictionaries. */
static void rel_fixed(sb_json *j, const char *name, const char *type, const char *id)
{
    sb_json_key(j, name);
    sb_json_obj(j);
    sb_json_key(j, "data");
    sb_json_obj(j);
    sb_json_kstr(j, "type", type);
    sb_json_kstr(j, "id", id);
    sb_json_end(j);
    sb_json_end(j);
}

static void rel_null(sb_json *j, const char *name)
{
    rel(j, name, NULL, NULL, 0, PF_NONE);
}

/* "name":{"data":[]} */
static void rel_empty(sb_json *j, const char *name)
{
    sb_json_key(j, name);
    sb_json_obj(j);
    sb_json_key(j, "data");
    sb_json_arr(j);
    sb_json_end(j);
    sb_json_end(j);
}

/* Opens the resource object: type, id. */
static void begin(sb_json *j, const char *type, const char *id)
{
    sb_json_obj(j);
    sb_json_kstr(j, "type", type);
    sb_json_kstr(j, "id", id);
}

/* "links":{"self":"/path/id"} and closes the resource object. */
static void finish(sb_json *j, const char *path, const char *id)
{
    char self[PF_ID_LEN + 64];
    snprintf(self, sizeof self, "/%s/%s", path, id);
    sb_json_key(j, "links");
    sb_json_obj(j);
    sb_json_kstr(j, "self", self);
    sb_json_end(j);
    sb_json_end(j);
}

/* "key":"...+00:00", or null when t is 0. */
static void kiso(sb_json *j, const char *key, int64_t t)
{
    if (t == 0) {
        sb_json_knull(j, key);
        return;
    }
    char iso[32];
    sb_time_iso(t, iso);
    sb_json_kstr(j, key, iso);
}

static void kdate(sb_json *j, const char *key, int64_t t)
{
    char date[16];
    sb_time_date(t, date);
    sb_json_kstr(j, key, date);
}

void pf_render_store(sb_json *j, const pf_data *d, uint32_t idx)
{
    char id[PF_ID_LEN + 1], title[PF_TEXT_MAX], city[PF_TEXT_MAX], address[PF_TEXT_MAX], ext[8];
    pf_id(d, PF_K_STORE, idx, id);
    pf_text_store(d, idx, title, city, address, ext, PF_TEXT_MAX);
    begin(j, "stores", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "title", title);
    sb_json_kstr(j, "addressCity", city);
    sb_json_kstr(j, "address", address);
    sb_json_kbool(j, "printLogo", false);
    sb_json_kbool(j, "printAddress", idx % 2 == 0);
    sb_json_kint(j, "concealmentItems", 1);
    kiso(j, "calculatedAt", d->clock - SB_HOUR);
    sb_json_kstr(j, "externalLinkId", ext);
    sb_json_knull(j, "anotherTitle");
    sb_json_kstr(j, "formDeliveryTimeFormat", "all");
    sb_json_kint(j, "revision", d->stores.v[idx].revision);
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel_fixed(j, "timezone", "timezones", "7");
    char wh[16];
    snprintf(wh, sizeof wh, "%u", idx + 1);
    rel_fixed(j, "warehouse", "warehouses", wh);
    rel_null(j, "image");
    rel_empty(j, "printSettings");
    rel_empty(j, "deliveryDiapasons");
    sb_json_end(j);
    finish(j, "stores", id);
}

void pf_render_category(sb_json *j, const pf_data *d, uint32_t idx)
{
    const pf_category *c = &d->cats.v[idx];
    char id[PF_ID_LEN + 1], title[PF_TEXT_MAX];
    pf_id(d, PF_K_CATEGORY, idx, id);
    pf_text_category(d, idx, title, sizeof title);
    /* Ancestors, nearest first; parents always have smaller indexes, so this ends. */
    uint32_t chain[64];
    unsigned depth = 0;
    for (uint32_t p = c->parent; p != PF_NONE && depth < 64; p = d->cats.v[p].parent)
        chain[depth++] = p;
    begin(j, "categories", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "title", title);
    sb_json_kstr(j, "status", c->deleted ? "off" : "on");
    sb_json_key(j, "path");
    sb_json_arr(j);
    for (unsigned k = depth; k-- > 0;) {
        char t[PF_TEXT_MAX];
        pf_text_category(d, chain[k], t, sizeof t);
        sb_json_str(j, t);
    }
    sb_json_end(j);
    sb_json_key(j, "pathIds");
    sb_json_arr(j);
    for (unsigned k = depth; k-- > 0;) {
        char pid[PF_ID_LEN + 1];
        pf_id(d, PF_K_CATEGORY, chain[k], pid);
        sb_json_str(j, pid);
    }
    sb_json_end(j);
    char color[8];
    snprintf(color, sizeof color, "%06x",
             (unsigned)(pf_hash(d, PF_K_CATEGORY, idx, 12) & 0xffffff));
    sb_json_kstr(j, "color", color);
    sb_json_kint(j, "countPublicItems", (int64_t)(pf_hash(d, PF_K_CATEGORY, idx, 13) % 5));
    sb_json_kbool(j, "deleted", c->deleted);
    sb_json_kint(j, "revision", c->revision);
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel(j, "parent", d, "categories", PF_K_CATEGORY, c->parent);
    char group[8];
    snprintf(group, sizeof group, "%u", c->group);
    rel_fixed(j, "group", "inventory-groups", group);
    rel_null(j, "image");
    sb_json_end(j);
    finish(j, "categories", id);
}

void pf_render_item(sb_json *j, const pf_data *d, uint32_t idx)
{
    const pf_item *it = &d->items.v[idx];
    char id[PF_ID_LEN + 1], title[PF_TEXT_MAX], description[PF_TEXT_MAX];
    pf_id(d, PF_K_ITEM, idx, id);
    pf_text_item(d, idx, title, description, PF_TEXT_MAX);
    begin(j, "inventory-items", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "title", title);
    sb_json_kstr(j, "description", description);
    sb_json_kstr(j, "itemType", it->service ? "service" : "item");
    sb_json_knull(j, "globalId");
    kiso(j, "updatedAt", it->updated);
    sb_json_knull(j, "added");
    sb_json_kbool(j, "public", it->is_public);
    sb_json_kbool(j, "fractional", it->fractional);
    sb_json_kmoney(j, "priceMin", it->price_min, pf_style(d, PF_K_ITEM, idx, PF_F_PRICE_MIN));
    sb_json_kmoney(j, "priceMax", it->price_max, pf_style(d, PF_K_ITEM, idx, PF_F_PRICE_MAX));
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel_fixed(j, "group", "inventory-groups", it->service ? "2" : "1");
    rel(j, "category", d, "categories", PF_K_CATEGORY, it->category);
    rel(j, "measure", d, "measures", PF_K_MEASURE, it->fractional ? 1 : 0);
    rel_null(j, "logo");
    sb_json_end(j);
    finish(j, "inventory-items", id);
}

void pf_render_bouquet(sb_json *j, const pf_data *d, uint32_t idx)
{
    static const char *const statuses[] = {"created", "demonstrated", "edited"};
    const pf_bouquet *b = &d->bouquets.v[idx];
    char id[PF_ID_LEN + 1], title[PF_TEXT_MAX], description[PF_TEXT_MAX], doc[16];
    pf_id(d, PF_K_BOUQUET, idx, id);
    pf_text_bouquet(d, idx, title, description, PF_TEXT_MAX);
    snprintf(doc, sizeof doc, "%u", 91001 + idx);
    int64_t sale = b->amount - b->discount + b->markup;
    begin(j, "bouquets", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "docNo", doc);
    sb_json_kstr(j, "title", title);
    sb_json_kint(j, "height", 30 + idx % 50);
    sb_json_kint(j, "width", 20 + idx % 40);
    sb_json_kstr(j, "description", description);
    sb_json_kmoney(j, "amount", b->amount, pf_style(d, PF_K_BOUQUET, idx, PF_F_B_AMOUNT));
    sb_json_kmoney(j, "saleAmount", sale, pf_style(d, PF_K_BOUQUET, idx, PF_F_B_SALE));
    sb_json_kmoney(j, "trueSaleAmount", sale, pf_style(d, PF_K_BOUQUET, idx, PF_F_B_TRUE_SALE));
    sb_json_kstr(j, "status", statuses[b->status % 3]);
    kiso(j, "onWindowAt", b->status == 1 ? b->created + 600 : 0);
    kiso(j, "createdAt", b->created);
    kiso(j, "updatedAt", b->updated);
    sb_json_knull(j, "completedAt");
    sb_json_kbool(j, "public", idx % 3 == 0);
    sb_json_kmoney(j, "discount", b->discount, SB_MONEY_NUMBER);
    sb_json_kstr(j, "discountType", "absolute");
    sb_json_kmoney(j, "markup", b->markup, SB_MONEY_NUMBER);
    sb_json_kstr(j, "markupType", "absolute");
    sb_json_kint(j, "revision", b->revision);
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel(j, "store", d, "stores", PF_K_STORE, b->store);
    rel(j, "createdBy", d, "users", PF_K_USER, idx % PF_WORKERS);
    rel(j, "updatedBy", d, "users", PF_K_USER, idx % PF_WORKERS);
    rel_null(j, "logo");
    rel_null(j, "specWithVar");
    sb_json_end(j);
    finish(j, "bouquets", id);
}

void pf_render_customer(sb_json *j, const pf_data *d, uint32_t idx)
{
    static const char *const statuses[] = {"on", "off", "deleted"};
    const pf_customer *c = &d->customers.v[idx];
    char id[PF_ID_LEN + 1], text[PF_TEXT_MAX];
    pf_id(d, PF_K_CUSTOMER, idx, id);
    /* The name's hash also decides company or person and gender (sb_pf_text.c). */
    unsigned kind = (unsigned)(pf_hash(d, PF_K_CUSTOMER, idx, 6) % 100);
    uint64_t h = pf_hash(d, PF_K_CUSTOMER, idx, 14);
    int64_t qty = (int64_t)(h % 20);
    int64_t average = qty > 0 ? (int64_t)(1500 + (h >> 8) % 4000) * PF_V4 : 0;
    begin(j, "customers", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    pf_text_customer_name(d, idx, text, sizeof text);
    sb_json_kstr(j, "title", text);
    if (h % 2 == 0) {
        char birthday[16];
        sb_time_date(SB_CLOCK_START - (int64_t)(18 * 365 + (h >> 16) % (40 * 365)) * SB_DAY,
                     birthday);
        sb_json_kstr(j, "birthday", birthday);
    } else {
        sb_json_knull(j, "birthday");
    }
    pf_text_customer_email(d, idx, text, sizeof text);
    sb_json_kstr(j, "email", text);
    sb_json_kstr(j, "instagram", "");
    sb_json_kstr(j, "status", statuses[c->status % 3]);
    sb_json_kbool(j, "isPerson", kind >= 5);
    sb_json_kstr(j, "bonusCard", "");
    pf_text_customer_notes(d, idx, text, sizeof text);
    sb_json_kstr(j, "notes", text);
    sb_json_kmoney(j, "averageCheck", average, pf_style(d, PF_K_CUSTOMER, idx, PF_F_C_AVERAGE));
    sb_json_kmoney(j, "ordersAmount", average * qty, SB_MONEY_NUMBER);
    sb_json_kint(j, "ordersQty", qty);
    kiso(j, "createdAt", c->created);
    kiso(j, "updatedAt", c->updated);
    sb_json_kint(j, "spentPoints", c->spent);
    sb_json_kint(j, "currentPoints", c->points);
    if (kind < 5)
        sb_json_knull(j, "gender");
    else
        sb_json_kstr(j, "gender", kind < 50 ? "male" : "female");
    pf_text_customer_phone(d, idx, text, sizeof text);
    sb_json_kstr(j, "phone", text);
    sb_json_kint(j, "revision", c->revision);
    sb_json_kint(j, "countryCode", 7);
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel_null(j, "person");
    rel_empty(j, "discountGroups");
    rel_fixed(j, "bonusGroup", "bonus-groups", "1");
    rel_empty(j, "customerSources");
    rel_empty(j, "customerPreferences");
    rel_empty(j, "customerEvents");
    sb_json_end(j);
    finish(j, "customers", id);
}

static void order_attributes(sb_json *j, const pf_data *d, uint32_t idx)
{
    const pf_order *o = &d->orders.v[idx];
    char text[PF_TEXT_MAX], street[PF_TEXT_MAX], house[32], contact[PF_TEXT_MAX];
    bool by_bonuses = false;
    for (uint32_t p = o->pay_head; p != PF_NONE; p = d->pays.v[p].next)
        by_bonuses = by_bonuses || d->pays.v[p].bonus > 0;
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "status", pf_status_names[o->status]);
    kdate(j, "date", o->created);
    pf_text_order_doc_no(d, idx, text, sizeof text);
    sb_json_kstr(j, "docNo", text);
    pf_text_order_description(d, idx, text, sizeof text);
    sb_json_kstr(j, "description", text);
    sb_json_kint(j, "budget", 0);
    int64_t due = o->delivery ? (o->created / SB_HOUR + 24) * SB_HOUR : 0;
    kiso(j, "dueTime", due);
    sb_json_kbool(j, "delivery", o->delivery);
    sb_json_kstr(j, "deliveryComments", "");
    if (o->delivery)
        pf_text_order_delivery(d, idx, text, street, house, contact, PF_TEXT_MAX);
    else
        text[0] = street[0] = house[0] = contact[0] = '\0';
    sb_json_kstr(j, "deliveryCity", text);
    sb_json_kstr(j, "deliveryStreet", street);
    sb_json_kstr(j, "deliveryHouse", house);
    sb_json_kstr(j, "deliveryApartment", o->delivery ? "12" : "");
    sb_json_kstr(j, "deliveryBuilding", "");
    kiso(j, "deliveryTimeFrom", due);
    kiso(j, "deliveryTimeTo", due ? due + 3 * SB_HOUR : 0);
    sb_json_kstr(j, "deliveryContact", contact);
    if (o->delivery)
        pf_text_customer_phone(d, idx, text, sizeof text);
    sb_json_kstr(j, "deliveryPhoneNumber", o->delivery ? text : "");
    kiso(j, "createdAt", o->created);
    kiso(j, "updatedAt", o->updated);
    kiso(j, "updatedStatusAt", o->status_at);
    kiso(j, "modifiedAt", o->modified);
    sb_json_kbool(j, "fiscal", false);
    sb_json_kbool(j, "fiscalized", false);
    sb_json_kbool(j, "byBonuses", by_bonuses);
    sb_json_kbool(j, "posted", o->posted_at != 0);
    kiso(j, "postedAt", o->posted_at);
    if (o->status == PF_ST_CANCELED)
        sb_json_kstr(j, "cancelComment", "Клиент \"передумал\"");
    else
        sb_json_knull(j, "cancelComment");
    if (o->poison) {
        sb_json_key(j, "totalAmount");
        sb_json_raw(j, "90000000000000000.00");
    } else {
        sb_json_kmoney(j, "totalAmount", o->total, pf_style(d, PF_K_ORDER, idx, PF_F_TOTAL));
    }
    sb_json_kmoney(j, "paymentsAmount", o->paid, pf_style(d, PF_K_ORDER, idx, PF_F_PAID));
    sb_json_kbool(j, "isExternal", false);
    sb_json_knull(j, "externalId");
    sb_json_knull(j, "deliveryStatus");
    sb_json_knull(j, "fiscalizedAt");
    sb_json_kint(j, "revision", o->revision);
    sb_json_kstr(j, "deliveryPhoneCode", o->delivery ? "+7" : "");
    sb_json_end(j);
}

void pf_render_order(sb_json *j, const pf_data *d, uint32_t idx, bool detail, bool lines)
{
    const pf_order *o = &d->orders.v[idx];
    char id[PF_ID_LEN + 1];
    pf_id(d, PF_K_ORDER, idx, id);
    begin(j, "orders", id);
    order_attributes(j, d, idx);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel(j, "source", d, "order-sources", PF_K_SOURCE, o->source);
    rel(j, "store", d, "stores", PF_K_STORE, o->store);
    rel(j, "customer", d, "customers", PF_K_CUSTOMER, o->customer);
    rel(j, "postedBy", d, "workers", PF_K_WORKER, o->posted_at ? o->worker : PF_NONE);
    rel(j, "createdBy", d, "workers", PF_K_WORKER, o->worker);
    rel_null(j, "lockedBy");
    rel_null(j, "lockedAt");
    rel_null(j, "lockedAtSmartphone");
    if (detail) {
        rel_empty(j, "images");
        rel_empty(j, "history");
    }
    sb_json_key(j, "payments");
    sb_json_obj(j);
    sb_json_key(j, "data");
    sb_json_arr(j);
    for (uint32_t p = o->pay_head; p != PF_NONE; p = d->pays.v[p].next)
        pf_render_ref(j, d, "order-payments", PF_K_PAYMENT, p);
    sb_json_end(j);
    sb_json_end(j);
    rel_empty(j, "discounts");
    if (detail || lines) {
        sb_json_key(j, "lines");
        sb_json_obj(j);
        sb_json_key(j, "data");
        sb_json_arr(j);
        for (uint32_t l = o->line_start; l < o->line_start + o->nlines; l++)
            pf_render_ref(j, d, "order-lines", PF_K_LINE, l);
        sb_json_end(j);
        sb_json_end(j);
    }
    rel(j, "courier", d, "workers", PF_K_WORKER,
        o->delivery ? (uint32_t)(o->worker + 1) % PF_WORKERS : PF_NONE);
    rel(j, "florist", d, "workers", PF_K_WORKER, idx % 3 ? o->worker : PF_NONE);
    sb_json_end(j);
    finish(j, "orders", id);
}

int64_t pf_line_discount_price(const pf_line *l)
{
    return l->discount_pct ? (l->price * (100 - l->discount_pct) + 5000) / 10000 * 100 : l->price;
}

void pf_render_line(sb_json *j, const pf_data *d, uint32_t idx)
{
    const pf_line *l = &d->lines.v[idx];
    char id[PF_ID_LEN + 1];
    pf_id(d, PF_K_LINE, idx, id);
    int64_t amount = (int64_t)l->qty * l->price / PF_V4;
    int64_t dprice = pf_line_discount_price(l);
    begin(j, "order-lines", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kmoney(j, "qty", l->qty, pf_style(d, PF_K_LINE, idx, PF_F_QTY));
    sb_json_kmoney(j, "price", l->price, pf_style(d, PF_K_LINE, idx, PF_F_PRICE));
    sb_json_kmoney(j, "amount", amount, pf_style(d, PF_K_LINE, idx, PF_F_AMOUNT));
    sb_json_kmoney(j, "totalAmount", l->total, pf_style(d, PF_K_LINE, idx, PF_F_LINE_TOTAL));
    sb_json_kmoney(j, "totalAmountWithDiscount", l->total,
                   pf_style(d, PF_K_LINE, idx, PF_F_LINE_TOTAL_WD));
    sb_json_kmoney(j, "discountPrice", dprice, pf_style(d, PF_K_LINE, idx, PF_F_DISCOUNT_PRICE));
    sb_json_kbool(j, "manualSetting", l->manual);
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel(j, "item", d, "inventory-items", PF_K_ITEM, l->item);
    rel(j, "bouquet", d, "bouquets", PF_K_BOUQUET, l->bouquet);
    rel(j, "measure", d, "measures", PF_K_MEASURE, d->items.v[l->item].fractional ? 1 : 0);
    sb_json_end(j);
    finish(j, "order-lines", id);
}

void pf_render_payment(sb_json *j, const pf_data *d, uint32_t idx)
{
    static const char *const types[] = {"payment", "return", "change"};
    const pf_payment *p = &d->pays.v[idx];
    const pf_order *o = &d->orders.v[p->order];
    char id[PF_ID_LEN + 1];
    pf_id(d, PF_K_PAYMENT, idx, id);
    begin(j, "order-payments", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "paymentType", types[p->type % 3]);
    kdate(j, "date", p->created);
    sb_json_kmoney(j, "amount", p->amount, pf_style(d, PF_K_PAYMENT, idx, PF_F_PAY_AMOUNT));
    sb_json_kmoney(j, "bonusAmount", p->bonus, pf_style(d, PF_K_PAYMENT, idx, PF_F_PAY_BONUS));
    sb_json_kstr(j, "description", p->type == PF_PAY_RETURN ? "Возврат \"по просьбе\"" : "");
    kiso(j, "createdAt", p->created);
    sb_json_kbool(j, "posted", true);
    kiso(j, "postedAt", p->created);
    sb_json_kstr(j, "terminalTransactionId", "");
    sb_json_kbool(j, "fiscalized", false);
    sb_json_kbool(j, "prepayment",
                  p->type == PF_PAY_PAYMENT && p->created < o->updated && o->status == PF_ST_NEW);
    sb_json_knull(j, "fiscalizedAt");
    sb_json_end(j);
    sb_json_key(j, "relationships");
    sb_json_obj(j);
    rel(j, "method", d, "payment-methods", PF_K_METHOD, p->method);
    rel(j, "shift", d, "shifts", PF_K_SHIFT,
        (uint32_t)(p->created / SB_DAY % 100000) * 64 + o->store % 64);
    rel(j, "createdBy", d, "workers", PF_K_WORKER, o->worker);
    rel(j, "postedBy", d, "workers", PF_K_WORKER, o->worker);
    rel(j, "parent", d, "order-payments", PF_K_PAYMENT, p->parent);
    rel(j, "order", d, "orders", PF_K_ORDER, p->order);
    rel_null(j, "fiscalShift");
    rel_null(j, "fiscalizedBy");
    sb_json_end(j);
    finish(j, "order-payments", id);
}

void pf_render_method(sb_json *j, const pf_data *d, uint32_t method)
{
    char id[PF_ID_LEN + 1];
    pf_id(d, PF_K_METHOD, method, id);
    begin(j, "payment-methods", id);
    sb_json_key(j, "attributes");
    sb_json_obj(j);
    sb_json_kstr(j, "title", pf_text_method(method));
    sb_json_end(j);
    finish(j, "payment-methods", id);
}
