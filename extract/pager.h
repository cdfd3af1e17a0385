/* pager: the page loop every list reader shares, with pluggable end-of-list rules.
 *
 * A list is read page by page: the caller's fetch hook GETs (or POSTs) one page,
 * streams its records wherever they go and reports what the page said (a
 * pager_page: its record count, the list's count if it sends one, a hash of its
 * record ids, its next link). pager_run decides, page after page, whether the list
 * goes on, ends, or must be refused, by these rules, in this order:
 *
 *   too many pages  before a fetch: more pages than the list can hold (max_pages
 *                   without a count; with one, the count's pages + slack) is a
 *                   server ignoring the page parameter: PAGER_TOO_MANY
 *   next loop       (next_link) before a fetch: a URL already read in this list
 *                   (A -> B -> A): PAGER_LOOP
 *   empty page      (empty_ends) a page without records ends the list
 *   repeat          (refuse_repeat) a page whose ids hash equals the one before:
 *                   PAGER_REPEATED
 *   page hook       the caller's page_done (may stop the list or fail it)
 *   count           (count) the records read reach the page's count: the end
 *   short page      (short_page) fewer records than the page size: the end; with
 *                   short_needs_no_count, only on pages that send no count
 *   next link       (next_link) an empty next link: the end
 *
 * A refusal goes to the caller's refuse hook, which words the message (each API
 * names its parameters): the message is the source's, the rule is shared. The
 * pager holds no HTTP and no JSON. pager_run is built on pager_step (below), which
 * a reader with a loop of its own can drive. Posiflora's keyset read keeps its own
 * loop for now (its repeat rule holds within one filter value, and it runs the
 * next page inside the detail batch); it shares pager_expected_rows and the ids
 * hash. */
#ifndef FE_PAGER_H
#define FE_PAGER_H

#include <stdbool.h>
#include <stdint.h>
#include "core/buf.h"
#include "core/err.h"

/* What one whole page said, filled by the fetch hook. */
typedef struct {
    int64_t rows;      /* records on the page */
    int64_t total;     /* the list's count sent with the page; -1 when none */
    int64_t size;      /* page size the short-page rule compares with (the server's
                          if it reports one); <= 0: the rules' page_size */
    uint64_t ids_hash; /* over the page's record ids, for refuse_repeat */
    const char *next;  /* next_link: the next link as sent (NULL or "" = none);
                          valid until the next fetch */
} pager_page;

/* Where the next fetch reads. */
typedef struct {
    long index;      /* pages read before this one (0 for the first) */
    long page;       /* page number: first_page + index */
    const char *url; /* next_link: the URL to read (the first, then each resolved
                        next link); NULL otherwise */
} pager_at;

typedef enum {
    PAGER_TOO_MANY = 1, /* more pages than the list allows */
    PAGER_REPEATED,     /* a page repeats the one before */
    PAGER_LOOP          /* a next link leads back to a page already read */
} pager_refusal;

typedef struct {
    /* FE_OK and *page filled when the page was read whole; else its failure. */
    fe_rc (*fetch)(void *user, const pager_at *at, pager_page *page, fe_err *err);
    /* After each non-empty page (may be NULL): *stop ends the list; a failure
     * stops it with that code. */
    fe_rc (*page_done)(void *user, const pager_page *page, bool *stop, fe_err *err);
    /* Words a refusal into err and returns its code (FE_EJSON as a rule). at is
     * where the loop stands (for PAGER_REPEATED the page that repeats, for
     * PAGER_LOOP the URL), last the page read last. */
    fe_rc (*refuse)(void *user, pager_refusal why, const pager_at *at, const pager_page *last,
                    fe_err *err);
    /* next_link: a next link as sent into the absolute URL to read, into out (may be
     * NULL: the link as sent). */
    fe_rc (*resolve)(void *user, const char *next, buf *out, fe_err *err);
} pager_hooks;

typedef struct {
    long first_page;           /* the number of the first page (0 or 1) */
    long page_size;            /* records asked per page (the short-page rule's default) */
    bool count;                /* end when the records read reach the page's total */
    bool short_page;           /* end at a page with fewer records than its size */
    bool short_needs_no_count; /* short_page only on pages without a total */
    bool empty_ends;           /* a page without records ends the list (before the
                                  page hook, which it skips) */
    bool refuse_repeat;        /* refuse a page repeating the one before */
    bool next_link;            /* follow next links (at.url); end at an empty one */
    /* Without a total, more than max_pages pages are PAGER_TOO_MANY (0: no
     * bound). With one, total / (count_per_page ? page size : 1) pages, at most
     * max_pages when cap_count_pages, plus slack; the bound is taken after each
     * page that goes on. */
    long max_pages;
    long slack;
    bool count_per_page;
    bool cap_count_pages;
} pager_rules;

/* What a read saw. */
typedef struct {
    long pages;         /* pages read whole */
    int64_t rows;       /* records on them */
    bool total_changed; /* the count differed between two pages */
} pager_result;

/* Reads one list by the rules, from first_url for next_link (absolute, or what
 * the caller's fetch understands). *out (may be NULL) gets what the read saw,
 * also on failure. Returns FE_OK at the end of the list, else the hooks' code. */
fe_rc pager_run(const pager_rules *r, const pager_hooks *h, void *user, const char *first_url,
                pager_result *out, fe_err *err) FE_MUST_CHECK;

/* ---- the rules one page at a time -------------------------------------------------
 *
 * What pager_run keeps between pages, for a reader with a loop of its own: a
 * pager_step. */

typedef struct {
    const pager_rules *r;
    long index;     /* pages judged so far */
    long max_pages; /* the current bound (see pager_rules) */
    int64_t rows;   /* records read */
    int64_t first_total;
    uint64_t prev_hash;
    bool total_changed;
    /* next_link: hashes of the URLs read (open addressing, 0 = free) */
    uint64_t *urls;
    size_t urls_cap, urls_n;
} pager_step;

typedef enum {
    PAGER_MORE = 0, /* read the next page */
    PAGER_END,      /* the list ends here */
    PAGER_REFUSED   /* *why says which rule */
} pager_verdict;

void pager_step_init(pager_step *s, const pager_rules *r);
void pager_step_term(pager_step *s);

/* Before a fetch: PAGER_REFUSED (PAGER_TOO_MANY) past the page bound, or for
 * next_link a URL read before (PAGER_LOOP; url noted otherwise). FE_ENOMEM comes
 * back as *oom. */
pager_verdict pager_step_before(pager_step *s, const char *url, pager_refusal *why, bool *oom);

/* A page was read whole: PAGER_END for an empty page (empty_ends), PAGER_REFUSED
 * (PAGER_REPEATED) for a repeat, else PAGER_MORE (call page_done, then
 * pager_step_after). Notes a change of the count. */
pager_verdict pager_step_page(pager_step *s, const pager_page *p, pager_refusal *why);

/* After the page hook: adds the page's records and applies count, short page and
 * next link (stop: the hook ended the list). PAGER_END or PAGER_MORE. */
pager_verdict pager_step_after(pager_step *s, const pager_page *p, bool stop);

/* The records a whole page must hold when total is right: what the pages before
 * it (index of them, size records each) leave, at most size. -1 when total < 0 or
 * size < 1, or when index x size does not fit int64. */
int64_t pager_expected_rows(int64_t total, int64_t index, int64_t size);

/* FNV-1a, for pager_page.ids_hash: start with PAGER_HASH_INIT, add each id's
 * bytes (its true length: "1\u00002" and "1" hash apart) with pager_hash_add. */
#define PAGER_HASH_INIT BUF_FNV_INIT
uint64_t pager_hash_add(uint64_t h, const char *bytes, size_t len);

#endif
