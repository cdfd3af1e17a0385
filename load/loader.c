/* loader: staging by COPY, the checkpoint's merge, cursors.
 * The SQL lives in loader_sql.h; this file runs it in the right order. */
#include "load/loader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "load/copy.h"
#include "load/loader_sql.h"
#include "load/stage_row.h"
#include "load/pg.h"

/* A staging buffer is sent with COPY once it passes this size ... */
#define STAGE_FLUSH_BYTES (4u * 1024 * 1024)
/* ... so it only grows past it by one row; a row longer than this is refused. */
#define STAGE_MAX_BYTES (64u * 1024 * 1024)
/* A warehouse table's planner statistics are refreshed once this loader has
 * committed at least this many rows into it and as many as at the previous
 * refresh (so a long load analyzes each table a logarithmic number of times). */
#define ANALYZE_MIN_ROWS 2000
/* etl.reject keeps this much of a record's raw text. */
#define REJECT_RAW_MAX 8192
/* Statements (and sync points) one commit may send; a commit sends about 40 when
 * every table has rows. */
#define PIPE_MAX 160
/* Rows PostgreSQL may refuse in one checkpoint before the checkpoint fails. Each
 * costs a reject and either a resend of its COPY buffer or a bisection of the
 * failing merge (about log2(rows) probes), so the cap bounds that work; more
 * refusals than this are a defect to fix, not bad records to skip. */
#define REFUSED_MAX 100
/* max_delete_fraction when the runner sets none. */
#define DEFAULT_DELETE_FRACTION 0.5

/* What a statement sent in the commit pipeline is, so that its result can be
 * counted and a failure named after it. */
typedef enum {
    PIPE_STEP,   /* a merge_step-like statement: its step_kind says what to count */
    PIPE_COMMIT, /* COMMIT: answers "ROLLBACK" when the transaction had failed */
    PIPE_SYNC,   /* a pipeline sync point */
} pipe_kind;

typedef struct {
    pipe_kind kind;
    step_kind counts;
    int merge; /* index into merge_steps; -1 for any other statement */
    char step[56];
} pipe_entry;

/* A commit from the moment its staged rows are sent until its outcome is read:
 * what it needs to send its merges again, synchronously, after rows PostgreSQL
 * refused were taken out (merge_retry), also while the next checkpoint fills. */
typedef struct {
    bool active;
    int64_t staged[STG__COUNT]; /* rows staged per table (which steps to send) */
    unsigned full_read;
    char *cursor; /* NULL: none */
    bool purge;   /* stg_drop has rows: send purge_sqls */
    stream_stats *stats;
    int64_t refused; /* rejects the loader recorded for refused rows */
} commit_job;

struct loader {
    PGconn *conn;
    buf stage[STG__COUNT];
    int64_t staged[STG__COUNT]; /* rows put in the open checkpoint, per table */
    bool in_checkpoint;
    bool failed; /* a statement of the open checkpoint failed: only rollback helps */
    /* The open checkpoint's parameters $1..$3 as text. */
    char source_key[8];
    char run_id[24];
    char *stream;
    /* The source and stream whose natural keys the seen_* tables hold (NULL:
     * they are empty or stale and get truncated by the next loader_begin). */
    int seen_source_key;
    char *seen_stream;
    /* Rows staged into each table by committed checkpoints since this loader
     * last refreshed the warehouse table's statistics, and in all before. */
    int64_t since_analyze[STG__COUNT];
    int64_t before_analyze[STG__COUNT];
    /* Rows of each staging table when it was last analyzed on this connection. */
    int64_t stage_analyzed[STG__COUNT];
    /* The commit in flight: what was sent, in order (npipe = 0: none), what its
     * results counted so far, and the commit itself (where the counts go once it
     * succeeded). */
    pipe_entry *pipe;
    int npipe;
    stream_stats pipe_counts;
    commit_job job;
    /* The first failure of the pipeline read last: its merge step (-1: not a
     * merge), SQLSTATE and message (without the step name). */
    int fail_merge;
    char fail_state[6];
    char fail_msg[768];
    /* Rows of the open checkpoint PostgreSQL refused (each one reject), the
     * records they took with them ("o:<order_id>", see record_of), whether
     * stg_drop holds any, and whether a COPY savepoint is open. */
    int64_t refused;
    char **dropped;
    int ndropped;
    bool drops_staged;
    bool copy_savepoint;
    /* max_delete_fraction as the full reads' $4. */
    char delete_fraction[32];
    /* loader_commit_send opened the next checkpoint; its BEGIN is sent once the
     * commit in flight succeeded. */
    bool begin_deferred;
};

static const Oid step_types[4] = {PG_OID_INT2, PG_OID_INT8, PG_OID_TEXT, PG_OID_TEXT};

loader *loader_open(const char *dsn, fe_err *err)
{
    loader *l = calloc(1, sizeof *l);
    if (!l) {
        fe_err_set(err, FE_ENOMEM, "out of memory");
        return NULL;
    }
    for (int t = 0; t < STG__COUNT; t++)
        buf_init(&l->stage[t], STAGE_MAX_BYTES);
    loader_set_max_delete_fraction(l, DEFAULT_DELETE_FRACTION);
    l->pipe = calloc(PIPE_MAX, sizeof *l->pipe);
    l->dropped = calloc(REFUSED_MAX, sizeof *l->dropped);
    if (!l->pipe || !l->dropped) {
        fe_err_set(err, FE_ENOMEM, "out of memory");
        goto fail;
    }
    l->conn = pg_connect(dsn, err);
    if (!l->conn)
        goto fail;
    if (pg_exec(l->conn, stage_ddl_sql, err) != FE_OK) {
        fe_err_wrap(err, "creating the staging tables");
        goto fail;
    }
    /* A checkpoint's statements each touch a few thousand rows through index
     * probes, but forced nested loops give them plan costs above jit_above_cost:
     * the server then spends up to hundreds of milliseconds compiling a statement
     * that runs in twenty ("complete fact_order_line" at scale 10: 0.84 s with JIT,
     * 0.29 s without). */
    if (pg_exec(l->conn, "SET jit = off", err) != FE_OK) {
        fe_err_wrap(err, "session settings");
        goto fail;
    }
    return l;
fail:
    loader_free(l);
    return NULL;
}

void loader_free(loader *l)
{
    if (!l)
        return;
    for (int t = 0; t < STG__COUNT; t++)
        buf_term(&l->stage[t]);
    if (l->conn)
        PQfinish(l->conn); /* ends the session: its advisory locks go with it */
    free(l->stream);
    free(l->seen_stream);
    free(l->pipe);
    for (int i = 0; i < l->ndropped; i++)
        free(l->dropped[i]);
    free(l->dropped);
    free(l->job.cursor);
    free(l);
}

void loader_set_max_delete_fraction(loader *l, double fraction)
{
    if (!(fraction >= 0)) /* NaN too */
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    snprintf(l->delete_fraction, sizeof l->delete_fraction, "%.17g", fraction);
}

PGconn *loader_conn(loader *l)
{
    return l->conn;
}

/* ---- outside checkpoints ---------------------------------------------------- */

fe_rc loader_get_cursor(loader *l, int source_key, const char *stream, char **cursor, fe_err *err)
{
    char key[16];
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[2] = {key, stream};

    *cursor = NULL;
    PGresult *res = pg_query(l->conn,
                             "SELECT cursor::text FROM etl.sync_state"
                             " WHERE source_key = $1 AND stream = $2 AND cursor IS NOT NULL",
                             2, params, err);
    if (!res)
        return fe_err_wrap(err, "reading the cursor of %s", stream);
    if (PQntuples(res) == 1) {
        *cursor = strdup(PQgetvalue(res, 0, 0));
        if (!*cursor) {
            PQclear(res);
            return fe_err_set(err, FE_ENOMEM, "out of memory");
        }
    }
    PQclear(res);
    return FE_OK;
}

fe_rc loader_clear_cursor(loader *l, int source_key, const char *stream, fe_err *err)
{
    char key[16];
    snprintf(key, sizeof key, "%d", source_key);
    const char *params[2] = {key, stream};

    if (l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_clear_cursor inside a checkpoint");
    PGresult *res =
        pg_query(l->conn, "DELETE FROM etl.sync_state WHERE source_key = $1 AND stream = $2", 2,
                 params, err);
    if (!res)
        return fe_err_wrap(err, "clearing the cursor of %s", stream);
    PQclear(res);
    return FE_OK;
}

/* ---- checkpoint ------------------------------------------------------------- */

static void checkpoint_reset(loader *l)
{
    for (int t = 0; t < STG__COUNT; t++) {
        buf_reset(&l->stage[t]);
        l->staged[t] = 0;
    }
    for (int i = 0; i < l->ndropped; i++)
        free(l->dropped[i]);
    l->ndropped = 0;
    l->refused = 0;
    l->drops_staged = false;
    l->copy_savepoint = false;
    l->in_checkpoint = false;
    l->failed = false;
    l->begin_deferred = false;
}

static fe_rc pipe_drain(loader *l, fe_err *err);
static fe_rc checkpoint_ready(loader *l, fe_err *err);
static void job_end(loader *l);
static bool copy_refusal_isolable(stage_table t, const copy_refusal *why);
static fe_rc copy_refused(loader *l, stage_table t, const copy_refusal *why, fe_err *err);

void loader_rollback(loader *l)
{
    if (!l || !l->conn)
        return;
    fe_err ignored = {0};
    (void)pipe_drain(l, &ignored); /* the commit in flight, if any: its outcome */
    job_end(l);
    if (PQtransactionStatus(l->conn) != PQTRANS_IDLE) {
        PGresult *res = PQexec(l->conn, "ROLLBACK");
        PQclear(res);
    }
    /* The rollback may have undone a truncate of the seen tables or the keys of
     * this checkpoint: have the next checkpoint start them afresh. */
    free(l->seen_stream);
    l->seen_stream = NULL;
    checkpoint_reset(l);
}

/* The seen_* tables collect the keys of one stream of one source; a checkpoint of
 * another one starts them afresh (inside its transaction). */
static fe_rc seen_switch(loader *l, int source_key, const char *stream, fe_err *err)
{
    if (l->seen_stream && l->seen_source_key == source_key && strcmp(l->seen_stream, stream) == 0)
        return FE_OK;
    free(l->seen_stream);
    l->seen_stream = strdup(stream);
    l->seen_source_key = source_key;
    if (!l->seen_stream)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    return pg_exec(l->conn, seen_truncate_sql, err);
}

fe_rc loader_begin(loader *l, int source_key, const char *stream, int64_t run_id, fe_err *err)
{
    if (l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_begin: a checkpoint is already open");
    FE_TRY(pipe_drain(l, err));
    if (!stream || !*stream)
        return fe_err_set(err, FE_EINVAL, "loader_begin: no stream name");
    char *copy = strdup(stream);
    if (!copy)
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    free(l->stream);
    l->stream = copy;
    snprintf(l->source_key, sizeof l->source_key, "%d", source_key);
    snprintf(l->run_id, sizeof l->run_id, "%" PRId64, run_id);

    fe_rc rc = pg_exec(l->conn, "BEGIN", err);
    if (rc != FE_OK)
        return fe_err_wrap(err, "begin checkpoint");
    checkpoint_reset(l);
    l->in_checkpoint = true;
    if ((rc = seen_switch(l, source_key, stream, err)) != FE_OK) {
        loader_rollback(l);
        return fe_err_wrap(err, "begin checkpoint");
    }
    return FE_OK;
}

/* Opens the savepoint a COPY runs under, releasing the previous COPY's (one
 * round trip per flush; the commit's COMMIT releases the last one). */
static fe_rc copy_savepoint(loader *l, fe_err *err)
{
    const char *sql =
        l->copy_savepoint ? "RELEASE SAVEPOINT fe_copy; SAVEPOINT fe_copy" : "SAVEPOINT fe_copy";
    if (pg_exec(l->conn, sql, err) != FE_OK)
        return fe_err_wrap(err, "savepoint before COPY");
    l->copy_savepoint = true;
    return FE_OK;
}

/* Sends one staging buffer with COPY and empties it. The COPY runs under a
 * savepoint: when PostgreSQL refuses a value of a row (a data error that names
 * the line), the COPY is undone, that row is cut out of the buffer and recorded
 * as a reject with its record (copy_refused), and the rest is sent again. The
 * buffer is kept until its COPY succeeded. */
static fe_rc stage_flush(loader *l, stage_table t, fe_err *err)
{
    buf *b = &l->stage[t];
    if (b->len == 0)
        return FE_OK;
    FE_TRY(checkpoint_ready(l, err));
    while (b->len > 0) {
        copy_refusal why = {0};
        fe_rc rc = copy_savepoint(l, err);
        if (rc == FE_OK)
            rc = copy_send(l->conn, stage_sqls[t].copy_target, b->data, b->len, &why, err);
        if (rc == FE_OK) {
            buf_reset(b);
            break;
        }
        if (!copy_refusal_isolable(t, &why) || (rc = copy_refused(l, t, &why, err)) != FE_OK) {
            l->failed = true;
            return rc;
        }
    }
    return FE_OK;
}

/* Checks that a row may be put and returns its table's buffer and where the row
 * starts in it (to cut a half-written row back out). */
static fe_rc row_begin(loader *l, stage_table t, const char *id_name, const char *id, buf **b,
                       size_t *mark, fe_err *err)
{
    *b = NULL;
    *mark = 0;
    if (!l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "%s row put outside a checkpoint",
                          stage_sqls[t].name + 4);
    if (l->failed)
        return fe_err_set(err, FE_EINVAL, "%s row put after the checkpoint failed",
                          stage_sqls[t].name + 4);
    if (id_name && (!id || !*id))
        return fe_err_set(err, FE_EINVAL, "%s row without %s", stage_sqls[t].name + 4, id_name);
    *b = &l->stage[t];
    *mark = (*b)->len;
    return FE_OK;
}

/* Ends a row whose fields were appended (ok: every append succeeded) and sends
 * the buffer once it is big enough. */
static fe_rc row_end(loader *l, stage_table t, size_t mark, bool ok, fe_err *err)
{
    buf *b = &l->stage[t];
    if (!ok || !copy_end_row(b)) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
        return fe_err_set(err, FE_ENOMEM, "%s row does not fit in the staging buffer",
                          stage_sqls[t].name + 4);
    }
    l->staged[t]++;
    if (b->len >= STAGE_FLUSH_BYTES)
        return stage_flush(l, t, err);
    return FE_OK;
}

fe_rc loader_put_store(loader *l, const row_store *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_STORE, "store_id", r->store_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_STORE, m, stage_row_store(b, r), err);
}

fe_rc loader_put_customer(loader *l, const row_customer *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_CUSTOMER, "customer_id", r->customer_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_CUSTOMER, m, stage_row_customer(b, r), err);
}

fe_rc loader_put_category(loader *l, const row_category *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_CATEGORY, "category_id", r->category_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_CATEGORY, m, stage_row_category(b, r), err);
}

fe_rc loader_put_product(loader *l, const row_product *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_PRODUCT, "product_id", r->product_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_PRODUCT, m, stage_row_product(b, r), err);
}

fe_rc loader_put_component(loader *l, const row_component *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_COMPONENT, "parent_id", r->parent_id, &b, &m, err);
    if (rc != FE_OK)
        return rc;
    if (!stage_opt_id(r->component_id))
        return fe_err_set(err, FE_EINVAL, "component row without component_id");
    return row_end(l, STG_COMPONENT, m, stage_row_component(b, r), err);
}

fe_rc loader_put_order(loader *l, const row_order *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_ORDER, "order_id", r->order_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_ORDER, m, stage_row_order(b, r), err);
}

fe_rc loader_put_order_line(loader *l, const row_order_line *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_ORDER_LINE, "order_id", r->order_id, &b, &m, err);
    if (rc != FE_OK)
        return rc;
    if (!stage_opt_id(r->line_id))
        return fe_err_set(err, FE_EINVAL, "order_line row without line_id");
    return row_end(l, STG_ORDER_LINE, m, stage_row_order_line(b, r), err);
}

fe_rc loader_put_payment(loader *l, const row_payment *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_PAYMENT, "payment_id", r->payment_id, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_PAYMENT, m, stage_row_payment(b, r), err);
}

fe_rc loader_put_inventory(loader *l, const row_inventory *r, fe_err *err)
{
    buf *b;
    size_t m;
    fe_rc rc = row_begin(l, STG_INVENTORY, "snapshot_date", r->snapshot_date, &b, &m, err);
    return rc != FE_OK ? rc : row_end(l, STG_INVENTORY, m, stage_row_inventory(b, r), err);
}

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

static bool utf8_valid(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0, len; i < n; i += len)
        if ((len = buf_utf8_seq_len(s + i, n - i)) == 0)
            return false;
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
                   : row_begin(l, STG_REJECT, NULL, NULL, &b, &m, err);
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

int64_t loader_staged_rows(const loader *l)
{
    int64_t n = 0;
    for (int t = 0; t < STG__COUNT; t++)
        if (t != STG_REJECT)
            n += l->staged[t];
    return n;
}

/* ---- rows PostgreSQL refuses ----------------------------------------------- */

/* A COPY refused for a value of one row: a data exception, or a not-null or
 * check violation, that names the line. */
static bool copy_refusal_isolable(stage_table t, const copy_refusal *why)
{
    return t != STG_REJECT && why->line > 0 &&
           (strncmp(why->sqlstate, "22", 2) == 0 || strcmp(why->sqlstate, "23502") == 0 ||
            strcmp(why->sqlstate, "23514") == 0);
}

/* The record a staged row belongs to, which a refusal of the row rejects whole. */
typedef struct {
    char kind;             /* what else goes: 'o' the order's rows (order, lines, payments), 'p' the
                              payment's, 'c' the parent's components (its recipe), 0 nothing */
    const char *id;        /* order_id, payment_id or parent_id for kind */
    const char *record_id; /* etl.reject.record_id */
} refused_record;

/* f: the row's fields in COPY target order (stage_sqls). */
static refused_record record_of(stage_table t, const char *const *f, int n)
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
static fe_rc refused_reject(loader *l, bool direct, const char *record_id, const char *reason,
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
static fe_rc record_drop(loader *l, const refused_record *r, fe_err *err)
{
    char kind[2] = {r->kind, '\0'};
    const char *params[2] = {kind, r->id};
    if (!r->kind || !utf8_valid(r->id))
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
    if (!seen_keep_sqls[t] || n < nkeys)
        return FE_OK;
    for (int i = 0; i < nkeys; i++)
        if (!f[i] || !utf8_valid(f[i]))
            return FE_OK;
    PGresult *res = pg_query(l->conn, seen_keep_sqls[t], nkeys, f, err);
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
static fe_rc copy_refused(loader *l, stage_table t, const copy_refusal *why, fe_err *err)
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

/* ---- commit ----------------------------------------------------------------- */

/* Sends one statement into the pipeline (entering pipeline mode when needed).
 * with_params: the checkpoint's $1..$3 (and $4 = extra when extra is set);
 * otherwise none (SET, ANALYZE, COMMIT). merge: the statement's index in
 * merge_steps, -1 for any other. Nothing is read here. */
static fe_rc pipe_send(loader *l, const char *step, const char *sql, step_kind counts,
                       bool with_params, const char *extra, int merge, fe_err *err)
{
    const char *params[4] = {l->source_key, l->run_id, l->stream, extra};
    int nparams = with_params ? (extra ? 4 : 3) : 0;

    if (l->npipe >= PIPE_MAX - 1) /* room is kept for the sync that ends it */
        return fe_err_set(err, FE_EINVAL, "%s: more than %d statements in one commit", step,
                          PIPE_MAX - 1);
    if (PQpipelineStatus(l->conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(l->conn))
        return pg_error(err, l->conn, NULL, "entering pipeline mode");
    if (!PQsendQueryParams(l->conn, sql, nparams, nparams ? step_types : NULL,
                           nparams ? params : NULL, NULL, NULL, 0))
        return pg_error(err, l->conn, NULL, step);
    pipe_entry *e = &l->pipe[l->npipe++];
    e->kind = strcmp(sql, "COMMIT") == 0 ? PIPE_COMMIT : PIPE_STEP;
    e->counts = counts;
    e->merge = merge;
    snprintf(e->step, sizeof e->step, "%s", step);
    return FE_OK;
}

/* Ends a pipeline segment: the server runs what was sent so far and answers. */
static fe_rc pipe_sync(loader *l, fe_err *err)
{
    if (l->npipe >= PIPE_MAX)
        return fe_err_set(err, FE_EINVAL, "more than %d statements in one commit", PIPE_MAX);
    if (!PQpipelineSync(l->conn))
        return pg_error(err, l->conn, NULL, "pipeline sync");
    l->pipe[l->npipe++] = (pipe_entry){.kind = PIPE_SYNC, .merge = -1};
    return FE_OK;
}

static void stats_add(stream_stats *to, const stream_stats *d)
{
    to->inserted += d->inserted;
    to->updated += d->updated;
    to->unchanged += d->unchanged;
    to->deleted += d->deleted;
}

/* Reads column col of the first row as a count. */
static int64_t result_count(const PGresult *res, int col)
{
    if (PQntuples(res) < 1 || PQnfields(res) <= col)
        return 0;
    return strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void count_result(stream_stats *d, step_kind counts, const PGresult *res)
{
    if (counts == STEP_UPSERT) {
        int64_t ins = result_count(res, 0), upd = result_count(res, 1);
        int64_t staged = result_count(res, 2);
        d->inserted += ins;
        d->updated += upd;
        d->unchanged += staged > ins + upd ? staged - ins - upd : 0;
    } else if (counts == STEP_DELETE) {
        d->deleted += result_count(res, 0);
    }
}

/* Checks one result against what was sent. A statement skipped because an
 * earlier one failed (PIPELINE_ABORTED) is not the cause: the first failure is. */
static fe_rc pipe_check(loader *l, const pipe_entry *e, PGresult *res, fe_err *err)
{
    ExecStatusType st = PQresultStatus(res);
    if (e->kind == PIPE_SYNC)
        return st == PGRES_PIPELINE_SYNC ? FE_OK : pg_error(err, l->conn, res, "pipeline sync");
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return pg_error(err, l->conn, res, e->step);
    /* COMMIT answers "ROLLBACK" instead of failing when the transaction had
     * already failed; that must not pass for a commit. */
    if (e->kind == PIPE_COMMIT && strcmp(PQcmdStatus(res), "COMMIT") != 0)
        return fe_err_set(err, FE_EPG, "commit: the server rolled the checkpoint back");
    count_result(&l->pipe_counts, e->counts, res);
    return FE_OK;
}

/* Keeps what the first failure of a pipeline was, for merge_retry. */
static void pipe_note_failure(loader *l, const pipe_entry *e, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    fe_err msg = {0};
    pg_error(&msg, l->conn, res, NULL);
    l->fail_merge = e->merge;
    snprintf(l->fail_state, sizeof l->fail_state, "%s", state ? state : "");
    snprintf(l->fail_msg, sizeof l->fail_msg, "%s", msg.msg);
}

/* A statement after a COMMIT that succeeded failed (the statistics refresh, or
 * the connection broke after the COMMIT's answer): the checkpoint is in the
 * warehouse whatever follows, so this is a warning, never the commit's outcome;
 * reported as a failure, it would record a committed stream failed and refuse
 * the checkpoint opened behind it. res may be NULL (no answer). */
static void warn_after_commit(loader *l, const pipe_entry *e, const PGresult *res)
{
    fe_err msg = {0};
    if (res && PQresultStatus(res) == PGRES_PIPELINE_ABORTED)
        return; /* skipped after an earlier failure, which was named */
    pg_error(&msg, l->conn, res, e->step[0] ? e->step : "after the commit");
    log_warn(l->stream,
             "source_key %s: the checkpoint committed, but a statement after it failed: %s",
             l->source_key, msg.msg);
}

/* Reads every result of what was sent and leaves pipeline mode. On failure err
 * names the first statement that failed, and fail_* say what it was. What was
 * sent after a COMMIT that succeeded is best effort (warn_after_commit). */
static fe_rc pipe_read(loader *l, fe_err *err)
{
    fe_rc rc = FE_OK;
    bool committed = false;
    l->fail_merge = -1;
    l->fail_state[0] = l->fail_msg[0] = '\0';
    /* The server answers a segment only at its sync point. */
    if (l->pipe[l->npipe - 1].kind != PIPE_SYNC && (rc = pipe_sync(l, err)) != FE_OK) {
        l->npipe = 0; /* nothing would answer: the loader is failed for good */
        return rc;
    }
    for (int i = 0; i < l->npipe; i++) {
        const pipe_entry *e = &l->pipe[i];
        PGresult *res = PQgetResult(l->conn);
        if (!res) { /* the connection broke: nothing more will come */
            if (committed)
                warn_after_commit(l, e, NULL);
            else if (rc == FE_OK)
                rc = pg_error(err, l->conn, NULL, e->step[0] ? e->step : "commit");
            break;
        }
        fe_rc one = pipe_check(l, e, res, rc == FE_OK && !committed ? err : &(fe_err){0});
        if (committed && one != FE_OK)
            warn_after_commit(l, e, res);
        else if (rc == FE_OK && one != FE_OK) {
            pipe_note_failure(l, e, res);
            rc = one;
        }
        committed = committed || (e->kind == PIPE_COMMIT && rc == FE_OK);
        PQclear(res);
        if (e->kind != PIPE_SYNC) /* each statement's results end with a NULL */
            while ((res = PQgetResult(l->conn)) != NULL)
                PQclear(res);
    }
    l->npipe = 0;
    if (PQpipelineStatus(l->conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(l->conn) &&
        rc == FE_OK && !committed)
        rc = pg_error(err, l->conn, NULL, "leaving pipeline mode");
    return rc;
}

static void job_end(loader *l)
{
    free(l->job.cursor);
    l->job = (commit_job){0};
}

/* Keeps what the commit of the open checkpoint needs until its outcome is read:
 * its options, what was staged, the rejects of refused rows so far. */
static fe_rc job_start(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    job_end(l);
    commit_job *j = &l->job;
    if (c->cursor && !(j->cursor = strdup(c->cursor)))
        return fe_err_set(err, FE_ENOMEM, "out of memory");
    memcpy(j->staged, l->staged, sizeof j->staged);
    j->full_read = c->full_read;
    j->purge = l->drops_staged;
    j->stats = stats;
    j->refused = l->refused;
    j->active = true;
    return FE_OK;
}

/* Runs one statement of the commit synchronously with its $1..$3 (the merge
 * retry's statements; the pipeline is not in use then). */
static PGresult *step_exec(loader *l, const char *sql)
{
    const char *params[3] = {l->source_key, l->run_id, l->stream};
    return PQexecParams(l->conn, sql, 3, step_types, params, NULL, NULL, 0);
}

static bool step_ok(const PGresult *res)
{
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static bool commit_staged(const loader *l, unsigned tables)
{
    for (int t = 0; t < STG__COUNT; t++)
        if ((tables & ST(t)) && l->job.staged[t] > 0)
            return true;
    return false;
}

static fe_rc send_merge_phase(loader *l, fe_err *err);

/* ---- merge retry: a row PostgreSQL refuses inside a merge ------------------- */

/* The commit failed in a merge step for a value PostgreSQL refused (class 22,
 * data exception); its transaction is still open, failed, after the savepoint
 * fe_merge taken before the merges (staging is intact behind it). */
static bool merge_refused(const loader *l)
{
    return l->job.active && l->fail_merge >= 0 && strncmp(l->fail_state, "22", 2) == 0 &&
           PQtransactionStatus(l->conn) == PQTRANS_INERROR;
}

/* Switches the planner between index joins and its defaults, at once. */
static fe_rc index_joins_set(loader *l, bool on, fe_err *err)
{
    const char *const *sqls = on ? index_joins_on_sqls : index_joins_off_sqls;
    for (size_t i = 0; i < sizeof index_joins_on_sqls / sizeof index_joins_on_sqls[0]; i++)
        if (pg_exec(l->conn, sqls[i], err) != FE_OK)
            return fe_err_wrap(err, "merge retry: planner settings");
    return FE_OK;
}

/* One question of merge_blame: with the tables order[0..j) whole, order[j] up to
 * seq `last` and order[j+1..n) empty, do the merge steps up to `step` fail with
 * a data exception? Under a savepoint that is rolled back: staging and the
 * warehouse stay as they were. Another failure is an error of its own. */
static fe_rc merge_probe(loader *l, int step, const stage_table *order, int n, int j, int64_t last,
                         bool *fails, fe_err *err)
{
    char sql[96], last_text[24];
    fe_rc rc = FE_OK;

    *fails = false;
    if (pg_exec(l->conn, "SAVEPOINT fe_probe", err) != FE_OK)
        return fe_err_wrap(err, "merge retry");
    for (int i = j; i < n && rc == FE_OK; i++) {
        if (i == j && last == INT64_MAX)
            continue;
        snprintf(last_text, sizeof last_text, "%" PRId64, i == j ? last : 0);
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE seq > $1", stage_sqls[order[i]].name);
        const char *params[1] = {last_text};
        PGresult *res = pg_query(l->conn, sql, 1, params, err);
        if (!res)
            rc = fe_err_wrap(err, "merge retry");
        PQclear(res);
    }
    bool index_joins = false;
    for (int k = 0; k <= step && rc == FE_OK && !*fails; k++) {
        if (!commit_staged(l, merge_steps[k].when))
            continue;
        /* The plans of send_merges (a fact step scanning a large warehouse table
         * would make every probe slow); the rollback below undoes the settings. */
        bool want = (merge_steps[k].when & FACT_STAGES) == merge_steps[k].when;
        if (want != index_joins && (rc = index_joins_set(l, want, err)) != FE_OK)
            break;
        index_joins = want;
        PGresult *res = step_exec(l, merge_steps[k].sql);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!step_ok(res)) {
            if (state && strncmp(state, "22", 2) == 0)
                *fails = true;
            else
                rc = pg_error(err, l->conn, res, merge_steps[k].name);
        }
        PQclear(res);
    }
    fe_err undo = {0};
    if (pg_exec(l->conn, "ROLLBACK TO SAVEPOINT fe_probe; RELEASE SAVEPOINT fe_probe", &undo) !=
            FE_OK &&
        rc == FE_OK) {
        *err = undo;
        rc = fe_err_wrap(err, "merge retry");
    }
    return rc;
}

/* Smallest and largest seq staged in table t; empty: false. */
static fe_rc seq_range(loader *l, stage_table t, int64_t *lo, int64_t *hi, bool *any, fe_err *err)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT min(seq), max(seq) FROM %s", stage_sqls[t].name);
    PGresult *res = pg_query(l->conn, sql, 0, NULL, err);
    if (!res)
        return fe_err_wrap(err, "merge retry");
    *any = !PQgetisnull(res, 0, 0);
    if (*any) {
        *lo = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        *hi = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    return FE_OK;
}

/* Finds the staged row that makes merge step `step` fail, by bisection: a
 * prefix search over the staged rows (the step's own tables first, each in seq
 * order), one probe per question. About log2(rows) + tables probes, each running
 * the merges up to the step. found = false when the merges fail even with no
 * staged row, or no longer fail at all: nothing to blame. */
static fe_rc merge_blame(loader *l, int step, stage_table *table, int64_t *seq, bool *found,
                         fe_err *err)
{
    stage_table order[STG__COUNT];
    int n = 0;
    bool fails = false, any = false;
    int64_t lo = 0, hi = 0;

    *found = false;
    for (int pass = 0; pass < 2; pass++)
        for (int t = 0; t < STG__COUNT; t++)
            if (t != STG_REJECT && l->job.staged[t] &&
                ((merge_steps[step].when & ST(t)) != 0) == (pass == 0))
                order[n++] = (stage_table)t;
    if (n == 0)
        return FE_OK;
    FE_TRY(merge_probe(l, step, order, n, 0, 0, &fails, err));
    if (fails)
        return FE_OK;
    for (int j = 0; j < n; j++) {
        FE_TRY(merge_probe(l, step, order, n, j, INT64_MAX, &fails, err));
        if (!fails)
            continue;
        FE_TRY(seq_range(l, order[j], &lo, &hi, &any, err));
        if (!any)
            return FE_OK;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            FE_TRY(merge_probe(l, step, order, n, j, mid, &fails, err));
            if (fails)
                hi = mid;
            else
                lo = mid + 1;
        }
        *table = order[j];
        *seq = lo;
        *found = true;
        return FE_OK;
    }
    return FE_OK;
}

/* Runs a statement of the commit synchronously and discards its result. */
static fe_rc step_run(loader *l, const char *sql, const char *what, fe_err *err)
{
    PGresult *res = step_exec(l, sql);
    fe_rc rc = step_ok(res) ? FE_OK : pg_error(err, l->conn, res, what);
    PQclear(res);
    return rc;
}

/* Reads staged row (t, seq) as its fields (COPY target order) and as COPY text. */
static PGresult *staged_row(loader *l, stage_table t, const char *seq, buf *text, fe_err *err)
{
    const char *target = stage_sqls[t].copy_target;
    const char *cols = strchr(target, '(');
    char sql[512];
    int len = cols ? (int)strcspn(cols + 1, ")") : 0;
    snprintf(sql, sizeof sql, "SELECT %.*s FROM %s WHERE seq = $1", len, cols ? cols + 1 : "",
             stage_sqls[t].name);
    const char *params[1] = {seq};
    PGresult *res = pg_query(l->conn, sql, 1, params, err);
    if (!res)
        return NULL;
    bool ok = PQntuples(res) == 1;
    for (int i = 0; ok && i < PQnfields(res); i++)
        ok = copy_field(text, PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i), i == 0);
    if (!ok) {
        PQclear(res);
        fe_err_set(err, FE_EPG, "merge retry: staged row %s of %s not found", seq,
                   stage_sqls[t].name);
        return NULL;
    }
    return res;
}

/* Rejects staged row (t, seq), which made merge step `step` fail with msg, with
 * its record: the row leaves staging, and an order's lines and payments (or a
 * parent's other components) are purged with it. A dimension row's key stays in
 * seen_* (recorded before the merges), so a full read keeps its member. */
static fe_rc merge_reject_row(loader *l, int step, const char *msg, stage_table t, int64_t seq,
                              fe_err *err)
{
    char seq_text[24], reason[1024];
    const char *f[32];
    buf text;
    fe_rc rc = FE_OK;

    snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
    buf_init(&text, 0);
    PGresult *row = staged_row(l, t, seq_text, &text, err);
    if (!row) {
        buf_term(&text);
        return FE_EPG;
    }
    int n = PQnfields(row) < 32 ? PQnfields(row) : 32;
    for (int i = 0; i < n; i++)
        f[i] = PQgetisnull(row, 0, i) ? NULL : PQgetvalue(row, 0, i);
    refused_record r = record_of(t, f, n);
    snprintf(reason, sizeof reason, "PostgreSQL refused %s in %s: %s", stage_sqls[t].name + 4,
             merge_steps[step].name, msg);
    if ((rc = refused_reject(l, true, r.record_id, reason, buf_cstr(&text), err)) != FE_OK ||
        (rc = record_drop(l, &r, err)) != FE_OK)
        goto done;
    for (size_t i = 0; r.kind && i < sizeof purge_sqls / sizeof purge_sqls[0] && rc == FE_OK; i++)
        rc = step_run(l, purge_sqls[i], "merge retry: purging a refused record", err);
    if (rc == FE_OK) {
        char sql[96];
        const char *params[1] = {seq_text};
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE seq = $1", stage_sqls[t].name);
        PGresult *res = pg_query(l->conn, sql, 1, params, err);
        rc = res ? FE_OK : fe_err_wrap(err, "merge retry");
        PQclear(res);
    }
done:
    PQclear(row);
    buf_term(&text);
    return rc;
}

/* The commit failed in a merge for a row PostgreSQL refused: goes back to the
 * savepoint before the merges, finds the row (merge_blame), rejects it with its
 * record, and sends the merges, full reads, cursor, rejects and COMMIT again,
 * then reads their outcome. Runs wherever the outcome is read, so also for a
 * commit in flight while the next checkpoint fills (its BEGIN is deferred until
 * this one ended). Each round rejects one record; refused_reject caps them. */
static fe_rc merge_retry(loader *l, fe_err *err)
{
    int step = l->fail_merge;
    char msg[sizeof l->fail_msg];
    fe_err first = *err;
    stage_table t = STG_ORDER;
    int64_t seq = 0;
    bool found = false;

    snprintf(msg, sizeof msg, "%s", l->fail_msg);
    l->fail_merge = -1;
    if (pg_exec(l->conn, "ROLLBACK TO SAVEPOINT fe_merge", err) != FE_OK)
        return fe_err_wrap(err, "undoing a refused merge");
    FE_TRY(merge_blame(l, step, &t, &seq, &found, err));
    if (!found) {
        *err = first;
        return first.code ? first.code : FE_EPG;
    }
    FE_TRY(merge_reject_row(l, step, msg, t, seq, err));
    /* The rows taken out stay out should the next attempt fail too. */
    if (pg_exec(l->conn, "RELEASE SAVEPOINT fe_merge; SAVEPOINT fe_merge", err) != FE_OK)
        return fe_err_wrap(err, "merge retry");
    l->pipe_counts = (stream_stats){0};
    FE_TRY(send_merge_phase(l, err));
    return pipe_read(l, err);
}

/* Reads the outcome of the commit sent (npipe > 0), retrying its merges without
 * each row PostgreSQL refused in them. On success its counts and rejects go to
 * the stats given with the commit; on failure err names the first statement that
 * failed, and the checkpoint open behind the commit (if any) is failed too: only
 * loader_rollback helps. */
static fe_rc pipe_drain(loader *l, fe_err *err)
{
    if (l->npipe == 0)
        return FE_OK;
    fe_rc rc = pipe_read(l, err);
    while (rc != FE_OK && merge_refused(l))
        rc = merge_retry(l, err);
    if (rc == FE_OK && l->job.stats) {
        stats_add(l->job.stats, &l->pipe_counts);
        l->job.stats->rejects += l->job.refused;
    }
    l->pipe_counts = (stream_stats){0};
    job_end(l);
    if (rc != FE_OK)
        l->failed = true;
    return rc;
}

/* Before the open checkpoint talks to the server: the commit in flight must have
 * succeeded, and the BEGIN that loader_commit_send deferred is sent. */
static fe_rc checkpoint_ready(loader *l, fe_err *err)
{
    FE_TRY(pipe_drain(l, err));
    if (!l->begin_deferred)
        return FE_OK;
    fe_rc rc = pg_exec(l->conn, "BEGIN", err);
    if (rc != FE_OK) {
        l->failed = true;
        return fe_err_wrap(err, "begin checkpoint");
    }
    l->begin_deferred = false;
    return FE_OK;
}

static fe_rc send_step(loader *l, const char *step, const char *sql, step_kind counts, fe_err *err)
{
    return pipe_send(l, step, sql, counts, true, NULL, -1, err);
}

static fe_rc send_plain(loader *l, const char *step, const char *sql, fe_err *err)
{
    return pipe_send(l, step, sql, STEP_PLAIN, false, NULL, -1, err);
}

/* Temporary tables get no statistics from autovacuum: without them the planner
 * guesses their size from pages and picks joins that scan the warehouse table
 * (every checkpoint then costs as much as the table is large). A staging table
 * keeps its statistics when the commit empties it, and the planner scales its
 * row estimate by the pages it has at plan time, so one ANALYZE serves every
 * later checkpoint of similar rows: it is repeated only when a checkpoint stages
 * more than twice the rows of the last analyzed one. */
static fe_rc send_analyze_staging(loader *l, fe_err *err)
{
    buf sql;
    fe_rc rc = FE_OK;
    bool any = false;
    const int64_t *staged = l->job.staged;
    buf_init(&sql, 0);
    for (int t = 0; t < STG__COUNT; t++) {
        if (!staged[t] || t == STG_REJECT || staged[t] <= 2 * l->stage_analyzed[t])
            continue;
        if (!buf_puts(&sql, any ? ", " : "ANALYZE ") || !buf_puts(&sql, stage_sqls[t].name)) {
            rc = fe_err_set(err, FE_ENOMEM, "out of memory");
            goto done;
        }
        l->stage_analyzed[t] = staged[t];
        any = true;
    }
    if (any)
        rc = send_plain(l, "analyze staging", buf_cstr(&sql), err);
done:
    buf_term(&sql);
    return rc;
}

/* After the commit: ANALYZE the warehouse tables this loader has doubled (at
 * least ANALYZE_MIN_ROWS rows) since it last did, so the merges' joins are planned
 * for the table's real size; autovacuum is too slow for that during a first load
 * (its statistics say the table is nearly empty while the load fills it). Sent
 * after the COMMIT's sync point, so each runs in its own transaction. Best
 * effort: ANALYZE of a table this role does not own only warns, and one that
 * fails (a lock_timeout behind another session's lock) is logged, not the
 * commit's outcome (pipe_read). */
static fe_rc send_refresh_statistics(loader *l, fe_err *err)
{
    bool any = false;
    for (int t = 0; t < STG__COUNT; t++) {
        l->since_analyze[t] += l->job.staged[t];
        int64_t since = l->since_analyze[t];
        if (!stage_targets[t] || since < ANALYZE_MIN_ROWS || since < l->before_analyze[t])
            continue;
        char sql[128], step[56];
        snprintf(sql, sizeof sql, "ANALYZE %s", stage_targets[t]);
        snprintf(step, sizeof step, "analyze %.*s", (int)strcspn(stage_targets[t], " "),
                 stage_targets[t]);
        FE_TRY(send_plain(l, step, sql, err));
        l->before_analyze[t] += since;
        l->since_analyze[t] = 0;
        any = true;
    }
    return any ? pipe_sync(l, err) : FE_OK;
}

/* The statements between the last COPY and the merges: purge the rows of records
 * PostgreSQL refused, remove older duplicates, record the staged keys of the
 * dimensions (for a full read that ends in a later checkpoint). */
static fe_rc send_stage_finish(loader *l, fe_err *err)
{
    char step[64];
    for (size_t i = 0; l->job.purge && i < sizeof purge_sqls / sizeof purge_sqls[0]; i++)
        FE_TRY(send_step(l, "purge refused records", purge_sqls[i], STEP_PLAIN, err));
    for (int t = 0; t < STG__COUNT; t++) {
        if (!l->job.staged[t] || !stage_sqls[t].dedupe)
            continue;
        snprintf(step, sizeof step, "dedupe %s", stage_sqls[t].name);
        FE_TRY(send_step(l, step, stage_sqls[t].dedupe, STEP_PLAIN, err));
        if (!stage_sqls[t].seen)
            continue;
        snprintf(step, sizeof step, "record keys of %s", stage_sqls[t].name);
        FE_TRY(send_step(l, step, stage_sqls[t].seen, STEP_PLAIN, err));
    }
    return send_analyze_staging(l, err);
}

/* Switches the planner between index joins (fact steps) and its defaults. */
static fe_rc send_index_joins(loader *l, bool on, fe_err *err)
{
    const char *const *sqls = on ? index_joins_on_sqls : index_joins_off_sqls;
    for (size_t i = 0; i < sizeof index_joins_on_sqls / sizeof index_joins_on_sqls[0]; i++)
        FE_TRY(send_plain(l, "planner settings", sqls[i], err));
    return FE_OK;
}

static fe_rc send_merges(loader *l, fe_err *err)
{
    bool index_joins = false;
    for (size_t i = 0; i < sizeof merge_steps / sizeof merge_steps[0]; i++) {
        const merge_step *s = &merge_steps[i];
        if (!commit_staged(l, s->when))
            continue;
        bool want = (s->when & FACT_STAGES) == s->when;
        if (want != index_joins)
            FE_TRY(send_index_joins(l, want, err));
        index_joins = want;
        FE_TRY(pipe_send(l, s->name, s->sql, s->kind, true, NULL, (int)i, err));
    }
    return index_joins ? send_index_joins(l, false, err) : FE_OK;
}

/* For each table whose full read ended: marks the rows the stream owns but did
 * not return as deleted (unless they are more than max_delete_fraction of them:
 * the statement then fails), makes the stream the owner of every row it
 * returned, then forgets the keys. */
static fe_rc send_full_reads(loader *l, unsigned full_read, fe_err *err)
{
    char step[64];
    for (int t = 0; t < STG__COUNT; t++) {
        const stage_sql *q = &stage_sqls[t];
        if (!(full_read & ST(t)) || !q->full_read)
            continue;
        snprintf(step, sizeof step, "full read %s", q->name + 4);
        FE_TRY(send_plain(l, step, full_read_joins_on_sql, err));
        FE_TRY(pipe_send(l, step, q->full_read, STEP_DELETE, true, l->delete_fraction, -1, err));
        FE_TRY(send_step(l, step, q->claim, STEP_PLAIN, err));
        FE_TRY(send_plain(l, step, full_read_joins_off_sql, err));
        FE_TRY(send_plain(l, step, q->seen_truncate, err));
    }
    return FE_OK;
}

/* The commit's statements after the savepoint fe_merge: merges, full reads,
 * cursor, rejects, COMMIT, sync. Sent again by merge_retry. */
static fe_rc send_merge_phase(loader *l, fe_err *err)
{
    FE_TRY(send_merges(l, err));
    FE_TRY(send_full_reads(l, l->job.full_read, err));
    if (l->job.cursor)
        FE_TRY(pipe_send(l, "write cursor to etl.sync_state", cursor_upsert_sql, STEP_PLAIN, true,
                         l->job.cursor, -1, err));
    if (l->job.staged[STG_REJECT])
        FE_TRY(send_step(l, "write etl.reject", rejects_insert_sql, STEP_PLAIN, err));
    FE_TRY(send_plain(l, "commit", "COMMIT", err));
    return pipe_sync(l, err);
}

/* Sends the whole commit of the open checkpoint as one pipeline: staged rows
 * (COPY, synchronous, each refused row a reject), purge and de-duplication, a
 * savepoint, merges, full reads, cursor, rejects, COMMIT, then the statistics
 * refresh; returns without reading any result. */
static fe_rc commit_send(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    FE_TRY(checkpoint_ready(l, err));
    for (int t = 0; t < STG__COUNT; t++) /* rejects last: refusals add to them */
        FE_TRY(stage_flush(l, t, err));  /* "COPY stg_x: <message>" */
    FE_TRY(job_start(l, c, stats, err));
    FE_TRY(send_stage_finish(l, err));
    FE_TRY(send_plain(l, "savepoint before the merges", "SAVEPOINT fe_merge", err));
    FE_TRY(send_merge_phase(l, err));
    return send_refresh_statistics(l, err);
}

/* Checks the state for a commit; on a failed checkpoint rolls it back. */
static fe_rc commit_allowed(loader *l, fe_err *err)
{
    if (!l->in_checkpoint)
        return fe_err_set(err, FE_EINVAL, "loader_commit without an open checkpoint");
    if (l->failed) {
        loader_rollback(l);
        return fe_err_set(err, FE_EINVAL,
                          "loader_commit after a failure in the checkpoint: rolled back");
    }
    return FE_OK;
}

/* A commit without a cursor or full read (c == NULL). */
static const load_commit no_commit_options = {NULL, 0};

fe_rc loader_commit(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    fe_rc rc;

    FE_TRY(commit_allowed(l, err));
    if ((rc = commit_send(l, c ? c : &no_commit_options, stats, err)) != FE_OK ||
        (rc = pipe_drain(l, err)) != FE_OK)
        goto fail;
    checkpoint_reset(l);
    return FE_OK;
fail:
    loader_rollback(l);
    return rc;
}

fe_rc loader_commit_send(loader *l, const load_commit *c, stream_stats *stats, fe_err *err)
{
    fe_rc rc;

    FE_TRY(commit_allowed(l, err));
    if ((rc = commit_send(l, c ? c : &no_commit_options, stats, err)) != FE_OK) {
        loader_rollback(l);
        return rc;
    }
    checkpoint_reset(l);
    l->in_checkpoint = true;
    l->begin_deferred = true;
    return FE_OK;
}

fe_rc loader_wait(loader *l, fe_err *err)
{
    return pipe_drain(l, err);
}

/* ---- the row sink ---- */

static fe_rc sink_store(void *l, const row_store *r, fe_err *e)
{
    return loader_put_store(l, r, e);
}
static fe_rc sink_customer(void *l, const row_customer *r, fe_err *e)
{
    return loader_put_customer(l, r, e);
}
static fe_rc sink_category(void *l, const row_category *r, fe_err *e)
{
    return loader_put_category(l, r, e);
}
static fe_rc sink_product(void *l, const row_product *r, fe_err *e)
{
    return loader_put_product(l, r, e);
}
static fe_rc sink_component(void *l, const row_component *r, fe_err *e)
{
    return loader_put_component(l, r, e);
}
static fe_rc sink_order(void *l, const row_order *r, fe_err *e)
{
    return loader_put_order(l, r, e);
}
static fe_rc sink_order_line(void *l, const row_order_line *r, fe_err *e)
{
    return loader_put_order_line(l, r, e);
}
static fe_rc sink_payment(void *l, const row_payment *r, fe_err *e)
{
    return loader_put_payment(l, r, e);
}
static fe_rc sink_inventory(void *l, const row_inventory *r, fe_err *e)
{
    return loader_put_inventory(l, r, e);
}

row_sink loader_row_sink(loader *l)
{
    return (row_sink){.ctx = l,
                      .store = sink_store,
                      .customer = sink_customer,
                      .category = sink_category,
                      .product = sink_product,
                      .component = sink_component,
                      .order = sink_order,
                      .order_line = sink_order_line,
                      .payment = sink_payment,
                      .inventory = sink_inventory};
}
