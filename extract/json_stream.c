/* json_stream: yajl push parser that hands over one record at a time
 * (extract/json_stream.h is the contract). This file holds the parser's state:
 * the yajl callbacks follow the document's position, match it against the record
 * paths and collect the fields of the record under way. The byte scanner that
 * feeds yajl whole tokens is json_stream_scan.c; a delivered record's accessors are
 * json_rec.c; json_stream_internal.h is what they share. */
#include "extract/json_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/buf.h"
#include "extract/json_stream_internal.h"

/* Deeper documents are refused: each level costs a frame, and no API nests this far. */
#define JS_MAX_DEPTH 1024

/* ---- collectors ---- */

static void coll_init(js_collector *c, size_t max)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->arena, max);
}

static void coll_term(js_collector *c)
{
    free(c->index.pos);
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
    js_slot *slots = buf_array_room(c->slots, &c->cap, c->n, sizeof *slots, 32);
    if (!slots)
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    c->slots = slots;
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
    c->index.built = false;
    c->index.scans = 0;
    json_rec rec = {c->fields, c->slots, c->n, &c->index};
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

/* Moves the current path to the step text of the innermost container. Returns 1,
 * or 0 with js->rc set (no memory, or a path longer than the record cap: no record
 * could hold its field). */
static inline int abs_step(json_stream *js, const char *text, size_t len)
{
    js_frame *top = &js->frames[js->depth - 1];
    js->abs.len = top->abs_len;
    if (js->max_record_bytes && len + 1 > js->max_record_bytes - js->abs.len) {
        js->rc = fe_err_set(&js->err, FE_EJSON, "field path longer than %zu bytes",
                            js->max_record_bytes);
        return 0;
    }
    if ((js->depth > 1 && !buf_putc(&js->abs, '.')) || !buf_append(&js->abs, text, len))
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    return 1;
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
                return 0;
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
    js_frame *frames = buf_array_room(js->frames, &js->frames_cap, js->depth, sizeof *frames, 16);
    if (!frames)
        return js_fail(js, FE_ENOMEM, "out of memory parsing JSON");
    js->frames = frames;
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
        return 0;
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
    buf_init(&js->abs, 0); /* bounded by max_record_bytes (abs_step) */
    /* A token, and a number held before it (continue_token): each within the cap. */
    buf_init(&js->hold, max_record_bytes ? 2 * max_record_bytes + 2 : 0);
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
    buf_term(&js->hold);
    coll_term(&js->item);
    coll_term(&js->root);
    free(js);
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
    js->tok = TOK_NONE;
    js->tok_escape = false;
    js->tok_from = 0;
    buf_reset(&js->hold);
    js->fed = js->parsed = 0;
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
