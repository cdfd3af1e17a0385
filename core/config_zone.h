/* config_zone: checks a `timezone` value against the system's zone database (the
 * TZif files PostgreSQL also reads on Debian), so a misspelt zone is a config error
 * with its line instead of a failure of every stream at run time. Private to the
 * config module. */
#ifndef FE_CONFIG_ZONE_H
#define FE_CONFIG_ZONE_H

#include <stddef.h>

typedef enum {
    ZONE_OK,      /* a zone of the database */
    ZONE_POSIX,   /* a POSIX-style offset (UTC+3, GMT-5, +03:00): refused, why has the hint */
    ZONE_UNKNOWN, /* not in the database; why may suggest a close name */
    ZONE_NO_DB    /* the database itself is missing: the name could not be checked */
} zone_verdict;

/* The zone database directory: $TZDIR when set and not empty, else
 * /usr/share/zoneinfo. Static or environment storage. */
const char *config_zone_dir(void);

/* Judges name (already limited to zone-name characters, no "..", not absolute)
 * against the database in dir. For ZONE_POSIX and ZONE_UNKNOWN, why receives one
 * sentence to append to the error (may be empty); otherwise it is left empty. */
zone_verdict config_zone_check(const char *dir, const char *name, char *why, size_t n);

#endif
