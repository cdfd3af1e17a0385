/* json_fetch: an HTTP body read as a JSON document into a record callback.
 *
 * The one adapter between extract/http.h and extract/json_stream.h: a json_fetch
 * owns a json_stream and gives an http_sink whose on_data feeds the parser, whose
 * on_reset starts the document again (a retried transfer) and whose on_end
 * finishes the document and lets the caller judge it whole (its shape, its
 * counts): a refusal there is retried like a 5xx (http_sink.on_end). A json_fetch
 * is reused document after document (json_fetch_reset between them); it holds one
 * record at a time, never a document. */
#ifndef FE_JSON_FETCH_H
#define FE_JSON_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include "core/err.h"
#include "core/stats.h"
#include "extract/http.h"
#include "extract/json_stream.h"

/* A document starts (again): forget what it gave so far. */
typedef void (*json_fetch_reset_fn)(void *user);
/* The whole document was parsed and its records handed over: non-FE_OK (err
 * filled, "unexpected response shape: ...") refuses it. js tells what stood where
 * (json_stream_shape). */
typedef fe_rc (*json_fetch_end_fn)(void *user, const json_stream *js, fe_err *err);

typedef struct {
    const char *const *paths; /* record paths (json_stream_new), copied */
    int npaths;
    bool allow_multiple;          /* JSON Lines */
    size_t max_record_bytes;      /* json_stream_new's cap */
    json_rec_fn on_record;        /* may be NULL */
    json_fetch_reset_fn on_reset; /* may be NULL */
    json_fetch_end_fn on_end;     /* may be NULL: any complete document counts */
    void *user;                   /* given to the three callbacks */
    /* NULL: the sink's on_end finishes the document (an incomplete one is refused
     * and retried). Set (e.g. "session response"): the body is never quoted in a
     * message, a parse failure reads "<quiet> is not valid JSON" and a lack of
     * memory "out of memory reading a <quiet>"; the sink has no on_end and the
     * caller finishes the document itself (json_fetch_finish). */
    const char *quiet;
} json_fetch_spec;

typedef struct json_fetch json_fetch;

/* NULL when out of memory or a record path is malformed. Free with
 * json_fetch_free (accepts NULL). */
json_fetch *json_fetch_new(const json_fetch_spec *spec);
void json_fetch_free(json_fetch *jf);

/* The sink of one request's body into jf (see the top of this file). */
http_sink json_fetch_sink(json_fetch *jf);

/* Feeds bytes of the document as the sink's on_data does, for a caller with a
 * decoding stage of its own between the HTTP body and the parser (a report file's
 * gunzip): that stage's sink calls this. */
fe_rc json_fetch_feed(json_fetch *jf, const char *data, size_t len, fe_err *err) FE_MUST_CHECK;

/* A new document: resets the parser and calls on_reset. */
void json_fetch_reset(json_fetch *jf);

/* End of the document (for a quiet spec, after the transfer): FE_EJSON when it is
 * incomplete. */
fe_rc json_fetch_finish(json_fetch *jf, fe_err *err) FE_MUST_CHECK;

/* The parser, e.g. for json_stream_shape after the transfer. */
const json_stream *json_fetch_stream(const json_fetch *jf);

/* The shape check most judges make: FE_OK when the value at record path `which`
 * has shape want, else FE_EJSON with msg as the whole message ("unexpected
 * response shape: no `data` array"). */
fe_rc json_fetch_require(const json_stream *js, int which, json_shape want, const char *msg,
                         fe_err *err) FE_MUST_CHECK;

/* Runs one request whose body streams into jf: req's sink is replaced by jf's,
 * the document starts (json_fetch_reset) and http_run runs it into *res (the
 * caller terms it). Returns http_run's code; the transfer's own outcome is in
 * res->rc, res->status and res->err, for the caller to judge (its 401, its 404). */
fe_rc json_fetch_run(json_fetch *jf, http_client *http, const http_request *req, http_result *res,
                     stream_stats *stats, fe_err *err) FE_MUST_CHECK;

/* json_fetch_run folded into one code: FE_OK when the document was whole and
 * accepted, else res->rc with err = res->err (or http_run's own failure). For a
 * caller that needs no status. */
fe_rc json_fetch_get(json_fetch *jf, http_client *http, const http_request *req,
                     stream_stats *stats, fe_err *err) FE_MUST_CHECK;

#endif
