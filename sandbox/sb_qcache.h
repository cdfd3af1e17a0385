/* sb_qcache: a small cache of list-query results, so paging through a large
 * filtered and sorted list costs one scan and sort for the first page and a copy
 * of page-many indexes for each further page.
 *
 * An entry is the full, ordered list of matching record indexes for one query
 * (every parameter but the page), tagged with the data version it was computed
 * from; a lookup at another version misses. Least recently used entries are
 * evicted. Thread-safe (one mutex; lookups copy the page out under it). */
#ifndef SB_QCACHE_H
#define SB_QCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SB_QCACHE_SLOTS 16
#define SB_QCACHE_AUX 4

typedef struct {
    char *key; /* NULL = free slot */
    uint64_t version;
    uint32_t *idx;
    uint32_t count;
    int64_t aux[SB_QCACHE_AUX]; /* per-query extras (e.g. sums for meta) */
    uint64_t used;
} sb_qcache_entry;

typedef struct {
    pthread_mutex_t mu;
    sb_qcache_entry e[SB_QCACHE_SLOTS];
    uint64_t tick;
} sb_qcache;

void sb_qcache_init(sb_qcache *c);
/* Frees every entry and the mutex. */
void sb_qcache_term(sb_qcache *c);
/* Forgets every entry. */
void sb_qcache_clear(sb_qcache *c);

/* On a hit for (key, version): copies up to limit indexes from position offset into
 * page, sets *n (copied), *total (all matches) and aux, and returns true. */
bool sb_qcache_get(sb_qcache *c, const char *key, uint64_t version, uint64_t offset, uint32_t limit,
                   uint32_t *page, uint32_t *n, uint32_t *total, int64_t aux[SB_QCACHE_AUX]);
/* Stores a result; takes ownership of idx (malloc'ed; freed here when it cannot be
 * kept). */
void sb_qcache_put(sb_qcache *c, const char *key, uint64_t version, uint32_t *idx, uint32_t count,
                   const int64_t aux[SB_QCACHE_AUX]);

#endif
