/* loader_reject: the rejects the loader writes: loader_put_reject's, and one
 * per record whose row PostgreSQL refused (in a COPY here, in a merge through
 * loader_retry.c). See loader_impl.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "load/loader_impl.h"
#include "load/pg.h"

/* etl.reject keeps this much of a record's raw text. */
#define REJECT_RAW_MAX 8192

/* Appends s to out with every byte that is not valid UTF-8 as "\xNN" (the
 * server would refuse the text), keeping at most limit bytes of the result, cut
 * between characters. */
static bool text_sanitized(buf *out, const char *s, size_t limit)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), start = out->len;

    for (size_t i = 0; i < n;) {
        size_t len = buf_utf8_seq_len((const char *)p + i, n - i);
        char esc[5];
        const char *piece = (const char *)p + i;
        size_t plen = len;
        if (len == 0) {
            snprintf(esc, sizeof esc, "\\x%02X", p[i]);
            piece = esc;
            plen = 4;
            len = 1;
        }
        if (out->len - start + plen > limit)
            break;
        if (!buf_append(out, piece, plen))
            return false;
        i += len;
    }
    return true;
}

/* Appends text that may be anything (a rejected record) as a COPY field, made
 * valid UTF-8 and cut to limit bytes by text_sanitized. */
static bool copy_field_sanitized(buf *row, const char *s, size_t limit, bool first)
{
    if (!s)
        return copy_field(row, NULL, first);
    buf clean;
    buf_init(&clean, 0);
    bool ok = text_sanitized(&clean, s, limit) &&
              copy_field_len(row, clean.data ? clean.data : "", clean.len, first);
    buf_term(&clean);
    return ok;
}

/* A reject's text is what the API sent (an echoed token, a record holding one):
 * every registered secret is masked before it is cut and stored. */
fe_rc loader_put_reject(loader *l, const row_reject *r, fe_err *err)
{
    buf *b;
    size_t m;
    char raw_length[24];
    char *id = log_redact_dup(r->record_id), *raw = log_redact_dup(r->raw),
         *reason = log_redact_dup(r->reason ? r->reason : "(no reason given)");
    fe_rc rc = (r->record_id && !id) || (r->raw && !raw) || !reason
                   ? fe_err_set(err, FE_ENOMEM, "out of memory masking secrets in a reject")
                   : row_begin(l, STG_REJECT, NULL, &b, &m, err);
    if (rc == FE_OK) {
        snprintf(raw_length, sizeof raw_length, "%zu", r->raw ? strlen(r->raw) : 0);
        bool ok = copy_field_sanitized(b, id, 1024, true) &&
                  copy_field_sanitized(b, reason, 4096, false) &&
                  copy_field_sanitized(b, raw, REJECT_RAW_MAX, false) &&
                  copy_field(b, r->raw ? raw_length : NULL, false);
        rc = row_end(l, STG_REJECT, m, ok, err);
    }
    free(id);
    free(raw);
    free(reason);
    return rc;
}

/* ---- rows PostgreSQL refuses ----------------------------------------------- */

/* A COPY refused for a value of one row: a data exception, or a not-null or
 * check violation, that names the line. */
bool copy_refusal_isolable(stage_table t, const copy_refusal *why)
{
    return t != STG_REJECT && why->line > 0 &&
           (strncmp(why->sqlstate, "22", 2) == 0 || strcmp(why->sqlstate, "23502") == 0 ||
            strcmp(why->sqlstate, "23514") == 0);
}

/* f: the row's fields in COPY target order (stage_sqls). */
refused_record record_of(stage_table t, const char *const *f, int n)
{
    const char *first = n > 0 ? f[0] : NULL, *second = n > 1 ? f[1] : NULL;
    refused_record r = {0, NULL, first};
    if (t == STG_ORDER || t == STG_ORDER_LINE)
        r = (refused_record){'o', first, first};
    else if (t == STG_PAYMENT)
        r = second ? (refused_record){'o', second, second} : (refused_record){'p', first, first};
    else if (t == STG_COMPONENT)
        r = (refused_record){'c', first, first};
    else if (t == STG_STORE)
        r.record_id = second;
    else if (t == STG_INVENTORY)
        r.record_id = second ? second : first;
    if (!r.id)
        r.kind = 0;
    return r;
}

/* True when the record was refused before in this checkpoint (its rows are
 * dropped already); otherwise remembers it. Kind 0 is never remembered. */
static bool dropped_before(loader *l, const refused_record *r)
{
    if (!r->kind)
        return false;
    for (int i = 0; i < l->ndropped; i++)
        if (l->dropped[i][0] == r->kind && strcmp(l->dropped[i] + 2, r->id) == 0)
            return true;
    size_t n = strlen(r->id) + 3;
    char *key = l->ndropped < REFUSED_MAX ? malloc(n) : NULL;
    if (key) {
        snprintf(key, n, "%c:%s", r->kind, r->id);
        l->dropped[l->ndropped++] = key;
    }
    return false;
}

/* s with every registered secret masked (log_redact), for the caller to free;
 * NULL for NULL, and when memory runs out. */
static char *redacted(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1; /* a mask is never longer than the secret it hides */
    char *out = malloc(n);
    if (out)
        log_redact(out, n, s);
    return out;
}

/* Appends one reject row to the reject buffer (sent with the next commit),
 * without flushing it: this runs inside a flush. */
static fe_rc reject_buffer(loader *l, const char *record_id, const char *reason, const char *raw,
                           const char *raw_length, fe_err *err)
{
    buf *b = &l->stage[STG_REJECT];
    size_t mark = b->len;
    bool ok = copy_field_sanitized(b, record_id, 1024, true) &&
              copy_field_sanitized(b, reason, 4096, false) &&
              copy_field_sanitized(b, raw, REJECT_RAW_MAX, false) &&
              copy_field(b, raw_length, false) && copy_end_row(b);
    if (!ok) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
        return fe_err_set(err, FE_ENOMEM, "reject row does not fit in the staging buffer");
    }
    l->staged[STG_REJECT]++;
    return FE_OK;
}

/* Inserts one reject row into stg_reject at once: for the commit being retried,
 * whose reject buffer was sent already. */
static fe_rc reject_insert(loader *l, const char *record_id, const char *reason, const char *raw,
                           const char *raw_length, fe_err *err)
{
    buf text[3];
    const char *in[3] = {record_id, reason, raw};
    const size_t limit[3] = {1024, 4096, REJECT_RAW_MAX};
    const char *params[4] = {NULL, NULL, NULL, raw_length};
    fe_rc rc = FE_OK;

    for (int i = 0; i < 3; i++)
        buf_init(&text[i], 0);
    for (int i = 0; i < 3 && rc == FE_OK; i++) {
        if (in[i] && !text_sanitized(&text[i], in[i], limit[i]))
            rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        params[i] = in[i] ? buf_cstr(&text[i]) : NULL;
    }
    PGresult *res = rc == FE_OK ? pg_query(l->conn, reject_insert_sql, 4, params, err) : NULL;
    if (rc == FE_OK && !res)
        rc = fe_err_wrap(err, "writing a reject to stg_reject");
    PQclear(res);
    for (int i = 0; i < 3; i++)
        buf_term(&text[i]);
    if (rc == FE_OK)
        l->job.staged[STG_REJECT]++;
    return rc;
}

/* Records a reject for a row PostgreSQL refused (record_id, reason, raw: the
 * row as COPY text), redacted like everything flowetl writes, made valid UTF-8
 * and cut like loader_put_reject's. direct: into stg_reject at once (a commit
 * being retried), else into the reject buffer. Fails once the checkpoint has
 * REFUSED_MAX of them. */
fe_rc refused_reject(loader *l, bool direct, const char *record_id, const char *reason,
                     const char *raw, fe_err *err)
{
    int64_t *count = direct ? &l->job.refused : &l->refused;
    char *rid = redacted(record_id), *why = redacted(reason), *row = redacted(raw);
    char raw_length[24];
    fe_rc rc;

    snprintf(raw_length, sizeof raw_length, "%zu", strlen(raw));
    if ((record_id && !rid) || !why || !row)
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
    else if (*count >= REFUSED_MAX)
        rc = fe_err_set(err, FE_EREJECTS,
                        "more than %d rows of one checkpoint refused by PostgreSQL; the last: %s",
                        REFUSED_MAX, why);
    else if (direct)
        rc = reject_insert(l, rid, why, row, raw_length, err);
    else
        rc = reject_buffer(l, rid, why, row, raw_length, err);
    if (rc == FE_OK)
        (*count)++;
    free(rid);
    free(why);
    free(row);
    return rc;
}

/* Has the commit purge the record's other staged rows (stg_drop). An id that is
 * not valid UTF-8 is left out: no row holding it can have been staged. */
fe_rc record_drop(loader *l, const refused_record *r, fe_err *err)
{
    char kind[2] = {r->kind, '\0'};
    const char *params[2] = {kind, r->id};
    if (!r->kind || !utf8_valid(r->id, strlen(r->id)))
        return FE_OK;
    PGresult *res = pg_query(l->conn, drop_insert_sql, 2, params, err);
    if (!res)
        return fe_err_wrap(err, "recording a refused record");
    PQclear(res);
    return FE_OK;
}

/* A refused dimension row keeps its key in the stream's full read. */
static fe_rc record_keep_seen(loader *l, stage_table t, const char *const *f, int n, fe_err *err)
{
    int nkeys = t == STG_STORE ? 2 : 1;
    if (!stage_sqls[t].seen_keep || n < nkeys)
        return FE_OK;
    for (int i = 0; i < nkeys; i++)
        if (!f[i] || !utf8_valid(f[i], strlen(f[i])))
            return FE_OK;
    PGresult *res = pg_query(l->conn, stage_sqls[t].seen_keep, nkeys, f, err);
    if (!res)
        return fe_err_wrap(err, "keeping the key of a refused %s row", stage_sqls[t].name + 4);
    PQclear(res);
    return FE_OK;
}

/* Where line `line` (1-based) of buffer b starts, and where its newline is. */
static bool line_span(const buf *b, unsigned long line, size_t *start, size_t *nl)
{
    size_t at = 0;
    for (unsigned long i = 1; i < line; i++) {
        const char *p = at < b->len ? memchr(b->data + at, '\n', b->len - at) : NULL;
        if (!p)
            return false;
        at = (size_t)(p - b->data) + 1;
    }
    const char *p = at < b->len ? memchr(b->data + at, '\n', b->len - at) : NULL;
    if (!p)
        return false;
    *start = at;
    *nl = (size_t)(p - b->data);
    return true;
}

/* PostgreSQL refused line why->line of table t's COPY: rolls the COPY back, cuts
 * the row out of the buffer and, unless its record was refused before in this
 * checkpoint, records one reject for the record and has the commit purge the
 * record's other rows (or keep a dimension key in the full read). Outside the
 * COPY's savepoint, so a later refusal does not undo it. */
fe_rc copy_refused(loader *l, stage_table t, const copy_refusal *why, fe_err *err)
{
    buf *b = &l->stage[t];
    buf split;
    const char *f[32];
    size_t start, nl;
    char reason[1024];

    if (!line_span(b, why->line, &start, &nl))
        return FE_EPG; /* err holds the COPY's message */
    if (pg_exec(l->conn, "ROLLBACK TO SAVEPOINT fe_copy; RELEASE SAVEPOINT fe_copy", err) != FE_OK)
        return fe_err_wrap(err, "undoing a refused COPY");
    l->copy_savepoint = false;

    buf_init(&split, 0);
    char *raw = malloc(nl - start + 1);
    int n = raw ? copy_row_split(b->data + start, nl - start, &split, f, 32) : -1;
    fe_rc rc = FE_OK;
    if (n < 0) {
        rc = fe_err_set(err, FE_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(raw, b->data + start, nl - start);
    raw[nl - start] = '\0';
    refused_record r = record_of(t, f, n);
    if (!dropped_before(l, &r)) {
        snprintf(reason, sizeof reason, "PostgreSQL refused %s%s%s: %s", stage_sqls[t].name + 4,
                 why->column[0] ? "." : "", why->column, why->message);
        if ((rc = refused_reject(l, false, r.record_id, reason, raw, err)) != FE_OK ||
            (rc = record_drop(l, &r, err)) != FE_OK ||
            (rc = record_keep_seen(l, t, f, n, err)) != FE_OK)
            goto done;
        l->drops_staged |= r.kind != 0;
    }
    memmove(b->data + start, b->data + nl + 1, b->len - nl - 1);
    b->len -= nl + 1 - start;
    b->data[b->len] = '\0';
    l->staged[t]--;
done:
    free(raw);
    buf_term(&split);
    return rc;
}
