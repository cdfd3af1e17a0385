/* stats: what one stream read and wrote in one run; lands in etl.run_stream.
 * Each stream owns one; the HTTP layer and the loader add to it. */
#ifndef FE_STATS_H
#define FE_STATS_H

#include <stdint.h>

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
    /* Records the stream is expected to read: the count the API sent with the
     * first page that had one, plus the records read before it; 0 = unknown. For
     * progress and its ETA only (not stored). Set with stats_note_total. */
    int64_t expected;
} stream_stats;

/* Called by a list reader for each page, before its records are added: the
 * first count a stream sees sets s->expected (s may be NULL; total < 1 is none). */
static inline void stats_note_total(stream_stats *s, int64_t total)
{
    if (s && s->expected == 0 && total > 0)
        s->expected = s->records + total;
}

#endif
