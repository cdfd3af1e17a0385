/* reconcile: the warehouse side of verification (see reconcile.h). */
#include "load/reconcile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "load/pg.h"

#define US_PER_DAY (86400LL * 1000000LL)

/* --- pure pieces ---------------------------------------------------------- */

bool reconcile_within(decimal source, decimal warehouse, decimal tolerance)
{
    return decimal_cmp(decimal_abs(decimal_sub(warehouse, source)), decimal_abs(tolerance)) <= 0;
}

static bool day_parse(const char *text, int64_t *days)
{
    int y, m, d;
    char tail;
    if (!text || strlen(text) != 10 || sscanf(text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        !time_valid_date(y, m, d))
        return false;
    *days = time_days_from_civil(y, m, d);
    return true;
}

static void day_text(int64_t days, char *dst)
{
    char tmp[32];
    time_format_date(days * US_PER_DAY, tmp);
    memcpy(dst, tmp, 10);
    dst[10] = '\0';
}

long reconcile_days(const char *from, const char *to)
{
    int64_t a, b;
    if (!day_parse(from, &a) || !day_parse(to, &b) || b < a)
        return 0;
    return (long)(b - a + 1);
}

bool reconcile_split(const char *from, const char *to, char *left_to, char *right_from)
{
    int64_t a, b;
    if (!day_parse(from, &a) || !day_parse(to, &b) || b <= a)
        return false;
    int64_t mid = a + (b - a) / 2;
    day_text(mid, left_to);
    day_text(mid + 1, right_from);
    return true;
}

void rc_ids_init(rc_ids *ids)
{
    memset(ids, 0, sizeof *ids);
}

void rc_ids_term(rc_ids *ids)
{
    for (size_t i = 0; ids && i < ids->n; i++)
        free(ids->v[i]);
    if (ids)
        free(ids->v);
    if (ids)
        rc_ids_init(ids);
}

bool rc_ids_add(rc_ids *ids, const char *id)
{
    char **room = buf_array_room(ids->v, &ids->cap, ids->n, sizeof *ids->v, 64);
    if (!room)
        return false;
    ids->v = room;
    if (!(ids->v[ids->n] = strdup(id ? id : "")))
        return false;
    ids->n++;
    ids->sorted = false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rc_ids_sort(rc_ids *ids)
{
    if (ids->sorted || ids->n == 0)
        return;
    qsort(ids->v, ids->n, sizeof *ids->v, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < ids->n; i++) {
        if (w > 0 && strcmp(ids->v[w - 1], ids->v[i]) == 0) {
            free(ids->v[i]);
            continue;
        }
        ids->v[w++] = ids->v[i];
    }
    ids->n = w;
    ids->sorted = true;
}

bool rc_ids_has(rc_ids *ids, const char *id)
{
    rc_ids_sort(ids);
    return ids->n > 0 && bsearch(&id, ids->v, ids->n, sizeof *ids->v, cmp_str) != NULL;
}

size_t rc_ids_minus(rc_ids *a, rc_ids *b, char *out, size_t size, size_t max)
{
    size_t n = 0, used = strlen(out);
    rc_ids_sort(a);
    rc_ids_sort(b);
    for (size_t i = 0; i < a->n; i++) {
        if (rc_ids_has(b, a->v[i]))
            continue;
        if (n < max && used < size)
            used += (size_t)snprintf(out + used, size - used, "%s%s", n ? "," : "", a->v[i]);
        n++;
    }
    if (n > max && used < size)
        snprintf(out + used, size - used, " ... (%zu more)", n - max);
    return n;
}

bool reconcile_order_text(const char *status, const char *status_group, const char *currency,
                          const char *const amounts[6], char *dst, size_t size)
{
    size_t used = (size_t)snprintf(dst, size, "%s|%s|%s", status ? status : "",
                                   status_group ? status_group : "", currency ? currency : "");
    for (int i = 0; i < 6 && used < size; i++) {
        char text[DECIMAL_TEXT_MAX] = "";
        decimal d;
        if (amounts[i] && !decimal_parse(amounts[i], strlen(amounts[i]), &d))
            return false;
        if (amounts[i])
            decimal_format(d, text);
        used += (size_t)snprintf(dst + used, size - used, "|%s", text);
    }
    return used < size;
}

/* --- scopes in SQL ---------------------------------------------------------- */

void reconcile_scope_text(const rc_scope *s, const char *what, char *dst, size_t size)
{
    const char *basis = s->basis == RC_BY_UTC_DAY ? " created (UTC days)" : " on business days";
    size_t used = (size_t)snprintf(dst, size, "%s", what);
    if (s->basis != RC_BY_NONE && (s->from || s->to) && used < size) {
        if (s->from && s->to && strcmp(s->from, s->to) == 0)
            used += (size_t)snprintf(dst + used, size - used, "%s day %s", basis, s->from);
        else
            used += (size_t)snprintf(dst + used, size - used, "%s %s..%s", basis,
                                     s->from ? s->from : "", s->to ? s->to : "");
    }
    if (s->store_id && used < size)
        used += (size_t)snprintf(dst + used, size - used, " %s %s",
                                 s->store_kind ? s->store_kind : "store", s->store_id);
    if (s->statuses && used < size)
        snprintf(dst + used, size - used, " status %s", s->statuses);
}

/* The FROM and WHERE of s: $1 source_key, $2 from, $3 to, $4 store kind, $5 store
 * id, $6 statuses (NULL parameters switch their condition off). */
static void scope_sql(const rc_scope *s, char *dst, size_t size)
{
    const char *day = s->basis == RC_BY_UTC_DAY
                          ? "(o.ordered_at AT TIME ZONE 'UTC')::date"
                          : "to_date(nullif(o.order_date_key, 0)::text, 'YYYYMMDD')";
    static const char *const tables[] = {"fact_order", "dim_product", "dim_customer", "dim_store"};
    /* A source's own unknown member (key 0, the Citus layout's) is no member. */
    static const char *const keys[] = {"order_key", "product_key", "customer_key", "store_key"};
    const char *deleted = s->with_deleted ? "true" : "NOT o.is_deleted";
    if (s->entity != RC_ORDERS) {
        /* $2..$5 unused but typed: the same parameters for every scope */
        snprintf(dst, size,
                 " FROM dw.%s o WHERE o.source_key = $1 AND o.%s <> 0 AND (%s)"
                 " AND NOT o.is_inferred"
                 " AND ($2::date IS NULL OR true) AND ($3::date IS NULL OR true)"
                 " AND ($5::text IS NULL OR true) AND %s AND %s",
                 tables[s->entity], keys[s->entity], deleted,
                 s->entity == RC_STORES ? "o.kind = coalesce($4, 'store')"
                                        : "($4::text IS NULL OR true)",
                 s->entity == RC_PRODUCTS
                     ? "($6::text IS NULL OR o.product_type = ANY (string_to_array($6, ',')))"
                     : "($6::text IS NULL OR true)");
        return;
    }
    snprintf(dst, size,
             " FROM dw.fact_order o WHERE o.source_key = $1 AND NOT o.is_deleted"
             " AND ($2::date IS NULL OR %s >= $2::date) AND ($3::date IS NULL OR %s <= $3::date)"
             " AND ($5::text IS NULL OR o.store_key IN (SELECT st.store_key FROM dw.dim_store st"
             " WHERE st.source_key = $1 AND st.kind = coalesce($4, 'store') AND st.store_id = $5))"
             " AND ($6::text IS NULL OR o.status = ANY (string_to_array($6, ',')))",
             s->basis == RC_BY_NONE ? "NULL::date" : day,
             s->basis == RC_BY_NONE ? "NULL::date" : day);
}

static PGresult *scope_query(PGconn *conn, int source_key, const rc_scope *s, const char *select,
                             const char *tail, fe_err *err)
{
    char where[1024], sql[2048], key[16];
    static const Oid types[6] = {PG_OID_INT4, PG_OID_TEXT, PG_OID_TEXT,
                                 PG_OID_TEXT, PG_OID_TEXT, PG_OID_TEXT};
    snprintf(key, sizeof key, "%d", source_key);
    scope_sql(s, where, sizeof where);
    snprintf(sql, sizeof sql, "SELECT %s%s%s", select, where, tail);
    const char *params[6] = {key, s->from, s->to, s->store_kind, s->store_id, s->statuses};
    return pg_query_typed(conn, sql, 6, types, params, err);
}

fe_rc reconcile_value(PGconn *conn, int source_key, const rc_scope *s, decimal *out, fe_err *err)
{
    const char *select = s->measure == RC_REVENUE ? "coalesce(sum(o.total), 0)::text" : "count(*)";
    PGresult *res = scope_query(conn, source_key, s, select, "", err);
    if (!res)
        return err->code;
    const char *v = PQgetvalue(res, 0, 0);
    bool ok = decimal_parse(v, strlen(v), out);
    PQclear(res);
    return ok ? FE_OK : fe_err_set(err, FE_EPG, "the warehouse answered '%s' for a figure", v);
}

fe_rc reconcile_ids(PGconn *conn, int source_key, const rc_scope *s, rc_ids *ids, fe_err *err)
{
    static const char *const cols[] = {"o.order_id", "o.product_id", "o.customer_id", "o.store_id"};
    const char *col = cols[s->entity];
    PGresult *res = scope_query(conn, source_key, s, col, "", err);
    if (!res)
        return err->code;
    fe_rc rc = FE_OK;
    for (int i = 0; i < PQntuples(res) && rc == FE_OK; i++)
        if (!rc_ids_add(ids, PQgetvalue(res, i, 0)))
            rc = fe_err_set(err, FE_ENOMEM, "out of memory listing warehouse ids");
    PQclear(res);
    return rc;
}

fe_rc reconcile_order_texts(PGconn *conn, int source_key, const rc_scope *s, rc_ids *ids,
                            rc_ids *texts, fe_err *err)
{
    static const char select[] =
        "o.order_id, concat_ws('|', coalesce(o.status, ''), coalesce(o.status_group, ''),"
        " coalesce(o.currency, ''), coalesce(o.subtotal::text, ''),"
        " coalesce(o.discount_total::text, ''), coalesce(o.tax_total::text, ''),"
        " coalesce(o.shipping_total::text, ''), coalesce(o.total::text, ''),"
        " coalesce(o.paid_total::text, ''))";
    PGresult *res =
        scope_query(conn, source_key, s, select, " ORDER BY o.order_id COLLATE \"C\"", err);
    if (!res)
        return err->code;
    fe_rc rc = FE_OK;
    for (int i = 0; i < PQntuples(res) && rc == FE_OK; i++)
        if (!rc_ids_add(ids, PQgetvalue(res, i, 0)) || !rc_ids_add(texts, PQgetvalue(res, i, 1)))
            rc = fe_err_set(err, FE_ENOMEM, "out of memory reading warehouse rows");
    PQclear(res);
    return rc;
}

static fe_rc day_answer(PGresult *res, char *out, fe_err *err)
{
    const char *v = res ? PQgetvalue(res, 0, 0) : "";
    out[0] = '\0';
    if (!res)
        return err->code;
    if (strlen(v) == 10)
        memcpy(out, v, 11);
    PQclear(res);
    return FE_OK;
}

fe_rc reconcile_first_day(PGconn *conn, int source_key, rc_entity entity, rc_basis basis, char *out,
                          fe_err *err)
{
    rc_scope s = {.entity = entity, .basis = basis};
    const char *day = basis == RC_BY_UTC_DAY
                          ? "to_char(min((o.ordered_at AT TIME ZONE 'UTC')::date), 'YYYY-MM-DD')"
                          : "to_char(min(to_date(nullif(o.order_date_key, 0)::text, "
                            "'YYYYMMDD')), 'YYYY-MM-DD')";
    if (entity != RC_ORDERS || basis == RC_BY_NONE)
        return out[0] = '\0', FE_OK;
    return day_answer(scope_query(conn, source_key, &s, day, "", err), out, err);
}

fe_rc reconcile_today(PGconn *conn, const char *tz, char *out, fe_err *err)
{
    const char *params[1] = {tz && *tz ? tz : "UTC"};
    return day_answer(pg_query(conn, "SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD')",
                               1, params, err),
                      out, err);
}

/* --- etl.reconcile ------------------------------------------------------------ */

fe_rc reconcile_begin(PGconn *conn, int64_t *verification_id, fe_err *err)
{
    PGresult *res = pg_query(conn, "SELECT nextval('etl.verification_seq')", 0, NULL, err);
    if (!res)
        return err->code;
    *verification_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return FE_OK;
}

fe_rc reconcile_record(PGconn *conn, const rc_row *row, fe_err *err)
{
    char vid[24], run[24], key[16], src[DECIMAL_TEXT_MAX], wh[DECIMAL_TEXT_MAX];
    snprintf(vid, sizeof vid, "%" PRId64, row->verification_id);
    snprintf(run, sizeof run, "%" PRId64, row->run_id);
    snprintf(key, sizeof key, "%d", row->source_key);
    if (row->source)
        decimal_format(*row->source, src);
    if (row->warehouse)
        decimal_format(*row->warehouse, wh);
    const char *params[10] = {vid,
                              row->run_id ? run : NULL,
                              key,
                              row->stream,
                              row->scope,
                              row->measure,
                              row->source ? src : NULL,
                              row->warehouse ? wh : NULL,
                              row->status,
                              row->detail && *row->detail ? row->detail : NULL};
    PGresult *res = pg_query(
        conn,
        "INSERT INTO etl.reconcile (verification_id, run_id, source_key, stream, scope, measure,"
        " source_value, warehouse_value, difference, status, detail)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, $8::numeric - $7::numeric,"
        " $9, $10)",
        10, params, err);
    if (!res)
        return err->code;
    PQclear(res);
    return FE_OK;
}
