/* sb_hostile: switches, body transforms, the gzip bomb and the foreign host's
 * record. See sb_hostile.h. */
#include "sb_hostile.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sb_spec.h"
#include "sb_json.h"

#define MIB ((size_t)1 << 20)

static const char GATEWAY_BODY[] = "{\"message\":\"Service temporarily unavailable\"}";
/* cp1251=: "Ошибка шлюза: сервер временно недоступен" in windows-1251, the page of
 * a gateway that does not speak UTF-8. */
static const char CP1251_BODY[] =
    "<html><body><h1>502</h1>\xCE\xF8\xE8\xE1\xEA\xE0 \xF8\xEB\xFE\xE7\xE0: "
    "\xF1\xE5\xF0\xE2\xE5\xF0 \xE2\xF0\xE5\xEC\xE5\xED\xED\xEE "
    "\xED\xE5\xE4\xEE\xF1\xF2\xF3\xEF\xE5\xED</body></html>";
/* The collection keys wrong_type, long_string and endless look for, at the top
 * level of an answer (JSON:API and Goflow `data`, Flowwow and Flow Retail `items`,
 * Flowwow `shops`, a Flow Retail category's `products`). */
static const char *const COLLECTION_KEYS[] = {"data", "items", "shops", "products", NULL};

/* ---- settings ------------------------------------------------------------------- */

void sb_hostile_clear(sb_hostile *h)
{
    memset(h, 0, sizeof *h);
    h->long_mb = SB_HOSTILE_LONG_MB_DEFAULT;
    h->bomb_mb = SB_HOSTILE_BOMB_MB_DEFAULT;
}

/* The list field of h named key, or NULL. */
static char *list_field(sb_hostile *h, const char *key)
{
    struct {
        const char *name;
        char *field;
    } lists[] = {{"empty", h->empty},       {"blank", h->blank},
                 {"gateway", h->gateway},   {"wrong_type", h->wrong_type},
                 {"redirect", h->redirect}, {"foreign_next", h->foreign_next},
                 {"echo", h->echo},         {"cp1251", h->cp1251},
                 {"endless", h->endless},   {"long_string", h->long_string},
                 {"short", h->short_page},  {"few", h->few},
                 {"nul_id", h->nul_id}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strcmp(lists[i].name, key) == 0)
            return lists[i].field;
    return NULL;
}

/* The names of a TARGETS list without their ":METHOD" parts, for known(). */
static bool targets_known(const char *list, bool (*known)(const char *list))
{
    char names[SB_HOSTILE_LIST_MAX];
    size_t o = 0;
    bool skip = false;
    for (const char *p = list; *p != '\0' && o + 1 < sizeof names; p++) {
        if (*p == ',')
            skip = false;
        else if (*p == ':')
            skip = true;
        if (!skip)
            names[o++] = *p;
    }
    names[o] = '\0';
    return strcmp(names, "*") == 0 || known == NULL || known(names);
}

static bool parse_int(const char *v, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return false;
    *out = (int)n;
    return true;
}

bool sb_hostile_set(sb_hostile *h, const char *key, const char *value,
                    bool (*known)(const char *list), char *err, size_t errlen)
{
    const char *v = value != NULL ? value : "";
    char *list = list_field(h, key);
    int n = 0;
    if (list != NULL) {
        if (strlen(v) >= SB_HOSTILE_LIST_MAX || !targets_known(v, known)) {
            snprintf(err, errlen, "%s= takes endpoint names (ENDPOINT or ENDPOINT:METHOD)", key);
            return false;
        }
        memcpy(list, v, strlen(v) + 1);
        return true;
    }
    if (strcmp(key, "long_mb") == 0 && parse_int(v, 1, 1024, &n)) {
        h->long_mb = n;
        return true;
    }
    if (strcmp(key, "bomb_mb") == 0 && parse_int(v, 1, 65536, &n)) {
        h->bomb_mb = n;
        return true;
    }
    if (strcmp(key, "gzip_bomb") == 0 && (*v == '\0' || parse_int(v, 0, 1, &n))) {
        h->gzip_bomb = *v == '\0' || n == 1;
        return true;
    }
    if (strcmp(key, "long_mb") == 0 || strcmp(key, "bomb_mb") == 0 || strcmp(key, "gzip_bomb") == 0)
        snprintf(err, errlen, "bad value '%s' for hostile switch '%s'", v, key);
    else
        snprintf(err, errlen, "unknown hostile switch '%s'", key);
    return false;
}

typedef struct {
    sb_hostile *h;
    bool (*known)(const char *list);
} hostile_ctx;

static bool hostile_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
    hostile_ctx *c = ctx;
    return sb_hostile_set(c->h, key, value, c->known, err, errlen);
}

bool sb_hostile_parse(sb_hostile *h, const char *spec, bool (*known)(const char *list), char *err,
                      size_t errlen)
{
    sb_hostile_clear(h);
    hostile_ctx ctx = {h, known};
    return sb_spec_each(spec, SB_HOSTILE_LIST_MAX + 32, "hostile", hostile_set, &ctx, err, errlen);
}

void sb_hostile_describe(const sb_hostile *h, sb_buf *out)
{
    sb_buf_printf(out,
                  "blank\t%s\nbomb_mb\t%d\ncp1251\t%s\necho\t%s\nempty\t%s\nendless\t%s\n"
                  "few\t%s\nforeign_next\t%s\ngateway\t%s\n"
                  "gzip_bomb\t%d\nlong_mb\t%d\nlong_string\t%s\nnul_id\t%s\nredirect\t%s\n"
                  "short\t%s\nwrong_type\t%s\n",
                  h->blank, h->bomb_mb, h->cp1251, h->echo, h->empty, h->endless, h->few,
                  h->foreign_next, h->gateway, h->gzip_bomb ? 1 : 0, h->long_mb, h->long_string,
                  h->nul_id, h->redirect, h->short_page, h->wrong_type);
}

bool sb_hostile_any(const sb_hostile *h)
{
    return h->empty[0] || h->blank[0] || h->gateway[0] || h->wrong_type[0] || h->redirect[0] ||
           h->foreign_next[0] || h->echo[0] || h->cp1251[0] || h->endless[0] || h->long_string[0] ||
           h->short_page[0] || h->few[0] || h->nul_id[0] || h->gzip_bomb;
}

bool sb_hostile_targets(const char *list, const char *endpoint, const char *method)
{
    size_t n = strlen(endpoint);
    if (strcmp(list, "*") == 0)
        return true;
    for (const char *p = list; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len >= n && memcmp(p, endpoint, n) == 0 &&
            (len == n || (p[n] == ':' && method != NULL && len - n - 1 == strlen(method) &&
                          memcmp(p + n + 1, method, len - n - 1) == 0)))
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

/* ---- a scanner for the top level of a JSON object ---------------------------------
 *
 * Enough JSON to find a top-level member of a body the sandbox rendered itself: it
 * trusts the text to be valid and only tells strings, containers and scalars apart. */

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': the index after the closing quote. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return len;
}

/* The index after the value that starts at s[i]. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
    if (i < len && s[i] == '"')
        return skip_string(s, len, i);
    if (i < len && (s[i] == '{' || s[i] == '[')) {
        int depth = 0;
        while (i < len) {
            if (s[i] == '"') {
                i = skip_string(s, len, i);
                continue;
            }
            if (s[i] == '{' || s[i] == '[')
                depth++;
            else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
                return i + 1;
            i++;
        }
        return len;
    }
    while (i < len && s[i] != ',' && s[i] != '}' && s[i] != ']')
        i++;
    return i;
}

/* Finds the first top-level member of the object in s whose key is one of keys:
 * its value's span [*v0, *v1) and the key's index in keys. False when none. */
static bool find_member(const char *s, size_t len, const char *const *keys, size_t *v0, size_t *v1,
                        int *which)
{
    size_t i = skip_ws(s, len, 0);
    if (i >= len || s[i] != '{')
        return false;
    i++;
    for (;;) {
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"')
            return false;
        size_t k0 = i + 1, k1 = skip_string(s, len, i) - 1;
        i = skip_ws(s, len, k1 + 1);
        if (i >= len || s[i] != ':')
            return false;
        i = skip_ws(s, len, i + 1);
        size_t end = skip_value(s, len, i);
        for (int k = 0; keys[k] != NULL; k++)
            if (strlen(keys[k]) == k1 - k0 && memcmp(s + k0, keys[k], k1 - k0) == 0) {
                *v0 = i;
                *v1 = end;
                *which = k;
                return true;
            }
        i = skip_ws(s, len, end);
        if (i >= len || s[i] != ',')
            return false;
        i++;
    }
}

/* body = body[0..at) + insert + body[at + cut..). */
static void splice(sb_buf *body, size_t at, size_t cut, const char *insert, size_t ilen)
{
    sb_buf out;
    sb_buf_init(&out, body->len - cut + ilen + 1);
    sb_buf_put(&out, body->data, at);
    sb_buf_put(&out, insert, ilen);
    sb_buf_put(&out, body->data + at + cut, body->len - at - cut);
    if (sb_buf_failed(&out))
        body->failed = true;
    sb_buf_term(body);
    *body = out;
}

static void replace_all(sb_buf *body, const char *text)
{
    sb_buf_reset(body);
    sb_buf_puts(body, text);
}

/* The collection's value gets the other container type, emptied. */
static void wrong_type(sb_buf *body)
{
    size_t v0, v1;
    int which;
    if (body->len == 0 || !find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which))
        return;
    const char *other = body->data[v0] == '[' ? "{}" : body->data[v0] == '{' ? "[]" : "{}";
    splice(body, v0, v1 - v0, other, 2);
}

/* The first record of the collection gets "hostileNote": mb MiB of 'x'. */
static void long_string(sb_buf *body, int mb)
{
    size_t v0, v1, i;
    int which;
    if (body->len == 0 || !find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which) ||
        body->data[v0] != '[' || (i = skip_ws(body->data, v1, v0 + 1)) >= v1 ||
        body->data[i] != '{')
        return;
    size_t n = (size_t)mb * MIB, head = strlen("\"hostileNote\":\"");
    bool empty =
        skip_ws(body->data, v1, i + 1) < v1 && body->data[skip_ws(body->data, v1, i + 1)] == '}';
    char *insert = malloc(head + n + 2);
    if (insert == NULL) {
        body->failed = true;
        return;
    }
    memcpy(insert, "\"hostileNote\":\"", head);
    memset(insert + head, 'x', n);
    insert[head + n] = '"';
    insert[head + n + 1] = ',';
    splice(body, i + 1, 0, insert, head + n + (empty ? 1 : 2));
    free(insert);
}

/* The collection's last record is left out; the rest (counts included) stays. */
static void short_page(sb_buf *body)
{
    size_t v0, v1;
    int which;
    if (body->len == 0 || !find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which) ||
        body->data[v0] != '[')
        return;
    size_t i = skip_ws(body->data, v1, v0 + 1), cut_from = 0, cut_to = 0;
    bool first = true;
    while (i < v1 && body->data[i] != ']') {
        size_t end = skip_value(body->data, v1, i);
        if (first)
            cut_from = i; /* the only record so far: cut from itself */
        cut_to = end;
        i = skip_ws(body->data, v1, end);
        if (i < v1 && body->data[i] == ',') {
            cut_from = end; /* a later record: cut from the comma before it */
            i = skip_ws(body->data, v1, i + 1);
        }
        first = false;
    }
    if (cut_to > cut_from)
        splice(body, cut_from, cut_to - cut_from, "", 0);
}

/* The value of member key of the object at body[o0..o1) is replaced by text. */
static bool set_member(sb_buf *body, size_t o0, size_t o1, const char *key, const char *text)
{
    const char *const keys[] = {key, NULL};
    size_t v0, v1;
    int which;
    if (o1 <= o0 || !find_member(body->data + o0, o1 - o0, keys, &v0, &v1, &which))
        return false;
    splice(body, o0 + v0, v1 - v0, text, strlen(text));
    return true;
}

/* Sets the member path (one key, or "outer.inner") of the top-level object to text. */
static void set_path(sb_buf *body, const char *path, const char *text)
{
    const char *dot = strchr(path, '.');
    if (dot == NULL) {
        set_member(body, 0, body->len, path, text);
        return;
    }
    char outer[32];
    snprintf(outer, sizeof outer, "%.*s", (int)(dot - path), path);
    const char *const keys[] = {outer, NULL};
    size_t v0, v1;
    int which;
    if (find_member(body->data, body->len, keys, &v0, &v1, &which) && body->data[v0] == '{')
        set_member(body, v0, v1, dot + 1, text);
}

/* A consistent list of one: the collection keeps its first record, the counts
 * say 1 and there is no next page (an API that lost most of a list, or answers
 * for another account). */
static void few(sb_buf *body)
{
    size_t v0, v1;
    int which;
    if (body->len == 0 || !find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which) ||
        body->data[v0] != '[')
        return;
    size_t i = skip_ws(body->data, v1, v0 + 1);
    if (i < v1 && body->data[i] != ']') {
        size_t end = skip_value(body->data, v1, i);
        splice(body, end, v1 - 1 - end, "", 0); /* up to the closing ']' */
    }
    static const char *const counts[] = {"total", "meta.total", "paging.totalCount"};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        set_path(body, counts[k], "1");
    set_path(body, "next", "null");
}

/* The first record of the collection: its id (the first of `id`, `shopId`,
 * `categoryUid`, `productUid`) becomes a string of the id, then "\u0000x". A
 * client that cuts at the NUL reads the real id and takes the record for it. */
static void nul_id(sb_buf *body)
{
    static const char *const id_keys[] = {"id", "shopId", "categoryUid", "productUid", NULL};
    size_t v0, v1, i, k0, k1;
    int which;
    if (body->len == 0 || !find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which) ||
        body->data[v0] != '[' || (i = skip_ws(body->data, v1, v0 + 1)) >= v1 ||
        body->data[i] != '{' ||
        !find_member(body->data + i, skip_value(body->data, v1, i) - i, id_keys, &k0, &k1, &which))
        return;
    const char *v = body->data + i + k0;
    size_t len = k1 - k0;
    if (len >= 2 && v[0] == '"') { /* the string's text, without its quotes */
        v++;
        len -= 2;
    }
    sb_buf text;
    sb_buf_init(&text, len + 16);
    sb_buf_putc(&text, '"');
    sb_buf_put(&text, v, len);
    sb_buf_puts(&text, "\\u0000x\"");
    if (sb_buf_failed(&text))
        body->failed = true;
    else
        splice(body, i + k0, k1 - k0, text.data, text.len);
    sb_buf_term(&text);
}

/* A top-level `next` link moves to the foreign host. */
static void foreign_next(sb_buf *body, const char *base)
{
    static const char *const next_key[] = {"next", NULL};
    size_t v0, v1;
    int which;
    if (base == NULL || body->len == 0 ||
        !find_member(body->data, body->len, next_key, &v0, &v1, &which) || body->data[v0] != '"')
        return;
    size_t p = v0 + 1;
    if (strncmp(body->data + p, "http://", 7) == 0 || strncmp(body->data + p, "https://", 8) == 0) {
        const char *slash = memchr(body->data + p + 8, '/', v1 - p - 8);
        if (slash == NULL)
            return;
        splice(body, p, (size_t)(slash - (body->data + p)), base, strlen(base));
    } else if (body->data[p] == '/') {
        splice(body, p, 0, base, strlen(base));
    }
}

/* 400 with the request's credentials first, in every error shape the modules use
 * (`message` for Goflow, Flowwow and Flow Retail, JSON:API `errors` for Posiflora). */
static void echo(const sb_hostile_io *io)
{
    sb_buf text;
    sb_buf_init(&text, 256 + io->req_body_len);
    sb_buf_printf(&text, "Request refused. Authorization: %s; body: ",
                  io->authorization != NULL ? io->authorization : "(none)");
    sb_buf_put(&text, io->req_body, io->req_body_len);
    sb_buf_reset(io->body);
    sb_buf_puts(io->body, "{\"message\":");
    sb_json_escape(io->body, sb_buf_cstr(&text), text.len);
    sb_buf_puts(io->body, ",\"errors\":[{\"status\":\"400\",\"title\":\"Bad Request\",\"detail\":");
    sb_json_escape(io->body, sb_buf_cstr(&text), text.len);
    sb_buf_puts(io->body, "}]}");
    if (sb_buf_failed(&text))
        io->body->failed = true;
    sb_buf_term(&text);
    *io->status = 400;
}

static void redirect(const sb_hostile_io *io)
{
    if (io->foreign_base == NULL) {
        *io->status = 500;
        replace_all(io->body,
                    "{\"message\":\"redirect= needs the foreign host (--foreign-host)\"}");
        return;
    }
    snprintf(io->location, SB_HOSTILE_LOCATION_MAX, "%s%s", io->foreign_base, io->target);
    *io->status = 307;
    replace_all(io->body, "{\"message\":\"Temporary Redirect\"}");
}

/* The body up to the opening of its collection array ("{\"data\":["), the start
 * of an answer that never ends. */
static void endless_prefix(sb_buf *body)
{
    size_t v0, v1;
    int which;
    if (body->len > 0 && find_member(body->data, body->len, COLLECTION_KEYS, &v0, &v1, &which) &&
        body->data[v0] == '[') {
        body->len = v0 + 1;
        body->data[body->len] = '\0';
        return;
    }
    replace_all(body, "{\"data\":[");
}

sb_hostile_send sb_hostile_apply(const sb_hostile *h, const sb_hostile_io *io)
{
    const char *ep = io->endpoint, *m = io->method;
    if (ep == NULL)
        return SB_HOSTILE_SEND;
    if (sb_hostile_targets(h->echo, ep, m)) {
        echo(io);
        return SB_HOSTILE_SEND;
    }
    if (sb_hostile_targets(h->redirect, ep, m)) {
        redirect(io);
        return SB_HOSTILE_SEND;
    }
    if (sb_hostile_targets(h->cp1251, ep, m)) {
        *io->status = 502;
        replace_all(io->body, CP1251_BODY);
        return SB_HOSTILE_SEND;
    }
    if (*io->status != 200)
        return SB_HOSTILE_SEND;
    if (sb_hostile_targets(h->endless, ep, m)) {
        endless_prefix(io->body);
        return SB_HOSTILE_ENDLESS;
    }
    if (sb_hostile_targets(h->empty, ep, m))
        replace_all(io->body, "{}");
    else if (sb_hostile_targets(h->blank, ep, m))
        replace_all(io->body, "");
    else if (sb_hostile_targets(h->gateway, ep, m))
        replace_all(io->body, GATEWAY_BODY);
    else if (sb_hostile_targets(h->wrong_type, ep, m))
        wrong_type(io->body);
    else if (sb_hostile_targets(h->long_string, ep, m))
        long_string(io->body, h->long_mb);
    else if (sb_hostile_targets(h->short_page, ep, m))
        short_page(io->body);
    else if (sb_hostile_targets(h->few, ep, m))
        few(io->body);
    if (sb_hostile_targets(h->nul_id, ep, m))
        nul_id(io->body);
    if (sb_hostile_targets(h->foreign_next, ep, m))
        foreign_next(io->body, io->foreign_base);
    return SB_HOSTILE_SEND;
}

bool sb_hostile_contains(const char *text, size_t len, const char *secret)
{
    size_t n = strlen(secret);
    if (n < 4 || text == NULL)
        return false;
    for (size_t i = 0; i + n <= len; i++)
        if (text[i] == secret[0] && memcmp(text + i, secret, n) == 0)
            return true;
    return false;
}

/* ---- the gzip bomb ---------------------------------------------------------------- */

/* Deflates in[0..n) with flush into out. False on a zlib error. */
static bool deflate_into(z_stream *z, const void *in, size_t n, int flush, sb_buf *out)
{
    unsigned char chunk[16384];
    z->next_in = (Bytef *)(uintptr_t)in;
    z->avail_in = (uInt)n;
    do {
        z->next_out = chunk;
        z->avail_out = sizeof chunk;
        int rc = deflate(z, flush);
        if (rc == Z_STREAM_ERROR)
            return false;
        sb_buf_put(out, chunk, sizeof chunk - z->avail_out);
    } while (z->avail_out == 0 || z->avail_in > 0);
    return !sb_buf_failed(out);
}

static void put_le32(sb_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        sb_buf_putc(b, (char)(v >> (8 * i) & 0xff));
}

bool sb_hostile_gzip_bomb(const char *prefix, int mb, const char *suffix, sb_buf *out)
{
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    z_stream z;
    sb_buf block, again;
    char *a = malloc(MIB);
    bool ok = a != NULL;
    memset(&z, 0, sizeof z);
    sb_buf_init(&block, 4096);
    sb_buf_init(&again, 4096);
    if (ok)
        memset(a, 'A', MIB);
    ok = ok && deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK;
    sb_buf_put(out, header, sizeof header);
    ok = ok && deflate_into(&z, prefix, strlen(prefix), Z_FULL_FLUSH, out);
    /* After a full flush deflate starts afresh, so the same MiB gives the same
     * block: checked once, then repeated. */
    ok = ok && deflate_into(&z, a, MIB, Z_FULL_FLUSH, &block) &&
         deflate_into(&z, a, MIB, Z_FULL_FLUSH, &again) && block.len == again.len &&
         memcmp(block.data, again.data, block.len) == 0;
    uLong crc = crc32(0L, (const Bytef *)prefix, (uInt)strlen(prefix));
    uLong crc_a = ok ? crc32(0L, (const Bytef *)a, (uInt)MIB) : 0;
    for (int i = 0; ok && i < mb; i++) {
        sb_buf_put(out, block.data, block.len);
        crc = crc32_combine(crc, crc_a, (z_off_t)MIB);
    }
    ok = ok && deflate_into(&z, suffix, strlen(suffix), Z_FINISH, out);
    crc = crc32(crc, (const Bytef *)suffix, (uInt)strlen(suffix));
    uint64_t total = strlen(prefix) + (uint64_t)mb * MIB + strlen(suffix);
    put_le32(out, (uint32_t)crc);
    put_le32(out, (uint32_t)(total & 0xffffffffu));
    deflateEnd(&z);
    free(a);
    sb_buf_term(&block);
    sb_buf_term(&again);
    return ok && !sb_buf_failed(out);
}

/* ---- the foreign host's record -------------------------------------------------- */

struct sb_foreign {
    pthread_mutex_t mu;
    long requests, with_authorization, with_secret;
};

sb_foreign *sb_foreign_new(void)
{
    sb_foreign *f = calloc(1, sizeof *f);
    if (f != NULL && pthread_mutex_init(&f->mu, NULL) != 0) {
        free(f);
        return NULL;
    }
    return f;
}

void sb_foreign_free(sb_foreign *f)
{
    if (f == NULL)
        return;
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void sb_foreign_note(sb_foreign *f, bool with_authorization, bool carried_secret)
{
    pthread_mutex_lock(&f->mu);
    f->requests++;
    f->with_authorization += with_authorization;
    f->with_secret += carried_secret;
    pthread_mutex_unlock(&f->mu);
}

void sb_foreign_reset(sb_foreign *f)
{
    pthread_mutex_lock(&f->mu);
    f->requests = f->with_authorization = f->with_secret = 0;
    pthread_mutex_unlock(&f->mu);
}

void sb_foreign_render(sb_foreign *f, const char *base, sb_buf *out)
{
    pthread_mutex_lock(&f->mu);
    sb_buf_printf(out, "requests\t%ld\nurl\t%s\nwith_authorization\t%ld\nwith_secret\t%ld\n",
                  f->requests, base != NULL ? base : "none", f->with_authorization, f->with_secret);
    pthread_mutex_unlock(&f->mu);
}
