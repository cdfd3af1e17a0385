/* config: the INI file (inih), read once at start. Every key of every section is
 * described in one table (config_keys), which validates the file, supplies the
 * defaults and is the reference the README's config section is checked against.
 * Values may contain ${NAME}: replaced by the environment variable NAME (missing
 * variable = error). Unknown sections and keys are errors naming file and line. */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../core/err.h"

typedef enum { CK_STRING, CK_SECRET, CK_INT, CK_DOUBLE, CK_BOOL, CK_DURATION, CK_LIST } conf_type;

typedef struct {
    const char *section;     /* "warehouse", "run" or "source" (for [source.NAME]) */
    const char *source_type; /* for source keys: NULL = every type, else "posiflora" ... */
    const char *key;
    conf_type type;
    const char *def; /* default as text, NULL = none (required keys say so in doc) */
    const char *doc;
} conf_key;

/* The table, sorted by section, source_type, key. */
const conf_key *config_keys(size_t *n);

typedef struct {
    char *key, *value;
    int line;
} conf_kv;

typedef struct {
    char *name; /* NAME of [source.NAME] */
    char *type; /* posiflora | goflow | flowwow | flowretail */
    conf_kv *kv;
    size_t nkv;
    int line;
} source_conf;

typedef struct {
    char *path;
    char *dsn;                  /* [warehouse] dsn, "" = libpq defaults */
    source_conf *sources;       /* in file order */
    size_t nsources;
} config;

/* Reads and validates the file. FE_ECONFIG with "FILE:LINE: message" on any error.
 * Caller frees *out with config_free. */
fe_rc config_load(const char *path, config **out, fe_err *err) FE_MUST_CHECK;
/* Same, from a string (tests); name is used in messages. */
fe_rc config_load_string(const char *text, const char *name, config **out, fe_err *err) FE_MUST_CHECK;
void config_free(config *c);

const source_conf *config_source(const config *c, const char *name);

/* Typed getters for a source key: the file's value, else the table's default.
 * conf_str returns NULL when neither exists. The others return false when the key
 * has no value; a malformed value was already rejected by config_load. */
const char *conf_str(const source_conf *s, const char *key);
bool conf_int(const source_conf *s, const char *key, long *out);
bool conf_double(const source_conf *s, const char *key, double *out);
bool conf_bool(const source_conf *s, const char *key, bool *out);
bool conf_duration(const source_conf *s, const char *key, int64_t *micros);
/* True when the comma list key contains item (list keys only; absent = false). */
bool conf_list_has(const source_conf *s, const char *key, const char *item);

/* Every secret value (CK_SECRET keys, the DSN's password) for log redaction. The
 * pointers are owned by c. Returns the count written (<= max). */
int config_secrets(const config *c, const char **out, int max);

#endif
