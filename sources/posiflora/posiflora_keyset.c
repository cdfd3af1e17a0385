/* posiflora_keyset: what keyset paging remembers between requests. See
 * posiflora_keyset.h. */
#include "sources/posiflora/posiflora_keyset.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* ---- a set of ids (open addressing, linear probing) ------------------------- */

typedef struct {
    char **slots; /* NULL = empty; owned copies */
    size_t cap;   /* 0 or a power of two */
    size_t n;
} idset;

static size_t id_hash(const char *id)
{
    return (size_t)buf_fnv1a(BUF_FNV_INIT, id, strlen(id));
}

static size_t idset_find(const idset *s, const char *id)
{
    size_t i = id_hash(id) & (s->cap - 1);
    while (s->slots[i] && strcmp(s->slots[i], id) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static bool idset_has(const idset *s, const char *id)
{
    return s->n > 0 && s->slots[idset_find(s, id)] != NULL;
}

static bool idset_grow(idset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    idset bigger = {.slots = calloc(cap, sizeof(char *)), .cap = cap, .n = s->n};
    if (!bigger.slots)
        return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i])
            bigger.slots[idset_find(&bigger, s->slots[i])] = s->slots[i];
    free(s->slots);
    *s = bigger;
    return true;
}

/* Adds a copy of id (nothing when present). False when out of memory. */
static bool idset_add(idset *s, const char *id)
{
    if ((s->n + 1) * 2 > s->cap && !idset_grow(s))
        return false;
    size_t i = idset_find(s, id);
    if (s->slots[i])
        return true;
    if (!(s->slots[i] = strdup(id)))
        return false;
    s->n++;
    return true;
}

/* Adds every id of from to to; from is left empty. False when out of memory. */
static bool idset_move_into(idset *to, idset *from)
{
    bool ok = true;
    for (size_t i = 0; i < from->cap; i++) {
        if (from->slots[i]) {
            ok = ok && idset_add(to, from->slots[i]);
            free(from->slots[i]);
            from->slots[i] = NULL;
        }
    }
    from->n = 0;
    return ok;
}

static void idset_clear(idset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        free(s->slots[i]);
        s->slots[i] = NULL;
    }
    s->n = 0;
}

static void idset_term(idset *s)
{
    idset_clear(s);
    free(s->slots);
    *s = (idset){0};
}

/* ---- keyset state ------------------------------------------------------------ */

typedef struct {
    char *id;
    int64_t at;
} listed;

struct posiflora_keyset {
    char *field_path; /* "attributes.updatedAt" */
    const char *field;
    int64_t max_at; /* newest value listed; INT64_MIN: none yet */
    idset ties;     /* ids listed at max_at */
    bool fallback;  /* page[number] > 1 was asked at max_at */
    idset watch;    /* ids listed during fallbacks, see posiflora_pages.h */
    int64_t watch_at, cap;
    int64_t skipped;
    /* the request being read */
    int64_t from; /* INT64_MIN: the caller's first lower bound */
    long page;
    /* the page being read: records with an id and a cursor value */
    listed *rows;
    size_t nrows, cap_rows;
    int64_t page_rows, below, prev_at;
    bool descending;
};

posiflora_keyset *posiflora_keyset_new(const char *field)
{
    posiflora_keyset *ks = calloc(1, sizeof *ks);
    buf path;
    if (!ks)
        return NULL;
    buf_init(&path, 0);
    if (!buf_puts(&path, "attributes.") || !buf_puts(&path, field)) {
        buf_term(&path);
        free(ks);
        return NULL;
    }
    ks->field_path = buf_take(&path, NULL);
    ks->field = ks->field_path + strlen("attributes.");
    ks->max_at = INT64_MIN;
    ks->watch_at = ks->cap = INT64_MAX;
    ks->from = INT64_MIN;
    ks->page = 1;
    ks->prev_at = INT64_MIN;
    return ks;
}

void posiflora_keyset_page_reset(posiflora_keyset *ks)
{
    for (size_t i = 0; i < ks->nrows; i++)
        free(ks->rows[i].id);
    ks->nrows = 0;
    ks->page_rows = ks->below = 0;
    ks->prev_at = INT64_MIN;
    ks->descending = false;
}

void posiflora_keyset_free(posiflora_keyset *ks)
{
    if (!ks)
        return;
    posiflora_keyset_page_reset(ks);
    free(ks->rows);
    idset_term(&ks->ties);
    idset_term(&ks->watch);
    free(ks->field_path);
    free(ks);
}

const char *posiflora_keyset_field_path(const posiflora_keyset *ks)
{
    return ks->field_path;
}

int64_t posiflora_keyset_cap(const posiflora_keyset *ks)
{
    return ks->cap;
}

int64_t posiflora_keyset_skipped(const posiflora_keyset *ks)
{
    return ks->skipped;
}

static fe_rc remember(posiflora_keyset *ks, const char *id, int64_t at, fe_err *err)
{
    listed *rows = buf_array_room(ks->rows, &ks->cap_rows, ks->nrows, sizeof *rows, 128);
    if (!rows)
        return fe_err_set(err, FE_ENOMEM, "out of memory listing records");
    ks->rows = rows;
    if (!(ks->rows[ks->nrows].id = strdup(id)))
        return fe_err_set(err, FE_ENOMEM, "out of memory listing records");
    ks->rows[ks->nrows++].at = at;
    return FE_OK;
}

fe_rc posiflora_keyset_see(posiflora_keyset *ks, const char *id, int64_t at, bool *is_new,
                           fe_err *err)
{
    *is_new = true;
    ks->page_rows++;
    if (at == INT64_MIN || !id)
        return FE_OK;
    if (ks->prev_at != INT64_MIN && at < ks->prev_at)
        ks->descending = true;
    ks->prev_at = at;
    if (ks->from != INT64_MIN && at < ks->from)
        ks->below++;
    /* Listed before a page-number request at a value, changed since: see the header. */
    if (ks->fallback && at > ks->max_at && ks->max_at < ks->cap && idset_has(&ks->ties, id))
        ks->cap = ks->max_at;
    if (at > ks->watch_at && ks->watch_at < ks->cap && idset_has(&ks->watch, id))
        ks->cap = ks->watch_at;
    if (ks->max_at != INT64_MIN &&
        (at < ks->max_at || (at == ks->max_at && idset_has(&ks->ties, id)))) {
        *is_new = false;
        ks->skipped++;
    }
    return remember(ks, id, at, err);
}

/* The ids of the page listed at value `at` join the ties. */
static fe_rc add_ties(posiflora_keyset *ks, int64_t at, fe_err *err)
{
    for (size_t i = 0; i < ks->nrows; i++)
        if (ks->rows[i].at == at && !idset_add(&ks->ties, ks->rows[i].id))
            return fe_err_set(err, FE_ENOMEM, "out of memory listing records");
    return FE_OK;
}

/* A newer value than max_at was listed: the ties of max_at are done with. Those
 * listed during a page-number fallback are watched for the rest of the read. */
static fe_rc advance(posiflora_keyset *ks, int64_t page_max, fe_err *err)
{
    if (ks->fallback) {
        if (!idset_move_into(&ks->watch, &ks->ties))
            return fe_err_set(err, FE_ENOMEM, "out of memory listing records");
        if (ks->max_at < ks->watch_at)
            ks->watch_at = ks->max_at;
        ks->fallback = false;
    }
    idset_clear(&ks->ties);
    ks->max_at = page_max;
    return add_ties(ks, page_max, err);
}

static fe_rc check_page(const posiflora_keyset *ks, long page_size, fe_err *err)
{
    if (ks->descending)
        return fe_err_set(err, FE_EJSON,
                          "the list is not in ascending %s order (does the server ignore "
                          "sort=%s? set orders_sort = false)",
                          ks->field, ks->field);
    if (ks->from != INT64_MIN && ks->page == 1 && ks->page_rows >= page_size &&
        ks->below == ks->page_rows)
        return fe_err_set(err, FE_EJSON,
                          "every record of the page lies below filter[%s][from] (does the "
                          "server ignore that filter? set orders_sort = false)",
                          ks->field);
    return FE_OK;
}

fe_rc posiflora_keyset_page_end(posiflora_keyset *ks, long page_size, posiflora_keyset_next *next,
                                fe_err *err)
{
    int64_t page_max = INT64_MIN;
    fe_rc rc = check_page(ks, page_size, err);
    if (rc != FE_OK)
        return rc;
    *next = (posiflora_keyset_next){
        .stop = ks->page_rows < page_size, .from = ks->from, .page = ks->page + 1};
    for (size_t i = 0; i < ks->nrows; i++)
        if (ks->rows[i].at > page_max)
            page_max = ks->rows[i].at;
    if (page_max != INT64_MIN && (ks->max_at == INT64_MIN || page_max > ks->max_at)) {
        rc = advance(ks, page_max, err);
        next->from = page_max;
        next->page = 1;
    } else if (ks->max_at != INT64_MIN) {
        /* Nothing newer: the page holds ties only (or records without a value). */
        rc = add_ties(ks, ks->max_at, err);
        ks->fallback = ks->fallback || !next->stop;
    }
    ks->from = next->from;
    ks->page = next->page;
    return rc;
}
