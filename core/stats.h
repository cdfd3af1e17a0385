/* stats: what one stream read and wrote in one run; lands in etl.run_stream.
 * Each stream owns one; the HTTP layer and the loader add to it. */
#ifndef FE_STATS_H
#define FE_STATS_H

#include <stdint.h>
#include <string.h>

/* Warehouse tables one stream writes at most (an orders stream: fact_order,
 * fact_order_line, fact_payment; a products stream: dim_product,
 * bridge_product_component...). */
#define STATS_TABLES 8

/* The rows one stream wrote to one warehouse table. */
typedef struct {
    const char *table; /* "fact_order" (static storage); NULL: slot unused */
    int64_t inserted, updated, unchanged, deleted;
} table_rows;

typedef struct {
    int64_t pages;
    int64_t records;   /* records parsed from responses */
    int64_t inserted;  /* warehouse rows inserted by merges */
    int64_t updated;   /* warehouse rows changed by merges */
    int64_t unchanged; /* staged rows whose warehouse row was already equal */
    int64_t deleted;   /* rows marked is_deleted by a full read */
    int64_t rejects;
    int64_t requests; /* HTTP requests sent, retries included */
    int64_t retries;
    int64_t http_429;
    int64_t bytes; /* response body bytes received */
    /* inserted, updated, unchanged and deleted again, per table, in the order the
     * tables were first written (the totals above are their sums, but for tables
     * past STATS_TABLES, which only the totals count). */
    table_rows tables[STATS_TABLES];
    /* Records the stream is expected to read: the count the API sent with the
     * first page that had one, plus the records read before it; 0 = unknown. For
     * progress and its ETA only (not stored). Set with stats_note_total. */
    int64_t expected;
} stream_stats;

/* The entry of table in s, taking a free slot for a new table; NULL when all
 * are taken. table must be of static storage. */
static inline table_rows *stats_table(stream_stats *s, const char *table)
{
    for (int i = 0; i < STATS_TABLES; i++) {
        if (!s->tables[i].table)
            s->tables[i].table = table;
        if (strcmp(s->tables[i].table, table) == 0)
            return &s->tables[i];
    }
    return NULL;
}

/* Adds rows to s: to the totals and to the entry of its table. */
static inline void stats_add_rows(stream_stats *s, const table_rows *rows)
{
    s->inserted += rows->inserted;
    s->updated += rows->updated;
    s->unchanged += rows->unchanged;
    s->deleted += rows->deleted;
    table_rows *t = rows->table ? stats_table(s, rows->table) : NULL;
    if (!t)
        return;
    t->inserted += rows->inserted;
    t->updated += rows->updated;
    t->unchanged += rows->unchanged;
    t->deleted += rows->deleted;
}

/* Called by a list reader for each page, before its records are added: the
 * first count a stream sees sets s->expected (s may be NULL; total < 1 is none). */
static inline void stats_note_total(stream_stats *s, int64_t total)
{
    if (s && s->expected == 0 && total > 0)
        s->expected = s->records + total;
}

#endif
