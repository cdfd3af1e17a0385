/* summary: the end-of-run summary's lines (see summary.h). */
#include "app/summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool summary_count(buf *out, int64_t n, const char *singular, const char *plural)
{
    return buf_printf(out, "%" PRId64 " %s", n, n == 1 ? singular : plural);
}

/* Streams whose name is not the plural of what a record is. */
static const struct {
    const char *stream, *singular, *plural;
} units[] = {
    {"stock", "stock row", "stock rows"},
    {"inventory", "inventory row", "inventory rows"},
};

void summary_unit(const char *stream, char *singular, size_t ssize, char *plural, size_t psize)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(stream, units[i].stream) == 0) {
            snprintf(singular, ssize, "%s", units[i].singular);
            snprintf(plural, psize, "%s", units[i].plural);
            return;
        }
    /* "inventory_items": "inventory item(s)"; "categories": "category". */
    char words[128];
    snprintf(words, sizeof words, "%s", stream);
    for (char *p = words; *p; p++)
        if (*p == '_')
            *p = ' ';
    size_t n = strlen(words);
    if (n > 3 && strcmp(words + n - 3, "ies") == 0) {
        snprintf(plural, psize, "%s", words);
        snprintf(singular, ssize, "%.*sy", (int)(n - 3), words);
    } else if (n > 1 && words[n - 1] == 's') {
        snprintf(plural, psize, "%s", words);
        snprintf(singular, ssize, "%.*s", (int)(n - 1), words);
    } else { /* a name that is no plural: its records are rows */
        snprintf(singular, ssize, "%s row", words);
        snprintf(plural, psize, "%s rows", words);
    }
}

static bool put_bytes(buf *out, int64_t bytes)
{
    if (bytes < 1000)
        return summary_count(out, bytes, "byte", "bytes");
    if (bytes < 1000 * 1000)
        return buf_printf(out, "%.1f kB", (double)bytes / 1e3);
    if (bytes < 1000LL * 1000 * 1000)
        return buf_printf(out, "%.1f MB", (double)bytes / 1e6);
    return buf_printf(out, "%.2f GB", (double)bytes / 1e9);
}

/* "(14 requests, 1 retry, 2 answered 429, 1.2 MB)": the zero ones left out but
 * requests. */
static bool put_traffic(buf *out, const stream_stats *st)
{
    bool ok = buf_puts(out, " (") && summary_count(out, st->requests, "request", "requests");
    if (ok && st->retries)
        ok = buf_puts(out, ", ") && summary_count(out, st->retries, "retry", "retries");
    if (ok && st->http_429)
        ok = buf_printf(out, ", %" PRId64 " rate-limited (429)", st->http_429);
    if (ok && st->bytes)
        ok = buf_puts(out, ", ") && put_bytes(out, st->bytes);
    return ok && buf_putc(out, ')');
}

/* "    dw.fact_order: 1250 rows inserted, 3 updated, 40 unchanged": the zero
 * counts left out, "row(s)" after the first. */
static bool put_table(buf *out, const table_rows *t)
{
    const char *what[4] = {"inserted", "updated", "unchanged", "marked deleted"};
    int64_t n[4] = {t->inserted, t->updated, t->unchanged, t->deleted};
    bool first = true, ok = true;
    if (!n[0] && !n[1] && !n[2] && !n[3])
        return true;
    ok = buf_printf(out, t->table[0] == '(' ? "    %s: " : "    dw.%s: ", t->table);
    for (int i = 0; ok && i < 4; i++) {
        if (!n[i])
            continue;
        if (first)
            ok = summary_count(out, n[i], "row", "rows") && buf_printf(out, " %s", what[i]);
        else
            ok = buf_printf(out, ", %" PRId64 " %s", n[i], what[i]);
        first = false;
    }
    return ok && buf_putc(out, '\n');
}

bool summary_stream(buf *out, const char *name, const char *stream, const char *status,
                    double seconds, const stream_stats *st)
{
    char one[64], many[64];
    summary_unit(stream, one, sizeof one, many, sizeof many);
    bool ok = buf_printf(out, "%-32s %-11s %7.1f s  ", name, status, seconds) &&
              summary_count(out, st->records, one, many) && buf_puts(out, " read");
    if (ok && st->pages)
        ok = buf_puts(out, " in ") && summary_count(out, st->pages, "page", "pages");
    ok = ok && put_traffic(out, st) && buf_putc(out, '\n');
    bool any = false;
    for (int i = 0; ok && i < STATS_TABLES && st->tables[i].table; i++) {
        const table_rows *t = &st->tables[i];
        any = any || t->inserted || t->updated || t->unchanged || t->deleted;
        ok = put_table(out, t);
    }
    /* Rows of tables past STATS_TABLES, which only the totals have. */
    table_rows rest = {"(other tables)", st->inserted, st->updated, st->unchanged, st->deleted};
    for (int i = 0; i < STATS_TABLES && st->tables[i].table; i++) {
        rest.inserted -= st->tables[i].inserted;
        rest.updated -= st->tables[i].updated;
        rest.unchanged -= st->tables[i].unchanged;
        rest.deleted -= st->tables[i].deleted;
    }
    any = any || rest.inserted || rest.updated || rest.unchanged || rest.deleted;
    ok = ok && put_table(out, &rest);
    if (ok && !any && st->records)
        ok = buf_puts(out, "    no warehouse rows written\n");
    if (ok && st->rejects)
        ok = buf_puts(out, "    rejected: ") && summary_count(out, st->rejects, one, many) &&
             buf_puts(out, " (see etl.reject)\n");
    return ok;
}
