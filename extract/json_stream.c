#include "json_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "../core/buf.h"

/* Deeper documents are refused: each level costs a frame, and no API nests this far. */
#define JS_MAX_DEPTH 1024

/* One step of a record path: a map key or "any array element". */
typedef struct {
    bool is_index;
    char *key;
    size_t keylen;
} js_seg;

typedef struct {
    js_seg *segs;
    int nseg;         /* the record sits at a value with exactly these enclosing steps */
    int nclaim;       /* steps of the subtree the "." record must skip ("data" for "data[]") */
    json_shape shape; /* what stood at those nclaim steps (json_stream_shape) */
} js_path;

/* One open container of the document. */
typedef struct {
    bool is_array;
    bool empty;     /* no key or element seen yet */
    long index;     /* arrays: index of the current element */
    size_t abs_len; /* length of js->abs at this container's own position */
    size_t key_off; /* maps: the current key inside js->abs */
    size_t key_len;
} js_frame;

/* A field as stored while collecting: offsets, because the arena may move. */
typedef struct {
    size_t path_off, path_len, val_off, val_len;
    json_type type;
} js_slot;

/* Fields of one record being collected, all text in one reused arena. */
typedef struct {
    buf arena;
    js_slot *slots;
    size_t n, cap;
    json_field *fields; /* filled from slots when the record is handed over */
    size_t fields_cap;
    size_t rel_off; /* the record's fields' paths start at js->abs + rel_off */
} js_collector;

struct json_rec {
    const json_field *fields;
    const js_slot *slots;
    size_t n;
};

struct json_stream {
    yajl_handle h;
    bool allow_multiple;
    size_t max_record_bytes;
    json_rec_fn fn;
    void *ctx;

    js_path *paths;
    int npaths;
    int root_which; /* index of "." in paths, or -1 */

    js_frame *frames;
    size_t depth, frames_cap;
    buf abs; /* absolute path of the current value, steps joined by '.' */

    int item_which;    /* record path being collected now, or -1 */
    size_t item_depth; /* depth at which that record's value started */
    js_collector item;

    bool root_active;     /* collecting the "." record of the current root value */
    size_t claimed_depth; /* != 0: inside a subtree the "." record skips */
    js_collector root;

    size_t fed; /* bytes fed since the last reset */
    fe_rc rc;   /* sticky failure of a callback (record too big, caller stop) */
    fe_err err;
};

/* ---- record access ---- */

size_t json_rec_count(const json_rec *r)
{
    return r->n;
}

const json_field *json_rec_at(const json_rec *r, size_t i)
{
    return i < r->n ? &r->fields[i] : NULL;
}

const json_field *json_rec_get(const json_rec *r, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < r->n; i++) {
        if (r->slots[i].path_len == len && memcmp(r->fields[i].path, path, len) == 0)
            return &r->fields[i];
    }
    return NULL;
}

const char *json_rec_str(const json_rec *r, const char *path)
{
    const json_field *f = json_rec_get(r, path);
    if (!f || (f->type != JV_STRING && f->type != JV_NUMBER && f->type != JV_BOOL))
        return NULL;
    return f->value;
}

static const char *dump_value(const json_field *f)
{
    switch (f->type) {
    case JV_NULL:
        return "null";
    case JV_EMPTY_OBJECT:
        return "{}";
    case JV_EMPTY_ARRAY:
        return "[]";
    default:
        return f->value;
    }
}

size_t json_rec_dump(const json_rec *r, char *dst, size_t max)
{
    if (max == 0)
        return 0;
    size_t out = 0;
    for (size_t i = 0; i < r->n && out < max - 1; i++) {
        const json_field *f = &r->fields[i];
        const char *parts[4] = {i ? "\n" : "", f->path, "=", dump_value(f)};
        for (int k = 0; k < 4 && out < max - 1; k++) {
            size_t l = strlen(parts[k]);
            if (l > max - 1 - out)
                l = max - 1 - out;
            memcpy(dst + out, parts[k], l);
            out += l;
        }
    }
    out = buf_utf8_floor(dst, out);
    dst[out] = '\0';
    return out;
}

/* ---- collectors ---- */

static void coll_init(js_collector *c, size_t max)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->arena, max);
}

static void coll_term(js_collector *c)
{
    buf_term(&c->arena);
    free(c->slots);
    free(c->fields);
}

static void coll_clear(js_collector *c)
{
    buf_reset(&c->arena);
    c->n = 0;
}

/* Stops the parse from inside a yajl callback: the code is kept until reset. */
static int js_fail(json_stream *js, fe_rc code, const char *what)
{
    js->rc = fe_err_set(&js->err, code, "%s", what);
    return 0;
}

static int js_too_big(json_stream *js)
{
    js->rc = fe_err_set(&js->err, FE_EJSON, "record larger than %zu bytes", js->max_record_bytes);
    return 0;
}

/* Appends the field at the current position (js->abs) to c. Returns 1, or 0
 * with js->rc set. */
static int coll_add(json_stream *js, js_collector *c, json_type type, const char *val, size_t vlen)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        js_slot *s = realloc(c->slots, cap * sizeof *s);
        if (!s)
            return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
        c->slots = s;
        c->cap = cap;
    }
    const char *path = js->abs.data ? js->abs.data + c->rel_off : "";
    size_t plen = js->abs.len > c->rel_off ? js->abs.len - c->rel_off : 0;
    size_t need = plen + vlen + 2;
    if (c->arena.max && (need > c->arena.max || c->arena.len > c->arena.max - need))
        return js_too_big(js);
    js_slot *s = &c->slots[c->n];
    s->type = type;
    s->path_off = c->arena.len;
    s->path_len = plen;
    if (!buf_append(&c->arena, path, plen) || !buf_putc(&c->arena, '\0'))
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    s->val_off = c->arena.len;
    s->val_len = vlen;
    if (!buf_append(&c->arena, val, vlen) || !buf_putc(&c->arena, '\0'))
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    c->n++;
    return 1;
}

/* Hands the collected record to the caller, then empties the collector. */
static int coll_emit(json_stream *js, js_collector *c, int which)
{
    if (c->n > c->fields_cap) {
        json_field *f = realloc(c->fields, c->cap * sizeof *f);
        if (!f)
            return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
        c->fields = f;
        c->fields_cap = c->cap;
    }
    for (size_t i = 0; i < c->n; i++) {
        const js_slot *s = &c->slots[i];
        c->fields[i] = (json_field){.path = c->arena.data + s->path_off,
                                    .value = c->arena.data + s->val_off,
                                    .len = s->val_len,
                                    .type = s->type};
    }
    json_rec rec = {c->fields, c->slots, c->n};
    fe_err_clear(&js->err);
    fe_rc rc = js->fn(js->ctx, which, &rec, &js->err);
    coll_clear(c);
    if (rc != FE_OK) {
        js->rc = rc;
        if (!js->err.msg[0])
            fe_err_set(&js->err, rc, "record callback stopped parsing");
        js->err.code = rc;
        return 0;
    }
    return 1;
}

/* ---- positions and record paths ---- */

/* Does the value about to start (enclosed by the open frames) sit at the first
 * n steps of p? */
static bool at_steps(const json_stream *js, const js_path *p, int n)
{
    if ((size_t)n != js->depth)
        return false;
    for (int i = 0; i < n; i++) {
        const js_frame *f = &js->frames[i];
        const js_seg *s = &p->segs[i];
        if (f->is_array != s->is_index)
            return false;
        if (!s->is_index &&
            (f->key_len != s->keylen || memcmp(js->abs.data + f->key_off, s->key, s->keylen) != 0))
            return false;
    }
    return true;
}

static bool abs_step(json_stream *js, const char *text, size_t len)
{
    js_frame *top = &js->frames[js->depth - 1];
    js->abs.len = top->abs_len;
    if (js->depth > 1 && !buf_putc(&js->abs, '.'))
        return false;
    return buf_append(&js->abs, text, len);
}

/* Called at the start of every value (shape: what it is): moves the path to it,
 * notes it when it stands where a record path's records sit, starts a record when
 * the value sits at a record path, and tells whether the "." record must skip the
 * value. Returns 1, or 0 with js->rc set. */
static int begin_value(json_stream *js, json_shape shape, bool *root_skip)
{
    bool container = shape != JSON_AS_SCALAR;
    *root_skip = false;
    if (js->depth > 0) {
        js_frame *top = &js->frames[js->depth - 1];
        if (top->is_array) {
            char digits[24];
            size_t n = sizeof digits;
            unsigned long v = (unsigned long)++top->index;
            do {
                digits[--n] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            top->empty = false;
            if (!abs_step(js, digits + n, sizeof digits - n))
                return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
        }
    } else {
        if (js->root_which >= 0)
            js->paths[js->root_which].shape = shape;
        js->root_active = js->root_which >= 0;
        js->root.rel_off = 0;
        js->claimed_depth = 0;
    }
    if (js->item_which >= 0)
        return 1;
    for (int i = 0; i < js->npaths; i++) {
        js_path *p = &js->paths[i];
        if (p->nseg == 0) /* "." */
            continue;
        if (at_steps(js, p, p->nclaim))
            p->shape = shape;
        if (at_steps(js, p, p->nseg)) {
            js->item_which = i;
            js->item_depth = js->depth;
            js->item.rel_off = js->depth ? js->abs.len + 1 : 0;
        }
        if (js->root_active && !js->claimed_depth && at_steps(js, p, p->nclaim)) {
            *root_skip = true;
            if (container)
                js->claimed_depth = js->depth + 1;
        }
    }
    return 1;
}

/* After a value is complete at the current depth: closes the root value. */
static int end_root_value(json_stream *js)
{
    if (js->depth != 0)
        return 1;
    js->claimed_depth = 0;
    if (!js->root_active)
        return 1;
    js->root_active = false;
    return coll_emit(js, &js->root, js->root_which);
}

/* The collector that owns the value at the current position, or NULL. */
static js_collector *owner(json_stream *js, bool root_skip)
{
    if (js->item_which >= 0)
        return &js->item;
    if (js->root_active && !js->claimed_depth && !root_skip)
        return &js->root;
    return NULL;
}

static int on_scalar(json_stream *js, json_type type, const char *val, size_t len)
{
    bool skip;
    if (!begin_value(js, JSON_AS_SCALAR, &skip))
        return 0;
    js_collector *c = owner(js, skip);
    if (c && !coll_add(js, c, type, val, len))
        return 0;
    if (js->item_which >= 0 && js->item_depth == js->depth) {
        int which = js->item_which;
        js->item_which = -1;
        if (!coll_emit(js, &js->item, which))
            return 0;
    }
    return end_root_value(js);
}

static int on_start(json_stream *js, bool is_array)
{
    bool skip;
    if (!begin_value(js, is_array ? JSON_AS_ARRAY : JSON_AS_OBJECT, &skip))
        return 0;
    if (js->depth == JS_MAX_DEPTH)
        return js_fail(js, FE_EJSON, "JSON nested deeper than 1024 levels");
    if (js->depth == js->frames_cap) {
        size_t cap = js->frames_cap ? js->frames_cap * 2 : 16;
        js_frame *f = realloc(js->frames, cap * sizeof *f);
        if (!f)
            return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
        js->frames = f;
        js->frames_cap = cap;
    }
    js->frames[js->depth++] =
        (js_frame){.is_array = is_array, .empty = true, .index = -1, .abs_len = js->abs.len};
    return 1;
}

static int on_end(json_stream *js)
{
    size_t k = js->depth - 1; /* the closing container's frame */
    js_frame f = js->frames[k];
    js->abs.len = f.abs_len;
    if (js->abs.data)
        js->abs.data[js->abs.len] = '\0';
    bool item_root = js->item_which >= 0 && k == js->item_depth;
    if (f.empty && !item_root && k > 0) {
        js_collector *c = owner(js, false);
        json_type t = f.is_array ? JV_EMPTY_ARRAY : JV_EMPTY_OBJECT;
        if (c && !coll_add(js, c, t, "", 0))
            return 0;
    }
    js->depth = k;
    if (js->claimed_depth && js->depth < js->claimed_depth)
        js->claimed_depth = 0;
    if (item_root) {
        int which = js->item_which;
        js->item_which = -1;
        if (!coll_emit(js, &js->item, which))
            return 0;
    }
    return end_root_value(js);
}

/* ---- yajl callbacks ---- */

static int cb_null(void *ctx)
{
    return on_scalar(ctx, JV_NULL, "", 0);
}

static int cb_boolean(void *ctx, int v)
{
    return on_scalar(ctx, JV_BOOL, v ? "true" : "false", v ? 4 : 5);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return on_scalar(ctx, JV_NUMBER, s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return on_scalar(ctx, JV_STRING, (const char *)s, len);
}

static int cb_start_map(void *ctx)
{
    return on_start(ctx, false);
}

static int cb_start_array(void *ctx)
{
    return on_start(ctx, true);
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
    json_stream *js = ctx;
    js_frame *top = &js->frames[js->depth - 1];
    top->empty = false;
    if (!abs_step(js, (const char *)key, len))
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    top->key_off = js->abs.len - len;
    top->key_len = len;
    return 1;
}

static int cb_end(void *ctx)
{
    return on_end(ctx);
}

static const yajl_callbacks JS_CALLBACKS = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

/* ---- record path parsing ---- */

static void path_term(js_path *p)
{
    for (int i = 0; i < p->nseg; i++)
        free(p->segs[i].key);
    free(p->segs);
}

/* Parses "a.b[]" into steps: key a, key b, any element. "[]" alone is a root
 * array element. Returns false on a malformed path or allocation failure. */
static bool path_parse(const char *text, js_path *p)
{
    memset(p, 0, sizeof *p);
    size_t len = strlen(text);
    p->segs = calloc(len + 1, sizeof *p->segs); /* never more steps than bytes */
    if (!p->segs)
        return false;
    const char *s = text;
    while (*s) {
        size_t tok = strcspn(s, ".[");
        if (tok) {
            p->segs[p->nseg].key = strndup(s, tok);
            if (!p->segs[p->nseg].key)
                return false;
            p->segs[p->nseg++].keylen = tok;
            s += tok;
        }
        while (s[0] == '[' && s[1] == ']') {
            p->segs[p->nseg++].is_index = true;
            s += 2;
        }
        if (*s == '.' && s[1] && s[1] != '.' && p->nseg > 0)
            s++;
        else if (*s)
            return false;
    }
    if (p->nseg == 0)
        return false;
    p->nclaim = p->segs[p->nseg - 1].is_index ? p->nseg - 1 : p->nseg;
    return true;
}

/* ---- the stream ---- */

static bool js_open_parser(json_stream *js)
{
    js->h = yajl_alloc(&JS_CALLBACKS, NULL, js);
    if (!js->h)
        return false;
    if (js->allow_multiple)
        yajl_config(js->h, yajl_allow_multiple_values, 1);
    /* Invalid UTF-8 inside one string must reject that record (etl.reject), not
     * fail the whole page, so the mappings validate text with utf8_valid. */
    yajl_config(js->h, yajl_dont_validate_strings, 1);
    return true;
}

json_stream *json_stream_new(const char *const *paths, int npaths, bool allow_multiple,
                             size_t max_record_bytes, json_rec_fn fn, void *ctx)
{
    json_stream *js = calloc(1, sizeof *js);
    if (!js)
        return NULL;
    js->allow_multiple = allow_multiple;
    js->max_record_bytes = max_record_bytes;
    js->fn = fn;
    js->ctx = ctx;
    js->root_which = -1;
    js->item_which = -1;
    buf_init(&js->abs, 0); /* bounded by the depth limit and yajl's own key buffer */
    coll_init(&js->item, max_record_bytes);
    coll_init(&js->root, max_record_bytes);
    js->paths = calloc(npaths > 0 ? (size_t)npaths : 1, sizeof *js->paths);
    if (!js->paths)
        goto fail;
    for (int i = 0; i < npaths; i++) {
        js->npaths = i + 1;
        if (strcmp(paths[i], ".") == 0) {
            js->root_which = i;
            continue;
        }
        if (!path_parse(paths[i], &js->paths[i]))
            goto fail;
    }
    if (!js_open_parser(js))
        goto fail;
    return js;
fail:
    json_stream_free(js);
    return NULL;
}

void json_stream_free(json_stream *js)
{
    if (!js)
        return;
    if (js->h)
        yajl_free(js->h);
    for (int i = 0; i < js->npaths; i++)
        path_term(&js->paths[i]);
    free(js->paths);
    free(js->frames);
    buf_term(&js->abs);
    coll_term(&js->item);
    coll_term(&js->root);
    free(js);
}

/* Turns a yajl failure into "invalid JSON at byte N: message". */
static fe_rc js_syntax_error(json_stream *js, const unsigned char *data, size_t len, fe_err *err)
{
    size_t at = js->fed + (data ? yajl_get_bytes_consumed(js->h) : 0);
    unsigned char *msg = yajl_get_error(js->h, 0, data, len);
    const char *text = msg ? (const char *)msg : "parse error";
    size_t tl = strlen(text);
    while (tl > 0 && (text[tl - 1] == '\n' || text[tl - 1] == ' '))
        tl--;
    js->rc = fe_err_set(&js->err, FE_EJSON, "invalid JSON at byte %zu: %.*s", at, (int)tl, text);
    if (msg)
        yajl_free_error(js->h, msg);
    if (err)
        *err = js->err;
    return js->rc;
}

static fe_rc js_sticky(json_stream *js, fe_err *err)
{
    if (err)
        *err = js->err;
    return js->rc;
}

fe_rc json_stream_feed(json_stream *js, const void *data, size_t len, fe_err *err)
{
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    yajl_status st = yajl_parse(js->h, data, len);
    if (st == yajl_status_client_canceled)
        return js_sticky(js, err);
    if (st != yajl_status_ok)
        return js_syntax_error(js, data, len, err);
    js->fed += len;
    return FE_OK;
}

fe_rc json_stream_finish(json_stream *js, fe_err *err)
{
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    yajl_status st = yajl_complete_parse(js->h);
    if (st == yajl_status_client_canceled)
        return js_sticky(js, err);
    if (st != yajl_status_ok)
        return js_syntax_error(js, NULL, 0, err);
    return FE_OK;
}

void json_stream_reset(json_stream *js)
{
    if (js->h)
        yajl_free(js->h);
    js->h = NULL;
    js->depth = 0;
    buf_reset(&js->abs);
    js->item_which = -1;
    js->root_active = false;
    js->claimed_depth = 0;
    coll_clear(&js->item);
    coll_clear(&js->root);
    for (int i = 0; i < js->npaths; i++)
        js->paths[i].shape = JSON_ABSENT;
    js->fed = 0;
    js->rc = FE_OK;
    fe_err_clear(&js->err);
    js_open_parser(js); /* on failure h stays NULL and the next feed says so */
}

size_t json_stream_bytes(const json_stream *js)
{
    return js->fed;
}

json_shape json_stream_shape(const json_stream *js, int which)
{
    return which >= 0 && which < js->npaths ? js->paths[which].shape : JSON_ABSENT;
}
