/* Posiflora text: the Russian names, titles, addresses and notes of the records.
 * Text is derived from (seed, kind, index, version) when a record is rendered and
 * never stored. It deliberately carries what breaks careless code: double quotes,
 * tabs, newlines, backslashes, guillemets and emoji (4-byte UTF-8). All of it is
 * valid UTF-8. */
#include <stdio.h>
#include <string.h>
#include "sb_pf.h"
#include "sb_time.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define PICK(a, h) ((a)[(h) % COUNT(a)])

static const char *const store_titles[] = {"Цветочная лавка \"Ромашка\"",
                                           "Флористика «Белая роза»",
                                           "Цветы\tи подарки",
                                           "Мастерская букетов \\ Север",
                                           "Салон \"Ландыш\" 🌷",
                                           "Бутик «Пион»",
                                           "Оранжерея на Садовой",
                                           "Цветочный рай 🌸",
                                           "Букетная №1",
                                           "Лаванда & Мята"};

static const char *const cities[] = {"Москва",         "Санкт-Петербург", "Казань",
                                     "Новосибирск",    "Екатеринбург",    "Нижний Новгород",
                                     "Ростов-на-Дону", "Самара"};

static const char *const streets[] = {"ул. Тверская",       "пр-т Мира",   "ул. Ленина",
                                      "наб. реки Фонтанки", "ул. Садовая", "ул. Пушкина",
                                      "Невский пр-т",       "ул. Баумана"};

void pf_text_store(const pf_data *d, uint32_t idx, char *title, char *city, char *address,
                   char *external, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_STORE, idx, 1);
    if (idx < COUNT(store_titles))
        snprintf(title, len, "%s", store_titles[idx]);
    else
        snprintf(title, len, "%s — филиал %u", PICK(store_titles, h), idx + 1);
    snprintf(city, len, "%s", PICK(cities, h >> 8));
    static const char *const extras[] = {"", "", ", вход со двора", "\nвход с торца, 2 этаж",
                                         ", офис \"Б\""};
    snprintf(address, len, "%s, д. %u%s", PICK(streets, h >> 16), (unsigned)(h >> 24) % 120 + 1,
             PICK(extras, h >> 32));
    for (int i = 0; i < 6; i++)
        external[i] = (char)('a' + (h >> (40 + i * 4)) % 26);
    external[6] = '\0';
}

static const char *const category_roots[] = {"Розы",
                                             "Хризантемы",
                                             "Тюльпаны",
                                             "Зелень",
                                             "Упаковка",
                                             "Открытки",
                                             "Игрушки",
                                             "Услуги",
                                             "Сухоцветы \\ стабилизированные",
                                             "Горшечные растения",
                                             "Шары 🎈",
                                             "Сладости"};

static const char *const category_subs[] = {
    "Кенийские",       "Эквадорские",    "Кустовые", "Пионовидные",  "Голландские",
    "Местные",         "Премиум",        "Сезонные", "Крафт",        "Плёнка",
    "Ленты \"атлас\"", "Мягкие игрушки", "Доставка", "Ассорти\tмикс"};

void pf_text_category(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    const pf_category *c = &d->cats.v[idx];
    if (c->parent == PF_NONE) {
        if (idx < COUNT(category_roots))
            snprintf(out, len, "%s", category_roots[idx]);
        else
            snprintf(out, len, "%s %u", category_roots[idx % COUNT(category_roots)],
                     (unsigned)(idx / COUNT(category_roots) + 1));
        return;
    }
    snprintf(out, len, "%s", PICK(category_subs, pf_hash(d, PF_K_CATEGORY, idx, 2)));
}

static const char *const flowers[] = {"Роза",     "Хризантема",   "Тюльпан", "Пион",  "Гортензия",
                                      "Эустома",  "Альстромерия", "Гербера", "Лилия", "Ирис",
                                      "Гвоздика", "Эвкалипт",     "Писташ",  "Рускус"};
static const char *const colors[] = {"красная",  "белая",    "розовая", "жёлтая",
                                     "кремовая", "бордовая", "микс"};
static const char *const sizes[] = {"40 см", "50 см", "60 см", "70 см", "80 см"};
static const char *const services[] = {"Доставка по городу", "Упаковка \"Премиум\"",
                                       "Сборка букета", "Открытка с текстом", "Срочная доставка 🚀"};
static const char *const by_measure[] = {"Лента атласная (м)", "Плёнка матовая (м)", "Мох (кг)",
                                         "Сизаль (м)"};
static const char *const item_notes[] = {"",
                                         "",
                                         "Свежий срез.\nСтрана: Эквадор\tСорт: \"Explorer\"",
                                         "Хранить при +4…+8 °C",
                                         "Артикул поставщика: RZ\\60\\2",
                                         "Хит продаж 🔥\nПодходит для моно-букетов",
                                         "Цена обновлена"};

void pf_text_item(const pf_data *d, uint32_t idx, char *title, char *description, size_t len)
{
    const pf_item *it = &d->items.v[idx];
    uint64_t h = pf_hash(d, PF_K_ITEM, idx, 3);
    if (it->service)
        snprintf(title, len, "%s", PICK(services, h));
    else if (it->fractional)
        snprintf(title, len, "%s", PICK(by_measure, h));
    else
        snprintf(title, len, "%s %s %s", PICK(flowers, h), PICK(colors, h >> 8),
                 PICK(sizes, h >> 16));
    uint64_t hv = pf_hash(d, PF_K_ITEM, idx, 4 + ((uint64_t)it->version << 8));
    if (it->version > 0)
        snprintf(description, len, "%s (ред. %u)", PICK(item_notes, hv), it->version);
    else
        snprintf(description, len, "%s", PICK(item_notes, hv));
}

static const char *const bouquet_titles[] = {
    "Букет «Нежность»",          "Композиция \"Весна\" 🌼", "Букет невесты",
    "Корзина «Солнечная»",       "Моно-букет из роз",      "Букет \"С днём рождения!\" 🎉",
    "Шляпная коробка\tклассика", "Букет «Сказка» \\ мини"};
static const char *const bouquet_notes[] = {"", "Собран флористом\nВ составе: розы, эвкалипт",
                                            "Витрина №2", "Для \"особого\" случая ❤"};

void pf_text_bouquet(const pf_data *d, uint32_t idx, char *title, char *description, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_BOUQUET, idx, 5);
    snprintf(title, len, "%s", PICK(bouquet_titles, h));
    snprintf(description, len, "%s", PICK(bouquet_notes, h >> 8));
}

static const char *const last_m[] = {"Иванов", "Смирнов", "Кузнецов", "Попов",   "Васильев",
                                     "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров"};
static const char *const first_m[] = {"Александр", "Дмитрий", "Максим", "Сергей",
                                      "Андрей",    "Алексей", "Артём",  "Илья"};
static const char *const middle_m[] = {"Александрович", "Сергеевич", "Андреевич", "Игоревич"};
static const char *const first_f[] = {"Анна",    "Мария",   "Елена",     "Ольга",
                                      "Наталья", "Татьяна", "Екатерина", "Юлия"};
static const char *const middle_f[] = {"Александровна", "Сергеевна", "Андреевна", "Игоревна"};
static const char *const companies[] = {"ООО \"Цветочный рай\"", "ИП Иванова А.\\С.",
                                        "АО «Праздник»", "ООО \"Ивент\tГрупп\""};

void pf_text_customer_name(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_CUSTOMER, idx, 6);
    unsigned kind = (unsigned)(h % 100);
    if (kind < 5) {
        snprintf(out, len, "%s", PICK(companies, h >> 8));
    } else if (kind < 50) {
        snprintf(out, len, "%s %s %s", PICK(last_m, h >> 8), PICK(first_m, h >> 16),
                 PICK(middle_m, h >> 24));
    } else {
        snprintf(out, len, "%sа %s %s%s", PICK(last_m, h >> 8), PICK(first_f, h >> 16),
                 PICK(middle_f, h >> 24), kind < 53 ? " 🌺" : "");
    }
}

static const char *const customer_notes[] = {"",
                                             "",
                                             "",
                                             "Любит пионы 🌸",
                                             "Звонить после 18:00\nНе звонить в выходные",
                                             "Скидка 5% \"по дружбе\"",
                                             "Адрес:\tул. Ленина, 5",
                                             "Путь к файлу: C:\\заказы\\2025"};

void pf_text_customer_notes(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    uint16_t version = d->customers.v[idx].version;
    uint64_t h = pf_hash(d, PF_K_CUSTOMER, idx, 7 + ((uint64_t)version << 8));
    snprintf(out, len, "%s", PICK(customer_notes, h));
}

void pf_text_customer_email(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_CUSTOMER, idx, 8);
    if (h % 3 == 0)
        out[0] = '\0';
    else
        snprintf(out, len, "client%u.%04x@example.ru", idx + 1, (unsigned)(h >> 16) & 0xffff);
}

void pf_text_customer_phone(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_CUSTOMER, idx, 9);
    snprintf(out, len, "9%09llu", (unsigned long long)(h % 1000000000ULL));
}

static const char *const order_notes[] = {"",
                                          "",
                                          "",
                                          "",
                                          "Позвонить получателю \"заранее\"",
                                          "Открытка: С любовью ❤\nБез цены",
                                          "Доставить к 18:00\tдомофон 12",
                                          "Оплата по ссылке \\ СБП"};

void pf_text_order_description(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    snprintf(out, len, "%s", PICK(order_notes, pf_hash(d, PF_K_ORDER, idx, 10)));
}

void pf_text_order_doc_no(const pf_data *d, uint32_t idx, char *out, size_t len)
{
    const pf_order *o = &d->orders.v[idx];
    char date[16];
    sb_time_date(o->created, date);
    snprintf(out, len, "aa%c%c%c%c%06u", 'a' + o->store / 26 % 26, 'a' + o->store % 26, date[2],
             date[3], (idx + 1) % 1000000);
}

void pf_text_order_delivery(const pf_data *d, uint32_t idx, char *city, char *street, char *house,
                            char *contact, size_t len)
{
    uint64_t h = pf_hash(d, PF_K_ORDER, idx, 11);
    snprintf(city, len, "%s", PICK(cities, h));
    snprintf(street, len, "%s", PICK(streets, h >> 8));
    snprintf(house, len, "%u", (unsigned)(h >> 16) % 150 + 1);
    snprintf(contact, len, "%s", PICK(first_f, h >> 24));
}

const char *pf_text_method(uint32_t method)
{
    static const char *const methods[PF_METHODS] = {"Наличные", "Банковская карта", "СБП",
                                                    "Перевод на карту"};
    return methods[method % PF_METHODS];
}
