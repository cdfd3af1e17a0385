#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/timeutil.h"
#include "core/config_keys.h"
#include "core/config_value.h"
#include "core/config_zone.h"
#include <libpq-fe.h>

/* ---- loading ----------------------------------------------------------------------- */

typedef enum { SECT_BAD, SECT_WAREHOUSE, SECT_RUN, SECT_SOURCE } sect_kind;

/* A section as read, before validation. */
typedef struct {
    char *name; /* as written between [ ] */
    sect_kind kind;
    int line;      /* of the header */
    int last_line; /* of the last key line seen, stored or not */
    config_kv *kv;
    size_t nkv, cap;
} raw_sect;

typedef struct {
    const char *file;
    const config_schema *schema;
    const char *text; /* the whole file, NUL-terminated */
    size_t len, pos;
    int line;     /* of the line last handed to inih */
    bool stopped; /* the reader ended the parse early (line too long) */
    raw_sect *sects;
    size_t nsects, cap;
    raw_sect *cur; /* section the current line belongs to, NULL before the first */
    config_zone_ctx zone;
    bool oom;
    /* The first error in file order: rank orders errors (see fail_ranked). */
    long err_rank;
    char msg[sizeof(((fe_err *)0)->msg)];
} reader;

/* Records an error at line unless one earlier in the file was recorded. rank is
 * 2 * line for errors on a line; errors about a whole section rank after its
 * last line (2 * last + 1), so a misspelt key is reported before the key it hides. */
static void fail_ranked(reader *rd, long rank, int line, const char *fmt, ...) FE_PRINTF(4, 5);
static void fail_ranked(reader *rd, long rank, int line, const char *fmt, ...)
{
    if (rd->err_rank && rank >= rd->err_rank)
        return;
    rd->err_rank = rank;
    int n = snprintf(rd->msg, sizeof rd->msg, "%s:%d: ", rd->file, line);
    if (n < 0 || (size_t)n >= sizeof rd->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rd->msg + n, sizeof rd->msg - (size_t)n, fmt, ap);
    va_end(ap);
}

#define fail_at(rd, line, ...) fail_ranked(rd, 2L * (line), line, __VA_ARGS__)

static bool valid_source_name(const char *s)
{
    return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                     strlen(s);
}

static sect_kind classify_section(reader *rd, const char *name)
{
    if (buf_str_eq(name, "warehouse"))
        return SECT_WAREHOUSE;
    if (buf_str_eq(name, "run"))
        return SECT_RUN;
    if (strncmp(name, "source.", 7) == 0) {
        if (valid_source_name(name + 7))
            return SECT_SOURCE;
        fail_at(rd, rd->line, "invalid source name '%s' in [%s]: use letters, digits and _",
                name + 7, name);
        return SECT_BAD;
    }
    fail_at(rd, rd->line, "unknown section [%s] (expected [warehouse], [run] or [source.NAME])",
            name);
    return SECT_BAD;
}

static void start_section(reader *rd, const char *name, size_t len)
{
    rd->cur = NULL;
    if (rd->nsects == rd->cap) {
        size_t cap = rd->cap ? rd->cap * 2 : 8;
        raw_sect *p = realloc(rd->sects, cap * sizeof *p);
        if (!p) {
            rd->oom = true;
            return;
        }
        rd->sects = p;
        rd->cap = cap;
    }
    raw_sect *s = &rd->sects[rd->nsects];
    *s = (raw_sect){.name = strndup(name, len), .line = rd->line, .last_line = rd->line};
    if (!s->name) {
        rd->oom = true;
        return;
    }
    rd->nsects++;
    for (size_t i = 0; i + 1 < rd->nsects; i++) {
        if (buf_str_eq(rd->sects[i].name, s->name)) {
            fail_at(rd, rd->line, "duplicate section [%s] (first at line %d)", s->name,
                    rd->sects[i].line);
            rd->cur = s; /* kind SECT_BAD: its keys are not checked again */
            return;
        }
    }
    s->kind = classify_section(rd, s->name);
    rd->cur = s;
}

/* Notes a "[name]" line the way inih reads it: the name ends at ']' unless an inline
 * comment (';' after white space) comes first, in which case inih reports the line. */
static void note_section(reader *rd, const char *line)
{
    if (line[0] != '[')
        return;
    const char *p = line + 1;
    bool was_space = false;
    while (*p && *p != ']' && !(was_space && *p == ';')) {
        was_space = config_is_blank(*p);
        p++;
    }
    if (*p != ']')
        return;
    const char *rest = p + 1 + strspn(p + 1, " \t\r\n");
    if (*rest && *rest != ';' && *rest != '#')
        fail_at(rd, rd->line, "unexpected text after [%.*s]", (int)(p - line - 1), line + 1);
    start_section(rd, line + 1, (size_t)(p - line - 1));
}

/* inih's fgets-style reader. Counting lines here gives the handler its line number
 * (the Debian build has no INI_HANDLER_LINENO). Leading white space is dropped so an
 * indented key is never read as a continuation of the previous value. */
static char *read_line(char *str, int num, void *stream)
{
    reader *rd = stream;
    if (rd->stopped || rd->pos >= rd->len)
        return NULL;
    const char *p = rd->text + rd->pos;
    const char *nl = memchr(p, '\n', rd->len - rd->pos);
    size_t n = nl ? (size_t)(nl - p) + 1 : rd->len - rd->pos;
    rd->pos += n;
    rd->line++;
    if (rd->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    while (n > 0 && config_is_blank(*p)) {
        p++;
        n--;
    }
    if (num < 3 || n + 1 > (size_t)num) {
        fail_at(rd, rd->line,
                "line longer than %d characters (put a long value in an environment variable "
                "and write ${NAME})",
                num - 2);
        rd->stopped = true;
        return NULL;
    }
    memcpy(str, p, n);
    str[n] = '\0';
    note_section(rd, str);
    return str;
}

/* Length of value without an inline comment (';' after white space) and the white
 * space before it. inih strips these itself when built with inline comments. */
static size_t value_length(const char *value)
{
    size_t n = strlen(value);
    for (size_t i = 1; i < n; i++) {
        if (value[i] == ';' && config_is_blank(value[i - 1])) {
            n = i;
            break;
        }
    }
    while (n > 0 && config_is_blank(value[n - 1]))
        n--;
    return n;
}

static const config_kv *kv_find(const config_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        if (buf_str_eq(kv[i].key, key))
            return &kv[i];
    }
    return NULL;
}

static bool kv_append(raw_sect *s, const char *key, char *value, char *raw, int line)
{
    if (s->nkv == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        config_kv *p = realloc(s->kv, cap * sizeof *p);
        if (!p)
            return false;
        s->kv = p;
        s->cap = cap;
    }
    char *k = strdup(key);
    if (!k)
        return false;
    s->kv[s->nkv++] = (config_kv){k, value, raw, line};
    return true;
}

/* Whether a value is expanded at load: every command needs [warehouse], [run] and a
 * source's type (it decides which keys the section may have). */
static bool expand_at_load(const raw_sect *s, const char *key)
{
    return s->kind != SECT_SOURCE || buf_str_eq(key, "type");
}

/* The value as stored: expanded now, or kept as written (raw) for later when it holds
 * a ${NAME} of a source. False on an error (recorded). */
static bool store_value(reader *rd, raw_sect *s, const char *key, const char *value)
{
    char why[256];
    int refs;
    char *v = NULL, *raw = NULL;
    size_t n = value_length(value);
    bool oom = false;
    if (config_expand_text(key, value, n, NULL, &refs, why, sizeof why) != CONFIG_EXPAND_OK) {
        fail_at(rd, rd->line, "%s", why);
        return false;
    }
    if (refs && !expand_at_load(s, key))
        raw = strndup(value, n);
    else if (!(v = config_expand_alloc(key, value, n, why, sizeof why, &oom)) && !oom) {
        fail_at(rd, rd->line, "%s", why);
        return false;
    }
    if ((!v && !raw) || !kv_append(s, key, v, raw, rd->line)) {
        free(v);
        free(raw);
        rd->oom = true;
        return false;
    }
    return true;
}

/* inih's handler: stores one key of the current section. Errors are recorded in
 * rd and parsing goes on (returns 1), so inih's result only reports syntax errors. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
    (void)section; /* the reader tracks sections itself, with their lines */
    reader *rd = user;
    raw_sect *s = rd->cur;
    if (!s) {
        if (!rd->oom)
            fail_at(rd, rd->line, "key '%s' outside any section", key);
        return 1;
    }
    s->last_line = rd->line;
    if (!*key) {
        fail_at(rd, rd->line, "missing key name before '='");
        return 1;
    }
    const config_kv *dup = kv_find(s->kv, s->nkv, key);
    if (dup) {
        fail_at(rd, rd->line, "duplicate key '%s' in [%s] (first at line %d)", key, s->name,
                dup->line);
        return 1;
    }
    store_value(rd, s, key, value ? value : "");
    return 1;
}

/* ---- validation -------------------------------------------------------------------- */

/* True when kv's value is valid for e; otherwise msg receives "invalid value ... for
 * 'KEY' in [SECTION]: why". A secret's value is never echoed. */
static bool kv_valid(const char *section, const config_kv *kv, const config_key *e,
                     config_zone_ctx *z, char *msg, size_t n)
{
    char why[512];
    if (config_value_ok(e, kv->value, z, why, sizeof why))
        return true;
    /* why is cut to leave room for the rest: the key and section come first. */
    if (e->type == CK_SECRET)
        snprintf(msg, n, "invalid value for '%s' in [%s]: %.300s", kv->key, section, why);
    else
        snprintf(msg, n, "invalid value '%.80s' for '%s' in [%s]: %.300s", kv->value, kv->key,
                 section, why);
    return false;
}

/* Checks a value expanded at load; one still holding a ${NAME} is checked when it is
 * expanded (config_resolve_source). */
static void check_kv(reader *rd, const raw_sect *s, const config_kv *kv, const config_key *e)
{
    char msg[sizeof(((fe_err *)0)->msg)];
    if (kv->value && !kv_valid(s->name, kv, e, &rd->zone, msg, sizeof msg))
        fail_at(rd, kv->line, "%s", msg);
}

/* Rank of an error about the section as a whole: after its last line. */
static long section_end_rank(const raw_sect *s)
{
    return 2L * s->last_line + 1;
}

static void validate_plain(reader *rd, const raw_sect *s)
{
    for (size_t i = 0; i < s->nkv; i++) {
        const config_key *e = config_key_find(NULL, s->name, s->kv[i].key);
        if (!e)
            fail_at(rd, s->kv[i].line, "unknown key '%s' in [%s]", s->kv[i].key, s->name);
        else
            check_kv(rd, s, &s->kv[i], e);
    }
}

/* Required keys of a source type, each checked once (a typed entry overrides). */
static void check_required(reader *rd, const raw_sect *s, const config_source_type *t)
{
    const char *type = t->name;
    const config_key *e;
    for (size_t i = 0; (e = config_key_at(t, i)) != NULL; i++) {
        if (!buf_str_eq(e->section, "source") || config_key_find(t, "source", e->key) != e ||
            !e->required)
            continue;
        const config_kv *kv = kv_find(s->kv, s->nkv, e->key);
        if (!kv)
            fail_ranked(rd, section_end_rank(s), s->line,
                        "missing required key '%s' in [%s] (type %s)", e->key, s->name, type);
        else if (kv->value && !*kv->value)
            fail_at(rd, kv->line, "key '%s' in [%s] must not be empty", e->key, s->name);
    }
}

static void validate_source(reader *rd, const raw_sect *s)
{
    const config_kv *t = kv_find(s->kv, s->nkv, "type");
    if (!t) {
        fail_ranked(rd, section_end_rank(s), s->line, "missing required key 'type' in [%s]",
                    s->name);
        return;
    }
    const char *type = t->value;
    const config_source_type *keys = config_schema_type(rd->schema, type);
    if (!keys) {
        char names[512];
        config_type_list(rd->schema, ", ", names, sizeof names);
        fail_at(rd, t->line, "unknown source type '%.80s' (one of: %s)", type, names);
        return;
    }
    for (size_t i = 0; i < s->nkv; i++) {
        const config_key *e = config_key_find(keys, "source", s->kv[i].key);
        if (!e)
            fail_at(rd, s->kv[i].line, "unknown key '%s' in [%s] (type %s)", s->kv[i].key, s->name,
                    type);
        else
            check_kv(rd, s, &s->kv[i], e);
    }
    check_required(rd, s, keys);
}

static void validate(reader *rd)
{
    for (size_t i = 0; i < rd->nsects; i++) {
        const raw_sect *s = &rd->sects[i];
        if (s->kind == SECT_SOURCE)
            validate_source(rd, s);
        else if (s->kind != SECT_BAD)
            validate_plain(rd, s);
    }
}

/* ---- DSN passwords ----------------------------------------------------------------- */

static void add_dsn_secret(config *c, const char *s, size_t n)
{
    if (n == 0 || c->ndsn_secrets >= (int)(sizeof c->dsn_secrets / sizeof c->dsn_secrets[0]))
        return;
    for (int i = 0; i < c->ndsn_secrets; i++) {
        if (strlen(c->dsn_secrets[i]) == n && memcmp(c->dsn_secrets[i], s, n) == 0)
            return;
    }
    char *copy = strndup(s, n);
    if (copy)
        c->dsn_secrets[c->ndsn_secrets++] = copy;
}

/* The password libpq would use from the DSN (URI or key=value), found by libpq's
 * own parser so every quoting and percent-encoding rule is libpq's. */
static void dsn_passwords(config *c)
{
    PQconninfoOption *opts = PQconninfoParse(c->dsn, NULL);
    if (!opts)
        return; /* libpq will report the malformed DSN when connecting */
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val)
            add_dsn_secret(c, o->val, strlen(o->val));
    PQconninfoFree(opts);
}

/* ---- building the result ----------------------------------------------------------- */

static void kv_free(config_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
        free(kv[i].raw);
    }
    free(kv);
}

static void reader_term(reader *rd)
{
    for (size_t i = 0; i < rd->nsects; i++) {
        free(rd->sects[i].name);
        kv_free(rd->sects[i].kv, rd->sects[i].nkv);
    }
    free(rd->sects);
}

static const char *plain_value(const reader *rd, const char *section, const char *key)
{
    for (size_t i = 0; i < rd->nsects; i++) {
        const raw_sect *s = &rd->sects[i];
        if (buf_str_eq(s->name, section)) {
            const config_kv *kv = kv_find(s->kv, s->nkv, key);
            if (kv)
                return kv->value;
        }
    }
    return config_key_find(NULL, section, key)->def;
}

/* Moves the validated sections into c. False when memory runs out. */
static bool build(reader *rd, config *c)
{
    c->schema = rd->schema;
    c->dsn = strdup(plain_value(rd, "warehouse", "dsn"));
    if (!c->dsn)
        return false;
    dsn_passwords(c);
    snprintf(c->zone_db_dir, sizeof c->zone_db_dir, "%s", rd->zone.dir);
    c->zone_db_missing = rd->zone.missing;
    c->sources = calloc(rd->nsects ? rd->nsects : 1, sizeof *c->sources);
    if (!c->sources)
        return false;
    for (size_t i = 0; i < rd->nsects; i++) {
        raw_sect *s = &rd->sects[i];
        if (s->kind == SECT_RUN) {
            c->run = s->kv;
            c->nrun = s->nkv;
            s->kv = NULL;
            s->nkv = 0;
        }
        if (s->kind == SECT_WAREHOUSE) {
            c->warehouse = s->kv;
            c->nwarehouse = s->nkv;
            s->kv = NULL;
            s->nkv = 0;
        }
        if (s->kind != SECT_SOURCE)
            continue;
        source_config *sc = &c->sources[c->nsources++];
        sc->line = s->line;
        sc->name = strdup(s->name + 7);
        sc->type = strdup(kv_find(s->kv, s->nkv, "type")->value);
        sc->type_keys = config_schema_type(rd->schema, sc->type);
        sc->kv = s->kv;
        sc->nkv = s->nkv;
        s->kv = NULL;
        s->nkv = 0;
        if (!sc->name || !sc->type)
            return false;
    }
    return true;
}

fe_rc config_load_string(const char *text, const char *name, const config_schema *schema,
                         config **out, fe_err *err)
{
    fe_rc rc = FE_OK;
    config *c = NULL;
    reader rd = {.file = name, .schema = schema, .text = text, .len = strlen(text)};
    rd.zone.dir = config_zone_dir();
    *out = NULL;
    int bad_line = ini_parse_stream(read_line, &rd, on_key, &rd);
    if (bad_line > 0)
        fail_at(&rd, bad_line, "syntax error: expected [section], key = value or a comment");
    else if (bad_line < 0)
        rd.oom = true;
    if (!rd.oom)
        validate(&rd);
    if (rd.oom) {
        rc = fe_err_set(err, FE_ENOMEM, "%s: out of memory reading the configuration", name);
        goto done;
    }
    if (rd.err_rank) {
        rc = fe_err_set(err, FE_ECONFIG, "%s", rd.msg);
        goto done;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(name)) || !build(&rd, c)) {
        rc = fe_err_set(err, FE_ENOMEM, "%s: out of memory reading the configuration", name);
        goto done;
    }
    *out = c;
    c = NULL;
done:
    config_free(c);
    reader_term(&rd);
    return rc;
}

#define CONFIG_MAX_BYTES (1 << 20)

fe_rc config_load(const char *path, const config_schema *schema, config **out, fe_err *err)
{
    fe_rc rc;
    char chunk[4096];
    buf text;
    buf_init(&text, CONFIG_MAX_BYTES);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char why[128];
        rc = fe_err_set(err, FE_ECONFIG, "%s: cannot open: %s", path,
                        strerror_r(errno, why, sizeof why));
        goto done;
    }
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (!buf_append(&text, chunk, n)) {
            rc = fe_err_set(err, FE_ECONFIG, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
            goto done;
        }
    }
    if (ferror(f)) {
        char why[128];
        rc = fe_err_set(err, FE_ECONFIG, "%s: cannot read: %s", path,
                        strerror_r(errno, why, sizeof why));
        goto done;
    }
    if (memchr(buf_cstr(&text), '\0', text.len)) {
        rc = fe_err_set(err, FE_ECONFIG, "%s: contains a NUL byte (not a text file?)", path);
        goto done;
    }
    rc = config_load_string(buf_cstr(&text), path, schema, out, err);
done:
    if (f)
        fclose(f);
    buf_term(&text);
    return rc;
}

void config_free(config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].type);
        kv_free(c->sources[i].kv, c->sources[i].nkv);
    }
    for (int i = 0; i < c->ndsn_secrets; i++)
        free(c->dsn_secrets[i]);
    free(c->sources);
    free(c->path);
    free(c->dsn);
    kv_free(c->run, c->nrun);
    kv_free(c->warehouse, c->nwarehouse);
    free(c);
}

/* ---- expanding on demand ---------------------------------------------------------- */

static bool key_wanted(const char *key, const char *const *keys, size_t nkeys)
{
    if (nkeys == 0)
        return true;
    for (size_t i = 0; i < nkeys; i++)
        if (buf_str_eq(keys[i], key))
            return true;
    return false;
}

/* Expands and validates one value kept as written. On an error the value stays
 * unexpanded. */
static fe_rc resolve_kv(const config *c, const source_config *s, config_kv *kv, config_zone_ctx *z,
                        fe_err *err)
{
    char why[sizeof(((fe_err *)0)->msg)], section[160];
    bool oom = false;
    char *v = config_expand_alloc(kv->key, kv->raw, strlen(kv->raw), why, sizeof why, &oom);
    if (!v)
        return oom ? fe_err_set(err, FE_ENOMEM, "%s: out of memory reading the configuration",
                                c->path)
                   : fe_err_set(err, FE_ECONFIG, "%s:%d: %s", c->path, kv->line, why);
    /* Every stored key of a source is in the table: config_load checked it. */
    const config_key *e = config_key_find(s->type_keys, "source", kv->key);
    snprintf(section, sizeof section, "source.%s", s->name);
    kv->value = v;
    if (e->required && !*v) {
        snprintf(why, sizeof why, "key '%s' in [%s] must not be empty", kv->key, section);
    } else if (kv_valid(section, kv, e, z, why, sizeof why)) {
        return FE_OK;
    }
    kv->value = NULL;
    free(v);
    return fe_err_set(err, FE_ECONFIG, "%s:%d: %s", c->path, kv->line, why);
}

fe_rc config_resolve_source(config *c, const char *name, const char *const *keys, size_t nkeys,
                            fe_err *err)
{
    source_config *s = NULL;
    for (size_t i = 0; i < c->nsources && !s; i++)
        if (buf_str_eq(c->sources[i].name, name))
            s = &c->sources[i];
    if (!s)
        return fe_err_set(err, FE_ECONFIG, "%s: no [source.%s]", c->path, name);
    config_zone_ctx z = {.dir = c->zone_db_dir, .missing = c->zone_db_missing};
    fe_rc rc = FE_OK;
    for (size_t k = 0; k < s->nkv && rc == FE_OK; k++) {
        if (!s->kv[k].value && key_wanted(s->kv[k].key, keys, nkeys))
            rc = resolve_kv(c, s, &s->kv[k], &z, err);
    }
    c->zone_db_missing = z.missing;
    return rc;
}

fe_rc config_require_sources(const config *c, fe_err *err)
{
    if (c->nsources > 0)
        return FE_OK;
    char types[512];
    config_type_list(c->schema, " or ", types, sizeof types);
    return fe_err_set(err, FE_ECONFIG,
                      "%s: no source configured: add a [source.NAME] section with type = %s and "
                      "that type's keys (flowetl --help-config lists every key)",
                      c->path, types);
}

/* ---- lookups ----------------------------------------------------------------------- */

const source_config *config_source(const config *c, const char *name)
{
    for (size_t i = 0; i < c->nsources; i++) {
        if (buf_str_eq(c->sources[i].name, name))
            return &c->sources[i];
    }
    return NULL;
}

const char *config_str(const source_config *s, const char *key)
{
    const config_kv *kv = kv_find(s->kv, s->nkv, key);
    if (kv)
        return kv->value; /* NULL while unexpanded: never the default */
    const config_key *e = config_key_find(s->type_keys, "source", key);
    return e ? e->def : NULL;
}

bool config_int(const source_config *s, const char *key, long *out)
{
    const char *v = config_str(s, key);
    return v && config_parse_long(v, out);
}

long config_int_or(const source_config *s, const char *key, long def)
{
    long v;
    return config_int(s, key, &v) ? v : def;
}

bool config_double(const source_config *s, const char *key, double *out)
{
    const char *v = config_str(s, key);
    return v && config_parse_double(v, out);
}

bool config_bool(const source_config *s, const char *key, bool *out)
{
    const char *v = config_str(s, key);
    return v && config_parse_bool(v, out);
}

bool config_duration(const source_config *s, const char *key, int64_t *micros)
{
    const char *v = config_str(s, key);
    return v && time_parse_duration(v, micros);
}

bool config_list_at(const source_config *s, const char *key, size_t index, const char **item,
                    size_t *len)
{
    const char *v = config_str(s, key);
    return v && *v && config_list_item(v, index, item, len);
}

bool config_list_has(const source_config *s, const char *key, const char *item)
{
    const char *p;
    size_t len, n = strlen(item);
    for (size_t i = 0; config_list_at(s, key, i, &p, &len); i++) {
        if (len == n && memcmp(p, item, n) == 0)
            return true;
    }
    return false;
}

const char *config_run_str(const config *c, const char *key)
{
    const config_kv *kv = kv_find(c->run, c->nrun, key);
    if (kv)
        return kv->value;
    const config_key *e = config_key_find(NULL, "run", key);
    return e ? e->def : NULL;
}

bool config_run_duration(const config *c, const char *key, int64_t *micros)
{
    const char *v = config_run_str(c, key);
    return v && time_parse_duration(v, micros);
}

const char *config_warehouse_str(const config *c, const char *key)
{
    const config_kv *kv = kv_find(c->warehouse, c->nwarehouse, key);
    const config_key *e = config_key_find(NULL, "warehouse", key);
    return kv ? kv->value : e ? e->def : NULL;
}

bool config_warehouse_duration(const config *c, const char *key, int64_t *micros)
{
    const char *v = config_warehouse_str(c, key);
    return v && time_parse_duration(v, micros);
}

int config_secrets(const config *c, const char **out, int max)
{
    int n = 0;
    for (size_t i = 0; i < c->nsources; i++) {
        const source_config *s = &c->sources[i];
        for (size_t k = 0; k < s->nkv && n < max; k++) {
            const config_key *e = config_key_find(s->type_keys, "source", s->kv[k].key);
            if (e && e->type == CK_SECRET && s->kv[k].value && *s->kv[k].value)
                out[n++] = s->kv[k].value;
        }
    }
    for (int i = 0; i < c->ndsn_secrets && n < max; i++)
        out[n++] = c->dsn_secrets[i];
    return n;
}
