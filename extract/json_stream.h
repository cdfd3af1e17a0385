/* json_stream: yajl push parser that hands over one record at a time.
 *
 * The caller names where records sit in the document with record paths:
 *   "data[]"    each element of the array under the root key "data"
 *   "data"      the value under the root key "data" (one record, if an object)
 *   "included[]", "items[]", "[]" (each element of a root array)
 *   "."         the root object itself, minus the subtrees claimed by other paths:
 *               gives scalars such as "meta.total" or "next"; emitted when the root
 *               value closes. With allow_multiple (JSON Lines) each root value is one.
 * Deeper paths join keys with '.': "data.items[]".
 * A record is delivered as soon as its closing brace is parsed: a flat list of
 * fields whose paths are relative to the record, dot-joined, array elements by
 * index: "attributes.totalAmount", "relationships.lines.data.0.id". Empty objects
 * and arrays inside a record are fields of type JV_EMPTY_OBJECT / JV_EMPTY_ARRAY;
 * a record whose value is a scalar (e.g. "data": null) has one field with path "".
 * The "." record is delivered for every root value, even when it has no fields.
 * Numbers keep their exact text; strings are unescaped (NUL-terminated; not checked
 * for UTF-8: the mappings do that, so one bad string rejects one record).
 * Memory is one record's arena, reused: it never holds a page.
 *
 * Work and memory are bounded per byte: a token (string, key, number) that spans
 * feeds is held in a buffer of at most max_record_bytes and given to yajl whole, so
 * reading a long token costs time linear in its length, and a longer one is
 * refused as soon as it passes the cap. */
#ifndef FE_JSON_STREAM_H
#define FE_JSON_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

typedef enum { JV_STRING, JV_NUMBER, JV_BOOL, JV_NULL, JV_EMPTY_OBJECT, JV_EMPTY_ARRAY } json_type;

typedef struct {
    const char *path;  /* NUL-terminated, relative to the record */
    const char *value; /* NUL-terminated text: string content, number text,
                          "true"/"false", "" for null and empty containers */
    size_t len;        /* the value's true length: a string with \u0000 holds a NUL
                          byte, so len > strlen(value); see transform/field.h, which
                          refuses such values, json_rec_str returns NULL for them) */
    json_type type;
} json_field;

typedef struct json_rec json_rec;

/* Number of fields and the i-th field (document order). */
size_t json_rec_count(const json_rec *r);
const json_field *json_rec_at(const json_rec *r, size_t i);
/* The field at path, or NULL when absent. */
const json_field *json_rec_get(const json_rec *r, const char *path);
/* The value text at path when it is a string, a number or a boolean ("true"/"false");
 * NULL when absent, null or an empty container, and NULL too for a string holding a
 * NUL byte: as a C string it would read as its part before the NUL ("12\u000034" as
 * "12"), so no caller can act on a cut value. Mappings read through
 * transform/field.h, which says why a value is refused. */
const char *json_rec_str(const json_rec *r, const char *path);

/* A count in JSON text (a number or a numeric string: a list's total, a page size,
 * a revision, an id): true and *out set when text is a non-negative decimal
 * integer, digits only, that fits int64; false for NULL, "", a sign, a fraction
 * or anything after the digits. */
bool json_parse_count(const char *text, int64_t *out);
/* Raw-ish text of the whole record for etl.reject: "path=value" lines (null, {} and
 * [] spelled as in JSON, a NUL byte in a value as \u0000; "{}" for a record without
 * fields), cut to fit max bytes including the NUL without splitting a UTF-8
 * character. Returns the length written. */
size_t json_rec_dump(const json_rec *r, char *dst, size_t max);
/* The same text, whole (never cut), in a malloc'd string the caller frees; *len
 * (may be NULL) gets its length. NULL when memory runs out. For a reject, whose
 * text must be masked (log_redact_dup) before it is cut: a secret cut first
 * would leave a piece the mask no longer recognises. */
char *json_rec_dump_dup(const json_rec *r, size_t *len);

/* Called once per record; `which` is the index of the record path in the array
 * given to json_stream_new. Return FE_OK to go on; anything else stops parsing
 * and is returned from json_stream_feed (the callback fills err). */
typedef fe_rc (*json_rec_fn)(void *ctx, int which, const json_rec *rec, fe_err *err);

typedef struct json_stream json_stream;

/* paths: record paths (copied). max_record_bytes caps one record's arena (paths
 * and values of its fields; 0 = no cap): a bigger record fails the feed with
 * FE_EJSON "record larger than N bytes". It also caps, anywhere in the document,
 * one token as sent ("string longer than N bytes at byte OFFSET", "number longer
 * than ...", OFFSET = where the token starts, refused once that many bytes of it
 * arrived) and one field's path ("field path longer than N bytes"). With 0 a
 * token is held whole however long it is. Returns NULL on allocation failure or a
 * malformed path. Free with json_stream_free. */
json_stream *json_stream_new(const char *const *paths, int npaths, bool allow_multiple,
                             size_t max_record_bytes, json_rec_fn fn, void *ctx);
void json_stream_free(json_stream *js);

/* Feeds bytes as they arrive. FE_EJSON with a message naming the byte offset on a
 * syntax error ("invalid JSON at byte N: ...") or a token over the cap; the
 * callback's code when it stopped. A failure is sticky: later feeds return it
 * again until json_stream_reset. A token still open at the end of a feed is
 * parsed (and its record delivered) with the feed that completes it, or at
 * json_stream_finish (a number that ends the document). */
fe_rc json_stream_feed(json_stream *js, const void *data, size_t len, fe_err *err) FE_MUST_CHECK;
/* End of document: FE_EJSON if the document is incomplete. */
fe_rc json_stream_finish(json_stream *js, fe_err *err) FE_MUST_CHECK;
/* Ready for a new document (after finish, or to discard a partial one before a retry). */
void json_stream_reset(json_stream *js);
/* Total bytes fed since the last reset. */
size_t json_stream_bytes(const json_stream *js);

/* What stood at the place of record path `which` (the index given to
 * json_stream_new) in the document fed since the last reset: for "a[]" the value
 * of "a" (the array that holds the records), for "a" the record's own value, for
 * "[]" and "." the root value. JSON_ABSENT when no value stood there. Lets a reader tell
 * `{"data":[]}` (an empty list) from `{}` or `{"data":{}}` (not a list at all),
 * which the records alone cannot. With allow_multiple, the last root value's. */
typedef enum { JSON_ABSENT = 0, JSON_AS_SCALAR, JSON_AS_OBJECT, JSON_AS_ARRAY } json_shape;
json_shape json_stream_shape(const json_stream *js, int which);

#endif
