/* json_rec: a record delivered by json_stream (extract/json_stream.h is the
 * contract): its fields by index or path, its text for a reject, and
 * json_parse_count. Part of the json_stream module (json_stream_internal.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "extract/json_stream.h"
#include "extract/json_stream_internal.h"

/* Records with at most this many fields are scanned, not indexed. */
#define JS_INDEX_MIN 16
/* Lookups of one record answered by a scan before its index is built: at most
 * this many scans of n fields, then one build, so a record's lookups stay linear
 * in its size. A scan costs a few instructions per field, hashing a path for the
 * index a hundred or so: below about 40 lookups scanning is cheaper (a Posiflora
 * order record takes about 30, most records one to ten). */
#define JS_INDEX_AFTER_SCANS 48

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
    return buf_fnv1a(BUF_FNV_INIT, p, len);
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
