#include "extract/json_stream.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "core/buf.h"

/* Deeper documents are refused: each level costs a frame, and no API nests this far. */
#define JS_MAX_DEPTH 1024
/* A token buffer that grew beyond this is freed once its token is parsed. */
#define JS_HOLD_KEEP ((size_t)1 << 20)

/* Where the byte scanner of json_stream_feed is: between tokens, or inside a token
 * that began in an earlier feed (held back from yajl until it is complete). */
typedef enum {
    TOK_NONE,
    TOK_STRING, /* a string or a key, from its opening quote */
    TOK_BARE    /* a number or a literal (true, false, null) */
} js_tok;

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

/* A hash index of a record's field paths, built once a record with many fields
 * has been looked up a few times: a mapping looks up each field it needs by path,
 * so a record of n fields would otherwise cost n scans of n fields (a Goflow order
 * with 20,000 lines, 1.5 MB, took a minute to map). Most records are looked up
 * only for their type and id, and for them the scans are cheaper than hashing
 * every path. */
typedef struct {
    uint32_t *pos;  /* field index + 1 of the first field with a path; 0 = free */
    size_t cap;     /* allocated slots of pos (the largest build so far) */
    size_t mask;    /* this build's slots - 1: a power of two, at least twice the fields */
    unsigned scans; /* lookups of this record answered by a scan */
    bool built;
} js_index;

/* Records with at most this many fields are scanned, not indexed. */
#define JS_INDEX_MIN 16
/* Lookups of one record answered by a scan before its index is built: at most
 * this many scans of n fields, then one build, so a record's lookups stay linear
 * in its size. A scan costs a few instructions per field, hashing a path for the
 * index a hundred or so: below about 40 lookups scanning is cheaper (a Posiflora
 * order record takes about 30, most records one to ten). */
#define JS_INDEX_AFTER_SCANS 48

/* Fields of one record being collected, all text in one reused arena. */
typedef struct {
    js_index index;
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
    js_index *index; /* the collector's, filled on demand */
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

    /* yajl re-reads an incomplete token from its start on every yajl_parse call,
     * which makes one long token cost quadratic time, and keeps it in a buffer
     * of its own without limit. So feed scans the bytes itself: a token still
     * open at the end of a feed is held here (capped by max_record_bytes) and
     * yajl gets it whole, in one call, once its last byte has arrived. */
    js_tok tok;
    bool tok_escape;  /* TOK_STRING: the last byte held is a backslash */
    buf hold;         /* the open token's bytes (after a number it ended, see
                         continue_token) */
    size_t tok_from;  /* where the open token starts in hold */
    size_t tok_start; /* document offset of its first byte */

    size_t fed;    /* bytes fed since the last reset */
    size_t parsed; /* bytes given to yajl since the last reset */
    fe_rc rc;      /* sticky failure (syntax, a token or record too big, caller stop) */
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

static uint64_t path_hash(const char *p, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * UINT64_C(1099511628211);
    return h;
}

static bool path_is(const json_rec *r, size_t i, const char *path, size_t len)
{
    return r->slots[i].path_len == len && memcmp(r->fields[i].path, path, len) == 0;
}

/* Builds the index of r (linear in its paths' bytes). False when out of memory:
 * lookups then scan. */
static bool index_build(const json_rec *r)
{
    js_index *x = r->index;
    size_t cap = 64;
    while (cap < 2 * r->n)
        cap *= 2;
    if (cap > x->cap) {
        uint32_t *pos = realloc(x->pos, cap * sizeof *pos);
        if (!pos)
            return false;
        x->pos = pos;
        x->cap = cap;
    }
    /* Only this record's slots: one huge record must not make every later
     * build clear its table. */
    x->mask = cap - 1;
    memset(x->pos, 0, cap * sizeof *x->pos);
    for (size_t i = 0; i < r->n; i++) {
        size_t len = r->slots[i].path_len, k = path_hash(r->fields[i].path, len) & x->mask;
        while (x->pos[k] && !path_is(r, x->pos[k] - 1, r->fields[i].path, len))
            k = (k + 1) & x->mask;
        if (!x->pos[k]) /* the first of equal paths wins, as a scan finds it */
            x->pos[k] = (uint32_t)(i + 1);
    }
    x->built = true;
    return true;
}

const json_field *json_rec_get(const json_rec *r, const char *path)
{
    size_t len = strlen(path);
    js_index *x = r->index;
    if (r->n > JS_INDEX_MIN && r->n < UINT32_MAX && x &&
        (x->built || (x->scans >= JS_INDEX_AFTER_SCANS && index_build(r)))) {
        for (size_t k = path_hash(path, len) & x->mask; x->pos[k]; k = (k + 1) & x->mask)
            if (path_is(r, x->pos[k] - 1, path, len))
                return &r->fields[x->pos[k] - 1];
        return NULL;
    }
    if (x)
        x->scans++;
    for (size_t i = 0; i < r->n; i++)
        if (path_is(r, i, path, len))
            return &r->fields[i];
    return NULL;
}

const char *json_rec_str(const json_rec *r, const char *path)
{
    const json_field *f = json_rec_get(r, path);
    if (!f || (f->type != JV_STRING && f->type != JV_NUMBER && f->type != JV_BOOL))
        return NULL;
    if (f->type == JV_STRING && memchr(f->value, '\0', f->len))
        return NULL; /* never a value cut at its NUL */
    return f->value;
}

bool json_parse_count(const char *text, int64_t *out)
{
    char *end;
    if (!text || *text < '0' || *text > '9')
        return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* The text a field is dumped as, and its length. */
static const char *dump_value(const json_field *f, size_t *len)
{
    switch (f->type) {
    case JV_NULL:
        *len = 4;
        return "null";
    case JV_EMPTY_OBJECT:
        *len = 2;
        return "{}";
    case JV_EMPTY_ARRAY:
        *len = 2;
        return "[]";
    default:
        *len = f->len;
        return f->value;
    }
}

/* Copies src[0..len) to dst at *out while room (max - 1) remains, a NUL byte spelled
 * \u0000 as in JSON (etl.reject.raw is text, which cannot hold one). */
static void dump_put(char *dst, size_t *out, size_t max, const char *src, size_t len)
{
    if (len <= max - 1 - *out && !memchr(src, '\0', len)) { /* the usual case */
        memcpy(dst + *out, src, len);
        *out += len;
        return;
    }
    for (size_t i = 0; i < len && *out < max - 1; i++) {
        if (src[i] != '\0') {
            const char *nul = memchr(src + i, '\0', len - i);
            size_t run = (nul ? (size_t)(nul - src) : len) - i;
            if (run > max - 1 - *out)
                run = max - 1 - *out;
            memcpy(dst + *out, src + i, run);
            *out += run;
            i += run - 1;
        } else if (max - 1 - *out >= 6) {
            memcpy(dst + *out, "\\u0000", 6);
            *out += 6;
        } else {
            break;
        }
    }
}

size_t json_rec_dump(const json_rec *r, char *dst, size_t max)
{
    if (max == 0)
        return 0;
    size_t out = 0;
    if (r->n == 0) /* an empty object or array: say so, a reject keeps some text */
        dump_put(dst, &out, max, "{}", 2);
    for (size_t i = 0; i < r->n && out < max - 1; i++) {
        const json_field *f = &r->fields[i];
        size_t vlen;
        const char *v = dump_value(f, &vlen);
        if (i && out < max - 1)
            dst[out++] = '\n';
        dump_put(dst, &out, max, f->path, r->slots[i].path_len);
        if (out < max - 1)
            dst[out++] = '=';
        dump_put(dst, &out, max, v, vlen);
    }
    out = buf_utf8_floor(dst, out);
    dst[out] = '\0';
    return out;
}

char *json_rec_dump_dup(const json_rec *r, size_t *len)
{
    /* An upper bound of the dump: "{}", and per field its path, '\n', '=' and the
     * value, each byte of it at most 6 (a NUL spelled \u0000), at least "null". */
    size_t max = 3;
    for (size_t i = 0; i < r->n; i++)
        max += r->slots[i].path_len + 2 + (r->fields[i].len < 1 ? 1 : r->fields[i].len) * 6 + 4;
    char *dst = malloc(max);
    if (!dst)
        return NULL;
    size_t n = json_rec_dump(r, dst, max);
    if (len)
        *len = n;
    return dst;
}

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

/* Turns a yajl failure into "invalid JSON at byte N: message"; data[0..len) is what
 * the failing yajl_parse call was given (NULL for yajl_complete_parse). */
static fe_rc js_syntax_error(json_stream *js, const unsigned char *data, size_t len, fe_err *err)
{
    size_t at = js->parsed + (data ? yajl_get_bytes_consumed(js->h) : 0);
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

/* Gives yajl data[0..len), whole tokens (feed_tokens and continue_token see to it:
 * yajl would re-read a token it got in part from its start on every later call). */
static fe_rc js_parse(json_stream *js, const char *data, size_t len, fe_err *err)
{
    if (len == 0)
        return FE_OK;
    yajl_status st = yajl_parse(js->h, (const unsigned char *)data, len);
    if (st == yajl_status_client_canceled)
        return js_sticky(js, err);
    if (st != yajl_status_ok)
        return js_syntax_error(js, (const unsigned char *)data, len, err);
    js->parsed += len;
    return FE_OK;
}

/* Refuses the document: the token starting at document offset start passed the cap. */
static fe_rc js_token_too_long(json_stream *js, js_tok tok, size_t start, fe_err *err)
{
    js->rc = fe_err_set(&js->err, FE_EJSON, "%s longer than %zu bytes at byte %zu",
                        tok == TOK_STRING ? "string" : "number", js->max_record_bytes, start);
    return js_sticky(js, err);
}

/* Bytes of a number or a literal (and of some invalid tokens, which yajl refuses). */
static bool is_bare(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
}

/* Looks for the closing quote of a string in p[i..len), its opening quote already
 * read; *escape: the byte before p[i] was an escaping backslash (updated for the
 * next feed when the string goes on). True with *end just past the closing quote,
 * or false (*end = len) when the string does not end here. A quote closes the
 * string unless an odd run of backslashes precedes it (each pair is one escaped
 * backslash), so only quotes are searched (memchr): linear, whatever the input. */
static inline bool string_end(const char *p, size_t i, size_t len, bool *escape, size_t *end)
{
    size_t from; /* backslash runs are counted back to here at most */
    *end = len;
    if (*escape) {
        if (i >= len)
            return false;
        i++; /* the escaped byte */
        *escape = false;
    }
    from = i;
    while (i < len) {
        const char *quote = memchr(p + i, '"', len - i);
        size_t at = quote ? (size_t)(quote - p) : len, k = at;
        while (k > from && p[k - 1] == '\\')
            k--;
        if (!quote) {
            *escape = (at - k) % 2 == 1; /* the chunk ends inside an escape */
            return false;
        }
        if ((at - k) % 2 == 0) {
            *end = at + 1;
            return true;
        }
        i = at + 1; /* an escaped quote */
    }
    return false;
}

/* End of a number or literal in p[i..len): the first byte that cannot belong to it,
 * or len. */
static size_t bare_end(const char *p, size_t i, size_t len)
{
    while (i < len && is_bare(p[i]))
        i++;
    return i;
}

/* The start of the first number or literal in p[from..to) longer than the cap, or
 * to. Regions between strings are short: only one longer than the cap is read. */
static size_t long_bare_run(const json_stream *js, const char *p, size_t from, size_t to)
{
    size_t cap = js->max_record_bytes;
    for (size_t i = from; i < to;) {
        if (!is_bare(p[i])) {
            i++;
            continue;
        }
        size_t end = bare_end(p, i, to);
        if (end - i > cap)
            return i;
        i = end;
    }
    return to;
}

/* Gives yajl p[0..at) and refuses the number starting at p[at]. */
static fe_rc refuse_bare_run(json_stream *js, const char *p, size_t at, fe_err *err)
{
    FE_TRY(js_parse(js, p, at, err));
    return js_token_too_long(js, TOK_BARE, js->fed + at, err);
}

/* Adds p[0..n) to the held token; refuses it once it passes the cap. */
static fe_rc hold_add(json_stream *js, const char *p, size_t n, fe_err *err)
{
    size_t open = js->hold.len - js->tok_from; /* bytes of the open token held */
    if (js->max_record_bytes && n > js->max_record_bytes - open) {
        /* yajl sees what comes before the token first, as when fed at once. */
        FE_TRY(js_parse(js, js->hold.data, js->tok_from, err));
        return js_token_too_long(js, js->tok, js->tok_start, err);
    }
    if (!buf_append(&js->hold, p, n)) {
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    return FE_OK;
}

/* Hands the completed held token to yajl in one call, then forgets it. */
static fe_rc hold_flush(json_stream *js, fe_err *err)
{
    fe_rc rc = js_parse(js, js->hold.data, js->hold.len, err);
    js->tok = TOK_NONE;
    js->tok_from = 0;
    if (js->hold.cap > JS_HOLD_KEEP) {
        size_t max = js->hold.max;
        buf_term(&js->hold);
        buf_init(&js->hold, max);
    }
    buf_reset(&js->hold);
    return rc;
}

/* Continues the held token with p[0..len); *used: how many bytes it took (all of
 * them while it goes on). */
static fe_rc continue_token(json_stream *js, const char *p, size_t len, size_t *used, fe_err *err)
{
    size_t end;
    if (js->tok == TOK_STRING) {
        bool done = string_end(p, 0, len, &js->tok_escape, &end);
        *used = end;
        FE_TRY(hold_add(js, p, end, err));
        return done ? hold_flush(js, err) : FE_OK;
    }
    end = bare_end(p, 0, len);
    *used = end;
    FE_TRY(hold_add(js, p, end, err));
    if (end == len)
        return FE_OK;
    /* The number ends here. yajl gets it with the byte after it, so that it need
     * not keep the number in a buffer of its own across calls, which would move
     * where it reports an error (invalid JSON) with the cuts between feeds. That
     * byte is a one-byte token, or the quote of a string (invalid there, but the
     * string is then held with the number and given whole). */
    size_t next = end + 1;
    if (!buf_append(&js->hold, p + end, 1)) {
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    *used = next;
    if (p[end] != '"')
        return hold_flush(js, err);
    js->tok = TOK_STRING;
    js->tok_escape = false;
    js->tok_from = js->hold.len - 1;
    js->tok_start = js->fed + end;
    size_t rest;
    bool done = string_end(p, next, len, &js->tok_escape, &rest);
    *used = rest;
    FE_TRY(hold_add(js, p + next, rest - next, err));
    return done ? hold_flush(js, err) : FE_OK;
}

/* Reads one chunk from p[0..len), no token open: every complete token goes to
 * yajl straight from p; a token still open at the end is held. Tokens are
 * measured against the cap as they are found, so the outcome does not depend on
 * where the feeds cut the document. */
static fe_rc feed_tokens(json_stream *js, const char *p, size_t len, fe_err *err)
{
    const size_t cap = js->max_record_bytes;
    size_t i = 0, tail = len; /* p[tail..len) is the open token, if any */
    while (i < len) {
        const char *quote = memchr(p + i, '"', len - i);
        if (!quote) {
            size_t t = len;
            while (t > i && is_bare(p[t - 1]))
                t--;
            size_t run = cap && t - i > cap ? long_bare_run(js, p, i, t) : t;
            if (run < t)
                return refuse_bare_run(js, p, run, err);
            if (t < len) {
                js->tok = TOK_BARE;
                tail = t;
            }
            break;
        }
        size_t q = (size_t)(quote - p);
        size_t run = cap && q - i > cap ? long_bare_run(js, p, i, q) : q;
        if (run < q)
            return refuse_bare_run(js, p, run, err);
        bool escape = false;
        size_t end;
        bool closed = string_end(p, q + 1, len, &escape, &end);
        if (cap && end - q > cap) {
            FE_TRY(js_parse(js, p, q, err));
            return js_token_too_long(js, TOK_STRING, js->fed + q, err);
        }
        if (!closed) {
            js->tok = TOK_STRING;
            js->tok_escape = escape;
            tail = q;
            break;
        }
        i = end;
    }
    /* A number right before the open string (invalid JSON) is held with it: cut
     * from its end, yajl would keep it across calls (see continue_token). */
    size_t from = tail;
    while (js->tok == TOK_STRING && from > i && is_bare(p[from - 1]))
        from--;
    FE_TRY(js_parse(js, p, from, err));
    if (js->tok == TOK_NONE)
        return FE_OK;
    js->tok_start = js->fed + tail;
    if (!buf_append(&js->hold, p + from, tail - from)) { /* shorter than the cap */
        js->rc = fe_err_set(&js->err, FE_ENOMEM, "out of memory parsing JSON");
        return js_sticky(js, err);
    }
    js->tok_from = js->hold.len;
    return hold_add(js, p + tail, len - tail, err);
}

fe_rc json_stream_feed(json_stream *js, const void *data, size_t len, fe_err *err)
{
    const char *p = data;
    size_t used = 0;
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    if (js->tok != TOK_NONE)
        FE_TRY(continue_token(js, p, len, &used, err));
    if (js->tok == TOK_NONE) {
        js->fed += used;
        FE_TRY(feed_tokens(js, p + used, len - used, err));
        js->fed += len - used;
    } else {
        js->fed += len;
    }
    return FE_OK;
}

fe_rc json_stream_finish(json_stream *js, fe_err *err)
{
    if (js->rc != FE_OK)
        return js_sticky(js, err);
    if (!js->h)
        return fe_err_set(err, FE_ENOMEM, "out of memory parsing JSON");
    if (js->tok != TOK_NONE)
        FE_TRY(hold_flush(js, err)); /* a number at the very end, or a cut-off token */
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
