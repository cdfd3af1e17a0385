/* json_stream_internal: what the files of the json_stream module share (PRIVATE:
 * include it only from extract/json_*.c; callers use extract/json_stream.h).
 *
 * The module is split by concern:
 *   json_stream.c      the parser's state: yajl callbacks turn values into the
 *                      fields of the record being collected, by record path;
 *   json_stream_scan.c the byte scanner of json_stream_feed: whole tokens go to
 *                      yajl, a token cut by a feed is held (and capped) until it ends;
 *   json_rec.c         a delivered record: field lookup (scan, or a hash index for
 *                      big records), the reject dump, json_parse_count.
 * The types below are the parser's state and a record's storage; no function is
 * shared outside extract/json_stream.h. */
#ifndef FE_JSON_STREAM_INTERNAL_H
#define FE_JSON_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_parse.h>

#include "core/buf.h"
#include "core/err.h"
#include "extract/json_stream.h"

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

#endif
