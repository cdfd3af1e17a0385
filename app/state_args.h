/* state_args: the pure pieces of `flowetl run`'s state options and of the
 * `state` command's arguments (no I/O, no config), so they are unit-tested alone.
 *
 *   run [TARGET...] [--full-refresh[=TARGET[,TARGET...]]]... [--from DATE [--to DATE]]
 *       [--shard I/N] [--max-sources N]
 *   state list [TARGET...] [--json] | show TARGET [--json] | set TARGET JSON --yes
 *         | reset TARGET --yes
 */
#ifndef FE_STATE_ARGS_H
#define FE_STATE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_ARGS_MAX 64
/* [run] max_sources and --max-sources at most (the config key's maximum too). */
#define RUN_MAX_SOURCES 256

/* True when text is a real calendar date written YYYY-MM-DD; *days (may be NULL)
 * gets its days since 1970-01-01. */
bool state_parse_date(const char *text, int64_t *days);

/* What run's options say. Pointers point into the arguments or into `storage`
 * (the --full-refresh lists, split): the struct needs no freeing. */
typedef struct {
    const char *targets[STATE_ARGS_MAX]; /* positional SOURCE[.STREAM] */
    int ntargets;
    bool full_refresh;                   /* --full-refresh in any form */
    const char *refresh[STATE_ARGS_MAX]; /* --full-refresh=LIST items; none = every selected */
    int nrefresh;
    const char *from, *to; /* --from / --to, NULL when not given */
    /* --shard I/N: this process runs only the sources of shard shard_index
     * (run_shard_of); shard_count 0 = not given. */
    int shard_index, shard_count;
    int max_sources; /* --max-sources N (1..256); 0 = not given */
    char storage[4096];
} run_args;

/* Parses run's arguments (after the command word). False with a one-line message
 * in why (usage errors: an unknown option, --from/--to without or with a bad
 * date, --to without --from, --from later than --to, --from with
 * --full-refresh, an empty item in a --full-refresh list, too many items, a
 * --shard that run_shard_parse refuses, a --max-sources not 1 to 256, an option
 * given twice). */
bool run_args_parse(int nargs, const char *const *args, run_args *out, char *why, size_t size);

/* Parses "I/N" (0 <= I < N, N >= 1, both decimal, at most 4096 shards) into
 * *index and *count. False with a one-line message in why naming what (e.g.
 * "--shard" or "FLOWETL_SHARD"). */
bool run_shard_parse(const char *text, const char *what, int *index, int *count, char *why,
                     size_t size);

/* The shard (0 .. count - 1) of the source named name: FNV-1a 64-bit of the
 * name's bytes, mod count; stable whatever other sources the config has.
 * count >= 1. */
int run_shard_of(const char *name, int count);

typedef enum { STATE_LIST, STATE_SHOW, STATE_SET, STATE_RESET } state_verb;

typedef struct {
    state_verb verb;
    const char *targets[STATE_ARGS_MAX]; /* list: any; show/set/reset: exactly one */
    int ntargets;
    const char *cursor; /* set: the new cursor's JSON text */
    bool json, yes;
} state_args;

/* Parses the arguments of `state` (after the word state). False with a one-line
 * usage message in why. --yes is parsed, not required here (the command says
 * what would change without it). show and set need SOURCE.STREAM. */
bool state_args_parse(int nargs, const char *const *args, state_args *out, char *why, size_t size);

#endif
