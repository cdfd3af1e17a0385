/* sb_gf_report: the files behind Goflow's inventory reports: one row per stocked
 * product and warehouse, in json (an array of flat objects), jsonl or csv (RFC
 * 4180, header row), always gzip'ed, the way a CDN stores them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "sb_gf.h"

typedef struct {
    const gf_data *d;
    const gf_product *p;
    const gf_wh *w;
    const gf_stock *s;
} row_ctx;

/* Appends the value of one column: numbers as numbers (json) or plain text. */
static bool put_value(const row_ctx *r, const char *col, sb_buf *b, bool *is_text)
{
    *is_text = false;
    if (strcmp(col, "product_id") == 0)
        sb_buf_put_i64(b, r->p->id);
    else if (strcmp(col, "product_item_number") == 0) {
        sb_buf_puts(b, r->p->sku);
        *is_text = true;
    } else if (strcmp(col, "product_name") == 0) {
        sb_buf_puts(b, r->p->name);
        *is_text = true;
    } else if (strcmp(col, "warehouse_id") == 0) {
        sb_buf_puts(b, r->w->id);
        *is_text = true;
    } else if (strcmp(col, "warehouse_name") == 0) {
        sb_buf_puts(b, r->w->name);
        *is_text = true;
    } else if (strcmp(col, "on_hand") == 0)
        sb_buf_put_i64(b, r->s->on_hand);
    else if (strcmp(col, "available") == 0)
        sb_buf_put_i64(b, r->s->available);
    else if (strcmp(col, "on_purchase_order") == 0)
        sb_buf_put_i64(b, r->s->on_order);
    else if (strcmp(col, "inventory_value_average") == 0)
        sb_json_put_decimal(b, r->s->on_hand * r->p->cost4, 2);
    else if (strcmp(col, "available_value_average") == 0)
        sb_json_put_decimal(b, r->p->cost4, 2);
    else
        return false;
    return true;
}

static void csv_field(sb_buf *out, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) {
        sb_buf_puts(out, v);
        return;
    }
    sb_buf_putc(out, '"');
    for (; *v; v++) {
        if (*v == '"')
            sb_buf_putc(out, '"');
        sb_buf_putc(out, *v);
    }
    sb_buf_putc(out, '"');
}

static void render_row(const row_ctx *r, const char *format, const char *const *cols, size_t n,
                       sb_buf *out, bool first)
{
    sb_buf v;
    bool csv = strcmp(format, "csv") == 0, jsonl = strcmp(format, "jsonl") == 0, text, any = false;
    sb_buf_init(&v, 64);
    if (!csv && !jsonl && !first)
        sb_buf_putc(out, ',');
    if (!csv)
        sb_buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        sb_buf_reset(&v);
        if (!put_value(r, cols[i], &v, &text))
            continue;
        if (csv) {
            if (any)
                sb_buf_putc(out, ',');
            csv_field(out, sb_buf_cstr(&v));
        } else {
            if (any)
                sb_buf_putc(out, ',');
            sb_json_escape(out, cols[i], strlen(cols[i]));
            sb_buf_putc(out, ':');
            if (text)
                sb_json_escape(out, v.data, v.len);
            else
                sb_buf_put(out, v.data, v.len);
        }
        any = true;
    }
    if (sb_buf_failed(&v))
        out->failed = true;
    sb_buf_term(&v);
    if (csv)
        sb_buf_puts(out, "\r\n");
    else
        sb_buf_puts(out, jsonl ? "}\n" : "}");
}

static bool known_column(const char *c)
{
    static const char *const all[] = {"product_id",
                                      "product_item_number",
                                      "product_name",
                                      "warehouse_id",
                                      "warehouse_name",
                                      "on_hand",
                                      "available",
                                      "on_purchase_order",
                                      "inventory_value_average",
                                      "available_value_average"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(all[i], c) == 0)
            return true;
    return false;
}

static int wh_order(const gf_data *d, size_t *idx)
{
    for (size_t i = 0; i < d->nwhs; i++)
        idx[i] = i;
    for (size_t i = 1; i < d->nwhs; i++)
        for (size_t k = i; k > 0 && strcmp(d->whs[idx[k - 1]].id, d->whs[idx[k]].id) > 0; k--) {
            size_t t = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = t;
        }
    return 0;
}

static bool gzip_into(const sb_buf *plain, sb_buf *out)
{
    z_stream z;
    unsigned char chunk[65536];
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    z.next_in = (unsigned char *)plain->data;
    z.avail_in = (uInt)plain->len;
    int zr;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof chunk;
        zr = deflate(&z, Z_FINISH);
        sb_buf_put(out, chunk, sizeof chunk - z.avail_out);
    } while (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0));
    deflateEnd(&z);
    return zr == Z_STREAM_END && !sb_buf_failed(out);
}

/* --poison: one more row, for the first product and warehouse, whose product_id
 * is the product's id, a NUL byte and "0" (JSON "\u0000", a raw byte in CSV). A
 * client that cuts at the NUL reads the product's own id and overwrites its
 * stock; a correct one rejects the row. Only product_id, warehouse_id and
 * on_hand, whatever the columns asked for. */
static void poison_row(const gf_data *d, const char *format, const char *const *cols, size_t n,
                       sb_buf *out, bool first)
{
    bool csv = strcmp(format, "csv") == 0, jsonl = strcmp(format, "jsonl") == 0;
    char id[32];
    int len = snprintf(id, sizeof id, "%lld", (long long)d->products[0].id);
    id[len++] = '\0';
    id[len++] = '0';
    if (!csv) {
        if (!jsonl && !first)
            sb_buf_putc(out, ',');
        sb_buf_puts(out, "{\"product_id\":");
        sb_json_escape(out, id, (size_t)len);
        sb_buf_puts(out, ",\"warehouse_id\":");
        sb_json_escape(out, d->whs[0].id, strlen(d->whs[0].id));
        sb_buf_puts(out, jsonl ? ",\"on_hand\":999}\n" : ",\"on_hand\":999}");
        return;
    }
    /* CSV: the header's columns, in order; the ones not named above are empty. */
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!known_column(cols[i]))
            continue;
        if (any)
            sb_buf_putc(out, ',');
        any = true;
        if (strcmp(cols[i], "product_id") == 0)
            sb_buf_put(out, id, (size_t)len);
        else if (strcmp(cols[i], "warehouse_id") == 0)
            csv_field(out, d->whs[0].id);
        else if (strcmp(cols[i], "on_hand") == 0)
            sb_buf_puts(out, "999");
    }
    sb_buf_puts(out, "\r\n");
}

bool gf_report_render(const gf_data *d, int kind, const char *format, const char *const *columns,
                      size_t ncolumns, sb_buf *out, long *rows)
{
    sb_buf plain;
    size_t wh[16];
    bool csv = strcmp(format, "csv") == 0, json = strcmp(format, "json") == 0, first = true;
    (void)kind;
    *rows = 0;
    if (d->nwhs > 16)
        return false;
    wh_order(d, wh);
    sb_buf_init(&plain, 1 << 16);
    if (csv) {
        bool any = false;
        for (size_t i = 0; i < ncolumns; i++)
            if (known_column(columns[i])) {
                if (any)
                    sb_buf_putc(&plain, ',');
                csv_field(&plain, columns[i]);
                any = true;
            }
        sb_buf_puts(&plain, "\r\n");
    }
    if (json)
        sb_buf_putc(&plain, '[');
    for (size_t w = 0; w < d->nwhs; w++)
        for (size_t p = 0; p < d->nproducts; p++) {
            const gf_product *prod = &d->products[p];
            if (!gf_product_stocked(prod))
                continue;
            row_ctx r = {d, prod, &d->whs[wh[w]], &d->stock[p * d->nwhs + wh[w]]};
            render_row(&r, format, columns, ncolumns, &plain, first);
            first = false;
            (*rows)++;
        }
    if (d->poison && d->nproducts > 0 && d->nwhs > 0) {
        poison_row(d, format, columns, ncolumns, &plain, first);
        (*rows)++;
    }
    if (json)
        sb_buf_putc(&plain, ']');
    bool ok = !sb_buf_failed(&plain) && gzip_into(&plain, out);
    sb_buf_term(&plain);
    return ok;
}
