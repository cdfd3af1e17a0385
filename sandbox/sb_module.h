/* sb_module: the shape every emulated API has. The framework (sb_server.c) owns the
 * HTTP daemon, the control endpoints, fault injection and the counters; a module
 * owns its data and answers the requests under its path prefix. Goflow, Flowwow
 * and Flow Retail plug in as further sb_module values listed in sb_modules.c.
 *
 * Threading: handle() runs concurrently on the daemon's pool threads; advance(),
 * truth() and reset() may run concurrently with handle() too. A module guards its
 * data itself (the Posiflora module uses a rwlock: requests read, advance writes). */
#ifndef SB_MODULE_H
#define SB_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "sb_buf.h"
#include "sb_fault.h"
#include "sb_hostile.h"
#include "sb_mismatch.h"

typedef struct {
    uint64_t seed;        /* --seed */
    double scale;         /* --scale (> 0) */
    bool poison;          /* --poison: the data holds poison records (docs/sandbox.md) */
    sb_mismatch mismatch; /* --mismatch: what the API hides or misstates (sb_mismatch.h) */
} sb_config;

/* One query-string argument, percent-decoded; value is "" when the key had no '='. */
typedef struct {
    const char *key;
    const char *value;
} sb_arg;

/* A request as a module sees it. Everything is owned by the framework and valid
 * for the duration of handle(). */
typedef struct {
    const char *method; /* "GET", "POST", "PATCH", ... */
    const char *path;   /* below the module prefix, e.g. "/v1/orders" */
    const sb_arg *args; /* query arguments in the order sent */
    size_t nargs;
    const char *authorization; /* the Authorization header, NULL when absent */
    const char *host;          /* the Host header as sent ("127.0.0.1:8080"), NULL when
                                * absent: lets a module build absolute URLs */
    const char *body;          /* request body, NUL-terminated ("" when none) */
    size_t body_len;
    const sb_faults *faults;   /* fault settings in force for this request */
    const sb_hostile *hostile; /* hostile switches in force (gzip_bomb is the module's) */
} sb_request;

/* Events a module reports for the counters of GET /_sandbox/stats. */
enum { SB_EVENT_NONE = 0, SB_EVENT_LOGIN = 1, SB_EVENT_REFRESH = 2 };

enum { SB_MAX_HEADERS = 4, SB_HEADER_VALUE_MAX = 512 };

/* One extra response header: name is a static string, value a copy. */
typedef struct {
    const char *name;
    char value[SB_HEADER_VALUE_MAX];
} sb_header;

/* What a module fills in. body comes initialised and empty; the framework sends
 * and frees it. endpoint names the endpoint for stats and malformed= (one of the
 * module's endpoint names, or NULL); malformed= only touches 200 answers.
 * headers (nheaders of them, 0 by default) are sent after Content-Type; add them
 * with sb_response_header. */
typedef struct {
    int status;
    const char *content_type; /* static string */
    sb_buf body;
    const char *endpoint;
    int event;
    sb_header headers[SB_MAX_HEADERS];
    size_t nheaders;
} sb_response;

/* Adds the header name (a static string) with a copy of value. False, and
 * nothing added, when SB_MAX_HEADERS are set or value does not fit. */
static inline bool sb_response_header(sb_response *resp, const char *name, const char *value)
{
    size_t len = strlen(value);
    if (resp->nheaders >= SB_MAX_HEADERS || len >= SB_HEADER_VALUE_MAX)
        return false;
    sb_header *h = &resp->headers[resp->nheaders++];
    h->name = name;
    memcpy(h->value, value, len + 1);
    return true;
}

typedef struct {
    const char *system;           /* first column of its truth lines, e.g. "posiflora" */
    const char *prefix;           /* URL prefix without trailing '/', e.g. "/posiflora/api" */
    const char *const *endpoints; /* NULL-terminated: the names handle() reports; they
                                   * must be unique across modules (stats lines) */
    /* Generates the initial data. Returns the state, or NULL with err filled. */
    void *(*create)(const sb_config *cfg, char *err, size_t errlen);
    /* Frees everything create() made. Accepts NULL. */
    void (*destroy)(void *state);
    /* The endpoint name of a path below the prefix, or NULL: the framework counts
     * the requests it answers itself (faults) under that name. Pure function. */
    const char *(*classify)(const char *path);
    /* Answers one request; resp->endpoint comes preset from classify(). */
    void (*handle)(void *state, const sb_request *req, sb_response *resp);
    /* Applies steps change steps (each one sandbox hour) and appends one
     * "sandbox\tchanges.WHAT\tN\n" line per kind of change (in any order). */
    void (*advance)(void *state, int steps, sb_buf *out);
    /* Appends "SYSTEM\tMETRIC\tVALUE\n" lines (in any order: the framework sorts). */
    void (*truth)(void *state, sb_buf *out);
    /* Back to the initial data. Returns false when memory ran out (state unchanged). */
    bool (*reset)(void *state);
    /* Appends the credentials the module knows, one per line: passwords and
     * tokens it accepts, and every token it issued since the start (or reset).
     * The foreign host looks for them; GET /_sandbox/secrets lists them. NULL: none. */
    void (*secrets)(void *state, sb_buf *out);
    /* The body (and content type) of an error the framework answers for this
     * module's paths (a fault's 429 or 500: resp->status is set, retry_after in
     * seconds for a 429), in the vendor's own error shape. NULL: JSON:API errors
     * (Posiflora's shape). */
    void (*fault_body)(int retry_after, sb_response *resp);
} sb_module;

/* The modules the sandbox serves, NULL-terminated (sb_modules.c). */
extern const sb_module *const sb_modules[];

#endif
