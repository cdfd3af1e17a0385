/* reconcile: the warehouse side of verification (issue 13). For a scope a source
 * can count (a list, a window of days, a store), the same figure computed from
 * the warehouse, the ids it holds there, and the canonical text of its rows for a
 * deep comparison; and etl.reconcile, where each comparison is recorded. Rows
 * marked is_deleted are left out everywhere, as a source's lists leave out what
 * it deleted. The pure pieces (tolerance, id sets, window halves) need no
 * database and are unit tested. */
#ifndef FE_RECONCILE_H
#define FE_RECONCILE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/decimal.h"
#include "core/err.h"

/* What a scope counts in the warehouse. */
typedef enum {
    RC_ORDERS,    /* dw.fact_order */
    RC_PRODUCTS,  /* dw.dim_product, not inferred */
    RC_CUSTOMERS, /* dw.dim_customer, not inferred */
    RC_STORES,    /* dw.dim_store of store_kind, not inferred */
} rc_entity;

/* Which day of a row a window of days cuts on. */
typedef enum {
    RC_BY_NONE,      /* the list cannot be cut by day: from/to ignored */
    RC_BY_LOCAL_DAY, /* fact_order.order_date_key: the business day, source's zone */
    RC_BY_UTC_DAY,   /* fact_order.ordered_at, its UTC day */
} rc_basis;

typedef enum {
    RC_COUNT,   /* rows */
    RC_REVENUE, /* sum of fact_order.total */
} rc_measure;

/* One scope. Strings are borrowed. */
typedef struct {
    rc_entity entity;
    rc_basis basis;
    rc_measure measure;
    const char *from, *to;  /* days YYYY-MM-DD, inclusive; NULL: unbounded on that side */
    const char *store_kind; /* with store_id: the kind of dim_store ("shop") */
    const char *store_id;   /* NULL: every store */
    const char *statuses;   /* RC_ORDERS: comma list of fact_order.status; RC_PRODUCTS: of
                               product_type; NULL: any */
    bool with_deleted;      /* count rows marked is_deleted too: the source lists the
                               records it marks deleted (flagged), it does not drop them */
} rc_scope;

/* The scope as words for etl.reconcile.scope and log lines ("orders created
 * 2026-11-01..2026-11-30 store 7"); what names the list ("orders"). */
void reconcile_scope_text(const rc_scope *s, const char *what, char *dst, size_t size);

/* The warehouse's figure for s of source source_key. FE_EPG on failure. */
fe_rc reconcile_value(PGconn *conn, int source_key, const rc_scope *s, decimal *out,
                      fe_err *err) FE_MUST_CHECK;

/* A growable set of ids (strings it owns). */
typedef struct {
    char **v;
    size_t n, cap;
    bool sorted;
} rc_ids;

void rc_ids_init(rc_ids *ids);
void rc_ids_term(rc_ids *ids);
/* Adds a copy of id; false when out of memory. */
bool rc_ids_add(rc_ids *ids, const char *id) FE_MUST_CHECK;
/* Sorts and removes duplicates. */
void rc_ids_sort(rc_ids *ids);
bool rc_ids_has(rc_ids *ids, const char *id);
/* Appends to out (comma separated, at most max ids, then "... (N more)") the
 * ids of a that are not in b. Returns how many there are. Sorts both. */
size_t rc_ids_minus(rc_ids *a, rc_ids *b, char *out, size_t size, size_t max);

/* The ids of the rows of s in the warehouse into ids. */
fe_rc reconcile_ids(PGconn *conn, int source_key, const rc_scope *s, rc_ids *ids,
                    fe_err *err) FE_MUST_CHECK;

/* Deep verification: the canonical text of each warehouse order of s, the same
 * text reconcile_order_text makes of a mapped row: ids and texts are parallel
 * (ids->v[i] has texts->v[i]), in id order. */
fe_rc reconcile_order_texts(PGconn *conn, int source_key, const rc_scope *s, rc_ids *ids,
                            rc_ids *texts, fe_err *err) FE_MUST_CHECK;

/* The canonical text of an order's compared values (each NULL-able): status,
 * status group, currency, then subtotal, discount, tax, shipping, total, paid
 * (decimals as numeric(20,4) prints them), separated by '|'. Into dst; false when
 * an amount is not a decimal. */
bool reconcile_order_text(const char *status, const char *status_group, const char *currency,
                          const char *const amounts[6], char *dst, size_t size);

/* |warehouse - source| <= tolerance. */
bool reconcile_within(decimal source, decimal warehouse, decimal tolerance);

/* Halves the window [from, to] (days YYYY-MM-DD, from < to): the first half ends
 * on left_to, the second starts on right_from (11 bytes each). False when the
 * window is one day or not a window. */
bool reconcile_split(const char *from, const char *to, char *left_to, char *right_from);

/* Days from .. to inclusive (0 when not dates or to < from). */
long reconcile_days(const char *from, const char *to);

/* The first day (YYYY-MM-DD, 11 bytes) of the warehouse's rows of entity under
 * basis for source_key; "" when it holds none. */
fe_rc reconcile_first_day(PGconn *conn, int source_key, rc_entity entity, rc_basis basis, char *out,
                          fe_err *err) FE_MUST_CHECK;

/* Today in time zone tz (NULL or "": UTC) by the warehouse's clock, into out (11 bytes). */
fe_rc reconcile_today(PGconn *conn, const char *tz, char *out, fe_err *err) FE_MUST_CHECK;

/* A new verification id (etl.verification_seq). */
fe_rc reconcile_begin(PGconn *conn, int64_t *verification_id, fe_err *err) FE_MUST_CHECK;

/* One etl.reconcile row. */
typedef struct {
    int64_t verification_id;
    int64_t run_id; /* 0: NULL */
    int source_key;
    const char *stream;
    const char *scope;
    const char *measure;      /* count | revenue | rows */
    const decimal *source;    /* NULL: unknown */
    const decimal *warehouse; /* NULL: unknown */
    const char *status;       /* ok | mismatch | error */
    const char *detail;       /* may be NULL */
} rc_row;

fe_rc reconcile_record(PGconn *conn, const rc_row *row, fe_err *err) FE_MUST_CHECK;

#endif
