/* pager: the shared page loop and its end-of-list rules. See pager.h. */
#include "extract/pager.h"

#include <stdlib.h>
#include <string.h>

uint64_t pager_hash_add(uint64_t h, const char *bytes, size_t len)
{
    static const unsigned char separator = 0xff; /* "ab","c" and "a","bc" hash apart */
    return buf_fnv1a(buf_fnv1a(h, bytes, len), &separator, 1);
}

int64_t pager_expected_rows(int64_t total, int64_t index, int64_t size)
{
    int64_t before;
    if (total < 0 || size < 1 || index < 0 || __builtin_mul_overflow(index, size, &before))
        return -1;
    int64_t left = total > before ? total - before : 0;
    return left < size ? left : size;
}

/* ---- the URLs of one next-link read ------------------------------------------- *
 * 64-bit hashes of the URLs read in an open-addressing set: two URLs share a hash
 * with odds of about n^2 / 2^65 for n pages. */

static uint64_t url_hash(const char *url)
{
    uint64_t h = buf_fnv1a(BUF_FNV_INIT, url, strlen(url));
    return h ? h : 1;
}

/* Puts h into a set with room; true when it was there already. */
static bool url_put(uint64_t *slots, size_t cap, size_t *n, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    for (; slots[i]; i = (i + 1) & (cap - 1))
        if (slots[i] == h)
            return true;
    slots[i] = h;
    (*n)++;
    return false;
}

/* Notes url; *seen = it was read before. False when memory runs out. */
static bool url_note(pager_step *s, const char *url, bool *seen)
{
    if ((s->urls_n + 1) * 2 > s->urls_cap) {
        size_t cap = s->urls_cap ? s->urls_cap * 2 : 64, n = 0;
        uint64_t *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return false;
        for (size_t i = 0; i < s->urls_cap; i++)
            if (s->urls[i])
                (void)url_put(slots, cap, &n, s->urls[i]);
        free(s->urls);
        s->urls = slots;
        s->urls_cap = cap;
        s->urls_n = n;
    }
    *seen = url_put(s->urls, s->urls_cap, &s->urls_n, url_hash(url));
    return true;
}

/* ---- the rules ------------------------------------------------------------------ */

void pager_step_init(pager_step *s, const pager_rules *r)
{
    *s = (pager_step){.r = r, .max_pages = r->max_pages, .first_total = -1};
}

void pager_step_term(pager_step *s)
{
    free(s->urls);
    s->urls = NULL;
    s->urls_cap = s->urls_n = 0;
}

pager_verdict pager_step_before(pager_step *s, const char *url, pager_refusal *why, bool *oom)
{
    bool seen = false;
    *oom = false;
    if (s->max_pages > 0 && s->index >= s->max_pages) {
        *why = PAGER_TOO_MANY;
        return PAGER_REFUSED;
    }
    if (!s->r->next_link || !url)
        return PAGER_MORE;
    if (!url_note(s, url, &seen)) {
        *oom = true;
        return PAGER_REFUSED;
    }
    if (seen) {
        *why = PAGER_LOOP;
        return PAGER_REFUSED;
    }
    return PAGER_MORE;
}

pager_verdict pager_step_page(pager_step *s, const pager_page *p, pager_refusal *why)
{
    long index = s->index++;
    if (index == 0)
        s->first_total = p->total;
    else if (p->total != s->first_total)
        s->total_changed = true;
    if (s->r->empty_ends && p->rows == 0)
        return PAGER_END;
    if (s->r->refuse_repeat && index > 0 && p->ids_hash == s->prev_hash) {
        *why = PAGER_REPEATED;
        return PAGER_REFUSED;
    }
    s->prev_hash = p->ids_hash;
    return PAGER_MORE;
}

/* The page bound once a page with a total goes on (see pager_rules). */
static long count_bound(const pager_rules *r, int64_t total, int64_t size)
{
    int64_t pages = r->count_per_page ? total / (size > 0 ? size : 1) : total;
    if (r->cap_count_pages && r->max_pages > 0 && pages > r->max_pages)
        pages = r->max_pages;
    return (long)pages + r->slack;
}

pager_verdict pager_step_after(pager_step *s, const pager_page *p, bool stop)
{
    const pager_rules *r = s->r;
    int64_t size = p->size > 0 ? p->size : r->page_size;
    s->rows += p->rows;
    if (stop)
        return PAGER_END;
    if (r->count && p->total >= 0 && s->rows >= p->total)
        return PAGER_END;
    if (r->short_page && p->rows < size && (!r->short_needs_no_count || p->total < 0))
        return PAGER_END;
    if (r->next_link && (!p->next || !*p->next))
        return PAGER_END;
    if (r->count && p->total >= 0)
        s->max_pages = count_bound(r, p->total, size);
    return PAGER_MORE;
}

/* ---- the loop --------------------------------------------------------------------- */

/* The next URL of a next-link read into url. */
static fe_rc follow(const pager_hooks *h, void *user, const char *next, buf *url, fe_err *err)
{
    if (h->resolve)
        return h->resolve(user, next, url, err);
    buf_reset(url);
    if (!buf_puts(url, next))
        return fe_err_set(err, FE_ENOMEM, "out of memory following `next` links");
    return FE_OK;
}

/* One page: the rules before, the fetch, the rules after. *end at the list's end. */
static fe_rc run_page(pager_step *s, const pager_hooks *h, void *user, pager_at *at, pager_page *p,
                      bool *end, fe_err *err)
{
    pager_refusal why = PAGER_TOO_MANY;
    bool oom, stop = false;
    fe_rc rc;
    pager_verdict v = pager_step_before(s, at->url, &why, &oom);
    if (v == PAGER_REFUSED)
        return oom ? fe_err_set(err, FE_ENOMEM, "out of memory following `next` links")
                   : h->refuse(user, why, at, p, err);
    *p = (pager_page){.total = -1};
    if ((rc = h->fetch(user, at, p, err)) != FE_OK)
        return rc;
    v = pager_step_page(s, p, &why);
    if (v == PAGER_REFUSED)
        return h->refuse(user, why, at, p, err);
    if (v == PAGER_END) {
        *end = true;
        return FE_OK;
    }
    if (h->page_done && (rc = h->page_done(user, p, &stop, err)) != FE_OK)
        return rc;
    *end = pager_step_after(s, p, stop) == PAGER_END;
    return FE_OK;
}

fe_rc pager_run(const pager_rules *r, const pager_hooks *h, void *user, const char *first_url,
                pager_result *out, fe_err *err)
{
    pager_step s;
    pager_page p = {.total = -1};
    buf url;
    fe_rc rc = FE_OK;
    bool end = false;

    pager_step_init(&s, r);
    buf_init(&url, 0);
    if (r->next_link && !buf_puts(&url, first_url ? first_url : ""))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory following `next` links");
    while (rc == FE_OK && !end) {
        pager_at at = {.index = s.index,
                       .page = r->first_page + s.index,
                       .url = r->next_link ? buf_cstr(&url) : NULL};
        rc = run_page(&s, h, user, &at, &p, &end, err);
        if (rc == FE_OK && !end && r->next_link)
            rc = follow(h, user, p.next, &url, err);
    }
    if (out)
        *out = (pager_result){.pages = s.index, .rows = s.rows, .total_changed = s.total_changed};
    pager_step_term(&s);
    buf_term(&url);
    return rc;
}
