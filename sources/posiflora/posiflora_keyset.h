/* posiflora_keyset: the state of a keyset read of a Posiflora list (see
 * posiflora_pages.h for the read itself). */
#ifndef FE_POSIFLORA_KEYSET_H
#define FE_POSIFLORA_KEYSET_H

#include <stdbool.h>
#include <stdint.h>
#include "core/err.h"

/* What keyset paging remembers between requests: the newest cursor value listed
 * (max), the ids listed at it (ties), the page being read, and the next request.
 * It holds no HTTP: posiflora_pages_read_keyset drives it, and tests drive it
 * directly. The protocol, per page: posiflora_keyset_page_reset, then
 * posiflora_keyset_see for each data record in list order (a cut page that is
 * read again starts with page_reset again), then posiflora_keyset_page_end,
 * which names the next request or the end.
 *
 * The page-number fallback for a value shared by more than a page of records is
 * the one place where a shift could still hide a record: while the pages of value
 * V are read by number, an order at V that was already listed may be updated,
 * leaving V and moving the unread orders at V one place earlier. Such an order
 * shows up again later in the same read with a newer value: when an id listed
 * during a fallback at V is seen again above V, the keyset caps the cursor at V
 * (posiflora_keyset_cap), so the checkpoint does not pass V and the next run reads
 * V again. Records without a cursor value (absent, not a date-time) are always
 * "new" and never move the max; a list that starts with more than a page of them
 * is paged by number (no lower bound is possible for them). */

typedef struct posiflora_keyset posiflora_keyset;

/* field: the sort and filter field ("updatedAt"); records carry it as
 * "attributes.FIELD". Returns NULL when out of memory. Free with
 * posiflora_keyset_free (accepts NULL). */
posiflora_keyset *posiflora_keyset_new(const char *field);
void posiflora_keyset_free(posiflora_keyset *ks);

/* "attributes.FIELD": where the pager finds a record's cursor value. */
const char *posiflora_keyset_field_path(const posiflora_keyset *ks);

/* A page starts (again): forgets what the page gave so far. */
void posiflora_keyset_page_reset(posiflora_keyset *ks);

/* One data record of the page, in list order. id may be NULL (then the record
 * is new and not remembered); at is the cursor value in microseconds, INT64_MIN
 * when absent or not a date-time. *is_new: false when the record was already
 * listed (same id at the newest value, or a value below it: in an ascending list
 * everything below the newest value was on an earlier page). FE_ENOMEM only. */
fe_rc posiflora_keyset_see(posiflora_keyset *ks, const char *id, int64_t at, bool *is_new,
                           fe_err *err) FE_MUST_CHECK;

typedef struct {
    bool stop;    /* the list is read to its end */
    int64_t from; /* filter[FIELD][from] of the next request; INT64_MIN: keep the
                     caller's first lower bound (none, or cursor minus look-back) */
    long page;    /* page[number] of the next request */
} posiflora_keyset_next;

/* The page is whole and its records seen; page_size is the page[size] asked for.
 * Sets *next. FE_EJSON when the page shows that the server does not honour the
 * request: values descending within the page (sort ignored), or a full first page
 * that lies entirely below its own filter[FIELD][from] (filter ignored); the
 * message names the field. FE_ENOMEM when out of memory. */
fe_rc posiflora_keyset_page_end(posiflora_keyset *ks, long page_size, posiflora_keyset_next *next,
                                fe_err *err) FE_MUST_CHECK;

/* The highest cursor value a checkpoint may store: INT64_MAX when nothing limits
 * it, else the value V of a fallback whose orders may have shifted (see above). */
int64_t posiflora_keyset_cap(const posiflora_keyset *ks);

/* Data records skipped so far as already listed (ties listed again, values below
 * the keyset). */
int64_t posiflora_keyset_skipped(const posiflora_keyset *ks);

#endif
