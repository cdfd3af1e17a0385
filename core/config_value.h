/* config_value: the syntax of config values, private to the config module: the
 * typed parsers the getters use, a value's check against its key's entry, and ${NAME}
 * expansion. */
#ifndef FE_CONFIG_VALUE_H
#define FE_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/buf.h"
#include "core/config.h"

/* Where time zones are looked up, and whether the database was found missing. */
typedef struct {
    const char *dir;
    bool missing; /* set when a zone could not be checked: the database is absent */
} config_zone_ctx;

/* Whole-string parsers: false when v is not (only) a value of the type. */
bool config_parse_long(const char *v, long *out);
bool config_parse_double(const char *v, double *out);
/* true/yes/on/1, false/no/off/0, any case. */
bool config_parse_bool(const char *v, bool *out);

/* A space or a tab. */
bool config_is_blank(char c);

/* Item `index` of a comma list, trimmed: *item points into v (*len bytes, not
 * NUL-terminated). False past the last item. */
bool config_list_item(const char *v, size_t index, const char **item, size_t *len);

/* True when v is a valid value of e (type, range, choices, format rule, time zone
 * against z's database, which sets z->missing when it is absent); otherwise why (n
 * bytes) says what is wrong ("expected ..."). */
bool config_value_ok(const config_key *e, const char *v, config_zone_ctx *z, char *why, size_t n);

typedef enum {
    CONFIG_EXPAND_OK,
    CONFIG_EXPAND_SYNTAX,
    CONFIG_EXPAND_UNSET,
    CONFIG_EXPAND_NOMEM
} config_expand_rc;

/* Reads text[0..n) of key's value. With out NULL it only checks the ${NAME} syntax and
 * counts the references in *refs; otherwise it also appends the text to out with
 * every ${NAME} replaced by the environment variable's value. On an error why says
 * what is wrong (without FILE:LINE). */
config_expand_rc config_expand_text(const char *key, const char *text, size_t n, buf *out,
                                    int *refs, char *why, size_t whyn);

/* text[0..n) with every ${NAME} replaced, as a string the caller frees. NULL on an
 * error, described in why (*oom set when memory ran out). */
char *config_expand_alloc(const char *key, const char *text, size_t n, char *why, size_t whyn,
                          bool *oom);

#endif
