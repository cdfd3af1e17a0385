/* goflow_csv: streaming RFC 4180 reader. See goflow_csv.h. */
#include "sources/goflow/goflow_csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX ((size_t)1 << 20)
#define MAX_FIELDS 256

typedef enum {
    ST_FIELD_START, /* at the start of a field */
    ST_UNQUOTED,    /* inside an unquoted field */
    ST_QUOTED,      /* inside quotes */
    ST_QUOTE_SEEN,  /* a quote inside quotes: closing, or the first of "" */
    ST_CR           /* a CR ended a row: swallow one LF */
} csv_state;

struct goflow_csv {
    goflow_csv_row_fn fn;
    void *ctx;
    size_t max;
    char *text; /* the row's fields, each NUL-terminated */
    size_t len;
    size_t starts[MAX_FIELDS];
    size_t nfields;
    csv_state st;
    bool row_open; /* something of the current row was read */
    fe_rc failed;
    fe_err failure;
};

goflow_csv *goflow_csv_new(size_t max_row_bytes, goflow_csv_row_fn fn, void *ctx)
{
    goflow_csv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max = max_row_bytes ? max_row_bytes : DEFAULT_MAX;
    c->fn = fn;
    c->ctx = ctx;
    if (!(c->text = malloc(c->max + 1))) {
        free(c);
        return NULL;
    }
    return c;
}

void goflow_csv_free(goflow_csv *c)
{
    if (!c)
        return;
    free(c->text);
    free(c);
}

void goflow_csv_reset(goflow_csv *c)
{
    c->len = 0;
    c->nfields = 0;
    c->st = ST_FIELD_START;
    c->row_open = false;
    c->failed = FE_OK;
}

static fe_rc fail(goflow_csv *c, fe_err *err, const char *what)
{
    c->failed = fe_err_set(err, FE_EJSON, "csv: %s", what);
    c->failure = *err;
    return c->failed;
}

static fe_rc put_byte(goflow_csv *c, char b, fe_err *err)
{
    if (c->len >= c->max)
        return fail(c, err, "row larger than the cap");
    c->text[c->len++] = b;
    return FE_OK;
}

/* Ends the current field (starting a field record first when needed). */
static fe_rc end_field(goflow_csv *c, fe_err *err)
{
    if (c->nfields >= MAX_FIELDS)
        return fail(c, err, "more than 256 fields in a row");
    fe_rc rc = put_byte(c, '\0', err);
    if (rc != FE_OK)
        return rc;
    c->nfields++;
    return FE_OK;
}

static void begin_field(goflow_csv *c)
{
    if (c->nfields < MAX_FIELDS)
        c->starts[c->nfields] = c->len;
}

static fe_rc end_row(goflow_csv *c, fe_err *err)
{
    const char *fields[MAX_FIELDS];
    size_t lens[MAX_FIELDS];
    fe_rc rc = end_field(c, err);
    if (rc != FE_OK)
        return rc;
    for (size_t i = 0; i < c->nfields; i++) {
        size_t end = i + 1 < c->nfields ? c->starts[i + 1] : c->len;
        fields[i] = c->text + c->starts[i];
        lens[i] = end - c->starts[i] - 1; /* less the terminator end_field wrote */
    }
    /* A blank line (one empty field) is no row. */
    if (!(c->nfields == 1 && lens[0] == 0))
        rc = c->fn(c->ctx, fields, lens, c->nfields, err);
    c->len = 0;
    c->nfields = 0;
    c->row_open = false;
    if (rc != FE_OK) {
        c->failed = rc;
        c->failure = *err;
    }
    return rc;
}

static fe_rc step(goflow_csv *c, char b, fe_err *err)
{
    switch (c->st) {
    case ST_CR:
        c->st = ST_FIELD_START;
        if (b == '\n')
            return FE_OK;
        __attribute__((fallthrough)); /* a lone CR ended the row */
    case ST_FIELD_START:
        begin_field(c);
        c->row_open = true;
        if (b == '"') {
            c->st = ST_QUOTED;
            return FE_OK;
        }
        c->st = ST_UNQUOTED;
        __attribute__((fallthrough));
    case ST_UNQUOTED:
        if (b == ',') {
            c->st = ST_FIELD_START;
            return end_field(c, err);
        }
        if (b == '\r' || b == '\n') {
            c->st = b == '\r' ? ST_CR : ST_FIELD_START;
            return end_row(c, err);
        }
        if (b == '"')
            return fail(c, err, "quote inside an unquoted field");
        return put_byte(c, b, err);
    case ST_QUOTED:
        if (b == '"') {
            c->st = ST_QUOTE_SEEN;
            return FE_OK;
        }
        return put_byte(c, b, err);
    case ST_QUOTE_SEEN:
        if (b == '"') {
            c->st = ST_QUOTED;
            return put_byte(c, '"', err);
        }
        if (b == ',') {
            c->st = ST_FIELD_START;
            return end_field(c, err);
        }
        if (b == '\r' || b == '\n') {
            c->st = b == '\r' ? ST_CR : ST_FIELD_START;
            return end_row(c, err);
        }
        return fail(c, err, "text after a closing quote");
    }
    return FE_OK;
}

fe_rc goflow_csv_feed(goflow_csv *c, const char *data, size_t len, fe_err *err)
{
    if (c->failed != FE_OK) {
        *err = c->failure;
        return c->failed;
    }
    for (size_t i = 0; i < len; i++) {
        fe_rc rc = step(c, data[i], err);
        if (rc != FE_OK)
            return rc;
    }
    return FE_OK;
}

fe_rc goflow_csv_finish(goflow_csv *c, fe_err *err)
{
    if (c->failed != FE_OK) {
        *err = c->failure;
        return c->failed;
    }
    if (c->st == ST_QUOTED)
        return fail(c, err, "end of file inside quotes");
    if (c->st == ST_UNQUOTED || c->st == ST_QUOTE_SEEN) {
        c->st = ST_FIELD_START;
        return end_row(c, err);
    }
    if (c->st == ST_FIELD_START && c->row_open) { /* "a,b," at the very end */
        begin_field(c);
        return end_row(c, err);
    }
    return FE_OK;
}
