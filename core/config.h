/* config: the INI file (inih), read once at start. Every key of every section is
 * described in a table: the keys of every type in core/config_keys.c, each source
 * type's own keys in its folder, handed in as a config_schema. The tables validate the
 * file, supply the defaults and are the reference the README's config section is
 * checked against (config_schema_each, `flowetl --help-config`).
 * Unknown sections and keys are errors naming file and line.
 *
 * Values may contain ${NAME}: replaced by the environment variable NAME. A command
 * expands only what it uses: config_load expands [warehouse], [run] and each
 * source's `type` (every command needs them); the other source values keep their
 * ${NAME}s until config_resolve_source expands them, so `init` and `status` run
 * without the API secrets and `run SOURCE` without the variables of other sources.
 * A value holding ${NAME} is validated when it is expanded; its ${NAME} syntax is
 * checked at load.
 *
 * File syntax (inih): `[section]` lines, `key = value` lines, whole-line comments
 * starting with ';' or '#', inline comments starting with ';' after white space
 * (`key = value ; comment`, so a value cannot contain " ;"). Leading white space of a
 * line is ignored (no continuation lines). Keys are case-sensitive. A line may hold
 * at most ~198 characters: put longer values in the environment and write ${NAME}. */
#ifndef FE_CONFIG_H
#define FE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/err.h"

typedef enum { CK_STRING, CK_SECRET, CK_INT, CK_DOUBLE, CK_BOOL, CK_DURATION, CK_LIST } config_type;

/* Format rules a string value must follow, beyond its type. */
typedef enum {
    CR_NONE,
    CR_URL,      /* http:// or https:// */
    CR_DATE,     /* YYYY-MM-DD, a real date */
    CR_CURRENCY, /* 3 upper-case letters (ISO 4217) */
    CR_TIMEZONE  /* a zone of the system's zone database (TZDIR, else /usr/share/zoneinfo),
                    e.g. Europe/Moscow, UTC, Etc/GMT-3; POSIX offsets (UTC+3) refused */
} config_rule;

/* Seconds in a day, for the limits of duration keys. */
#define CONFIG_DAY 86400.0
/* A max at or above this means "no upper limit" (messages say ">= min"). */
#define CONFIG_NO_LIMIT 1e9

typedef struct {
    const char *section; /* "warehouse", "run" or "source" (for [source.NAME]) */
    const char *key;
    config_type type;
    const char *def; /* default as text, NULL = none */
    const char *doc; /* one sentence */
    bool required;   /* must be present (and non-empty) */
    /* Validation beyond the type (zero = none): */
    const char *choices; /* "a|b|c": the value must be one of them */
    double min, max;     /* CK_INT, CK_DOUBLE: value; CK_DURATION: seconds; when min < max */
    config_rule rule;
} config_key;

/* One source type: the `type` value that selects it and the keys of its own. Each
 * source declares one (sources/NAME/NAME.c) and the registry lists it. */
typedef struct {
    const char *name; /* the `type` value, e.g. "posiflora" */
    /* Its own [source.NAME] keys (section "source"), sorted by key. One named like a key
     * of every type (config_schema_each lists those) overrides it for this type. */
    const config_key *keys;
    size_t nkeys;
} config_source_type;

/* What a file is checked against: the keys of every type (core/config_keys.c: [run],
 * [warehouse], the common [source.NAME] keys) and the source types given here. The
 * schema and everything it points to must outlive every config loaded with it (static
 * storage: sources/registry.c's source_schema). */
typedef struct {
    const config_source_type *const *types; /* in the order messages list them */
    size_t ntypes;
} config_schema;

/* One key as documented: the key, the type it belongs to (NULL = every type, or not a
 * source key) and its sentence (the `type` key's names the schema's types). */
typedef struct {
    const config_key *key;
    const char *source_type;
    const char *doc;
} config_key_info;

/* Calls fn for every key in documentation order: by section ([run], [source.NAME],
 * [warehouse]); in [source.NAME] the keys of every type first, then each type's own
 * keys, types in alphabetical order; by key within each. This order is the one of
 * `flowetl --help-config` and README.md's table. The info (its doc: the `type` key's
 * is generated) is valid during the call only. */
void config_schema_each(const config_schema *schema, void (*fn)(const config_key_info *, void *),
                        void *ctx);
/* The type named name, NULL when the schema has none. */
const config_source_type *config_schema_type(const config_schema *schema, const char *name);
/* "string", "secret", "int", "number", "bool", "duration", "list". Static string. */
const char *config_type_name(config_type t);

typedef struct {
    char *key;
    char *value; /* with ${NAME} expanded and the inline comment removed; NULL while it
                    holds a ${NAME} not expanded yet (config_resolve_source) */
    char *raw;   /* as written, inline comment removed, when it holds a ${NAME}; else NULL */
    int line;
} config_kv;

typedef struct {
    char *name;                          /* NAME of [source.NAME] */
    char *type;                          /* the `type` value, one of the schema's types */
    const config_source_type *type_keys; /* that type's entry in the schema */
    config_kv *kv;                       /* in file order, every key valid for the type */
    size_t nkv;
    int line; /* of the [source.NAME] header */
} source_config;

typedef struct {
    char *path;
    const config_schema *schema; /* as given to config_load */
    char *dsn;                   /* [warehouse] dsn, "" = libpq defaults */
    config_kv *run;              /* [run] keys as given; read them with config_run_* */
    size_t nrun;
    config_kv *warehouse; /* [warehouse] keys as given; read them with config_warehouse_* */
    size_t nwarehouse;
    source_config *sources; /* in file order */
    size_t nsources;
    char *dsn_secrets[4]; /* the DSN's password(s), as written and decoded; see config_secrets */
    int ndsn_secrets;
    /* Set when a time zone had to be checked but the zone database (zone_db_dir) is
     * missing: the zone is then left to the server's check at run time. The CLI says
     * so once. */
    bool zone_db_missing;
    char zone_db_dir[256];
} config;

/* Reads and validates the file against schema (which must outlive *out). FE_ECONFIG with
 * "FILE:LINE: message" on any error (the first error in file order), "FILE: message" when the file
 * cannot be read; FE_ENOMEM when memory runs out. Messages never contain the value of a secret key.
 * Caller frees *out with config_free. */
fe_rc config_load(const char *path, const config_schema *schema, config **out,
                  fe_err *err) FE_MUST_CHECK;
/* Same, from a string (tests); name is used in messages. */
fe_rc config_load_string(const char *text, const char *name, const config_schema *schema,
                         config **out, fe_err *err) FE_MUST_CHECK;
/* Accepts NULL. */
void config_free(config *c);

/* Expands the ${NAME}s of source `name` and validates the expanded values: every key
 * when nkeys is 0, else only the keys listed. Values already expanded are skipped, so
 * calling it again (or for more keys) is cheap. FE_ECONFIG with "FILE:LINE: message"
 * for the first failure in file order (a variable that is not set, an invalid value),
 * "FILE: no [source.NAME]" for an unknown name; FE_ENOMEM. Secrets expanded here are
 * returned by config_secrets from then on. */
fe_rc config_resolve_source(config *c, const char *name, const char *const *keys, size_t nkeys,
                            fe_err *err) FE_MUST_CHECK;

/* FE_OK when the file has at least one [source.NAME]; else FE_ECONFIG with a message
 * saying how to add one (`run` and `check` need a source, `init` and `status` do not). */
fe_rc config_require_sources(const config *c, fe_err *err) FE_MUST_CHECK;

/* NULL when there is no [source.NAME]. */
const source_config *config_source(const config *c, const char *name);

/* Typed getters for a source key: the file's value, else the table's default.
 * config_str returns NULL when neither exists (the string is owned by the config or the
 * table). The others return false when the key has no value; a malformed value was
 * already rejected by config_load or config_resolve_source. A value whose ${NAME} was
 * not expanded yet reads as absent (NULL / false), never as the default: resolve a
 * source before reading it. */
const char *config_str(const source_config *s, const char *key);
bool config_int(const source_config *s, const char *key, long *out);
/* config_int's value, else def (a key without a value nor a default). */
long config_int_or(const source_config *s, const char *key, long def);
bool config_double(const source_config *s, const char *key, double *out);
bool config_bool(const source_config *s, const char *key, bool *out);
bool config_duration(const source_config *s, const char *key, int64_t *micros);
/* True when the comma list key contains item (list keys only; absent = false). */
bool config_list_has(const source_config *s, const char *key, const char *item);
/* Item `index` of a comma list key, trimmed: *item points into the config's storage and
 * is NOT NUL-terminated (*len bytes). False past the last item or when absent. */
bool config_list_at(const source_config *s, const char *key, size_t index, const char **item,
                    size_t *len);

/* [run] values: the file's value, else the table's default (NULL / false when the key
 * has neither). */
const char *config_run_str(const config *c, const char *key);
bool config_run_duration(const config *c, const char *key, int64_t *micros);

/* [warehouse] values, the same way. */
bool config_warehouse_duration(const config *c, const char *key, int64_t *micros);
const char *config_warehouse_str(const config *c, const char *key);

/* Every expanded secret value (CK_SECRET keys, the DSN's password) for log redaction.
 * The pointers are owned by c. Empty and unexpanded values are skipped. Returns the
 * count written (<= max). */
int config_secrets(const config *c, const char **out, int max);

#endif
