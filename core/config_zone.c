/* config_zone: `timezone` values against the zone database. */
#include "core/config_zone.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONE_PATH_MAX 512

const char *config_zone_dir(void)
{
    const char *dir = getenv("TZDIR");
    return dir && *dir ? dir : "/usr/share/zoneinfo";
}

/* A regular file that starts with the TZif magic (RFC 8536). */
static bool is_tzif(const char *path)
{
    char magic[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
              memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

static bool zone_file(const char *dir, const char *name)
{
    char path[ZONE_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof path && is_tzif(path);
}

/* The database is there when it holds UTC (every tzdata has it). */
static bool database_present(const char *dir)
{
    return zone_file(dir, "UTC") || zone_file(dir, "Etc/UTC");
}

/* [letters][+|-]H[H][:MM[:SS]]: how POSIX TZ strings and ISO offsets look. PostgreSQL
 * reads every one of them as POSIX, where a positive offset is WEST of Greenwich.
 * *sign is +1, -1, or 0 when none was written. */
static bool posix_offset(const char *s, int *sign, int *hours, int *minutes)
{
    while (isalpha((unsigned char)*s))
        s++;
    *sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    if (*sign)
        s++;
    if (!isdigit((unsigned char)s[0]))
        return false;
    *hours = s[0] - '0';
    s++;
    if (isdigit((unsigned char)*s))
        *hours = *hours * 10 + (*s++ - '0');
    *minutes = 0;
    for (int part = 0; part < 2 && *s == ':'; part++) {
        if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]))
            return false;
        if (part == 0)
            *minutes = (s[1] - '0') * 10 + (s[2] - '0');
        s += 3;
    }
    return *s == '\0';
}

/* The hint for a POSIX offset. The offset the user most likely meant is the ISO
 * reading of what they wrote (+3 = east of UTC); PostgreSQL takes the opposite. */
static void posix_hint(const char *name, int sign, int hours, int minutes, char *why, size_t n)
{
    char meant = sign < 0 ? '-' : '+';
    char taken = sign < 0 ? '+' : '-';
    int used = snprintf(why, n,
                        "'%s' is a POSIX-style offset: in POSIX it means %d hour(s) %s of UTC, so "
                        "PostgreSQL would use UTC%c%02d:%02d; ",
                        name, hours, sign < 0 ? "EAST" : "WEST", taken, hours, minutes);
    if (used < 0 || (size_t)used >= n)
        return;
    if (minutes == 0 && hours <= 12)
        snprintf(
            why + used, n - (size_t)used,
            "write a city's zone (e.g. Europe/Moscow), or Etc/GMT%c%d for a fixed UTC%c%02d:00 "
            "(note the inverted sign)",
            taken, hours, meant, hours);
    else
        snprintf(why + used, n - (size_t)used,
                 "write the zone of a city with the offset you mean (e.g. Asia/Kolkata for "
                 "UTC+05:30)");
}

/* Levenshtein distance, case-insensitive, for names of at most 64 bytes. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[65];
    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

typedef struct {
    char name[128]; /* the closest zone so far, "" = none */
    size_t dist;
} suggestion;

/* Offers the zones of dir/region (region "" = dir itself) whose last component is
 * within max_dist of base. */
static void scan_region(const char *dir, const char *region, const char *base, size_t max_dist,
                        suggestion *best)
{
    char path[ZONE_PATH_MAX], zone[128];
    snprintf(path, sizeof path, "%s%s%s", dir, *region ? "/" : "", region);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t dist = distance(base, e->d_name);
        if (dist > max_dist || dist >= best->dist)
            continue;
        int w = snprintf(zone, sizeof zone, "%s%s%s", region, *region ? "/" : "", e->d_name);
        if (w > 0 && (size_t)w < sizeof zone && zone_file(dir, zone)) {
            snprintf(best->name, sizeof best->name, "%s", zone);
            best->dist = dist;
        }
    }
    closedir(d);
}

/* For a name without a region (Moscow), the regions one level down. */
static void scan_regions(const char *dir, const char *base, suggestion *best)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[ZONE_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        /* posix/ and right/ repeat the whole database. */
        if (e->d_name[0] == '.' || strcmp(e->d_name, "posix") == 0 ||
            strcmp(e->d_name, "right") == 0)
            continue;
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (w > 0 && (size_t)w < sizeof path && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            scan_region(dir, e->d_name, base, 1, best);
    }
    closedir(d);
}

static void suggest(const char *dir, const char *name, char *why, size_t n)
{
    suggestion best = {.dist = (size_t)-1};
    char region[128] = "";
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    if (slash)
        snprintf(region, sizeof region, "%.*s", (int)(slash - name), name);
    size_t max_dist = strlen(base) > 4 ? 2 : 1;
    scan_region(dir, region, base, max_dist, &best);
    if (!slash && !best.name[0])
        scan_regions(dir, base, &best);
    if (best.name[0])
        snprintf(why, n, "did you mean %s?", best.name);
}

zone_verdict config_zone_check(const char *dir, const char *name, char *why, size_t n)
{
    int sign, hours, minutes;
    if (n)
        why[0] = '\0';
    if (posix_offset(name, &sign, &hours, &minutes) && (hours || minutes)) {
        posix_hint(name, sign, hours, minutes, why, n);
        return ZONE_POSIX;
    }
    if (!database_present(dir))
        return ZONE_NO_DB;
    if (zone_file(dir, name))
        return ZONE_OK;
    suggest(dir, name, why, n);
    return ZONE_UNKNOWN;
}
