/* sb_hostile: the hostile mode of the sandbox. Where the fault switches (sb_fault)
 * make the API unreliable in the ways every client expects (429, 5xx, cut bodies),
 * the hostile switches make it misbehave the ways real APIs and the gateways in
 * front of them do, and a careless client pays for in data or secrets: a 200 that
 * is not the answer (`{}`, a maintenance message, the list key of the wrong type),
 * credentials sent on to another host (a 307, a `next` link), an error body that
 * echoes the request's credentials, a body that never ends, one string of tens of
 * megabytes, a gzip bomb.
 *
 * SPEC (`&`-separated, POST /_sandbox/hostile?SPEC or --hostile SPEC; "" = off).
 * TARGETS is a comma list of endpoint names (as in the stats and malformed=), each
 * optionally narrowed to one method: `sessions:PATCH`; or `*`, every endpoint.
 *   empty=TARGETS       200 answers become `{}`
 *   blank=TARGETS       200 answers lose their body: zero bytes (a report file
 *                       that holds nothing, not even a CSV header)
 *   gateway=TARGETS     200 answers become `{"message":"Service temporarily unavailable"}`
 *   wrong_type=TARGETS  200 answers keep everything but the type of their collection
 *                       key (the first top-level `data`, `items`, `shops` or
 *                       `products`): an array becomes `{}`, an object `[]`
 *   redirect=TARGETS    every answer is a 307 to the same path and query on the
 *                       foreign host (a login's body follows a 307)
 *   foreign_next=TARGETS a top-level `next` link of a 200 answer points at the
 *                       foreign host (path-absolute links are made absolute there)
 *   echo=TARGETS        every answer is a 400 whose body quotes the request's
 *                       Authorization header and body first (a token, a password,
 *                       a refresh token), then the module's own error shape
 *   cp1251=TARGETS      every answer is a 502 whose body is a gateway's HTML page
 *                       in windows-1251: an error text that is not UTF-8
 *   endless=TARGETS     200 answers start like the module's and never end (a JSON
 *                       prefix, then spaces, 16 KiB every 20 ms, until the client
 *                       hangs up or the sandbox stops)
 *   long_string=TARGETS the first record of a 200 answer's collection gets a field
 *                       "hostileNote" holding one string of long_mb MiB
 *   long_mb=N           size of that string (default 40, 1..1024)
 *   short=TARGETS       200 answers lose their collection's last record and keep
 *                       everything else, counts included (a page that lost a
 *                       record on the way)
 *   few=TARGETS         200 answers are a consistent list of one: the first record,
 *                       counts of 1, no `next` (a list that lost most of its
 *                       members: a full read must not mark them all deleted)
 *   nul_id=TARGETS      the first record of a 200 answer's collection gets its id
 *                       (`id`, `shopId`, `categoryUid` or `productUid`) as a string
 *                       followed by "\u0000x": cut at the NUL it reads as the real id
 *   gzip_bomb=1         Goflow report files are a gzip of one JSON record whose one
 *                       string inflates to bomb_mb MiB (default 2048, 1..65536)
 *   bomb_mb=N
 * Hostile switches apply to API requests only, after the faults (a request that
 * draws a 429 is a 429); control endpoints never change.
 *
 * The foreign host: a second listener (--foreign-host, default 127.0.0.2: all of
 * 127/8 is loopback on Linux) that plays "another host". It answers every request
 * 404 and records whether it carried an Authorization header or any credential the
 * sandbox knows (sb_module.secrets: passwords, configured tokens, every token it
 * issued); GET /_sandbox/foreign shows the counts. */
#ifndef SB_HOSTILE_H
#define SB_HOSTILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sb_buf.h"

#define SB_HOSTILE_LIST_MAX 256
#define SB_HOSTILE_LONG_MB_DEFAULT 40
#define SB_HOSTILE_BOMB_MB_DEFAULT 2048

typedef struct {
    char empty[SB_HOSTILE_LIST_MAX];
    char blank[SB_HOSTILE_LIST_MAX];
    char gateway[SB_HOSTILE_LIST_MAX];
    char wrong_type[SB_HOSTILE_LIST_MAX];
    char redirect[SB_HOSTILE_LIST_MAX];
    char foreign_next[SB_HOSTILE_LIST_MAX];
    char echo[SB_HOSTILE_LIST_MAX];
    char cp1251[SB_HOSTILE_LIST_MAX];
    char endless[SB_HOSTILE_LIST_MAX];
    char long_string[SB_HOSTILE_LIST_MAX];
    char short_page[SB_HOSTILE_LIST_MAX]; /* short= */
    char few[SB_HOSTILE_LIST_MAX];
    char nul_id[SB_HOSTILE_LIST_MAX];
    int long_mb;
    bool gzip_bomb;
    int bomb_mb;
} sb_hostile;

/* No hostile switch on. */
void sb_hostile_clear(sb_hostile *h);
/* Parses a whole SPEC into h (starting from none). Endpoint names are checked
 * with known (true when every name of a comma list, methods stripped, is an
 * endpoint). False with a message in err. */
bool sb_hostile_parse(sb_hostile *h, const char *spec, bool (*known)(const char *list), char *err,
                      size_t errlen);
/* Applies one SPEC item; the same checks. */
bool sb_hostile_set(sb_hostile *h, const char *key, const char *value,
                    bool (*known)(const char *list), char *err, size_t errlen);
/* "name\tvalue\n" lines of the settings. */
void sb_hostile_describe(const sb_hostile *h, sb_buf *out);
/* True when any switch is on. */
bool sb_hostile_any(const sb_hostile *h);
/* True when the TARGETS list names endpoint (for any method, or for method). */
bool sb_hostile_targets(const char *list, const char *endpoint, const char *method);

/* What the server does with an answer after sb_hostile_apply. */
typedef enum { SB_HOSTILE_SEND = 0, SB_HOSTILE_ENDLESS } sb_hostile_send;

/* The parts of a request and its answer the switches need. body and headers are
 * the server's; status, body and location may be replaced. */
typedef struct {
    const char *endpoint;      /* NULL: no switch applies */
    const char *method;        /* "GET", ... */
    const char *target;        /* path and query as requested (for redirect) */
    const char *authorization; /* NULL when absent */
    const char *req_body;      /* "" when none */
    size_t req_body_len;
    const char *foreign_base; /* "http://127.0.0.2:PORT" or NULL when there is none */
    int *status;
    sb_buf *body;
    char *location; /* set for a redirect: room for SB_HOSTILE_LOCATION_MAX */
} sb_hostile_io;

#define SB_HOSTILE_LOCATION_MAX 512

/* Applies the switches of h that name io->endpoint. Returns how to send. An
 * endless answer's body holds its prefix (sb_hostile_endless_chunk follows). */
sb_hostile_send sb_hostile_apply(const sb_hostile *h, const sb_hostile_io *io);

/* The filler an endless body goes on with: a run of spaces (valid JSON
 * whitespace inside the prefix's open value). */
#define SB_HOSTILE_ENDLESS_CHUNK 16384
#define SB_HOSTILE_ENDLESS_PAUSE_MS 20

/* A gzip file (RFC 1952) of prefix, then mb MiB of the byte 'A', then suffix,
 * into out, made without compressing the megabytes one by one: a full flush
 * makes deflate's output for each MiB the same block, repeated. About 1 KiB of
 * gzip per MiB. False when memory or zlib failed. */
bool sb_hostile_gzip_bomb(const char *prefix, int mb, const char *suffix, sb_buf *out);

/* The foreign host's record (mutex inside). */
typedef struct sb_foreign sb_foreign;

sb_foreign *sb_foreign_new(void);
void sb_foreign_free(sb_foreign *f);
/* Notes one request; carried_secret: a known credential appeared in it. */
void sb_foreign_note(sb_foreign *f, bool with_authorization, bool carried_secret);
/* Forgets what was noted. */
void sb_foreign_reset(sb_foreign *f);
/* "name\tvalue\n" lines sorted by name: requests, with_authorization, with_secret,
 * and url (base, or "none" when base is NULL). */
void sb_foreign_render(sb_foreign *f, const char *base, sb_buf *out);

/* True when text[0..len) contains secret (NUL-terminated, at least 4 bytes). */
bool sb_hostile_contains(const char *text, size_t len, const char *secret);

#endif
